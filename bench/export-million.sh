#!/usr/bin/env bash
# CSV export of a million access records: elapsed time and peak RSS of the export. Writes the
# session into a temporary directory first (untimed). See server-core/examples/export_million.rs.
#
# Usage: bench/export-million.sh [--records 1000000]
# Needs about 1 GB free in $TMPDIR (the JSON Lines session plus the CSV).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/env.sh"
source "$WHARF_ROOT/scripts/deps.sh"
cd "$WHARF_ROOT"

ensure_rust
cargo run --release -p wharf-core --example export_million -- "$@"
