#!/usr/bin/env bash
# Live bench: Tidemark's backups of a running domain against virtnbdbackup (the Debian package) and a
# bare libnbd copy of libvirt's own export, on identical domains in one run.
#
# Usage: benchmarks/live-bench.sh [--runs N] [--work DIR] [--write-docs]
#
#   --runs N      incremental rounds (default 5); each round rewrites the same amount in every domain
#                 and then times each tool's incremental, interleaved
#   --work DIR    images, repositories and results (default /var/tmp/tidemark-live-bench; needs about
#                 5 x DATA free); images are deleted at the end, results kept
#   --write-docs  put the summary table into docs/performance.md (between the live-bench markers)
#   SIZE / DATA / REWRITE  environment: virtual size, random data, bytes rewritten per round
#                 (default 8G, 2G and 512M, as issue 18 states the goal; SIZE=1G DATA=256M
#                 REWRITE=64M for a quick check of the script itself)
#
# Three domains boot (no OS, 64 MiB, KVM when /dev/kvm is usable) from copies of one qcow2 image of
# SIZE with DATA of random bytes in 1 MiB extents at seeded places; a libvirtd of their own runs in a
# private mount namespace (backup-live's test sandbox script). Domain A is backed up by Tidemark
# (`tidemark backup --domain`), domain B by `virtnbdbackup` (it refuses checkpoints it did not make,
# so the two cannot share a domain), domain C by hand: `virsh backup-begin` of an incremental job,
# the dirty extents of its export copied with libnbd (python3-libnbd: block status + pread) into a
# file, fsync, `virsh domjobabort` — the floor a tool built on libvirt's export can reach. Guest
# writes of random bytes (qemu-io inside QEMU, from a payload file) rewrite REWRITE in each domain
# before each round. Every writer's output is made durable (Tidemark forces its own; the others
# are followed by sync). Medians are reported, with ratios measured in the same run, and the CPU
# time (user + sys) of each tool and of its domain's QEMU, with the load average: on a shared machine
# the CPU times vary less than the wall times. min(N, 5) full backups of each tool come first.
#
# Needs root, the packages of test.sh plus virtnbdbackup and python3-libnbd, and the CLI built
# (mvn -B -q -DskipTests package).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=5 work=/var/tmp/tidemark-live-bench write_docs=false
while (($#)); do
  case $1 in
    --runs) runs=$2; shift ;;
    --work) work=$2; shift ;;
    --write-docs) write_docs=true ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "live-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
SIZE=${SIZE:-8G} DATA=${DATA:-2G} REWRITE=${REWRITE:-512M}
py=/usr/bin/python3
for t in virsh libvirtd qemu-img qemu-system-x86_64 virtnbdbackup unshare java; do
  command -v "$t" >/dev/null || { echo "live-bench: $t is missing (test.sh installs libvirt; apt-get install -y virtnbdbackup python3-libnbd)" >&2; exit 2; }
done
$py -c 'import nbd' 2>/dev/null || { echo "live-bench: python3-libnbd is missing" >&2; exit 2; }
[[ -f "$root/backup-cli/target/tidemark.jar" ]] || { echo "live-bench: build the CLI first: mvn -B -q -DskipTests package" >&2; exit 2; }
[[ $(id -u) -eq 0 ]] || { echo "live-bench: needs root (it runs a libvirtd and QEMU)" >&2; exit 2; }

bytes() { numfmt --from=iec "$1"; }
size_b=$(bytes "$SIZE") data_b=$(bytes "$DATA") rewrite_b=$(bytes "$REWRITE")
mkdir -p "$work"; work=$(cd "$work" && pwd)
res="$work/results"; mkdir -p "$res"
lvd="$work/lvd" img="$work/img"
uri="qemu:///system?socket=$lvd/run/libvirt-sock"
v() { virsh -q -c "$uri" "$@"; }
cleanup() {
  for d in tma tmb tmc; do v destroy $d >/dev/null 2>&1 || true; v undefine $d --checkpoints-metadata >/dev/null 2>&1 || true; done
  [[ -f "$lvd/run/libvirtd.pid" ]] && kill "$(cat "$lvd/run/libvirtd.pid")" 2>/dev/null || true
  rm -rf "$img" "$work"/repo "$work"/vnb "$work"/bare "$work"/w "$res"/times "$res"/cpu "$res"/cpu.one
}
trap cleanup EXIT
cleanup
mkdir -p "$img" "$lvd/etc" "$work/w" "$work/vnb" "$work/bare"

