#!/usr/bin/python3
"""tools/kelola-call as a user meets it: run as a subprocess against a small in-process
gRPC server (reflection, an echo of the request metadata, a refusal with google.rpc
details), against ports where nothing answers, and with bad input. Every mistake must be
one line on stderr with the documented exit status, never a traceback.

  /usr/bin/python3 tests/tools/kelola_call_test.py
"""
import importlib.machinery
import importlib.util
import json
import os
import pathlib
import signal
import socket
import subprocess
import tempfile
import time
import unittest
from concurrent import futures

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool

TOOL = pathlib.Path(__file__).resolve().parents[2] / "tools" / "kelola-call"
SERVICE = "kelola.test.v1.EchoService"
F = descriptor_pb2.FieldDescriptorProto


def load_tool():
    """The tool as a module, for its reflection message types (the server side speaks the
    same protocol)."""
    loader = importlib.machinery.SourceFileLoader("kelola_call", str(TOOL))
    spec = importlib.util.spec_from_loader("kelola_call", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def echo_file():
    fd = descriptor_pb2.FileDescriptorProto(name="kelola/test/v1/echo.proto",
                                            package="kelola.test.v1", syntax="proto3")
    req = fd.message_type.add(name="EchoRequest")
    req.field.add(name="name", json_name="name", number=1, type=F.TYPE_STRING,
                  label=F.LABEL_OPTIONAL)
    req.field.add(name="count", json_name="count", number=2, type=F.TYPE_INT32,
                  label=F.LABEL_OPTIONAL)
    reply = fd.message_type.add(name="EchoReply")
    reply.field.add(name="metadata", json_name="metadata", number=1, type=F.TYPE_STRING,
                    label=F.LABEL_OPTIONAL)
    service = fd.service.add(name="EchoService")
    for method in ("Echo", "Refuse"):
        service.method.add(name=method, input_type=".kelola.test.v1.EchoRequest",
                           output_type=".kelola.test.v1.EchoReply")
    return fd


def field(number, payload):
    """One length-delimited protobuf field (payload shorter than 128 bytes)."""
    assert len(payload) < 128
    return bytes([number << 3 | 2, len(payload)]) + payload


def status_details():
    """google.rpc.Status{code 3, details [ErrorInfo, BadRequest]} encoded by hand."""
    info = field(1, b"NAME_TOO_LONG") + field(2, b"test.kelola.id")
    violation = field(1, b"name") + field(2, b"at most 3 characters")
    bad = field(1, violation)
    return (bytes([0x08, 3]) + field(2, b"invalid request") +
            field(3, field(1, b"type.googleapis.com/google.rpc.ErrorInfo") + field(2, info)) +
            field(3, field(1, b"type.googleapis.com/google.rpc.BadRequest") + field(2, bad)))


class Handler(grpc.GenericRpcHandler):
    def __init__(self, tool):
        self.req_type, self.resp_type = tool._reflection_types()
        self.file = echo_file()
        pool = descriptor_pool.DescriptorPool()
        pool.Add(self.file)
        self.reply_type = tool.message_class(pool, "kelola.test.v1.EchoReply")

    def service(self, details):
        if details.method == "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo":
            return grpc.stream_stream_rpc_method_handler(
                self.reflect, request_deserializer=self.req_type.FromString,
                response_serializer=self.resp_type.SerializeToString)
        handlers = {f"/{SERVICE}/Echo": self.echo, f"/{SERVICE}/Refuse": self.refuse}
        if details.method in handlers:
            return grpc.unary_unary_rpc_method_handler(handlers[details.method])
        return None

    def reflect(self, requests, context):
        for request in requests:
            reply = self.resp_type()
            symbol = request.file_containing_symbol or request.file_by_filename
            if request.list_services:
                reply.list_services_response.service.add(name=SERVICE)
            elif symbol.startswith("kelola.test.v1") or symbol == self.file.name:
                reply.file_descriptor_response.file_descriptor_proto.append(
                    self.file.SerializeToString())
            else:
                reply.error_response.error_code = 5
                reply.error_response.error_message = f"Symbol not found: {symbol}"
            yield reply

    def echo(self, request, context):
        sent = {k: v for k, v in context.invocation_metadata()
                if k.startswith("x-") or k == "authorization"}
        return self.reply_type(metadata=json.dumps(sent)).SerializeToString()

    def refuse(self, request, context):
        context.set_trailing_metadata([("grpc-status-details-bin", status_details())])
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid request")


def free_port():
    """A port nothing listens on (bound once, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class KelolaCallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        cls.server.add_generic_rpc_handlers([Handler(load_tool())])
        cls.address = f"127.0.0.1:{cls.server.add_insecure_port('127.0.0.1:0')}"
        cls.server.start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop(0)

    def run_tool(self, *args, env=None, stdin=None):
        environ = {k: v for k, v in os.environ.items() if not k.startswith("KELOLA_")}
        environ.update(env or {})
        return subprocess.run([str(TOOL), *args], capture_output=True, text=True, env=environ,
                              input=stdin, timeout=30)

    def assert_one_line(self, result, status, *fragments):
        self.assertEqual(result.returncode, status, result.stderr)
        self.assertNotIn("Traceback", result.stderr)
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("kelola-call: "), lines[0])
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def echoed(self, *args, env=None):
        result = self.run_tool(self.address, "call", f"{SERVICE}/Echo", *args, env=env)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(json.loads(result.stdout)["metadata"])

    # Where nothing answers.
    def test_connection_refused_names_the_address(self):
        address = f"127.0.0.1:{free_port()}"
        for command in (["list"], ["health"], ["call", f"{SERVICE}/Echo", "{}"]):
            self.assert_one_line(self.run_tool(address, *command), 1,
                                 f"nothing answers at {address}", "connection refused")

    def test_unresolvable_host(self):
        result = self.run_tool("no-such-host.invalid:50051", "list", "--timeout", "5")
        self.assert_one_line(result, 1, "nothing answers at no-such-host.invalid:50051")

    def test_silent_peer_is_a_deadline(self):
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            address = f"127.0.0.1:{silent.getsockname()[1]}"
            result = self.run_tool(address, "list", "--timeout", "0.3")
        self.assert_one_line(result, 1, "deadline exceeded", address, "0.3 s")

    def test_ctrl_c_exits_130_quietly(self):
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen()
            tool = subprocess.Popen(
                [str(TOOL), f"127.0.0.1:{silent.getsockname()[1]}", "list", "--timeout", "30"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(1)
            tool.send_signal(signal.SIGINT)
            out, err = tool.communicate(timeout=10)
        self.assertEqual(tool.returncode, 130, err)
        self.assertEqual((out, err), ("", ""))

    # Bad requests.
    def test_bad_json_gives_line_and_column(self):
        result = self.run_tool(self.address, "call", f"{SERVICE}/Echo", '{\n  "name": }')
        self.assert_one_line(result, 2, "not valid JSON", "line 2 column 11")

    def test_unknown_field_is_named(self):
        result = self.run_tool(self.address, "call", f"{SERVICE}/Echo", '{"nmae": "ani"}')
        self.assert_one_line(result, 2, '"nmae"', "kelola.test.v1.EchoRequest",
                             'did you mean "name"')

    def test_wrong_value_and_non_object(self):
        self.assert_one_line(
            self.run_tool(self.address, "call", f"{SERVICE}/Echo", '{"count": "many"}'), 2,
            "count")
        self.assert_one_line(
            self.run_tool(self.address, "call", f"{SERVICE}/Echo", "[1]"), 2, "JSON object")

    def test_request_file(self):
        self.assert_one_line(
            self.run_tool(self.address, "call", f"{SERVICE}/Echo", "@/no/such/request.json"), 2,
            "cannot read the request file /no/such/request.json")
        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            f.write('{"name": "ani"}')
            f.flush()
            result = self.run_tool(self.address, "call", f"{SERVICE}/Echo", "@" + f.name)
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.run_tool(self.address, "call", f"{SERVICE}/Echo", "@-", stdin="{}")
        self.assertEqual(result.returncode, 0, result.stderr)

    def test_unknown_service_and_method_suggest_names(self):
        self.assert_one_line(
            self.run_tool(self.address, "call", "kelola.test.v1.EchoServce/Echo"), 2,
            'no service "kelola.test.v1.EchoServce"', f'did you mean "{SERVICE}"')
        self.assert_one_line(
            self.run_tool(self.address, "call", f"{SERVICE}/Ecko"), 2,
            'no method "Ecko"', 'did you mean "Echo"')
        self.assert_one_line(self.run_tool(self.address, "describe", "Nope"), 2,
                             'no service "Nope"')

    def test_usage_mistakes(self):
        self.assert_one_line(self.run_tool(self.address, "cal"), 2, "invalid choice")
        self.assert_one_line(self.run_tool(), 2, "required")
        self.assert_one_line(self.run_tool(self.address, "call", SERVICE), 2, "SERVICE/METHOD")
        self.assert_one_line(self.run_tool(self.address, "list", "--timeout", "x"), 2, "timeout")
        self.assert_one_line(self.run_tool(self.address, "list", "-H", "tenant"), 2, "-H")

    # Credentials.
    def test_api_key_and_token_flags_become_metadata(self):
        self.assertEqual(self.echoed("--api-key", "k-123"), {"x-api-key": "k-123"})
        self.assertEqual(self.echoed("--token", "eyJ.a.b"), {"authorization": "Bearer eyJ.a.b"})

    def test_environment_supplies_credentials_when_no_flag(self):
        self.assertEqual(self.echoed(env={"KELOLA_API_KEY": "k-env"}), {"x-api-key": "k-env"})
        self.assertEqual(self.echoed(env={"KELOLA_TOKEN": "t-env"}),
                         {"authorization": "Bearer t-env"})
        self.assertEqual(self.echoed("--api-key", "k-flag", env={"KELOLA_TOKEN": "t-env"}),
                         {"x-api-key": "k-flag"})

    def test_both_credentials_is_an_error(self):
        self.assert_one_line(
            self.run_tool(self.address, "list", "--api-key", "k", "--token", "t"), 2,
            "--api-key or --token, not both")
        self.assert_one_line(
            self.run_tool(self.address, "list", env={"KELOLA_API_KEY": "k", "KELOLA_TOKEN": "t"}),
            2, "KELOLA_API_KEY and KELOLA_TOKEN")

    def test_tenant_and_headers_still_work(self):
        self.assertEqual(self.echoed("--tenant", "toko-ani"), {"x-kelola-tenant": "toko-ani"})
        self.assertEqual(self.echoed("-H", "x-kelola-tenant: toko-sari"),
                         {"x-kelola-tenant": "toko-sari"})

    # The server's refusal is the answer: printed in full.
    def test_refusal_prints_code_reason_and_violations(self):
        result = self.run_tool(self.address, "call", f"{SERVICE}/Refuse", "{}")
        self.assertEqual(result.returncode, 1, result.stderr)
        error = json.loads(result.stderr)
        self.assertEqual(error["code"], "INVALID_ARGUMENT")
        self.assertEqual(error["message"], "invalid request")
        info, bad = error["details"]
        self.assertEqual((info["reason"], info["domain"]), ("NAME_TOO_LONG", "test.kelola.id"))
        self.assertEqual(bad["fieldViolations"],
                         [{"field": "name", "description": "at most 3 characters"}])

    def test_help_documents_credentials(self):
        result = self.run_tool("--help")
        self.assertEqual(result.returncode, 0)
        for text in ("--api-key", "--token", "KELOLA_API_KEY", "KELOLA_TOKEN", "x-api-key",
                     "authorization: Bearer"):
            self.assertIn(text, result.stdout)


if __name__ == "__main__":
    unittest.main()
