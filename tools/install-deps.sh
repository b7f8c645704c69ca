#!/usr/bin/env bash
# Install the Debian packages the toolkit needs to build and test.  Idempotent: only
# what is missing is installed.  Run as root (CI and the README run it as root).
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  gcc-aarch64-linux-gnu          # the freestanding cross-build check of vits/
  libcjson-dev                   # its-trace --json output
  zlib1g-dev                     # reading gzip-compressed QEMU logs
  clang-19 libclang-rt-19-dev    # libFuzzer targets with ASan+UBSan (fuzz/)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