# ---- a libvirtd of our own (config, sockets, state under $lvd; the host's libvirt untouched)
printf 'user = "root"\ngroup = "root"\nstdio_handler = "file"\ncgroup_controllers = [ ]\nsecurity_driver = "none"\nnamespaces = [ ]\ndynamic_ownership = 0\nremember_owner = 0\n' >"$lvd/etc/qemu.conf"
printf 'unix_sock_group = "root"\nunix_sock_rw_perms = "0770"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\nlog_outputs = "3:file:%s/libvirtd.log"\n' "$lvd" >"$lvd/etc/libvirtd.conf"
id libvirt-qemu >/dev/null 2>&1 || useradd --system --user-group --no-create-home --shell /usr/sbin/nologin libvirt-qemu
for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do mkdir -p $d; done
unshare --mount --propagation private sh "$root/backup-live/src/test/resources/org/tidemark/libvirt/libvirtd-sandbox.sh" "$lvd" \
  >"$lvd/daemon.out" 2>&1 &
for _ in $(seq 1 300); do [[ -S "$lvd/run/libvirt-sock" ]] && break; sleep 0.1; done
v version >/dev/null

echo "live-bench: building the image ($SIZE virtual, $DATA of random data) in $work"
$py - "$size_b" "$data_b" "$img/src.raw" <<'PY'
import os, random, sys
size, data, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
mib = 1 << 20
r = random.Random(20261205)
places = r.sample(range(size // mib), data // mib)
with open(path, "wb") as f:
    f.truncate(size)
    for p in places:
        f.seek(p * mib)
        f.write(os.urandom(mib))
PY
qemu-img convert -f raw -O qcow2 -o cluster_size=65536 "$img/src.raw" "$img/tma.qcow2"
rm -f "$img/src.raw"
cp --sparse=always "$img/tma.qcow2" "$img/tmb.qcow2"
cp --sparse=always "$img/tma.qcow2" "$img/tmc.qcow2"
chunk=$((64 << 20))
head -c $chunk /dev/urandom >"$img/payload"
kvm=qemu; [[ -w /dev/kvm ]] && kvm=kvm
for d in tma tmb tmc; do
  cat >"$img/$d.xml" <<XML
<domain type='$kvm'><name>$d</name><memory unit='MiB'>64</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='$img/$d.qcow2'/><target dev='vda' bus='virtio'/></disk>
<serial type='pty'/><memballoon model='none'/></devices></domain>
XML
  v define "$img/$d.xml" >/dev/null; v start $d >/dev/null
done

# guest writes of random bytes: REWRITE in 64 MiB pieces at seeded places of the data area
rewrite() {  # $1 domain, $2 round
  local off
  for off in $($py -c "import random,sys; r=random.Random(int(sys.argv[1])); n=int(sys.argv[2]); s=int(sys.argv[3]); print(' '.join(str(r.randrange(s // (64<<20)) * (64<<20)) for _ in range(n)))" \
      "$2" $((rewrite_b / chunk)) "$size_b"); do
    local reply
    reply=$(v qemu-monitor-command "$1" --hmp "qemu-io -d /machine/peripheral/virtio-disk0/virtio-backend \"write -s $img/payload $off $chunk\"")
    [[ -z "${reply//[[:space:]]/}" ]] || { echo "live-bench: guest write failed: $reply" >&2; exit 1; }
  done
}
now() { date +%s.%N; }
took() { $py -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
# CPU time (user + sys, seconds) of each timed tool and of the domain's QEMU during it, into $res/cpu
qemu_ticks() { awk '{print $14 + $15}' "/proc/$(cat "$lvd/run/qemu/$1.pid")/stat"; }
cpu() {  # $1 key, $2 domain, then the command
  local key=$1 dom=$2 q0 q1; shift 2
  q0=$(qemu_ticks "$dom")
  /usr/bin/time -f '%U %S' -o "$res/cpu.one" "$@"
  q1=$(qemu_ticks "$dom")
  echo "$key $(awk '{print $1 + $2}' "$res/cpu.one") $(((q1 - q0)))" >>"$res/cpu"
}
tm() { cpu "tidemark-$1" tma "$root/tidemark" backup --repo "$work/repo" --domain tma --connect "$uri" --work-dir "$work/w" -q "${@:2}"; }
vnb() { cpu "virtnbdbackup-$1" tmb virtnbdbackup -U "$uri" -d tmb -l "$1" -o "$work/vnb/out" -S "$work/vnb" >>"$res/virtnbdbackup.log" 2>&1; sync; }
# the floor: an incremental job on domain C, the dirty extents copied with libnbd, fsync, end the job
bare() {  # $1 base checkpoint, $2 new checkpoint
  cat >"$work/bare/job.xml" <<XML
<domainbackup mode='pull'><incremental>$1</incremental><server transport='unix' socket='$work/bare/nbd.sock'/>
<disks><disk name='vda' backup='yes' type='file'><scratch file='$work/bare/scratch.qcow2'/></disk></disks></domainbackup>
XML
  printf '<domaincheckpoint><name>%s</name></domaincheckpoint>\n' "$2" >"$work/bare/cp.xml"
  v backup-begin tmc "$work/bare/job.xml" "$work/bare/cp.xml" >/dev/null
  $py - "$work/bare/nbd.sock" "$work/bare/out.bin" <<'PY'
import nbd, os, sys
h = nbd.NBD()
h.add_meta_context("qemu:dirty-bitmap:backup-vda")
h.set_export_name("vda")
h.connect_unix(sys.argv[1])
size, dirty, off = h.get_size(), [], 0
def cb(ctx, o, entries, err):
    global off
    for i in range(0, len(entries), 2):
        if entries[i + 1] & 1:
            dirty.append((off, entries[i]))
        off += entries[i]
while off < size:
    h.block_status(min(size - off, 1 << 30), off, cb)
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
for o, n in dirty:
    while n:
        k = min(n, 32 << 20)
        os.pwrite(fd, h.pread(k, o), o)
        o += k; n -= k
os.fsync(fd); os.close(fd)
PY
  v domjobabort tmc >/dev/null
  rm -f "$work/bare/scratch.qcow2" "$work/bare/out.bin"
}

# every point Tidemark saves restores equal to the disk at that point (untimed): QEMU flushes the
# disk (no guest writes come until the next round), the newest point is restored and compared
checked() {
  local reply
  reply=$(v qemu-monitor-command tma --hmp 'qemu-io -d /machine/peripheral/virtio-disk0/virtio-backend "flush"')
  [[ -z "${reply//[[:space:]]/}" ]] || { echo "live-bench: flush failed: $reply" >&2; exit 1; }
  rm -rf "$work/w/restore"
  "$root/tidemark" restore --repo "$work/repo" --domain tma --to "$work/w/restore" -q
  qemu-img compare -q -U -f raw -F qcow2 "$work/w/restore/vda.raw" "$img/tma.qcow2" \
    || { echo "live-bench: the point just saved does not restore equal to the disk" >&2; exit 1; }
  rm -rf "$work/w/restore"
  points=$((points + 1))
}
points=0
fulls=$((runs < 5 ? runs : 5))
for i in $(seq 1 "$fulls"); do
  echo "live-bench: full backups, $i of $fulls"
  t0=$(now); tm full --full; t1=$(now); echo "tidemark-full $(took $t0 $t1)" >>"$res/times"
  checked
  rm -rf "$work/vnb/out"
  t0=$(now); vnb full; t1=$(now); echo "virtnbdbackup-full $(took $t0 $t1)" >>"$res/times"
done
v checkpoint-create-as tmc b0 >/dev/null
for i in $(seq 1 "$runs"); do
  echo "live-bench: round $i of $runs (rewrite $REWRITE in each domain, then each incremental)"
  for d in tma tmb tmc; do rewrite $d "$i"; done
  t0=$(now); tm inc; t1=$(now); echo "tidemark-inc $(took $t0 $t1)" >>"$res/times"
  checked
  t0=$(now); vnb inc; t1=$(now); echo "virtnbdbackup-inc $(took $t0 $t1)" >>"$res/times"
  t0=$(now); bare "b$((i - 1))" "b$i"; t1=$(now); echo "libnbd-dirty-copy $(took $t0 $t1)" >>"$res/times"
done
# and the last point once more with QEMU stopped (the image closed cleanly): the bench measured real backups
v destroy tma >/dev/null
"$root/tidemark" restore --repo "$work/repo" --domain tma --to "$work/w/restore" -q
qemu-img compare -q -f raw -F qcow2 "$work/w/restore/vda.raw" "$img/tma.qcow2"
echo "live-bench: $points points of Tidemark restored equal to the disk (qemu-img compare)"

$py - "$res/times" "$SIZE" "$DATA" "$REWRITE" "$runs" "$res/cpu" "$(getconf CLK_TCK)" >"$res/summary.md" <<'PY'
import statistics, sys, collections, subprocess, os
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, v = line.split(); t[k].append(float(v))
m = {k: statistics.median(v) for k, v in t.items()}
def row(name, key, ref=None, refname=""):
    r = f" | {m[key] / m[ref]:.2f}x {refname} |" if ref else " | |"
    return f"| {name} | {m[key]:.2f} s ({len(t[key])} runs){r}"
ver = subprocess.run(["virtnbdbackup", "-V"], capture_output=True, text=True)
print(f"Live bench ({sys.argv[2]} virtual, {sys.argv[3]} random data, {sys.argv[4]} rewritten per round, "
      f"{sys.argv[5]} rounds; virtnbdbackup {(ver.stdout or ver.stderr).strip()}), medians:\n")
print("| job | time | ratio |\n| --- | --- | --- |")
print(row("Tidemark live full", "tidemark-full", "virtnbdbackup-full", "virtnbdbackup -l full"))
print(row("virtnbdbackup -l full", "virtnbdbackup-full"))
print(row("Tidemark live incremental", "tidemark-inc", "virtnbdbackup-inc", "virtnbdbackup -l inc"))
print(row("Tidemark live incremental", "tidemark-inc", "libnbd-dirty-copy", "bare libnbd copy"))
print(row("virtnbdbackup -l inc", "virtnbdbackup-inc"))
print(row("bare libnbd copy of the dirty extents (job start included)", "libnbd-dirty-copy"))
c, q = collections.defaultdict(list), collections.defaultdict(list)
for line in open(sys.argv[6]):
    k, user_sys, ticks = line.split(); c[k].append(float(user_sys)); q[k].append(int(ticks) / int(sys.argv[7]))
print("\nCPU time, medians (user + sys of the tool's processes; the domain's QEMU during the same run):\n")
print("| job | tool CPU | QEMU CPU |\n| --- | --- | --- |")
for k in ("tidemark-full", "virtnbdbackup-full", "tidemark-inc", "virtnbdbackup-inc"):
    print(f"| {k} | {statistics.median(c[k]):.2f} s | {statistics.median(q[k]):.2f} s |")
print(f"\nEvery point Tidemark saved ({len(t['tidemark-full']) + len(t['tidemark-inc'])}) restored equal to the disk at that point (qemu-img compare).")
print(f"\nLoad average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores).")
PY
cat "$res/summary.md"
if $write_docs; then
  doc="$root/docs/performance.md"
  $py - "$doc" "$res/summary.md" <<'PY'
import sys
doc, summary = sys.argv[1], open(sys.argv[2]).read()
s = open(doc).read()
start, end = "<!-- live-bench:start -->", "<!-- live-bench:end -->"
block = f"{start}\n{summary}\n{end}"
s = s[:s.index(start)] + block + s[s.index(end) + len(end):] if start in s else s.rstrip() + "\n\n## Live backups\n\n" + block + "\n"
open(doc, "w").write(s)
PY
fi
