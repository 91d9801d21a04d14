#!/bin/sh
# vs_pytorch.sh — `make vs-pytorch`: glulab's training step against PyTorch's on this machine, as
# issue 5 asks (small: at least 1.5x PyTorch's tokens/s; tiny: at least 2x). The same configurations
# as `make bench` (tiny and small, relu and swiglu, 1 and 2 threads). In each round every
# configuration runs glulab bench and experiments/pytorch_baseline.py back to back (which one
# goes first alternates from round to round, so a slow minute falls on both), and the ratio is
# taken within the pair; the table gives the median over rounds of each side and of the ratio.
# Needs Debian's python3-torch (with libopenblas0-openmp); glulab itself needs no Python.
# Environment: GLULAB_BIN (default build/glulab), PYTHON (default /usr/bin/python3), THREADS
# (default "1 2"), ROUNDS (default 3), OUT (the .md file).
set -eu
glulab=${GLULAB_BIN:-build/glulab}
python=${PYTHON:-/usr/bin/python3}
threads=${THREADS:-1 2}
rounds=${ROUNDS:-3}
out=${OUT:-experiments/results/speed/vs-pytorch.md}
if ! "$python" -c 'import torch' 2>/dev/null; then
  echo "error: $python cannot import torch (on Debian: apt-get install python3-torch libopenblas0-openmp)" >&2
  exit 1
fi
runs=$(mktemp)
trap 'rm -f "$runs"' EXIT

# The number after "key": in the one-line JSON object $1.
number() { printf '%s\n' "$1" | sed -n "s/.*\"$2\": \([0-9.e+-]*\).*/\1/p"; }

torch_version=$("$python" -c 'import torch; print(torch.__version__)')
load=$(cut -d ' ' -f 1-3 /proc/loadavg)
run_pair() {  # round preset ffn threads steps; which side goes first alternates by round
  ours() { number "$("$glulab" bench --preset "$2" --ffn "$3" --threads "$4" --steps "$5" --warmup 3 --json)" tokens_per_sec; }
  theirs() { number "$(OMP_NUM_THREADS=$4 "$python" experiments/pytorch_baseline.py --preset "$2" --ffn "$3" --threads "$4" --steps "$5" --warmup 3)" tokens_per_sec; }
  if [ $(($1 % 2)) = 1 ]; then a=$(ours "$@"); b=$(theirs "$@"); else b=$(theirs "$@"); a=$(ours "$@"); fi
  echo "$2 $3 $4 $a $b" >> "$runs"
}
. experiments/bench_set.sh
for_each_run run_pair

table=$(awk '
  function median(list,   n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  {
    key = $1 " " $2 " " $3
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    ours[key] = ours[key] " " $4; theirs[key] = theirs[key] " " $5
    ratio[key] = ratio[key] " " sprintf("%.2f", $4 / $5)
  }
  END {
    print "| preset | ffn | threads | glulab tokens/s | PyTorch tokens/s | glulab / PyTorch, per round | median |"
    print "|--------|-----|--------:|----------------:|-----------------:|-----------------------------|-------:|"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, f, " ")
      printf "| %s | %s | %s | %.0f | %.0f |%s | %.2f |\n", f[1], f[2], f[3], median(ours[k]), median(theirs[k]), ratio[k], median(ratio[k])
    }
  }' "$runs")

mkdir -p "$(dirname "$out")"
{
  echo "# glulab against PyTorch, same machine, same threads"
  echo
  echo "Training steps of the reference model (forward, backward, clipping, AdamW; batch 16 x T) on random bytes, median tokens/s over each run's timed steps (tiny 50, small 20, after 3 warm-up steps). PyTorch: experiments/pytorch_baseline.py, the same model and recipe (its parameter counts match glulab's), $torch_version with the OpenMP build of OpenBLAS. Each round runs glulab and PyTorch back to back for every configuration; the ratio is taken within each pair, then its median over $rounds rounds."
  echo
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores"
  echo "- load average at the start: $load; $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "- command: make vs-pytorch (experiments/vs_pytorch.sh, ROUNDS=$rounds)"
  echo
  echo "$table"
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
