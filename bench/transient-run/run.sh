#!/usr/bin/env bash
# Transient run, timed and counted against one jobkit sandbox: the seed article's kubectl chain (the commands its
# plugin runs: create configmap, create job --from, wait, delete job, delete configmap) against
# `kubectl create transient_configmap` (JobKit's plugin), with a trivial Job. Requests are counted from -v=6 lines
# (one line per API request, kubectl's format, which jobkit shares). Also: process start-up of the plugin against
# `kubectl version --client`.
#   bench/transient-run/run.sh [RUNS]      (default 5)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-5}
work=$(mktemp -d)
# Installed as README says: published ReadyToRun (ahead-of-time compiled), jobkit and the plugin side by side.
bin=$work/bin
dotnet publish src/JobKit.KubectlPlugin -c Release -r linux-x64 --self-contained false -o "$bin" -v quiet -nologo >&2
kc=$work/kubeconfig
dotnet $bin/jobkit.dll sandbox --kubeconfig-out "$kc" >"$work/sandbox.log" 2>&1 &
sandbox=$!
trap 'kill $sandbox 2>/dev/null; wait $sandbox 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [[ -s $kc ]] && break; sleep 0.1; done
k() { kubectl --kubeconfig "$kc" "$@"; }
for _ in $(seq 100); do k get node sandbox >/dev/null 2>&1 && break; sleep 0.1; done
k wait --for=condition=Ready node/sandbox --timeout=60s >/dev/null
k apply -f - >/dev/null <<'YAML'
apiVersion: batch/v1
kind: CronJob
metadata:
  name: foo-batch
spec:
  schedule: "0 0 * * *"
  jobTemplate:
    spec:
      backoffLimit: 0
      template:
        spec:
          restartPolicy: Never
          containers:
            - name: foo-batch
              image: busybox:1.36
              command: ["sh", "-c", "echo NUM=$NUM"]
              env:
                - name: NUM
                  valueFrom:
                    configMapKeyRef: {name: foo-configmap, key: num, optional: true}
YAML
requests() { grep -cE '(GET|POST|PUT|PATCH|DELETE) https?://[^ ]+ [0-9]{3} ' "$1" || true; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN {print b - a}'; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

seed_chain() {
  local log=$1 job=$2
  k create configmap foo-configmap --from-literal=num=2 -v=6 >/dev/null 2>>"$log" &&
    k create job "$job" --from=cronjob/foo-batch -v=6 >/dev/null 2>>"$log" &&
    k wait --for=condition=complete "job/$job" --timeout=30s -v=6 >/dev/null 2>>"$log" &&
    k delete job "$job" -v=6 >/dev/null 2>>"$log" &&
    k delete configmap foo-configmap -v=6 >/dev/null 2>>"$log"
}
plugin() {
  local log=$1 job=$2
  PATH=$bin:$PATH kubectl create transient_configmap foo-configmap --from-literal=num=2 --job-name="$job" \
    --job-from=cronjob/foo-batch --kubeconfig "$kc" -v 6 >/dev/null 2>>"$log"
}

# Job names: seed-chain-N, plugin-N (kubectl's chain leaves the Job's pods to the garbage collector).
for variant in seed_chain plugin; do
  : >"$work/times"
  for i in $(seq "$runs"); do
    log=$work/$variant-$i.log
    start=$(now)
    $variant "$log" "${variant//_/-}-$i" || { echo "$variant run $i failed:" >&2; cat "$log" >&2; exit 1; }
    elapsed "$start" >>"$work/times"
    echo "$(requests "$log")" >>"$work/requests-$variant"
  done
  [[ -z ${BENCH_DEBUG:-} ]] || cat "$work/$variant-1.log" >&2
  printf '%-28s median %6.2f s over %d runs, %s API requests per run\n' "$variant" "$(median <"$work/times")" "$runs" "$(median <"$work/requests-$variant")"
done
if [[ -n $(k get jobs,configmaps -l app.kubernetes.io/managed-by=jobkit -o name) ]]; then echo "leftovers!" >&2; exit 1; fi

startup() {
  : >"$work/startup"
  for _ in $(seq 10); do start=$(now); "$@" >/dev/null 2>&1; elapsed "$start" >>"$work/startup"; done
  printf '%-44s median %5.0f ms (10 runs)\n' "$*" "$(median <"$work/startup" | awk '{print $1*1000}')"
}
startup kubectl version --client
startup "$bin/kubectl-create-transient_configmap" --help
startup "$bin/jobkit" --help
