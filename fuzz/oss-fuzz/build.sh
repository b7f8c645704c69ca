#!/bin/bash -eu
# OSS-Fuzz / ClusterFuzzLite build script for the vits fuzz targets.
#
# Honours $CC $CXX $CFLAGS $CXXFLAGS $LIB_FUZZING_ENGINE $OUT (and $SRC, $WORK).  Writes,
# for each target T of cmdq wrap policy [multidomain] [trace_reader]:
#   $OUT/T  $OUT/T_seed_corpus.zip  $OUT/T.options  $OUT/T.dict
# The source tree is $VITS_SRC, else $SRC/vits when it exists, else this script's
# repository.  Checked locally by fuzz/oss-fuzz/check-build.sh (ctest fuzz_ossfuzz_build).
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${VITS_SRC:-}" ]; then ROOT=$VITS_SRC
elif [ -n "${SRC:-}" ] && [ -d "$SRC/vits/vits/src" ]; then ROOT=$SRC/vits
else ROOT=$(cd "$here/../.." && pwd); fi
: "${CC:=clang}" "${CXX:=clang++}" "${CFLAGS:=}" "${CXXFLAGS:=}"
: "${LIB_FUZZING_ENGINE:=-fsanitize=fuzzer}"
: "${OUT:?set OUT}"
B=${WORK:-$(mktemp -d)}/vits-build
rm -rf "$B"
mkdir -p "$B" "$OUT"

INC="-I$ROOT/vits/include -I$ROOT/vits/include/vits -I$ROOT/replay/harness -I$ROOT/fuzz"
DEFS=""
trace_srcs=""
if [ -f "$ROOT/trace/itr_reader.h" ]; then
	INC="$INC -I$ROOT/trace -I$ROOT/trace/freestanding"
	# The trace library's sources as its CMakeLists lists them.
	trace_srcs=$(sed -n '/add_library(vits_\(trace\|recorder\)/,/)/p' "$ROOT/trace/CMakeLists.txt" |
		tr ' ()' '\n\n\n' | grep '\.c$' | sed "s|^|$ROOT/trace/|")
	# Replay's engine-state fingerprint: reproducer traces carry a CHECKPOINT per op.
	INC="$INC -I$ROOT/replay"
	trace_srcs="$trace_srcs $ROOT/replay/rp_fingerprint.c"
else
	DEFS="-DFUZZ_NO_TRACE"
fi

# With libFuzzer's coverage (fuzzer-no-link in $CFLAGS), the per-file choices of
# fuzz/CMakeLists.txt: the engine without indirect-call tracing and without counters
# in the functions that only observe state (fuzz/coverage-ignore.txt), comparison
# tracing only in commands.c and lpi.c, and the harness, model, executors and mutator without
# coverage (feedback comes from the engine) and without ASan's fake stack.  Other
# builds (coverage reports, other engines) take $CFLAGS as they are.
ENGINE_COV="" PLUMBING_COV="" NOCOV=""
case " $CFLAGS " in
*fuzzer-no-link*)
	ENGINE_COV="-fno-sanitize-coverage=indirect-calls -fsanitize-coverage-ignorelist=$ROOT/fuzz/coverage-ignore.txt"
	PLUMBING_COV="-fno-sanitize-coverage=trace-cmp"
	NOCOV="-fno-sanitize=fuzzer-no-link"
	case " $CFLAGS " in
	*address*) NOCOV="$NOCOV -fsanitize-address-use-after-return=never" ;;
	esac
	;;
esac
file_flags() {
	case $1 in
	*/vits/src/commands.c|*/vits/src/lpi.c)
		echo "-I$ROOT/vits/src -ffreestanding $ENGINE_COV" ;;
	*/vits/src/*) echo "-I$ROOT/vits/src -ffreestanding $ENGINE_COV $PLUMBING_COV" ;;
	*/replay/harness/*|*/fuzz/fuzz_prog.c|*/fuzz/fuzz_mutator.c) echo "$NOCOV" ;;
	*/fuzz/fuzz_cmdq.c|*/fuzz/fuzz_wrap.c|*/fuzz/fuzz_policy.c|*/fuzz/fuzz_multidomain.c) echo "$NOCOV" ;;
	esac
}

objs=""
n=0
for f in "$ROOT"/vits/src/*.c "$ROOT"/replay/harness/*.c $trace_srcs "$ROOT/fuzz/fuzz_prog.c"; do
	n=$((n + 1))
	o=$B/$n-$(basename "$f" .c).o
	$CC $CFLAGS -std=c11 -D_GNU_SOURCE $DEFS $INC $(file_flags "$f") -c "$f" -o "$o"
	objs="$objs $o"
done
ar rcs "$B/libvits_fuzz.a" $objs

targets="cmdq wrap policy"
[ -f "$ROOT/fuzz/fuzz_multidomain.c" ] && [ -f "$ROOT/replay/harness/multihost.h" ] && targets="$targets multidomain"
[ -n "$trace_srcs" ] && targets="$targets trace_reader"
libs=""
[ -n "$trace_srcs" ] && libs="-lz -lpthread"
for t in $targets; do
	srcs="$ROOT/fuzz/fuzz_$t.c"
	[ "$t" = trace_reader ] || srcs="$srcs $ROOT/fuzz/fuzz_mutator.c"
	objs_t=""
	for s in $srcs; do
		o=$B/t-$t-$(basename "$s" .c).o
		$CC $CFLAGS -std=c11 -D_GNU_SOURCE $DEFS $INC $(file_flags "$s") -c "$s" -o "$o"
		objs_t="$objs_t $o"
	done
	$CXX $CXXFLAGS $objs_t "$B/libvits_fuzz.a" $LIB_FUZZING_ENGINE $libs -o "$OUT/$t"
	cp "$ROOT/fuzz/$t.options" "$OUT/$t.options"
	cp "$ROOT/fuzz/dict/$t.dict" "$OUT/$t.dict"
	rm -f "$OUT/${t}_seed_corpus.zip"
	if [ -d "$ROOT/corpus/$t" ] && [ -n "$(ls -A "$ROOT/corpus/$t")" ]; then
		(cd "$ROOT/corpus/$t" && zip -q -j "$OUT/${t}_seed_corpus.zip" ./*)
	fi
done
echo "built: $targets -> $OUT"
