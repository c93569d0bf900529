#!/usr/bin/env bash
# The main job: a full backup, an incremental backup, a verify and a restore of the sample disk,
# ending with a check that the restored disk equals the source — all through ./tidemark.
#
# The sample (see make-sample.sh): sample/vda.qcow2 with bitmaps cp1 and cp2, and the checkpoint
# XML libvirt wrote for them in sample/checkpoints/. The repository and the restore go to a fresh
# work directory (first argument, default: a new temporary directory); the sample is only read.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tidemark="$root/tidemark"
sample="$root/sample"
work="${1:-$(mktemp -d -t tidemark-main-job.XXXXXX)}"
mkdir -p "$work"
repo="$work/repo"
restore="$work/restore"

step() { printf '\n== %s\n' "$*"; }

step "full backup at checkpoint cp1"
"$tidemark" backup --repo "$repo" --checkpoint "$sample/checkpoints/cp1.xml" --disk "vda=$sample/vda.qcow2"

step "incremental backup at checkpoint cp2 (changes since cp1, from bitmap cp1)"
"$tidemark" backup --repo "$repo" --checkpoint "$sample/checkpoints/cp2.xml" \
  --checkpoint-dir "$sample/checkpoints" --disk "vda=$sample/vda.qcow2"

step "list"
"$tidemark" list --repo "$repo"

step "verify every chunk of every archive"
"$tidemark" verify --repo "$repo"

step "restore the newest point"
"$tidemark" restore --repo "$repo" --domain sample --to "$restore"

step "compare the restored disk with the source"
"$tidemark" image compare "$sample/vda.qcow2" "$restore/vda.raw"

step "restore the newest point again, as a qcow2 image written by Tidemark, and compare it"
"$tidemark" restore --repo "$repo" --domain sample --to "$work/restore-qcow2" --format qcow2
"$tidemark" image compare "$sample/vda.qcow2" "$work/restore-qcow2/vda.qcow2"

printf '\nmain job done: repository %s, restores %s and %s\n' "$repo" "$restore" "$work/restore-qcow2"
