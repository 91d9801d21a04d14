#!/bin/sh
# attention_split.sh — inside a training step, how much of causal_attention's time is its products
# and how much the rest (the softmax and its backward, zeroing, bookkeeping)?
#
# usage: experiments/attention_split.sh [PRESET] [FFN] [THREADS] [STEPS]   (default small swiglu 2 20)
#
# glulab bench gives the op's milliseconds per step; perf's samples split them. perf needs call
# chains to tell which gemm calls attention made, so this builds a copy of glulab with frame
# pointers (in /tmp/glulab-frame-pointers) and records `glulab bench` with -g. A sample counts
# for attention when causal_attention is on its chain (the forward's OpenMP body and the
# backward's closure both carry the name), and for its products when gemm is on it too, or, for
# heads of at most 16 floats (tiny), the direct path's tiles and packing (attention.cpp). Samples
# in the kernel's page clearing are left out: they are the first steps' new pages (this VM backs
# memory lazily), which the bench's median over later steps does not see.
# On the gemm path the products' samples are split further by the code they stop in, which
# tells the three kinds of product apart (each a third of the computed FLOPs, attention.cpp):
#   S^T = k q^T and dP^T = v dO^T   sums of hd terms: short_sum_row_panel, and the transposes of
#                                   q and dO packed as B (transpose_16x16, pack_b_*)
#   O = P v and dq = dS k           A = P^T or dS^T read transposed: micro_kernel<.., true, ..>
#   dk = dS^T q and dv = P^T dO     A = dS^T or P^T read by rows: micro_kernel<.., false, ..>
# and other (gemm's loops and calls; the direct path's tiles, on tiny).
set -eu
preset=${1:-small}
ffn=${2:-swiglu}
threads=${3:-2}
steps=${4:-20}
build=/tmp/glulab-frame-pointers
out=$(mktemp -d)
cd "$(dirname "$0")/.."
make -s -j2 BUILD="$build" CXXFLAGS="-O3 -march=native -mprefer-vector-width=512 -fno-omit-frame-pointer" \
    "$build/glulab" >/dev/null
perf record -q -o "$out/perf.data" -F 4000 -g "$build/glulab" bench --preset "$preset" --ffn "$ffn" \
    --threads "$threads" --steps "$steps" >"$out/bench.txt" 2>/dev/null
perf script -i "$out/perf.data" -F tid,ip,sym 2>/dev/null | awk '
    function finish() {
        if (!in_sample) return
        total++
        if (attention && !fault) {
            n++
            if (product) {
                products++
                if (leaf ~ /short_sum|transpose_16x16|pack_b/) kind["S^T, dP^T"]++
                else if (leaf ~ /micro_kernel<[0-9]+, true/) kind["O, dq"]++
                else if (leaf ~ /micro_kernel<[0-9]+, false/) kind["dk, dv"]++
                else kind["other"]++
            }
            else if (leaf ~ /softmax/) softmax++
            else other++
        }
        if (attention && fault) faults++
        in_sample = 0
    }
    /^[ \t]*$/ { finish(); next }
    /^[^ \t]/ { finish(); in_sample = 1; attention = product = fault = 0; leaf = ""; next }
    {
        frame = $0
        if (leaf == "") { leaf = frame; if (frame ~ /clear_page/) fault = 1 }
        if (frame ~ /causal_attention/) attention = 1
        if (frame ~ /gemm|micro_kernel|short_sum_row_panel|transpose_16x16|pack_|product_rows|tile_product|_times_/) product = 1
    }
    END {
        finish()
        printf "samples %d; under causal_attention %d (%.1f%%), of which page clearing %d, left out\n", total, n + faults, 100 * (n + faults) / total, faults
        printf "of the other %d: products (gemm, or the direct path) %.1f%%, softmax and its backward %.1f%%, the rest %.1f%%\n", n, 100 * products / n, 100 * softmax / n, 100 * other / n
        printf "the products by kind (%d samples):", products
        split("S^T, dP^T|O, dq|dk, dv|other", kinds, "|")
        for (i = 1; i <= 4; i++) printf " %s %.1f%%%s", kinds[i], 100 * kind[kinds[i]] / products, i < 4 ? ";" : "\n"
    }'
grep "^glulab bench\|^  [0-9] thread\|^step time\|^throughput\|^causal_attention" "$out/bench.txt"
rm -rf "$out"
