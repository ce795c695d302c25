#!/usr/bin/env bash
# All tests: format check, Release build (warnings are errors), then the whole suite twice: on the sandbox,
# and on the real Kubernetes control plane in ../shared/kube-control-plane with JobKit's process kubelet as
# its node. Set JOBKIT_TEST_KUBECONFIG yourself to run the suite against any other cluster instead.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
dotnet format --verify-no-changes -v quiet
dotnet build -c Release -nologo -v quiet
run_suite() { dotnet test -c Release --no-build --nologo tests/JobKit.Sandbox.Tests "$@"; }

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
trap 'bash "$KCP/stop" "$(dirname "$kubeconfig")" >&2' EXIT
JOBKIT_TEST_KUBECONFIG=$kubeconfig run_suite
