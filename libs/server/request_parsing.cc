#include "libs/server/request_parsing.h"

#include <google/protobuf/stubs/logging.h>

#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "grpcpp/server_context.h"
#include "libs/errors/errors.h"
#include "libs/log/log.h"
#include "libs/server/call_problems.h"

namespace kelola::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Protobuf's "invalid UTF-8 when parsing" error, held back on a thread that serves a call
// until the interceptor learns whether gRPC was parsing the call's request (the field is
// then the caller's fault, logged at debug) or server code was parsing something else (the
// message is passed on as it came: stored data that does not parse is the server's fault).
struct PendingParseLog {
  google::protobuf::LogLevel level;
  std::string filename;
  int line;
  std::string message;
  std::string field;  // "<message type>.<field>"
};
thread_local std::optional<PendingParseLog> t_pending_parse_log;
// Interceptors created on this thread and not finished: the thread serves a call.
thread_local int t_calls_served = 0;

google::protobuf::LogHandler* g_previous_handler = nullptr;

constexpr absl::string_view kUtf8Prefix = "String field '";
constexpr absl::string_view kUtf8Parsing = "contains invalid UTF-8 data when parsing";

void Forward(google::protobuf::LogLevel level, const char* filename, int line,
             const std::string& message) {
  if (g_previous_handler != nullptr) g_previous_handler(level, filename, line, message);
}

// Passes a held-back message on: nobody took it as a request's parse failure.
void FlushPendingParseLog() {
  if (!t_pending_parse_log.has_value()) return;
  PendingParseLog pending = *std::move(t_pending_parse_log);
  t_pending_parse_log.reset();
  Forward(pending.level, pending.filename.c_str(), pending.line, pending.message);
}

// The field of the held-back message, which gRPC's failed parse of a request explains.
std::string TakePendingParseField() {
  if (!t_pending_parse_log.has_value()) return "";
  std::string field = std::move(t_pending_parse_log->field);
  t_pending_parse_log.reset();
  log::Debug("request field is not valid UTF-8", {{"field", field}});
  return field;
}

void CaptureParseErrors(google::protobuf::LogLevel level, const char* filename, int line,
                        const std::string& message) {
  if (t_calls_served > 0 && absl::StartsWith(message, kUtf8Prefix) &&
      absl::StrContains(message, kUtf8Parsing)) {
    const size_t end = message.find('\'', kUtf8Prefix.size());
    if (end != std::string::npos) {
      FlushPendingParseLog();
      t_pending_parse_log =
          PendingParseLog{level, filename == nullptr ? "" : filename, line, message,
                          message.substr(kUtf8Prefix.size(), end - kUtf8Prefix.size())};
      return;
    }
  }
  Forward(level, filename, line, message);
}

// Client streams: the parse failure of a call's last Read(), until its handler takes it
// (TakeReadParseFailure) or the call's status is sent.
CallProblems& ReadFailures() {
  static auto* const failures = new CallProblems();
  return *failures;
}

const google::protobuf::Descriptor* RequestType(absl::string_view method);

absl::Status ParseError(absl::string_view method, const std::string& utf8_field) {
  if (utf8_field.empty()) {
    const auto* type = RequestType(method);
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                         absl::StrCat("the request is not a valid ",
                                      type == nullptr ? "message" : type->full_name()));
  }
  const std::string path = RequestFieldPath(method, utf8_field);
  return errors::Error(
      absl::StatusCode::kInvalidArgument, "INVALID_UTF8",
      absl::StrCat("request field ", path,
                   " is not valid UTF-8 (text fields must be UTF-8; encode binary data)"),
      {{"field", path}}, {{path, "not valid UTF-8"}});
}

// Depth-first search for the path to `qualified` from `type`.
bool FindPath(const google::protobuf::Descriptor* type, absl::string_view qualified,
              std::set<const google::protobuf::Descriptor*>& visiting,
              std::vector<std::string>& path) {
  if (path.size() > 10 || !visiting.insert(type).second) return false;
  for (int i = 0; i < type->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = type->field(i);
    path.push_back(field->name());
    if (absl::StrCat(type->full_name(), ".", field->name()) == qualified) return true;
    if (field->message_type() != nullptr &&
        FindPath(field->message_type(), qualified, visiting, path)) {
      return true;
    }
    path.pop_back();
  }
  visiting.erase(type);
  return false;
}

