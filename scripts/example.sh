#!/usr/bin/env bash
# `npm run example[:NAME]`: builds the kit, links the examples to this checkout and runs one as App
# Runner would (node itself receives SIGTERM). Runs on the machine's node when it is >= 22.12, else on
# Node 24 from scripts/node.sh.
#   scripts/example.sh express|fastify|koa|node-http
set -euo pipefail
cd "$(dirname "$0")/.."
name=${1:?usage: scripts/example.sh express|fastify|koa|node-http}
[[ -f "examples/$name/server.mjs" ]] || { echo "no example named '$name' (examples/$name/server.mjs)" >&2; exit 2; }
exec bash scripts/node.sh ensure -- bash -c \
  'npm run -s build >&2 && node scripts/link-examples.mjs && exec node "examples/$1/server.mjs"' example "$name"
