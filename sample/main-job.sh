#!/usr/bin/env bash
# The main job: exercises the built `tidemark` command on the sample shipped in this folder.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tidemark="$root/tidemark"
"$tidemark" --version
