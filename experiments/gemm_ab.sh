#!/bin/sh
# gemm_ab.sh — did a change to src/ops/gemm.cpp make the small preset's products faster?
#
# usage: make gemm-ab REV=HEAD~1 [THREADS=2] [REPS=300] [ONLY="X^T dY"]
#    (or: CXX=g++ FLAGS="..." experiments/gemm_ab.sh REV [THREADS] [REPS] [ONLY], FLAGS as in the Makefile)
#   REV      the git revision to compare against; its src/ops/gemm.cpp is "base"
#   THREADS  OpenMP threads (default 1); REPS pairs of calls per shape (default 300)
#   ONLY     time only the products whose name contains this (default: all)
# "new" is the working tree's src/ops/gemm.cpp. Prints a Markdown table: median GFLOP/s of each,
# and the median and quartiles over pairs of t_base / t_new (see experiments/gemm_ab.cpp for why
# pairs). Each file is compiled with the project's flags (FLAGS) in a namespace of its own
# (-Dglulab=...), so both can be linked into one program. Needs the revision's gemm.cpp to have
# the same gemm() and gemm_batched() signatures as now.
set -eu
[ $# -ge 1 ] || { echo "usage: experiments/gemm_ab.sh REV [THREADS] [REPS] [ONLY]" >&2; exit 2; }
rev=$1
threads=${2:-1}
reps=${3:-300}
only=${4:-}
git rev-parse --verify --quiet "$rev^{commit}" >/dev/null || { echo "gemm_ab: not a revision: $rev" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

cxx=${CXX:-c++}
flags=${FLAGS:?set FLAGS to the compiler flags (make gemm-ab does)}
git show "$rev:src/ops/gemm.cpp" > "$dir/gemm_base.cpp"
$cxx $flags -Dglulab=gemm_base -c "$dir/gemm_base.cpp" -o "$dir/gemm_base.o"
$cxx $flags -Dglulab=gemm_new -c src/ops/gemm.cpp -o "$dir/gemm_new.o"
$cxx $flags experiments/gemm_ab.cpp src/buffer_pool.cpp "$dir/gemm_base.o" "$dir/gemm_new.o" -o "$dir/gemm_ab"
echo "base: src/ops/gemm.cpp at $(git rev-parse --short "$rev"); new: the working tree's"
"$dir/gemm_ab" "$threads" "$reps" "$only"
