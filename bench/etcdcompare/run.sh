#!/usr/bin/env bash
# Side-by-side load test of etcd v3.7.3 and cairn's strong tier: builds both
# (etcd from the module proxy, cairn from this checkout), then for each
# round starts a fresh 3-node etcd, runs every workload with etcd's own
# benchmark tool, stops it, and does the same with a fresh 3-node cairn
# (etcd, cairn, etcd, cairn, ...). Prints a table of every run and the
# ratios cairn/etcd. Results and logs stay in $WORK (default
# /tmp/etcdcompare).
#
#   bash bench/etcdcompare/run.sh [ROUNDS]      # ROUNDS defaults to 2
#
# Environment: WORK, PUT1_TOTAL, PUTN_TOTAL, RANGEL_TOTAL, RANGES_TOTAL,
# WORKLOADS_OVERRIDE (space-separated subset of the workloads in lib.sh).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

rounds="${1:-2}"
trap stop_cluster EXIT

build_all
res="$WORK/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$res"
summary="$res/summary.tsv"
: >"$summary"
log "results in $res"

for round in $(seq 1 "$rounds"); do
	for sys in etcd cairn; do
		log "round $round: starting a fresh 3-node $sys"
		"start_$sys"
		put_range_key "$sys"
		for w in "${WORKLOADS[@]}"; do
			out="$res/$round-$sys-$w.txt"
			run_workload "$sys" "$w" "$out"
			read -r rps p50 p90 p99 p999 max errs cpu load <<<"$(summarize "$out")"
			printf '%s\t' "$round" "$sys" "$w" "$rps" "$p50" "$p90" "$p99" "$p999" "$max" "$errs" "$cpu" >>"$summary"
			printf '%s\n' "$load" >>"$summary"
			log "round $round $sys $w: $rps req/s, p50 $p50 ms, p99 $p99 ms, max $max ms, errors $errs, server CPU $cpu us/op"
		done
		stop_cluster
	done
done

# Every run, then per workload the mean over rounds and the ratios.
awk -F'\t' '
	# ratio: a / b, or "-" when b is 0 (the tool omits p99.9 for small runs).
	function ratio(a, b) { return b ? sprintf("%.2f", a / b) : "-" }
	BEGIN {
		printf "%-20s %-5s %5s %8s %8s %8s %8s %8s %9s %6s %6s %5s\n", "workload", "sys", "round", "req/s", "p50", "p90", "p99", "p99.9", "max", "errors", "cpu/op", "load"
	}
	{
		printf "%-20s %-5s %5s %8d %8.2f %8.2f %8.2f %8.2f %9.2f %6d %6d %5s\n", $3, $2, $1, $4, $5, $6, $7, $8, $9, $10, $11, $12
		k = $3 SUBSEP $2
		n[k]++; rps[k] += $4; p50[k] += $5; p99[k] += $7; p999[k] += $8; cpu[k] += $11
		if (!($3 in seen)) { seen[$3] = 1; order[++nw] = $3 }
	}
	END {
		print "(latencies in ms; cpu/op = user+system CPU of all three members per request, in us; load = 1-min load average before the run)"
		printf "\nmean of %d round(s); ratio = cairn / etcd\n", n[order[1] SUBSEP "etcd"]
		printf "%-20s %7s %7s %5s | %7s %7s %5s | %7s %7s %5s | %8s %8s %5s | %5s %5s %5s\n", "workload", "etcd/s", "cairn/s", "ratio", "e p50", "c p50", "ratio", "e p99", "c p99", "ratio", "e p99.9", "c p99.9", "ratio", "e cpu", "c cpu", "ratio"
		for (i = 1; i <= nw; i++) {
			w = order[i]; e = w SUBSEP "etcd"; c = w SUBSEP "cairn"
			if (!n[e] || !n[c]) continue
			er = rps[e] / n[e]; cr = rps[c] / n[c]
			e50 = p50[e] / n[e]; c50 = p50[c] / n[c]
			e99 = p99[e] / n[e]; c99 = p99[c] / n[c]
			e999 = p999[e] / n[e]; c999 = p999[c] / n[c]
			ec = cpu[e] / n[e]; cc = cpu[c] / n[c]
			printf "%-20s %7.0f %7.0f %5s | %7.2f %7.2f %5s | %7.2f %7.2f %5s | %8.2f %8.2f %5s | %5.0f %5.0f %5s\n", w, er, cr, ratio(cr, er), e50, c50, ratio(c50, e50), e99, c99, ratio(c99, e99), e999, c999, ratio(c999, e999), ec, cc, ratio(cc, ec)
		}
		print "(req/s ratio > 1: cairn faster; latency and cpu ratio > 1: cairn slower)"
	}
' "$summary" | tee "$res/table.txt"
