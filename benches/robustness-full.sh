#!/usr/bin/env bash
# The bounded-memory cases of tests/robustness.rs at the sizes the robustness issue names (a 1 GiB
# line, ten million one-byte records, 100 thousand files), in a release build. `cargo test` runs the
# same cases scaled down; these take minutes and gigabytes of disk, so they are not in CI.
# Each case asserts exit code, message and peak RSS (measured from /proc, outside the process).
set -euo pipefail
cd "$(dirname "$0")/.."
exec cargo test --release --locked --test robustness -- --ignored --test-threads 1 --nocapture "$@"
