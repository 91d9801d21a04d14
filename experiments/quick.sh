#!/bin/sh
# quick.sh — `make run`: all eight FFN variants on the tiny preset, one seed each, then the table.
# About a minute and a half on 2 cores from a fresh clone, build included (1 m 28 s measured at
# e29fa9b); re-running skips the runs already finished.
set -eu
out=${OUT:-runs/quick}
sh experiments/sweep.sh --preset tiny --steps "${STEPS:-600}" --seeds 1 --out "$out" --eval-every 100 --jobs 2
${GLULAB_BIN:-build/glulab} report "$out" --out "$out" --title "Tiny preset, ${STEPS:-600} steps, seed 1 (make run)"
