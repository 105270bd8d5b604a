#!/usr/bin/env bash
# Issue 4's broker comparison: Sluice (each flush policy, and without sendfile) against
# franz-go's kfake, every broker its own process, all driven by the same `sluice bench`
# client, rounds interleaved (A/B/C…, then B/C…/A, …) so that a burst of load from other
# work on the machine spreads over every broker instead of hitting one.
#
#   bench/compare.sh                       # 5 rounds, 300,000 × 1 KiB records per workload
#   ROUNDS=3 RECORDS=100000 bench/compare.sh
#   PROFILE=1 bench/compare.sh             # also a CPU profile of every Sluice process
#   VARIANTS="sluice-gc sluice-none" WORKLOADS="p1-all p1-all-4p p8-all-4p lat" bench/compare.sh
#
# For each workload it reads the broker's CPU time (utime and stime, /proc/PID/stat) before
# and after, and its resident memory (VmRSS) after; VmHWM (peak RSS) when the broker stops.
# Each round also times a plain sequential write of the same volume (dd, 1 MiB writes),
# into the page cache and with fdatasync, as the bound a broker's write path approaches.
# Workloads: produce 1 KiB records to 1 and 8 partitions with acks=all and acks=1, consume
# the acks=all topics back from the page cache, e2e latency at LAT_RATE records/s, and
# `grow` (4× the volume into one more partition) to see whether RSS stays flat.
# Results: $OUT/results.jsonl (one object per measurement), the table: $OUT/table.md.
#
# The binaries are built from the committed HEAD (git archive), not the work tree, so that
# a run measures a commit; FROM_WORKTREE=1 builds the work tree instead.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-/tmp/sluice-compare}
ROUNDS=${ROUNDS:-5}
RECORDS=${RECORDS:-300000}
SIZE=${SIZE:-1024}
VARIANTS=${VARIANTS:-"sluice-gc sluice-none kfake kfake-sync sluice-gc-nosendfile"}
PORT=${PORT:-19092}   # client port; Sluice's controller listener takes PORT+1
DATA=${DATA:-$OUT/data} # on the disk under test, not tmpfs
LAT_RATE=${LAT_RATE:-20000}   # the latency workload: e2e at a rate well below saturation
LAT_RECORDS=${LAT_RECORDS:-60000}

mkdir -p "$OUT/bin" "$OUT/logs" "$OUT/prof"
rm -f "$OUT/results.jsonl"

if [[ -z ${FROM_WORKTREE:-} ]]; then
	src=$OUT/src
	rm -rf "$src" && mkdir -p "$src"
	git -C "$repo" archive HEAD | tar -x -C "$src"
	rev=$(git -C "$repo" rev-parse --short HEAD)
else
	src=$repo
	rev="$(git -C "$repo" rev-parse --short HEAD)+worktree"
fi
(cd "$src" && go build -o "$OUT/bin/sluice" ./cmd/sluice &&
	go build -o "$OUT/bin/kfake" bench/kfake/main.go &&
	go build -o "$OUT/bin/nosendfile" bench/nosendfile/main.go)

{
	echo "commit: $rev"
	echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "machine: $(nproc) cores, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(go version | awk '{print $3}')"
	echo "cpu: $(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)"
	echo "data: $DATA on $(df --output=source "$(dirname "$DATA")" | tail -1)"
	echo "records per workload: $RECORDS × $SIZE B; rounds: $ROUNDS; variants: $VARIANTS"
	echo "load before: $(uptime)"
} >"$OUT/meta.txt"

bpid=""
# CPU time in clock ticks (10 ms): user and system, /proc/PID/stat fields 14 and 15. These
# include threads that have exited; summing per-thread schedstat does not.
cpu_ticks() { awk '{print $14, $15}' "/proc/$bpid/stat"; }
status_kb() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$bpid/status"; }
emit() { echo "$1" >>"$OUT/results.jsonl"; }

# start_broker VARIANT ROUND: starts the broker in the background, sets bpid and addr.
start_broker() {
	local v=$1 r=$2 d=$DATA/$1 log=$OUT/logs/$1-$2.log
	rm -rf "$d" && mkdir -p "$d"
	local -a cmd env=()
	case $v in
	sluice-*)
		local policy=group-commit
		[[ $v == sluice-none* ]] && policy=none
		cmd=("$OUT/bin/sluice" serve
			--override "listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$((PORT + 1))"
			--override "controller.quorum.voters=1@127.0.0.1:$((PORT + 1))"
			--override "log.dirs=$d" --override "sluice.log.flush.policy=$policy"
			--override "sluice.metrics.listener=")
		[[ $v == *-nosendfile ]] && cmd=("$OUT/bin/nosendfile" "${cmd[@]}")
		[[ -n ${PROFILE:-} ]] && env=("SLUICE_CPUPROFILE=$OUT/prof/$v-$r.pprof")
		;;
	kfake) cmd=("$OUT/bin/kfake" -port "$PORT" -data "$d") ;;
	kfake-sync) cmd=("$OUT/bin/kfake" -port "$PORT" -data "$d" -sync) ;;
	*) echo "unknown variant $v" >&2; exit 2 ;;
	esac
	env "${env[@]}" "${cmd[@]}" >"$log" 2>&1 &
	bpid=$!
	addr=127.0.0.1:$PORT
	for _ in $(seq 600); do
		grep -q "Sluice started\|kfake listening" "$log" && return 0
		kill -0 "$bpid" 2>/dev/null || break
		sleep 0.1
	done
	echo "broker $v did not start; log:" >&2
	cat "$log" >&2
	exit 1
}

