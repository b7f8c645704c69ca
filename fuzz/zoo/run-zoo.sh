#!/bin/sh
# run-zoo.sh: prove the fuzzers find bugs.  Each planted bug (fuzz/zoo/mutants/*.sed, a
# sed script on one file of a COPY of the tree, modelled on a real bug class) is
# built as a libFuzzer target and fuzzed for at most SECONDS from the seed corpus; the
# table says which were found, how fast and after how many executions.
#
# Usage: fuzz/zoo/run-zoo.sh [SECONDS] [MUTANT...]     (default 60 s, every mutant)
# Environment: ZOO_DIR (work dir, default /tmp/vits-zoo), JOBS (default: cores),
#              ZOO_REUSE=1 (keep earlier results of mutants already found),
#              ZOO_KEEP_BUILD=1 (reuse each mutant's build), ZOO_NO_SEEDS=1 (fuzz from
#              an empty corpus: the mutator and dictionary alone),
#              FUZZ_CC (default clang-19, else clang-14, else clang).
# Output: the table on stdout and in $ZOO_DIR/zoo.txt (and zoo.json); exit 0 when
# every mutant was found, 1 otherwise, 2 on a setup error.  The working tree is never
# modified.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECS=${1:-60}
[ $# -gt 0 ] && shift
ZOO=${ZOO_DIR:-/tmp/vits-zoo}
JOBS=${JOBS:-$(nproc 2>/dev/null || echo 2)}
if [ -z "${FUZZ_CC:-}" ]; then
	for c in clang-19 clang-14 clang; do
		if command -v $c >/dev/null 2>&1; then FUZZ_CC=$c; break; fi
	done
fi
[ -n "${FUZZ_CC:-}" ] || { echo "run-zoo: no clang" >&2; exit 2; }
mkdir -p "$ZOO"
. "$ROOT/fuzz/zoo/mutant.sh"

if [ $# -eq 0 ]; then
	set --
	for m in "$ROOT"/fuzz/zoo/mutants/*.sed; do set -- "$@" "$(basename "$m" .sed)"; done
fi

one() {
	name=$1
	mutant_info "$name"
	d=$ZOO/$name
	# ZOO_REUSE=1: keep the results of mutants already found (re-run the others).
	if [ "${ZOO_REUSE:-0}" = 1 ] && grep -q '^yes' "$d/result" 2>/dev/null; then
		return
	fi
	if [ "${ZOO_KEEP_BUILD:-0}" = 1 ] && [ -x "$d/build/bin/fuzz-$target" ]; then
		rm -rf "$d/work" "$d/artifacts"
		mkdir -p "$d/work" "$d/artifacts"
	else
	rm -rf "$d"
	mkdir -p "$d/work" "$d/artifacts"
	if ! mutant_tree "$d/src"; then
		echo "patch-failed 0 0 $target" >"$d/result"
		return
	fi
	if ! { cmake -S "$d/src" -B "$d/build" -DCMAKE_C_COMPILER="$FUZZ_CC" -DVITS_FUZZ=ON \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo && \
		cmake --build "$d/build" --target "fuzz-$target"; } >"$d/build.log" 2>&1; then
		echo "build-failed 0 0 $target" >"$d/result"
		return
	fi
	fi
	# ZOO_NO_SEEDS=1: start from nothing (the mutator and dictionary alone).
	seeds=$ROOT/corpus/$target
	[ "${ZOO_NO_SEEDS:-0}" = 1 ] && seeds=
	start=$(date +%s.%N)
	# The target's own options (max_len, timeout, dictionary), as campaigns use.
	"$d/build/bin/fuzz-$target" -max_total_time="$SECS" \
		$(sh "$ROOT/tools/fuzz-options.sh" "$target") \
		-print_final_stats=1 -artifact_prefix="$d/artifacts/" "$d/work" $seeds \
		>"$d/fuzz.log" 2>&1
	end=$(date +%s.%N)
	t=$(echo "$end $start" | awk '{printf "%.1f", $1 - $2}')
	execs=$(grep -o '^#[0-9]*' "$d/fuzz.log" | tail -1 | tr -d '#')
	e2=$(sed -n 's/^stat::number_of_executed_units: *//p' "$d/fuzz.log" | tail -1)
	[ -n "$e2" ] && execs=$e2
	if ls "$d/artifacts" | grep -q .; then
		echo "yes $t ${execs:-0} $target" >"$d/result"
	else
		echo "no $t ${execs:-0} $target" >"$d/result"
	fi
}

running=0
for n in "$@"; do
	one "$n" &
	running=$((running + 1))
	if [ $running -ge "$JOBS" ]; then wait; running=0; fi
done
wait

all=0
out=$ZOO/zoo.txt
json=$ZOO/zoo.json
printf '| mutant | bug class | target | found | time to find (s) | execs |\n|---|---|---|---|---|---|\n' >"$out"
printf '[' >"$json"
sep=""
for n in "$@"; do
	read -r found t execs target <"$ZOO/$n/result" || { found=error; t=0; execs=0; target=?; }
	models=$(sed -n 's/^# models: //p' "$ROOT/fuzz/zoo/mutants/$n.sed")
	[ "$found" = yes ] || all=1
	[ "$found" = yes ] || t="-"
	printf '| %s | %s | %s | %s | %s | %s |\n' "$n" "$models" "$target" "$found" "$t" "$execs" >>"$out"
	oracle=$(grep -m1 -A1 'oracle failure' "$ZOO/$n/fuzz.log" 2>/dev/null | tail -1 | cut -c1-100 | sed 's/"/\\"/g')
	[ -n "$oracle" ] || oracle=$(grep -m1 'ERROR: \|runtime error' "$ZOO/$n/fuzz.log" 2>/dev/null | cut -c1-100 | sed 's/"/\\"/g')
	printf '%s\n  {"mutant": "%s", "target": "%s", "found": "%s", "seconds": "%s", "execs": %s, "oracle": "%s"}' \
		"$sep" "$n" "$target" "$found" "$t" "${execs:-0}" "$oracle" >>"$json"
	sep=","
done
printf '\n]\n' >>"$json"
cat "$out"
exit $all
