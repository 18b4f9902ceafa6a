# Shared environment for Wharf's scripts: sourced, not run.
# Cargo's output lives outside the clone so a fresh clone (CI) reuses the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wharf/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
WHARF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export WHARF_ROOT
