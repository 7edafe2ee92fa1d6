#include "tests/ledger-svc/api/ledger_api_fixture.h"

#include <chrono>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "ledger-svc/store/migrations.h"
#include "libs/db/migrations.h"
#include "libs/testing/postgres_environment.h"

namespace kelola::ledger::testing_support {

absl::StatusOr<CustomerCheck> FakeDirectory::CheckForSale(absl::string_view tenant_id,
                                                          absl::string_view customer_id,
                                                          absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  ++calls_;
  if (unavailable_) {
    return errors::Error(absl::StatusCode::kUnavailable, "CUSTOMER_SERVICE_UNAVAILABLE", "down");
  }
  auto it = refusals_.find(std::string(customer_id));
  if (it != refusals_.end()) return it->second;
  return CustomerCheck{categories_[std::string(customer_id)], versions_[std::string(customer_id)]};
}

absl::StatusOr<TenantSettings> FakeDirectory::GetTenantSettings(absl::string_view tenant_id,
                                                                absl::Time deadline) {
  absl::MutexLock lock(&mu_);
  ++settings_calls_;
  if (unavailable_) {
    return errors::Error(absl::StatusCode::kUnavailable, "CUSTOMER_SERVICE_UNAVAILABLE", "down");
  }
  auto it = tenants_.find(std::string(tenant_id));
  if (it != tenants_.end()) return it->second;
  return TenantSettings{"IDR", "Asia/Jakarta"};
}

void FakeDirectory::SetTenantSettings(const std::string& tenant, TenantSettings settings) {
  absl::MutexLock lock(&mu_);
  tenants_[tenant] = std::move(settings);
}

int FakeDirectory::settings_calls() const {
  absl::MutexLock lock(&mu_);
  return settings_calls_;
}

void FakeDirectory::Refuse(const std::string& id, absl::Status status) {
  absl::MutexLock lock(&mu_);
  refusals_[id] = std::move(status);
}

void FakeDirectory::SetCategory(const std::string& id, const std::string& category) {
  absl::MutexLock lock(&mu_);
  categories_[id] = category;
}

void FakeDirectory::SetVersion(const std::string& id, int64_t version) {
  absl::MutexLock lock(&mu_);
  versions_[id] = version;
}

void FakeDirectory::SetUnavailable(bool v) {
  absl::MutexLock lock(&mu_);
  unavailable_ = v;
}

int FakeDirectory::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

type::v1::Money Idr(int64_t amount) {
  type::v1::Money m;
  m.set_amount_minor(amount);
  m.set_currency_code("IDR");
  return m;
}

google::protobuf::Timestamp Ts(absl::Time t) {
  google::protobuf::Timestamp ts;
  ts.set_seconds(absl::ToUnixSeconds(t));
  return ts;
}

Err Decode(const grpc::Status& status) {
  absl::Status s = errors::FromGrpcStatus(status);
  Err e;
  e.code = status.error_code();
  e.reason = errors::Reason(s);
  e.metadata = errors::GetMetadata(s);
  for (const auto& v : errors::Violations(s)) e.fields.insert(v.field);
  google::rpc::Status details;
  if (details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info)) e.domain = info.domain();
    }
  }
  return e;
}

void LedgerApiTest::SetUp() {
  auto dir = testing::TempDir::Create("kelola-ledger");
  ASSERT_TRUE(dir.ok()) << dir.status();
  dir_ = *std::move(dir);
  if (absl::StartsWith(GetParam(), "sqlite")) {
    url_ = absl::StrCat("sqlite:", dir_->path(), "/ledger.db");
  } else {
    ASSERT_NE(testing::SharedPostgres(), nullptr);
    auto created = testing::SharedPostgres()->CreateUniqueDatabase("ledger");
    ASSERT_TRUE(created.ok()) << created.status();
    url_ = *created;
  }
  Start();
}

void LedgerApiTest::TearDown() { Stop(); }

