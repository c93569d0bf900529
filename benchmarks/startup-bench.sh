#!/usr/bin/env bash
# Start-up bench: `tidemark --version` and a no-op incremental backup (nothing dirty) with each
# start-up cache the launcher can use, against `qemu-img --version`, interleaved run by run.
#
# Usage: benchmarks/startup-bench.sh [--runs N] [--work DIR] [JAVA...]
#
#   --runs N   rounds (default 20); each round runs every variant once, in a fixed order
#   --work DIR where the small bench image and repositories go (default /var/tmp/tidemark-startup;
#              made by e2e-bench.sh --prepare-only with SIZE=1G DATA=64M REWRITE=16M)
#   JAVA...    the java commands to compare (default: java on the PATH); for each: the launcher
#              without any cache (TIDEMARK_NO_CDS=1) and with its cache (a dynamic CDS archive
#              before Java 25, an AOT cache from Java 25)
#
# Medians and the ratio to qemu-img --version of the same run are printed as a Markdown table.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs=20 work=/var/tmp/tidemark-startup javas=()
while (($#)); do
  case $1 in
    --runs) runs=$2; shift ;;
    --work) work=$2; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) javas+=("$1") ;;
  esac
  shift
done
((${#javas[@]})) || javas=(java)
tm="$root/tidemark"
if [[ ! -f "$work/ckpt/cp3.xml" ]]; then
  SIZE=1G DATA=64M REWRITE=16M "$root/benchmarks/e2e-bench.sh" --prepare-only --no-large --no-mix --work "$work" >/dev/null
fi
cd "$work"
noop="$tm backup -q --repo repo-t --checkpoint ckpt/cp3.xml --checkpoint-dir ckpt --disk vda=img/src.qcow2"
variants=("qemu-img --version|qemu-img --version")
for j in "${javas[@]}"; do
  v=$("$j" -version 2>&1 | head -1 | sed 's/.*version "\([^"]*\)".*/\1/')
  JAVA=$j "$tm" --version >/dev/null   # the one-time training, outside the timing
  variants+=("$v, no cache: --version|JAVA=$j TIDEMARK_NO_CDS=1 $tm --version"
    "$v, cache: --version|JAVA=$j $tm --version"
    "$v, no cache: no-op incremental|JAVA=$j TIDEMARK_NO_CDS=1 $noop"
    "$v, cache: no-op incremental|JAVA=$j $noop")
done
times=$(mktemp)
trap 'rm -rf "$times" repo-t' EXIT
for round in $(seq 0 "$runs"); do
  for v in "${variants[@]}"; do
    IFS='|' read -r label cmd <<<"$v"
    rm -rf repo-t
    [[ $cmd != *repo-t* ]] || cp -a repo-cp2 repo-t
    t0=$EPOCHREALTIME
    sh -c "$cmd" >/dev/null
    t1=$EPOCHREALTIME
    ((round == 0)) || printf '%s|%s\n' "$label" "$(echo "$t1 - $t0" | bc)" >>"$times"
  done
done
/usr/bin/python3 - "$times" "$runs" <<'PY'
import collections, statistics, sys
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    k, v = line.rsplit("|", 1)
    t[k].append(float(v))
base = statistics.median(t["qemu-img --version"])
print(f"{sys.argv[2]} interleaved rounds after a warm-up round; medians\n")
print("| command | median ms | x qemu-img --version |")
print("| --- | ---: | ---: |")
for k, v in t.items():
    m = statistics.median(v)
    print(f"| {k} | {m * 1000:.0f} | {m / base:.0f} |")
PY
