#!/usr/bin/env bash
# Builds the cairn image (FROM scratch around a static binary) as
# ${1:-cairn:dev}. No base image is pulled.
set -euo pipefail
cd "$(dirname "$0")/.."
tag="${1:-cairn:dev}"
CGO_ENABLED=0 go build -trimpath -o deploy/cairn ./cmd/cairn
docker build -q -t "$tag" deploy/ >/dev/null
rm -f deploy/cairn
echo "$tag"