void LedgerApiTest::Start() {
  db::DatabaseOptions options;
  auto db = db::Open(url_, options);
  ASSERT_TRUE(db.ok()) << db.status();
  db_ = *std::move(db);
  ASSERT_TRUE(db::ApplyMigrations(*db_, Migrations()).ok());
  sequencer_ = std::make_unique<events::OutboxSequencer>(*db_, &notifier_);
  sequencer_->Start();
  group_commit_.reset();
  if (absl::EndsWith(GetParam(), "_group_commit")) {
    group_commit_ = std::make_unique<db::GroupCommitter>(*db_);
  }
  ledger_core_ = std::make_unique<LedgerCore>(*db_, clock_, ids_, &notifier_, group_commit_.get());
  ledger_core_->store.set_max_page_bytes(max_page_bytes_);
  tenants_ = std::make_unique<TenantSettingsCache>(directory_, clock_, &ledger_core_->store);
  service_ = std::make_unique<LedgerServiceImpl>(ledger_core_->store, ledger_core_->app, directory_,
                                                 *tenants_, clock_);
  internal_service_ =
      std::make_unique<LedgerInternalServiceImpl>(ledger_core_->app.customer_protocols, *tenants_);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(service_.get());
  builder.RegisterService(internal_service_.get());
  server_ = builder.BuildAndStart();
  ASSERT_NE(server_, nullptr);
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  ledger_ = v1::LedgerService::NewStub(channel);
  internal_ = v1::LedgerInternalService::NewStub(channel);
}

void LedgerApiTest::Stop() {
  if (server_) {
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    server_->Wait();
  }
  server_.reset();
  ledger_.reset();
  internal_.reset();
  internal_service_.reset();
  service_.reset();
  tenants_.reset();
  ledger_core_.reset();
  group_commit_.reset();
  sequencer_.reset();
  db_.reset();
}

std::unique_ptr<grpc::ClientContext> LedgerApiTest::Ctx(const std::string& tenant) const {
  auto ctx = std::make_unique<grpc::ClientContext>();
  if (!tenant.empty()) ctx->AddMetadata("x-kelola-tenant", tenant);
  ctx->AddMetadata("x-kelola-principal", principal_);
  ctx->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  return ctx;
}

v1::RecordSaleRequest LedgerApiTest::SaleRequest(const std::string& request_id,
                                                 const std::string& customer, int64_t total,
                                                 int64_t paid) {
  v1::RecordSaleRequest r;
  r.set_request_id(request_id);
  r.set_customer_id(customer);
  r.set_store_id("store-1");
  auto* item = r.add_items();
  item->set_sku("SKU-1");
  item->set_name("Beras 5kg");
  item->set_quantity_milli(1000);
  *item->mutable_unit_price() = Idr(total);
  *r.mutable_total() = Idr(total);
  if (paid > 0) {
    *r.mutable_amount_paid_now() = Idr(paid);
    r.set_payment_method(v1::PAYMENT_METHOD_CASH);
  }
  return r;
}

grpc::Status LedgerApiTest::TrySale(const std::string& request_id, const std::string& customer,
                                    int64_t total, int64_t paid, v1::RecordSaleResponse* resp,
                                    const std::string& tenant) {
  v1::RecordSaleResponse ignored;
  auto ctx = Ctx(tenant);
  return ledger_->RecordSale(ctx.get(), SaleRequest(request_id, customer, total, paid),
                             resp != nullptr ? resp : &ignored);
}

v1::RecordSaleResponse LedgerApiTest::Sale(const std::string& request_id,
                                           const std::string& customer, int64_t total, int64_t paid,
                                           const std::string& tenant) {
  v1::RecordSaleResponse resp;
  grpc::Status s = TrySale(request_id, customer, total, paid, &resp, tenant);
  EXPECT_TRUE(s.ok()) << request_id << ": " << s.error_message();
  clock_.Advance(absl::Minutes(1));  // distinct times, for ordering
  return resp;
}

