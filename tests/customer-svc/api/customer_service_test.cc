// CustomerService through gRPC against SQLite and PostgreSQL: create/get/update, validation,
// idempotency, duplicates (also under concurrency), limits, tenancy, archive/restore,
// consent, erasure, data export, upcoming birthdays and price quotes.

#include <atomic>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "customer-svc/api/handler_support.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "tests/customer-svc/api/api_fixture.h"

namespace kelola::customer::testing_support {
namespace {

using ::testing::Contains;
using ::testing::UnorderedElementsAre;

class CustomerServiceTest : public DirectoryApiTest {};

TEST_P(CustomerServiceTest, CreateNormalizesAndGetReturnsIt) {
  v1::CreateCustomerRequest request;
  auto* c = request.mutable_customer();
  c->set_display_name("  Budi  Santoso ");
  c->mutable_phone()->set_raw("0812-3456-789");
  c->add_additional_phones()->set_raw("+62 811 2222 333");
  c->set_email("Budi@Example.co.id");
  c->set_notes("suka kopi\nbayar akhir bulan");
  c->mutable_birthday()->set_month(8);
  c->mutable_birthday()->set_day(17);
  v1::Customer created;
  ASSERT_TRUE(Create(request, &created).ok());
  EXPECT_EQ(created.display_name(), "Budi Santoso");
  EXPECT_EQ(created.phone().e164(), "+628123456789");
  EXPECT_EQ(created.phone().raw(), "0812-3456-789");
  EXPECT_EQ(created.email(), "budi@example.co.id");
  EXPECT_EQ(created.state(), v1::CUSTOMER_STATE_ACTIVE);
  EXPECT_EQ(created.etag(), "v1");
  EXPECT_EQ(created.customer_id().size(), 36u);

  v1::GetCustomerRequest get;
  get.set_customer_id(created.customer_id());
  v1::GetCustomerResponse got;
  ASSERT_TRUE(customers_->GetCustomer(Ctx().get(), get, &got).ok());
  // A read carries the projected ledger stats (none yet: zeros in the tenant's currency).
  ASSERT_TRUE(got.customer().has_stats());
  EXPECT_EQ(got.customer().stats().balance().amount_minor(), 0);
  EXPECT_EQ(got.customer().stats().balance().currency_code(), "IDR");
  v1::Customer read = got.customer();
  read.clear_stats();
  EXPECT_EQ(read.SerializeAsString(), created.SerializeAsString());

  // Index columns the search component relies on.
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers WHERE name_folded = ? AND "
                      "name_sort_key <> '' AND birthday_month = 8",
                      {std::string("budi santoso")}),
            1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_phones WHERE customer_id = ?",
                      {created.customer_id()}),
            2);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_phones WHERE national_number = "
                      "'8123456789' AND e164_dedupe = '+628123456789'"),
            1);
  EXPECT_EQ(CountEvents("CustomerCreated"), 1);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM events WHERE aggregate_id = ? AND "
                      "aggregate_version = 1",
                      {created.customer_id()}),
            1);
}

TEST_P(CustomerServiceTest, EveryInvalidFieldIsNamedAndNothingIsWritten) {
  v1::CreateCustomerRequest request;
  auto* c = request.mutable_customer();
  c->set_display_name("   ");
  c->mutable_phone()->set_raw("0812-ABC-DEF");
  c->set_email("not-an-email");
  c->mutable_birthday()->set_year(1990);
  c->mutable_birthday()->set_month(2);
  c->mutable_birthday()->set_day(30);
  c->set_notes(std::string(4001, 'n'));
  c->set_category_id("no-such-category");
  request.set_customer_id("not-a-uuid");
  grpc::Status status = Create(request);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  // The request-level field is refused first; then the customer's fields.
  EXPECT_THAT(ViolationFields(status), Contains("customer_id"));

  request.clear_customer_id();
  status = Create(request);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolationFields(status),
              UnorderedElementsAre("customer.display_name", "customer.phone.raw", "customer.email",
                                   "customer.birthday", "customer.notes", "customer.category_id"));
  EXPECT_EQ(errors::Reason(Decode(status)), "INVALID_ARGUMENT");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers"), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_phones"), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM events WHERE aggregate_type = 'customer'"), 0);
}

TEST_P(CustomerServiceTest, RetryWithRequestIdReturnsTheOriginalResponse) {
  v1::CreateCustomerRequest request;
  request.mutable_customer()->set_display_name("Siti");
  request.mutable_customer()->mutable_phone()->set_raw("0813 1111 2222");
  request.set_request_id("req-1");
  v1::Customer first, second;
  ASSERT_TRUE(Create(request, &first).ok());
  clock_.Advance(absl::Seconds(5));
  ASSERT_TRUE(Create(request, &second).ok());
  EXPECT_EQ(first.SerializeAsString(), second.SerializeAsString());
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers"), 1);
  EXPECT_EQ(CountEvents("CustomerCreated"), 1);

  request.mutable_customer()->set_display_name("Siti Aminah");
  grpc::Status reused = Create(request);
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(errors::Reason(Decode(reused)), "REQUEST_ID_REUSED");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers"), 1);
}

