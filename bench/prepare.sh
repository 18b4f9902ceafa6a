#!/usr/bin/env bash
# Sourced by the benchmark scripts: installs wrk and nginx when missing, builds the release
# `wharf` and the harness's `hyper-mem` (the stack's ceiling), and makes the fixture. Sets $wharf
# and $hyper_mem (the binaries) and $fixture (the folder).
# The fixture lives in /tmp/wharf-bench-fixture (override: WHARF_BENCH_FIXTURE): it must be
# readable by nginx's worker user (nobody), which a folder under /root is not.
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

ensure_rust
ensure_debian_packages wrk nginx-light curl
cargo build --release -p wharf-cli --bin wharf
wharf="$CARGO_TARGET_DIR/release/wharf"

# hyper-mem: bare hyper answering from memory. Built outside the clone, and only when it is
# missing or older than its sources (its fat-LTO build takes minutes).
hyper_mem="$HOME/.cache/wharf/target-ref/release/hyper-mem"
if [[ ! -x $hyper_mem || -n $(find bench/harness/refservers -type f -newer "$hyper_mem") ]]; then
  (cd bench/harness/refservers && CARGO_TARGET_DIR="$HOME/.cache/wharf/target-ref" cargo build --release --locked)
fi

fixture=${WHARF_BENCH_FIXTURE:-/tmp/wharf-bench-fixture}
[[ -f $fixture/10m.bin && -d $fixture/dir1000 ]] || (umask 022 && bench/harness/make-fixture.sh "$fixture")
