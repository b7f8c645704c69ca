#!/usr/bin/env bash
# capture-guest.sh: boot a Debian Linux arm64 guest under QEMU (TCG, GICv3 + ITS, one NVMe
# device), let it run a scenario that makes its ITS driver send commands, and keep QEMU's
# `-trace 'gicv3_its*'` log (and, by default, the raw bytes of the guest's ITS command queue
# at the end of the run) in corpus/qemu/.
#
# Downloads packages from Debian's archive; not run by CI.  See --help and corpus/qemu/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/../.." && pwd)

OUT_DIR="$REPO_ROOT/corpus/qemu"
WORK_DIR="${CAPTURE_WORK:-/tmp/capture}"
TIMEOUT=600
DO_INSTALL=1
DO_CMDQ=1
KERNEL_PKG=""
TAG=""
SCENARIOS=()

ALL_SCENARIOS="boot-nvme-smp2 affinity-smp4 hotplug-rescan wrap-64k cpu-hotplug-smp4"
MARKER="=== ITS-CAPTURE-DONE ==="

usage() {
  cat <<EOF
Usage: tools/capture/capture-guest.sh [options]

Boots a Debian arm64 Linux guest in qemu-system-aarch64 (TCG, -M virt,gic-version=3,its=on,
an NVMe disk), runs one scenario in its initramfs and writes
  OUT/NAME.qemu-its.log.gz    QEMU's -trace 'gicv3_its*' log of the run
  OUT/NAME.console.log.gz     the guest's serial console (kernel log, scenario output)
  OUT/NAME.cmdq.bin           the ITS command queue (CBASER range) from guest memory at the end
and prints a summary (command counts, queue wrap).

Options:
  --scenario NAME   scenario to run; repeatable; 'all' runs every one (default: boot-nvme-smp2)
  --out DIR         where to write the captures (default: $REPO_ROOT/corpus/qemu)
  --work DIR        scratch folder: downloads, kernel, initramfs, disk image
                    (default: \$CAPTURE_WORK or /tmp/capture)
  --timeout SECS    kill QEMU after this many seconds (default: $TIMEOUT)
  --kernel-pkg PKG  Debian arm64 kernel package (default: what linux-image-arm64:arm64 depends on)
  --tag TAG         name the captures NAME-TAG (e.g. for another kernel: --tag linux612)
  --no-install      do not apt-get anything (everything must already be there)
  --no-cmdq         do not save the command queue; the guest powers off by itself
  --list            list the scenarios and exit
  --summarize LOG   print the command counts / wrap summary of an existing log (.gz or plain)
  -h, --help        this text

Scenarios:
  boot-nvme-smp2    2 CPUs: boot, load the NVMe driver, read 1 MiB of the disk
  affinity-smp4     4 CPUs: rewrite /proc/irq/N/smp_affinity of every NVMe IRQ many times
                    (only the admin queue's IRQ is not kernel-managed: MOVI + SYNC)
  hotplug-rescan    2 CPUs: 4 rounds of PCI remove of the NVMe function + rescan
                    (DISCARD, MAPD V=0, then MAPD V=1, MAPTI, INV again)
  wrap-64k          2 CPUs: ~1400 affinity changes + 6 remove/rescan rounds, enough commands
                    to wrap the guest's 64 KiB (2048-command) queue
  cpu-hotplug-smp4  4 CPUs: take CPUs offline and online again (managed NVMe IRQs move: MOVI)

Needs root (apt-get, dpkg --add-architecture arm64).  Installs from Debian's archive:
qemu-system-arm, cpio, socat; downloads (does not install) busybox-static:arm64 and a
linux-image-*-arm64 package and extracts them under the work folder.

Examples:
  tools/capture/capture-guest.sh                          # boot-nvme-smp2 into corpus/qemu/
  tools/capture/capture-guest.sh --scenario wrap-64k --out /tmp/caps
  tools/capture/capture-guest.sh --scenario all
  tools/capture/capture-guest.sh --scenario hotplug-rescan \\
      --kernel-pkg linux-image-6.12.117+deb12-arm64 --tag linux612    # another kernel
  tools/capture/capture-guest.sh --summarize corpus/qemu/wrap-64k.qemu-its.log.gz
EOF
}

log() { echo "capture: $*" >&2; }
die() { echo "capture: error: $*" >&2; exit 1; }

# ---------------------------------------------------------------------------------------------
# Summary of a log: counts of each command QEMU decoded, and whether the queue wrapped.
summarize() {
  local f=$1 cat=cat
  case "$f" in *.gz) cat="gzip -dc" ;; esac
  $cat "$f" | awk '
    function hex(s,   i, c, v) {
      v = 0; s = tolower(s); sub(/^0x/, "", s)
      for (i = 1; i <= length(s); i++) { c = index("0123456789abcdef", substr(s, i, 1)); if (!c) break; v = v * 16 + c - 1 }
      return v
    }
    /gicv3_its_cmd_/ { n = $1; sub(/.*gicv3_its_cmd_/, "", n); cnt[toupper(n)]++ }
    /gicv3_its_process_command/ {
      total++
      o = $0; sub(/.*processing command at offset /, "", o); sub(/:.*/, "", o); v = hex(o)
      if (seen && v < prev) wraps++
      if (v > max) max = v
      prev = v; seen = 1
    }
    /gicv3_its_write .*offset 0x80 data / {
      d = $0; sub(/.*offset 0x80 data /, "", d); sub(/ .*/, "", d); if (d != "0x0") cbaser = d
    }
    END {
      printf "commands processed: %d\n", total
      split("MAPD MAPC MAPTI MAPI MOVI MOVALL INV INVALL SYNC DISCARD INT CLEAR", order, " ")
      line = ""
      for (i = 1; i in order; i++) { k = order[i]; line = line sprintf("%s=%d ", k, cnt[k] + 0); done[k] = 1 }
      for (k in cnt) if (!(k in done)) line = line sprintf("%s=%d ", k, cnt[k])
      print "by type: " line
      printf "highest queue offset (commands): %d; wrapped: %s (%d times)\n", max, (wraps ? "yes" : "no"), wraps
      if (cbaser != "") printf "CBASER: %s\n", cbaser
    }'
}

