#!/usr/bin/env bash
# The test suite's PostgreSQL and Redis, from Debian packages, on 127.0.0.1 only.
#
#   scripts/services.sh install   apt-installs postgresql and redis-server when their binaries are missing
#   scripts/services.sh start     starts a shared PostgreSQL and Redis and prints the `export` lines
#   scripts/services.sh env       prints the `export` lines of the running shared instances
#   scripts/services.sh status    says what runs
#   scripts/services.sh stop      stops the shared instances and deletes their data
#
# `npm test` does not need `start`: its global setup starts its own instances (test/support/services).
# Start them here to share one pair across many runs: eval "$(npm run -s services start)".
# Ports: TEST_POSTGRES_PORT (default 54329) and TEST_REDIS_PORT (default 63799).
set -euo pipefail

state_dir="${APPRUNNER_KIT_SERVICES_DIR:-${TMPDIR:-/tmp}/apprunner-kit-services}/shared"
pg_port="${TEST_POSTGRES_PORT:-54329}"
redis_port="${TEST_REDIS_PORT:-63799}"

log() { printf '[services] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

postgres_bin_dir() {
  local dir
  dir="$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)"
  if [[ -n "$dir" && -x "$dir/postgres" && -x "$dir/initdb" ]]; then printf '%s\n' "$dir"; fi
}

redis_bin() {
  if [[ -x /usr/bin/redis-server ]]; then
    printf '/usr/bin/redis-server\n'
  else
    command -v redis-server || true
  fi
}

cmd_install() {
  local packages=()
  [[ -n "$(postgres_bin_dir)" ]] || packages+=(postgresql)
  [[ -n "$(redis_bin)" ]] || packages+=(redis-server)
  if [[ ${#packages[@]} -eq 0 ]]; then
    log "postgresql and redis-server are installed"
    return 0
  fi
  command -v apt-get >/dev/null || die "apt-get not found: install ${packages[*]} with your package manager"
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null || die "not root and no sudo: install ${packages[*]} as root"
    sudo=(sudo -n)
  fi
  # Keep the packages' own daemons (the default cluster on 5432, redis on 6379) from starting: the
  # tests start dedicated instances. The usual Docker policy-rc.d, removed again unless it was there.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [[ ! -e "$policy" ]]; then
    "${sudo[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' > $policy && chmod 755 $policy"
    added_policy=1
  fi
  local started=$SECONDS status=0
  log "installing ${packages[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  # Lock::Timeout: two test workers installing at once queue on the dpkg lock instead of failing.
  local apt=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get -q -y
    -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confold -o Dpkg::Use-Pty=0
    --no-install-recommends install "${packages[@]}")
  if ! "${apt[@]}" >&2; then
    log "install failed; running apt-get update and trying again"
    { "${sudo[@]}" timeout 300 apt-get -q -o DPkg::Lock::Timeout=300 update >&2 && "${apt[@]}" >&2; } || status=$?
  fi
  if [[ $added_policy == 1 ]]; then "${sudo[@]}" rm -f "$policy"; fi
  [[ $status == 0 ]] || die "apt-get install ${packages[*]} failed (exit $status)"
  log "installed ${packages[*]} in $((SECONDS - started)) s"
}

as_postgres() {
  if [[ "$(id -u)" == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

print_env() {
  printf 'export TEST_POSTGRES_URL=%q\n' "postgres://postgres@127.0.0.1:${pg_port}/postgres"
  printf 'export TEST_REDIS_URL=%q\n' "redis://127.0.0.1:${redis_port}"
}

cmd_start() {
  cmd_install
  local bin redis
  bin="$(postgres_bin_dir)"
  redis="$(redis_bin)"
  mkdir -p "$state_dir"
  if [[ "$(id -u)" == 0 ]]; then chown postgres "$state_dir"; fi
  if [[ ! -d "$state_dir/pg" ]]; then
    as_postgres "$bin/initdb" -D "$state_dir/pg" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      --no-sync >/dev/null
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$state_dir/pg" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$state_dir/pg" -l "$state_dir/pg.log" -w -t 30 -s \
      -o "-c listen_addresses=127.0.0.1 -c port=${pg_port} -c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start || die "postgres did not start; see $state_dir/pg.log"
  fi
  if [[ ! -f "$state_dir/redis.pid" ]] || ! kill -0 "$(cat "$state_dir/redis.pid")" 2>/dev/null; then
    "$redis" --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --protected-mode no \
      --daemonize yes --pidfile "$state_dir/redis.pid" --logfile "$state_dir/redis.log" --dir "$state_dir"
    local i
    for ((i = 0; i < 100; i++)); do
      grep -q 'Ready to accept connections' "$state_dir/redis.log" 2>/dev/null && break
      sleep 0.1
    done
    grep -q 'Ready to accept connections' "$state_dir/redis.log" || die "redis did not start; see $state_dir/redis.log"
  fi
  print_env
}

cmd_stop() {
  local bin
  bin="$(postgres_bin_dir)"
  if [[ -d "$state_dir/pg" && -n "$bin" ]]; then
    as_postgres "$bin/pg_ctl" -D "$state_dir/pg" -m fast -w -t 30 -s stop 2>/dev/null || true
  fi
  if [[ -f "$state_dir/redis.pid" ]]; then
    local pid i
    pid="$(cat "$state_dir/redis.pid")"
    kill "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf "$state_dir"
  log "stopped"
}

cmd_status() {
  local bin
  bin="$(postgres_bin_dir)"
  printf 'postgres binaries: %s\n' "${bin:-missing}"
  printf 'redis-server:      %s\n' "$(redis_bin || true)"
  if [[ -d "$state_dir/pg" ]] && as_postgres "$bin/pg_ctl" -D "$state_dir/pg" status >/dev/null 2>&1; then
    printf 'shared postgres:   running on 127.0.0.1:%s\n' "$pg_port"
  else
    printf 'shared postgres:   not running\n'
  fi
  if [[ -f "$state_dir/redis.pid" ]] && kill -0 "$(cat "$state_dir/redis.pid")" 2>/dev/null; then
    printf 'shared redis:      running on 127.0.0.1:%s\n' "$redis_port"
  else
    printf 'shared redis:      not running\n'
  fi
}

case "${1:-}" in
install) cmd_install ;;
start) cmd_start ;;
stop) cmd_stop ;;
status) cmd_status ;;
env) print_env ;;
*)
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
