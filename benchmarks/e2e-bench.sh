#!/usr/bin/env bash
# End-to-end bench: Tidemark's backup, restore and verify against the machine's read limit and
# QEMU's own tools, timed with hyperfine in one run, warm and cold page cache.
#
# Usage: benchmarks/e2e-bench.sh [--large] [--runs N] [--work DIR] [--write-docs]
#
#   --large       also build a 1 TiB (sparse) image with the same data and the same dirty set, and
#                 time the incremental and the full backup on it (cost must follow the dirty bytes)
#   --runs N      hyperfine runs per job and cache state (default 5, plus one warm-up when warm)
#   --work DIR    where the images, repositories and results go (default /var/tmp/tidemark-bench;
#                 needs about 4 x the data size free); images are deleted at the end, results kept
#   --write-docs  put the summary table into docs/performance.md (between the e2e markers)
#   --prepare-only  build the images, checkpoints and repositories, check them, and stop without
#                 timing anything; everything is kept in DIR (for profiling a single job by hand)
#   SIZE / DATA   environment: virtual size and amount of data (default 4G and 1G; e.g. SIZE=512M
#                 DATA=128M for a quick check of the script itself)
#
# The source image: SIZE virtual, 64 KiB clusters, DATA of random bytes in random cluster-aligned
# extents (placement from a fixed seed, content from /dev/urandom: incompressible, the worst case for
# the codec). Then checkpoint cp1 (bitmap cp1), about 10 % of the data rewritten, checkpoint cp2,
# another 10 % rewritten, checkpoint cp3. The checkpoint XML comes from libvirt's test driver.
#
# Jobs (every writer made durable: the timed command ends with sync, and Tidemark fsyncs its output
# itself as well):
#   tidemark full backup at cp1, incremental at cp3 (changed since cp2: bitmap cp2), restore of the
#   chain full + 2 incrementals to raw and to qcow2, verify of the chain;
#   cat of the image (read limit), qemu-img convert -O raw and -O qcow2, nbdcopy from qemu-nbd,
#   the dirty extents of bitmap cp2 copied through qemu-nbd -B + libnbd (block status, pread,
#   pwrite: how the open-source NBD-based backup tools read them), nbdinfo --map of the bitmap.
#
# Needs root (to drop the page cache), qemu-utils, libnbd-bin, python3-libnbd, libvirt-clients,
# hyperfine, and the CLI built (mvn -B -q -DskipTests package).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
large=false runs=5 work=/var/tmp/tidemark-bench write_docs=false prepare_only=false
while (($#)); do
  case $1 in
    --large) large=true ;;
    --runs) runs=$2; shift ;;
    --work) work=$2; shift ;;
    --write-docs) write_docs=true ;;
    --prepare-only) prepare_only=true ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "e2e-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
SIZE=${SIZE:-4G}
DATA=${DATA:-1G}
py=/usr/bin/python3   # Debian's python: the one with the libnbd module
for t in qemu-img qemu-io qemu-nbd nbdinfo nbdcopy virsh hyperfine java; do
  command -v "$t" >/dev/null || {
    echo "e2e-bench: $t is missing (apt-get install -y qemu-utils libnbd-bin libvirt-clients python3-libnbd hyperfine)" >&2
    exit 2
  }
done
$py -c 'import nbd' 2>/dev/null || { echo "e2e-bench: python3-libnbd is missing" >&2; exit 2; }
[[ -f "$root/backup-cli/target/tidemark.jar" ]] || {
  echo "e2e-bench: build the CLI first: (cd $root && mvn -B -q -DskipTests package)" >&2
  exit 2
}
[[ -w /proc/sys/vm/drop_caches ]] || { echo "e2e-bench: needs root to drop the page cache" >&2; exit 2; }

bytes() { numfmt --from=iec "$1"; }
size_b=$(bytes "$SIZE") data_b=$(bytes "$DATA")
tm="$root/tidemark"
mkdir -p "$work/results"
work=$(cd "$work" && pwd)
res="$work/results"
cd "$work"
cleanup() { rm -rf "$work"/img "$work"/repo-* "$work"/out-* "$work"/ckpt; }
trap cleanup EXIT
cleanup
mkdir -p img ckpt

