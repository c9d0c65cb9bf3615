#!/usr/bin/env bash
# Builds etcd's own etcdctl (v3.7.3) from the Go module proxy into $1
# (default: $HOME/.cache/cairn/bin), for the compatibility tests. etcdctl's
# module cannot be `go install`ed (its go.mod has replace directives), so
# it is built from a throwaway module whose main calls ctlv3.MustStart;
# none of etcd's code is copied into this repository.
set -euo pipefail
out="${1:-$HOME/.cache/cairn/bin}"
version=v3.7.3
mkdir -p "$out"
# The version is captured before it is matched: piping etcdctl into
# `grep -q` or `head` under pipefail fails with SIGPIPE (exit 141) whenever
# the reader exits before etcdctl has written its last line.
if [ -x "$out/etcdctl" ]; then
	have="$("$out/etcdctl" version 2>/dev/null || true)"
	case "$have" in *"etcdctl version: ${version#v}"*) exit 0 ;; esac
fi
here="$(cd "$(dirname "$0")" && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/etcdctl/main.go.txt" "$work/main.go"
cd "$work"
go mod init cairn.local/etcdctl >/dev/null 2>&1
go get "go.etcd.io/etcd/etcdctl/v3@$version" >/dev/null 2>&1
CGO_ENABLED=0 go build -o "$out/etcdctl" .
have="$("$out/etcdctl" version)"
echo "${have%%$'\n'*}"
