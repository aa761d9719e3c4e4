#!/usr/bin/env bash
# The tracing tests on the OpenTelemetry JS 3.x line: SDK 3.x (`@opentelemetry/sdk-trace`), core and
# resources 3.x, OTLP exporters 0.300+ and api 1.10+, installed over the 2.x line package-lock.json
# pins, in a scratch copy of this checkout (the checkout itself is left as it is). Part of `npm test`
# (scripts/test.sh); needs the devDependencies installed (`npm ci`).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

packages=(
  '@opentelemetry/api@^1.10.0'
  '@opentelemetry/core@^3.0.0'
  '@opentelemetry/resources@^3.0.0'
  '@opentelemetry/resource-detector-aws@^3.0.0'
  '@opentelemetry/sdk-trace@^3.0.0'
  '@opentelemetry/exporter-trace-otlp-grpc@>=0.300.0 <1'
  '@opentelemetry/exporter-trace-otlp-http@>=0.300.0 <1'
  '@opentelemetry/exporter-trace-otlp-proto@>=0.300.0 <1'
  '@opentelemetry/sampler-aws-xray@>=0.3.0 <1'
  '@opentelemetry/instrumentation@>=0.300.0 <1'
  '@opentelemetry/instrumentation-pg@>=0.77.0 <1'
  '@opentelemetry/instrumentation-ioredis@>=0.72.0 <1'
  '@opentelemetry/instrumentation-redis@>=0.72.0 <1'
  '@opentelemetry/instrumentation-mysql2@>=0.70.0 <1'
)
tests=(
  test/unit/tracing
  test/integration/tracing/export.test.ts
  test/integration/tracing/resource.test.ts
  test/integration/tracing/modes.test.ts
  test/integration/tracing/sampling.test.ts
  test/integration/tracing/client-spans.test.ts
  test/integration/tracing/w3c-propagation.test.ts
  test/integration/tracing/collector-down.test.ts
  test/integration/tracing/lazy-loading.test.ts
  test/integration/tracing/datastore-spans.test.ts
  test/integration/tracing/suppressed-context.test.ts
  test/integration/tracing/beside-an-agent.test.ts
  test/integration/tracing/framework-instrumentations.test.ts
  test/integration/tracing/api-copies.test.ts
  test/integration/tracing/xray-sampler.test.ts
  test/integration/lazy-dependencies.test.ts
)

scratch="$(mktemp -d "${TMPDIR:-/tmp}/apprunner-kit-otel3-XXXXXX")"
[[ -n "${KEEP_SCRATCH:-}" ]] || trap 'rm -rf "$scratch"' EXIT
tar -C "$root" --exclude=./.git --exclude=./node_modules --exclude=./examples/node_modules -cf - . |
  tar -C "$scratch" -xf -
# Its contents: a worktree's node_modules may be a symbolic link to the main checkout's, which npm
# below would then change in place.
cp -a "$root/node_modules/." "$scratch/node_modules"
cd "$scratch"
echo "installing the OpenTelemetry 3.x line over the lockfile's: ${packages[*]}"
# --force: dev tools of the 2.x line (sdk-node 0.223, its instrumentations) keep their own
# nested copies; only the kit's peers move to 3.x.
npm install --no-save --no-audit --no-fund --force --loglevel=error "${packages[@]}"
node -e '
  const { readFileSync } = require("node:fs");
  const v = (n) => JSON.parse(readFileSync(`node_modules/@opentelemetry/${n}/package.json`, "utf8")).version;
  const names = ["api", "core", "resources", "sdk-trace", "exporter-trace-otlp-proto", "instrumentation", "instrumentation-pg"];
  console.log(`on ${names.map((n) => `@opentelemetry/${n}@${v(n)}`).join(", ")}`);'
EXPECT_OTEL_SDK_MAJOR=3 npx vitest run "${tests[@]}"
