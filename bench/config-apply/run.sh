#!/usr/bin/env bash
# Times `jobkit config apply` rolling COUNT Deployments (replicas 1, `sleep 3600`) that share one ConfigMap, in a
# `jobkit sandbox` this script starts (with its process kubelet), without and with --wait, and counts the API requests
# from jobkit's -v 6 request log. Usage: run.sh [COUNT] (default 100). Needs kubectl on PATH.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
count="${1:-100}"
kubectl="${JOBKIT_TEST_KUBECTL:-$( [ -x /usr/bin/kubectl ] && echo /usr/bin/kubectl || echo kubectl )}"
work="$(mktemp -d)"
dll="$root/src/JobKit.Cli/bin/Release/net10.0/jobkit.dll"

dotnet build -c Release -v q -nologo "$root/src/JobKit.Cli" >/dev/null
dotnet "$dll" sandbox --kubeconfig-out "$work/kubeconfig" 2>"$work/sandbox.log" &
sandbox=$!
trap 'kill -TERM $sandbox 2>/dev/null; wait $sandbox 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 120); do [ -s "$work/kubeconfig" ] && "$kubectl" --kubeconfig "$work/kubeconfig" get ns default >/dev/null 2>&1 && break; sleep 0.5; done
k() { "$kubectl" --kubeconfig "$work/kubeconfig" "$@"; }
jobkit() { dotnet "$dll" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }
requests() { grep -cE '^(GET|POST|PUT|PATCH|DELETE) https' "$1" || true; }
by_method() { grep -oE '^(GET|POST|PUT|PATCH|DELETE) https' "$1" | cut -d' ' -f1 | sort | uniq -c | awk '{ printf "%s %s  ", $2, $1 }'; }

k create namespace bench >/dev/null
k -n bench create configmap shared --from-literal=v=0 >/dev/null
{
  for i in $(seq -f '%03g' 1 "$count"); do
    cat <<YAML
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-$i}
spec:
  replicas: 1
  selector: {matchLabels: {app: web-$i}}
  template:
    metadata: {labels: {app: web-$i}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - {name: main, image: busybox, command: [sleep, "3600"], envFrom: [{configMapRef: {name: shared}}]}
YAML
  done
} > "$work/deployments.yaml"
targets="$(seq -f 'deployment/web-%03g' 1 "$count" | paste -sd,)"
k -n bench apply -f "$work/deployments.yaml" >/dev/null
k -n bench wait --for=condition=Available deployment --all --timeout=600s >/dev/null

run() { # label, then apply's arguments
  local label="$1"; shift
  local t0 t1 code=0
  t0=$(now)
  jobkit config apply shared -n bench --kubeconfig "$work/kubeconfig" --to "$targets" -v 6 "$@" >"$work/out" 2>"$work/err" || code=$?
  t1=$(now)
  printf '%-34s %6s s  exit %d  %4d requests (%s)  %d configured\n' "$label" "$(elapsed "$t0" "$t1")" "$code" \
    "$(requests "$work/err")" "$(by_method "$work/err")" "$(grep -c ' configured$' "$work/out" || true)"
}

echo "jobkit config apply, $count Deployments (replicas 1) sharing ConfigMap shared, jobkit sandbox with its process kubelet"
run "v1, no --wait" --from-literal=v=1
k -n bench wait --for=jsonpath='{.status.updatedReplicas}'=1 deployment --all --timeout=600s >/dev/null
run "v1 again (identical, no change)" --from-literal=v=1
run "v2, --wait" --from-literal=v=2 --wait --timeout=10m
run "v3, --wait --keep 1 (prunes v1, v2)" --from-literal=v=3 --wait --timeout=10m --keep 1
echo "configmaps left: $(k -n bench get configmap -o name | grep -v kube-root-ca | paste -sd' ')"