echo "e2e-bench: building the source image ($SIZE virtual, $DATA of data) in $work"
# ---- the guest history: data placement and the two rewrite sets, from a fixed seed
$py - "$size_b" "$data_b" <<'PY'
import os, random, sys
size, data = int(sys.argv[1]), int(sys.argv[2])
cl = 64 << 10
r = random.Random(20261202)
n_cl, target = size // cl, data // cl
used = set()
with open("img/src.raw", "wb") as f:
    f.truncate(size)
    while len(used) < target:
        start, ln = r.randrange(n_cl), r.randint(1, 32)
        run = [c for c in range(start, min(start + ln, n_cl)) if c not in used][: target - len(used)]
        for c in run:
            used.add(c)
            f.seek(c * cl)
            f.write(os.urandom(cl))
written = sorted(used)
for name in ("rewrite-a", "rewrite-b"):
    lines, done = [], 0
    while done < target // 10:
        c, ln = r.choice(written), r.randint(1, 8)
        lines.append(f"write -q -s img/payload {c * cl} {ln * cl}")
        done += ln
    open(f"img/{name}.qemu-io", "w").write("\n".join(lines) + "\n")
PY
head -c $((8 << 20)) /dev/urandom >img/payload
qemu-img convert -f raw -O qcow2 -o cluster_size=65536 img/src.raw img/src.qcow2
if $large; then
  qemu-img convert -f raw -O qcow2 -o cluster_size=65536 img/src.raw img/large.qcow2
  qemu-img resize -q img/large.qcow2 1T
fi
rm -f img/src.raw
history() {  # the same checkpoints and rewrites on an image
  qemu-img bitmap --add "$1" cp1
  qemu-io -f qcow2 "$1" <img/rewrite-a.qemu-io >/dev/null
  qemu-img bitmap --add "$1" cp2
  qemu-io -f qcow2 "$1" <img/rewrite-b.qemu-io >/dev/null
  qemu-img bitmap --add "$1" cp3
}
history img/src.qcow2
$large && history img/large.qcow2

# ---- checkpoint XML as libvirt writes it (test driver: one virsh process keeps the state)
cat >ckpt/domain.xml <<XML
<domain type='test'>
  <name>bench</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='$work/img/src.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
  </devices>
</domain>
XML
for c in cp1 cp2 cp3; do
  printf '<domaincheckpoint>\n  <name>%s</name>\n</domaincheckpoint>\n' $c >ckpt/$c.in.xml
done
virsh -q -c test:///default "define ckpt/domain.xml; start bench; checkpoint-create bench ckpt/cp1.in.xml; \
  checkpoint-create bench ckpt/cp2.in.xml; checkpoint-create bench ckpt/cp3.in.xml; \
  checkpoint-dumpxml bench cp1; checkpoint-dumpxml bench cp2; checkpoint-dumpxml bench cp3" \
  | grep -v '^Domain checkpoint .* created$' >ckpt/virsh.out
$py - ckpt/virsh.out ckpt <<'PY'
import sys
docs = ["<domaincheckpoint>" + d for d in open(sys.argv[1]).read().split("<domaincheckpoint>")[1:]]
assert len(docs) == 3, f"expected 3 checkpoint documents from virsh, got {len(docs)}"
for i, doc in enumerate(docs, 1):
    open(f"{sys.argv[2]}/cp{i}.xml", "w").write(doc)
