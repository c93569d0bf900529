#!/usr/bin/env bash
# End-to-end bench: Tidemark's incremental backup, full backup and restore against the libnbd
# dirty-extent copy, QEMU's own tools and the device's write limit, on issue 21's workload, in one run.
#
# Usage: benchmarks/e2e-bench.sh [--runs N] [--work DIR] [--no-large] [--no-mix] [--write-docs]
#
#   --runs N      interleaved rounds after the warm-up round (default 5); medians are reported
#   --work DIR    images, repositories and results (default /var/tmp/tidemark-bench; needs about
#                 8 x DATA free); images and repositories are deleted at the end, results kept
#   --no-large    leave out the 1 TiB (sparse) image with the same data and dirty set
#   --no-mix      leave out the compressible workload
#   --write-docs  put the summary table into docs/performance.md (between the e2e markers)
#   --prepare-only  build the images, checkpoints and repositories, check them, and stop without
#                 timing anything; everything is kept in DIR (for profiling a single job by hand)
#   --large       accepted for older command lines (the 1 TiB rows are on by default)
#   SIZE / DATA / REWRITE / LARGE  environment: virtual size, random data, bytes rewritten after
#                 checkpoint cp1, virtual size of the large image (default 16G, 4G, 1G and 1T, issue
#                 21's workload: up to about 25 minutes on the 2-core development VM; SIZE=1G DATA=128M
#                 REWRITE=32M with --runs 1 checks the script itself in about a minute)
#
# Workload: a qcow2 image of SIZE (64 KiB clusters) with DATA of random bytes (/dev/urandom:
# incompressible, the codec's worst case) in random extents of 1-32 clusters at seeded places;
# bitmap cp1; REWRITE of the data rewritten in extents of 1-8 clusters (distinct clusters);
# bitmap cp2; bitmap cp3 with nothing written after cp2 (the no-op incremental). The 1 TiB image
# is the same image resized to LARGE with the same history. The compressible image ("mix") has the
# same data placement, each extent random, text-like (log lines and Zipf-distributed prose, see below) or zero-filled
# (allocated zeros, as a guest's zeroed file leaves them) with probabilities 1/2, 1/4, 1/4; the
# summary reports the mix measured by bytes and the archive's size. Checkpoint XML from libvirt's
# test driver.
#
# Timing: a warm-up round, then N rounds; each round runs every job once, in a fixed interleaved
# order, page cache warm. Before each timed job its outputs of the previous round are removed and
# sync runs (untimed). Every writer's output is durable: each timed command ends with sync, and
# Tidemark fsyncs its own output as well. Jobs:
#   incremental backup (cp2, changes since cp1) | the dirty extents of bitmap cp1 through
#   qemu-nbd -B + libnbd (block status, pread, pwrite) | dd bs=4M oflag=direct conv=fsync of the
#   dirty byte count (the device limit for the bytes it stores);
#   full backup (cp1) | qemu-img convert -O qcow2 | dd of DATA (the device limit for the guest bytes);
#   restore of full + incremental to raw | qemu-img convert -O raw of the image;
#   the incremental and the full backup of the 1 TiB image; the full backup of the mix image;
#   start-up: tidemark --version (with and without class data sharing), the no-op incremental
#   (cp3: nothing dirty), qemu-img --version.
#
# Needs qemu-utils, libnbd-bin, python3-libnbd, libvirt-clients and the CLI built
# (mvn -B -q -DskipTests package). JAVA chooses the JVM as for ./tidemark.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=5 work=/var/tmp/tidemark-bench write_docs=false prepare_only=false large=true mix=true
while (($#)); do
  case $1 in
    --runs) runs=$2; shift ;;
    --work) work=$2; shift ;;
    --no-large) large=false ;;
    --no-mix) mix=false ;;
    --large) large=true ;;
    --write-docs) write_docs=true ;;
    --prepare-only) prepare_only=true ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "e2e-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
SIZE=${SIZE:-16G} DATA=${DATA:-4G} REWRITE=${REWRITE:-1G} LARGE=${LARGE:-1T}
py=/usr/bin/python3   # Debian's python: the one with the libnbd module
for t in qemu-img qemu-io qemu-nbd nbdinfo virsh dd numfmt java; do
  command -v "$t" >/dev/null || {
    echo "e2e-bench: $t is missing (apt-get install -y qemu-utils libnbd-bin libvirt-clients python3-libnbd)" >&2
    exit 2
  }
