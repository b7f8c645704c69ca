#!/bin/sh
# fuzz-options.sh TARGET: print the libFuzzer flags of fuzz/TARGET.options (the
# [libfuzzer] section OSS-Fuzz reads), e.g. "-max_len=512 -timeout=10 -dict=...", so
# that campaigns (tools/fuzz-campaign.sh) and the bug zoo (fuzz/zoo/run-zoo.sh) fuzz
# with the same settings as OSS-Fuzz.  Nothing is printed for a target without one.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
f=$ROOT/fuzz/$1.options
[ -f "$f" ] || exit 0
for kv in $(sed -n 's/^\([a-z_]*\) *= *\([^ ]*\)$/\1=\2/p' "$f"); do
	case $kv in
	dict=*) printf ' -dict=%s' "$ROOT/fuzz/dict/${kv#dict=}" ;;
	*) printf ' -%s' "$kv" ;;
	esac
done
echo
