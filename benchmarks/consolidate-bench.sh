#!/usr/bin/env bash
# Consolidation bench: a synthetic full of the newest point of a 7-point chain (tidemark
# consolidate, and tidemark consolidate --verify, which reads the new archive back before the swap)
# against a restore of the same point (tidemark restore to raw), in the same run, interleaved, warm
# page cache; medians of wall-clock and CPU (user + sys) time, and their ratios.
#
# Usage: benchmarks/consolidate-bench.sh [--rounds N] [--work DIR] [--write-docs]
#
#   --rounds N    timed rounds, each one restore, one consolidation and one with --verify, their
#                 order rotating (default 5)
#   --work DIR    where the image, repository and outputs go (default /var/tmp/tidemark-consolidate-bench;
#                 needs about 5 x DATA free); deleted at the end
#   --write-docs  put the result table into docs/performance.md (between the consolidate markers)
#   SIZE / DATA   environment: virtual size and amount of data (default 2G and 512M)
#
# The source: SIZE virtual qcow2, DATA of random bytes (incompressible) in 1 MiB extents placed by
# a fixed seed; checkpoints cp1..cp7 from libvirt's test driver, a full backup at cp1 and an
# incremental at each later point, with about 5 % of the data rewritten (and some zeroed) between
# points. Each consolidation runs on a fresh copy of that repository (copied outside the timing);
# both jobs end with sync. The consolidated point is checked once: restored and compared with the
# source by qemu-img compare.
#
# Needs qemu-utils, libvirt-clients, python3, GNU time (/usr/bin/time) and the CLI built
# (mvn -B -q -DskipTests package).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
rounds=5 work=/var/tmp/tidemark-consolidate-bench write_docs=false
while (($#)); do
  case $1 in
    --rounds) rounds=$2; shift ;;
    --work) work=$2; shift ;;
    --write-docs) write_docs=true ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "consolidate-bench: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
SIZE=${SIZE:-2G}
DATA=${DATA:-512M}
for t in qemu-img qemu-io virsh python3 java /usr/bin/time; do
  command -v "$t" >/dev/null || { echo "consolidate-bench: $t is missing" >&2; exit 2; }
done
[[ -f "$root/backup-cli/target/tidemark.jar" ]] || {
  echo "consolidate-bench: build the CLI first: (cd $root && mvn -B -q -DskipTests package)" >&2
  exit 2
}
tm="$root/tidemark"
rm -rf "$work"
mkdir -p "$work"/{img,ckpt}
cd "$work"
trap 'cd /; rm -rf "$work"' EXIT

bytes() { numfmt --from=iec "$1"; }
size=$(bytes "$SIZE")
data=$(bytes "$DATA")
mib=$((1 << 20))

