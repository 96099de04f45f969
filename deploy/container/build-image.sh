#!/usr/bin/env bash
# Builds the snowflaked image on this machine from the binaries already built,
# without a registry or a base image: the same image as deploy/container/
# Dockerfile (user, environment, port, volume, stop signal, entrypoint), but
# FROM scratch with exactly the files the binaries need: the shared
# libraries `ldd` lists and the dynamic loader, /etc/passwd and /etc/group
# for the user, /etc/nsswitch.conf, the CA bundle (https etcd endpoints),
# /tmp and the state directory. Run from anywhere.
#
#   build-image.sh [--tag NAME]   the image, with buildah (as root; rootless
#                                 needs subuid/subgid ranges that cover uid
#                                 10001); default localhost/snowflaked:dev
#   build-image.sh --rootfs DIR   only the root file system, into DIR (new or
#                                 empty), for chroot where buildah cannot
#                                 run; as root the state directory is owned
#                                 by the image's user
#
# SNOWFLAKED_BIN and SNOWFLAKE_CLI_BIN name the binaries (default: the
# release build, build/release/src/{daemon/snowflaked,cli/snowflake}); the
# gRPC module snowflaked loads when it serves gRPC or uses a coordinator,
# snowflaked-grpc.so, is taken from beside snowflaked and goes to
# /usr/lib/snowflake/, where snowflaked looks for it.
# Keep the settings below in step with the Dockerfile:
# tests/deploy/container_test.sh compares them.
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)

readonly IMAGE_UID=10001
readonly IMAGE_USER=snowflake
readonly STATE_DIR=/var/lib/snowflaked
readonly PORT=8080
readonly CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
# debian:12-slim's PATH, so that the two images agree.
readonly IMAGE_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

usage() {
  echo "usage: $0 [--tag NAME] | --rootfs DIR" >&2
  exit 2
}

