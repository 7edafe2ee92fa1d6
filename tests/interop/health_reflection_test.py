#!/usr/bin/python3
"""Interop smoke test with a client we did not write: Debian's python3-grpcio.

Starts the four service binaries (SQLite in a temp dir, a real redis-server) on free
loopback ports, then checks through the standard protocols only:
  * grpc.health.v1.Health/Check answers SERVING on every service;
  * grpc.reflection.v1alpha lists each service's public services and returns the
    descriptor of one of them (what grpcurl and other generic clients rely on);
  * SIGTERM stops every process cleanly with exit status 0.
The protocol messages are built from their descriptors at run time, so the test carries no
generated code of ours.
"""
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

BUILD_DIR = os.environ.get("KELOLA_BUILD_DIR") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build")

F = descriptor_pb2.FieldDescriptorProto


def _build_messages():
    pool = descriptor_pool.DescriptorPool()
    health = descriptor_pb2.FileDescriptorProto(
        name="interop/health.proto", package="grpc.health.v1", syntax="proto3")
    req = health.message_type.add(name="HealthCheckRequest")
    req.field.add(name="service", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    resp = health.message_type.add(name="HealthCheckResponse")
    resp.field.add(name="status", number=1, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    pool.Add(health)

    refl = descriptor_pb2.FileDescriptorProto(
        name="interop/reflection.proto", package="grpc.reflection.v1alpha", syntax="proto3")
    r = refl.message_type.add(name="ServerReflectionRequest")
    r.field.add(name="host", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    r.field.add(name="file_containing_symbol", number=4, type=F.TYPE_STRING,
                label=F.LABEL_OPTIONAL)
    r.field.add(name="list_services", number=7, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    s = refl.message_type.add(name="ServiceResponse")
    s.field.add(name="name", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    ls = refl.message_type.add(name="ListServiceResponse")
    ls.field.add(name="service", number=1, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                 type_name=".grpc.reflection.v1alpha.ServiceResponse")
    fd = refl.message_type.add(name="FileDescriptorResponse")
    fd.field.add(name="file_descriptor_proto", number=1, type=F.TYPE_BYTES,
                 label=F.LABEL_REPEATED)
    resp = refl.message_type.add(name="ServerReflectionResponse")
    resp.field.add(name="file_descriptor_response", number=4, type=F.TYPE_MESSAGE,
                   label=F.LABEL_OPTIONAL,
                   type_name=".grpc.reflection.v1alpha.FileDescriptorResponse")
    resp.field.add(name="list_services_response", number=6, type=F.TYPE_MESSAGE,
                   label=F.LABEL_OPTIONAL,
                   type_name=".grpc.reflection.v1alpha.ListServiceResponse")
    pool.Add(refl)

    def cls(name):
        desc = pool.FindMessageTypeByName(name)
        if hasattr(message_factory, "GetMessageClass"):
            return message_factory.GetMessageClass(desc)
        return message_factory.MessageFactory(pool).GetPrototype(desc)

    return {n.split(".")[-1]: cls(n) for n in [
        "grpc.health.v1.HealthCheckRequest", "grpc.health.v1.HealthCheckResponse",
        "grpc.reflection.v1alpha.ServerReflectionRequest",
        "grpc.reflection.v1alpha.ServerReflectionResponse"]}


M = _build_messages()
SERVING = 1


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SuiteTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory(prefix="kelola-interop-")
        d = cls.tmp.name
        cls.ports = {n: free_port() for n in
                     ["customer-svc", "ledger-svc", "report-svc", "gateway", "redis"]}
        p = cls.ports
        cls.procs = {}
        cls.procs["redis"] = subprocess.Popen(
            ["redis-server", "--port", str(p["redis"]), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", d],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        addr = {n: f"127.0.0.1:{port}" for n, port in p.items()}
        args = {
            "ledger-svc": [f"--db=sqlite:{d}/ledger.db", f"--customer={addr['customer-svc']}"],
            "customer-svc": [f"--db=sqlite:{d}/customer.db", f"--ledger={addr['ledger-svc']}"],
            "report-svc": [f"--db=sqlite:{d}/report.db", f"--ledger={addr['ledger-svc']}",
                           f"--customer={addr['customer-svc']}"],
            "gateway": [f"--redis=redis://{addr['redis']}", f"--customer={addr['customer-svc']}",
                        f"--ledger={addr['ledger-svc']}", f"--report={addr['report-svc']}",
                        f"--internal_key_file={d}/internal.key",
                        f"--api_keys_file={d}/api-keys.jsonl"],
        }
        # The gateway signs its backend calls (the backends here trust headers) and knows
        # one owner key of tenant toko-ani.
        with open(os.path.join(d, "internal.key"), "w") as f:
            f.write("0123456789abcdef0123456789abcdef0123456789abcdef\n")
        cls.api_key = "interop-owner-key"
        with open(os.path.join(d, "api-keys.jsonl"), "w") as f:
            sha = hashlib.sha256(cls.api_key.encode()).hexdigest()
            f.write(json.dumps({"key_sha256": sha, "name": "interop", "tenant": "toko-ani",
                                "roles": ["owner"]}) + "\n")
        for name, extra in args.items():
            binary = os.path.join(BUILD_DIR, name, name)
            with open(os.path.join(d, f"{name}.log"), "wb") as log:
                cls.procs[name] = subprocess.Popen(
                    [binary, f"--listen={addr[name]}"] +
                    ([] if name == "gateway" else ["--trust_tenant_header"]) + extra, stdout=log, stderr=log)
        cls.channels = {n: grpc.insecure_channel(addr[n]) for n in args}

    @classmethod
    def tearDownClass(cls):
        for ch in cls.channels.values():
            ch.close()
        for proc in cls.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        cls.tmp.cleanup()

    def health(self, name):
        check = self.channels[name].unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=M["HealthCheckRequest"].SerializeToString,
            response_deserializer=M["HealthCheckResponse"].FromString)
        return check(M["HealthCheckRequest"](service=""), timeout=2).status

    def reflect(self, name, **request):
        call = self.channels[name].stream_stream(
            "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
            request_serializer=M["ServerReflectionRequest"].SerializeToString,
            response_deserializer=M["ServerReflectionResponse"].FromString)
        responses = call(iter([M["ServerReflectionRequest"](**request)]), timeout=5)
        reply = next(responses)
        responses.cancel()  # leave no call open on the server
        return reply

    def wait_serving(self, name):
        deadline = time.time() + 20
        last = None
        while time.time() < deadline:
            self.assertIsNone(self.procs[name].poll(), f"{name} exited")
            try:
                status = self.health(name)
                if status == SERVING:
                    return
                last = status
            except grpc.RpcError as e:  # not listening yet
                last = e.code()
            time.sleep(0.1)
        self.fail(f"{name} never became SERVING (last: {last})")

    def test_1_every_service_serves_health_and_reflection(self):
        expected = {
            "customer-svc": {"kelola.customer.v1.CustomerService", "kelola.events.v1.EventService"},
            "ledger-svc": {"kelola.ledger.v1.LedgerService", "kelola.events.v1.EventService"},
            "report-svc": {"kelola.report.v1.ReportService"},
            "gateway": {"kelola.gateway.v1.GatewayService", "kelola.customer.v1.CustomerService",
                        "kelola.customer.v1.CategoryService", "kelola.customer.v1.TenantService",
                        "kelola.ledger.v1.LedgerService", "kelola.report.v1.ReportService"},
        }
        for name, services in expected.items():
            with self.subTest(service=name):
                self.wait_serving(name)
                listed = {s.name for s in
                          self.reflect(name, list_services="*").list_services_response.service}
                self.assertTrue(services <= listed, f"{name} lists {sorted(listed)}")
                self.assertIn("grpc.reflection.v1alpha.ServerReflection", listed)
                # The descriptor of a service comes back, so generic clients can call it.
                symbol = sorted(services)[0]
                files = self.reflect(name, file_containing_symbol=symbol)
                protos = [descriptor_pb2.FileDescriptorProto.FromString(b) for b in
                          files.file_descriptor_response.file_descriptor_proto]
                defined = {f"{fp.package}.{svc.name}" for fp in protos for svc in fp.service}
                self.assertIn(symbol, defined)

    def test_2_command_line_client_calls_and_decodes_errors(self):
        tool = os.path.join(os.path.dirname(__file__), "..", "..", "tools", "kelola-call")
        addr = f"127.0.0.1:{self.ports['customer-svc']}"
        self.wait_serving("customer-svc")

        def run(*args):
            return subprocess.run(["/usr/bin/python3", tool, addr, *args],
                                  capture_output=True, text=True, timeout=30)

        listed = run("list")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("kelola.customer.v1.CustomerService", listed.stdout.split())
        described = run("describe", "kelola.events.v1.EventService")
        self.assertIn("rpc WatchEvents(kelola.events.v1.WatchEventsRequest) returns (stream "
                      "kelola.events.v1.WatchEventsResponse)", described.stdout)
        # An idle stream: heartbeats until the client's deadline, then a clean end.
        watched = run("call", "kelola.events.v1.EventService/WatchEvents", "{}", "--timeout", "6",
                      "-H", "x-kelola-tenant: toko-ani")
        self.assertEqual(watched.returncode, 0, watched.stderr)
        self.assertIn('"heartbeat"', watched.stdout)
        # A refused request: the standard error details name the field and the reason.
        bad = run("call", "kelola.events.v1.EventService/WatchEvents", '{"afterSequence": "-1"}',
                  "-H", "x-kelola-tenant: toko-ani")
        self.assertEqual(bad.returncode, 1)
        error = json.loads(bad.stderr)
        self.assertEqual(error["code"], "INVALID_ARGUMENT")
        kinds = {d["@type"]: d for d in error["details"]}
        self.assertEqual(kinds["google.rpc.ErrorInfo"]["reason"], "INVALID_ARGUMENT")
        self.assertEqual(kinds["google.rpc.ErrorInfo"]["domain"], "events.kelola.id")
        self.assertEqual(kinds["google.rpc.BadRequest"]["fieldViolations"][0]["field"],
                         "after_sequence")

        # Through the gateway with an API key: who am I, and a forwarded call.
        self.wait_serving("gateway")
        gateway = f"127.0.0.1:{self.ports['gateway']}"

        def via_gateway(*args):
            return subprocess.run(["/usr/bin/python3", tool, gateway, "--api-key", self.api_key,
                                   *args], capture_output=True, text=True, timeout=30)

        me = via_gateway("call", "kelola.gateway.v1.GatewayService/WhoAmI", "{}")
        self.assertEqual(me.returncode, 0, me.stderr)
        self.assertEqual(json.loads(me.stdout)["principal"]["tenantId"], "toko-ani")
        created = via_gateway("call", "kelola.customer.v1.CustomerService/CreateCustomer",
                              '{"customer": {"displayName": "Ani"}}')
        self.assertEqual(created.returncode, 0, created.stderr)
        self.assertEqual(json.loads(created.stdout)["customer"]["displayName"], "Ani")
        internal = via_gateway("call", "kelola.events.v1.EventService/WatchEvents", "{}")
        self.assertEqual(internal.returncode, 1)
        self.assertIn("UNIMPLEMENTED", internal.stderr)

    def test_3_sigterm_stops_every_service_cleanly(self):
        for name in ["gateway", "report-svc", "customer-svc", "ledger-svc"]:
            with self.subTest(service=name):
                proc = self.procs[name]
                self.wait_serving(name)
                # An idle client connection would hold the drain until it goes away (at
                # most --shutdown_grace); close ours as a well-behaved client would.
                self.channels[name].close()
                proc.send_signal(signal.SIGTERM)
                self.assertEqual(proc.wait(timeout=15), 0)


class BadStartTest(unittest.TestCase):
    """Bad configuration ends the process quickly with one line naming the problem."""

    def run_bad(self, name, args, expect, trust=True):
        binary = os.path.join(BUILD_DIR, name, name)
        start = time.time()
        extra = ["--trust_tenant_header"] if trust else []
        proc = subprocess.run([binary] + extra + args, capture_output=True, text=True,
                              timeout=20)
        self.assertNotEqual(proc.returncode, 0, proc.stderr)
        self.assertLess(proc.returncode, 128, "ended by a signal")
        self.assertLess(time.time() - start, 10)
        last = proc.stderr.strip().splitlines()[-1]
        self.assertIn(expect, last)

    def test_bad_configuration(self):
        with tempfile.TemporaryDirectory() as d, socket.socket() as held:
            held.bind(("127.0.0.1", 0))
            held.listen()
            busy = held.getsockname()[1]
            nobody = free_port()
            ok_db = f"--db=sqlite:{d}/x.db"
            cases = [
                ("customer-svc", ["--no_such_flag", ok_db, "--ledger=127.0.0.1:1"], "no_such_flag"),
                ("customer-svc", ["--db=mysql://x", "--ledger=127.0.0.1:1"], "--db"),
                ("customer-svc", ["--ledger=127.0.0.1:1"], "--db"),
                ("ledger-svc", [f"--db=postgres://kelola@127.0.0.1:{nobody}/x",
                                "--customer=127.0.0.1:1"], "--db"),
                ("ledger-svc", [f"--listen=127.0.0.1:{busy}", ok_db, "--customer=127.0.0.1:1"],
                 "--listen"),
                ("report-svc", ["--listen=nowhere", ok_db, "--ledger=a:1", "--customer=b:1"],
                 "--listen"),
                ("report-svc", ["--log_level=loud", ok_db, "--ledger=a:1", "--customer=b:1"],
                 "--log_level"),
                ("gateway", ["--redis=localhost:6379", "--customer=a:1", "--ledger=b:1",
                             "--report=c:1"], "--redis"),
                ("gateway", ["--customer=a:1", "--ledger=b:1", "--report=c:1",
                             "--redis=redis://127.0.0.1:1", "--max_threads=zero"], "max_threads"),
            ]
            for name, args, expect in cases:
                with self.subTest(service=name, args=args):
                    self.run_bad(name, args, expect)
            # Neither an internal key nor the explicit local-test trust: refused.
            for name, args in [("customer-svc", [ok_db, "--ledger=127.0.0.1:1"]),
                               ("ledger-svc", [ok_db, "--customer=127.0.0.1:1"]),
                               ("report-svc", [ok_db, "--ledger=a:1", "--customer=b:1"]),
                               ("gateway", ["--customer=a:1", "--ledger=b:1", "--report=c:1",
                                            "--redis=redis://127.0.0.1:1"])]:
                with self.subTest(service=name, keyless=True):
                    self.run_bad(name, args, "--internal_key_file", trust=False)


if __name__ == "__main__":
    unittest.main(verbosity=2)
