#!/usr/bin/env bash
# Times writes to one big set or hash on a fresh local cluster, and the
# servers' CPU per write (BENCHMARKS.md, "Big hot objects").
#
#   bench/bigobject.sh BIN R CMD...   e.g. bench/bigobject.sh ./cairn 2000 SADD s __rand_int__
#
# BIN is a cairn binary; `cairn dev` starts three members on the default
# ports (which must be free) in a temporary directory. The object is first
# filled by 2R writes of random members in [0, R), then 3,000 more are timed
# with redis-benchmark (50 clients).
set -euo pipefail
bin=$1 r=$2
shift 2
data=$(mktemp -d)
"$bin" dev --data-dir "$data" --fresh >"$data/dev.log" 2>&1 &
dev=$!
trap 'kill "$dev" 2>/dev/null; wait "$dev" 2>/dev/null; rm -rf "$data"' EXIT
for _ in $(seq 50); do
	redis-cli -p 6379 ping >/dev/null 2>&1 && break
	sleep 0.2
done
redis-benchmark -p 6379 -c 50 -n $((r * 2)) -r "$r" -q "$@" >/dev/null 2>&1
# cpu prints the servers' user+system CPU time in clock ticks.
cpu() {
	local total=0 p
	for p in $(pgrep -f -- "--data-dir $data/"); do
		total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
	done
	echo "$total"
}
ticks=$(getconf CLK_TCK)
before=$(cpu)
out=$(redis-benchmark -p 6379 -c 50 -n 3000 -r "$r" -q "$@" 2>&1 | tr '\r' '\n' | grep "requests per second" | tail -1)
after=$(cpu)
echo "R=$r $1: ${out#*: }; server CPU per write: $(((after - before) * 1000000 / ticks / 3000)) µs"
