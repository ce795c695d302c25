#!/usr/bin/env bash
# All tests: format check, Release build (warnings are errors), then every test project twice: on the sandbox,
# and on the real Kubernetes control plane in ../shared/kube-control-plane with JobKit's process kubelet as
# its node. Set JOBKIT_TEST_KUBECONFIG yourself to run the suite against any other cluster instead.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
dotnet format --verify-no-changes -v quiet
dotnet build -c Release -nologo -v quiet
run_suite() { dotnet test JobKit.slnx -c Release --no-build --nologo "$@"; }

if [[ -n ${JOBKIT_TEST_KUBECONFIG:-} ]]; then
  echo "== end-to-end suite on $JOBKIT_TEST_KUBECONFIG" >&2
  run_suite
  exit 0
fi

echo "== end-to-end suite on the sandbox" >&2
run_suite

# The real control plane: $JOBKIT_KCP, else ../shared/kube-control-plane beside this checkout, else the workplace's copy.
KCP=${JOBKIT_KCP:-$(cd .. && pwd)/shared/kube-control-plane}
[[ -f $KCP/start || -n ${JOBKIT_KCP:-} ]] || KCP=/work/shared/kube-control-plane
if [[ ! -f $KCP/start ]]; then
  echo "== SKIPPED: the real control plane pass ($KCP is absent)" >&2
  exit 0
fi
echo "== end-to-end suite on the real control plane ($KCP)" >&2
kubeconfig=$(bash "$KCP/start")
kubelet_pid=
cleanup() {
  [[ -z $kubelet_pid ]] || kill "$kubelet_pid" 2>/dev/null || true
  bash "$KCP/stop" "$(dirname "$kubeconfig")" >&2
}
trap cleanup EXIT
# One node for every test project (they run in parallel): JobKit's process kubelet, as a real node would be.
dotnet src/JobKit.Cli/bin/Release/net10.0/jobkit.dll kubelet --kubeconfig "$kubeconfig" --node-name jobkit-e2e \
  --client-ca-file "$(dirname "$kubeconfig")/pki/ca.crt" &
kubelet_pid=$!
for _ in $(seq 60); do
  kubectl --kubeconfig "$kubeconfig" get node jobkit-e2e >/dev/null 2>&1 && break
  sleep 1
done
kubectl --kubeconfig "$kubeconfig" wait --for=condition=Ready node/jobkit-e2e --timeout=60s >&2
JOBKIT_TEST_KUBECONFIG=$kubeconfig run_suite
