#!/bin/sh
# reproduce.sh: every zoo finding reproduces outside the fuzzer.  For each mutant
# (fuzz/zoo/mutants/*.sed) a copy of the tree with the mutant is built with the
# standalone drivers (gcc, no libFuzzer); a failing input is taken from run-zoo.sh's
# artifacts ($ZOO_DIR/<mutant>/artifacts) or, without one, searched among the seeds
# (corpus/<target>/); its .itr is written with the mutant's driver and checked:
#   (a) the mutant's its-trace shows the failure: whatif's oracles (equivalence,
#       phys-errors) under the trace's policy, or replay diverging;
#   (b) the fixed engine's its-trace (BUILD, the normal build) replays it and diverges
#       (the record where the bug acts);
#   (c) its-trace minimize shrinks it (--until the check that reproduced it, run
#       with the mutant's its-trace; divergence on the fixed build otherwise) and the
#       minimized trace still fails it.
#
# Usage: fuzz/zoo/reproduce.sh [MUTANT...]          (default: every mutant)
# Environment: ZOO_DIR (default /tmp/vits-zoo), BUILD (the fixed build, default
#              build/), CC (default cc).
# Output: a table on stdout and in $ZOO_DIR/reproduce.txt; exit 0 when every mutant
# with a failing input reproduced, 1 otherwise, 2 on a setup error.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ZOO=${ZOO_DIR:-/tmp/vits-zoo}
BUILD=${BUILD:-$ROOT/build}
FIXED=$BUILD/bin/its-trace
[ -x "$FIXED" ] || { echo "reproduce: no $FIXED (build the tree first)" >&2; exit 2; }
mkdir -p "$ZOO"
. "$ROOT/fuzz/zoo/mutant.sh"
if [ $# -eq 0 ]; then
	for m in "$ROOT"/fuzz/zoo/mutants/*.sed; do set -- "$@" "$(basename "$m" .sed)"; done
fi

# Records, guest commands of a trace.
sizes() {
	"$FIXED" stats --json "$1" 2>/dev/null | tr ',' '\n' | awk -F: '
		/"records"/ { r = $2 } /"guest_commands"/ { c = $2 }
		END { printf "%s/%s", r == "" ? "?" : r + 0, c == "" ? "?" : c + 0 }'
}

# The mutant's build: standalone drivers and its-trace.
build_mutant() {
	d=$1 m=$2 file=$3 target=$4
	[ -x "$d/sbuild/bin/fuzz_$target" ] && [ -x "$d/sbuild/bin/its-trace" ] && return 0
	if [ ! -d "$d/src" ]; then
		mutant_tree "$d/src" || { echo "mutant changed nothing" >"$d/sbuild.log"; return 1; }
	fi
	{ cmake -S "$d/src" -B "$d/sbuild" -DCMAKE_C_COMPILER="${CC:-cc}" \
		-DCMAKE_BUILD_TYPE=RelWithDebInfo &&
	  cmake --build "$d/sbuild" -j2 --target "fuzz_$target" its-trace; } \
		>"$d/sbuild.log" 2>&1
}

# A failing input: run-zoo.sh's crash, else the first seed the mutant fails.
find_input() {
	d=$1 target=$2
	for a in "$d"/artifacts/crash-* "$d"/artifacts/*; do
		[ -f "$a" ] && { echo "$a"; return; }
	done
	for s in "$ROOT"/corpus/"$target"/*; do
		if ! "$d/sbuild/bin/fuzz_$target" --no-abort "$s" >/dev/null 2>&1; then
			echo "$s"
			return
		fi
	done
}

# Does the mutant's its-trace see the failure?  Prints the minimize check.
check_a() {
	its=$1 itr=$2
	for o in equivalence phys-errors; do
		if "$its" minimize "$itr" --until "oracle:$o" -o /dev/null --quiet \
			>/dev/null 2>&1 </dev/null; then
			echo "oracle:$o"
			return
		fi
	done
	"$its" replay "$itr" >/dev/null 2>&1
	[ $? -eq 1 ] && echo "divergence"
}

one() {
	name=$1
	mutant_info "$name"
	d=$ZOO/$name
	mkdir -p "$d"
	if [ "$target" = multidomain ]; then
		echo "| $name | $target | - | - | - | - | - | multidomain traces: see docs/fuzzing.md |"
		return
	fi
	if ! build_mutant "$d" "$m" "$file" "$target"; then
		echo "| $name | $target | - | - | - | - | - | build failed ($d/sbuild.log) |"
		return 1
	fi
	its=$d/sbuild/bin/its-trace
	in=$(find_input "$d" "$target")
	if [ -z "$in" ]; then
		echo "| $name | $target | no failing input (run run-zoo.sh first) | - | - | - | - | - |"
		return 1
	fi
	itr=$d/crash.itr
	"$d/sbuild/bin/fuzz_$target" --no-abort --itr "$itr" "$in" >"$d/driver.log" 2>&1
	src=$(basename "$in")
	a=$(check_a "$its" "$itr")
	"$FIXED" replay "$itr" >"$d/fixed-replay.txt" 2>&1
	b=$?
	bwhere=-
	[ $b -eq 1 ] && bwhere=$(sed -n '1s/.*DIVERGED at record \([0-9]*\) (\(.*\))/\1 \2/p' \
		"$d/fixed-replay.txt")
	# (c): with the check (a) found on the mutant; else divergence on the fixed engine.
	small=$d/crash-min.itr
	rm -f "$small"
	if [ -n "$a" ]; then
		"$its" minimize "$itr" --until "$a" -o "$small" --quiet >"$d/min.log" 2>&1 </dev/null
		cby="$a (mutant)"
		ok=$(check_a "$its" "$small")
	elif [ $b -eq 1 ]; then
		"$FIXED" minimize "$itr" --until divergence -o "$small" --quiet >"$d/min.log" 2>&1 </dev/null
		cby="divergence (fixed)"
		"$FIXED" replay "$small" >/dev/null 2>&1
		[ $? -eq 1 ] && ok=divergence || ok=
	else
		cby=-
		ok=
	fi
	msz=-
	[ -f "$small" ] && msz=$(sizes "$small")
	[ -n "$ok" ] || msz="$msz (not failing)"
	echo "| $name | $target | $src | $(sizes "$itr") | ${a:-no} | ${bwhere:-no} | $msz | $cby |"
	[ -n "$a" ] || [ $b -eq 1 ]
}

out=$ZOO/reproduce.txt
all=0
{
	echo "| mutant | target | failing input | records/commands | (a) mutant its-trace | (b) fixed replay diverges at | (c) minimized records/commands | minimized by |"
	echo "|---|---|---|---|---|---|---|---|"
} >"$out"
for n in "$@"; do
	one "$n" >>"$out" || all=1
done
cat "$out"
exit $all
