#!/usr/bin/env bash
# Official Node.js builds for the lines the kit supports, without a download step of our own: the npm
# registry's `node-linux-<arch>` package carries them. A line is installed once, into a cache outside
# the repository, on first use.
#
#   scripts/node.sh 24                 prints the bin directory of the newest Node 24 (installs it first)
#   scripts/node.sh exec 24 -- CMD…    runs CMD with that Node first on PATH and EXPECT_NODE_MAJOR=24
#   scripts/node.sh ensure -- CMD…     runs CMD as it is when `node` is >= 22.12 (engines.node);
#                                      else as `exec 24` (a machine whose own node is older)
#
# Cache: APPRUNNER_KIT_NODE_CACHE; else, as root, /var/cache/apprunner-kit/node (readable by the
# unprivileged users the tests run apps as); else $XDG_CACHE_HOME/apprunner-kit/node or
# ~/.cache/apprunner-kit/node. A line is refreshed when it was installed more than a week ago (so
# security releases arrive), and the cached build is kept when the registry cannot be reached.
set -euo pipefail

supported_floor=22
# The oldest release of the floor line the kit supports (engines.node): the lines installed here are
# each line's newest, but a machine's own node may be an older 22.
supported_minor=12
default_line=24
if [[ -n "${APPRUNNER_KIT_NODE_CACHE:-}" ]]; then
  cache=$APPRUNNER_KIT_NODE_CACHE
elif [[ "$(id -u)" == 0 ]]; then
  cache=/var/cache/apprunner-kit/node
else
  cache="${XDG_CACHE_HOME:-$HOME/.cache}/apprunner-kit/node"
fi

log() { printf '[node.sh] %s\n' "$*" >&2; }
die() {
  log "error: $*"
  exit 1
}

package_name() {
  local os arch
  case "$(uname -s)" in
  Linux) os=linux ;;
  Darwin) os=darwin ;;
  *) die "no official Node.js build package for $(uname -s)" ;;
  esac
  case "$(uname -m)" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) die "no official Node.js build package for $(uname -m)" ;;
  esac
  printf 'node-%s-%s\n' "$os" "$arch"
}

# The bin directory of `line` (a major, 22…), installing or refreshing it when needed.
bin_dir() {
  local line=$1 package dir bin
  [[ "$line" =~ ^[0-9]+$ ]] || die "'$line' is not a Node.js major line: give a number such as 24"
  ((line >= supported_floor)) || die "Node $line is below the supported floor ($supported_floor)"
  package="$(package_name)"
  dir="$cache/$line"
  bin="$dir/node_modules/$package/bin"
  if ! fresh "$dir" "$bin"; then
    install_line "$line" "$package" "$dir" || [[ -x "$bin/node" ]] || die "could not install Node $line"
  fi
  printf '%s\n' "$bin"
}

# Whether the line in `dir` is installed and was installed (or refreshed) within the last week.
fresh() {
  [[ -x "$2/node" && -e "$1/.installed" && -z "$(find "$1/.installed" -mtime +7 2>/dev/null)" ]]
}

install_line() {
  local line=$1 package=$2 dir=$3 lock
  mkdir -p "$dir"
  lock="$dir/.lock"
  # Two runs installing the same line at once wait for each other instead of racing in one folder.
  exec {fd}>"$lock"
  flock -w 600 "$fd" || die "timed out waiting for $lock"
  if fresh "$dir" "$dir/node_modules/$package/bin"; then
    exec {fd}>&-
    return 0
  fi
  log "installing $package@$line into $dir (npm registry)"
  [[ -f "$dir/package.json" ]] || printf '{"private":true}\n' >"$dir/package.json"
  if npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error "$package@$line" >&2; then
    touch "$dir/.installed"
    log "Node $("$dir/node_modules/$package/bin/node" --version) ready"
  else
    log "npm install $package@$line failed"
    exec {fd}>&-
    return 1
  fi
  exec {fd}>&-
}

run_on() {
  local line=$1 bin
  shift
  bin="$(bin_dir "$line")"
  PATH="$bin:$PATH" EXPECT_NODE_MAJOR="$line" exec "$@"
}

# The machine's node version without its `v` (22.11.0), or nothing when there is none.
current_version() {
  local version
  version="$(node --version 2>/dev/null || true)"
  printf '%s\n' "${version#v}"
}

# Whether a version (22.11.0) is at least supported_floor.supported_minor.
supported_version() {
  local major minor
  IFS=. read -r major minor _ <<<"$1"
  [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || return 1
  ((major > supported_floor || (major == supported_floor && minor >= supported_minor)))
}

case "${1:-}" in
exec)
  [[ $# -ge 4 && "$3" == -- ]] || die "usage: scripts/node.sh exec LINE -- CMD…"
  line=$2
  shift 3
  run_on "$line" "$@"
  ;;
ensure)
  [[ $# -ge 3 && "$2" == -- ]] || die "usage: scripts/node.sh ensure -- CMD…"
  shift 2
  version="$(current_version)"
  if supported_version "$version"; then exec "$@"; fi
  log "this machine's node is $([[ -n "$version" ]] && printf 'v%s' "$version" || printf 'missing'); the kit needs $supported_floor.$supported_minor or newer: running on Node $default_line"
  run_on "$default_line" "$@"
  ;;
[0-9]*)
  bin_dir "$1"
  ;;
*)
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
  ;;
esac
