#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only if one is
# missing (so a second run costs nothing). Source it or run it; needs root.
set -euo pipefail

SNOWFLAKE_PACKAGES=(
  build-essential cmake ninja-build clang clang-format
  libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev
  libcli11-dev libfmt-dev libspdlog-dev libtomlplusplus-dev
  nlohmann-json3-dev libboost-dev
  prometheus faketime libfaketime curl
  etcd-server etcd-client libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev
  protobuf-compiler openssl
  wrk nghttp2-client redis-server redis-tools postgresql nginx gnuplot-nox jq
  valgrind strace
)

missing=()
for pkg in "${SNOWFLAKE_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$pkg")
done
if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}" >&2
  sudo_cmd=()
  [[ $(id -u) -eq 0 ]] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
