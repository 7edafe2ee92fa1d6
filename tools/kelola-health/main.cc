// kelola-health: asks a service on this host for its grpc.health.v1 status and exits 0 when
// it is SERVING, 1 otherwise. It is the containers' health check (deploy/docker): an exec
// HEALTHCHECK that needs no shell, run inside the service's container with the service's
// environment, so it finds the port in KELOLA_LISTEN and the certificate in KELOLA_TLS_*.
//
//   kelola-health [--listen=HOST:PORT] [--tls_cert_file= --tls_key_file= --tls_ca_file=]
//                 [--health_server_name=localhost] [--health_timeout=3s]
//
// A wildcard listen host (0.0.0.0, [::], empty) is dialled as 127.0.0.1. With TLS the tool
// shows the process's own certificate (the services require a client certificate) and
// checks the server's against --health_server_name, which the certificate must name.
#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "libs/config/config.h"
#include "libs/tls/tls.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "the service's gRPC address (its --listen)");
ABSL_FLAG(std::string, tls_cert_file, "", "PEM certificate shown to the service (mutual TLS)");
ABSL_FLAG(std::string, tls_key_file, "", "PEM private key of --tls_cert_file");
ABSL_FLAG(std::string, tls_ca_file, "", "PEM CA bundle the service's certificate chains to");
ABSL_FLAG(std::string, health_server_name, "localhost",
          "the name checked in the service's certificate (with TLS)");
ABSL_FLAG(std::string, health_service, "", "the grpc.health.v1 service name; \"\" = the server");
ABSL_FLAG(absl::Duration, health_timeout, absl::Seconds(3), "deadline of the check");

namespace {

// The address to dial for a listen address: wildcards mean "this host".
std::string DialTarget(const kelola::config::HostPort& listen) {
  const bool wildcard = listen.host.empty() || listen.host == "0.0.0.0" || listen.host == "[::]";
  return absl::StrCat(wildcard ? "127.0.0.1" : listen.host, ":", listen.port);
}

std::shared_ptr<grpc::Channel> OpenChannel(const std::string& target) {
  kelola::tls::TlsFiles files{absl::GetFlag(FLAGS_tls_cert_file), absl::GetFlag(FLAGS_tls_key_file),
                              absl::GetFlag(FLAGS_tls_ca_file)};
  if (files.empty()) return grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  if (absl::Status status = kelola::tls::CheckFiles(files); !status.ok()) {
    kelola::config::Die("TLS", status);
  }
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride(absl::GetFlag(FLAGS_health_server_name));
  return grpc::CreateCustomChannel(target, kelola::tls::ChannelCredentials(files), args);
}

}  // namespace

int main(int argc, char** argv) {
  kelola::config::ParseFlags(argc, argv, "kelola-health [--listen=HOST:PORT] [--tls_*_file=...]");
  auto listen = kelola::config::ParseHostPort(absl::GetFlag(FLAGS_listen));
  if (!listen.ok()) kelola::config::Die("--listen", listen.status());
  const std::string target = DialTarget(*listen);

  auto stub = grpc::health::v1::Health::NewStub(OpenChannel(target));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::GetFlag(FLAGS_health_timeout)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(absl::GetFlag(FLAGS_health_service));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "kelola-health: %s: %s\n", target.c_str(), status.error_message().c_str());
    return 1;
  }
  const std::string name =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
  std::printf("%s %s\n", target.c_str(), name.c_str());
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? 0 : 1;
}
