# Shared environment for Wharf's scripts: sourced, not run.
# Cargo's output lives outside the clone so a fresh clone (CI) reuses the build.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/wharf/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
WHARF_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export WHARF_ROOT
# The OS the scripts run on, which picks their OS-specific steps: linux, macos or windows
# (Git Bash, as on GitHub's Windows runners).
case "$(uname -s)" in
  Darwin) WHARF_OS=macos ;;
  MINGW* | MSYS* | CYGWIN*) WHARF_OS=windows ;;
  *) WHARF_OS=linux ;;
esac
export WHARF_OS
if [[ $WHARF_OS == windows ]]; then
  # C:/... rather than /c/...: the one spelling both Git Bash and Windows programs (cargo, node) read.
  CARGO_TARGET_DIR="$(cygpath -m "$CARGO_TARGET_DIR")"
  WHARF_ROOT="$(cygpath -m "$WHARF_ROOT")"
fi
