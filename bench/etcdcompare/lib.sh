# Shared by run.sh and profile.sh (sourced, not run): builds the binaries,
# starts and stops the two 3-node clusters on loopback, and runs one
# workload of etcd's benchmark tool against a cluster.
#
# Everything lives under $WORK (default /tmp/etcdcompare): bin/, data/,
# logs/, results/. Nothing is written inside the repository.

ETCD_VERSION=v3.7.3
# The benchmark tool lives in etcd's root module, go.etcd.io/etcd/v3, whose
# v3.7.x versions the module proxy refuses ("not available"); v3.6.8 is the
# newest it serves. The tool is only a clientv3 load generator and the v3
# API is the same, so the v3.6.8 tool drives a v3.7.3 server as well.
BENCHMARK_VERSION=v3.6.8

WORK="${WORK:-/tmp/etcdcompare}"
BIN="$WORK/bin"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"

# Port plan: node i (0..2) of etcd uses 31379+100i (client), +1 (peer),
# +2 (metrics, pprof); of cairn 29379+100i (client), +1 (peer),
# +2 (admin HTTP, pprof), +3 (RESP). All below Linux's ephemeral range
# (32768-60999), where any outgoing connection or :0 listener on this shared
# machine may hold a port, and clear of `cairn dev`'s ports.
ETCD_BASE=31379
CAIRN_BASE=29379
NODES=3

# Raft timing, the same for both systems (etcd's defaults).
HEARTBEAT_MS=100
ELECTION_MS=1000

PIDS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

# build_module DIR MAIN_TXT MODULE@VERSION OUT: a throwaway module whose only
# file is MAIN_TXT, requiring MODULE@VERSION, built into OUT.
build_module() {
	local dir="$1" main="$2" req="$3" out="$4"
	rm -rf "$dir"
	mkdir -p "$dir"
	cp "$main" "$dir/main.go"
	(
		cd "$dir"
		go mod init "cairn.local/$(basename "$dir")" >/dev/null 2>&1
		go get "$req" >/dev/null 2>&1
		CGO_ENABLED=0 go build -o "$out" .
	)
}

build_all() {
	mkdir -p "$BIN"
	local have
	have=$("$BIN/etcd" --version 2>/dev/null || true)
	if [[ "$have" != *"etcd Version: ${ETCD_VERSION#v}"* ]]; then
		log "building etcd $ETCD_VERSION"
		build_module "$WORK/mod/etcd" "$HERE/etcd-main.go.txt" "go.etcd.io/etcd/server/v3@$ETCD_VERSION" "$BIN/etcd"
	fi
	if [ ! -x "$BIN/benchmark" ]; then
		log "building etcd's benchmark tool $BENCHMARK_VERSION"
		build_module "$WORK/mod/benchmark" "$HERE/benchmark-main.go.txt" "go.etcd.io/etcd/v3@$BENCHMARK_VERSION" "$BIN/benchmark"
	fi
	log "building etcdctl $ETCD_VERSION"
	bash "$REPO/internal/tools/build-etcdctl.sh" "$BIN" >/dev/null
	# The checkout may change while a study runs; CAIRN_REBUILD=0 keeps the
	# cairn binary already in $BIN so that runs and profiles share one build.
	if [ "${CAIRN_REBUILD:-1}" != 0 ] || [ ! -x "$BIN/cairn" ]; then
		log "building cairn from $REPO"
		(cd "$REPO" && go build -o "$BIN/cairn" ./cmd/cairn)
	fi
	log "cairn binary sha256 $(sha256sum "$BIN/cairn" | cut -c1-16)"
}

port() { echo $(($1 + 100 * $2 + $3)); } # port BASE NODE OFFSET

# endpoints SYSTEM: the three client endpoints, comma-separated.
endpoints() {
	local base=$ETCD_BASE eps=() i
	[ "$1" = cairn ] && base=$CAIRN_BASE
	for i in $(seq 0 $((NODES - 1))); do eps+=("127.0.0.1:$(port $base $i 0)"); done
	(IFS=,; echo "${eps[*]}")
}

initial_cluster() { # initial_cluster SYSTEM BASE
	local parts=() i
	for i in $(seq 0 $((NODES - 1))); do parts+=("$1$((i + 1))=http://127.0.0.1:$(port "$2" $i 1)"); done
	(IFS=,; echo "${parts[*]}")
}

