#!/bin/sh
# fetch.sh — put a training corpus into data/, verified by its sha256 (see data/README.md).
#
#   sh data/fetch.sh                      download Tiny Shakespeare (curl or wget)
#   sh data/fetch.sh --from DIR           copy DIR/tinyshakespeare.txt instead (no network)
#   sh data/fetch.sh --corpus gutenberg --from DIR    copy DIR/gutenberg_en.txt (copy only)
#
# The file goes to a temporary name beside the target, is checked against the sha256 below,
# and only then renamed into place, so data/ never holds a partial or wrong corpus. A file
# that is already there with the right sha256 is left alone. POSIX sh: no bash needed.
set -eu

DATA_DIR=$(cd "$(dirname "$0")" && pwd)
URL_TINYSHAKESPEARE=https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt
SHA_TINYSHAKESPEARE=86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed
SHA_GUTENBERG=5fcc87fcc1bfd702244d451dbaa159a7603ef51fc25f1317d47a4bb87567214b

die() {
    echo "error: $*" >&2
    exit 1
}

usage() {
    sed -n '4,6p' "$0" | sed 's/^#   //'
}

# ---- arguments ----
corpus=tinyshakespeare
from=
while [ $# -gt 0 ]; do
    case $1 in
        --from) [ $# -ge 2 ] || die "--from needs a folder"; from=$2; shift 2 ;;
        --corpus) [ $# -ge 2 ] || die "--corpus needs a name (tinyshakespeare or gutenberg)"; corpus=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument '$1' (try --help)" ;;
    esac
done

case $corpus in
    tinyshakespeare) name=tinyshakespeare.txt; want=$SHA_TINYSHAKESPEARE; url=$URL_TINYSHAKESPEARE ;;
    gutenberg) name=gutenberg_en.txt; want=$SHA_GUTENBERG; url= ;;
    *) die "unknown corpus '$corpus': expected tinyshakespeare or gutenberg" ;;
esac
target=$DATA_DIR/$name

# ---- sha256, with whichever tool this system has ----
if command -v sha256sum >/dev/null 2>&1; then
    sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
    sha256_of() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
    die "need sha256sum or shasum to verify $name"
fi

if [ -f "$target" ]; then
    if [ "$(sha256_of "$target")" = "$want" ]; then
        echo "data/$name: already present, sha256 ok"
        exit 0
    fi
    echo "data/$name: sha256 does not match, fetching it again" >&2
fi

# ---- fetch into a temporary file beside the target (same file system, so mv is atomic) ----
tmp=$target.tmp.$$
trap 'rm -f "$tmp"' EXIT
trap 'exit 130' INT TERM  # runs the EXIT trap, so no temporary is left behind

one_line() { printf '%s' "$1" | tr '\n' ' ' | sed 's/ *$//'; }

if [ -n "$from" ]; then
    [ -f "$from/$name" ] || die "$from/$name: no such file"
    cp "$from/$name" "$tmp" || die "cannot copy $from/$name to data/"
    origin=$from/$name
elif [ -z "$url" ]; then
    die "$name is not downloadable here: copy it with --from DIR (for example --from ../shared/data)"
else
    # Connect and total timeouts, so a closed network fails in seconds instead of hanging.
    if command -v curl >/dev/null 2>&1; then
        msg=$(curl --fail --silent --show-error --location --connect-timeout 10 --max-time 300 \
            --output "$tmp" "$url" 2>&1) || die "cannot download $url: $(one_line "$msg") (or copy it with --from DIR)"
    elif command -v wget >/dev/null 2>&1; then
        msg=$(wget --no-verbose --tries=1 --connect-timeout=10 --timeout=60 -O "$tmp" "$url" 2>&1) ||
            die "cannot download $url: $(one_line "$msg") (or copy it with --from DIR)"
    else
        die "need curl or wget to download $name, or copy it with --from DIR"
    fi
    origin=$url
fi

got=$(sha256_of "$tmp")
[ "$got" = "$want" ] || die "$origin: sha256 is $got, expected $want; refusing it (file not kept)"
mv -f "$tmp" "$target"
echo "data/$name: $(wc -c <"$target" | tr -d ' ') bytes from $origin, sha256 ok"