const google::protobuf::Descriptor* RequestType(absl::string_view method) {
  // "/kelola.customer.v1.CustomerService/CreateCustomer" -> "...CustomerService.CreateCustomer"
  std::string name(absl::StripPrefix(method, "/"));
  const size_t slash = name.rfind('/');
  if (slash == std::string::npos) return nullptr;
  name[slash] = '.';
  const auto* descriptor =
      google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
  return descriptor == nullptr ? nullptr : descriptor->input_type();
}

class RequestParseInterceptor final : public grpc::experimental::Interceptor {
 public:
  RequestParseInterceptor(grpc::experimental::ServerRpcInfo* info, const std::string* domain)
      : context_(info->server_context()),
        method_(info->method()),
        single_request_(info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY ||
                        info->type() == grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING),
        domain_(domain),
        thread_(std::this_thread::get_id()) {
    // The sync server creates the interceptors on the thread that then parses the request
    // and runs the handler.
    ++t_calls_served;
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      OnReceived(methods);
    } else {
      FlushPendingParseLog();  // server code's, not a request's
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      // Only gRPC's own parse failure (INTERNAL) is rewritten: a call refused before it
      // was read (RESOURCE_EXHAUSTED from a full thread pool, CANCELLED) keeps its status,
      // and so does a client stream's handler that took the failure (it answered it).
      if (unparsable_ && ParseFailureUntaken() &&
          methods->GetSendStatus().error_code() == grpc::StatusCode::INTERNAL) {
        methods->ModifySendStatus(errors::ToGrpcStatus(ParseError(method_, utf8_field_), *domain_));
      }
      Forget();
    }
    methods->Proceed();
  }

  ~RequestParseInterceptor() override { Forget(); }

 private:
  void OnReceived(grpc::experimental::InterceptorBatchMethods* methods) {
    if (methods->GetRecvMessage() != nullptr) {
      FlushPendingParseLog();
      return;
    }
    std::string field = TakePendingParseField();
    // A missing message is a parse failure for a single request; for a client stream it
    // is also its end, so only a captured UTF-8 error counts there.
    if (!single_request_ && field.empty()) return;
    unparsable_ = true;
    utf8_field_ = std::move(field);
    if (!single_request_) ReadFailures().Record(*context_, ParseError(method_, utf8_field_));
  }

  bool ParseFailureUntaken() const { return single_request_ || ReadFailures().Has(*context_); }

  void Forget() {
    if (!finished_ && std::this_thread::get_id() == thread_) {
      FlushPendingParseLog();
      --t_calls_served;
    }
    finished_ = true;
    if (unparsable_ && !single_request_) ReadFailures().Forget(*context_);
  }

  const grpc::ServerContextBase* context_;
  std::string method_;
  bool single_request_;
  const std::string* domain_;
  const std::thread::id thread_;
  bool finished_ = false;
  bool unparsable_ = false;
  std::string utf8_field_;
};

class RequestParseInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestParseInterceptorFactory(std::string domain) : domain_(std::move(domain)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestParseInterceptor(info, &domain_);
  }

 private:
  const std::string domain_;
};

}  // namespace

void InstallRequestParseLogHandler() {
  static std::once_flag once;
  std::call_once(once,
                 [] { g_previous_handler = google::protobuf::SetLogHandler(CaptureParseErrors); });
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRequestParseInterceptorFactory(std::string domain) {
  return std::make_unique<RequestParseInterceptorFactory>(std::move(domain));
}

std::string RequestFieldPath(absl::string_view method, absl::string_view qualified_field) {
  const google::protobuf::Descriptor* request = RequestType(method);
  if (request == nullptr) return std::string(qualified_field);
  std::set<const google::protobuf::Descriptor*> visiting;
  std::vector<std::string> path;
  if (!FindPath(request, qualified_field, visiting, path)) return std::string(qualified_field);
  return absl::StrJoin(path, ".");
}

absl::Status TakeReadParseFailure(const grpc::ServerContextBase& context) {
  return ReadFailures().Take(context);
}

std::string ErrorDomainOf(absl::string_view service_name) {
  absl::string_view area = absl::StripSuffix(service_name, "-svc");
  if (area.empty()) return "kelola.id";
  return absl::StrCat(area, ".kelola.id");
}

}  // namespace kelola::server