TEST_P(CustomerServiceTest, ClientSuppliedIdIsIdempotent) {
  const std::string id = "0190A3B2-7C4E-7D21-8F3A-1B2C3D4E5F60";
  v1::CreateCustomerRequest request;
  request.set_customer_id(id);
  request.mutable_customer()->set_display_name("Offline Customer");
  v1::Customer first, again;
  ASSERT_TRUE(Create(request, &first).ok());
  EXPECT_EQ(first.customer_id(), "0190a3b2-7c4e-7d21-8f3a-1b2c3d4e5f60");
  ASSERT_TRUE(Create(request, &again).ok());
  EXPECT_EQ(first.SerializeAsString(), again.SerializeAsString());

  request.mutable_customer()->set_display_name("Someone Else");
  grpc::Status reused = Create(request);
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(errors::Reason(Decode(reused)), "REQUEST_ID_REUSED");
  EXPECT_EQ(errors::GetMetadata(Decode(reused))["field"], "customer_id");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers"), 1);
}

TEST_P(CustomerServiceTest, DuplicatePhoneOrEmailNamesTheExistingCustomer) {
  v1::Customer budi = MustCreate("Budi", "0812-3456-789", "budi@example.com");

  // The same phone typed another way, as an additional phone.
  v1::CreateCustomerRequest request;
  request.mutable_customer()->set_display_name("Budi Lagi");
  request.mutable_customer()->add_additional_phones()->set_raw("+62 812 3456 789");
  grpc::Status dup = Create(request);
  ASSERT_EQ(dup.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  auto decoded = Decode(dup);
  EXPECT_EQ(errors::Reason(decoded), "CUSTOMER_DUPLICATE");
  EXPECT_EQ(errors::GetMetadata(decoded)["existing_customer_id"], budi.customer_id());
  EXPECT_EQ(errors::GetMetadata(decoded)["field"], "customer.additional_phones[0]");

  // E-mail, case-insensitively.
  v1::CreateCustomerRequest by_email;
  by_email.mutable_customer()->set_display_name("Other");
  by_email.mutable_customer()->set_email("BUDI@example.COM");
  dup = Create(by_email);
  ASSERT_EQ(dup.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(errors::GetMetadata(Decode(dup))["field"], "customer.email");

  // Explicitly allowed.
  request.set_allow_duplicate(true);
  v1::Customer twin;
  ASSERT_TRUE(Create(request, &twin).ok());

  // An update that takes another customer's phone.
  v1::Customer ani = MustCreate("Ani", "0815 5555 6666");
  v1::UpdateCustomerRequest update;
  update.mutable_customer()->set_customer_id(ani.customer_id());
  update.mutable_customer()->mutable_phone()->set_raw("0812 3456 789");
  update.mutable_update_mask()->add_paths("phone");
  v1::UpdateCustomerResponse updated;
  dup = customers_->UpdateCustomer(Ctx().get(), update, &updated);
  ASSERT_EQ(dup.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(errors::GetMetadata(Decode(dup))["existing_customer_id"], budi.customer_id());
}

TEST_P(CustomerServiceTest, ArchiveFreesPhoneAndRestoreChecksIt) {
  v1::Customer budi = MustCreate("Budi", "0812-3456-789");
  v1::ArchiveCustomerRequest archive;
  archive.set_customer_id(budi.customer_id());
  archive.set_etag("v1");
  v1::ArchiveCustomerResponse archived;
  ASSERT_TRUE(customers_->ArchiveCustomer(Ctx().get(), archive, &archived).ok());
  EXPECT_EQ(archived.customer().state(), v1::CUSTOMER_STATE_ARCHIVED);
  EXPECT_TRUE(archived.customer().has_archive_time());
  // Archiving again: no change, no event.
  archive.clear_etag();
  ASSERT_TRUE(customers_->ArchiveCustomer(Ctx().get(), archive, &archived).ok());
  EXPECT_EQ(CountEvents("CustomerArchived"), 1);

  v1::Customer newcomer = MustCreate("Budi Baru", "0812 3456 789");
  v1::RestoreCustomerRequest restore;
  restore.set_customer_id(budi.customer_id());
  v1::RestoreCustomerResponse restored;
  grpc::Status conflict = customers_->RestoreCustomer(Ctx().get(), restore, &restored);
  ASSERT_EQ(conflict.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(errors::GetMetadata(Decode(conflict))["existing_customer_id"], newcomer.customer_id());

  v1::ArchiveCustomerRequest archive_newcomer;
  archive_newcomer.set_customer_id(newcomer.customer_id());
  ASSERT_TRUE(customers_->ArchiveCustomer(Ctx().get(), archive_newcomer, &archived).ok());
  ASSERT_TRUE(customers_->RestoreCustomer(Ctx().get(), restore, &restored).ok());
  EXPECT_EQ(restored.customer().state(), v1::CUSTOMER_STATE_ACTIVE);
  EXPECT_FALSE(restored.customer().has_archive_time());
  EXPECT_EQ(CountEvents("CustomerRestored"), 1);
}

TEST_P(CustomerServiceTest, ConcurrentCreatesOfOnePhoneLetExactlyOneWin) {
  constexpr int kThreads = 8;
  std::atomic<int> ok{0}, duplicate{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      v1::CreateCustomerRequest request;
      request.mutable_customer()->set_display_name(absl::StrCat("Racer ", i));
      request.mutable_customer()->mutable_phone()->set_raw(i % 2 ? "0812-9999-0000"
                                                                 : "+62 812 9999 0000");
      grpc::Status s = Create(request);
      if (s.ok()) {
        ok++;
      } else if (s.error_code() == grpc::StatusCode::ALREADY_EXISTS &&
                 errors::Reason(Decode(s)) == "CUSTOMER_DUPLICATE") {
        duplicate++;
      } else {
        other++;
        ADD_FAILURE() << s.error_message() << " " << Decode(s);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(duplicate.load(), kThreads - 1);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers"), 1);
}

TEST_P(CustomerServiceTest, UpdateWithFieldMaskAndEtag) {
  v1::Customer budi = MustCreate("Budi", "0812-3456-789");
  v1::UpdateCustomerRequest update;
  update.mutable_customer()->set_customer_id(budi.customer_id());
  update.mutable_customer()->set_etag("v1");
  update.mutable_customer()->set_display_name("Budi Santoso");
  update.mutable_customer()->set_notes("not in the mask");
  update.mutable_update_mask()->add_paths("display_name");
  v1::UpdateCustomerResponse updated;
  ASSERT_TRUE(customers_->UpdateCustomer(Ctx().get(), update, &updated).ok());
  EXPECT_EQ(updated.customer().display_name(), "Budi Santoso");
  EXPECT_EQ(updated.customer().notes(), "");
  EXPECT_EQ(updated.customer().phone().e164(), "+628123456789");
  EXPECT_EQ(updated.customer().etag(), "v2");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers WHERE name_folded = 'budi santoso'"), 1);

  // Stale etag.
  update.mutable_customer()->set_display_name("Budi S.");
  grpc::Status stale = customers_->UpdateCustomer(Ctx().get(), update, &updated);
  ASSERT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(errors::Reason(Decode(stale)), "ETAG_MISMATCH");
  EXPECT_EQ(errors::GetMetadata(Decode(stale))["current_etag"], "v2");

  // Same values again: no change, same etag, no event.
  update.mutable_customer()->set_etag("v2");
  update.mutable_customer()->set_display_name("Budi Santoso");
  ASSERT_TRUE(customers_->UpdateCustomer(Ctx().get(), update, &updated).ok());
  EXPECT_EQ(updated.customer().etag(), "v2");
  EXPECT_EQ(CountEvents("CustomerUpdated"), 1);

  // Output-only and unknown paths.
  update.mutable_update_mask()->add_paths("state");
  grpc::Status bad_mask = customers_->UpdateCustomer(Ctx().get(), update, &updated);
  ASSERT_EQ(bad_mask.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(errors::Reason(Decode(bad_mask)), "INVALID_UPDATE_MASK");

  // Invalid values: named, nothing written.
  v1::UpdateCustomerRequest invalid;
  invalid.mutable_customer()->set_customer_id(budi.customer_id());
  invalid.mutable_customer()->set_email("x@");
  invalid.mutable_update_mask()->add_paths("display_name");
  invalid.mutable_update_mask()->add_paths("email");
  grpc::Status refused = customers_->UpdateCustomer(Ctx().get(), invalid, &updated);
  ASSERT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolationFields(refused),
              UnorderedElementsAre("customer.display_name", "customer.email"));
  EXPECT_EQ(CountRows("SELECT version FROM customers"), 2);

  // Unknown customer.
  v1::UpdateCustomerRequest missing;
  missing.mutable_customer()->set_customer_id("0190a3b2-7c4e-7d21-8f3a-000000000001");
  missing.mutable_customer()->set_display_name("X");
  missing.mutable_update_mask()->add_paths("display_name");
  EXPECT_EQ(customers_->UpdateCustomer(Ctx().get(), missing, &updated).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_P(CustomerServiceTest, CategoryChangeEmitsItsEvent) {
  v1::Customer budi = MustCreate("Budi");
  v1::UpdateCustomerRequest update;
  update.mutable_customer()->set_customer_id(budi.customer_id());
  update.mutable_customer()->set_category_id("vip");
  update.mutable_update_mask()->add_paths("category_id");
  v1::UpdateCustomerResponse updated;
  ASSERT_TRUE(customers_->UpdateCustomer(Ctx().get(), update, &updated).ok());
  EXPECT_EQ(updated.customer().category_id(), "vip");
  EXPECT_EQ(CountEvents("CustomerCategoryChanged"), 1);
  update.mutable_customer()->set_category_id("nope");
  grpc::Status unknown = customers_->UpdateCustomer(Ctx().get(), update, &updated);
  ASSERT_EQ(unknown.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolationFields(unknown), UnorderedElementsAre("customer.category_id"));
}

TEST_P(CustomerServiceTest, CustomerLimitCountsActiveAndArchived) {
  v1::TenantSettings settings;
  settings.set_customer_limit(2);
  SetSettings(settings, {"customer_limit"});
  v1::Customer a = MustCreate("A");
  MustCreate("B");
  v1::ArchiveCustomerRequest archive;
  archive.set_customer_id(a.customer_id());
  v1::ArchiveCustomerResponse archived;
  ASSERT_TRUE(customers_->ArchiveCustomer(Ctx().get(), archive, &archived).ok());
  v1::CreateCustomerRequest request;
  request.mutable_customer()->set_display_name("C");
  grpc::Status full = Create(request);
  ASSERT_EQ(full.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(errors::Reason(Decode(full)), "CUSTOMER_LIMIT_REACHED");
  EXPECT_EQ(errors::GetMetadata(Decode(full))["limit"], "2");
  EXPECT_TRUE(absl::StrContains(full.error_message(), "2"));

  // Erased customers do not count.
  v1::EraseCustomerRequest erase;
  erase.set_customer_id(a.customer_id());
  v1::EraseCustomerResponse erased;
  ASSERT_TRUE(customers_->EraseCustomer(Ctx().get(), erase, &erased).ok());
  EXPECT_TRUE(Create(request).ok());

  // Other tenants have their own limit.
  MustCreate("D", "", "", "t2");
  MustCreate("E", "", "", "t2");
  MustCreate("F", "", "", "t2");
}

TEST_P(CustomerServiceTest, ConcurrentCreatesRespectTheLimit) {
  v1::TenantSettings settings;
  settings.set_customer_limit(3);
  SetSettings(settings, {"customer_limit"});
  std::atomic<int> ok{0}, exhausted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      v1::CreateCustomerRequest request;
      request.mutable_customer()->set_display_name(absl::StrCat("C", i));
      grpc::Status s = Create(request);
      if (s.ok()) ok++;
      if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) exhausted++;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 3);
  EXPECT_EQ(exhausted.load(), 5);
}

TEST_P(CustomerServiceTest, TenantsAreIsolated) {
  v1::Customer budi = MustCreate("Budi", "0812-3456-789", "budi@example.com", "t1");
  // The same phone and e-mail are no duplicate in another tenant.
  MustCreate("Budi", "0812-3456-789", "budi@example.com", "t2");
  v1::GetCustomerRequest get;
  get.set_customer_id(budi.customer_id());
  v1::GetCustomerResponse got;
  grpc::Status foreign = customers_->GetCustomer(Ctx("t2").get(), get, &got);
  ASSERT_EQ(foreign.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(errors::Reason(Decode(foreign)), "CUSTOMER_NOT_FOUND");
  v1::ArchiveCustomerRequest archive;
  archive.set_customer_id(budi.customer_id());
  v1::ArchiveCustomerResponse archived;
  EXPECT_EQ(customers_->ArchiveCustomer(Ctx("t2").get(), archive, &archived).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(customers_->GetCustomer(Ctx("").get(), get, &got).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);

  v1::BatchGetCustomersRequest batch;
  batch.add_customer_ids(budi.customer_id());
  batch.add_customer_ids("0190a3b2-7c4e-7d21-8f3a-00000000abcd");
  batch.add_customer_ids(budi.customer_id());
  batch.set_allow_missing(true);
  v1::BatchGetCustomersResponse many;
  ASSERT_TRUE(customers_->BatchGetCustomers(Ctx().get(), batch, &many).ok());
  EXPECT_EQ(many.customers_size(), 2);
  EXPECT_EQ(many.missing_customer_ids_size(), 1);
  batch.set_allow_missing(false);
  EXPECT_EQ(customers_->BatchGetCustomers(Ctx().get(), batch, &many).error_code(),
            grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(customers_
                  ->BatchGetCustomers(
                      Ctx("t2").get(),
                      [&] {
                        auto b = batch;
                        b.set_allow_missing(true);
                        return b;
                      }(),
                      &many)
                  .ok());
  EXPECT_EQ(many.customers_size(), 0);

  v1::BatchGetCustomersRequest too_many;
  for (int i = 0; i < 101; ++i) too_many.add_customer_ids(budi.customer_id());
  grpc::Status limit = customers_->BatchGetCustomers(Ctx().get(), too_many, &many);
  EXPECT_EQ(limit.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(errors::Reason(Decode(limit)), "TOO_MANY_ITEMS");
}

TEST_P(CustomerServiceTest, ConsentHistoryAndErasure) {
  v1::CreateCustomerRequest request;
  request.set_request_id("create-siti");
  auto* c = request.mutable_customer();
  c->set_display_name("Siti Rahayu");
  c->mutable_phone()->set_raw("0812-3456-789");
  c->set_email("siti@example.com");
  c->set_notes("alergi kacang");
  c->mutable_address()->set_text("Jl. Melati 5");
  c->mutable_birthday()->set_month(3);
  c->mutable_birthday()->set_day(3);
  v1::Customer siti;
  ASSERT_TRUE(Create(request, &siti).ok());

  v1::SetMarketingConsentRequest consent;
  consent.set_customer_id(siti.customer_id());
  consent.set_state(v1::MARKETING_CONSENT_STATE_GRANTED);
  consent.set_source("in_store_form");
  v1::SetMarketingConsentResponse consented;
  ASSERT_TRUE(customers_->SetMarketingConsent(Ctx().get(), consent, &consented).ok());
  EXPECT_EQ(consented.customer().marketing_consent().state(), v1::MARKETING_CONSENT_STATE_GRANTED);
  clock_.Advance(absl::Minutes(1));
  consent.set_state(v1::MARKETING_CONSENT_STATE_WITHDRAWN);
  consent.set_source("whatsapp_reply");
  ASSERT_TRUE(customers_->SetMarketingConsent(Ctx().get(), consent, &consented).ok());
  EXPECT_EQ(consented.customer().marketing_consent().state(),
            v1::MARKETING_CONSENT_STATE_WITHDRAWN);
  EXPECT_EQ(CountRows("SELECT consent_granted FROM customers"), 0);
  EXPECT_EQ(CountEvents("CustomerMarketingConsentChanged"), 2);

  v1::SetMarketingConsentRequest bad;
  bad.set_customer_id(siti.customer_id());
  *bad.mutable_consent_time() = api::ToProto(clock_.Now() + absl::Hours(1));
  grpc::Status refused = customers_->SetMarketingConsent(Ctx().get(), bad, &consented);
  EXPECT_THAT(ViolationFields(refused), UnorderedElementsAre("state", "source", "consent_time"));

  v1::ExportCustomerDataRequest export_request;
  export_request.set_customer_id(siti.customer_id());
  v1::ExportCustomerDataResponse exported;
  ASSERT_TRUE(customers_->ExportCustomerData(Ctx().get(), export_request, &exported).ok());
  EXPECT_EQ(exported.content_type(), "application/json");
  EXPECT_TRUE(absl::StrContains(exported.data(), "Siti Rahayu"));
  EXPECT_TRUE(absl::StrContains(exported.data(), "whatsapp_reply"));
  EXPECT_TRUE(absl::StrContains(exported.data(), "\"consent_history\":[{"));
  EXPECT_TRUE(absl::StrContains(exported.data(), "CustomerCreated"));
  google::protobuf::Struct document;  // valid JSON with the documented keys
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(exported.data(), &document).ok())
      << exported.data();
  for (const char* key : {"customer", "consent_history", "merged_customers", "merge_operations",
                          "events", "generate_time"}) {
    EXPECT_TRUE(document.fields().contains(key)) << key;
  }
  EXPECT_EQ(document.fields().at("consent_history").list_value().values_size(), 2);

  v1::EraseCustomerRequest erase;
  erase.set_customer_id(siti.customer_id());
  erase.set_reason("PDP request 2026-1");
  v1::EraseCustomerResponse erased;
  ASSERT_TRUE(customers_->EraseCustomer(Ctx().get(), erase, &erased).ok());
  EXPECT_EQ(erased.customer().state(), v1::CUSTOMER_STATE_ERASED);
  EXPECT_EQ(erased.customer().customer_id(), siti.customer_id());
  EXPECT_TRUE(erased.customer().display_name().empty());
  EXPECT_FALSE(erased.customer().has_phone());
  EXPECT_TRUE(erased.customer().email().empty());
  EXPECT_TRUE(erased.customer().has_erase_time());
  EXPECT_EQ(CountEvents("CustomerErased"), 1);
  // Erasing again changes nothing.
  ASSERT_TRUE(customers_->EraseCustomer(Ctx().get(), erase, &erased).ok());
  EXPECT_EQ(CountEvents("CustomerErased"), 1);

  // Nothing personal is left anywhere in the database: rows, phones, consent history,
  // event payloads, remembered responses.
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_phones"), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM consent_history"), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers WHERE display_name <> '' OR "
                      "email_normalized IS NOT NULL OR birthday_month IS NOT NULL OR "
                      "name_folded <> ''"),
            0);
  int64_t leaks = 0;
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
                   for (const char* sql :
                        {"SELECT payload FROM events", "SELECT response FROM idempotency_keys",
                         "SELECT data FROM customers"}) {
                     auto rows = tx.Query(sql);
                     if (!rows.ok()) return rows.status();
                     for (const auto& row : *rows) {
                       const std::string bytes = row.GetBytes(0);
                       for (const char* pii : {"Siti", "8123456789", "siti@example.com", "kacang",
                                               "Melati", "whatsapp_reply"}) {
                         if (absl::StrContains(bytes, pii)) ++leaks;
                       }
                     }
                   }
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(leaks, 0);

  // The id still answers (for the ledger), the retried create returns no personal data,
  // the phone is free again, and erased customers cannot be edited.
  v1::GetCustomerRequest get;
  get.set_customer_id(siti.customer_id());
  v1::GetCustomerResponse got;
  ASSERT_TRUE(customers_->GetCustomer(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.customer().state(), v1::CUSTOMER_STATE_ERASED);
  v1::Customer replay;
  ASSERT_TRUE(Create(request, &replay).ok());
  EXPECT_TRUE(replay.display_name().empty());
  MustCreate("Pemilik Baru", "0812-3456-789", "siti@example.com");
  v1::UpdateCustomerRequest update;
  update.mutable_customer()->set_customer_id(siti.customer_id());
  update.mutable_customer()->set_display_name("Siti");
  update.mutable_update_mask()->add_paths("display_name");
  v1::UpdateCustomerResponse updated;
  grpc::Status erased_update = customers_->UpdateCustomer(Ctx().get(), update, &updated);
  EXPECT_EQ(erased_update.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(errors::Reason(Decode(erased_update)), "CUSTOMER_ERASED");
  ASSERT_TRUE(customers_->ExportCustomerData(Ctx().get(), export_request, &exported).ok());
  EXPECT_FALSE(absl::StrContains(exported.data(), "Siti"));
}

v1::Customer WithBirthday(v1::Customer c, int year, int month, int day) {
  c.mutable_birthday()->set_year(year);
  c.mutable_birthday()->set_month(month);
  c.mutable_birthday()->set_day(day);
  return c;
}

TEST_P(CustomerServiceTest, UpcomingBirthdaysWrapAroundTheYearEnd) {
  // 2026-12-28 10:00 in Jakarta.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2026, 12, 28, 3, 0, 0), absl::UTCTimeZone()));
  auto create = [&](const std::string& name, int y, int m, int d) {
    v1::CreateCustomerRequest r;
    *r.mutable_customer() = WithBirthday(v1::Customer(), y, m, d);
    r.mutable_customer()->set_display_name(name);
    v1::Customer out;
    EXPECT_TRUE(Create(r, &out).ok());
    return out;
  };
  create("Today", 1990, 12, 28);
  create("New Year", 2000, 1, 1);
  create("Third", 0, 1, 3);
  create("Too Late", 0, 1, 4);
  create("Yesterday", 0, 12, 27);
  v1::Customer archived = create("Archived", 0, 12, 29);
  v1::ArchiveCustomerRequest archive;
  archive.set_customer_id(archived.customer_id());
  v1::ArchiveCustomerResponse ar;
  ASSERT_TRUE(customers_->ArchiveCustomer(Ctx().get(), archive, &ar).ok());

  v1::ListUpcomingBirthdaysRequest request;
  request.set_days(7);
  request.set_page_size(2);
  v1::ListUpcomingBirthdaysResponse page;
  ASSERT_TRUE(customers_->ListUpcomingBirthdays(Ctx().get(), request, &page).ok());
  EXPECT_EQ(page.total_size(), 3);
  ASSERT_EQ(page.birthdays_size(), 2);
  EXPECT_EQ(page.birthdays(0).customer().display_name(), "Today");
  EXPECT_EQ(page.birthdays(0).days_until(), 0);
  EXPECT_EQ(page.birthdays(0).turning_age(), 36);
  EXPECT_EQ(page.birthdays(1).customer().display_name(), "New Year");
  EXPECT_EQ(page.birthdays(1).next_birthday().year(), 2027);
  EXPECT_EQ(page.birthdays(1).days_until(), 4);
  EXPECT_EQ(page.birthdays(1).turning_age(), 27);
  ASSERT_FALSE(page.next_page_token().empty());
  request.set_page_token(page.next_page_token());
  ASSERT_TRUE(customers_->ListUpcomingBirthdays(Ctx().get(), request, &page).ok());
  ASSERT_EQ(page.birthdays_size(), 1);
  EXPECT_EQ(page.birthdays(0).customer().display_name(), "Third");
  EXPECT_TRUE(page.next_page_token().empty());

  // The token is bound to the window.
  request.set_days(30);
  grpc::Status mismatch = customers_->ListUpcomingBirthdays(Ctx().get(), request, &page);
  EXPECT_EQ(errors::Reason(Decode(mismatch)), "PAGE_TOKEN_MISMATCH");
  request.clear_page_token();
  request.set_days(400);
  EXPECT_THAT(ViolationFields(customers_->ListUpcomingBirthdays(Ctx().get(), request, &page)),
              Contains("days"));
  request.set_days(1);
  request.set_filter("colour = \"red\"");
  EXPECT_EQ(errors::Reason(Decode(customers_->ListUpcomingBirthdays(Ctx().get(), request, &page))),
            "INVALID_FILTER");
}

TEST_P(CustomerServiceTest, BirthdaysUseTheTenantTimeZoneAndFebruary29) {
  // 2027-02-27 16:30 UTC: still the 27th in Jakarta (23:30), already the 28th in Jayapura.
  clock_.Set(absl::FromCivil(absl::CivilSecond(2027, 2, 27, 16, 30, 0), absl::UTCTimeZone()));
  for (const std::string tenant : {"jakarta", "jayapura"}) {
    v1::CreateCustomerRequest r;
    *r.mutable_customer() = WithBirthday(v1::Customer(), 0, 2, 27);
    r.mutable_customer()->set_display_name("Feb 27");
    ASSERT_TRUE(Create(r, nullptr, tenant).ok());
    *r.mutable_customer() = WithBirthday(v1::Customer(), 2000, 2, 29);
    r.mutable_customer()->set_display_name("Leap");
    ASSERT_TRUE(Create(r, nullptr, tenant).ok());
  }
  v1::TenantSettings papua;
  papua.set_time_zone("Asia/Jayapura");
  SetSettings(papua, {"time_zone"}, "jayapura");

  v1::ListUpcomingBirthdaysRequest request;
  request.set_days(1);
  v1::ListUpcomingBirthdaysResponse jakarta, jayapura;
  ASSERT_TRUE(customers_->ListUpcomingBirthdays(Ctx("jakarta").get(), request, &jakarta).ok());
  ASSERT_TRUE(customers_->ListUpcomingBirthdays(Ctx("jayapura").get(), request, &jayapura).ok());
  ASSERT_EQ(jakarta.birthdays_size(), 1);
  EXPECT_EQ(jakarta.birthdays(0).customer().display_name(), "Feb 27");
  // In Jayapura it is 28 February 2027, where a 29 February birthday falls in common years.
  ASSERT_EQ(jayapura.birthdays_size(), 1);
  EXPECT_EQ(jayapura.birthdays(0).customer().display_name(), "Leap");
  EXPECT_EQ(jayapura.birthdays(0).next_birthday().day(), 28);
  EXPECT_EQ(jayapura.birthdays(0).turning_age(), 27);
}

TEST_P(CustomerServiceTest, QuotePriceAppliesPriceListThenDiscountThenBase) {
  // Defaults are created on first use; give "member" a discount and "vip" a price list.
  v1::UpdateCategoryRequest discount;
  discount.mutable_category()->set_category_id("member");
  discount.mutable_category()->set_member_discount_basis_points(5000);
  discount.mutable_update_mask()->add_paths("member_discount_basis_points");
  v1::UpdateCategoryResponse category;
  ASSERT_TRUE(categories_->UpdateCategory(Ctx().get(), discount, &category).ok());
  v1::SetPriceListEntriesRequest prices;
  prices.set_category_id("vip");
  auto* e = prices.add_entries();
  e->set_sku("KOPI-1KG");
  e->mutable_price()->set_amount_minor(9000000);
  e->mutable_price()->set_currency_code("IDR");
  v1::SetPriceListEntriesResponse set;
  ASSERT_TRUE(categories_->SetPriceListEntries(Ctx().get(), prices, &set).ok());

  auto customer_in = [&](const std::string& name, const std::string& category_id) {
    v1::CreateCustomerRequest r;
    r.mutable_customer()->set_display_name(name);
    r.mutable_customer()->set_category_id(category_id);
    v1::Customer out;
    EXPECT_TRUE(Create(r, &out).ok());
    return out.customer_id();
  };
  const std::string vip = customer_in("Vip", "vip");
  const std::string member = customer_in("Member", "member");
  const std::string plain = customer_in("Plain", "");

  auto quote = [&](const std::string& id, const std::string& sku, int64_t base,
                   v1::QuotePriceResponse* out, const std::string& currency = "IDR") {
    v1::QuotePriceRequest q;
    q.set_customer_id(id);
    q.set_sku(sku);
    q.mutable_base_price()->set_amount_minor(base);
    q.mutable_base_price()->set_currency_code(currency);
    return customers_->QuotePrice(Ctx().get(), q, out);
  };
  v1::QuotePriceResponse r;
  ASSERT_TRUE(quote(vip, "KOPI-1KG", 10000000, &r).ok());
  EXPECT_EQ(r.rule(), v1::PRICE_RULE_PRICE_LIST);
  EXPECT_EQ(r.price().amount_minor(), 9000000);
  EXPECT_EQ(r.category_id(), "vip");
  ASSERT_TRUE(quote(vip, "TEH", 500000, &r).ok());
  EXPECT_EQ(r.rule(), v1::PRICE_RULE_BASE);
  EXPECT_EQ(r.price().amount_minor(), 500000);
  // 50% of 0.05: the discount (0.025) rounds half away from zero to 0.03; price 0.02.
  ASSERT_TRUE(quote(member, "TEH", 5, &r).ok());
  EXPECT_EQ(r.rule(), v1::PRICE_RULE_MEMBER_DISCOUNT);
  EXPECT_EQ(r.price().amount_minor(), 2);
  EXPECT_EQ(r.discount_basis_points(), 5000);
  ASSERT_TRUE(quote(plain, "TEH", 777, &r).ok());
  EXPECT_EQ(r.rule(), v1::PRICE_RULE_BASE);
  ASSERT_TRUE(quote("", "TEH", 777, &r).ok());  // walk-in
  EXPECT_EQ(r.rule(), v1::PRICE_RULE_BASE);
  EXPECT_EQ(r.category_id(), "");

  grpc::Status mismatch = quote(vip, "TEH", 100, &r, "THB");
  EXPECT_EQ(mismatch.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(errors::Reason(Decode(mismatch)), "CURRENCY_MISMATCH");
  EXPECT_THAT(ViolationFields(quote(vip, "", -1, &r)),
              UnorderedElementsAre("sku", "base_price.amount_minor"));
  EXPECT_EQ(quote("0190a3b2-7c4e-7d21-8f3a-00000000abcd", "TEH", 1, &r).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_P(CustomerServiceTest, UpdateRetriesReplayAndMergedCustomersPointToTheSurvivor) {
  v1::Customer budi = MustCreate("Budi");
  v1::UpdateCustomerRequest update;
  update.set_request_id("edit-1");
  update.mutable_customer()->set_customer_id(budi.customer_id());
  update.mutable_customer()->set_notes("first");
  update.mutable_update_mask()->add_paths("notes");
  v1::UpdateCustomerResponse first, again;
  ASSERT_TRUE(customers_->UpdateCustomer(Ctx().get(), update, &first).ok());
  ASSERT_TRUE(customers_->UpdateCustomer(Ctx().get(), update, &again).ok());
  EXPECT_EQ(first.customer().etag(), "v2");
  EXPECT_EQ(again.customer().etag(), "v2");
  EXPECT_EQ(CountEvents("CustomerUpdated"), 1);
  update.mutable_customer()->set_notes("second");
  EXPECT_EQ(errors::Reason(Decode(customers_->UpdateCustomer(Ctx().get(), update, &again))),
            "REQUEST_ID_REUSED");

  // A merged customer (state written by the merge saga) reads as a pointer and refuses edits.
  v1::Customer survivor = MustCreate("Survivor");
  ASSERT_TRUE(store_
                  ->Write(
                      "t1", {},
                      [&](store::DirectoryTx& tx) -> absl::Status {
                        auto current = tx.FindCustomer(budi.customer_id());
                        if (!current.ok()) return current.status();
                        store::CustomerRecord r;
                        r.customer = (*current)->customer;
                        r.customer.set_state(v1::CUSTOMER_STATE_MERGED);
                        r.customer.set_merged_into_customer_id(survivor.customer_id());
                        r.version = (*current)->version + 1;
                        return tx.UpdateCustomer(r);
                      },
                      nullptr)
                  .ok());
  v1::GetCustomerRequest get;
  get.set_customer_id(budi.customer_id());
  v1::GetCustomerResponse got;
  ASSERT_TRUE(customers_->GetCustomer(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.customer().state(), v1::CUSTOMER_STATE_MERGED);
  EXPECT_EQ(got.customer().merged_into_customer_id(), survivor.customer_id());
  update.set_request_id("edit-2");
  grpc::Status merged = customers_->UpdateCustomer(Ctx().get(), update, &again);
  EXPECT_EQ(merged.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(errors::Reason(Decode(merged)), "CUSTOMER_MERGED");
}

INSTANTIATE_TEST_SUITE_P(Drivers, CustomerServiceTest,
                         ::testing::Values("sqlite", "postgres", "sqlite_group_commit",
                                           "postgres_group_commit"));

}  // namespace
}  // namespace kelola::customer::testing_support
