#include "libs/server/request_parsing.h"

#include <google/protobuf/stubs/logging.h>

#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "libs/errors/errors.h"
#include "libs/log/log.h"

namespace kelola::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

// The qualified field of the last "invalid UTF-8 when parsing" message on this thread.
thread_local std::string t_invalid_utf8_field;

google::protobuf::LogHandler* g_previous_handler = nullptr;

constexpr absl::string_view kUtf8Prefix = "String field '";
constexpr absl::string_view kUtf8Parsing = "contains invalid UTF-8 data when parsing";

void CaptureParseErrors(google::protobuf::LogLevel level, const char* filename, int line,
                        const std::string& message) {
  if (absl::StartsWith(message, kUtf8Prefix) && absl::StrContains(message, kUtf8Parsing)) {
    const size_t end = message.find('\'', kUtf8Prefix.size());
    if (end != std::string::npos) {
      t_invalid_utf8_field = message.substr(kUtf8Prefix.size(), end - kUtf8Prefix.size());
      log::Debug("request field is not valid UTF-8", {{"field", t_invalid_utf8_field}});
      return;
    }
  }
  if (g_previous_handler != nullptr) g_previous_handler(level, filename, line, message);
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
      : method_(info->method()),
        single_request_(info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY ||
                        info->type() == grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING),
        domain_(domain) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE)) {
      std::string field = std::exchange(t_invalid_utf8_field, "");
      // A missing message is a parse failure for a single request; for a client stream it
      // is also its end, so only a captured UTF-8 error counts there.
      if (methods->GetRecvMessage() == nullptr && (single_request_ || !field.empty())) {
        unparsable_ = true;
        utf8_field_ = std::move(field);
      }
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      t_invalid_utf8_field.clear();
      // Only gRPC's own parse failure (INTERNAL) is rewritten: a call refused before it
      // was read (RESOURCE_EXHAUSTED from a full thread pool, CANCELLED) keeps its status.
      if (unparsable_ && methods->GetSendStatus().error_code() == grpc::StatusCode::INTERNAL) {
        methods->ModifySendStatus(errors::ToGrpcStatus(CallersFault(), *domain_));
      }
    }
    methods->Proceed();
  }

 private:
  absl::Status CallersFault() const {
    if (utf8_field_.empty()) {
      const auto* type = RequestType(method_);
      return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                           absl::StrCat("the request is not a valid ",
                                        type == nullptr ? "message" : type->full_name()));
    }
    const std::string path = RequestFieldPath(method_, utf8_field_);
    return errors::Error(
        absl::StatusCode::kInvalidArgument, "INVALID_UTF8",
        absl::StrCat("request field ", path,
                     " is not valid UTF-8 (text fields must be UTF-8; encode binary data)"),
        {{"field", path}}, {{path, "not valid UTF-8"}});
  }

  std::string method_;
  bool single_request_;
  const std::string* domain_;
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

std::string ErrorDomainOf(absl::string_view service_name) {
  absl::string_view area = absl::StripSuffix(service_name, "-svc");
  if (area.empty()) return "kelola.id";
  return absl::StrCat(area, ".kelola.id");
}

}  // namespace kelola::server
