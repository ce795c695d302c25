#!/usr/bin/env bash
# The main job: start the sandbox, run examples/hello-job.yaml in it, print its logs, stop. Exit code = the Job's.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
dotnet build src/JobKit.Cli -c Release -v quiet -nologo >&2
exec dotnet src/JobKit.Cli/bin/Release/net10.0/jobkit.dll sandbox --kubeconfig-out "${TMPDIR:-/tmp}/jobkit-demo.kubeconfig" --run-job "${1:-examples/hello-job.yaml}"
