#!/usr/bin/env bash
# Cross-build the engine for aarch64 as a hypervisor would (-ffreestanding -nostdlib)
# and fail if its objects need any symbol from outside the engine other than the four
# memory primitives, or define writable global data (DESIGN.md principle 2).
#
# Usage: check-freestanding.sh SOURCE_DIR [CC]
#   SOURCE_DIR  the project root;  CC defaults to aarch64-linux-gnu-gcc
set -euo pipefail
src=${1:?usage: check-freestanding.sh SOURCE_DIR [CC]}
cc=${2:-aarch64-linux-gnu-gcc}
prefix=${cc%gcc}
nm=${prefix}nm
ld=${prefix}ld

command -v "$cc" >/dev/null || { echo "FAIL: $cc not found (tools/install-deps.sh installs it)"; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Freestanding parts: the engine and, when present, the in-engine trace recorder.
sources=("$src"/vits/src/*.c)
[ -d "$src/trace/freestanding" ] && sources+=("$src"/trace/freestanding/*.c)

flags=(-std=c11 -O2 -ffreestanding -nostdlib -fno-pic -fno-common -mgeneral-regs-only
       -mno-outline-atomics -fno-stack-protector -Wall -Wextra -Werror -Wno-unused-parameter
       -I"$src/vits/include" -I"$src/vits/include/vits")
[ -d "$src/trace/freestanding" ] && flags+=(-I"$src/trace/freestanding")

objs=()
for f in "${sources[@]}"; do
  o="$work/$(basename "${f%.c}").o"
  "$cc" "${flags[@]}" -c "$f" -o "$o"
  objs+=("$o")
done
# One relocatable object: what a hypervisor links in.
"$ld" -r -o "$work/engine.o" "${objs[@]}"

status=0
allowed='^(memcpy|memset|memmove|memcmp)$'
undefined=$("$nm" -u "$work/engine.o" | awk '{print $2}' | sort -u)
bad=$(printf '%s\n' "$undefined" | grep -Ev "$allowed" | grep -v '^$' || true)
if [ -n "$bad" ]; then
  echo "FAIL: the engine refers to symbols outside vits/:"; printf '  %s\n' $bad; status=1
fi
# Writable global data: .data/.bss symbols (D, d, B, b) and non-empty writable sections.
writable=$("$nm" "$work/engine.o" | awk '$2 ~ /^[DdBbGgSs]$/ {print $3}')
if [ -n "$writable" ]; then
  echo "FAIL: writable global data:"; printf '  %s\n' $writable; status=1
fi
sections=$("${prefix}objdump" -h "$work/engine.o" | awk '$2 ~ /^\.(data|bss)/ && $3 !~ /^0+$/ {print $2" "$3}')
if [ -n "$sections" ]; then
  echo "FAIL: non-empty writable sections:"; echo "$sections"; status=1
fi
if [ $status -eq 0 ]; then
  echo "PASS: ${#objs[@]} objects cross-built for aarch64 freestanding; undefined symbols: $(echo $undefined)"
  echo "1 passed, 0 failed"
else
  echo "0 passed, 1 failed"
fi
exit $status
