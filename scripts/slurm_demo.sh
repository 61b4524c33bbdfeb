#!/usr/bin/env bash
# A batch on a real scheduler: starts a single-node Slurm cluster on this machine (Debian's
# slurm-wlm and munge), runs `sootctl analyze` as a 4-task job array over synthetic images
# (`--shard $SLURM_ARRAY_TASK_ID/4`, one output folder per task), merges the shards with
# `sootctl merge` and checks the result against one run over all images, file by file.
#   bash scripts/slurm_demo.sh [WORK_DIR]        (default: a temporary folder)
# Installs slurm-wlm and munge when they are missing; stops the daemons it started. Exit 1
# when the merged result differs. CI runs it (.ci/run). Docs/Reliability.md explains the same on
# a real cluster and as a Kubernetes indexed Job.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$(pwd)"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
work="$(cd "$work" && pwd)"
sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "slurm_demo: installing slurm-wlm and munge" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq slurm-wlm munge >/dev/null
fi
[ -x .build/release/sootctl ] || swift build -c release --product sootctl >/dev/null
sootctl="$root/.build/release/sootctl"

# munge: a key, a daemon with its own socket (root needs --force).
mkdir -p "$work/munge"
[ -f /etc/munge/munge.key ] || $sudo /usr/sbin/mungekey --create --force
$sudo mkdir -p /run/munge /var/log/munge /var/lib/munge
$sudo chown -R munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge 2>/dev/null || true
pgrep -x munged >/dev/null || $sudo /usr/sbin/munged --force

# slurm: one node, this machine, no cgroups.
host="$(hostname -s)"
cpus="$(nproc)"
memory_mb=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 512 ))
mkdir -p "$work/slurm/spool" "$work/slurm/state" "$work/slurm/log"
cat > "$work/slurm/slurm.conf" <<CONF
ClusterName=sootctl-demo
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
SlurmctldPidFile=$work/slurm/slurmctld.pid
SlurmdPidFile=$work/slurm/slurmd.pid
SlurmdSpoolDir=$work/slurm/spool
StateSaveLocation=$work/slurm/state
SlurmctldLogFile=$work/slurm/log/slurmctld.log
SlurmdLogFile=$work/slurm/log/slurmd.log
NodeName=$host CPUs=$cpus RealMemory=$memory_mb State=UNKNOWN
PartitionName=batch Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$work/slurm/slurm.conf"
$sudo env SLURM_CONF="$SLURM_CONF" /usr/sbin/slurmctld -i
$sudo env SLURM_CONF="$SLURM_CONF" /usr/sbin/slurmd
stop() {
    $sudo kill "$(cat "$work/slurm/slurmd.pid" 2>/dev/null)" "$(cat "$work/slurm/slurmctld.pid" 2>/dev/null)" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 60); do
    sinfo -h -o %t 2>/dev/null | grep -q idle && break
    sleep 1
done
sinfo -h -o "%P %t %D %c" | sed 's/^/slurm_demo: partition /'

# The batch: 8 synthetic images, 4 shards as a job array, then the merge.
"$sootctl" synth --out "$work/synth" --count 8 --size 480x400 --pixel-size 0.8 --seed 5 >/dev/null
cat > "$work/job.sh" <<JOB
#!/usr/bin/env bash
#SBATCH --job-name=sootctl-analyze
#SBATCH --array=1-4
#SBATCH --cpus-per-task=1
#SBATCH --mem=2G
#SBATCH --output=$work/slurm/log/task-%a.out
set -euo pipefail
"$sootctl" analyze "$work/synth/images" --classifier kmeans --sizing pcm,edm-sbs \\
    --shard "\$SLURM_ARRAY_TASK_ID/4" --out "$work/shards/\$SLURM_ARRAY_TASK_ID" --resume
JOB
started=$(date +%s)
sbatch --wait --parsable "$work/job.sh" | sed 's/^/slurm_demo: job array /'
echo "slurm_demo: 4 tasks done in $(( $(date +%s) - started )) s"
"$sootctl" merge "$work"/shards/1 "$work"/shards/2 "$work"/shards/3 "$work"/shards/4 --out "$work/merged"
"$sootctl" analyze "$work/synth/images" --classifier kmeans --sizing pcm,edm-sbs --out "$work/single" >/dev/null
status=0
for f in aggregates.csv aggregates.json images.csv summary.json; do
    cmp -s "$work/single/$f" "$work/merged/$f" || { echo "slurm_demo: $f differs from a single run" >&2; status=1; }
done
for f in $(cd "$work/single" && ls masks/* overlays/*); do
    cmp -s "$work/single/$f" "$work/merged/$f" || { echo "slurm_demo: $f differs from a single run" >&2; status=1; }
done
[ $status -eq 0 ] && echo "slurm_demo: merged shards = single run ($(ls "$work/merged/masks" | wc -l) images, $(($(wc -l < "$work/merged/aggregates.csv") - 1)) aggregates)"
exit $status
