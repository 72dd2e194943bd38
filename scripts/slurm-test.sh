#!/usr/bin/env bash
# Tests `resnet-exp sweep --emit slurm` against a real, private, one-node Slurm on localhost.
# Installs Debian's slurm-wlm and munge when missing (as root, with apt), then runs `npm run test:slurm`,
# which starts munged, slurmctld and slurmd itself, submits a job array and stops them again.
#
# Exit status: 0 passed; 77 Slurm is not available here (not root, no apt, daemons won't start): nothing was
# tested; anything else: the test failed.
set -uo pipefail
cd "$(dirname "$0")/.."

SKIP=77
unavailable() {
  echo "slurm-test: Slurm not available here: $*" >&2
  exit "$SKIP"
}

need=()
for bin in munged slurmctld slurmd sbatch squeue sinfo scontrol; do
  command -v "$bin" >/dev/null 2>&1 || need+=("$bin")
done
if [ "${#need[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || unavailable "missing ${need[*]}, and installing them needs root"
  command -v apt-get >/dev/null 2>&1 || unavailable "missing ${need[*]}, and there is no apt-get to install them"
  echo "slurm-test: installing slurm-wlm and munge" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Package scripts try to start services; there is no init system to start them in a container.
  if ! { apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1; }; }; then
    unavailable "apt-get install slurm-wlm munge failed"
  fi
fi
[ "$(id -u)" -eq 0 ] || unavailable "slurmd must run as root"

# The test keeps its cluster (config, logs, pid files) here; whatever happens, its daemons are stopped on exit.
RESNET_EXP_SLURM_DIR="$(mktemp -d /tmp/resnet-exp-slurm-XXXXXX)"
RESNET_EXP_SLURM_UNAVAILABLE_FILE="$RESNET_EXP_SLURM_DIR/unavailable"
export RESNET_EXP_SLURM_DIR RESNET_EXP_SLURM_UNAVAILABLE_FILE
cleanup() {
  for pidfile in slurmd.pid slurmctld.pid munged.pid; do
    pid="$(cat "$RESNET_EXP_SLURM_DIR/$pidfile" 2>/dev/null)" || continue
    [ -n "$pid" ] && kill "$pid" 2>/dev/null
  done
  [ "${KEEP_SLURM_DIR:-}" = 1 ] || rm -rf "$RESNET_EXP_SLURM_DIR"
}
trap cleanup EXIT

npm run --silent test:slurm
status=$?
if [ -s "$RESNET_EXP_SLURM_UNAVAILABLE_FILE" ]; then
  unavailable "$(head -n 1 "$RESNET_EXP_SLURM_UNAVAILABLE_FILE")"
fi
exit "$status"
