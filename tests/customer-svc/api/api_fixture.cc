#include "tests/customer-svc/api/api_fixture.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "customer-svc/store/migrations.h"
#include "libs/db/migrations.h"
#include "libs/testing/postgres_environment.h"

namespace kelola::customer::testing_support {

absl::Status ScriptedLedger::Seal(const app::LedgerTenant& tenant, const std::string& seal_id,
                                  const std::string& customer_id) {
  absl::MutexLock lock(&mu_);
  last_tenant_ = tenant;
  if (!seal_failures_.empty()) {
    absl::Status s = seal_failures_.front();
    seal_failures_.pop_front();
    return s;
  }
  if (with_history_.count(customer_id) > 0) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_HAS_HISTORY",
                         "has history", {{"sale_count", "1"}, {"payment_count", "0"}});
  }
  auto it = seals_.find(customer_id);
  if (it != seals_.end() && it->second != seal_id) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_SEALED", "sealed",
                         {{"seal_id", it->second}});
  }
  seals_[customer_id] = seal_id;
  return absl::OkStatus();
}

absl::StatusOr<bool> ScriptedLedger::Unseal(const app::LedgerTenant& tenant,
                                            const std::string& seal_id,
                                            const std::string& customer_id) {
  absl::MutexLock lock(&mu_);
  ++unseal_calls_;
  auto it = seals_.find(customer_id);
  if (it == seals_.end()) return false;
  if (it->second != seal_id) {
    return errors::Error(absl::StatusCode::kFailedPrecondition, "SEAL_MISMATCH", "other seal");
  }
  seals_.erase(it);
  return true;
}

absl::Status ScriptedLedger::Reassign(const app::LedgerTenant& tenant,
                                      const std::string& operation_id, const std::string& source,
                                      const std::string& target) {
  absl::MutexLock lock(&mu_);
  last_tenant_ = tenant;
  ++reassign_calls_;
  if (!reassign_failures_.empty()) {
    absl::Status s = reassign_failures_.front();
    reassign_failures_.pop_front();
    return s;
  }
  merged_.insert(source);
  return absl::OkStatus();
}

void ScriptedLedger::AddHistory(const std::string& customer_id) {
  absl::MutexLock lock(&mu_);
  with_history_.insert(customer_id);
}
void ScriptedLedger::FailNextSeal(absl::Status status) {
  absl::MutexLock lock(&mu_);
  seal_failures_.push_back(std::move(status));
}
void ScriptedLedger::FailNextReassign(absl::Status status) {
  absl::MutexLock lock(&mu_);
  reassign_failures_.push_back(std::move(status));
}
std::map<std::string, std::string> ScriptedLedger::seals() const {
  absl::MutexLock lock(&mu_);
  return seals_;
}
int ScriptedLedger::reassign_calls() const {
  absl::MutexLock lock(&mu_);
  return reassign_calls_;
}
app::LedgerTenant ScriptedLedger::last_tenant() const {
  absl::MutexLock lock(&mu_);
  return last_tenant_;
}
int ScriptedLedger::unseal_calls() const {
  absl::MutexLock lock(&mu_);
  return unseal_calls_;
}

