#!/usr/bin/env bash
# `npm test`: the whole check, on the Node.js lines the kit supports.
#
#   1. Node 24 (the line the project develops on): build, type-check, lint, every test, package check.
#   2. Node 22 and Node 26: a decisive subset (adapter conformance, the packed package installed and
#      run, the example, shutdown under load and over TLS, stdout shared with the app, tracing).
#   3. The OpenTelemetry JS 3.x line, installed over the lockfile's 2.x line in a scratch copy: the
#      tracing tests again (scripts/test-otel-line.sh).
#
# Each line comes from scripts/node.sh (official builds from the npm registry, cached outside the
# repository), so this runs the same on a machine whose own node is older. Every part runs even when
# an earlier one failed; the exit status is non-zero when any did.
#
#   TEST_NODE_LINES="24"    the lines to run (default "24 22 26"; the first one runs the whole suite)
#   TEST_OTEL_LINE=0        skips part 3
set -uo pipefail
cd "$(dirname "$0")/.."

read -r -a lines <<<"${TEST_NODE_LINES:-24 22 26}"
subset=(
  test/unit/platform
  test/conformance
  test/integration/examples
  test/integration/example.test.ts
  test/integration/packaging.test.ts
  test/integration/lifecycle/shutdown.test.ts
  test/integration/lifecycle/tls.test.ts
  test/integration/lifecycle/adopt.test.ts
  test/integration/lifecycle/upgrade.test.ts
  test/integration/lifecycle/streaming.test.ts
  test/integration/lifecycle/peer-behaviours.test.ts
  test/integration/logging/stdout-destination.test.ts
  test/integration/tracing
  test/unit/tracing
)
summary=()
failed=0
passed_total=0
failed_total=0
skipped_total=0

# Runs one part, its output shown as it comes and kept to read the closing `tests:` line of each
# vitest run in it.
part() {
  local title=$1 log status p f s
  shift
  log="$(mktemp)"
  printf '\n==== %s ====\n' "$title"
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  while read -r _ p _ f _ s _; do
    passed_total=$((passed_total + p))
    failed_total=$((failed_total + f))
    skipped_total=$((skipped_total + s))
  done < <(grep -aE '^tests: [0-9]+ passed, [0-9]+ failed, [0-9]+ skipped$' "$log")
  if [[ $status == 0 ]]; then
    summary+=("ok      $title")
  else
    summary+=("FAILED  $title (exit $status)")
    failed=1
    # A part that failed before its tests ran (a build or lint error) still counts as a failure.
    grep -qaE '^tests: [0-9]+ passed, [1-9][0-9]* failed' "$log" || failed_total=$((failed_total + 1))
  fi
  rm -f "$log"
}

on_line() {
  local line=$1
  shift
  bash scripts/node.sh exec "$line" -- "$@"
}

primary=${lines[0]}
part "Node $primary: build, type-check, lint, whole suite, package check" \
  on_line "$primary" bash -c 'echo "node $(node --version), npm $(npm --version)" && npm run -s test:suite'
for line in "${lines[@]:1}"; do
  part "Node $line: decisive subset" \
    on_line "$line" bash -c 'echo "node $(node --version)" && npx vitest run "$@"' subset "${subset[@]}"
done
if [[ "${TEST_OTEL_LINE:-1}" != 0 ]]; then
  part "Node $primary: tracing on the OpenTelemetry JS 3.x line" on_line "$primary" bash scripts/test-otel-line.sh
fi

printf '\n==== summary ====\n'
printf '%s\n' "${summary[@]}"
printf 'total: %d passed, %d failed, %d skipped\n' "$passed_total" "$failed_total" "$skipped_total"
exit $failed
