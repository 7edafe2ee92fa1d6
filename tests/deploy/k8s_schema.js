// Validates one Kubernetes object against its OpenAPI schema (kubernetes-models, offline)
// and reports fields the schema does not know, which the schema validators alone accept
// silently (a misspelt `readOnlyRootFileSystem` would otherwise pass).
"use strict";

// apiVersion group → the package whose models cover it.
const kPackages = {
  "": "kubernetes-models",
  apps: "kubernetes-models",
  policy: "kubernetes-models",
  autoscaling: "kubernetes-models",
  "networking.k8s.io": "kubernetes-models",
  "cert-manager.io": "@kubernetes-models/cert-manager",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

function modelOf(object) {
  const apiVersion = String(object.apiVersion || "");
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const pkg = kPackages[group];
  if (pkg === undefined) throw new Error(`no schema package for apiVersion ${apiVersion}`);
  const modulePath = `${pkg}/${apiVersion}/${object.kind}`;
  let loaded;
  try {
    loaded = require(modulePath);
  } catch (error) {
    throw new Error(`no schema for ${apiVersion} ${object.kind} (${modulePath})`);
  }
  return loaded[object.kind];
}

// A view of `value` that records the path of every field the validator reads or lists.
function tracked(value, seen, path) {
  if (value === null || typeof value !== "object") return value;
  return new Proxy(value, {
    get(target, key) {
      if (typeof key === "string" && Object.prototype.hasOwnProperty.call(target, key)) {
        seen.add(`${path}/${key}`);
        return tracked(target[key], seen, `${path}/${key}`);
      }
      return target[key];
    },
    ownKeys(target) {
      // A map (labels, resource quantities) is listed as a whole: every key is known.
      for (const key of Object.keys(target)) seen.add(`${path}/${key}`);
      return Reflect.ownKeys(target);
    },
  });
}

function unknownFields(value, seen, path, out) {
  if (value === null || typeof value !== "object") return;
  for (const key of Object.keys(value)) {
    const child = `${path}/${key}`;
    if (!seen.has(child)) {
      out.push(child);
    } else {
      unknownFields(value[key], seen, child, out);
    }
  }
}

// Problems of `object` as strings naming the field; empty when it is valid.
function schemaProblems(object) {
  let Model;
  try {
    Model = modelOf(object);
  } catch (error) {
    return [error.message];
  }
  const seen = new Set();
  try {
    Model.prototype.validate.call(tracked(object, seen, ""));
  } catch (error) {
    return [String(error.message)];
  }
  const unknown = [];
  unknownFields(object, seen, "", unknown);
  return unknown.map((path) => `${path}: field not in the ${object.kind} schema`);
}

module.exports = { schemaProblems };
