#!/bin/sh
# step_ab.sh — did a change make whole training steps faster? Paired steps of two builds.
#
# usage: make step-ab REV=HEAD~1 [PRESET=small] [FFN=swiglu] [THREADS=2] [STEPS=40] [BASE_THREADS=K]
#    (or: CXX=g++ FLAGS="..." experiments/step_ab/step_ab.sh REV PRESET FFN THREADS STEPS [BASE_THREADS])
# "base" is the library at git revision REV, "new" the working tree's. Both are compiled with the
# project's flags (FLAGS) into one program, each in a namespace of its own (-Dglulab=...), and
# their training steps alternate one by one (see step_ab.cpp). Prints one line: each build's
# median tokens/s and the median and quartiles over pairs of t_base / t_new. Compiling a
# library takes a minute or two; the base one is kept under build/step_ab/ for the next time.
# BASE_THREADS runs the base build's steps on that many threads instead of THREADS: with
# REV=HEAD and a clean tree, the ratio is the paired speed-up of THREADS over BASE_THREADS.
set -eu
[ $# -eq 5 ] || [ $# -eq 6 ] ||
    { echo "usage: experiments/step_ab/step_ab.sh REV PRESET FFN THREADS STEPS [BASE_THREADS]" >&2; exit 2; }
rev=$1
git rev-parse --verify --quiet "$rev^{commit}" >/dev/null || { echo "step_ab: not a revision: $rev" >&2; exit 2; }
cxx=${CXX:-c++}
flags=${FLAGS:?set FLAGS to the compiler flags (make step-ab does)}
here=$(cd "$(dirname "$0")" && pwd)
root=$(git rev-parse --show-toplevel)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# build NAME SOURCE_ROOT: the library of SOURCE_ROOT and trainer.cpp, in namespace NAME_glulab.
# train.cpp's signal handler has C linkage (extern "C"), so no namespace renames it: -D does.
build() {
    mkdir -p "$dir/$1"
    find "$2/src" -name '*.cpp' ! -path '*/cli/main.cpp' | sort > "$dir/$1.sources"
    # shellcheck disable=SC2086  # $flags is a list of flags
    xargs -P 2 -I {} sh -c '"$0" $1 -c "$2" -o "$3/$(echo "$2" | tr / _).o"' \
        "$cxx" "$flags -Dglulab=$1_glulab -Drequest_stop=$1_request_stop -I$2/include" {} "$dir/$1" < "$dir/$1.sources"
    # shellcheck disable=SC2086
    $cxx $flags "-Dglulab=$1_glulab" "-DSTEP_AB_RUN=$1_run" "-I$2/include" -c "$here/trainer.cpp" -o "$dir/$1/trainer.o"
}
# The base build is kept in build/step_ab/<commit>-<hash of the flags and trainer.cpp>, for the
# next comparison.
key=$( (printf '%s %s' "$cxx" "$flags"; cat "$here/trainer.cpp") | cksum | cut -d ' ' -f 1)
cache="$root/build/step_ab/$(git rev-parse "$rev")-$key"
if [ ! -f "$cache/done" ]; then
    git -C "$root" archive "$rev" src include | (mkdir -p "$dir/base_src" && tar -x -C "$dir/base_src")
    build base "$dir/base_src"
    mkdir -p "$cache" && cp "$dir"/base/*.o "$cache/" && touch "$cache/done"
fi
mkdir -p "$dir/base" && cp "$cache"/*.o "$dir/base/"
# The working tree's build likewise, keyed by the contents of its sources.
tree=$(cd "$root" && find src include -type f | sort | xargs cat | cksum | cut -d ' ' -f 1)
new_cache="$root/build/step_ab/tree-$tree-$key"
if [ ! -f "$new_cache/done" ]; then
    build new "$root"
    mkdir -p "$new_cache" && cp "$dir"/new/*.o "$new_cache/" && touch "$new_cache/done"
fi
mkdir -p "$dir/new" && cp "$new_cache"/*.o "$dir/new/"
# shellcheck disable=SC2086
$cxx $flags "$here/step_ab.cpp" "$dir"/base/*.o "$dir"/new/*.o -o "$dir/step_ab"
echo "base: the library at $(git rev-parse --short "$rev"); new: the working tree's"
shift
"$dir/step_ab" "$@"
