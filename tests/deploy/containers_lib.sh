# shellcheck shell=bash
# Shared by the container tests (compose_test.sh, kube_play_test.sh): sourced, not run.
ROOT="${KELOLA_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
BUILD="${KELOLA_BUILD_DIR:-$ROOT/build}"
# Heavy steps take the shared build lock; KELOLA_BUILD_LOCK names another file, or empty
# for none (when the caller holds the lock already, e.g. flock ... ctest).
LOCK="${KELOLA_BUILD_LOCK-/tmp/kelola-build.lock}"
locked() { if [ -n "$LOCK" ]; then flock "$LOCK" "$@"; else "$@"; fi; }

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }

# podman, runc, the local base image: scripts/container-setup says 3 when podman cannot
# run a container on this machine (not installed and not installable, or the kernel); the
# test is skipped then and only then.
require_podman() {
  local rc=0
  "$ROOT/scripts/container-setup" || rc=$?
  [ "$rc" -eq 3 ] && skip "podman cannot run containers here (scripts/container-setup said why above)"
  [ "$rc" -eq 0 ] || fail "scripts/container-setup exited $rc"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Runs `podman healthcheck run` on each container until it passes (podman runs health
# checks on a timer only under systemd), for up to 180 s each.
wait_healthy() {  # container...
  local container
  for container in "$@"; do
    for _ in $(seq 1 90); do
      podman healthcheck run "$container" >/dev/null 2>&1 && continue 2
      [ "$(podman inspect -f '{{.State.Status}}' "$container" 2>/dev/null)" = running ] \
        || [ "$(podman inspect -f '{{.State.Restarting}}' "$container" 2>/dev/null)" = true ] \
        || fail "$container is not running"
      sleep 2
    done
    fail "$container did not become healthy in 180 s"
  done
  echo "healthy: $*"
}

# Prints the last lines of every container's log whose name matches a podman ps filter.
show_logs() {  # filter
  local container
  for container in $(podman ps -a --filter "$1" --format '{{.Names}}'); do
    echo "---- logs of $container"
    podman logs --tail 30 "$container" 2>&1
  done
}

# Creates a customer through the gateway with the kelola-call command line given, then
# searches until the search finds it (the index may trail the write briefly).
create_and_search() {  # name kelola-call-args...
  local name="$1" created id found
  shift
  created="$("$ROOT/tools/kelola-call" "$@" call kelola.customer.v1.CustomerService/CreateCustomer \
    "{\"customer\": {\"displayName\": \"$name $$\", \"phone\": {\"raw\": \"0812-3456-789\"}},
      \"requestId\": \"deploy-test-$$\"}")" || fail "CreateCustomer through the gateway failed"
  id="$(printf '%s' "$created" | python3 -c 'import json,sys; print(json.load(sys.stdin)["customer"]["customerId"])')"
  echo "created $id"
  for _ in $(seq 1 20); do
    found="$("$ROOT/tools/kelola-call" "$@" call kelola.customer.v1.CustomerService/SearchCustomers \
      "{\"query\": \"$name\"}")" || fail "SearchCustomers through the gateway failed"
    if [[ "$found" == *"$id"* ]]; then
      echo "search found $id"
      return 0
    fi
    sleep 1
  done
  fail "SearchCustomers did not find $id: $found"
}
