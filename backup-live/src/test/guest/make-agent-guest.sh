#!/usr/bin/env bash
# make-agent-guest.sh: a tiny Linux guest that runs qemu-guest-agent, for the live tests of
# `--quiesce` (AgentGuest). Built from Debian packages, without installing them.
#
# Usage: make-agent-guest.sh CACHE_ROOT
#
# Prints the guest's folder (CACHE_ROOT/guest-KEY) on its last line of stdout. KEY is a hash of this
# script and of the versions of the packages apt offers, so the guest is built once per set of
# versions; a build writes into a temporary folder renamed when complete (a killed build leaves
# nothing that looks done), and builds are serialized by a lock on CACHE_ROOT/.lock.
#
# The guest folder holds:
#   vmlinuz            the Debian cloud kernel (package linux-image-cloud-amd64's kernel)
#   initrd.cpio.gz     busybox (busybox-static) as /init, the virtio modules the kernel has as modules
#                      (virtio_pci, virtio_blk, virtio_console and what they depend on), qemu-ga
#                      (qemu-guest-agent) with the shared libraries ldd lists
#   data.qcow2         a 32 MiB qcow2 disk holding an empty ext4 file system (label tmdata), which the
#                      guest mounts on /mnt: the file system a freeze freezes
#   VERSIONS.txt       the packages and versions used
#
# What the guest does (the /init below): mounts proc, sys and devtmpfs; loads the modules; mounts
# /dev/vda (ext4, journal commit every 600 s, periodic writeback off, so what it writes stays in the
# page cache until a sync or a freeze); writes /mnt/marker WITHOUT syncing; prints
# "tidemark-guest: agent starting"; runs qemu-ga -v on the virtio-serial port org.qemu.guest_agent.0
# with its log on the serial console (ttyS0). qemu-ga's fsfreeze hook (/etc/fsfreeze-hook) prints
# "tidemark-guest: fsfreeze-hook freeze" (or thaw) on the console each time qemu-ga runs it (qemu-ga
# stops its own log while the file systems are frozen), and sleeps
# the seconds written in /run/slow-freeze, when that file exists, before a freeze (a test writes it
# through the agent itself to make a freeze slower than the caller's timeout).
#
# Needs apt-get, apt-cache, dpkg-deb, ldd, gzip, sha256sum, flock, mkfs.ext4 (e2fsprogs), qemu-img
# (qemu-utils); downloads about 28 MB (apt-get update first when apt knows none of the packages).
set -euo pipefail