# ---------------------------------------------------------------------------------------------
need_root() { [ "$(id -u)" -eq 0 ] || die "run as root (apt-get, dpkg --add-architecture)"; }

install_deps() {
  local missing=() p
  for p in qemu-system-arm cpio socat gzip binutils xz-utils; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  local updated=0
  if ! dpkg --print-foreign-architectures | grep -qx arm64; then
    log "adding dpkg architecture arm64"
    dpkg --add-architecture arm64
    apt-get update -q; updated=1
  fi
  if [ ${#missing[@]} -gt 0 ]; then
    [ $updated = 1 ] || { apt-get update -q; updated=1; }
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
  # The arm64 packages are downloaded and extracted, never installed into the host.
  if ! apt-cache show busybox-static:arm64 >/dev/null 2>&1; then
    [ $updated = 1 ] || { apt-get update -q; updated=1; }
  fi
}

fetch_guest() {
  mkdir -p "$WORK_DIR/dl"
  if [ -z "$KERNEL_PKG" ]; then
    KERNEL_PKG=$(apt-cache depends linux-image-arm64:arm64 2>/dev/null \
                 | awk '/Depends: linux-image-[0-9]/ { sub(/:arm64$/, "", $2); print $2; exit }')
    [ -n "$KERNEL_PKG" ] || die "cannot resolve linux-image-arm64:arm64 (apt-get update? arm64 added?)"
  fi
  KERNEL_PKG=${KERNEL_PKG%:arm64}
  local pkg
  for pkg in busybox-static "$KERNEL_PKG"; do
    if ! ls "$WORK_DIR/dl/${pkg}_"*_arm64.deb >/dev/null 2>&1; then
      [ $DO_INSTALL = 1 ] || die "$pkg:arm64 not in $WORK_DIR/dl and --no-install given"
      log "downloading $pkg:arm64"
      (cd "$WORK_DIR/dl" && apt-get download "$pkg:arm64")
    fi
  done
  local kdeb bdeb
  kdeb=$(ls "$WORK_DIR/dl/${KERNEL_PKG}_"*_arm64.deb | tail -1)
  bdeb=$(ls "$WORK_DIR/dl/busybox-static_"*_arm64.deb | tail -1)
  KERNEL_DIR="$WORK_DIR/kernel-$KERNEL_PKG"
  if [ ! -d "$KERNEL_DIR/boot" ]; then
    rm -rf "$KERNEL_DIR.tmp"; dpkg-deb -x "$kdeb" "$KERNEL_DIR.tmp"; mv "$KERNEL_DIR.tmp" "$KERNEL_DIR"
  fi
  BB_DIR="$WORK_DIR/busybox-arm64"
  if [ ! -x "$BB_DIR/bin/busybox" ]; then
    rm -rf "$BB_DIR"; dpkg-deb -x "$bdeb" "$BB_DIR"
  fi
  KERNEL_DEB_VERSION=$(dpkg-deb -f "$kdeb" Version)
  BUSYBOX_DEB_VERSION=$(dpkg-deb -f "$bdeb" Version)
  VMLINUZ=$(ls "$KERNEL_DIR"/boot/vmlinuz-* | head -1)
  KCONFIG=$(ls "$KERNEL_DIR"/boot/config-* | head -1)
  KREL=${VMLINUZ##*/vmlinuz-}
  log "kernel $KERNEL_PKG $KERNEL_DEB_VERSION ($KREL), busybox-static $BUSYBOX_DEB_VERSION"
}

# NVMe is a module in Debian's arm64 kernels (CONFIG_BLK_DEV_NVME=m; 6.1 and 6.12 alike).  The
# .deb ships no modules.dep (depmod makes it on install), so the dependencies are read from each
# module's own "depends=" modinfo string.  The crypto back ends of crc-t10dif / crc64-rocksoft are
# only soft dependencies (looked up by algorithm name at load time), so they are added by name.
NVME_ROOT_MODS="nvme"
NVME_EXTRA_MODS="crct10dif_generic crc64_rocksoft_generic"

mod_path() {   # module name -> file ('-' and '_' are the same to modprobe)
  local n=${1//-/_} f b
  for f in "${MOD_FILES[@]}"; do
    b=${f##*/}; b=${b%%.ko*}
    [ "${b//-/_}" = "$n" ] && { echo "$f"; return 0; }
  done
  return 1
}
mod_cat() {
  case "$1" in
    *.ko.xz) xz -dc "$1" ;; *.ko.zst) zstd -dcq "$1" ;; *.ko.gz) gzip -dc "$1" ;; *) cat "$1" ;;
  esac
}
mod_add() {    # depth-first: dependencies first
  local n=${1//-/_} f d
  case " $MOD_SEEN " in *" $n "*) return 0 ;; esac
  MOD_SEEN="$MOD_SEEN $n"
  f=$(mod_path "$n") || { log "  module $1: no file (built in?)"; return 0; }
  for d in $(mod_cat "$f" | strings | sed -n 's/^depends=//p' | tr ',' ' '); do mod_add "$d"; done
  MOD_ORDER+=("$f")
}

nvme_modules() {   # prints the module files to load, in order
  if grep -q '^CONFIG_BLK_DEV_NVME=y' "$KCONFIG"; then
    log "CONFIG_BLK_DEV_NVME=y: no modules needed"
    return
  fi
  grep -q '^CONFIG_BLK_DEV_NVME=m' "$KCONFIG" || die "kernel has no NVMe driver"
  MOD_FILES=()
  local f
  while IFS= read -r f; do MOD_FILES+=("$f"); done < <(find "$KERNEL_DIR/lib/modules/$KREL/kernel" \
      \( -path '*/drivers/nvme/*' -o -path '*/lib/*' -o -path '*/crypto/*' -o -path '*/block/*' \) \
      -name '*.ko*')
  MOD_SEEN="" MOD_ORDER=()
  local m
  for m in $NVME_EXTRA_MODS; do mod_path "$m" >/dev/null && mod_add "$m"; done
  for m in $NVME_ROOT_MODS; do mod_add "$m"; done
  log "CONFIG_BLK_DEV_NVME=m: initramfs loads ${#MOD_ORDER[@]} modules: $(for f in "${MOD_ORDER[@]}"; do b=${f##*/}; printf '%s ' "${b%%.ko*}"; done)"
  printf '%s\n' "${MOD_ORDER[@]}"
}

# ---------------------------------------------------------------------------------------------
# Scenarios: SMP, and the shell run by the guest's /init (busybox sh).  Helpers available to
# the body: nvme_irqs, nvme_pci, read_disk MIB, rescan_round, set_aff IRQ MASK, say ...
scenario() {
  case "$1" in
    boot-nvme-smp2)
      SMP=2
      BODY='
read_disk 1
'
      ;;
    affinity-smp4)
      SMP=4
      BODY='
