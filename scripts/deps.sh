#!/usr/bin/env bash
# Installs the Debian packages this repository needs, only those missing (so
# a second run costs nothing). Needs root (or sudo).
#
#   scripts/deps.sh           everything: build, tests and benchmarks
#                             (scripts/test.sh)
#   scripts/deps.sh --build   only what building and running snowflaked and
#                             snowflake need (scripts/run-node.sh)
set -euo pipefail

# Building and running snowflaked and the snowflake tool.
BUILD_PACKAGES=(
  build-essential
  cmake
  ninja-build
  libabsl-dev
  libboost-dev
  libcli11-dev
  libfmt-dev
  libspdlog-dev
  libtomlplusplus-dev
  nlohmann-json3-dev
  libgrpc++-dev
  libzookeeper-mt-dev
  libprotobuf-dev
  protobuf-compiler
  protobuf-compiler-grpc
  libsystemd-dev  # sd_notify: READY=1 and STOPPING=1 under systemd
)

# The tests, the format check and the benchmarks, on top of the above.
TEST_PACKAGES=(
  clang
  clang-format
  clang-tidy
  libclang-rt-dev  # libFuzzer's runtime; clang only recommends it
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  prometheus
  faketime
  libfaketime
  curl
  etcd-server
  etcd-client
  zookeeper  # the server, for the ZooKeeper tests (brings a JRE)
  nodejs  # tests/docs: the JavaScript example of docs/api.md (Node.js 18+)
  chromium  # tests/integration/status_page_test: the status page, headless
  openssl
  wrk
  nghttp2-client
  redis-server
  redis-tools
  postgresql
  nginx
  gnuplot-nox
  jq
  valgrind
  strace
  # deploy/: the configs are checked by their own tools, and run for real
  haproxy
  prometheus-alertmanager
  yamllint
  python3
  python3-yaml
  podman  # deploy/container: the image, built with buildah and run
  buildah
  runc    # crun refuses hybrid cgroups on some machines
)

case "${1:-}" in
  --build) packages=("${BUILD_PACKAGES[@]}") ;;
  "") packages=("${BUILD_PACKAGES[@]}" "${TEST_PACKAGES[@]}") ;;
  *)
    echo "usage: $0 [--build]" >&2
    exit 2
    ;;
esac

missing=()
for pkg in "${packages[@]}"; do
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
