#include "libs/server/request_text.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "libs/errors/errors.h"
#include "libs/server/call_problems.h"

namespace kelola::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

// Calls whose request holds a NUL character, until the call ends.
CallProblems& NulProblems() {
  static auto* const problems = new CallProblems();
  return *problems;
}

bool HasNul(const google::protobuf::Message& m, const google::protobuf::FieldDescriptor* f,
            int index) {
  std::string scratch;
  const auto* r = m.GetReflection();
  const std::string& value = index < 0 ? r->GetStringReference(m, f, &scratch)
                                       : r->GetRepeatedStringReference(m, f, index, &scratch);
  return value.find('\0') != std::string::npos;
}

bool FindNul(const google::protobuf::Message& message, std::vector<std::string>& path) {
  const auto* r = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(message, &fields);
  for (const auto* f : fields) {
    path.push_back(f->name());
    const bool repeated = f->is_repeated();
    const int n = repeated ? r->FieldSize(message, f) : 1;
    for (int i = 0; i < n; ++i) {
      if (f->type() == google::protobuf::FieldDescriptor::TYPE_STRING) {
        if (HasNul(message, f, repeated ? i : -1)) return true;
      } else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
        if (FindNul(repeated ? r->GetRepeatedMessage(message, f, i) : r->GetMessage(message, f),
                    path)) {
          return true;
        }
      }
    }
    path.pop_back();
  }
  return false;
}

absl::Status NulError(const std::string& path) {
  return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_CHARACTER",
                       absl::StrCat("request field ", path,
                                    " holds a NUL character (U+0000), which no text may contain"),
                       {{"field", path}}, {{path, "holds a NUL character (U+0000)"}});
}

class RequestTextInterceptor final : public grpc::experimental::Interceptor {
 public:
  RequestTextInterceptor(grpc::experimental::ServerRpcInfo* info, const std::string* domain)
      : context_(info->server_context()),
        // Only the project's own services: generated synchronous services whose received
        // message is the request Message (gRPC's health service receives raw bytes).
        checked_((info->type() == grpc::experimental::ServerRpcInfo::Type::UNARY ||
                  info->type() == grpc::experimental::ServerRpcInfo::Type::SERVER_STREAMING) &&
                 absl::StartsWith(info->method(), "/kelola.")),
        domain_(domain) {}

  ~RequestTextInterceptor() override { Forget(); }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (checked_ &&
        methods->QueryInterceptionHookPoint(InterceptionHookPoints::POST_RECV_MESSAGE) &&
        methods->GetRecvMessage() != nullptr) {
      field_ = FirstFieldWithNul(
          *static_cast<const google::protobuf::Message*>(methods->GetRecvMessage()));
      if (!field_.empty()) NulProblems().Record(*context_, NulError(field_));
    }
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      // A handler that did not ask RequestTextProblem and failed on the NUL (PostgreSQL
      // refuses it in text): still the caller's fault.
      if (!field_.empty() && methods->GetSendStatus().error_code() == grpc::StatusCode::INTERNAL) {
        methods->ModifySendStatus(errors::ToGrpcStatus(NulError(field_), *domain_));
      }
      Forget();
    }
    methods->Proceed();
  }

 private:
  void Forget() {
    if (!field_.empty()) NulProblems().Forget(*context_);
  }

  const grpc::ServerContextBase* context_;
  const bool checked_;
  const std::string* domain_;
  std::string field_;
};

class RequestTextInterceptorFactory final
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestTextInterceptorFactory(std::string domain) : domain_(std::move(domain)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestTextInterceptor(info, &domain_);
  }

 private:
  const std::string domain_;
};

}  // namespace

absl::Status RequestTextProblem(const grpc::ServerContextBase& context) {
  return NulProblems().Find(context);
}

std::string FirstFieldWithNul(const google::protobuf::Message& message) {
  std::vector<std::string> path;
  if (!FindNul(message, path)) return "";
  return absl::StrJoin(path, ".");
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
NewRequestTextInterceptorFactory(std::string domain) {
  return std::make_unique<RequestTextInterceptorFactory>(std::move(domain));
}

}  // namespace kelola::server
