#!/usr/bin/env bash
# Seed each target's corpus (fuzz/corpus/TARGET, not committed) from the repository's samples and,
# when present, a directory of real captures (default ../shared/real-logs beside the repository).
# Logs are cut into 40-line pieces so that inputs stay small enough for libFuzzer to mutate well.
set -euo pipefail
cd "$(dirname "$0")/.."
real="${1:-../shared/real-logs}"
out=fuzz/corpus
mkdir -p "$out"/{read_lines,detect,parse_format,collectors,entities,condition,rule_toml,format_toml,pipeline}

logs=$(find samples -type f ! -name '*.md' ! -name '*.toml' ! -name '*.bin' ! -name '*.gz'; \
       [ -d "$real" ] && find "$real" -type f ! -name '*.md' || true)
n=0
for f in $logs; do
  n=$((n + 1))
  split -l 40 -d -a 4 "$f" "$out/detect/s$n-"
done
# Same pieces for the other line targets; parse_format gets a leading byte that picks each format.
cp "$out"/detect/* "$out/collectors/"
cp "$out"/detect/* "$out/entities/"
cp "$out"/detect/* "$out/pipeline/"
nformats=$(ls parsers/*.toml | grep -v -e anchors -e collectors -e entities | wc -l)
i=0
for f in "$out"/detect/*; do
  i=$((i + 1))
  { printf "\\$(printf '%03o' $((i % nformats)))"; cat "$f"; } > "$out/parse_format/$(basename "$f")"
done
# The gz reader: the compressed samples, whole and cut short, and small logs compressed here.
for f in samples/bad/*.gz; do
  cp "$f" "$out/read_lines/"
  head -c 300 "$f" > "$out/read_lines/cut-$(basename "$f")"
done
for f in $(ls "$out"/detect/* | head -50); do gzip -c "$f" > "$out/read_lines/$(basename "$f").gz"; done
cp "$out"/detect/* "$out/read_lines/" 2>/dev/null || true
# Rule and format loaders: every built-in file; the condition language: every `when`/`condition` line.
cp rules/*.toml "$out/rule_toml/"
j=0
for f in parsers/*.toml; do
  j=$((j + 1))
  case "$(basename "$f")" in
    collectors.toml) k=1 ;; entities.toml) k=2 ;; anchors.toml) k=3 ;; *) k=0 ;;
  esac
  { printf "\\$(printf '%03o' $k)"; cat "$f"; } > "$out/format_toml/$(basename "$f")"
done
grep -hE "^ *(when|condition|where|if) *= *" rules/*.toml | sed -E "s/^ *[a-z]+ *= *//; s/^[\"']//; s/[\"']\$//" \
  | awk '{ print > ("'"$out"'/condition/c" NR) }'
# A few conditions that reach every operator and function.
printf '%s\n' 'len(lower(s)) > 2 and not (n in [1, 2, 3]) or s =~ "^a.*"' > "$out/condition/hand1"
printf '%s\n' 'int(s) * -n % 7 != big / (n - 3) or exists(z) and f >= 1.5e3' > "$out/condition/hand2"
printf '%s\n' 'b == true and z == null or (((n + 1) * 2) <= 10 and s != "x\\"y")' > "$out/condition/hand3"
echo "seeded: $(for d in "$out"/*; do printf '%s=%s ' "$(basename "$d")" "$(ls "$d" | wc -l)"; done)"
