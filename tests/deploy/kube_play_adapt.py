#!/usr/bin/python3
"""Turns the rendered local overlay into what `podman kube play` (podman 4.3) runs.

  kube_play_adapt.py RENDERED.yaml SECRETS_DIR GATEWAY_PORT REDIS_IMAGE > play.yaml

podman 4.3 plays Pods, Deployments, ConfigMaps and PersistentVolumeClaims only, so:
- each Deployment becomes a Pod of the same name: a pod's name is its DNS name on a podman
  network, and the callers dial the Services' names (dns:///ledger-svc:50053), which are
  the Deployments' names here (one replica each);
- Secret volumes become hostPath directories under SECRETS_DIR holding the same files
  (owned by the pod's user, mode defaultMode), since podman 4.3 has no Secret objects;
- gRPC probes become an exec liveness probe running the image's kelola-health (podman
  runs exec, HTTP and TCP probes only); readiness and startup probes are dropped;
- the gateway's port is published on 127.0.0.1:GATEWAY_PORT (a Service's job), and no other
  port is declared: podman 4.3 publishes every containerPort on the host's 0.0.0.0, with or
  without a hostPort, so a port another process on the host held (50052 once, while the
  suite ran) failed the play; the pods reach each other over their network without them;
- the Redis image is REDIS_IMAGE, a stand-in built from Debian's redis-server
  (deploy/compose/images/redis), as the official image cannot be pulled here;
- Services, NetworkPolicies, PodDisruptionBudgets, ServiceAccounts and HPAs are dropped:
  podman has nothing to apply them to.
Everything else (images, commands, ConfigMap environment, claims, securityContext) is
played as rendered.
"""
import base64
import os
import sys

import yaml

KEPT = {"ConfigMap", "PersistentVolumeClaim"}


def write_secret(secret, directory, uid, gid, mode):
    os.makedirs(directory, exist_ok=True)
    for key, value in (secret.get("data") or {}).items():
        path = os.path.join(directory, key)
        with open(path, "wb") as f:
            f.write(base64.b64decode(value))
        os.chown(path, uid, gid)
        os.chmod(path, mode)
    os.chown(directory, uid, gid)
    os.chmod(directory, 0o550)


def adapt_pod_spec(spec, secrets, secrets_dir, gateway_port, redis_image):
    uid = spec.get("securityContext", {}).get("runAsUser", 0)
    gid = spec.get("securityContext", {}).get("runAsGroup", uid)
    for volume in spec.get("volumes", []):
        if "secret" in volume:
            name = volume["secret"]["secretName"]
            directory = os.path.join(secrets_dir, name)
            write_secret(secrets[name], directory, uid, gid, volume["secret"].get("defaultMode", 0o440))
            volume.pop("secret")
            volume["hostPath"] = {"path": directory, "type": "Directory"}
    for container in spec["containers"]:
        if container["image"].startswith("docker.io/library/redis"):
            container["image"] = redis_image
        grpc_probe = any("grpc" in container.get(p, {})
                         for p in ("livenessProbe", "readinessProbe", "startupProbe"))
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            container.pop(probe, None)
        if grpc_probe:
            container["livenessProbe"] = {
                "exec": {"command": ["/usr/local/bin/kelola-health"]},
                "periodSeconds": 10, "timeoutSeconds": 5, "failureThreshold": 18}
        ports = [p for p in container.get("ports", []) if p.get("containerPort") == 50051]
        for port in ports:
            port["hostPort"] = int(gateway_port)
            port["hostIP"] = "127.0.0.1"
        if ports:
            container["ports"] = ports
        else:
            container.pop("ports", None)
    for field in ("topologySpreadConstraints", "serviceAccountName", "automountServiceAccountToken"):
        spec.pop(field, None)


def main():
    rendered, secrets_dir, gateway_port, redis_image = sys.argv[1:5]
    with open(rendered) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}
    out = []
    for doc in docs:
        doc["metadata"].pop("namespace", None)
        if doc["kind"] in KEPT:
            out.append(doc)
        elif doc["kind"] == "Deployment":
            template = doc["spec"]["template"]
            adapt_pod_spec(template["spec"], secrets, secrets_dir, gateway_port, redis_image)
            out.append({"apiVersion": "v1", "kind": "Pod",
                        "metadata": {"name": doc["metadata"]["name"],
                                     "labels": template["metadata"].get("labels", {})},
                        "spec": template["spec"]})
    yaml.safe_dump_all(out, sys.stdout, sort_keys=False)


if __name__ == "__main__":
    main()
