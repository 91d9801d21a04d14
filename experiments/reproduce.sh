#!/bin/sh
# reproduce.sh — `make reproduce`: the reference experiment of reference-model.md, 8 variants x
# 3 seeds x 1,000 steps of the small preset, then the report (table, statistics, plots) in
# experiments/results/small/. Interrupt it at any time; running it again picks up where it stopped.
#
# Beside the runs it records what made them: environment.txt (commit, machine, compiler, threads)
# and commands.txt (every run's exact command), so any run can be re-made and checked.
set -eu
out=${OUT:-experiments/results/small}
jobs=${JOBS:-2}
seeds=${SEEDS:-1 2 3}
sweep="sh experiments/sweep.sh --preset small --steps 1000 --seeds \"$seeds\" --out $out --eval-every 200 --jobs $jobs"
mkdir -p "$out"
{
    echo "commit:   $(git rev-parse HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
    echo "started:  $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "machine:  $(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) cores"
    echo "compiler: $(${CXX:-g++} --version | head -n 1)"
    echo "jobs:     $jobs at a time, $(( $(nproc) / jobs )) threads each"
    echo "sweep:    $sweep"
} > "$out/environment.txt.new"
# Keep the first start's record when resuming; note each resumption.
if [ -f "$out/environment.txt" ]; then
    echo "resumed:  $(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse HEAD 2>/dev/null || echo unknown)" >> "$out/environment.txt"
    rm -f "$out/environment.txt.new"
else
    mv "$out/environment.txt.new" "$out/environment.txt"
fi
eval "$sweep --print" | sed "s/ --resume [^ ]*//" >> "$out/commands.txt.new"
[ -s "$out/commands.txt" ] || mv "$out/commands.txt.new" "$out/commands.txt"
rm -f "$out/commands.txt.new"

start=$(date +%s)
eval "$sweep"
echo "finished: $(date -u '+%Y-%m-%d %H:%M UTC'), this invocation $(( $(date +%s) - start )) s" >> "$out/environment.txt"
${GLULAB_BIN:-build/glulab} report "$out" --out "$out" --title "Small preset, 1,000 steps, 3 seeds (make reproduce)"
