#pragma once

// A real customer-svc directory (store + handlers) behind an in-process gRPC server on a
// loopback port, over a real database: a SQLite file or a fresh PostgreSQL database. Tests
// are parameterized by driver name ("sqlite", "postgres"), optionally with writes through a
// GroupCommitter as customer-svc runs them ("sqlite_group_commit", "postgres_group_commit").

#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/synchronization/mutex.h"
#include "customer-svc/api/category_service_impl.h"
#include "customer-svc/api/customer_internal_service_impl.h"
#include "customer-svc/api/customer_query_handlers.h"
#include "customer-svc/api/customer_service.h"
#include "customer-svc/api/tenant_service_impl.h"
#include "customer-svc/app/ledger_protocol.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/directory_store.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/db/group_commit.h"
#include "libs/errors/errors.h"
#include "libs/events/outbox.h"
#include "libs/events/outbox_sequencer.h"
#include "libs/ids/ids.h"
#include "libs/phone/phone_normalizer.h"
#include "libs/testing/temp_dir.h"

namespace kelola::customer::testing_support {

// ledger-svc's side of delete and merge, scripted: a unit-test double for the saga logic
// (the real protocol runs in tests/integration/customer_protocols_test.cc). Customers in
// `with_history` refuse a seal; queued failures are returned by the next calls.
class ScriptedLedger final : public app::LedgerProtocol {
 public:
  absl::Status Seal(const app::LedgerTenant& tenant, const std::string& seal_id,
                    const std::string& customer_id) override;
  absl::StatusOr<bool> Unseal(const app::LedgerTenant& tenant, const std::string& seal_id,
                              const std::string& customer_id) override;
  absl::Status Reassign(const app::LedgerTenant& tenant, const std::string& operation_id,
                        const std::string& source, const std::string& target) override;

  void AddHistory(const std::string& customer_id);
  // The next Seal / Reassign calls fail with these, in order.
  void FailNextSeal(absl::Status status);
  void FailNextReassign(absl::Status status);
  // customer -> seal_id of the seals in place.
  std::map<std::string, std::string> seals() const;
  int reassign_calls() const;
  // The tenant of the latest call.
  app::LedgerTenant last_tenant() const;
  int unseal_calls() const;

 private:
  mutable absl::Mutex mu_;
  std::set<std::string> with_history_;
  std::map<std::string, std::string> seals_;
  std::set<std::string> merged_;
  std::deque<absl::Status> seal_failures_;
  std::deque<absl::Status> reassign_failures_;
  int reassign_calls_ = 0;
  int unseal_calls_ = 0;
  app::LedgerTenant last_tenant_;
};

class DirectoryApiTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override;
  void TearDown() override;

  // A client context for `tenant` (header x-kelola-tenant).
  std::unique_ptr<grpc::ClientContext> Ctx(const std::string& tenant = "t1");

  // Creates a customer; fails the test on error.
  v1::Customer MustCreate(const std::string& name, const std::string& phone = "",
                          const std::string& email = "", const std::string& tenant = "t1");
  grpc::Status Create(const v1::CreateCustomerRequest& request, v1::Customer* out = nullptr,
                      const std::string& tenant = "t1");
  void SetSettings(const v1::TenantSettings& settings, const std::vector<std::string>& paths,
                   const std::string& tenant = "t1");

  // Rows and events, read straight from the database (every staged event numbered first).
  int64_t CountRows(const std::string& sql, const std::vector<db::Value>& params = {});
  int64_t CountEvents(const std::string& type);

  std::unique_ptr<testing::TempDir> dir_;
  std::string db_url_;
  std::unique_ptr<db::Database> db_;
  FakeClock clock_;
  events::EventNotifier notifier_;
  std::unique_ptr<events::Outbox> outbox_;
  // Numbers staged events on PostgreSQL, as in customer-svc.
  std::unique_ptr<events::OutboxSequencer> sequencer_;
  std::unique_ptr<ids::IdGenerator> ids_;
  phone::PhoneNormalizer phones_;
  std::unique_ptr<db::GroupCommitter> group_commit_;
  std::unique_ptr<store::DirectoryStore> store_;
  // The tenants' search indexes, loaded on their first search as in customer-svc.
  std::unique_ptr<store::SearchIndexCache> indexes_;
  std::unique_ptr<store::CustomerQuery> query_;
  std::unique_ptr<api::CustomerQueryHandlers> queries_;
  std::unique_ptr<api::CustomerImporter> base_importer_;
  std::unique_ptr<api::CustomerExporter> base_exporter_;
  ScriptedLedger ledger_;
  std::unique_ptr<app::CustomerDeletion> deletion_;
  std::unique_ptr<app::CustomerMergeSaga> merges_;
  std::unique_ptr<api::CustomerService> customer_service_;
  std::unique_ptr<api::CategoryServiceImpl> category_service_;
  std::unique_ptr<api::TenantServiceImpl> tenant_service_;
  std::unique_ptr<api::CustomerInternalServiceImpl> internal_service_;
  std::unique_ptr<grpc::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CustomerService::Stub> customers_;
  std::unique_ptr<v1::CategoryService::Stub> categories_;
  std::unique_ptr<v1::TenantService::Stub> tenants_;
  std::unique_ptr<v1::CustomerInternalService::Stub> internal_;
};

// The reason, metadata and violations of a failed call, decoded from the trailer.
absl::Status Decode(const grpc::Status& status);
std::vector<std::string> ViolationFields(const grpc::Status& status);

}  // namespace kelola::customer::testing_support
