#!/bin/sh
# fuzz-campaign.sh: build the libFuzzer targets if needed, run them in parallel across
# the cores, merge new inputs into corpus/<target>/, and summarise.
#
# Usage: tools/fuzz-campaign.sh SECONDS [TARGET...]
#   SECONDS   fuzzing time per target (e.g. 20 for the CI smoke run)
#   TARGET    cmdq wrap policy multidomain trace_reader (default: every target built)
# Environment:
#   BUILD_DIR   libFuzzer build directory (default: <repo>/build-fuzz)
#   FUZZ_CC     compiler (default: clang-19 if installed, else clang-14, else clang)
#   JOBS        targets run at once (default: number of cores)
#   NO_MERGE=1  do not add new inputs to corpus/<target>/
#   FUZZ_FORK   extra libFuzzer flags for every target (e.g. "-use_value_profile=1")
#   FUZZ_NEW_ON_DISK=1  write new inputs straight to $BUILD_DIR (default: a tmpfs
#               directory under /dev/shm while fuzzing, copied there after)
# Output: $BUILD_DIR/campaign/summary.txt and summary.json (execs, exec/s, cov, ft,
# new inputs, findings per target); findings (crash-*, timeout-*, oom-*) and their logs
# under $BUILD_DIR/campaign/<target>/.  Exit 0 when nothing was found, 1 on any
# finding, 2 on a usage or build error.
#
# Example:
#   tools/fuzz-campaign.sh 20                 # smoke: every target, 20 s each
#   tools/fuzz-campaign.sh 3600 cmdq policy   # an hour each on two targets
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -lt 1 ] || ! [ "$1" -gt 0 ] 2>/dev/null; then
	sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
fi
SECS=$1
shift
BUILD=${BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}

if [ -z "${FUZZ_CC:-}" ]; then
	for c in clang-19 clang-14 clang; do
		if command -v $c >/dev/null 2>&1; then FUZZ_CC=$c; break; fi
	done
fi
[ -n "${FUZZ_CC:-}" ] || { echo "fuzz-campaign: no clang found" >&2; exit 2; }

if [ ! -f "$BUILD/CMakeCache.txt" ]; then
	cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="$FUZZ_CC" -DVITS_FUZZ=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo >"$BUILD.configure.log" 2>&1 ||
		{ cat "$BUILD.configure.log" >&2; echo "fuzz-campaign: configure failed" >&2; exit 2; }
fi
if [ $# -eq 0 ]; then
	set -- $(sed -n 's/^FUZZ_ALL_TARGETS:INTERNAL=//p' "$BUILD/CMakeCache.txt" | tr ';' ' ')
	[ $# -gt 0 ] || set -- cmdq wrap policy trace_reader
fi
bins=""
for t in "$@"; do bins="$bins fuzz-$t"; done
cmake --build "$BUILD" -j"$JOBS" --target $bins >"$BUILD/campaign-build.log" 2>&1 ||
	{ tail -40 "$BUILD/campaign-build.log" >&2; echo "fuzz-campaign: build failed" >&2; exit 2; }

OUTD=$BUILD/campaign
mkdir -p "$OUTD"

# One target: fuzz, then merge what is new into the corpus.
run_one() {
	t=$1
	bin=$BUILD/bin/fuzz-$t
	w=$OUTD/$t
	rm -rf "$w"
	mkdir -p "$w/new" "$w/findings" "$ROOT/corpus/$t"
	opts=$(sh "$ROOT/tools/fuzz-options.sh" "$t")
	# New inputs go to a tmpfs while fuzzing (creating thousands of small files on
	# a disk file system cost 2-13% of a run) and are copied to $w/new after.
	new=$w/new
	if [ -z "${FUZZ_NEW_ON_DISK:-}" ] && [ -d /dev/shm ] &&
	   shm=$(mktemp -d /dev/shm/vits-fuzz-"$t".XXXXXX 2>/dev/null); then
		new=$shm
		# run_one runs in its own subshell: its traps clean the tmpfs up
		trap 'rm -rf "$shm"' EXIT
		trap 'exit 130' INT TERM
	fi
	FUZZ_ITR_DIR=$w/findings "$bin" -max_total_time="$SECS" -print_final_stats=1 \
		-artifact_prefix="$w/findings/" $opts ${FUZZ_FORK:-} \
		"$new" "$ROOT/corpus/$t" >"$w/fuzz.log" 2>&1
	echo $? >"$w/rc"
	if [ "$new" != "$w/new" ]; then
		cp -pR "$new"/. "$w/new"/
		rm -rf "$new"
	fi
	if [ "${NO_MERGE:-0}" != 1 ] && [ -n "$(ls -A "$w/new")" ]; then
		before=$(ls "$ROOT/corpus/$t" | wc -l)
		"$bin" -merge=1 $opts "$ROOT/corpus/$t" "$w/new" >"$w/merge.log" 2>&1
		after=$(ls "$ROOT/corpus/$t" | wc -l)
		echo $((after - before)) >"$w/merged"
	else
		echo 0 >"$w/merged"
	fi
}

echo "fuzz-campaign: $* for ${SECS}s each, $JOBS at a time ($FUZZ_CC, $BUILD)"
running=0
for t in "$@"; do
	run_one "$t" &
	running=$((running + 1))
	if [ $running -ge "$JOBS" ]; then
		wait
		running=0
	fi
done
wait

found=0
txt=$OUTD/summary.txt
json=$OUTD/summary.json
printf '%-13s %10s %9s %6s %7s %6s %8s %s\n' target execs exec/s cov ft corpus+ findings status >"$txt"
printf '{\n  "seconds": %s,\n  "compiler": "%s",\n  "targets": [' "$SECS" "$FUZZ_CC" >"$json"
sep=""
for t in "$@"; do
	w=$OUTD/$t
	log=$w/fuzz.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
	nf=$(ls "$w/findings" 2>/dev/null | grep -c -E '^(crash|timeout|oom|leak|slow-unit)-' || true)
	rc=$(cat "$w/rc" 2>/dev/null || echo 2)
	merged=$(cat "$w/merged" 2>/dev/null || echo 0)
	status=ok
	if [ "$nf" -gt 0 ] || [ "$rc" != 0 ]; then
		status=FINDING
		found=1
		[ "$nf" -gt 0 ] || nf=1
	fi
	printf '%-13s %10s %9s %6s %7s %6s %8s %s\n' "$t" "${execs:-0}" "${eps:-0}" "${cov:-0}" \
		"${ft:-0}" "$merged" "$nf" "$status" >>"$txt"
	printf '%s\n    {"target": "%s", "execs": %s, "exec_per_sec": %s, "cov": %s, "ft": %s, "merged": %s, "findings": %s, "rc": %s, "log": "%s"}' \
		"$sep" "$t" "${execs:-0}" "${eps:-0}" "${cov:-0}" "${ft:-0}" "$merged" "$nf" "$rc" "$log" >>"$json"
	sep=","
	if [ "$status" != ok ]; then
		echo "---- $t: finding (see $w/findings and $log)" >&2
		grep -A3 'oracle failure\|ERROR: \(AddressSanitizer\|UndefinedBehavior\|libFuzzer\)\|runtime error' "$log" | head -20 >&2
	fi
done
printf '\n  ],\n  "findings": %s\n}\n' "$found" >>"$json"
cat "$txt"
echo "summary: $txt $json"
exit $found
