#!/usr/bin/env bash
# Builds and starts one snowflaked node on its embedded default: static worker
# ID 0, high-water mark under ./state, listening on 127.0.0.1:8080. Extra
# arguments go to snowflaked (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target snowflaked snowflake -j "$(nproc)"
exec ./build/release/src/daemon/snowflaked "$@"
