#!/usr/bin/env bash
# A private single-node Slurm cluster for tests: munged, slurmctld and slurmd of Debian's
# slurm-wlm/munge, all under one folder, on ports of their own, with no cgroups
# (proctrack/linuxproc), so it runs inside a container as root.
#
#   tests/slurm/cluster.sh start DIR   writes DIR/slurm.conf, starts the daemons and waits (at
#                                      most 60 s) until the node is idle; prints
#                                      "export SLURM_CONF=DIR/slurm.conf" for the clients
#   tests/slurm/cluster.sh stop DIR    stops what start started (by the pid files in DIR)
#
# Nothing outside DIR is written or read but the slurm-wlm/munge binaries and plugins.
set -euo pipefail

cmd=${1:?usage: cluster.sh start|stop DIR}
DIR=$(mkdir -p "${2:?usage: cluster.sh start|stop DIR}" && cd "$2" && pwd)

stop() {
  local f pid
  for f in slurmd slurmctld munged; do
    [ -f "$DIR/$f.pid" ] || continue
    pid=$(cat "$DIR/$f.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$DIR/$f.pid"
  done
}

if [ "$cmd" = stop ]; then
  stop
  exit 0
fi
[ "$cmd" = start ] || { echo "cluster.sh: unknown command '$cmd' (start, stop)" >&2; exit 1; }
for b in munged slurmctld slurmd sbatch; do
  command -v "$b" >/dev/null || { echo "cluster.sh: '$b' not found (apt install slurm-wlm munge)" >&2; exit 1; }
done

host=$(hostname -s)
# Free ports, picked by the kernel.
read -r p1 p2 < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
cpus=$(nproc)
mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024))
mkdir -p "$DIR/state" "$DIR/spool" "$DIR/munge"
chmod 700 "$DIR/munge"
dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$DIR/munge/munge.key"
cat > "$DIR/slurm.conf" <<CONF
ClusterName=epetest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$p1
SlurmdPort=$p2
AuthType=auth/munge
AuthInfo=socket=$DIR/munge/munge.socket
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=1
MinJobAge=600
NodeName=$host CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF

trap 'stop' ERR
munged --force --socket="$DIR/munge/munge.socket" --key-file="$DIR/munge/munge.key" \
  --pid-file="$DIR/munged.pid" --log-file="$DIR/munged.log" --seed-file="$DIR/munge/munge.seed"
export SLURM_CONF=$DIR/slurm.conf
slurmctld -f "$SLURM_CONF"
slurmd -f "$SLURM_CONF"
for _ in $(seq 120); do
  state=$(sinfo -h -N -o %T 2>/dev/null | head -1 || true)
  [ "$state" = idle ] && { echo "export SLURM_CONF=$SLURM_CONF"; exit 0; }
  sleep 0.5
done
echo "cluster.sh: the node did not become idle within 60 s (state '${state:-none}'); logs in $DIR" >&2
tail -5 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
stop
exit 1
