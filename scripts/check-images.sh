#!/usr/bin/env bash
# Runs the Dockerfiles' build steps without Docker (no engine here): for each image, a fresh directory gets exactly
# what the Dockerfile COPYs, then the same pnpm commands (fetch from the lockfile, offline frozen installs, build,
# production-only install), then the final stage's command is started from the assembled /out and must answer
# /healthz — and /out must hold no devDependency.
#   scripts/check-images.sh [auth-server|resource-api|demo-web]…
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
images=("${@:-auth-server resource-api demo-web}")
# shellcheck disable=SC2206
images=(${images[*]})
work="$(mktemp -d)"
pids=()
cleanup() { for pid in "${pids[@]:-}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

for image in "${images[@]}"; do
  echo "== $image"
  src="$work/$image/src" out="$work/$image/out"
  mkdir -p "$src" "$out"
  cp "$root"/{pnpm-workspace.yaml,pnpm-lock.yaml,.npmrc,package.json,tsconfig.base.json} "$src/"
  mkdir -p "$src/scripts" "$src/packages"
  cp "$root/scripts/bundle.mjs" "$src/scripts/"
  for pkg in shared "$image"; do
    rsync -a --exclude node_modules --exclude dist --exclude '*.tsbuildinfo' "$root/packages/$pkg" "$src/packages/"
  done
  (
    cd "$src"
    pnpm fetch >/dev/null
    pnpm install --offline --frozen-lockfile --filter "@tollgate/$image..." >/dev/null
    pnpm --filter "@tollgate/$image..." build >/dev/null
    rm -rf node_modules packages/*/node_modules
    pnpm install --offline --frozen-lockfile --prod --filter "@tollgate/$image..." >/dev/null
    mkdir -p "$out/packages"
    cp -a node_modules package.json "$out/"
    cp -a packages/shared "packages/$image" "$out/packages/"
    rm -rf "$out"/packages/*/src "$out"/packages/*/test "$out"/packages/*/Dockerfile*
  )
  for dev in typescript esbuild tap playwright-core express @biomejs; do
    if ls "$out/node_modules/.pnpm" | grep -q "^${dev/\//+}@"; then
      echo "$image: devDependency $dev in the final stage" >&2
      exit 1
    fi
  done
  port=$((20000 + RANDOM % 20000))
  entry=dist/server.bundle.js
  [ "$image" = demo-web ] && entry=dist/server.js
  (cd "$out/packages/$image" && NODE_ENV=production HOST=127.0.0.1 PORT=$port LOG_LEVEL=warn \
    ISSUER=http://127.0.0.1:1 node "$entry" >"$work/$image.log" 2>&1) &
  pids+=($!)
  ok=no
  for _ in $(seq 1 100); do
    if curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then ok=yes; break; fi
    sleep 0.2
  done
  if [ "$ok" != yes ]; then
    echo "$image: the built image's command did not answer /healthz" >&2
    cat "$work/$image.log" >&2
    exit 1
  fi
  echo "$image: built from the lockfile, $(du -sh "$out" | cut -f1) in the final stage, /healthz answers"
  if [ "$image" = auth-server ]; then
    # Dockerfile.dev: the same build, `tollgate dev` as the command.
    port=$((20000 + RANDOM % 20000))
    (cd "$out" && node packages/auth-server/bin/tollgate.js dev --host 127.0.0.1 --port "$port" --allow-remote-controls \
      --config "$root/test/examples/any-language/dev.json" >"$work/dev.log" 2>&1) &
    pids+=($!)
    ok=no
    for _ in $(seq 1 100); do
      if curl -fsS "http://127.0.0.1:$port/_test" >/dev/null 2>&1; then ok=yes; break; fi
      sleep 0.2
    done
    if [ "$ok" != yes ]; then
      echo "tollgate-dev: the image's command did not answer /_test" >&2
      cat "$work/dev.log" >&2
      exit 1
    fi
    echo "tollgate-dev: the same build runs tollgate dev, /_test answers"
  fi
done
echo "images: every build step ran from the lockfile"