done
$py -c 'import nbd' 2>/dev/null || { echo "e2e-bench: python3-libnbd is missing" >&2; exit 2; }
[[ -f "$root/backup-cli/target/tidemark.jar" ]] || {
  echo "e2e-bench: build the CLI first: (cd $root && mvn -B -q -DskipTests package)" >&2
  exit 2
}
[[ -n "${EPOCHREALTIME:-}" ]] || { echo "e2e-bench: needs bash 5 (EPOCHREALTIME)" >&2; exit 2; }

bytes() { numfmt --from=iec "$1"; }
size_b=$(bytes "$SIZE") data_b=$(bytes "$DATA") rewrite_b=$(bytes "$REWRITE") large_b=$(bytes "$LARGE")
((data_b % (4 << 20) == 0 && rewrite_b % (4 << 20) == 0)) || { echo "e2e-bench: DATA and REWRITE must be multiples of 4M" >&2; exit 2; }
tm="$root/tidemark"
mkdir -p "$work/results"
work=$(cd "$work" && pwd)
res="$work/results"
cd "$work"
cleanup() { rm -rf "$work"/img "$work"/repo-* "$work"/out-* "$work"/ckpt; }
trap cleanup EXIT
cleanup
rm -f "$res/times"
mkdir -p img ckpt

echo "e2e-bench: building the images ($SIZE virtual, $DATA of data, $REWRITE rewritten) in $work"
# ---- the data placement, the kinds of the mix, the rewrite set: from a fixed seed
$py - "$size_b" "$data_b" "$rewrite_b" "$mix" <<'PY'
import os, random, sys
size, data, rewrite, mix = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "true"
cl = 64 << 10
r = random.Random(20261205)
n_cl, target = size // cl, data // cl
used, extents = set(), []
while len(used) < target:
    start, ln = r.randrange(n_cl), r.randint(1, 32)
    run = [c for c in range(start, min(start + ln, n_cl)) if c not in used][: target - len(used)]
    # split at clusters already taken: an extent is contiguous
    piece = []
    for c in run:
        if piece and c != piece[-1] + 1:
            extents.append(piece); piece = []
        piece.append(c)
        used.add(c)
    if piece:
        extents.append(piece)
# text-like data, as GuestData.TEXT in the JMH suite: 64 KiB blocks, alternately syslog-style log
# lines (timestamps, hosts, pids, addresses, counters in eight message templates) and prose whose
# words follow Zipf's law (word i of a 4096 pseudo-word vocabulary with weight 1/(i+1), as in a
# natural language; the first bench drew them uniformly, which no text does)
import bisect, itertools
letters = "etaoinshrdlucmfwypvbgkjqxz"
vocab = ["".join(r.choice(letters) for _ in range(r.randint(2, 10))) for _ in range(4096)]
zipf = list(itertools.accumulate(1 / (i + 1) for i in range(len(vocab))))
def prose(n):
    out, k = [], 0
    while k < n:
        words = [vocab[min(bisect.bisect_left(zipf, r.random() * zipf[-1]), len(vocab) - 1)]
                 for _ in range(r.randint(4, 14))]
        line = " ".join(words) + ".\n"
        out.append(line); k += len(line)
    return "".join(out)