check_ports_free() { # check_ports_free BASE
	local i off
	for i in $(seq 0 $((NODES - 1))); do
		for off in 0 1 2 3; do
			if ss -ltn "sport = :$(port "$1" $i $off)" | grep LISTEN >/dev/null; then
				echo "port $(port "$1" $i $off) is in use; stop what holds it" >&2
				return 1
			fi
		done
	done
}

# start_etcd [extra flags]: a fresh 3-node etcd with default durability.
start_etcd() {
	check_ports_free $ETCD_BASE
	local cluster i
	cluster=$(initial_cluster etcd $ETCD_BASE)
	rm -rf "$WORK/data/etcd"
	mkdir -p "$WORK/data/etcd" "$WORK/logs"
	for i in $(seq 0 $((NODES - 1))); do
		local name="etcd$((i + 1))" client="http://127.0.0.1:$(port $ETCD_BASE $i 0)" peer="http://127.0.0.1:$(port $ETCD_BASE $i 1)"
		"$BIN/etcd" --name "$name" --data-dir "$WORK/data/etcd/$name" \
			--listen-client-urls "$client" --advertise-client-urls "$client" \
			--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
			--listen-metrics-urls "http://127.0.0.1:$(port $ETCD_BASE $i 2)" \
			--initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token bench-etcd \
			--heartbeat-interval $HEARTBEAT_MS --election-timeout $ELECTION_MS \
			--log-level warn "$@" >"$WORK/logs/$name.log" 2>&1 &
		PIDS+=($!)
	done
	wait_healthy etcd
}

# start_cairn: a fresh 3-node cairn with its defaults.
start_cairn() {
	check_ports_free $CAIRN_BASE
	local cluster i
	cluster=$(initial_cluster cairn $CAIRN_BASE)
	rm -rf "$WORK/data/cairn"
	mkdir -p "$WORK/data/cairn" "$WORK/logs"
	for i in $(seq 0 $((NODES - 1))); do
		local name="cairn$((i + 1))" client="http://127.0.0.1:$(port $CAIRN_BASE $i 0)" peer="http://127.0.0.1:$(port $CAIRN_BASE $i 1)"
		"$BIN/cairn" server --name "$name" --data-dir "$WORK/data/cairn/$name" \
			--listen-client-urls "$client" --advertise-client-urls "$client" \
			--listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
			--listen-http "127.0.0.1:$(port $CAIRN_BASE $i 2)" --listen-redis "127.0.0.1:$(port $CAIRN_BASE $i 3)" \
			--initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token bench-cairn \
			--heartbeat-interval $HEARTBEAT_MS --election-timeout $ELECTION_MS \
			--log-level warn >"$WORK/logs/$name.log" 2>&1 &
		PIDS+=($!)
	done
	wait_healthy cairn
}

# wait_healthy SYSTEM: until every member answers `endpoint health`.
wait_healthy() {
	local eps pid deadline=$((SECONDS + 60))
	eps=$(endpoints "$1")
	until "$BIN/etcdctl" --endpoints="$eps" --command-timeout=2s endpoint health >/dev/null 2>&1; do
		for pid in "${PIDS[@]}"; do
			if ! kill -0 "$pid" 2>/dev/null; then
				echo "$1: a member (pid $pid) exited during startup; logs in $WORK/logs" >&2
				return 1
			fi
		done
		if [ $SECONDS -ge $deadline ]; then
			echo "$1: not healthy after 60s; logs in $WORK/logs" >&2
			return 1
		fi
		sleep 0.3
	done
}

# leader SYSTEM: the client endpoint of the current leader.
leader() {
	"$BIN/etcdctl" --endpoints="$(endpoints "$1")" endpoint status -w json |
		jq -r '.[] | select(.Status.leader == .Status.header.member_id) | .Endpoint' | sed -n 1p
}

# stop_cluster: SIGTERM every started process, SIGKILL what is left after 15s.
stop_cluster() {
	local pid
	for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
	local deadline=$((SECONDS + 15))
	for pid in "${PIDS[@]}"; do
		while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	PIDS=()
}

# The workloads (the shapes of etcd's op-guide/performance). Puts: 8-byte
# keys drawn at random from a 100,000-key space, 256-byte values, sent to the
# leader. Ranges: one key ("foo", 256-byte value) read by 1,000 clients over
# 100 connections spread on all three members; range-l-1000-leader sends
# the linearizable reads to the leader only (see README.md for why).
# Totals are sized for ~5-15 s each on this 2-core machine; override them
# through the environment.
PUT1_TOTAL="${PUT1_TOTAL:-8000}"
PUTN_TOTAL="${PUTN_TOTAL:-60000}"
RANGEL_TOTAL="${RANGEL_TOTAL:-100000}"
RANGES_TOTAL="${RANGES_TOTAL:-100000}"
WORKLOADS=(${WORKLOADS_OVERRIDE:-put-1 put-1000 range-l-1000 range-l-1000-leader range-s-1000})

