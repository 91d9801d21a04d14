#!/bin/sh
# bench.sh — `make bench`: the standard speed table of issue 5 (tiny and small, relu and swiglu,
# 1 and 2 threads) as Markdown, with the machine and its measured FMA peak. Prints the table and
# writes it to experiments/results/bench.md. About a minute per round on 2 cores.
#
# Every number of one run is a median over its timed training steps (glulab bench --help). A
# shared machine still makes runs wander by up to 30%, so the whole set is run ROUNDS times,
# configuration after configuration in each round (a slow minute then hits all of them), and the
# table gives the median over rounds. The 2-thread speed-up is taken within each round, then its
# median. MFU is taken against one FMA peak per thread count: the highest of all the probes of
# the set (one at the start, and each run's own before and after its steps). A probe can only be
# slowed by other load, never sped up, and a single one at the start once read 48 GFLOP/s on 2
# threads instead of 400, which made every MFU of that table 4 times too high.
# Environment: GLULAB_BIN (default build/glulab), THREADS (default "1 2"), ROUNDS (default 3),
# OUT (the .md file).
set -eu
glulab=${GLULAB_BIN:-build/glulab}
threads=${THREADS:-1 2}
rounds=${ROUNDS:-3}
out=${OUT:-experiments/results/bench.md}
runs=$(mktemp)
probes=$(mktemp)
trap 'rm -f "$runs" "$probes"' EXIT

# The value of "key" $2 in the one-line JSON object $1: a string (without quotes in it) or a number.
field() { printf '%s\n' "$1" | sed -n -e "s/.*\"$2\": \"\([^\"]*\)\".*/\1/p" -e t -e "s/.*\"$2\": \([^,}]*\).*/\1/p"; }

load=$(cut -d ' ' -f 1-3 /proc/loadavg)
max_threads=$(echo $threads | tr ' ' '\n' | sort -n | tail -n 1)
peak_lines=$("$glulab" bench --peak --threads "$max_threads")  # "FMA peak, K threads: X GFLOP/s"
kernel=$(field "$("$glulab" bench --peak --threads 1 --json)" kernel)

# Each probe as a line "threads GFLOP/s": the ones at the start, then each run's two.
printf '%s\n' "$peak_lines" | sed -n 's/^FMA peak, \([0-9]*\) threads*: \([0-9.]*\) GFLOP\/s$/\1 \2/p' > "$probes"

# One line per run: preset ffn threads round tokens/s ms/step GFLOP/s rss needed ratio
run_one() {  # round preset ffn threads steps
  j=$("$glulab" bench --preset "$2" --ffn "$3" --threads "$4" --steps "$5" --warmup 3 --json)
  echo "$2 $3 $4 $1 $(field "$j" tokens_per_sec) $(field "$j" step_ms) $(field "$j" gflops)" \
       "$(field "$j" peak_rss_mb) $(field "$j" needed_mb) $(field "$j" memory_ratio)" >> "$runs"
  echo "$4 $(field "$j" peak_gflops_before)" >> "$probes"
  echo "$4 $(field "$j" peak_gflops_after)" >> "$probes"
}
. experiments/bench_set.sh
for_each_run run_one

# Per thread count: the highest probe (MFU's yardstick), the lowest, and how many there were.
peak_of() { awk -v t="$1" '$1 == t && (max == "" || $2 > max) { max = $2 } END { print max }' "$probes"; }
peaks=$(for t in $threads; do
  awk -v t="$t" '$1 == t { n++; if (min == "" || $2 < min) min = $2; if ($2 > max) max = $2 }
    END { printf "%s thread%s: %.1f (%d probes from %.1f to %.1f)\n", t, t == 1 ? "" : "s", max, n, min, max }' "$probes"
done | paste -sd ';' | sed 's/;/; /g')
peak_list=$(for t in $threads; do echo "$t $(peak_of "$t")"; done | paste -sd ' ')

# The median of each column over the rounds, per configuration, in the order they were run.
table=$(awk -v rounds="$rounds" -v peak_list="$peak_list" '
  function median(list,   n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  BEGIN { m = split(peak_list, p, " "); for (i = 1; i < m; i += 2) peak[p[i]] = p[i + 1] }
  {
    key = $1 " " $2 " " $3
    if (!(key in seen)) { seen[key] = 1; order[++n] = key }
    for (c = 5; c <= 10; c++) col[key, c] = col[key, c] " " $c
    tps[key, $4] = $5
  }
  END {
    print "| preset | ffn | threads | tokens/s | ms/step | GFLOP/s | MFU | FMA peak GFLOP/s | peak RSS (MiB) | needed (MiB) | RSS / needed |"
    print "|--------|-----|--------:|---------:|--------:|--------:|----:|-----------------:|---------------:|-------------:|-------------:|"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, f, " ")
      gflops = median(col[k, 7])
      printf "| %s | %s | %s | %.0f | %.2f | %.1f | %.1f%% | %.0f | %.0f | %.0f | %.2f |\n", f[1], f[2], f[3],
        median(col[k, 5]), median(col[k, 6]), gflops, 100 * gflops / peak[f[3]], peak[f[3]],
        median(col[k, 8]), median(col[k, 9]), median(col[k, 10])
    }
    print ""
    print "| preset | ffn | tokens/s, 2 threads / 1 thread, per round | median |"
    print "|--------|-----|-------------------------------------------|-------:|"
    for (i = 1; i <= n; i++) {
      k = order[i]; split(k, f, " ")
      if (f[3] != 1) continue
      k2 = f[1] " " f[2] " 2"
      if (!(k2 in seen)) continue
      list = ""
      for (r = 1; r <= rounds; r++) list = list " " sprintf("%.2f", tps[k2, r] / tps[k, r])
      printf "| %s | %s |%s | %.2f |\n", f[1], f[2], list, median(list)
    }
  }' "$runs")

mkdir -p "$(dirname "$out")"
{
  echo "# glulab bench"
  echo
  echo "Training steps (forward, backward, clipping, AdamW; batch 16) on random bytes. Each run reports medians over its timed steps; the whole set ran $rounds times, one configuration after the other in each round, and the table gives the median over the rounds."
  echo "Needed: the most tensor storage alive at once (parameters, gradients, activations saved for the backward) plus AdamW's moments; RSS / needed is issue 5's memory target (at most 1.5)."
  echo "MFU: model FLOPs (6 x parameters + 12 x N x T x d per token) per second (the median GFLOP/s) over the FMA peak with the same number of threads: the highest of all the set's probes (one at the start, and each run's before and after its steps), since other load can only slow a probe down."
  echo
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; gemm kernel $kernel"
  echo "- measured FMA peak, GFLOP/s: $peaks"
  echo "- load average at the start: $load; $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
  echo "- command: make bench (experiments/bench.sh, ROUNDS=$rounds)"
  echo
  echo "$table"
} > "$out.tmp"
mv "$out.tmp" "$out"
cat "$out"
