#!/usr/bin/env bash
# Hashing 10,000 ConfigMaps of 10 keys: JobKit.Core.Hashing (whole process, dotnet startup included) against kustomize
# (one `kubectl kustomize` over 10,000 configMapGenerator entries, whole process), same inputs, same run; checks the names agree.
# kustomize grows worse than linearly in the number of generators: 10,000 took ~14 min here (1,000: ~4 s). Usage: run.sh [COUNT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
count="${1:-10000}"
kubectl="${JOBKIT_TEST_KUBECTL:-$( [ -x /usr/bin/kubectl ] && echo /usr/bin/kubectl || echo kubectl )}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

dotnet build -c Release -v q -nologo "$root/bench/JobKit.Bench.Hash" -o "$work/bin" >/dev/null
bench=(dotnet "$work/bin/JobKit.Bench.Hash.dll")
mkdir -p "$work/k"
"${bench[@]}" generate "$work/k" "$count"

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

"${bench[@]}" hash "$work/k" >/dev/null 2>&1 # warm the disk cache for both
t0=$(now); "$kubectl" kustomize "$work/k" > "$work/kustomize.yaml"; t1=$(now)
"${bench[@]}" hash "$work/k" > "$work/ours.txt" 2> "$work/ours.err"; t2=$(now)

grep -E '^  name: ' "$work/kustomize.yaml" | sed 's/^  name: //' | sort > "$work/theirs.sorted"
sort "$work/ours.txt" > "$work/ours.sorted"
if cmp -s "$work/theirs.sorted" "$work/ours.sorted"; then agree="all $(wc -l < "$work/ours.sorted") names agree"; else agree="NAMES DIFFER"; fi

echo "ConfigMaps: $count x 10 keys"
echo "kubectl kustomize (whole process): $(elapsed "$t0" "$t1") s"
echo "JobKit.Bench.Hash (whole process): $(elapsed "$t1" "$t2") s"
echo "JobKit $(cat "$work/ours.err")"
echo "$agree"
[ "$agree" != "NAMES DIFFER" ]
