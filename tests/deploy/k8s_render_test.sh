#!/usr/bin/env bash
# CTest entry of deploy_k8s_render: installs the pinned npm packages of package-lock.json
# into tests/deploy/node_modules when they are missing or stale (kustomize, the Kubernetes
# schema models), then renders and checks every kustomization of deploy/k8s
# (k8s_render_test.js). Exits 77 (skipped) only when node or npm is not installed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "SKIPPED: $tool is not installed (scripts/bootstrap installs it: apt-get install nodejs npm)"
    exit 77
  fi
done

# npm writes node_modules/.package-lock.json on every install: the same content as the
# committed lock's packages means the installed tree is the pinned one.
installed_matches_lock() {
  [[ -f node_modules/.package-lock.json ]] && node -e '
    const pinned = (lock) => Object.entries(lock.packages).filter(([k]) => k)
      .map(([k, v]) => `${k}@${v.version}`).sort().join();
    const want = require("./package-lock.json"), have = require("./node_modules/.package-lock.json");
    process.exit(pinned(want) === pinned(have) ? 0 : 1);'
}

if ! installed_matches_lock; then
  echo "installing the pinned packages of tests/deploy/package-lock.json"
  log="$(mktemp)"
  trap 'rm -f "$log"' EXIT
  if ! npm ci --no-audit --no-fund --loglevel=error >"$log" 2>&1; then
    cat "$log" >&2
    echo "deploy_k8s_render: npm ci failed" >&2
    exit 1
  fi
fi

exec node k8s_render_test.js
