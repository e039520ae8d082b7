#!/usr/bin/env bash
# A single-node SLURM on this machine, for crates/cli/tests/slurm.rs: installs Debian's slurm-wlm and
# munge when missing (as root, with apt), writes a minimal slurm.conf for this host (no
# cgroups, no accounting: what a container allows), starts munged, slurmctld and slurmd, and
# waits until the node takes jobs. Prints one line and exits 0 when SLURM is up; exits 3 with
# the reason on its last line when it cannot be started here (the test is then skipped).
set -uo pipefail

cannot() { echo "cannot start SLURM here: $*"; exit 3; }

[ "$(id -u)" -eq 0 ] || cannot "not root (a test SLURM needs root to start its daemons)"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    command -v apt-get >/dev/null || cannot "slurm-wlm and munge are missing and there is no apt-get"
    install() { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null 2>&1; }
    install || { apt-get update -qq >/dev/null 2>&1 && install; } \
        || cannot "apt-get install slurm-wlm munge failed"
fi

host=$(hostname -s)
cpus=$(nproc)
if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "SLURM is already up on $host"
    exit 0
fi

# munge: the key the package made, its own user, its run directory.
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
[ -s /etc/munge/munge.key ] || { mungekey --create >/dev/null 2>&1 || cannot "no munge key"; }
chown munge:munge /etc/munge/munge.key
pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged || cannot "munged did not start"

mkdir -p /etc/slurm /var/spool/slurmctld /var/spool/slurmd /var/log/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=epmtest
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
SwitchType=switch/none
JobRequeue=1
KillWait=30
# A requeued job waits this long before it starts again (default 120 s).
AuthInfo=cred_expire=10
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
rm -f /etc/slurm/cgroup.conf

pgrep -x slurmctld >/dev/null || /usr/sbin/slurmctld || cannot "slurmctld did not start (see /var/log/slurm/slurmctld.log)"
pgrep -x slurmd >/dev/null || /usr/sbin/slurmd || cannot "slurmd did not start (see /var/log/slurm/slurmd.log)"
for _ in $(seq 60); do
    if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
        echo "SLURM is up on $host ($cpus CPUs)"
        exit 0
    fi
    scontrol update nodename="$host" state=resume >/dev/null 2>&1
    sleep 1
done
cannot "the node never became idle: $(sinfo -h -o '%T %E' 2>&1 | head -1); $(tail -2 /var/log/slurm/slurmd.log 2>/dev/null)"
