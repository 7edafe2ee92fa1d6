#!/usr/bin/env bash
# deploy_compose: the images and the compose stack, run for real with podman.
#
# Builds kelola/<service>:dev from the binaries in $KELOLA_BUILD_DIR (the fast path of
# deploy/docker/build-images), starts deploy/compose/compose.yaml with podman-compose
# (PostgreSQL and Redis stand-ins built from Debian packages), waits for every container's
# health check, creates a customer and finds it by search through the gateway over TLS
# with the owner API key, and removes everything again, volumes included.
#
# Exit 77 (skipped) only when podman cannot run here; every other problem fails.
set -euo pipefail
# shellcheck source=tests/deploy/containers_lib.sh
source "$(dirname "$0")/containers_lib.sh"
PROJECT="kelola-compose-test-$$"

require_podman
command -v podman-compose >/dev/null || fail "podman-compose is missing after scripts/container-setup"

for service in customer-svc/customer-svc ledger-svc/ledger-svc report-svc/report-svc gateway/gateway; do
  flags="$("$BUILD/$service" --helpfull 2>&1 || true)"
  [[ "$flags" == *-tls_cert_file* ]] \
    || fail "$BUILD/$service has no --tls_cert_file: rebuild the tree (scripts/build)"
done
"$ROOT/deploy/docker/build-images" --from-build-dir "$BUILD" --tag dev

# A copy of deploy/compose with its own secrets, so a developer's stack and secrets stay.
WORK="$(mktemp -d)"
cp -r "$ROOT/deploy/compose/." "$WORK/"
rm -rf "$WORK/secrets"
compose() { (cd "$WORK" && podman-compose -p "$PROJECT" -f compose.yaml "$@"); }
cleanup() {
  set +e
  [ "${ok:-0}" = 1 ] || show_logs "label=io.podman.compose.project=$PROJECT"
  compose down -v -t 15 >/dev/null 2>&1
  for v in $(podman volume ls -q --filter "label=io.podman.compose.project=$PROJECT"); do
    podman volume rm -f "$v" >/dev/null
  done
  podman network rm -f "${PROJECT}_default" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT
"$WORK/make-secrets"

GATEWAY_PORT="$(free_port)"
export KELOLA_GATEWAY_PORT="$GATEWAY_PORT"
export BUILDAH_FORMAT=docker  # keep the stand-ins' HEALTHCHECK (OCI images have none)
locked podman-compose -p "$PROJECT" -f "$WORK/compose.yaml" build >/dev/null

# podman-compose 1.0.3 (Debian 12) ignores `condition: service_healthy` and podman runs
# no periodic health checks without systemd, so the test starts the stack in the order
# the conditions give and runs each container's own health check until it passes.
healthy() { wait_healthy "${@/#/${PROJECT}_}"; }
start() { compose up -d --no-build "$@" >/dev/null 2>&1 || fail "podman-compose up $* failed"; }
start postgres redis
healthy postgres_1 redis_1
start ledger-svc customer-svc
healthy ledger-svc_1 customer-svc_1
start report-svc
healthy report-svc_1
start gateway
healthy gateway_1

# Through the gateway: TLS checked against the stack's CA, the owner key of tenant "local".
create_and_search "Compose Santoso" "127.0.0.1:$GATEWAY_PORT" --ca-file "$WORK/secrets/client/ca.crt" \
  --server-name gateway --api-key "$(cat "$WORK/secrets/client/owner.api-key")"
# Plaintext to the TLS port must not work.
if "$ROOT/tools/kelola-call" "127.0.0.1:$GATEWAY_PORT" --timeout 3 health >/dev/null 2>&1; then
  fail "the gateway answered plaintext"
fi
ok=1
echo "deploy_compose: 1 passed, 0 failed"