if [[ $# -ne 1 || -z $1 ]]; then
  echo "usage: make-agent-guest.sh CACHE_ROOT" >&2
  exit 2
fi
root=$1
for tool in apt-get apt-cache dpkg-deb ldd gzip sha256sum flock mkfs.ext4 qemu-img; do
  if ! command -v "$tool" >/dev/null; then
    echo "make-agent-guest: missing tool '$tool' (Debian: apt-get install -y e2fsprogs qemu-utils util-linux)" >&2
    exit 1
  fi
done
mkdir -p "$root"
root=$(cd "$root" && pwd)
exec 9>"$root/.lock"
flock 9

# the kernel package the metapackage names (linux-image-6.1.0-N-cloud-amd64 on Debian 12)
kernel_package() { apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}'; }
kernel_pkg=$(kernel_package)
if [[ -z $kernel_pkg ]]; then
  echo "make-agent-guest: apt knows no linux-image-cloud-amd64: apt-get update" >&2
  if [[ $(id -u) -ne 0 ]]; then sudo=sudo; else sudo=; fi
  $sudo apt-get update -qq >&2
  kernel_pkg=$(kernel_package)
fi
if [[ -z $kernel_pkg ]]; then
  echo "make-agent-guest: apt offers no linux-image-cloud-amd64 (a Debian amd64 package source is needed)" >&2
  exit 1
fi
packages=("$kernel_pkg" busybox-static qemu-guest-agent)
# "PACKAGE VERSION" per package, the candidates apt would download (one apt-cache call: it is slow)
versions=$(apt-cache policy "${packages[@]}" | awk '/^[^ ].*:$/ {p = substr($0, 1, length($0) - 1)} /Candidate:/ {print p, $2}')
for p in "${packages[@]}"; do
  if ! grep -q "^$p [^(]" <<<"$versions"; then
    echo "make-agent-guest: apt offers no version of $p" >&2
    exit 1
  fi
done
versions+=$'\n'
key=$( { cat "${BASH_SOURCE[0]}"; printf '%s' "$versions"; } | sha256sum | cut -c1-16)
out=$root/guest-$key
if [[ -f $out/VERSIONS.txt ]]; then
  echo "$out"
  exit 0
fi

t0=$SECONDS
rm -rf "$root"/building-* # left by a killed build (we hold the lock)
work=$(mktemp -d "$root/building-XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download -q "${packages[@]}" >&2) 2> >(grep -v "couldn't be accessed by user '_apt'" >&2)
x=$work/x
mkdir -p "$x"
for deb in "$work"/*.deb; do
  dpkg-deb -x "$deb" "$x"
done

kver=$(ls "$x/lib/modules")
[[ -f $x/boot/vmlinuz-$kver ]] || { echo "make-agent-guest: no vmlinuz-$kver in $kernel_pkg" >&2; exit 1; }
guest=$work/guest
mkdir -p "$guest"
cp "$x/boot/vmlinuz-$kver" "$guest/vmlinuz"

# the initramfs tree
r=$work/rootfs
mkdir -p "$r"/{bin,dev,proc,sys,mnt,run,tmp,etc,lib/modules}
cp "$x/bin/busybox" "$r/bin/busybox"
cp "$x/usr/sbin/qemu-ga" "$r/bin/qemu-ga"

# modules: the wanted ones and, recursively, what their modinfo "depends=" names; loaded in that
# order (dependencies first). Compressed modules (.ko.xz, .ko.zst on newer kernels) are unpacked.
declare -A path_of=()
while IFS= read -r f; do
  n=$(basename "$f"); n=${n%%.ko*}
  path_of[$n]=$f
done < <(find "$x/lib/modules/$kver/kernel" -name '*.ko*')
order=()
declare -A seen=()
add_module() {
  local m=$1 dep
  [[ -n ${seen[$m]:-} ]] && return
  seen[$m]=1
  if [[ -z ${path_of[$m]:-} ]]; then
    # built into the kernel: nothing to load
    grep -q "/$m.ko" "$x/lib/modules/$kver/modules.builtin" && return
    echo "make-agent-guest: module $m is neither in $kernel_pkg nor built in" >&2
    exit 1
  fi
  local f=${path_of[$m]} plain=$work/mod-$m.ko
  case $f in
    *.ko) cp "$f" "$plain" ;;
    *.ko.xz) xz -dc "$f" >"$plain" ;;
    *.ko.zst) zstd -qdc "$f" >"$plain" ;;
    *.ko.gz) gzip -dc "$f" >"$plain" ;;
  esac
  for dep in $(grep -a -o 'depends=[a-z0-9_,-]*' "$plain" | head -1 | cut -d= -f2 | tr ',' ' '); do
    add_module "${dep//-/_}"
  done
  cp "$plain" "$r/lib/modules/$m.ko"
  order+=("$m")
}
for m in virtio_pci virtio_blk virtio_console; do
  add_module "$m"
done

# qemu-ga's shared libraries, as ldd resolves them on this host (the same Debian release as the package)
while read -r lib; do
  mkdir -p "$r$(dirname "$lib")"
  cp -L "$lib" "$r$lib"
done < <(ldd "$r/bin/qemu-ga" | awk '/=> \// {print $3} $1 ~ /^\/.*ld-linux/ {print $1}')
if ldd "$r/bin/qemu-ga" | grep -q "not found"; then
  echo "make-agent-guest: qemu-ga needs libraries this host lacks: $(ldd "$r/bin/qemu-ga" | grep 'not found')" >&2
  exit 1
fi

cat >"$r/etc/fsfreeze-hook" <<'EOF'
#!/bin/busybox sh
# qemu-ga runs this with "freeze" before freezing and "thaw" after thawing
echo "tidemark-guest: fsfreeze-hook $1" >/dev/ttyS0
if [ "$1" = freeze ] && [ -f /run/slow-freeze ]; then
  echo "tidemark-guest: fsfreeze hook sleeps $(cat /run/slow-freeze) s" >/dev/ttyS0
  sleep "$(cat /run/slow-freeze)"
fi
exit 0
EOF
cat >"$r/init" <<EOF
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
exec >/dev/ttyS0 2>&1
for m in ${order[*]}; do
  insmod /lib/modules/\$m.ko || echo "tidemark-guest: insmod \$m failed"
done
for i in \$(seq 100); do [ -b /dev/vda ] && break; sleep 0.05; done
# what the guest writes stays in the page cache until a sync or a freeze
echo 0 >/proc/sys/vm/dirty_writeback_centisecs
echo 360000 >/proc/sys/vm/dirty_expire_centisecs
if mount -t ext4 -o commit=600 /dev/vda /mnt; then
  echo "tidemark-unsynced-marker" >/mnt/marker
  echo "tidemark-guest: /dev/vda mounted on /mnt, marker written"
else
  echo "tidemark-guest: mounting /dev/vda failed"
fi
port=""
for i in \$(seq 200); do
  for p in /sys/class/virtio-ports/*; do
    [ "\$(cat \$p/name 2>/dev/null)" = org.qemu.guest_agent.0 ] && port=/dev/\$(basename \$p)
  done
  [ -n "\$port" ] && [ -c "\$port" ] && break
  sleep 0.05
done
echo "tidemark-guest: agent starting on \$port"
exec /bin/qemu-ga -v -m virtio-serial -p "\$port" -f /run/qemu-ga.pid -t /run --fsfreeze-hook=/etc/fsfreeze-hook </dev/null >/dev/ttyS0 2>&1
EOF
chmod 755 "$r/init" "$r/etc/fsfreeze-hook"
(cd "$r" && find . -mindepth 1 | "$r/bin/busybox" cpio -o -H newc 2>/dev/null) | gzip -6 >"$guest/initrd.cpio.gz"

# the data disk: an ext4 file system with its inode tables and journal written now (no lazy init
# in the guest, which would write to the disk at any time)
truncate -s 32M "$work/data.raw"
mkfs.ext4 -q -F -L tmdata -E lazy_itable_init=0,lazy_journal_init=0 "$work/data.raw"
qemu-img convert -f raw -O qcow2 "$work/data.raw" "$guest/data.qcow2"

{ printf '%s' "$versions"; echo "kernel $kver"; echo "modules ${order[*]}"; } >"$guest/VERSIONS.txt"
mv "$guest" "$out"
for old in "$root"/guest-*; do
  [[ $old == "$out" ]] || rm -rf "$old" # built for other package versions
done
echo "make-agent-guest: guest built in $((SECONDS - t0)) s: $out ($(du -sh "$out" | cut -f1))" >&2
echo "$out"
