#!/bin/sh
# sweep.sh — the equal-parameter comparison: every FFN variant x every seed, one run folder each.
#
#   sh experiments/sweep.sh --preset small --steps 1000 --seeds "1 2 3" --out experiments/results/small
#   sh experiments/sweep.sh ... --print         # only print the commands (one per line), run nothing
#   sh experiments/sweep.sh ... --jobs 2        # runs at once (each with threads = cores / jobs)
#
# Runs are independent commands writing their own folders, so the printed list can go to any
# scheduler: `... --print | parallel -j 2`, `... --print | xargs -P 2 -I{} sh -c {}`, or a Slurm
# array (`sed -n "${SLURM_ARRAY_TASK_ID}p" commands.txt | sh`). A finished run (summary.json
# present) is skipped; an interrupted one (checkpoint.bin only) is resumed.
set -eu

preset=small steps=1000 seeds="1 2 3" out=experiments/results/small jobs=1 print=0
ffns="relu gelu swish glu bilinear reglu geglu swiglu" data=data/tinyshakespeare.txt eval_every=""
bin=${GLULAB_BIN:-build/glulab}
while [ $# -gt 0 ]; do
    case "$1" in
        --preset) preset=$2; shift 2 ;;
        --steps) steps=$2; shift 2 ;;
        --seeds) seeds=$2; shift 2 ;;
        --ffns) ffns=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        --data) data=$2; shift 2 ;;
        --eval-every) eval_every=$2; shift 2 ;;
        --jobs) jobs=$2; shift 2 ;;
        --print) print=1; shift ;;
        -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
        *) echo "error: sweep.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

cores=$(nproc 2>/dev/null || echo 1)
threads=$(( cores / jobs )); [ "$threads" -ge 1 ] || threads=1

commands() {
    for seed in $seeds; do
        for ffn in $ffns; do
            dir="$out/$ffn-s$seed"
            [ -f "$dir/summary.json" ] && continue
            resume=""; [ -f "$dir/checkpoint.bin" ] && resume=" --resume $dir"
            echo "$bin train --data $data --preset $preset --ffn $ffn --steps $steps --seed $seed${eval_every:+ --eval-every $eval_every} --threads $threads --log-every 100 --out $dir$resume > $dir.log 2>&1"
        done
    done
}

if [ "$print" = 1 ]; then commands; exit 0; fi
mkdir -p "$out"
n=$(commands | wc -l)
echo "sweep: $n runs to do in $out ($jobs at a time, $threads threads each)"
# Each line is a whole shell command (with its own log redirect), run by sh -c.
commands | tr '\n' '\0' | xargs -0 -r -P "$jobs" -I{} sh -c '{} && echo "done: {}" | sed "s/ >.*//" || { echo "failed: {}" >&2; exit 255; }'