# ---- the source image and its history: cp1, then 6 x (rewrite ~5 %, zero a little, checkpoint)
qemu-img create -q -f qcow2 img/src.qcow2 "$SIZE"
python3 - "$size" "$data" >img/plan <<'PY'
import random, sys
size, data = int(sys.argv[1]), int(sys.argv[2])
mib = 1 << 20
r = random.Random(20261205)
slots = r.sample(range(size // mib), data // mib)
print(" ".join(str(s) for s in sorted(slots)))
for point in range(2, 8):
    rewrite = r.sample(slots, max(1, len(slots) // 20))
    zero = r.sample(slots, max(1, len(slots) // 200))
    print(" ".join(str(s) for s in sorted(rewrite)) + " | " + " ".join(str(s) for s in sorted(zero)))
PY
head -c "$mib" /dev/urandom >img/pattern
io() { # qemu-io commands from stdin, in batches
  xargs -d '\n' -n 400 sh -c 'for c in "$@"; do set -- "$@" -c "$c"; shift; done; qemu-io -f qcow2 "$@" img/src.qcow2' sh
}
write_slots() { # write fresh random data into the 1 MiB slots given
  for s in "$@"; do head -c "$mib" /dev/urandom >"img/d$s"; echo "write -q -s img/d$s $((s * mib)) $mib"; done | io
  for s in "$@"; do rm -f "img/d$s"; done
}
read -r -a first <img/plan
write_slots "${first[@]}"

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
cmds="define ckpt/domain.xml; start bench"
for p in 1 2 3 4 5 6 7; do
  printf '<domaincheckpoint>\n  <name>cp%s</name>\n</domaincheckpoint>\n' $p >ckpt/cp$p.in.xml
  cmds+="; checkpoint-create bench ckpt/cp$p.in.xml"
done
for p in 1 2 3 4 5 6 7; do cmds+="; checkpoint-dumpxml bench cp$p"; done
virsh -q -c test:///default "$cmds" | grep -v '^Domain checkpoint .* created$' >ckpt/virsh.out
python3 - ckpt/virsh.out ckpt <<'PY'
import sys
docs = ["<domaincheckpoint>" + d for d in open(sys.argv[1]).read().split("<domaincheckpoint>")[1:]]
assert len(docs) == 7, f"expected 7 checkpoint documents from virsh, got {len(docs)}"
for i, doc in enumerate(docs, 1):
    open(f"{sys.argv[2]}/cp{i}.xml", "w").write(doc)
PY
rm -f ckpt/*.in.xml ckpt/virsh.out ckpt/domain.xml

point=1
while read -r line; do
  if ((point > 1)); then
    rewrite=${line%%|*} zero=${line##*|}
    # shellcheck disable=SC2086
    write_slots $rewrite
    for s in $zero; do echo "write -q -z $((s * mib)) $mib"; done | io
  fi
  qemu-img bitmap --add img/src.qcow2 "cp$point"
  "$tm" backup -q --repo repo --checkpoint "ckpt/cp$point.xml" --checkpoint-dir ckpt --disk "vda=$work/img/src.qcow2"
  point=$((point + 1))
done <img/plan
qemu-img convert -f qcow2 -O raw img/src.qcow2 img/cp7.raw
echo "chain: $(ls repo/bench | tr '\n' ' ')($(du -sh repo | cut -f1)); source $(qemu-img info img/src.qcow2 | grep 'disk size')"

timed() { # runs "$@" then sync; prints "wall cpu" (cpu = user + sys of the command)
  /usr/bin/time -f '%e %U %S' -o time.out "$@"
  sync
  awk '{printf "%.2f %.2f\n", $1, $2 + $3}' time.out
}
declare -a restore_s consolidate_s verify_s restore_cpu consolidate_cpu verify_cpu
for ((i = 0; i < rounds; i++)); do
  jobs=(restore consolidate verify)
  ((i % 3 == 1)) && jobs=(consolidate verify restore)
  ((i % 3 == 2)) && jobs=(verify restore consolidate)
  for job in "${jobs[@]}"; do
    rm -rf out work-repo
    cp -a repo work-repo
    sync
    case $job in
      restore) read -r w c < <(timed "$tm" restore -q --repo repo --domain bench --checkpoint cp7 --to out)
        restore_s+=("$w") restore_cpu+=("$c") ;;
      consolidate) read -r w c < <(timed "$tm" consolidate -q --repo work-repo --domain bench --checkpoint cp7)
        consolidate_s+=("$w") consolidate_cpu+=("$c") ;;
      verify) read -r w c < <(timed "$tm" consolidate -q --verify --repo work-repo --domain bench --checkpoint cp7)
        verify_s+=("$w") verify_cpu+=("$c") ;;
    esac
  done
done
# the consolidated point restores identical to the source at cp7 (a consolidation outside the timing)
rm -rf out work-repo
cp -a repo work-repo
"$tm" consolidate -q --repo work-repo --domain bench --checkpoint cp7
"$tm" restore -q --repo work-repo --domain bench --checkpoint cp7 --to out
qemu-img compare -q -f raw -F raw img/cp7.raw out/vda.raw
"$tm" verify -q --repo work-repo

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {printf "%.2f\n", (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
r=$(median "${restore_s[@]}") rc=$(median "${restore_cpu[@]}")
c=$(median "${consolidate_s[@]}") cc=$(median "${consolidate_cpu[@]}")
v=$(median "${verify_s[@]}") vc=$(median "${verify_cpu[@]}")
ratio() { echo "scale=2; $1 / $2" | bc | sed 's/^\./0./'; }
load=$(cut -d' ' -f1-3 /proc/loadavg)
table=$(cat <<TABLE
| job (cp7 of a 7-point chain, $SIZE virtual, $DATA data, warm cache, $rounds rounds interleaved) | median s | median CPU s (user+sys) | runs s |
|---|---|---|---|
| \`tidemark restore --checkpoint cp7\` (raw) | $r | $rc | ${restore_s[*]} |
| \`tidemark consolidate --checkpoint cp7\` (structure checked before the swap) | $c | $cc | ${consolidate_s[*]} |
| \`tidemark consolidate --verify --checkpoint cp7\` (read back and verified before the swap) | $v | $vc | ${verify_s[*]} |
| ratio consolidate / restore | **$(ratio "$c" "$r")x** | $(ratio "$cc" "$rc")x | load average at the end: $load |
| ratio consolidate --verify / restore | $(ratio "$v" "$r")x | $(ratio "$vc" "$rc")x | |
TABLE
)
echo "$table"
if $write_docs; then
  python3 - "$root/docs/performance.md" "$table" <<'PY'
import sys, re
path, table = sys.argv[1], sys.argv[2]
text = open(path).read()
begin, end = "<!-- consolidate-bench:begin -->", "<!-- consolidate-bench:end -->"
block = begin + "\n" + table + "\n" + end
text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda m: block, text, flags=re.S) if begin in text \
    else text.rstrip("\n") + "\n\n" + block + "\n"
open(path, "w").write(text)
PY
fi