n=0
for round in 1 2 3 4 5 6 7 8; do
  for irq in $(nvme_irqs); do
    for mask in 2 4 8 1; do set_aff $irq $mask && n=$((n+1)); done
  done
  read_disk 1
done
say "affinity writes accepted: $n"
'
      ;;
    hotplug-rescan)
      SMP=2
      BODY='
read_disk 1
for round in 1 2 3 4; do
  rescan_round
  read_disk 1
done
'
      ;;
    wrap-64k)
      SMP=2
      BODY='
n=0
for outer in 1 2 3 4 5 6; do
  read_disk 1
  for i in $(seq 1 120); do
    for irq in $(nvme_irqs); do
      set_aff $irq 2 && n=$((n+1))
      set_aff $irq 1 && n=$((n+1))
    done
  done
  rescan_round
done
read_disk 1
say "affinity writes accepted: $n"
'
      ;;
    cpu-hotplug-smp4)
      SMP=4
      BODY='
read_disk 1
for round in 1 2 3; do
  for c in 3 2 1; do echo 0 > /sys/devices/system/cpu/cpu$c/online && say "cpu$c offline"; done
  read_disk 1
  for c in 1 2 3; do echo 1 > /sys/devices/system/cpu/cpu$c/online && say "cpu$c online"; done
  read_disk 1