stop_broker() {
	kill -TERM "$bpid"
	wait "$bpid" || true
	bpid=""
}
trap '[[ -n $bpid ]] && kill -KILL $bpid 2>/dev/null; true' EXIT

workload_args() {
	local n=(-n "$RECORDS" -s "$SIZE")
	case $1 in
	p1-all) echo produce --topic t-p1-all --partitions 1 --acks all "${n[@]}" ;;
	p1-one) echo produce --topic t-p1-one --partitions 1 --acks 1 "${n[@]}" ;;
	p8-all) echo produce --topic t-p8-all --partitions 8 --acks all "${n[@]}" ;;
	p8-one) echo produce --topic t-p8-one --partitions 8 --acks 1 "${n[@]}" ;;
	p1-all-4p) echo produce --topic t-p1-all-4p --partitions 1 --acks all --producers 4 "${n[@]}" ;;
	p8-all-4p) echo produce --topic t-p8-all-4p --partitions 8 --acks all --producers 4 "${n[@]}" ;;
	c-p1) echo consume --topic t-p1-all ;;
	c-p8) echo consume --topic t-p8-all ;;
	lat) echo e2e --topic t-lat --partitions 1 --acks all -n "$LAT_RECORDS" --rate "$LAT_RATE" -s "$SIZE" ;;
	grow) echo produce --topic t-grow --partitions 1 --acks all -n $((RECORDS * 4)) -s "$SIZE" ;;
	esac
}

run_workload() {
	local v=$1 r=$2 w=$3
	sync # every workload starts with no dirty pages left by the one before
	local u0 s0 u1 s1 summary
	read -r u0 s0 < <(cpu_ticks)
	# shellcheck disable=SC2046
	if ! summary=$("$OUT/bin/sluice" bench -b "$addr" $(workload_args "$w") --json --timeout 10m 2>>"$OUT/logs/$v-$r.client.log"); then
		echo "round $r $v $w: the client failed (see $OUT/logs/$v-$r.client.log)" >&2
	fi
	read -r u1 s1 < <(cpu_ticks)
	[[ -z $summary ]] && summary=null
	emit "{\"round\":$r,\"variant\":\"$v\",\"workload\":\"$w\",\"cpu_ticks\":$((u1 - u0 + s1 - s0)),\"user_ticks\":$((u1 - u0)),\"clk_tck\":$(getconf CLK_TCK),\"rss_kb\":$(status_kb VmRSS),\"summary\":$summary}"
}

# dd_ref ROUND: a plain sequential write of the same volume, page cache and fdatasync'ed.
dd_ref() {
	local r=$1 f=$DATA/dd-ref count=$((RECORDS * SIZE / 1048576)) t0 t1 rep=0
	mkdir -p "$DATA"
	# Twice each: the first write of a round into freshly freed blocks is sometimes several
	# times slower on this VM's disk than the second; the report shows the range.
	for mode in pagecache fdatasync pagecache fdatasync; do
		sync
		rep=$((rep + 1))
		local conv=()
		[[ $mode == fdatasync ]] && conv=(conv=fdatasync)
		t0=$(date +%s%N)
		dd if=/dev/zero of="$f" bs=1M count="$count" "${conv[@]}" status=none
		t1=$(date +%s%N)
		emit "{\"round\":$r,\"variant\":\"dd\",\"workload\":\"dd-$mode\",\"rep\":$rep,\"bytes\":$((count * 1048576)),\"ns\":$((t1 - t0))}"
		rm -f "$f"
	done
}

read -ra variants <<<"$VARIANTS"
nv=${#variants[@]}
for ((r = 1; r <= ROUNDS; r++)); do
	echo "round $r/$ROUNDS, load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
	emit "{\"round\":$r,\"variant\":\"load\",\"workload\":\"loadavg\",\"load1\":$(cut -d' ' -f1 /proc/loadavg)}"
	dd_ref "$r"
	for ((i = 0; i < nv; i++)); do
		v=${variants[$(((i + r - 1) % nv))]}
		start_broker "$v" "$r"
		if [[ -n ${WORKLOADS:-} ]]; then
			ws=$WORKLOADS
		elif [[ $v == *-nosendfile ]]; then
			ws="p1-all p8-all c-p1 c-p8" # produce only fills the topics here
		else
			ws="p1-all p1-one p8-all p8-one c-p1 c-p8 lat ${GROW-grow}" # grow: is RSS flat as the log grows?
		fi
		for w in $ws; do
			run_workload "$v" "$r" "$w"
		done
		emit "{\"round\":$r,\"variant\":\"$v\",\"workload\":\"_process\",\"hwm_kb\":$(status_kb VmHWM),\"rss_kb\":$(status_kb VmRSS)}"
		stop_broker
		rm -rf "${DATA:?}/$v"
	done
done
echo "load after: $(uptime)" >>"$OUT/meta.txt"

(cd "$src" && go run bench/report/main.go "$OUT/results.jsonl") >"$OUT/table.md"
cat "$OUT/meta.txt" "$OUT/table.md"
