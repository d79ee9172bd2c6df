#!/usr/bin/env bash
# Builds the demo service images handover-demo:1 and handover-demo:2 from local files
# (there is no registry to pull a base image from): FROM scratch with this host's node
# binary and the shared libraries it links, plus the service bundled into one file by
# esbuild (mysql2 included), so nothing in the image depends on node_modules.
#
# Idempotent: each image carries the label handover.demo.content-hash, a hash of
# everything that goes into it; an image whose label matches is left alone.
#
# Usage: scripts/build-demo-images.sh [--force]     (needs `npm ci` and a running dockerd)
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
image_repo=handover-demo # DEMO_IMAGE_REPO in scripts/lib/demo-images.ts, which tests and the demo run
node_bin=$(readlink -f "$(command -v node)")
esbuild="$repo/node_modules/.bin/esbuild"
force=false
[ "${1:-}" = "--force" ] && force=true

log() { printf '[build-demo-images] %s\n' "$*"; }
die() { log "error: $*" >&2; exit 1; }

[ -x "$esbuild" ] || die "esbuild not found at $esbuild; run 'npm ci' first"
docker info >/dev/null 2>&1 || die "docker engine not reachable; run scripts/setup-env.sh first"

# Test files running in parallel each ask for the images: one build at a time, and the
# later ones then find the images current.
exec 9>"${TMPDIR:-/tmp}/handover-demo-build.lock"
flock 9

work=$(mktemp -d "${TMPDIR:-/tmp}/handover-demo-build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The node binary and every library the dynamic loader needs for it (ldd lists the loader too).
runtime_files() {
  printf '%s\n' "$node_bin"
  ldd "$node_bin" | grep -o '/[^ ]*lib[^ ]*\.so[^ ]*' | sort -u
}

# Hashes the files' contents (following symlinks), not their paths' timestamps.
hash_runtime() {
  local f
  while read -r f; do printf '%s %s\n' "$f" "$(sha256sum <"$(readlink -f "$f")" | cut -d' ' -f1)"; done < <(runtime_files) |
    sha256sum | cut -d' ' -f1
}

stage_runtime() { # stage_runtime DIR: the image's root filesystem, node at /usr/bin/node
  local root=$1 f
  while read -r f; do
    if [ "$f" = "$node_bin" ]; then
      mkdir -p "$root/usr/bin" && cp -L "$f" "$root/usr/bin/node"
    else
      mkdir -p "$root$(dirname "$f")" && cp -L "$f" "$root$f"
    fi
  done < <(runtime_files)
}

write_dockerfile() { # write_dockerfile VERSION FILE
  cat >"$2" <<DOCKERFILE
FROM scratch
COPY root/ /
COPY app/ /app/
ENV APP_VERSION=$1 NODE_ENV=production
LABEL org.opencontainers.image.title="handover-demo" \\
      org.opencontainers.image.description="handover demo service, version $1" \\
      org.opencontainers.image.version="$1"
# No user database in a scratch image: a numeric uid (nobody) is enough to drop root.
USER 65534:65534
WORKDIR /app
# The app handles SIGTERM itself (drains in-flight requests, then exits 0).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/node", "/app/server.js"]
DOCKERFILE
}

current_hash() { # the content-hash label of an existing image, empty when there is none
  docker image inspect --format '{{ index .Config.Labels "handover.demo.content-hash" }}' "$1" 2>/dev/null || true
}

runtime_hash=$(hash_runtime)
staged_runtime=""

for version in 1 2; do
  tag="$image_repo:$version"
  context="$work/v$version"
  mkdir -p "$context/app"
  # CommonJS output: mysql2 is CommonJS and calls require() on node built-ins, which an
  # ESM bundle cannot do; /app has no package.json, so node loads server.js as CommonJS.
  "$esbuild" "$repo/deploy/demo/src/server-v$version.ts" --bundle --platform=node --target=node20 \
    --format=cjs --log-level=warning --outfile="$context/app/server.js"
  write_dockerfile "$version" "$context/Dockerfile"
  hash=$(cat <(echo "$runtime_hash") "$context/Dockerfile" "$context/app/server.js" | sha256sum | cut -d' ' -f1)

  if [ "$force" = false ] && [ "$(current_hash "$tag")" = "$hash" ]; then
    log "$tag up to date (content hash ${hash:0:12})"
    continue
  fi

  if [ -z "$staged_runtime" ]; then
    staged_runtime="$work/runtime"
    stage_runtime "$staged_runtime"
  fi
  # Hard links: the same node binary in both contexts without copying 100 MB twice.
  cp -al "$staged_runtime" "$context/root"
  previous_id=$(docker image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)
  started=$SECONDS
  # DOCKER_BUILDKIT=0: this host has no buildx plugin; the classic builder is what is there.
  # Its stderr is only a deprecation notice when the build works, so show it only on failure.
  if ! image_id=$(DOCKER_BUILDKIT=0 docker build --quiet --label "handover.demo.content-hash=$hash" \
    -t "$tag" "$context" 2>"$work/build.err"); then
    cat "$work/build.err" >&2
    die "docker build of $tag failed"
  fi
  log "built $tag ($image_id, content hash ${hash:0:12}, $((SECONDS - started)) s)"
  # The replaced image is now untagged; remove it unless a container still uses it.
  if [ -n "$previous_id" ] && [ "$previous_id" != "$image_id" ]; then
    docker image rm "$previous_id" >/dev/null 2>&1 || true
  fi
done
