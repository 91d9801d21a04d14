#!/bin/sh
# reproduce.sh — `make reproduce`: the reference experiment of reference-model.md, 8 variants x
# 3 seeds x 1,000 steps of the small preset, then the report (table, statistics, plots) in
# experiments/results/small/. Interrupt it at any time; running it again picks up where it stopped.
set -eu
out=${OUT:-experiments/results/small}
sh experiments/sweep.sh --preset small --steps 1000 --seeds "${SEEDS:-1 2 3}" --out "$out" --eval-every 100 --jobs "${JOBS:-2}"
${GLULAB_BIN:-build/glulab} report "$out" --out "$out" --title "Small preset, 1,000 steps (make reproduce)"
