#pragma once

// ledger-svc's gRPC API (LedgerService and LedgerInternalService, registered on one
// in-process server on a loopback port) against a real database: a SQLite file or a fresh
// PostgreSQL database on the binary's shared server. customer-svc is replaced by a fake
// CustomerDirectory; everything else is the production object graph. Tests are
// parameterized by "sqlite", "postgres", "sqlite_group_commit" and "postgres_group_commit"
// (the last two run every write through a GroupCommitter, as ledger-svc does).

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/timestamp.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ledger-svc/api/ledger_internal_service.h"
#include "ledger-svc/api/ledger_service.h"
#include "ledger-svc/api/tenant_settings_cache.h"
#include "ledger-svc/app/ledger_app.h"
#include "ledger-svc/store/ledger_store.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/db/group_commit.h"
#include "libs/errors/errors.h"
#include "libs/events/outbox.h"
#include "libs/events/outbox_sequencer.h"
#include "libs/ids/ids.h"
#include "libs/testing/temp_dir.h"

namespace kelola::ledger::testing_support {

// customer-svc stand-in: customers are active (category "") unless told otherwise;
// tenants have customer-svc's default settings (IDR, Asia/Jakarta) unless told otherwise.
class FakeDirectory final : public CustomerDirectory {
 public:
  absl::StatusOr<CustomerCheck> CheckForSale(absl::string_view tenant_id,
                                             absl::string_view customer_id,
                                             absl::Time deadline) override;
  absl::StatusOr<TenantSettings> GetTenantSettings(absl::string_view tenant_id,
                                                   absl::Time deadline) override;

  // CheckForSale(id) fails with `status` from now on.
  void Refuse(const std::string& id, absl::Status status);
  void SetCategory(const std::string& id, const std::string& category);
  // The customer record version answers carry (0, as by default, = not known: the ledger
  // then remembers nothing of the answer).
  void SetVersion(const std::string& id, int64_t version);
  void SetTenantSettings(const std::string& tenant, TenantSettings settings);
  // While set, every call fails with UNAVAILABLE CUSTOMER_SERVICE_UNAVAILABLE.
  void SetUnavailable(bool v);
  // How many checks were asked for.
  int calls() const;
  // How many times tenant settings were asked for.
  int settings_calls() const;

 private:
  mutable absl::Mutex mu_;
  int calls_ = 0;
  int settings_calls_ = 0;
  bool unavailable_ = false;
  std::map<std::string, absl::Status> refusals_;
  std::map<std::string, std::string> categories_;
  std::map<std::string, int64_t> versions_;
  std::map<std::string, TenantSettings> tenants_;
};

type::v1::Money Idr(int64_t amount);

google::protobuf::Timestamp Ts(absl::Time t);

// A failed call as the client sees it: code, ErrorInfo (reason, domain, metadata) and the
// BadRequest's fields.
struct Err {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string reason;
  std::string domain;
  std::set<std::string> fields;
  errors::Metadata metadata;
};

Err Decode(const grpc::Status& status);

class LedgerApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  // Calls are made as `principal` (header x-kelola-principal).
  explicit LedgerApiTest(std::string principal) : principal_(std::move(principal)) {}

  // A database for the parameter's driver, then Start().
  void SetUp() override;
  void TearDown() override;

  // Opens the database (migrating it), builds the object graph and starts the server and
  // the stubs. Stop() tears it all down again; the database's contents stay.
  void Start();
  void Stop();

  // A client context for `tenant` (header x-kelola-tenant; none if empty), with a deadline.
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& tenant = "t1") const;

  // A one-item sale of `total`, `paid` of it in cash at the sale.
  static v1::RecordSaleRequest SaleRequest(const std::string& request_id,
                                           const std::string& customer, int64_t total,
                                           int64_t paid);
  grpc::Status TrySale(const std::string& request_id, const std::string& customer, int64_t total,
                       int64_t paid, v1::RecordSaleResponse* resp = nullptr,
                       const std::string& tenant = "t1");
  // Records the sale (fails the test if refused), then advances the clock a minute.
  v1::RecordSaleResponse Sale(const std::string& request_id, const std::string& customer,
                              int64_t total, int64_t paid, const std::string& tenant = "t1");
  // Records the sale with `sale_time` as its sale time (fails the test if refused); the
  // clock stays where it is.
  v1::RecordSaleResponse SaleAt(const std::string& request_id, const std::string& customer,
                                int64_t total, int64_t paid, absl::Time sale_time);
  // Voids a sale or a payment of tenant "t1"; the response goes to `resp` when given.
  grpc::Status VoidSale(const std::string& request_id, const std::string& sale_id,
                        const std::string& reason, v1::VoidSaleResponse* resp = nullptr,
                        bool release_payments_as_credit = false);
  grpc::Status VoidPayment(const std::string& request_id, const std::string& payment_id,
                           const std::string& reason, v1::VoidPaymentResponse* resp = nullptr);
  // A QRIS payment, allocated oldest first unless `allocations` (sale_id, amount) are given;
  // advances the clock a minute.
  grpc::Status Pay(const std::string& request_id, const std::string& customer, int64_t amount,
                   v1::RecordPaymentResponse* resp = nullptr, bool keep_excess = false,
                   std::vector<std::pair<std::string, int64_t>> allocations = {});
  v1::CustomerBalance Balance(const std::string& customer, const std::string& tenant = "t1");
  v1::CustomerLedgerStats Stats(const std::string& customer, const std::string& tenant = "t1");

  // The outbox as written by the store (the event stream's source), every staged event
  // numbered first.
  std::vector<type::v1::Event> Events();

  const std::string principal_;
  std::unique_ptr<testing::TempDir> dir_;
  std::string url_;
  FakeClock clock_;
  ids::IdGenerator ids_{clock_, std::vector<uint32_t>{1, 2, 3}};
  events::EventNotifier notifier_;
  FakeDirectory directory_;
  // ListSales and ListPayments page size limit in bytes (set before Start()).
  size_t max_page_bytes_ = LedgerStore::kDefaultMaxPageBytes;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<db::GroupCommitter> group_commit_;
  // Numbers staged events on PostgreSQL, as in ledger-svc.
  std::unique_ptr<events::OutboxSequencer> sequencer_;
  std::unique_ptr<LedgerCore> ledger_core_;
  // Made by Start(), like a process's cache: empty after each restart.
  std::unique_ptr<TenantSettingsCache> tenants_;
  std::unique_ptr<LedgerServiceImpl> service_;
  std::unique_ptr<LedgerInternalServiceImpl> internal_service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::LedgerService::Stub> ledger_;
  std::unique_ptr<v1::LedgerInternalService::Stub> internal_;
};

}  // namespace kelola::ledger::testing_support