# workload_total WORKLOAD: how many requests the workload sends.
workload_total() {
	case "$1" in
	put-1) echo "$PUT1_TOTAL" ;;
	put-1000) echo "$PUTN_TOTAL" ;;
	range-l-*) echo "$RANGEL_TOTAL" ;;
	range-s-*) echo "$RANGES_TOTAL" ;;
	esac
}

# benchmark_args SYSTEM WORKLOAD TOTAL: the benchmark tool's arguments.
benchmark_args() {
	local lead all put=(--key-size=8 --val-size=256 --key-space-size=100000)
	lead=$(leader "$1")
	all=$(endpoints "$1")
	case "$2" in
	put-1) echo --endpoints="$lead" --clients=1 --conns=1 put --total="$3" "${put[@]}" ;;
	put-1000) echo --endpoints="$lead" --clients=1000 --conns=100 put --total="$3" "${put[@]}" ;;
	range-l-1000) echo --endpoints="$all" --clients=1000 --conns=100 range foo --consistency=l --total="$3" ;;
	range-l-1000-leader) echo --endpoints="$lead" --clients=1000 --conns=100 range foo --consistency=l --total="$3" ;;
	range-s-1000) echo --endpoints="$all" --clients=1000 --conns=100 range foo --consistency=s --total="$3" ;;
	*) echo "unknown workload $2" >&2; return 1 ;;
	esac
}

# cpu_ticks: user+system CPU of the running cluster's processes, in clock
# ticks (fields 14 and 15 of /proc/PID/stat).
cpu_ticks() {
	local pid sum=0
	for pid in "${PIDS[@]}"; do
		sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
	done
	echo "$sum"
}

# run_workload SYSTEM WORKLOAD OUTFILE: one run of etcd's benchmark tool;
# the report goes to OUTFILE, followed by the servers' CPU time.
run_workload() {
	local sys="$1" w="$2" out="$3" total args before after
	total=$(workload_total "$w")
	read -r -a args <<<"$(benchmark_args "$sys" "$w" "$total")"
	before=$(cpu_ticks)
	{
		echo "# $sys $w loadavg-before: $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "# $BIN/benchmark --precise ${args[*]}"
		# stdout holds the report; stderr the progress bar and gRPC's
		# chatter, kept aside in case a run fails.
		"$BIN/benchmark" --precise "${args[@]}" 2>"${out%.txt}.stderr" | awk '/^bench with|^Summary:/ { p = 1 } p' || true
		after=$(cpu_ticks)
		echo "# loadavg-after: $(cut -d' ' -f1-3 /proc/loadavg)"
		echo "# server-cpu-us-per-op: $(((after - before) * 1000000 / $(getconf CLK_TCK) / total))"
	} >"$out"
}

# put_range_key SYSTEM: the key the range workloads read (256-byte value).
put_range_key() {
	"$BIN/etcdctl" --endpoints="$(endpoints "$1")" put foo "$(head -c 256 /dev/zero | tr '\0' v)" >/dev/null
}

# summarize FILE: "rps p50 p90 p99 p99.9 max errors cpu load" of one run:
# latencies in ms, server CPU in us per request, the 1-minute load average
# before the run.
summarize() {
	awk '
		/Requests\/sec:/ { rps = $2 }
		/^ *50% in/ { p50 = $3 * 1000 }
		/^ *90% in/ { p90 = $3 * 1000 }
		/^ *99% in/ { p99 = $3 * 1000 }
		/^ *99.9% in/ { p999 = $3 * 1000 }
		/^ *Slowest:/ { max = $2 * 1000 }
		/loadavg-before:/ { load = $5 }
		/^Error distribution:/ { inerr = 1; next }
		inerr && /^ *\[[0-9]+\]/ { gsub(/[\[\]]/, "", $1); errs += $1 }
		/server-cpu-us-per-op:/ { cpu = $3 }
		END { printf "%.0f %.2f %.2f %.2f %.2f %.2f %d %d %s\n", rps, p50, p90, p99, p999, max, errs, cpu, load }
	' "$1"
}
