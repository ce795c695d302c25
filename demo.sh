#!/usr/bin/env bash
# The main job, on a fresh machine: the first seed article's CronJob (examples/foo-batch.yaml) in a throwaway
# sandbox, a transient run of it with configuration only that run sees (NUM=2, so it succeeds), its log, and the
# cleanup. Exit code = the run's (0 completed, 1 failed; README "Exit codes"). Try NUM=3 for a failing run.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
dotnet build src/JobKit.KubectlPlugin -c Release -v quiet -nologo >&2
exec src/JobKit.KubectlPlugin/bin/Release/net10.0/kubectl-create-transient_configmap foo-configmap \
  --from-literal="num=${NUM:-2}" --job-name=test --job-from=cronjob/foo-batch \
  --sandbox --sandbox-seed examples/foo-batch.yaml
