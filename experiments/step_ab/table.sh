#!/bin/sh
# table.sh — make step-ab for tiny and small, 1 and 2 threads, as a Markdown table.
#
# usage: experiments/step_ab/table.sh REV [FFN] [OUT]    (from the project's root)
#   REV  the revision to compare the working tree with; FFN default swiglu; OUT the .md file
#        (default: print only). Steps per pair: 200 for tiny, 40 for small (STEPS_TINY,
#        STEPS_SMALL). About 5 minutes, plus building each library once.
set -eu
[ $# -ge 1 ] || { echo "usage: experiments/step_ab/table.sh REV [FFN] [OUT]" >&2; exit 2; }
rev=$1
ffn=${2:-swiglu}
out=${3:-}
rows=$(mktemp)
trap 'rm -f "$rows"' EXIT
for preset in tiny small; do
    steps=$([ "$preset" = tiny ] && echo "${STEPS_TINY:-200}" || echo "${STEPS_SMALL:-40}")
    for threads in 1 2; do
        line=$(make -s step-ab REV="$rev" PRESET="$preset" FFN="$ffn" THREADS="$threads" STEPS="$steps" | tail -n 1)
        # "... base X tokens/s, new Y tokens/s (medians); new/base speed R, quartiles Q1-Q3"
        echo "$line" | sed -n "s/.*base \([0-9]*\) tokens\/s, new \([0-9]*\) tokens\/s.*speed \([0-9.]*\), quartiles \([0-9.]*-[0-9.]*\)/| $preset | $threads | $steps | \1 | \2 | \3 | \4 |/p" >> "$rows"
    done
done
{
    echo "Paired training steps ($ffn, batch 16), library at $(git rev-parse --short "$rev") (base) against the working tree at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src include || echo ' with changes') (new), $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Command: experiments/step_ab/table.sh $rev $ffn. Tokens/s are each build's median; the speed-up is the median over pairs of t_base / t_new."
    echo
    echo "| preset | threads | pairs | base tokens/s | new tokens/s | new/base | quartiles |"
    echo "|---|--:|--:|--:|--:|--:|--:|"
    cat "$rows"
} > "$rows.md"
[ -z "$out" ] || { mkdir -p "$(dirname "$out")"; cp "$rows.md" "$out.tmp" && mv "$out.tmp" "$out"; }
cat "$rows.md"
rm -f "$rows.md"
