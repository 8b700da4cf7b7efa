#!/usr/bin/env bash
# A real single-node SLURM on this machine, from Debian's packages, with two fake GPUs: what
# tests/test_slurm.py submits the atlas to. Needs root and no systemd (facts: shared CLUSTER.md).
#   cluster.sh install   apt-get the packages (slurm-wlm, munge)
#   cluster.sh start     write the config, start munged, slurmctld and slurmd; wait until idle
#   cluster.sh stop      stop the three daemons by their pid files
# Its slurm.conf exists only while it runs, and it never replaces a slurm.conf it did not
# write: Snakemake's SLURM plugin probes the cluster when it is imported, and with a slurm.conf
# but no controller every snakemake call on the machine would wait ~10 s.
set -euo pipefail
DIR=/etc/slurm
MARK="# written by vgg16-atlas tests/slurm/cluster.sh"

stop() {
  for pidfile in /run/slurmd.pid /run/slurmctld.pid /run/munge/munged.pid; do
    if [ -f "$pidfile" ]; then kill "$(cat "$pidfile")" 2>/dev/null || true; fi
  done
  sleep 1
  # slurmctld cannot remove its own pid file, and a stale one breaks a later start or purge.
  rm -f /run/slurmctld.pid /run/slurmd.pid
  if grep -qx "$MARK" "$DIR/slurm.conf" 2>/dev/null; then rm -f "$DIR/slurm.conf" "$DIR/gres.conf"; fi
}

case "${1:-}" in
install)
  if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
  fi
  ;;
start)
  if [ -f "$DIR/slurm.conf" ] && ! grep -qx "$MARK" "$DIR/slurm.conf"; then
    echo "cluster.sh: $DIR/slurm.conf is not this test's; refusing to replace it" >&2
    exit 1
  fi
  stop
  host=$(hostname -s)
  # The hardware part of `slurmd -C`: CPUs, boards, sockets, cores, threads, memory.
  hardware=$(slurmd -C | head -n 1 | cut -d' ' -f2-)
  mkdir -p "$DIR" /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/munge
  chown munge:munge /run/munge
  chown slurm:slurm /var/spool/slurmctld /var/log/slurm
  cat >"$DIR/slurm.conf" <<CONF
$MARK
ClusterName=atlas-test
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=slurm
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
GresTypes=gpu
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MailProg=/bin/true
ReturnToService=2
MinJobAge=3600
EnforcePartLimits=ALL
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
NodeName=${host} NodeAddr=127.0.0.1 ${hardware} Gres=gpu:2 State=UNKNOWN
PartitionName=gpu Nodes=${host} Default=YES MaxTime=INFINITE State=UP
CONF
  # Fake GPUs must be device files: with regular files SLURM sets no CUDA_VISIBLE_DEVICES.
  cat >"$DIR/gres.conf" <<CONF
AutoDetect=off
Name=gpu File=/dev/null
Name=gpu File=/dev/zero
CONF
  runuser -u munge -- /usr/sbin/munged
  munge -n | unmunge >/dev/null
  slurmctld
  slurmd
  for _ in $(seq 60); do
    if sinfo -h -o %t 2>/dev/null | grep -qx idle; then exit 0; fi
    sleep 0.5
  done
  echo "cluster.sh: the node did not become idle; see /var/log/slurm/" >&2
  exit 1
  ;;
stop)
  stop
  ;;
*)
  echo "usage: $0 install|start|stop" >&2
  exit 2
  ;;
esac
