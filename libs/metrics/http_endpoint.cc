#include "libs/metrics/http_endpoint.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "libs/threads/thread_name.h"

namespace kelola::metrics {
namespace {

void WriteAll(int fd, const std::string& data) {
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;
    sent += static_cast<size_t>(n);
  }
}

std::string Response(int code, absl::string_view reason, absl::string_view content_type,
                     absl::string_view body) {
  return absl::StrCat("HTTP/1.0 ", code, " ", reason, "\r\nContent-Type: ", content_type,
                      "\r\nContent-Length: ", body.size(), "\r\nConnection: close\r\n\r\n", body);
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpEndpoint>> HttpEndpoint::Start(const std::string& host, int port,
                                                                  const Registry* registry,
                                                                  std::function<bool()> ready) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  std::string bind_host = host;
  if (bind_host.size() > 2 && bind_host.front() == '[' && bind_host.back() == ']') {
    bind_host = bind_host.substr(1, bind_host.size() - 2);
  }
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(bind_host.c_str(), std::to_string(port).c_str(), &hints, &found);
      rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot resolve metrics host '", host, "': ", gai_strerror(rc)));
  }
  int fd = ::socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (fd < 0 || ::bind(fd, found->ai_addr, found->ai_addrlen) != 0 || ::listen(fd, 64) != 0) {
    const int err = errno;
    ::freeaddrinfo(found);
    if (fd >= 0) ::close(fd);
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", host, ":", port, ": ", std::strerror(err)));
  }
  ::freeaddrinfo(found);
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  const int bound = addr.ss_family == AF_INET6
                        ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                        : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  return std::unique_ptr<HttpEndpoint>(new HttpEndpoint(fd, bound, registry, std::move(ready)));
}

HttpEndpoint::HttpEndpoint(int fd, int port, const Registry* registry, std::function<bool()> ready)
    : fd_(fd), port_(port), registry_(registry), ready_(std::move(ready)) {
  thread_ = threads::Start("metrics-http", [this] { Serve(); });
}

HttpEndpoint::~HttpEndpoint() { Stop(); }

void HttpEndpoint::Stop() {
  if (stopping_.exchange(true)) return;
  if (thread_.joinable()) thread_.join();
  ::close(fd_);
}

void HttpEndpoint::Serve() {
  while (!stopping_.load()) {
    pollfd pfd{fd_, POLLIN, 0};
    // Wake up regularly to notice Stop().
    if (::poll(&pfd, 1, 200) <= 0) continue;
    int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    Answer(client);
    ::close(client);
  }
}

void HttpEndpoint::Answer(int client) {
  std::string request;
  char buffer[2048];
  // Read until the end of the request head, with a bound on time and size.
  while (request.size() < 16384 && !absl::StrContains(request, "\r\n\r\n") &&
         !absl::StrContains(request, "\n\n")) {
    pollfd pfd{client, POLLIN, 0};
    if (::poll(&pfd, 1, 1000) <= 0) return;
    ssize_t n = ::recv(client, buffer, sizeof(buffer), 0);
    if (n <= 0) break;
    request.append(buffer, static_cast<size_t>(n));
  }
  const bool get = absl::StartsWith(request, "GET ");
  absl::string_view path;
  if (get) {
    absl::string_view line(request);
    line.remove_prefix(4);
    path = line.substr(0, line.find(' '));
    path = path.substr(0, path.find('?'));
  }
  if (get && path == "/metrics") {
    WriteAll(client, Response(200, "OK", "text/plain; version=0.0.4", registry_->Render()));
  } else if (get && path == "/healthz") {
    const bool ok = ready_ ? ready_() : true;
    WriteAll(client, ok ? Response(200, "OK", "text/plain", "ok\n")
                        : Response(503, "Service Unavailable", "text/plain", "not ready\n"));
  } else {
    WriteAll(client, Response(404, "Not Found", "text/plain", "not found\n"));
  }
}

}  // namespace kelola::metrics
