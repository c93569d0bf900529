#!/usr/bin/env bash
# Regenerates the sample shipped in this folder: a qcow2 disk with two checkpoint bitmaps and the
# checkpoint XML files libvirt wrote for them.
#
#   vda.qcow2     64 MiB virtual, 64 KiB clusters, a few MiB of guest data; persistent bitmaps
#                 cp1 and cp2, both enabled (as libvirt >= 6 keeps them)
#   checkpoints/  cp1.xml, cp2.xml: `virsh checkpoint-dumpxml` of a domain "sample" whose vda is
#                 tracked by a bitmap and whose empty cdrom (sda) is not
#
# History of the disk: base data; checkpoint cp1 (bitmap cp1 added); guest writes, a zeroed range
# and a discard; checkpoint cp2 (bitmap cp2 added); more guest writes. The guest bytes come from
# SHAKE-256 streams with fixed seeds, so a rerun writes the same guest data.
#
# Needs qemu-img, qemu-io (qemu-utils), virsh (libvirt-clients) and python3.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

# data SEED BYTES FILE: a deterministic pseudo-random payload
data() {
  python3 -c 'import hashlib,sys; sys.stdout.buffer.write(hashlib.shake_256(("tidemark-sample-"+sys.argv[1]).encode()).digest(int(sys.argv[2])))' "$1" "$2" >"$3"
}
# text SEED BYTES FILE: compressible, text-like payload (a guest's logs and configs)
text() {
  python3 -c '
import hashlib, sys
seed, n = sys.argv[1], int(sys.argv[2])
words = [w.encode() for w in "backup restore disk cluster bitmap checkpoint domain guest kernel log error ok".split()]
h = hashlib.shake_256(("tidemark-text-" + seed).encode()).digest(n)
out = bytearray()
i = 0
while len(out) < n:
    out += words[h[i % len(h)] % len(words)] + (b"\n" if h[(i * 7) % len(h)] % 9 == 0 else b" ")
    i += 1
sys.stdout.buffer.write(bytes(out[:n]))' "$1" "$2" >"$3"
}

img="$tmp/vda.qcow2"
qemu-img create -q -f qcow2 -o cluster_size=65536 "$img" 64M
data base1 $((1024 * 1024)) "$tmp/base1"
text base2 $((2 * 1024 * 1024)) "$tmp/base2"
qemu-io -f qcow2 -c "write -q -s $tmp/base1 0 1M" -c "write -q -s $tmp/base2 8M 2M" \
  -c "write -q -P 0x5a 32M 512k" "$img" >/dev/null

qemu-img bitmap -f qcow2 --add "$img" cp1
data inc1 $((256 * 1024)) "$tmp/inc1"
text inc2 $((192 * 1024)) "$tmp/inc2"
qemu-io -f qcow2 -c "write -q -s $tmp/inc1 512k 256k" -c "write -q -s $tmp/inc2 9M 192k" \
  -c "write -q -z 32M 128k" -c "discard -q 8M 64k" -c "write -q -P 0x77 40M 64k" "$img" >/dev/null

qemu-img bitmap -f qcow2 --add "$img" cp2
data inc3 $((128 * 1024)) "$tmp/inc3"
qemu-io -f qcow2 -c "write -q -s $tmp/inc3 20M 128k" -c "write -q -P 0x33 700k 4k" "$img" >/dev/null

# Checkpoint XML as libvirt writes it: define the domain in libvirt's test driver, create the two
# checkpoints there and dump them. (The test driver keeps its state per connection, so one virsh
# process runs the whole sequence.)
cat >"$tmp/domain.xml" <<'XML'
<domain type='test'>
  <name>sample</name>
  <uuid>5c6d7e8f-0a1b-4c2d-9e3f-405162738495</uuid>
  <memory unit='KiB'>1048576</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
  </os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='/var/lib/libvirt/images/sample-vda.qcow2'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
    </disk>
  </devices>
</domain>
XML
cat >"$tmp/cp1.xml" <<'XML'
<domaincheckpoint>
  <name>cp1</name>
  <description>Nightly backup, first of the chain</description>
  <disks>
    <disk name='vda' checkpoint='bitmap'/>
    <disk name='sda' checkpoint='no'/>
  </disks>
</domaincheckpoint>
XML
cat >"$tmp/cp2.xml" <<'XML'
<domaincheckpoint>
  <name>cp2</name>
  <disks>
    <disk name='vda' checkpoint='bitmap'/>
    <disk name='sda' checkpoint='no'/>
  </disks>
</domaincheckpoint>
XML
mkdir -p "$here/checkpoints"
virsh -q -c test:///default "define $tmp/domain.xml; start sample; checkpoint-create sample $tmp/cp1.xml; \
  checkpoint-create sample $tmp/cp2.xml; checkpoint-dumpxml sample cp1; checkpoint-dumpxml sample cp2" \
  | grep -v '^Domain checkpoint .* created$' >"$tmp/virsh.out"
# virsh printed the two documents one after the other: split them at their root elements
python3 - "$tmp/virsh.out" "$here/checkpoints" <<'PY'
import sys
text = open(sys.argv[1]).read()
docs = ["<domaincheckpoint>" + d for d in text.split("<domaincheckpoint>")[1:]]
assert len(docs) == 2, f"expected 2 checkpoint documents from virsh, got {len(docs)}"
for name, doc in zip(("cp1", "cp2"), docs):
    with open(f"{sys.argv[2]}/{name}.xml", "w") as f:
        f.write(doc)
PY

cp "$img" "$here/vda.qcow2"
echo "sample: $(du -k "$here/vda.qcow2" | cut -f1) KiB on disk; bitmaps: $(qemu-img info --output=json "$here/vda.qcow2" | python3 -c 'import json,sys; print(", ".join(b["name"] for b in json.load(sys.stdin)["format-specific"]["data"]["bitmaps"]))')"
