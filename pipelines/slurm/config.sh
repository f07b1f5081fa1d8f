# One run of the Slurm chain (pipelines/slurm/submit.sh): copy this file, edit it, then
#   pipelines/slurm/submit.sh my-run.sh
# It is a bash file, sourced by submit.sh; paths must be visible from every compute node.
# As shipped it runs the demo data (after `epe demo-data --out out/demo/data`).

EPE_ROOT=${EPE_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
EPE=${EPE:-$EPE_ROOT/build/apps/epe/epe}   # the epe binary the jobs run
OUT=${OUT:-$EPE_ROOT/out/slurm}            # outputs; logs go to $OUT/logs/<step>-<job>_<task>.log

SYNTHETIC=${SYNTHETIC:-$EPE_ROOT/out/demo/data/synthetic.csv}   # file lists (epe lists makes them)
REAL=${REAL:-$EPE_ROOT/out/demo/data/real.csv}

# Which steps to submit, in chain order: segment crops match weights train. Leaving later ones
# out stops the chain early; leaving earlier ones out uses their outputs from a previous run.
STAGES=${STAGES:-"segment crops match weights train"}

# Step options (INI files of the commands) and inputs.
SEGMENT_INI=${SEGMENT_INI:-$EPE_ROOT/pipelines/segment.ini}
SEGMENT_MODEL=${SEGMENT_MODEL:-$OUT/demo-segmenter.pt}  # TorchScript model (an MSeg export); the demo one is
                                                        # built by the first job when missing
CROPS_INI=${CROPS_INI:-$EPE_ROOT/pipelines/crops.ini}
MATCH_INI=${MATCH_INI:-$EPE_ROOT/pipelines/match.ini}
TRAIN_INI=${TRAIN_INI:-$EPE_ROOT/pipelines/train.ini}
VGG=${VGG:-}                                            # VGG-16 weights; empty: random init (a warning)

# Shards: array tasks per step (the match step is a grid of MATCH_SRC x MATCH_DST tasks).
SEGMENT_SHARDS=${SEGMENT_SHARDS:-2}
CROPS_SHARDS=${CROPS_SHARDS:-2}
MATCH_SRC_SHARDS=${MATCH_SRC_SHARDS:-2}
MATCH_DST_SHARDS=${MATCH_DST_SHARDS:-2}
TRAIN_TASKS=${TRAIN_TASKS:-1}   # > 1: data-parallel training, srun of epe train --distributed (c10d Gloo)

# sbatch options per step (resources), and for every job (partition, account, ...).
SBATCH_ALL=${SBATCH_ALL:-""}
SEGMENT_SBATCH=${SEGMENT_SBATCH:-"--cpus-per-task=1 --time=1:00:00"}
CROPS_SBATCH=${CROPS_SBATCH:-"--cpus-per-task=1 --time=1:00:00"}
MATCH_SBATCH=${MATCH_SBATCH:-"--cpus-per-task=1 --time=1:00:00"}
MERGE_SBATCH=${MERGE_SBATCH:-"--cpus-per-task=1 --time=0:30:00"}
TRAIN_SBATCH=${TRAIN_SBATCH:-"--cpus-per-task=2 --time=24:00:00"}
# Options the step's epe command gets on top of its INI file (e.g. "--device cuda").
SEGMENT_ARGS=${SEGMENT_ARGS:-""}
CROPS_ARGS=${CROPS_ARGS:-""}
MATCH_ARGS=${MATCH_ARGS:-""}
TRAIN_ARGS=${TRAIN_ARGS:-""}
