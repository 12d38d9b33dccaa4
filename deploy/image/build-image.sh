#!/usr/bin/env bash
# `make image`: prepares build/image/ (binaries from the normal build, runtime-packages.txt,
# the Dockerfile) and builds meshd:$TAG with docker when an engine answers; otherwise says why
# and exits 0 (the context stays there for another machine).
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${BUILD:-build}
TAG=${TAG:-meshd:latest}
ctx="$BUILD/image"
rm -rf "$ctx" && mkdir -p "$ctx"
cp "$BUILD/controller/meshd" "$BUILD/ca/meshd-agent" "$BUILD/controller/meshctl" "$ctx/"
strip --strip-debug "$ctx/meshd" "$ctx/meshd-agent" "$ctx/meshctl" 2>/dev/null || true
deploy/image/runtime-packages.sh "$ctx/meshd" "$ctx/meshd-agent" "$ctx/meshctl" > "$ctx/runtime-packages.txt"
cp deploy/Dockerfile "$ctx/Dockerfile"
echo "image: context in $ctx ($(wc -l < "$ctx/runtime-packages.txt") runtime packages)"
if ! command -v docker >/dev/null 2>&1; then
  echo "image: no docker command here; build it elsewhere with: docker build -t $TAG $ctx"
  exit 0
fi
if ! docker info >/dev/null 2>&1; then
  echo "image: docker does not answer (no engine running); build it elsewhere with: docker build -t $TAG $ctx"
  exit 0
fi
docker build -t "$TAG" "$ctx"
