#!/usr/bin/env bash
# Installs what JobKit needs on a fresh Debian machine: bubblewrap (the process kubelet confines containers
# with it). The .NET 10 SDK must already be on PATH. Idempotent; uses sudo when not root.
set -euo pipefail
need=()
command -v bwrap >/dev/null || need+=(bubblewrap)
command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK (dotnet) is required: https://dot.net" >&2; exit 1; }
if ((${#need[@]})); then
  echo "setup: installing ${need[*]} from Debian" >&2
  SUDO=()
  ((EUID == 0)) || SUDO=(sudo -n)
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 update >&2
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -qq -o DPkg::Lock::Timeout=300 install -y --no-install-recommends "${need[@]}" >&2
fi