done
'
      ;;
    *) die "unknown scenario '$1' (try --list)" ;;
  esac
}

write_init() {
  local dst=$1
  cat >"$dst" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "capture: $*"; }
for m in $(cat /lib/nvme/order); do
  insmod /lib/nvme/$m.ko || say "insmod $m failed"
done
wait_disk() {
  i=0
  while [ $i -lt 300 ]; do
    for d in /dev/nvme*n1; do [ -b "$d" ] && { DISK=$d; return 0; }; done
    sleep 0.1; i=$((i+1))
  done
  say "no NVMe disk appeared"; return 1
}
nvme_irqs() { awk '/nvme/ { sub(":", "", $1); print $1 }' /proc/interrupts; }
nvme_pci() {
  for p in /sys/bus/pci/devices/*; do
    [ "$(cat $p/class)" = 0x010802 ] && { echo $p; return 0; }
  done
  return 1
}
read_disk() { wait_disk && dd if=$DISK of=/dev/null bs=64k count=$(( $1 * 16 )) 2>/dev/null; say "read $1 MiB of $DISK"; }
set_aff() { echo $2 > /proc/irq/$1/smp_affinity 2>/dev/null; }
rescan_round() {
  p=$(nvme_pci) || { say "no NVMe PCI function"; return 1; }
  echo 1 > $p/remove
  say "removed $p"
  while [ -e "$DISK" ]; do sleep 0.1; done
  echo 1 > /sys/bus/pci/rescan
  wait_disk && say "rescanned: $DISK back"
}
wait_disk && say "disk $DISK; cpus online: $(cat /sys/devices/system/cpu/online)"
grep -E 'CPU|nvme|ITS' /proc/interrupts
say "scenario start"
. /scenario.sh
say "scenario end"
grep -E 'CPU|nvme|ITS' /proc/interrupts
echo "=== ITS-CAPTURE-DONE ==="
sync
grep -q its_capture_poweroff /proc/cmdline && poweroff -f
while :; do sleep 3600; done
EOF
  chmod +x "$dst"
}

build_initrd() {
  local name=$1 out=$2 st="$WORK_DIR/initrd-$1"
  rm -rf "$st"
  mkdir -p "$st"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,lib/nvme}
  cp "$BB_DIR/bin/busybox" "$st/bin/busybox"; ln -s busybox "$st/bin/sh"
  : >"$st/lib/nvme/order"
  local f b mods
  mods=$(nvme_modules)
  for f in $mods; do
    b=${f##*/}; b=${b%%.ko*}
    mod_cat "$f" >"$st/lib/nvme/$b.ko"
    echo "$b" >>"$st/lib/nvme/order"
  done
  write_init "$st/init"
  printf '%s\n' "$BODY" >"$st/scenario.sh"
  (cd "$st" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -9 >"$out"
}