PY
rm -f ckpt/*.in.xml ckpt/virsh.out ckpt/domain.xml

# ---- the reference dirty-extent copier: qemu-nbd -B, NBD block status, pread, pwrite (libnbd)
cat >img/copy-dirty.py <<'PY'
import nbd, os, sys
image, bitmap, target = sys.argv[1:4]
context = "qemu:dirty-bitmap:" + bitmap
h = nbd.NBD()
h.add_meta_context(context)
h.connect_systemd_socket_activation(["qemu-nbd", "-r", "-f", "qcow2", "-B", bitmap, image])
size = h.get_size()
dirty, seen = [], [0]
def extents(meta, offset, entries, err):
    if meta == context:
        pos = offset
        for length, flags in zip(entries[0::2], entries[1::2]):
            if flags & 1:
                if dirty and sum(dirty[-1]) == pos:
                    dirty[-1] = (dirty[-1][0], dirty[-1][1] + length)
                else:
                    dirty.append((pos, length))
            pos += length
        seen[0] = pos
    return 0
offset = 0
while offset < size:
    h.block_status(min(size - offset, 1 << 30), offset, extents)
    if seen[0] <= offset:
        sys.exit(f"the server described nothing at {offset}")
    offset = seen[0]
fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.ftruncate(fd, size)
for pos, length in dirty:
    while length:
        n = min(length, 4 << 20)
        os.pwrite(fd, h.pread(n, pos), pos)
        pos += n
        length -= n
os.close(fd)
h.shutdown()
PY

# ---- repositories the timed jobs start from (built outside the timing)
export TIDEMARK_JAVA_OPTS="${TIDEMARK_JAVA_OPTS:-}"
backup() {  # backup REPO CHECKPOINT IMAGE
  "$tm" backup -q --repo "$1" --checkpoint "ckpt/$2.xml" --checkpoint-dir ckpt --disk "vda=$3"
}
backup repo-cp2 cp1 img/src.qcow2
backup repo-cp2 cp2 img/src.qcow2
cp -a repo-cp2 repo-cp3
backup repo-cp3 cp3 img/src.qcow2
if $large; then
  backup repo-large-cp2 cp1 img/large.qcow2
  backup repo-large-cp2 cp2 img/large.qcow2
fi
# The restore of the chain must give the source back (checked once, outside the timing).
"$tm" restore -q --repo repo-cp3 --domain bench --to out-check
qemu-img compare -q -f qcow2 -F raw img/src.qcow2 out-check/vda.raw
"$tm" restore -q --repo repo-cp3 --domain bench --to out-check-qcow2 --format qcow2
qemu-img compare -q -f qcow2 -F qcow2 img/src.qcow2 out-check-qcow2/vda.qcow2
qemu-img check -q out-check-qcow2/vda.qcow2
# The reference dirty copy must hold the dirty extents of the source.
$py img/copy-dirty.py img/src.qcow2 cp2 out-check/dirty.raw
rm -rf out-check out-check-qcow2
if $prepare_only; then
  trap - EXIT
  echo "e2e-bench: prepared in $work (img/, ckpt/, repo-cp2, repo-cp3; tidemark: $tm)"
  exit 0
fi
vsize=$(qemu-img info --output=json img/src.qcow2 | $py -c 'import json,sys; print(json.load(sys.stdin)["virtual-size"])')

# ---- the timed jobs
cold='sync; echo 3 > /proc/sys/vm/drop_caches'
jobs=()
job() {  # job KEY "LABEL" "PREPARE" "COMMAND"
  local key=$1 label=$2 prep=$3 cmd=$4
  jobs+=("$key|$label")
  echo "e2e-bench: $label"
  hyperfine -N --style none --runs "$runs" --warmup 1 --prepare "sh -c '$prep; sync'" \
    --export-json "$res/$key-warm.json" "$cmd" >/dev/null
  hyperfine -N --style none --runs "$runs" --prepare "sh -c '$prep; $cold'" \
    --export-json "$res/$key-cold.json" "$cmd" >/dev/null
}
job read "cat of the image (read limit)" 'true' "sh -c 'cat img/src.qcow2 >/dev/null'"
job convert-raw "qemu-img convert -O raw" 'rm -f out-raw' \
  "sh -c 'qemu-img convert -f qcow2 -O raw img/src.qcow2 out-raw && sync'"
job convert-qcow2 "qemu-img convert -O qcow2" 'rm -f out-qcow2' \
  "sh -c 'qemu-img convert -f qcow2 -O qcow2 img/src.qcow2 out-qcow2 && sync'"
job nbdcopy "nbdcopy from qemu-nbd to a raw file" 'rm -f out-raw' \
  "sh -c 'nbdcopy -- [ qemu-nbd -r -f qcow2 img/src.qcow2 ] out-raw && sync'"
job dirty-libnbd "dirty extents of cp2 through qemu-nbd -B + libnbd" 'rm -f out-dirty' \
  "sh -c '$py img/copy-dirty.py img/src.qcow2 cp2 out-dirty && sync'"
job dirty-map "nbdinfo --map of bitmap cp2" 'true' \
  "nbdinfo --map=qemu:dirty-bitmap:cp2 -- [ qemu-nbd -r -f qcow2 -B cp2 img/src.qcow2 ]"
job tm-full "tidemark full backup (zstd, checksums)" 'rm -rf repo-t' \
  "sh -c '$tm backup -q --repo repo-t --checkpoint ckpt/cp1.xml --disk vda=img/src.qcow2 && sync'"
job tm-full-none "tidemark full backup (--compress none)" 'rm -rf repo-t' \
  "sh -c '$tm backup -q --repo repo-t --checkpoint ckpt/cp1.xml --disk vda=img/src.qcow2 --compress none && sync'"
job tm-inc "tidemark incremental backup (since cp2)" 'rm -rf repo-t; cp -a repo-cp2 repo-t' \
  "sh -c '$tm backup -q --repo repo-t --checkpoint ckpt/cp3.xml --checkpoint-dir ckpt --disk vda=img/src.qcow2 && sync'"
job tm-restore-raw "tidemark restore, full + 2 incrementals, to raw" 'rm -rf out-t' \
  "sh -c '$tm restore -q --repo repo-cp3 --domain bench --to out-t && sync'"
job tm-restore-qcow2 "tidemark restore, full + 2 incrementals, to qcow2" 'rm -rf out-t' \
  "sh -c '$tm restore -q --repo repo-cp3 --domain bench --to out-t --format qcow2 && sync'"
job tm-verify "tidemark verify of the chain" 'true' "$tm verify -q --repo repo-cp3"
if $large; then
  job tm-inc-large "tidemark incremental backup, 1 TiB image" 'rm -rf repo-t; cp -a repo-large-cp2 repo-t' \
    "sh -c '$tm backup -q --repo repo-t --checkpoint ckpt/cp3.xml --checkpoint-dir ckpt --disk vda=img/large.qcow2 && sync'"
  job tm-full-large "tidemark full backup, 1 TiB image" 'rm -rf repo-t' \
    "sh -c '$tm backup -q --repo repo-t --checkpoint ckpt/cp1.xml --disk vda=img/large.qcow2 && sync'"
fi
rm -rf repo-t out-t out-raw out-qcow2 out-dirty

# ---- the summary: medians, and the ratios the goals are stated in
{
  echo "Run $(date -u +%F) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), \
$(free -g | awk '/Mem:/ {print $2}') GiB RAM, Linux $(uname -r); $(java -version 2>&1 | head -1); \
qemu-img $(qemu-img --version | head -1 | awk '{print $3}'); nbdcopy $(nbdcopy --version | head -1 | awk '{print $2}'); \
hyperfine $(hyperfine --version | awk '{print $2}'). Image: $SIZE virtual, $DATA of random data, \
$(du -h img/src.qcow2 | cut -f1) on disk; dirty since cp2: $(nbdinfo --totals --map=qemu:dirty-bitmap:cp2 -- [ qemu-nbd -r -f qcow2 -B cp2 img/src.qcow2 ] | awk '$3==1 {printf "%.0f MiB", $1/1048576}'). \
$runs runs per cell; warm = page cache kept, cold = dropped before each run."
  echo
  printf '%s\n' "${jobs[@]}" >"$res/jobs.txt"
  $py - "$res" "$res/jobs.txt" <<'PY'
import json, os, statistics, sys
res, jobs = sys.argv[1], [l.rstrip("\n").split("|", 1) for l in open(sys.argv[2]) if l.strip()]
med = {}
for key, _ in jobs:
    for mode in ("warm", "cold"):
        med[key, mode] = statistics.median(json.load(open(os.path.join(res, f"{key}-{mode}.json")))["results"][0]["times"])
print("| job | warm median s | cold median s |")
print("| --- | ---: | ---: |")
for key, label in jobs:
    print(f"| {label} | {med[key, 'warm']:.2f} | {med[key, 'cold']:.2f} |")
goals = [("tm-inc", "dirty-libnbd", 0.8, "incremental backup / libnbd dirty-extent copy"),
         ("tm-inc-large", "tm-inc", 1.1, "incremental backup, 1 TiB / 4 GiB image"),
         ("tm-full", "convert-qcow2", 1.0, "full backup / qemu-img convert -O qcow2"),
         ("tm-restore-raw", "convert-raw", 1.0, "restore of full + 2 incrementals to raw / qemu-img convert -O raw"),
         ("tm-restore-qcow2", "convert-qcow2", None, "restore to qcow2 / qemu-img convert -O qcow2"),
         ("tm-full", "read", None, "full backup / cat of the image")]
print()
print("| ratio | goal | warm | cold |")
print("| --- | ---: | ---: | ---: |")
for a, b, goal, label in goals:
    if (a, "warm") in med and (b, "warm") in med:
        r = [med[a, m] / med[b, m] for m in ("warm", "cold")]
        g = f"<= {goal}" if goal else ""
        print(f"| {label} | {g} | {r[0]:.2f} | {r[1]:.2f} |")
PY
} >"$res/summary.md"
cat "$res/summary.md"
if $write_docs; then
  $py - "$root/docs/performance.md" "$res/summary.md" <<'PY'
import sys
doc, table = sys.argv[1], open(sys.argv[2]).read()
begin, end = "<!-- e2e-bench:begin -->", "<!-- e2e-bench:end -->"
text = open(doc).read()
if begin not in text or end not in text:
    sys.exit(f"{doc}: the markers {begin} and {end} are missing")
head, rest = text.split(begin, 1)
open(doc, "w").write(head + begin + "\n" + table + rest[rest.index(end):])
PY
  echo "e2e-bench: docs/performance.md updated"
fi