tag=localhost/snowflaked:dev
rootfs_only=""
while (($#)); do
  case "$1" in
    --tag) (($# >= 2)) || usage; tag=$2; shift 2 ;;
    --rootfs) (($# >= 2)) || usage; rootfs_only=$2; shift 2 ;;
    *) usage ;;
  esac
done

daemon=${SNOWFLAKED_BIN:-$repo/build/release/src/daemon/snowflaked}
cli=${SNOWFLAKE_CLI_BIN:-$repo/build/release/src/cli/snowflake}
module=$(dirname "$daemon")/snowflaked-grpc.so
for bin in "$daemon" "$cli"; do
  [[ -x "$bin" ]] || { echo "build-image: $bin is not an executable (build it first: cmake --build --preset release)" >&2; exit 1; }
done
[[ -f "$module" ]] || { echo "build-image: no $module beside snowflaked (build it first: cmake --build --preset release)" >&2; exit 1; }
[[ "$(uname -m)" == x86_64 || "$(uname -m)" == aarch64 ]] \
  || echo "build-image: note: untested architecture $(uname -m)" >&2

# The shared objects a binary loads: each `ldd` line with a path (the
# libraries after "=>", and the loader, listed by its own path). vDSO lines
# have neither. A "not found" stops the build: the image would not start.
shared_objects() {
  local out
  out=$(ldd "$1")
  if grep -q "not found" <<<"$out"; then
    echo "build-image: $1 has unresolved libraries:" >&2
    grep "not found" <<<"$out" >&2
    exit 1
  fi
  awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' <<<"$out"
}

# Writes the root file system into $1 (which exists and is empty), all but
# the state directory, whose owner each way of building sets its own way.
assemble() {
  local root=$1 so
  # Debian 12's merged /usr: /lib, /lib64 and /bin lead into /usr, so that
  # the paths ldd prints (/lib/x86_64-linux-gnu/...) and the loader the
  # binaries name (/lib64/ld-linux-x86-64.so.2) resolve in the image.
  mkdir -p "$root"/usr/{bin,lib,lib64} "$root"/etc/ssl/certs "$root"/tmp \
    "$root$(dirname "$STATE_DIR")"
  ln -s usr/bin "$root/bin"
  ln -s usr/lib "$root/lib"
  ln -s usr/lib64 "$root/lib64"
  chmod 1777 "$root/tmp"

  install -m 0755 "$daemon" "$root/usr/bin/snowflaked"
  install -m 0755 "$cli" "$root/usr/bin/snowflake"
  install -D -m 0644 "$module" "$root/usr/lib/snowflake/snowflaked-grpc.so"

  # The file each path names, under that path (cp -L: the library, not its
  # symlink); the rootfs' own /lib symlinks place it under /usr.
  { shared_objects "$daemon"; shared_objects "$cli"; shared_objects "$module"; } |
    sort -u | while read -r so; do
    mkdir -p "$(dirname "$root$so")"
    cp -L "$so" "$root$so"
  done

  # glibc 2.34+ has the files and dns NSS modules inside libc.so.6: no
  # libnss_* to copy, only the configuration. /etc/hosts and
  # /etc/resolv.conf come from the container runtime.
  printf '%s\n' "root:x:0:0:root:/root:/usr/sbin/nologin" \
    "$IMAGE_USER:x:$IMAGE_UID:$IMAGE_UID:snowflaked:$STATE_DIR:/usr/sbin/nologin" \
    >"$root/etc/passwd"
  printf '%s\n' "root:x:0:" "$IMAGE_USER:x:$IMAGE_UID:" >"$root/etc/group"
  printf '%s\n' "passwd: files" "group: files" "hosts: files dns" \
    >"$root/etc/nsswitch.conf"
  if [[ -r "$CA_BUNDLE" ]]; then
    cp -L "$CA_BUNDLE" "$root$CA_BUNDLE"
  else
    echo "build-image: warning: no $CA_BUNDLE here (apt-get install ca-certificates): https etcd endpoints will need --etcd-ca" >&2
  fi
}

if [[ -n "$rootfs_only" ]]; then
  mkdir -p "$rootfs_only"
  if [[ -n "$(ls -A "$rootfs_only")" ]]; then
    echo "build-image: $rootfs_only is not empty" >&2
    exit 1
  fi
  assemble "$rootfs_only"
  install -d -m 0700 "$rootfs_only$STATE_DIR"
  if [[ $(id -u) -eq 0 ]]; then
    chown "$IMAGE_UID:$IMAGE_UID" "$rootfs_only$STATE_DIR"
  else
    echo "build-image: note: not root, so $STATE_DIR in the rootfs is yours, not uid $IMAGE_UID's" >&2
  fi
  echo "build-image: root file system in $rootfs_only ($(du -sh "$rootfs_only" | cut -f1))"
  exit 0
fi

command -v buildah >/dev/null || {
  echo "build-image: buildah not found (apt-get install buildah), or use --rootfs DIR" >&2
  exit 1
}

work=$(mktemp -d)
ctr=""
cleanup() {
  [[ -z "$ctr" ]] || buildah rm "$ctr" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

assemble "$work/rootfs"
mkdir "$work/state"
install -d -m 0700 "$work/state/$(basename "$STATE_DIR")"
version=$("$daemon" --version 2>/dev/null | awk '{ print $NF; exit }') || version=unknown

ctr=$(buildah from scratch)
# Files owned by root, like a Dockerfile's COPY; then the state directory
# alone owned by the user, who must be able to write it (a directory's
# contents are copied: $work/state holds just the state directory).
buildah copy --quiet "$ctr" "$work/rootfs" / >/dev/null
buildah copy --quiet --chown "$IMAGE_UID:$IMAGE_UID" "$ctr" "$work/state" \
  "$(dirname "$STATE_DIR")" >/dev/null
buildah config \
  --user "$IMAGE_UID:$IMAGE_UID" \
  --env "PATH=$IMAGE_PATH" \
  --env "SNOWFLAKE_LISTEN=0.0.0.0:$PORT" \
  --env "SNOWFLAKE_STATE_DIR=$STATE_DIR" \
  --port "$PORT" \
  --volume "$STATE_DIR" \
  --stop-signal SIGTERM \
  --workingdir / \
  --entrypoint '["/usr/bin/snowflaked"]' \
  --cmd '' \
  --label "org.opencontainers.image.title=snowflaked" \
  --label "org.opencontainers.image.version=$version" \
  --label "org.opencontainers.image.description=Snowflake ID generator node (built by deploy/container/build-image.sh)" \
  "$ctr"
buildah commit --quiet --rm "$ctr" "$tag" >/dev/null
ctr=""
echo "build-image: $tag ($(buildah images --format '{{.Size}}' "$tag" | head -1))"