monitor() { printf '%s\n' "$1" | socat -t 5 - "UNIX-CONNECT:$2" >/dev/null 2>&1 || true; }

run_scenario() {
  scenario "$1"
  local name=$1${TAG:+-$TAG}
  local rd="$WORK_DIR/run-$name"
  rm -rf "$rd"; mkdir -p "$rd"
  build_initrd "$name" "$rd/initrd.gz"
  truncate -s 64M "$rd/disk.img"
  # something other than zeros in the first MiB
  dd if=/dev/urandom of="$rd/disk.img" bs=1M count=1 conv=notrunc status=none

  local append="console=ttyAMA0 rdinit=/init panic=-1"
  [ $DO_CMDQ = 1 ] || append="$append its_capture_poweroff"
  local sock="$rd/monitor.sock"
  QEMU_ARGS=(-M virt,gic-version=3,its=on -cpu cortex-a57 -smp "$SMP" -m 512 -nographic
             -kernel "$VMLINUZ" -initrd "$rd/initrd.gz" -append "$append"
             -drive "file=$rd/disk.img,if=none,id=d0,format=raw" -device nvme,drive=d0,serial=its0
             -trace 'gicv3_its*' -D "$rd/its.log"
             -monitor "unix:$sock,server,nowait" -nic none -no-reboot)
  log "[$name] qemu-system-aarch64 ${QEMU_ARGS[*]}"
  local t0=$SECONDS
  timeout "$TIMEOUT" qemu-system-aarch64 "${QEMU_ARGS[@]}" </dev/null >"$rd/console.log" 2>"$rd/qemu.stderr" &
  local qpid=$!
  trap "kill $qpid 2>/dev/null" EXIT INT TERM
  local done=0
  while kill -0 $qpid 2>/dev/null; do
    if grep -qF "$MARKER" "$rd/console.log" 2>/dev/null; then done=1; break; fi
    sleep 2
  done
  if [ $done = 1 ] && [ $DO_CMDQ = 1 ]; then
    sleep 1
    local cbaser pa size
    cbaser=$(grep -a 'gicv3_its_write .*offset 0x80 data ' "$rd/its.log" \
             | sed 's/.*offset 0x80 data \(0x[0-9a-f]*\).*/\1/' | grep -v '^0x0$' | tail -1)
    if [ -n "$cbaser" ]; then
      pa=$(printf '0x%x' $(( cbaser & 0x000ffffffffff000 )))
      size=$(( ((cbaser & 0xff) + 1) * 4096 ))
      log "[$name] CBASER $cbaser: pmemsave $pa $size"
      monitor "pmemsave $pa $size \"$rd/cmdq.bin\"" "$sock"
      sleep 1
    else
      log "[$name] no CBASER write in the log; no command queue saved"
    fi
    monitor quit "$sock"
  fi
  wait $qpid || true
  trap - EXIT INT TERM
  local secs=$((SECONDS - t0))
  grep -qF "$MARKER" "$rd/console.log" || { tail -n 30 "$rd/console.log" "$rd/qemu.stderr" >&2; die "[$name] guest did not finish in ${TIMEOUT}s (see $rd)"; }
  log "[$name] guest done in ${secs}s"

  mkdir -p "$OUT_DIR"
  gzip -9 -c "$rd/its.log" >"$OUT_DIR/$name.qemu-its.log.gz"
  gzip -9 -c "$rd/console.log" >"$OUT_DIR/$name.console.log.gz"
  [ -s "$rd/cmdq.bin" ] && cp "$rd/cmdq.bin" "$OUT_DIR/$name.cmdq.bin"
  {
    echo "scenario: $name"
    echo "qemu: $(qemu-system-aarch64 --version | head -1)"
    echo "kernel: $KERNEL_PKG $KERNEL_DEB_VERSION"
    echo "busybox-static: $BUSYBOX_DEB_VERSION"
    echo "cpus: $SMP; wall time: ${secs}s"
    echo "command line: qemu-system-aarch64 ${QEMU_ARGS[*]}"
    summarize "$rd/its.log"
    echo "log: $(stat -c %s "$rd/its.log") bytes, gz $(stat -c %s "$OUT_DIR/$name.qemu-its.log.gz") bytes"
  } | tee "$rd/summary.txt"
}

