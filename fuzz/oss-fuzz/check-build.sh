#!/bin/sh
# check-build.sh ROOT: run fuzz/oss-fuzz/build.sh with OSS-Fuzz's variables set
# (CC=clang-19 or clang-14, CFLAGS=-fsanitize=address,fuzzer-no-link,
# LIB_FUZZING_ENGINE=-fsanitize=fuzzer, OUT=a temp dir) and check what it leaves in
# $OUT: every target binary, its seed corpus zip, .options and .dict, and that each
# binary runs its seed corpus.  Exit 77 (ctest: skipped) without clang.
set -u
ROOT=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cc=""
for c in clang-19 clang-14; do
	if command -v $c >/dev/null 2>&1; then cc=$c; break; fi
done
[ -n "$cc" ] || { echo "SKIP: no clang-19 or clang-14"; exit 77; }
cxx=$(echo "$cc" | sed 's/clang/clang++/')
command -v "$cxx" >/dev/null 2>&1 || cxx=$cc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/out" "$tmp/work"
if ! env CC=$cc CXX=$cxx CFLAGS='-fsanitize=address,fuzzer-no-link' \
	CXXFLAGS='-fsanitize=address,fuzzer-no-link' LIB_FUZZING_ENGINE=-fsanitize=fuzzer \
	OUT="$tmp/out" WORK="$tmp/work" VITS_SRC="$ROOT" bash "$ROOT/fuzz/oss-fuzz/build.sh"; then
	echo "FAIL: build.sh failed"
	exit 1
fi
fail=0
for t in cmdq wrap policy; do
	for f in "$t" "$t.options" "$t.dict" "${t}_seed_corpus.zip"; do
		[ -s "$tmp/out/$f" ] || { echo "FAIL: \$OUT/$f missing"; fail=1; }
	done
done
for b in "$tmp/out"/*; do
	case $b in *.options|*.dict|*.zip) continue ;; esac
	[ -x "$b" ] || continue
	t=$(basename "$b")
	mkdir -p "$tmp/seeds/$t"
	(cd "$tmp/seeds/$t" && unzip -q -o "$tmp/out/${t}_seed_corpus.zip" 2>/dev/null)
	if ! "$b" -runs=0 "$tmp/seeds/$t" >"$tmp/$t.log" 2>&1; then
		echo "FAIL: $t does not run its seed corpus"; tail -20 "$tmp/$t.log"; fail=1
	else
		echo "ok: $t ($(ls "$tmp/seeds/$t" | wc -l) seeds)"
	fi
done
[ $fail = 0 ] && echo "PASS: OSS-Fuzz build layout"
exit $fail
