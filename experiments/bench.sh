#!/bin/sh
# bench.sh — `make bench`: the standard speed table of issue 5 (tiny and small, relu and swiglu,
# 1 and 2 threads) as Markdown, with the machine and its measured FMA peak. Prints the table and
# writes it to experiments/results/bench.md. About a minute on 2 cores.
#
# Every number is a median over timed training steps (glulab bench --help), but a shared machine
# still makes them noisy: the load average at the start is recorded beside the table.
# Environment: GLULAB_BIN (default build/glulab), THREADS (default "1 2"), OUT (the .md file).
set -eu
glulab=${GLULAB_BIN:-build/glulab}
threads=${THREADS:-1 2}
out=${OUT:-experiments/results/bench.md}

# The value of "key" $2 in the one-line JSON object $1: a string (without quotes in it) or a number.
field() { printf '%s\n' "$1" | sed -n -e "s/.*\"$2\": \"\([^\"]*\)\".*/\1/p" -e t -e "s/.*\"$2\": \([^,}]*\).*/\1/p"; }

load=$(cut -d ' ' -f 1-3 /proc/loadavg)
max_threads=$(echo $threads | tr ' ' '\n' | sort -n | tail -n 1)
# "1 thread: 230.1; 2 threads: 450.2" from the lines "FMA peak, K threads: X GFLOP/s"
peaks=$("$glulab" bench --peak --threads "$max_threads" | sed 's/^FMA peak, //; s| GFLOP/s$||' | paste -sd ';' | sed 's/;/; /g')
kernel=$(field "$("$glulab" bench --peak --threads 1 --json)" kernel)

table=$(
  echo "| preset | ffn | threads | tokens/s | ms/step | GFLOP/s | MFU | FMA peak GFLOP/s | peak RSS (MiB) | needed (MiB) | RSS / needed |"
  echo "|--------|-----|--------:|---------:|--------:|--------:|----:|-----------------:|---------------:|-------------:|-------------:|"
  for preset in tiny small; do
    steps=20; [ "$preset" = tiny ] && steps=50
    for ffn in relu swiglu; do
      for t in $threads; do
        j=$("$glulab" bench --preset "$preset" --ffn "$ffn" --threads "$t" --steps "$steps" --warmup 3 --json)
        printf '| %s | %s | %s | %.0f | %.2f | %.1f | %.1f%% | %.0f | %.0f | %.0f | %.2f |\n' "$preset" "$ffn" "$t" \
          "$(field "$j" tokens_per_sec)" "$(field "$j" step_ms)" "$(field "$j" gflops)" \
          "$(echo "$(field "$j" mfu)" | awk '{ print 100 * $1 }')" "$(field "$j" peak_gflops)" "$(field "$j" peak_rss_mb)" \
          "$(field "$j" needed_mb)" "$(field "$j" memory_ratio)"
      done
    done
  done
)

mkdir -p "$(dirname "$out")"
{
  echo "# glulab bench"
  echo
  echo "Training steps (forward, backward, clipping, AdamW; batch 16) on random bytes, medians over the timed steps."
  echo "Needed: the most tensor storage alive at once (parameters, gradients, activations saved for the backward) plus AdamW's moments; RSS / needed is issue 5's memory target (at most 1.5)."
  echo "MFU: model FLOPs (6 x parameters + 12 x N x T x d per token) per second over the FMA peak that each run measures with its threads (its own column: a busy machine lowers it)."
  echo
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; gemm kernel $kernel"
  echo "- measured FMA peak, GFLOP/s: $peaks"
  echo "- load average at the start: $load; $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "- command: make bench (experiments/bench.sh)"
  echo
  echo "$table"
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