void DirectoryApiTest::SetUp() {
  auto dir = testing::TempDir::Create("kelola-customer-api");
  ASSERT_TRUE(dir.ok()) << dir.status();
  dir_ = *std::move(dir);
  if (absl::StartsWith(GetParam(), "sqlite")) {
    db_url_ = absl::StrCat("sqlite:", dir_->path(), "/customers.db");
  } else {
    ASSERT_NE(testing::SharedPostgres(), nullptr);
    auto created = testing::SharedPostgres()->CreateUniqueDatabase("customers");
    ASSERT_TRUE(created.ok()) << created.status();
    db_url_ = *created;
  }
  auto db = db::Open(db_url_);
  ASSERT_TRUE(db.ok()) << db.status();
  db_ = *std::move(db);
  ASSERT_TRUE(db::ApplyMigrations(*db_, Migrations()).ok());

  outbox_ = std::make_unique<events::Outbox>(clock_, &notifier_);
  sequencer_ = std::make_unique<events::OutboxSequencer>(*db_, &notifier_);
  sequencer_->Start();
  const uint32_t seed[] = {1, 2, 3, 4};
  ids_ = std::make_unique<ids::IdGenerator>(clock_, seed);
  // Wired as in customer-svc's main: every write keeps its stats row in step.
  store::DirectoryStoreOptions options;
  options.on_customer_written = store::KeepStatsRow;
  options.on_customers_inserted = store::KeepStatsRows;
  // "..._group_commit": writes share commits through a GroupCommitter, as in customer-svc.
  if (absl::EndsWith(GetParam(), "_group_commit")) {
    group_commit_ = std::make_unique<db::GroupCommitter>(*db_);
    options.writer = group_commit_.get();
  }
  store_ = store::NewSqlDirectoryStore(*db_, clock_, *outbox_, options);
  indexes_ = std::make_unique<store::SearchIndexCache>(*db_, clock_);
  query_ = std::make_unique<store::CustomerQuery>(clock_, *indexes_);
  queries_ = std::make_unique<api::CustomerQueryHandlers>(*store_, *query_);
  base_importer_ = std::make_unique<api::CustomerImporter>(*store_, *ids_, phones_, clock_);
  base_exporter_ = std::make_unique<api::CustomerExporter>(*query_, *store_, clock_);
  deletion_ = std::make_unique<app::CustomerDeletion>(*store_, ledger_, *ids_, clock_);
  merges_ = std::make_unique<app::CustomerMergeSaga>(*store_, ledger_, *ids_, clock_);
  customer_service_ = std::make_unique<api::CustomerService>(*store_, clock_, *ids_, phones_,
                                                             *queries_, *base_importer_,
                                                             *base_exporter_, *deletion_, *merges_);
  category_service_ = std::make_unique<api::CategoryServiceImpl>(*store_, *ids_);
  tenant_service_ = std::make_unique<api::TenantServiceImpl>(*store_);
  internal_service_ = std::make_unique<api::CustomerInternalServiceImpl>(*store_);

  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(customer_service_.get());
  builder.RegisterService(category_service_.get());
  builder.RegisterService(tenant_service_.get());
  builder.RegisterService(internal_service_.get());
  server_ = builder.BuildAndStart();
  ASSERT_NE(server_, nullptr);
  ASSERT_GT(port, 0);
  channel_ =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  customers_ = v1::CustomerService::NewStub(channel_);
  categories_ = v1::CategoryService::NewStub(channel_);
  tenants_ = v1::TenantService::NewStub(channel_);
  internal_ = v1::CustomerInternalService::NewStub(channel_);
}

void DirectoryApiTest::TearDown() {
  if (server_ != nullptr) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    server_->Wait();
  }
  if (sequencer_ != nullptr) sequencer_->Stop();
  if (indexes_ != nullptr) indexes_->Stop();
  notifier_.Shutdown();
}

std::unique_ptr<grpc::ClientContext> DirectoryApiTest::Ctx(const std::string& tenant) {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!tenant.empty()) ctx->AddMetadata("x-kelola-tenant", tenant);
  ctx->AddMetadata("x-kelola-principal", "tester");
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  return ctx;
}

grpc::Status DirectoryApiTest::Create(const v1::CreateCustomerRequest& request, v1::Customer* out,
                                      const std::string& tenant) {
  v1::CreateCustomerResponse response;
  grpc::Status status = customers_->CreateCustomer(Ctx(tenant).get(), request, &response);
  if (out != nullptr) *out = response.customer();
  return status;
}

v1::Customer DirectoryApiTest::MustCreate(const std::string& name, const std::string& phone,
                                          const std::string& email, const std::string& tenant) {
  v1::CreateCustomerRequest request;
  request.mutable_customer()->set_display_name(name);
  if (!phone.empty()) request.mutable_customer()->mutable_phone()->set_raw(phone);
  request.mutable_customer()->set_email(email);
  v1::Customer out;
  grpc::Status status = Create(request, &out, tenant);
  EXPECT_TRUE(status.ok()) << status.error_message() << " " << Decode(status);
  return out;
}

void DirectoryApiTest::SetSettings(const v1::TenantSettings& settings,
                                   const std::vector<std::string>& paths,
                                   const std::string& tenant) {
  v1::UpdateTenantSettingsRequest request;
  *request.mutable_settings() = settings;
  for (const auto& p : paths) request.mutable_update_mask()->add_paths(p);
  v1::UpdateTenantSettingsResponse response;
  grpc::Status status = tenants_->UpdateTenantSettings(Ctx(tenant).get(), request, &response);
  ASSERT_TRUE(status.ok()) << Decode(status);
}

int64_t DirectoryApiTest::CountRows(const std::string& sql, const std::vector<db::Value>& params) {
  int64_t n = -1;
  auto numbered = sequencer_->RunOnce();  // the background run may not have come yet
  EXPECT_TRUE(numbered.ok()) << numbered.status();
  absl::Status status = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto row = tx.QueryOne(sql, params);
    if (!row.ok()) return row.status();
    n = row->GetInt(0);
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  return n;
}

int64_t DirectoryApiTest::CountEvents(const std::string& type) {
  return CountRows("SELECT COUNT(*) FROM events WHERE type = ?",
                   {absl::StrCat("kelola.customer.v1.", type)});
}

absl::Status Decode(const grpc::Status& status) { return errors::FromGrpcStatus(status); }

std::vector<std::string> ViolationFields(const grpc::Status& status) {
  std::vector<std::string> out;
  for (const auto& v : errors::Violations(Decode(status))) out.push_back(v.field);
  return out;
}

}  // namespace kelola::customer::testing_support
