#!/bin/sh
# disturbed_benchmark.sh — how does the gemm benchmark read when another program takes a core?
#
# usage: experiments/disturbed_benchmark.sh RUN_TESTS OUT
#   RUN_TESTS  a build's run_tests (e.g. build/run_tests, or one built from an older revision)
#   OUT        where to write the benchmark's output
# Runs `RUN_TESTS -tc='gemm: benchmark*' --no-skip` while a busy loop takes one of the two cores
# from 3 s to 5 s into the run, then prints how many rows read under 80% of the peak and the
# lowest. Used to compare the benchmark's timing orders (experiments/results/speed/rounds-127e4c2.md).
set -eu
[ $# -eq 2 ] || { echo "usage: experiments/disturbed_benchmark.sh RUN_TESTS OUT" >&2; exit 2; }
[ -x "$1" ] || { echo "disturbed_benchmark: not an executable: $1" >&2; exit 2; }
( sleep 3; timeout 2 sh -c 'while :; do :; done' ) &
"$1" -tc='gemm: benchmark*' --no-skip 2>&1 | grep -v '^\[doctest\]\|^=*$' > "$2"
wait
# A row's first field ending in % is its median's share of the peak.
awk '/^  /{for(i=1;i<=NF;i++) if($i ~ /%$/){v=$i+0; n++; if(v<80)low++; if(min==""||v<min)min=v; break}}
     END{printf "%d rows, %d under 80%% of the peak, lowest %.1f%%\n", n, low, min}' "$2"
