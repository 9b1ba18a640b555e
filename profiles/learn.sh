#!/usr/bin/env bash
# Re-learn the built-in healthy profile (profiles/builtin.toml) from green runs: the bundled healthy
# samples and, when ../shared/real-logs is beside the checkout, the healthy captures of the real service.
# Run it after adding a healthy sample; commit the result. Fault runs never go in here.
set -euo pipefail
cd "$(dirname "$0")/.."
inputs=(samples/healthy samples/faults/healthy-group-chat samples/faults/healthy-multi-process)
real=../shared/real-logs
for f in p2p_messaging_test_with_backtraces group_chat_leave_and_end p2p_messaging_test_rustlog_info \
         intra_kernel_peer_message p2p_file_transfer_ok; do
  [ -f "$real/$f.ansi.log" ] && inputs+=("$real/$f.ansi.log")
done
cargo run --release --quiet -- profile "${inputs[@]}" -o profiles/builtin.toml