def logs(n):
    out, k, t = [], 0, 1_764_900_000 + r.randrange(1_000_000)
    while k < n:
        t += r.randrange(3)
        head = "2026-12-%02dT%02d:%02d:%02d.%06d+00:00 web-%02d " % (1 + t // 86400 % 28, t // 3600 % 24,
            t // 60 % 60, t % 60, r.randrange(1_000_000), r.randrange(4))
        user, pid, ip = vocab[r.randrange(64)], 1000 + r.randrange(60000), \
            "10.%d.%d.%d" % (r.randrange(256), r.randrange(256), r.randrange(256))
        line = head + r.choice([
            f"sshd[{pid}]: Accepted publickey for {user} from {ip} port {1024 + r.randrange(64000)} ssh2",
            f"sshd[{pid}]: pam_unix(sshd:session): session opened for user {user}(uid={1000 + r.randrange(100)}) by (uid=0)",
            f"systemd[1]: Started Session {r.randrange(5000)} of User {user}.",
            f"systemd[1]: {user}.service: Deactivated successfully.",
            f"kernel: [{r.randrange(900000)}.{r.randrange(1000000):06d}] EXT4-fs (vda{1 + r.randrange(3)}): mounted filesystem with ordered data mode.",
            f"CRON[{pid}]: ({user}) CMD (/usr/local/bin/rotate --keep {r.randrange(30)} /var/log/{vocab[r.randrange(64)]})",
            f'nginx[{pid}]: {ip} - - "GET /api/v1/items/{r.randrange(100000)} HTTP/1.1" {404 if r.randrange(10) == 0 else 200} {r.randrange(20000)} "-" "curl/7.{60 + r.randrange(30)}.0"',
            f"postgres[{pid}]: LOG:  checkpoint complete: wrote {r.randrange(5000)} buffers ({r.randrange(100)}.{r.randrange(10)}%); {r.randrange(4)} WAL file(s) added",
        ]) + "\n"
        out.append(line); k += len(line)
    return "".join(out)
corpus = "".join((logs if b % 2 == 0 else prose)(65536)[:65536] for b in range(128)).encode()
kinds = {"random": 0, "text": 0, "zero": 0}
zeros = []
with open("img/src.raw", "wb") as f, open("img/mix.raw", "wb") as m:
    f.truncate(size)
    if mix:
        m.truncate(size)
    for e in extents:
        off, ln = e[0] * cl, len(e) * cl
        f.seek(off); f.write(os.urandom(ln))
        if not mix:
            continue
        x = r.random()
        kind = "random" if x < 0.5 else "text" if x < 0.75 else "zero"
        kinds[kind] += ln
        if kind == "zero":
            zeros.append(f"write -q -s img/zeros {off} {ln}")
            continue
        m.seek(off)
        if kind == "random":
            m.write(os.urandom(ln))
        else:
            s = r.randrange(len(corpus) - ln)
            m.write(corpus[s:s + ln])
if not mix:
    os.unlink("img/mix.raw")
open("img/zeros.qemu-io", "w").write("\n".join(zeros) + "\n")
open("img/mix.txt", "w").write(" ".join(f"{k}={v}" for k, v in kinds.items()) + "\n")
# the rewrite set: distinct data clusters, in extents of 1-8 clusters
written, done, lines = sorted(used), set(), []
goal = rewrite // cl
while len(done) < goal:
    i = r.randrange(len(written))
    run = [c for c in written[i:i + r.randint(1, 8)] if c not in done][: goal - len(done)]
    run = run[: next((k for k in range(1, len(run)) if run[k] != run[k - 1] + 1), len(run))]
    if not run:
        continue
    for c in run:
        done.add(c)
    lines.append(f"write -q -s img/payload {run[0] * cl} {len(run) * cl}")
open("img/rewrite.qemu-io", "w").write("\n".join(lines) + "\n")
PY
head -c $((8 << 20)) /dev/urandom >img/payload
head -c $((2 << 20)) /dev/zero >img/zeros
qemu-img convert -f raw -O qcow2 -o cluster_size=65536 img/src.raw img/src.qcow2
if $large; then
  qemu-img convert -f raw -O qcow2 -o cluster_size=65536 img/src.raw img/large.qcow2
  qemu-img resize -q img/large.qcow2 "$LARGE"
fi
rm -f img/src.raw
if $mix; then
  qemu-img convert -f raw -O qcow2 -o cluster_size=65536 img/mix.raw img/mix.qcow2
  rm -f img/mix.raw
  # the zero-filled extents: written as data (allocated clusters holding zeros), not as holes
  qemu-io -f qcow2 img/mix.qcow2 <img/zeros.qemu-io >/dev/null
  qemu-img bitmap --add img/mix.qcow2 cp1
fi
history() {  # the same checkpoints and rewrites on an image
  qemu-img bitmap --add "$1" cp1
  qemu-io -f qcow2 "$1" <img/rewrite.qemu-io >/dev/null
  qemu-img bitmap --add "$1" cp2
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
total = 0
for pos, length in dirty:
    total += length
    while length:
        n = min(length, 4 << 20)
        os.pwrite(fd, h.pread(n, pos), pos)
        pos += n
        length -= n
os.close(fd)
h.shutdown()
if len(sys.argv) > 4:
    print(total)
PY

# ---- repositories the timed jobs start from (built outside the timing)
export TIDEMARK_JAVA_OPTS="${TIDEMARK_JAVA_OPTS:-}"
backup() {  # backup REPO CHECKPOINT IMAGE
  "$tm" backup -q --repo "$1" --checkpoint "ckpt/$2.xml" --checkpoint-dir ckpt --disk "vda=$3"
}
# A repository a timed backup adds to: a copy whose archives are hard links (archives are written
# once and never changed in place; every other file is copied)
clone() {  # clone FROM TO
  cp -al "$1" "$2"
  find "$2" -type f ! -name '*.tar' -exec sh -c 'for f; do cp --remove-destination "$f" "$f.c" && mv -f "$f.c" "$f"; done' sh {} +
}
backup repo-cp1 cp1 img/src.qcow2
clone repo-cp1 repo-cp2
backup repo-cp2 cp2 img/src.qcow2
if $large; then
  backup repo-large-cp1 cp1 img/large.qcow2
fi
# The restore of the chain must give the source back (checked once, outside the timing).
"$tm" restore -q --repo repo-cp2 --domain bench --to out-check
qemu-img compare -q -f qcow2 -F raw img/src.qcow2 out-check/vda.raw
# The reference dirty copy holds the dirty extents of the source, as many bytes as were rewritten.
dirty_b=$($py img/copy-dirty.py img/src.qcow2 cp1 out-check/dirty.raw --total)
[[ "$dirty_b" -eq "$rewrite_b" ]] || { echo "e2e-bench: bitmap cp1 holds $dirty_b dirty bytes, expected $rewrite_b" >&2; exit 1; }
rm -rf out-check
if $prepare_only; then
  trap - EXIT
  echo "e2e-bench: prepared in $work (img/, ckpt/, repo-cp1, repo-cp2; tidemark: $tm)"
  exit 0
fi

# ---- the timed jobs: KEY|LABEL|PREPARE|COMMAND, run once per round in this order
sh_dd() { echo "dd if=/dev/zero of=out-dd bs=4M count=$(($1 / (4 << 20))) oflag=direct conv=fsync status=none && sync"; }
jobs=(
  "tm-inc|tidemark incremental backup (cp2: changes since cp1)|clone repo-cp1 repo-t|$tm backup -q --repo repo-t --checkpoint ckpt/cp2.xml --checkpoint-dir ckpt --disk vda=img/src.qcow2 && sync"
  "dirty-libnbd|dirty extents of cp1 through qemu-nbd -B + libnbd||$py img/copy-dirty.py img/src.qcow2 cp1 out-dirty && sync"
  "dd-dirty|dd of the dirty bytes (bs=4M, oflag=direct, conv=fsync)||$(sh_dd "$rewrite_b")"
  "tm-full|tidemark full backup (cp1; zstd, checksums)||$tm backup -q --repo repo-t --checkpoint ckpt/cp1.xml --disk vda=img/src.qcow2 && sync"
  "convert-qcow2|qemu-img convert -O qcow2||qemu-img convert -f qcow2 -O qcow2 img/src.qcow2 out-qcow2 && sync"
  "dd-data|dd of the guest data (bs=4M, oflag=direct, conv=fsync)||$(sh_dd "$data_b")"
  "tm-restore-raw|tidemark restore, full + incremental, to raw||$tm restore -q --repo repo-cp2 --domain bench --to out-t && sync"
  "convert-raw|qemu-img convert -O raw||qemu-img convert -f qcow2 -O raw img/src.qcow2 out-raw && sync"
)
if $large; then
  jobs+=(
    "tm-inc-large|tidemark incremental backup, $LARGE image|clone repo-large-cp1 repo-t|$tm backup -q --repo repo-t --checkpoint ckpt/cp2.xml --checkpoint-dir ckpt --disk vda=img/large.qcow2 && sync"
    "tm-full-large|tidemark full backup, $LARGE image||$tm backup -q --repo repo-t --checkpoint ckpt/cp1.xml --disk vda=img/large.qcow2 && sync"
  )
fi
if $mix; then
  jobs+=("tm-full-mix|tidemark full backup, compressible mix||$tm backup -q --repo repo-t --checkpoint ckpt/cp1.xml --disk vda=img/mix.qcow2 && sync")
fi
jobs+=(
  "tm-version|tidemark --version||$tm --version >/dev/null"
  "tm-version-nocds|tidemark --version, TIDEMARK_NO_CDS=1||TIDEMARK_NO_CDS=1 $tm --version >/dev/null"
  "qemu-img-version|qemu-img --version||qemu-img --version >/dev/null"
  "tm-noop|tidemark no-op incremental (cp3: nothing dirty)|clone repo-cp2 repo-t|$tm backup -q --repo repo-t --checkpoint ckpt/cp3.xml --checkpoint-dir ckpt --disk vda=img/src.qcow2 && sync"
)
"$tm" --version >/dev/null   # the launcher's one-time class data sharing archive, before any timing
for round in $(seq 0 "$runs"); do
  if ((round == 0)); then echo "e2e-bench: warm-up round"; else echo "e2e-bench: round $round of $runs"; fi
  for j in "${jobs[@]}"; do
    IFS='|' read -r key label prep cmd <<<"$j"
    rm -rf repo-t out-*
    [[ -z "$prep" ]] || eval "$prep"
    sync
    t0=$EPOCHREALTIME
    sh -c "$cmd" || { echo "e2e-bench: $label failed: $cmd" >&2; exit 1; }
    t1=$EPOCHREALTIME
    ((round == 0)) || echo "$key $t0 $t1" >>"$res/times"
    [[ $key != tm-full-mix ]] || mix_archive=$(du -sb repo-t | cut -f1)
  done
done
rm -rf repo-t out-*
printf '%s\n' "${jobs[@]}" | cut -d'|' -f1,2 >"$res/jobs.txt"

# ---- the summary: medians, and the ratios the goals are stated in
{
  jv=$("${JAVA:-java}" -version 2>&1 | head -1)
  echo "Run $(date -u +%F) on $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), \
$(free -g | awk '/Mem:/ {print $2}') GiB RAM, Linux $(uname -r), $(df -T "$work" | awk 'NR==2 {print $2}') file system; $jv; \
qemu-img $(qemu-img --version | head -1 | awk '{print $3}'); libnbd $(nbdinfo --version | awk '/^libnbd/ {print $2}'). \
Image: $SIZE virtual, 64 KiB clusters, $DATA of random data in random extents, $(du -h img/src.qcow2 | cut -f1) on disk; \
rewritten after cp1 (bitmap cp1): $((dirty_b >> 20)) MiB. Warm page cache; a warm-up round, then $runs interleaved rounds; medians."
  if $mix; then
    read -r mr mt mz < <(sed 's/[a-z]*=//g' img/mix.txt)
    echo "Compressible mix (same placement, $DATA allocated): random $((mr * 100 / data_b)) %, text-like $((mt * 100 / data_b)) %, \
zero-filled $((mz * 100 / data_b)) % of the bytes; its full backup's repository: $((${mix_archive:-0} >> 20)) MiB \
($(awk -v a="${mix_archive:-0}" -v d="$data_b" 'BEGIN {printf "%.2f", a / d}') of the guest bytes)."
  fi
  echo
  $py - "$res/times" "$res/jobs.txt" "$SIZE" "$LARGE" <<'PY'
import collections, statistics, sys
size, large = sys.argv[3], sys.argv[4]
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, a, b = line.split()
    t[k].append(float(b) - float(a))
jobs = [l.rstrip("\n").split("|", 1) for l in open(sys.argv[2]) if l.strip()]
med = {k: statistics.median(v) for k, v in t.items()}
print("| job | median s | min s | max s |")
print("| --- | ---: | ---: | ---: |")
for key, label in jobs:
    v = t[key]
    print(f"| {label} | {med[key]:.3f} | {min(v):.3f} | {max(v):.3f} |")
goals = [("tm-inc", "dirty-libnbd", "<= 0.8", "incremental / libnbd dirty-extent copy"),
         ("tm-inc", "dd-dirty", "<= 1.3", "incremental / dd of the dirty bytes (device limit)"),
         ("tm-inc-large", "tm-inc", "<= 1.1", f"incremental, {large} / {size} image"),
         ("tm-full", "dd-data", "<= 1.1", "full backup / dd of the guest data (device limit)"),
         ("tm-full", "convert-qcow2", "", "full backup / qemu-img convert -O qcow2"),
         ("tm-restore-raw", "dd-data", "<= 1.1", "restore to raw / dd of the guest data (device limit)"),
         ("tm-restore-raw", "convert-raw", "", "restore to raw / qemu-img convert -O raw"),
         ("tm-full-large", "tm-full", "", f"full backup, {large} / {size} image"),
         ("tm-full-mix", "dd-data", "<= 0.7", "full backup of the compressible mix / dd of the guest data"),
         ("tm-version", "qemu-img-version", "", "tidemark --version / qemu-img --version"),
         ("tm-version-nocds", "qemu-img-version", "", "tidemark --version without CDS / qemu-img --version"),
         ("tm-noop", "qemu-img-version", "", "no-op incremental / qemu-img --version")]
print()
print("| ratio of medians | goal | ratio |")
print("| --- | ---: | ---: |")
for a, b, goal, label in goals:
    if a in med and b in med:
        print(f"| {label} | {goal} | {med[a] / med[b]:.2f} |")
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
