#!/usr/bin/env bash
# Runs clang-tidy, with the root .clang-tidy, over every first-party .cc of a
# clang build (its compile_commands.json), one process per core, and fails
# on any finding in this repository's code. Generated code (the etcd protos)
# and third-party headers are not checked.
#
#   scripts/tidy.sh [BUILD_DIR [PATH...]]
#
# BUILD_DIR defaults to build/clang (cmake --preset clang); PATHs (such as
# src/core testing/raw_http.cc) check only the sources under them.
#
# BUILD_DIR must be configured with clang (compile_commands.json holds
# clang's flags) and have its protos generated (the etcd client includes the
# generated headers): cmake --preset clang, then cmake --build --preset clang
# --target snowflake_proto_sources. Nothing else needs building.
#
# clang-tidy runs clang's front end with each file's own compile flags, so
# every compiler warning of the build (-Wall -Wextra -Wpedantic and
# -Wthread-safety, made errors by the preset's -Werror) is reported too: this
# is also the clang -Wthread-safety check of every target. $CLANG_TIDY picks
# another binary; $TIDY_JOBS another degree of parallelism (default: nproc).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

build=${1:-build/clang}
shift $(($# > 0 ? 1 : 0))
only=("$@")
db=$build/compile_commands.json
if [[ ! -f $db ]]; then
  echo "tidy: no $db; configure a clang build first:" \
       "cmake --preset clang && cmake --build --preset clang" \
       "--target snowflake_proto_sources" >&2
  exit 2
fi
build_abs=$(cd "$build" && pwd)
tidy=${CLANG_TIDY:-clang-tidy}
jobs=${TIDY_JOBS:-$(nproc)}

under() {
  ((${#only[@]} == 0)) && return 0
  local path
  for path in "${only[@]}"; do
    path=${path%/}
    [[ $1 == "$path" || $1 == "$path"/* ]] && return 0
  done
  return 1
}

# First-party sources: inside the checkout, outside every build directory.
mapfile -t files < <(
  sed -n 's/^ *"file": "\(.*\)",\{0,1\}$/\1/p' "$db" | sort -u |
    while IFS= read -r f; do
      case $f in
        "$build_abs"/* | "$root"/build/*) ;;
        "$root"/*.cc) under "${f#"$root"/}" && printf '%s\n' "$f" ;;
      esac
    done)
if ((${#files[@]} == 0)); then
  echo "tidy: no first-party .cc ${only[*]:+under ${only[*]} }in $db" >&2
  exit 2
fi

out=$(mktemp -d)
declare -A running=()  # clang-tidy's pid -> its file's index
cleanup() {
  ((${#running[@]} == 0)) || kill "${!running[@]}" 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "tidy: ${#files[@]} files, $jobs at a time ($("$tidy" --version |
  sed -n 's/.*version \([0-9.]*\).*/\1/p' | head -n 1))"

# One clang-tidy per file. Its output is kept whole (not interleaved with
# another's) and shown only when it found something.
failed=0
reap_one() {
  local pid status=0
  wait -n -p pid || status=$?
  local i=${running[$pid]}
  unset "running[$pid]"
  if ((status != 0)); then
    failed=$((failed + 1))
    cat "$out/$i.log"
  fi
}
for i in "${!files[@]}"; do
  ((${#running[@]} < jobs)) || reap_one
  "$tidy" -p "$build" --quiet --warnings-as-errors='*' "${files[$i]}" \
    >"$out/$i.log" 2>&1 &
  running[$!]=$i
done
while ((${#running[@]} > 0)); do reap_one; done

if ((failed > 0)); then
  # A header's finding is reported once per file that includes it.
  echo
  echo "tidy: $failed of ${#files[@]} files with findings; each finding once:"
  cat "$out"/*.log |
    grep -E '^[^ ].*:[0-9]+:[0-9]+: (warning|error): ' | sort -u ||
    echo "(none parsed; see the output above)"
  exit 1
fi
echo "tidy: clean"
