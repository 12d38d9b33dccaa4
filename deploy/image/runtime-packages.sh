#!/usr/bin/env bash
# Lists the Debian packages that provide the shared libraries the given binaries load (ldd),
# one per line, sorted: what the runtime image must install. Fails, naming the library, when a
# library belongs to no package (then it would have to be copied instead).
#   deploy/image/runtime-packages.sh build/controller/meshd build/ca/meshd-agent
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 BINARY..." >&2; exit 2; }
for bin in "$@"; do
  [ -x "$bin" ] || { echo "runtime-packages: $bin: not an executable" >&2; exit 2; }
done
# Every library once, by its resolved path.
mapfile -t libs < <(for bin in "$@"; do
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'
done | xargs -r readlink -f | sort -u)
# dpkg knows each file under one spelling (usr-merge: /lib or /usr/lib): ask for both, once.
queries=()
for lib in "${libs[@]}"; do
  queries+=("$lib")
  case "$lib" in
    /usr/*) queries+=("${lib#/usr}") ;;
    *) queries+=("/usr$lib") ;;
  esac
done
declare -A owner=()
while IFS= read -r line; do
  pkg=${line%%: /*}
  path=${line#*: }
  pkg=${pkg%%,*}
  pkg=${pkg%%:*}
  owner[$path]=$pkg
done < <(dpkg-query -S "${queries[@]}" 2>/dev/null || true)
status=0
declare -A pkgs=()
for lib in "${libs[@]}"; do
  alt=$([ "${lib#/usr/}" != "$lib" ] && echo "${lib#/usr}" || echo "/usr$lib")
  p=${owner[$lib]:-${owner[$alt]:-}}
  if [ -z "$p" ]; then
    echo "runtime-packages: $lib (needed by $*) belongs to no Debian package" >&2
    status=1
    continue
  fi
  pkgs[$p]=1
done
[ "$status" -eq 0 ] || exit "$status"
printf '%s\n' "${!pkgs[@]}" | sort
