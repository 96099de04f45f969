#!/usr/bin/env bash
# Builds and starts one snowflaked node on its embedded default: static worker
# ID 0, high-water mark under ./state (ignored by git), listening on
# 127.0.0.1:8080. Installs only what the build needs (scripts/deps.sh
# --build: no test or benchmark packages) and builds only snowflaked and
# snowflake, without tests, in build/node. Extra arguments go to snowflaked
# (try --help).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh --build
cmake -G Ninja -S . -B build/node -DCMAKE_BUILD_TYPE=Release \
  -DSNOWFLAKE_BUILD_TESTS=OFF -DSNOWFLAKE_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build build/node --target snowflaked snowflake -j "$(nproc)"
exec ./build/node/src/daemon/snowflaked "$@"
