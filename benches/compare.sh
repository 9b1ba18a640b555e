#!/usr/bin/env bash
# diag beside ripgrep and lnav on the same input, in one run: wall time, its ratio to rg, peak RSS.
#
#   benches/compare.sh PATH...            # files or directories you have
#   benches/compare.sh --size 1G          # a generated mixed corpus (service log + two tabs)
#   benches/compare.sh --size 1G --kind citadel-tracing   # one generated service log
#
# rg runs `rg -c -F -f <literals>` with the literals diag's own prefilter searches for (`diag rules
# literals`): the same one pass over the bytes that diag's check must at least make. lnav (when
# installed) runs headless with a format for the generated service log (benches/lnav/) and counts its
# records: a full parse. Each command runs once after one warm-up read of the input (page cache).
# Output: a Markdown table on stdout, progress on stderr. Not for CI.
#
# Environment: DIAG_COMPARE_TIMEOUT seconds per command (default 900); TMPDIR for generated corpora
# (removed on exit); DIAG_ARGS, extra arguments for both diag commands (e.g. `--max-events 20000000`
# past 2 M events per stream, where diag otherwise keeps the first and last ones and exits 2).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TIMEOUT=${DIAG_COMPARE_TIMEOUT:-900}
log() { printf '%s\n' "$*" >&2; }

SIZE="" KIND="" INPUTS=()
while (($#)); do
    case $1 in
        --size) SIZE=$2; shift 2 ;;
        --kind) KIND=$2; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
        *) INPUTS+=("$1"); shift ;;
    esac
done
[[ -x /usr/bin/time ]] || { log "needs GNU time at /usr/bin/time (apt-get install time)"; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/diag-compare.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

log "building diag (release) and the generator"
(cd "$ROOT" && cargo build --release --quiet --bin diag)
DIAG=$ROOT/target/release/diag
if [[ -n $SIZE ]]; then
    cargo build --release --quiet --manifest-path "$ROOT/benches/gen/Cargo.toml"
    args=(--size "$SIZE" --out "$WORK/corpus")
    [[ -n $KIND ]] && args+=(--kind "$KIND")
    "$ROOT/benches/gen/target/release/diag-gen" "${args[@]}" >&2
    INPUTS=("$WORK/corpus")
fi
((${#INPUTS[@]})) || { log "give PATH... or --size SIZE"; exit 2; }
BYTES=$(find "${INPUTS[@]}" -type f -print0 | xargs -0 cat | wc -c)
log "input: $BYTES bytes"
"$DIAG" rules literals >"$WORK/literals.txt" 2>/dev/null

RG_WALL=""
# run LABEL CMD...: one timed run, one table row.
run() {
    local label=$1; shift
    log "  $label"
    local tf=$WORK/time.txt status=0
    timeout -k 10 "$TIMEOUT" /usr/bin/time -v -o "$tf" "$@" >/dev/null 2>"$WORK/err.txt" || status=$?
    if ! grep -q 'Maximum resident' "$tf" 2>/dev/null || ((status == 124 || status == 137)); then
        printf '| %s | timeout or error (%s) | | | |\n' "$label" "$status"; return
    fi
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,p,":"); s=0; for(i=1;i<=n;i++) s=s*60+p[i]; print s}' "$tf")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tf")
    [[ $label == rg* ]] && RG_WALL=$wall
    awk -v l="$label" -v w="$wall" -v r="$rss" -v g="${RG_WALL:-0}" -v b="$BYTES" \
        'BEGIN { printf "| %s | %.2f | %s | %.0f | %.0f |\n", l, w, (g > 0 ? sprintf("%.1f×", w / g) : "-"), b / 1e6 / (w > 0 ? w : 1), r / 1024 }'
}

find "${INPUTS[@]}" -type f -print0 | xargs -0 cat >/dev/null   # warm the page cache
echo "| command | wall s | × rg | MB/s | peak RSS MB |"
echo "|---|---:|---:|---:|---:|"
if command -v rg >/dev/null; then
    run "rg -c -F -f <$(wc -l <"$WORK/literals.txt") literals>" rg -c -F -f "$WORK/literals.txt" "${INPUTS[@]}"
else
    log "  rg not installed (apt-get install ripgrep): no ratio"
fi
read -r -a extra <<<"${DIAG_ARGS:-}"
# check both ways: every event held, and two passes holding only what a rule can read (`--stream`).
run "diag check --fail-on none --stream never ${DIAG_ARGS:-}" "$DIAG" check --fail-on none --stream never "${extra[@]}" "${INPUTS[@]}"
run "diag check --fail-on none --stream always ${DIAG_ARGS:-}" "$DIAG" check --fail-on none --stream always "${extra[@]}" "${INPUTS[@]}"
# The timeline both ways: every event held, and two passes holding none (`--stream`).
run "diag timeline --format ndjson --stream never ${DIAG_ARGS:-}" "$DIAG" timeline --format ndjson --stream never "${extra[@]}" "${INPUTS[@]}"
run "diag timeline --format ndjson --stream always" "$DIAG" timeline --format ndjson --stream always "${INPUTS[@]}"
if command -v lnav >/dev/null; then
    export HOME=$WORK/lnav-home
    mkdir -p "$HOME"
    lnav -i "$ROOT/benches/lnav/diag_compose_tracing.json" >/dev/null 2>&1 || true
    mapfile -t files < <(find "${INPUTS[@]}" -type f | sort)
    run "lnav -n (count records, full parse)" lnav -n -c ';SELECT count(*) FROM all_logs' "${files[@]}"
else
    log "  lnav not installed (apt-get install lnav): no comparison"
fi