v1::RecordSaleResponse LedgerApiTest::SaleAt(const std::string& request_id,
                                             const std::string& customer, int64_t total,
                                             int64_t paid, absl::Time sale_time) {
  v1::RecordSaleRequest r = SaleRequest(request_id, customer, total, paid);
  *r.mutable_sale_time() = Ts(sale_time);
  v1::RecordSaleResponse resp;
  auto ctx = Ctx();
  grpc::Status s = ledger_->RecordSale(ctx.get(), r, &resp);
  EXPECT_TRUE(s.ok()) << request_id << ": " << s.error_message();
  return resp;
}

grpc::Status LedgerApiTest::VoidSale(const std::string& request_id, const std::string& sale_id,
                                     const std::string& reason, v1::VoidSaleResponse* resp,
                                     bool release_payments_as_credit) {
  v1::VoidSaleRequest r;
  r.set_request_id(request_id);
  r.set_sale_id(sale_id);
  r.set_reason(reason);
  r.set_release_payments_as_credit(release_payments_as_credit);
  v1::VoidSaleResponse ignored;
  auto ctx = Ctx();
  return ledger_->VoidSale(ctx.get(), r, resp != nullptr ? resp : &ignored);
}

grpc::Status LedgerApiTest::VoidPayment(const std::string& request_id,
                                        const std::string& payment_id, const std::string& reason,
                                        v1::VoidPaymentResponse* resp) {
  v1::VoidPaymentRequest r;
  r.set_request_id(request_id);
  r.set_payment_id(payment_id);
  r.set_reason(reason);
  v1::VoidPaymentResponse ignored;
  auto ctx = Ctx();
  return ledger_->VoidPayment(ctx.get(), r, resp != nullptr ? resp : &ignored);
}

grpc::Status LedgerApiTest::Pay(const std::string& request_id, const std::string& customer,
                                int64_t amount, v1::RecordPaymentResponse* resp, bool keep_excess,
                                std::vector<std::pair<std::string, int64_t>> allocations) {
  v1::RecordPaymentRequest r;
  r.set_request_id(request_id);
  r.set_customer_id(customer);
  *r.mutable_amount() = Idr(amount);
  r.set_method(v1::PAYMENT_METHOD_QRIS);
  r.set_keep_excess_as_credit(keep_excess);
  for (const auto& [sale, a] : allocations) {
    auto* t = r.add_allocations();
    t->set_sale_id(sale);
    *t->mutable_amount() = Idr(a);
  }
  v1::RecordPaymentResponse ignored;
  auto ctx = Ctx();
  grpc::Status s = ledger_->RecordPayment(ctx.get(), r, resp != nullptr ? resp : &ignored);
  clock_.Advance(absl::Minutes(1));
  return s;
}

v1::CustomerBalance LedgerApiTest::Balance(const std::string& customer, const std::string& tenant) {
  v1::GetBalanceRequest r;
  r.set_customer_id(customer);
  v1::GetBalanceResponse resp;
  auto ctx = Ctx(tenant);
  grpc::Status s = ledger_->GetBalance(ctx.get(), r, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.balance();
}

v1::CustomerLedgerStats LedgerApiTest::Stats(const std::string& customer,
                                             const std::string& tenant) {
  v1::GetCustomerLedgerStatsRequest r;
  r.set_customer_id(customer);
  v1::GetCustomerLedgerStatsResponse resp;
  auto ctx = Ctx(tenant);
  grpc::Status s = ledger_->GetCustomerLedgerStats(ctx.get(), r, &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return resp.stats();
}

std::vector<type::v1::Event> LedgerApiTest::Events() {
  std::vector<type::v1::Event> out;
  auto numbered = sequencer_->RunOnce();  // the background run may not have come yet
  EXPECT_TRUE(numbered.ok()) << numbered.status();
  absl::Status s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto events = events::ReadEvents(tx, 0, 10000);
    if (!events.ok()) return events.status();
    out = *std::move(events);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

}  // namespace kelola::ledger::testing_support
