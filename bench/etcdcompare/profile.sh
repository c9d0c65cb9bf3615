#!/usr/bin/env bash
# CPU profile of a system's leader under the 1,000-client put load: starts a
# fresh 3-node cluster, runs `benchmark put` (1,000 clients, 100 connections,
# to the leader) and, once it has warmed up, takes a 10 s CPU profile from
# the leader (cairn: /debug/pprof on its --listen-http address; etcd: on its
# client URL with --enable-pprof), then prints `go tool pprof -top` by
# flat and by cumulative cost.
#
#   bash bench/etcdcompare/profile.sh [cairn|etcd]     # default cairn
#
# Environment: WORK, PROFILE_PUT_TOTAL (default 150000, enough to outlast
# the profile), PROFILE_SECONDS (default 10), TOP (rows, default 15).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

sys="${1:-cairn}"
total="${PROFILE_PUT_TOTAL:-150000}"
seconds="${PROFILE_SECONDS:-10}"
top="${TOP:-15}"
trap stop_cluster EXIT

build_all
out="$WORK/profile/$sys-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"

case "$sys" in
cairn)
	start_cairn
	lead=$(leader cairn)
	# The admin HTTP port is the client port + 2 (lib.sh's port plan).
	admin="http://127.0.0.1:$((${lead##*:} + 2))"
	pprof="$admin/debug/pprof/profile?seconds=$seconds"
	metrics="$admin/metrics"
	binary="$BIN/cairn"
	;;
etcd)
	start_etcd --enable-pprof
	lead=$(leader etcd)
	pprof="http://$lead/debug/pprof/profile?seconds=$seconds"
	metrics="http://$lead/metrics"
	binary="$BIN/etcd"
	;;
*)
	echo "usage: $0 [cairn|etcd]" >&2
	exit 2
	;;
esac
log "$sys leader $lead; profiling $pprof"

"$BIN/benchmark" --precise --endpoints="$lead" --clients=1000 --conns=100 \
	put --total="$total" --key-size=8 --val-size=256 --key-space-size=100000 \
	2>"$out/benchmark.stderr" | awk '/^Summary:/ { p = 1 } p' >"$out/benchmark.txt" &
bench=$!
sleep 3 # connections up, Pebble past its first flushes
curl -sf -o "$out/cpu.pprof" "$pprof"
log "profile taken; waiting for the load to finish"
wait "$bench"
grep -E 'Requests/sec|^ *(50|90|99)% in' "$out/benchmark.txt" || true
# The leader's own view of where a write's wall time goes (the histogram
# names are etcd's; cairn exports the same ones), over the whole run.
curl -sf -o "$out/metrics.txt" "$metrics"
awk '
	/^(etcd_disk_wal_fsync_duration_seconds|etcd_disk_backend_commit_duration_seconds|cairn_strong_proposal_duration_seconds|cairn_strong_read_index_duration_seconds)_(sum|count) / {
		split($1, parts, "_"); kind = parts[length(parts)]
		name = substr($1, 1, length($1) - length(kind) - 1)
		v[name, kind] = $2; names[name] = 1
	}
	END {
		for (n in names) if (v[n, "count"] > 0)
			printf "%-45s count %9d  mean %8.3f ms\n", n, v[n, "count"], 1000 * v[n, "sum"] / v[n, "count"]
	}
' "$out/metrics.txt" | sort | tee "$out/histograms.txt"

{
	echo "== $sys leader, put 1,000 clients / 100 conns, ${seconds}s CPU profile"
	echo "== flat"
	go tool pprof -top -nodecount="$top" "$binary" "$out/cpu.pprof" 2>/dev/null
	echo
	echo "== cumulative"
	go tool pprof -top -cum -nodecount="$top" "$binary" "$out/cpu.pprof" 2>/dev/null
} | tee "$out/top.txt"
log "profile in $out/cpu.pprof (go tool pprof -http=: $binary $out/cpu.pprof)"
