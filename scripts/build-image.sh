#!/usr/bin/env bash
# The build stage of every image, in one place: run by each Dockerfile (from /src) and by scripts/check-images.sh.
# Dependencies come from pnpm-lock.yaml only (the caller has run `pnpm fetch`, which reads nothing else): an offline
# frozen install and build of the package and what it depends on, then a production-only install, assembled in <out>.
#   scripts/build-image.sh <package directory name> <out>
set -euo pipefail
pkg="$1" out="$2"
filter="@tollgate/$pkg..."
pnpm install --offline --frozen-lockfile --filter "$filter"
pnpm --filter "$filter" build
rm -rf node_modules packages/*/node_modules
pnpm install --offline --frozen-lockfile --prod --filter "$filter"
mkdir -p "$out/packages"
cp -a node_modules package.json "$out/"
cp -a packages/shared "packages/$pkg" "$out/packages/"
rm -rf "$out"/packages/*/src "$out"/packages/*/test "$out"/packages/*/Dockerfile*
