# bench_set.sh — the standard set of issue 5, sourced by bench.sh (make bench) and vs_pytorch.sh
# (make vs-pytorch): tiny and small, relu and swiglu, each thread count of $threads, the whole set
# $rounds times, one configuration after the other in each round (so a slow minute hits all of
# them). tiny runs 50 timed steps and small 20, after 3 warm-up steps.

# Calls "$@" round preset ffn threads steps for every run of the set, in order.
for_each_run() {
  for round in $(seq "$rounds"); do
    for preset in tiny small; do
      steps=20; [ "$preset" = tiny ] && steps=50
      for ffn in relu swiglu; do
        for t in $threads; do
          echo "round $round/$rounds: $preset $ffn $t thread(s)" >&2
          "$@" "$round" "$preset" "$ffn" "$t" "$steps"
        done
      done
    done
  done
}
