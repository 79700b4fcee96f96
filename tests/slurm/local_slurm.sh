#!/usr/bin/env bash
# A real Slurm on this machine, for tests: munged, MariaDB + slurmdbd (so
# that sacct answers), slurmctld and slurmd, every file under DIR.
#
#   tests/slurm/local_slurm.sh start DIR [NODES]   # prints SLURM_CONF=...
#   tests/slurm/local_slurm.sh stop DIR
#
# NODES = 1 (default): one slurmd for this machine, on 127.0.0.1. NODES > 1:
# each node is its own network namespace on a bridge (its own 10.x
# address), running `slurmd -N nodeK`, slurmctld on the bridge's address:
# a multi-node allocation whose steps really run on different "hosts".
# Needs root. Exit 2 (and a line saying what) when something this needs is
# missing, so a caller can skip; 1 when a daemon does not come up (its log
# is printed).
set -euo pipefail

cmd="${1:-}"
dir="${2:-}"
nodes="${3:-1}"
[ -n "$cmd" ] && [ -n "$dir" ] || { echo "usage: $0 start|stop DIR [NODES]" >&2; exit 2; }

stop() {
  local d="$1"
  [ -d "$d" ] || return 0
  # Daemons first (by their pid files), then namespaces and the bridge.
  for f in "$d"/run/*.pid "$d"/db/mariadb.pid; do
    [ -f "$f" ] || continue
    kill "$(cat "$f")" 2>/dev/null || true
  done
  for f in "$d"/run/*.pid "$d"/db/mariadb.pid; do
    [ -f "$f" ] || continue
    local pid; pid="$(cat "$f")"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$f"
  done
  if [ -f "$d/netns" ]; then
    read -r prefix count bridge < "$d/netns"
    for i in $(seq 1 "$count"); do
      for pid in $(ip netns pids "${prefix}$i" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "${prefix}$i" 2>/dev/null || true
    done
    ip link del "$bridge" 2>/dev/null || true
    rm -f "$d/netns"
  fi
  if [ -f "$d/munged.ours" ]; then
    local mdir; mdir="$(cat "$d/munged.ours")"
    if [ -f "$mdir/munged.pid" ]; then
      local mpid; mpid="$(cat "$mdir/munged.pid")"
      kill "$mpid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$mpid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -rf "$mdir" "$d/munged.ours"
  fi
}

if [ "$cmd" = stop ]; then
  stop "$dir"
  exit 0
fi
[ "$cmd" = start ] || { echo "usage: $0 start|stop DIR [NODES]" >&2; exit 2; }

[ "$(id -u)" = 0 ] || { echo "local_slurm: needs root (slurmd, munged, namespaces)"; exit 2; }
for prog in munged munge slurmctld slurmd slurmdbd mariadbd mariadb-install-db mariadb sbatch sacct; do
  command -v "$prog" >/dev/null || { echo "local_slurm: $prog is missing (deploy/bootstrap.sh installs Slurm, munge, slurmdbd and MariaDB)"; exit 2; }
done

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
wait_for() {  # wait_for SECONDS CMD...: until CMD succeeds
  local until=$((SECONDS + $1)); shift
  while ! "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $until ] || return 1
    sleep 0.2
  done
}

mkdir -p "$dir"/{db,state,spool,log,run}
dir="$(cd "$dir" && pwd)"
trap 'rc=$?; if [ $rc -ne 0 ]; then tail -n 20 "$dir"/log/*.log "$dir"/db/error.log 2>/dev/null >&2; stop "$dir"; fi' EXIT

# munge: Slurm 22.05 reaches munged at its default socket for some
# messages whatever AuthInfo says, so a running munged is used as it is
# and otherwise one is started there with a key of our own.
if ! { munge -n | unmunge; } >/dev/null 2>&1; then
  install -d -o munge -g munge -m 0755 /run/munge
  # munged runs as munge: its files in a folder of its own (DIR may sit
  # under one only root can enter).
  mdir="$(mktemp -d /tmp/dstrain-munge.XXXXXX)"
  echo "$mdir" > "$dir/munged.ours"
  chown munge:munge "$mdir"
  dd if=/dev/urandom of="$mdir/munge.key" bs=1024 count=1 2>/dev/null
  chown munge:munge "$mdir/munge.key"
  chmod 0400 "$mdir/munge.key"
  su -s /bin/sh munge -c "munged --force --key-file=$mdir/munge.key --pid-file=$mdir/munged.pid --log-file=$mdir/munged.log --seed-file=$mdir/seed"
  wait_for 10 sh -c 'munge -n | unmunge' || { echo "local_slurm: munged did not start"; exit 1; }
fi

# MariaDB for slurmdbd, on a port of its own.
db_port="$(free_port)"
mariadb-install-db --no-defaults --datadir="$dir/db/data" --user=root \
  --auth-root-authentication-method=socket >"$dir/log/mariadb-install.log" 2>&1
mariadbd --no-defaults --datadir="$dir/db/data" --user=root \
  --socket="$dir/db/mysql.sock" --port="$db_port" --bind-address=127.0.0.1 \
  --pid-file="$dir/db/mariadb.pid" --log-error="$dir/db/error.log" \
  --skip-name-resolve >/dev/null 2>&1 &
wait_for 60 mariadb --no-defaults -S "$dir/db/mysql.sock" -u root -e 'SELECT 1' \
  || { echo "local_slurm: MariaDB did not start"; exit 1; }
mariadb --no-defaults -S "$dir/db/mysql.sock" -u root -e \
  "CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm'; GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"

short="$(hostname -s)"
ctld_port="$(free_port)"
slurmd_port="$(free_port)"
dbd_port="$(free_port)"
cpus="$(nproc)"
if [ "$nodes" -gt 1 ]; then
  # Unique per run: tests may run side by side.
  tag="$(printf '%04x' $((RANDOM % 65536)))"
  prefix="ds${tag}n"
  bridge="dsb${tag}"
  net="10.$((100 + RANDOM % 100)).$((RANDOM % 250)).0"
  base="${net%.0}"
  echo "$prefix $nodes $bridge" > "$dir/netns"
  ip link add "$bridge" type bridge
  ip addr add "$base.254/24" dev "$bridge"
  ip link set "$bridge" up
  for i in $(seq 1 "$nodes"); do
    ip netns add "${prefix}$i"
    ip link add "v${prefix}$i" type veth peer name e0 netns "${prefix}$i"
    ip link set "v${prefix}$i" master "$bridge"
    ip link set "v${prefix}$i" up
    ip -n "${prefix}$i" addr add "$base.$i/24" dev e0
    ip -n "${prefix}$i" link set e0 up
    ip -n "${prefix}$i" link set lo up
  done
  ctld_addr="$base.254"
  node_lines=""
  for i in $(seq 1 "$nodes"); do
    node_lines+="NodeName=node$i NodeHostname=$short NodeAddr=$base.$i CPUs=$cpus State=UNKNOWN"$'\n'
  done
  # A two-leaf fabric, for placement: the first half under leaf0.
  half=$(( (nodes + 1) / 2 ))
  {
    echo "SwitchName=leaf0 Nodes=node[1-$half]"
    [ "$nodes" -gt "$half" ] && echo "SwitchName=leaf1 Nodes=node[$((half + 1))-$nodes]"
    [ "$nodes" -gt "$half" ] && echo "SwitchName=spine Switches=leaf[0-1]"
  } > "$dir/topology.conf"
  topology="TopologyPlugin=topology/tree"
else
  ctld_addr=127.0.0.1
  node_lines="NodeName=$short NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN"$'\n'
  topology=""
fi

cat > "$dir/slurmdbd.conf" <<CONF
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
DbdPort=$dbd_port
SlurmUser=root
LogFile=$dir/log/slurmdbd.log
PidFile=$dir/run/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$db_port
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
CONF
chmod 0600 "$dir/slurmdbd.conf"
cat > "$dir/slurm.conf" <<CONF
ClusterName=dstrain$(printf '%04x' $((RANDOM % 65536)))
SlurmctldHost=$short($ctld_addr)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool/%n
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd-%n.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$dbd_port
JobRequeue=1
AccountingStoreFlags=job_comment
KillWait=5
MinJobAge=300
$topology
$node_lines
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmdbd
wait_for 30 sacctmgr -n list cluster || { echo "local_slurm: slurmdbd did not answer"; exit 1; }
slurmctld
if [ "$nodes" -gt 1 ]; then
  for i in $(seq 1 "$nodes"); do
    mkdir -p "$dir/spool/node$i"
    # nsenter, not `ip netns exec`: that mounts a fresh /sys for the
    # namespace, without the cgroup file systems slurmd 22.05 insists on.
    nsenter --net="/run/netns/${prefix}$i" slurmd -N "node$i"
  done
else
  mkdir -p "$dir/spool/$short"
  slurmd
fi
idle() { [ "$(sinfo -h -o '%T' | sort -u)" = idle ]; }
wait_for 60 idle || { echo "local_slurm: the nodes did not come up idle"; sinfo >&2; exit 1; }
echo "SLURM_CONF=$SLURM_CONF"
trap - EXIT
