#!/usr/bin/env bash
# Memory per idle keep-alive connection, Wharf and nginx side by side (1,000 connections that
# each made one request and then stay idle). Usage: bench/idle-memory.sh [--conns N]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

bench/harness/idle-mem.sh --root "$fixture" --conns 1000 \
  --server "nginx={HERE}/servers/nginx.sh {ROOT} {PORT} {TMP}" \
  --server "wharf=$wharf serve {ROOT} --port {PORT}" \
  "$@"
