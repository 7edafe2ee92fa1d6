// Setup shared by the integration tests: a tenant's client context, rupiah amounts,
// per-driver database URLs, and customer-svc and ledger-svc started pointing at each other.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "kelola/type/v1/money.pb.h"
#include "libs/testing/service_process.h"
#include "libs/testing/temp_dir.h"

namespace kelola::testing {

// A client context carrying x-kelola-tenant and a deadline `timeout` from now.
std::unique_ptr<grpc::ClientContext> TenantContext(const std::string& tenant,
                                                   absl::Duration timeout = absl::Seconds(10));
// A client context of a gateway client: x-api-key `api_key` (none when empty) and a
// deadline `timeout` from now.
std::unique_ptr<grpc::ClientContext> ApiKeyContext(const std::string& api_key,
                                                   absl::Duration timeout = absl::Seconds(10));

// `minor` rupiah (IDR has no minor unit, so minor == rupiah).
kelola::type::v1::Money Idr(int64_t minor);

// "sqlite": a file <name>.db in `dir`; "postgres": a fresh database on SharedPostgres().
absl::StatusOr<std::string> DatabaseUrl(const std::string& driver, const TempDir& dir,
                                        const std::string& name);

struct CustomerAndLedger {
  std::unique_ptr<ServiceProcess> customer;
  std::unique_ptr<ServiceProcess> ledger;
};

// Each service needs the other's address: picks ledger-svc's port, starts customer-svc
// with --ledger=that address, then ledger-svc on that port with --customer=customer-svc's.
// Logs go to `dir`. The extra args are appended after --db and the peer address.
absl::StatusOr<CustomerAndLedger> StartCustomerAndLedger(
    const std::string& dir, const std::string& customer_db, const std::string& ledger_db,
    std::vector<std::string> customer_args = {}, std::vector<std::string> ledger_args = {});

}  // namespace kelola::testing
