#!/usr/bin/env bash
# Runs the Dockerfiles' build stage without Docker (no engine here): for each image, a fresh directory gets exactly
# what the Dockerfile COPYs, then `pnpm fetch` and scripts/build-image.sh, the very script the Dockerfile runs; the
# final stage's command is then started from the assembled /out and must answer its health check — and /out must
# hold no devDependency.
#   scripts/check-images.sh [auth-server|resource-api|demo-web|gate]…
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
read -r -a images <<<"${*:-auth-server resource-api demo-web gate}"
work="$(mktemp -d)"
pids=()
# Stops every server this script started (each is the very process it ran: see serve_until), waits for them to exit,
# then removes the work folder. On any exit, and on the signals a test runner or Ctrl-C sends.
cleanup() {
  for pid in "${pids[@]:-}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]:-}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$work" || true
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# Starts a command in the background (cwd, log file, then the command) and waits for a URL to answer 200.
serve_until() {
  local dir="$1" log="$2" url="$3"
  shift 3
  # exec: the background job IS the server, so killing its pid stops it (a subshell would leave it running).
  (cd "$dir" && exec "$@" >"$log" 2>&1) &
  pids+=($!)
  for _ in $(seq 1 100); do
    if curl -fsS "$url" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  cat "$log" >&2
  return 1
}

for image in "${images[@]}"; do
  echo "== $image"
  src="$work/$image/src" out="$work/$image/out"
  mkdir -p "$src/scripts" "$src/packages" "$out"
  cp "$root"/{pnpm-workspace.yaml,pnpm-lock.yaml,.npmrc,package.json,tsconfig.base.json} "$src/"
  cp "$root/scripts/bundle.mjs" "$root/scripts/build-image.sh" "$src/scripts/"
  for pkg in shared "$image"; do
    rsync -a --exclude node_modules --exclude dist --exclude '*.tsbuildinfo' "$root/packages/$pkg" "$src/packages/"
  done
  (cd "$src" && pnpm fetch >/dev/null && scripts/build-image.sh "$image" "$out" >/dev/null)
  for dev in typescript esbuild tap playwright-core express @biomejs; do
    if ls "$out/node_modules/.pnpm" | grep -q "^${dev/\//+}@"; then
      echo "$image: devDependency $dev in the final stage" >&2
      exit 1
    fi
  done
  entry=dist/server.bundle.js
  [ "$image" = demo-web ] && entry=dist/server.js
  port=$((20000 + RANDOM % 20000))
  serve_until "$out/packages/$image" "$work/$image.log" "http://127.0.0.1:$port/healthz" \
    env NODE_ENV=production HOST=127.0.0.1 PORT=$port LOG_LEVEL=warn ISSUER=http://127.0.0.1:1 node "$entry" ||
    { echo "$image: the built image's command did not answer /healthz" >&2; exit 1; }
  echo "$image: built from the lockfile, $(du -sh "$out" | cut -f1) in the final stage, /healthz answers"
  if [ "$image" = auth-server ]; then
    # Dockerfile.dev: the same build, `tollgate dev` as the command.
    port=$((20000 + RANDOM % 20000))
    serve_until "$out" "$work/dev.log" "http://127.0.0.1:$port/_test" \
      node packages/auth-server/bin/tollgate.js dev --host 127.0.0.1 --port "$port" --allow-remote-controls \
      --config "$root/test/examples/any-language/dev.json" ||
      { echo "tollgate-dev: the image's command did not answer /_test" >&2; exit 1; }
    echo "tollgate-dev: the same build runs tollgate dev, /_test answers"
  fi
done
echo "images: every build step ran from the lockfile"