# ---------------------------------------------------------------------------------------------
while [ $# -gt 0 ]; do
  case "$1" in
    --scenario) [ $# -ge 2 ] || die "--scenario needs a name"
                if [ "$2" = all ]; then SCENARIOS+=($ALL_SCENARIOS); else SCENARIOS+=("$2"); fi; shift 2 ;;
    --out) OUT_DIR=$2; shift 2 ;;
    --work) WORK_DIR=$2; shift 2 ;;
    --timeout) TIMEOUT=$2; shift 2 ;;
    --kernel-pkg) KERNEL_PKG=$2; shift 2 ;;
    --tag) TAG=$2; shift 2 ;;
    --no-install) DO_INSTALL=0; shift ;;
    --no-cmdq) DO_CMDQ=0; shift ;;
    --list) for s in $ALL_SCENARIOS; do echo "$s"; done; exit 0 ;;
    --summarize) [ $# -ge 2 ] || die "--summarize needs a file"; summarize "$2"; exit 0 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
done
[ ${#SCENARIOS[@]} -gt 0 ] || SCENARIOS=(boot-nvme-smp2)
for s in "${SCENARIOS[@]}"; do scenario "$s"; done   # validate names before any work

mkdir -p "$WORK_DIR"
OUT_DIR=$(mkdir -p "$OUT_DIR" && cd "$OUT_DIR" && pwd)
if [ $DO_INSTALL = 1 ]; then need_root; install_deps; fi
for c in qemu-system-aarch64 cpio socat gzip timeout dpkg-deb strings xz; do
  command -v $c >/dev/null || die "$c not found (drop --no-install?)"
done
fetch_guest
for s in "${SCENARIOS[@]}"; do run_scenario "$s"; done
