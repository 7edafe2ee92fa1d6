#include "libs/testing/suite.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "libs/testing/free_port.h"

namespace kelola::testing {

std::unique_ptr<grpc::ClientContext> TenantContext(const std::string& tenant,
                                                   absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata("x-kelola-tenant", tenant);
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  return context;
}

std::unique_ptr<grpc::ClientContext> ApiKeyContext(const std::string& api_key,
                                                   absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!api_key.empty()) context->AddMetadata("x-api-key", api_key);
  context->set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
  return context;
}

kelola::type::v1::Money Idr(int64_t minor) {
  kelola::type::v1::Money money;
  money.set_amount_minor(minor);
  money.set_currency_code("IDR");
  return money;
}

absl::StatusOr<CustomerAndLedger> StartCustomerAndLedger(const std::string& dir,
                                                         const std::string& customer_db,
                                                         const std::string& ledger_db,
                                                         std::vector<std::string> customer_args,
                                                         std::vector<std::string> ledger_args) {
  auto ledger_port = PickFreePort();
  if (!ledger_port.ok()) return ledger_port.status();
  CustomerAndLedger pair;
  std::vector<std::string> args = {"--db=" + customer_db,
                                   absl::StrCat("--ledger=127.0.0.1:", *ledger_port)};
  args.insert(args.end(), customer_args.begin(), customer_args.end());
  auto customer = ServiceProcess::Start({"customer-svc", std::move(args), dir});
  if (!customer.ok()) return customer.status();
  pair.customer = *std::move(customer);
  args = {"--db=" + ledger_db, "--customer=" + pair.customer->address()};
  args.insert(args.end(), ledger_args.begin(), ledger_args.end());
  ServiceProcessOptions ledger_options{"ledger-svc", std::move(args), dir};
  ledger_options.port = *ledger_port;
  auto ledger = ServiceProcess::Start(std::move(ledger_options));
  if (!ledger.ok()) return ledger.status();
  pair.ledger = *std::move(ledger);
  return pair;
}

}  // namespace kelola::testing
