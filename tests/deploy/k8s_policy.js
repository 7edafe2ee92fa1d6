// What every rendering of deploy/k8s must hold beyond the schemas: probes, resources and
// a hardened securityContext on every Deployment, no secret value inlined where it must
// be referenced, and NetworkPolicies that open exactly the calls the services make.
"use strict";

const kServices = ["customer-svc", "ledger-svc", "report-svc", "gateway"];

// Who may open a connection to whom, read from each service's main.cc (its --customer,
// --ledger, --report and --redis flags); "*" = any client.
const kCallers = {
  gateway: ["*"],
  "customer-svc": ["gateway", "ledger-svc", "report-svc"],
  "ledger-svc": ["customer-svc", "gateway", "report-svc"],
  "report-svc": ["gateway"],
  redis: ["gateway"],
};

// Flag environment variables that hold a peer address, and the peer they name.
const kPeerFlags = { KELOLA_CUSTOMER: "", KELOLA_LEDGER: "", KELOLA_REPORT: "", KELOLA_REDIS: "" };

function nameOf(object) {
  return `${object.kind}/${object.metadata && object.metadata.name}`;
}

function durationSeconds(text) {
  const match = /^(\d+)(ms|s|m)$/.exec(text || "");
  if (!match) return NaN;
  const scale = { ms: 0.001, s: 1, m: 60 }[match[2]];
  return Number(match[1]) * scale;
}

function containerProblems(pod, container, expectGrpcProbes) {
  const problems = [];
  const at = `container ${container.name}`;
  for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
    const handler = container[probe];
    if (!handler) {
      problems.push(`${at}: no ${probe}`);
    } else if (expectGrpcProbes && !handler.grpc) {
      problems.push(`${at}: ${probe} is not a native gRPC probe`);
    }
  }
  const resources = container.resources || {};
  for (const kind of ["requests", "limits"]) {
    for (const resource of ["cpu", "memory"]) {
      if (!(resources[kind] || {})[resource]) problems.push(`${at}: no resources.${kind}.${resource}`);
    }
  }
  const context = container.securityContext || {};
  const podContext = pod.securityContext || {};
  if (context.runAsNonRoot !== true && podContext.runAsNonRoot !== true) {
    problems.push(`${at}: runAsNonRoot is not true`);
  }
  if (context.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem is not true`);
  if (context.allowPrivilegeEscalation !== false) {
    problems.push(`${at}: allowPrivilegeEscalation is not false`);
  }
  const dropped = ((context.capabilities || {}).drop || []).map((c) => String(c).toUpperCase());
  if (!dropped.includes("ALL")) problems.push(`${at}: capabilities.drop does not hold ALL`);
  const seccomp = (context.seccompProfile || podContext.seccompProfile || {}).type;
  if (seccomp !== "RuntimeDefault") problems.push(`${at}: seccompProfile is not RuntimeDefault`);
  return problems;
}

function deploymentProblems(deployment, configMaps, expectGrpcProbes) {
  const pod = deployment.spec.template.spec;
  const problems = [];
  for (const container of pod.containers) {
    problems.push(...containerProblems(pod, container, expectGrpcProbes));
  }
  const name = deployment.metadata.name;
  if (kServices.includes(name)) {
    const flags = configMaps.get(`${name}-flags`);
    const grace = durationSeconds(flags && flags.data && flags.data.KELOLA_SHUTDOWN_GRACE);
    if (!(pod.terminationGracePeriodSeconds > grace)) {
      problems.push(
        `terminationGracePeriodSeconds ${pod.terminationGracePeriodSeconds} is not longer than ` +
          `--shutdown_grace (${grace} s)`);
    }
    if (!pod.topologySpreadConstraints || pod.topologySpreadConstraints.length === 0) {
      problems.push("no topologySpreadConstraints");
    }
  }
  return problems.map((p) => `${nameOf(deployment)}: ${p}`);
}

// No Secret object and no secret-looking literal in a rendering that must only reference
// secrets (base, production).
function inlinedSecretProblems(objects) {
  const problems = [];
  const secretName = /(KEY|SECRET|PASSWORD|TOKEN|DSN|CREDENTIAL)/i;
  for (const object of objects) {
    if (object.kind === "Secret") problems.push(`${nameOf(object)}: a Secret inlined`);
    if (object.kind === "ConfigMap") {
      for (const [key, value] of Object.entries(object.data || {})) {
        if (/:\/\/[^/\s:@]+:[^/\s@]+@/.test(value)) {
          problems.push(`${nameOf(object)}: ${key} holds a URL with a password`);
        }
        if (secretName.test(key) && !key.endsWith("_FILE")) {
          problems.push(`${nameOf(object)}: ${key} looks like a secret value`);
        }
      }
    }
    const pod = object.kind === "Deployment" ? object.spec.template.spec : null;
    for (const container of pod ? pod.containers : []) {
      for (const variable of container.env || []) {
        if (variable.value !== undefined && secretName.test(variable.name) &&
            !variable.name.endsWith("_FILE")) {
          problems.push(`${nameOf(object)}: env ${variable.name} holds a literal`);
        }
      }
    }
  }
  return problems;
}

function selectedName(selector) {
  return ((selector || {}).matchLabels || {})["app.kubernetes.io/name"];
}

// Ingress sources of `target` by every policy selecting it by name; "*" for a rule
// without `from`.
function callersAllowed(policies, target) {
  const callers = new Set();
  for (const policy of policies) {
    if (selectedName(policy.spec.podSelector) !== target) continue;
    for (const rule of policy.spec.ingress || []) {
      if (!rule.from) callers.add("*");
      for (const peer of rule.from || []) {
        if (peer.podSelector) callers.add(selectedName(peer.podSelector) || "?");
        if (peer.namespaceSelector || peer.ipBlock) callers.add("*");
      }
    }
  }
  return [...callers].sort();
}

function egressAllows(policies, source, target, port) {
  return policies.some((policy) =>
    selectedName(policy.spec.podSelector) === source &&
    (policy.spec.egress || []).some((rule) =>
      (rule.to || []).some((peer) => selectedName(peer.podSelector) === target) &&
      (rule.ports || []).some((p) => p.port === port)));
}

function networkProblems(objects, configMaps) {
  const policies = objects.filter((o) => o.kind === "NetworkPolicy");
  const problems = [];
  const present = new Set(objects.filter((o) => o.kind === "Deployment").map((o) => o.metadata.name));
  for (const [target, expected] of Object.entries(kCallers)) {
    if (!present.has(target)) continue;
    const actual = callersAllowed(policies, target);
    if (actual.join(",") !== [...expected].sort().join(",")) {
      problems.push(`NetworkPolicy: ${target} accepts [${actual}], expected [${expected}]`);
    }
  }
  // Every peer a service is configured to call is reachable through its egress policy.
  for (const service of kServices) {
    const flags = (configMaps.get(`${service}-flags`) || {}).data || {};
    for (const variable of Object.keys(kPeerFlags)) {
      if (!flags[variable]) continue;
      const match = /^(?:dns:\/\/\/|redis:\/\/)([a-z0-9-]+):(\d+)/.exec(flags[variable]);
      if (!match) {
        problems.push(`ConfigMap/${service}-flags: ${variable}=${flags[variable]} not understood`);
      } else if (!egressAllows(policies, service, match[1], Number(match[2]))) {
        problems.push(`NetworkPolicy: ${service} may not reach ${match[1]}:${match[2]} (${variable})`);
      }
    }
  }
  return problems;
}

module.exports = { deploymentProblems, inlinedSecretProblems, networkProblems, nameOf, kServices };
