// DeleteCustomer (C4) and MergeCustomers / GetMergeOperation (C7) through gRPC on SQLite
// and PostgreSQL, with ledger-svc's side scripted (ScriptedLedger): the saga's own logic —
// checks, tombstones, data merge, failure and resumption. The protocols against the real
// ledger-svc, with races and kill -9, are in tests/integration/customer_protocols_test.cc.

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "customer-svc/app/operations_resumer.h"
#include "libs/metrics/metrics.h"
#include "tests/customer-svc/api/api_fixture.h"

namespace kelola::customer::testing_support {
namespace {

class CustomerDeleteMergeTest : public DirectoryApiTest {
 protected:
  grpc::Status Delete(const std::string& id, const std::string& request_id = "",
                      const std::string& etag = "") {
    v1::DeleteCustomerRequest request;
    request.set_customer_id(id);
    request.set_request_id(request_id);
    request.set_etag(etag);
    v1::DeleteCustomerResponse response;
    return customers_->DeleteCustomer(Ctx().get(), request, &response);
  }

  grpc::Status Merge(const std::string& source, const std::string& target,
                     v1::MergeOperation* op = nullptr, const std::string& request_id = "",
                     const std::string& source_etag = "") {
    v1::MergeCustomersRequest request;
    request.set_source_customer_id(source);
    request.set_target_customer_id(target);
    request.set_request_id(request_id);
    request.set_source_etag(source_etag);
    v1::MergeCustomersResponse response;
    grpc::Status status = customers_->MergeCustomers(Ctx().get(), request, &response);
    if (op != nullptr) *op = response.merge_operation();
    return status;
  }

  v1::Customer Get(const std::string& id) {
    v1::GetCustomerRequest request;
    request.set_customer_id(id);
    v1::GetCustomerResponse response;
    grpc::Status status = customers_->GetCustomer(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << Decode(status);
    return response.customer();
  }

  grpc::Status GetStatus(const std::string& id) {
    v1::GetCustomerRequest request;
    request.set_customer_id(id);
    v1::GetCustomerResponse response;
    return customers_->GetCustomer(Ctx().get(), request, &response);
  }

  std::vector<std::string> SearchIds(const std::string& query) {
    v1::SearchCustomersRequest request;
    request.set_query(query);
    v1::SearchCustomersResponse response;
    grpc::Status status = customers_->SearchCustomers(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << Decode(status);
    std::vector<std::string> out;
    for (const auto& r : response.results()) out.push_back(r.customer().customer_id());
    return out;
  }

  bool Archive(const std::string& id) {
    v1::ArchiveCustomerRequest request;
    request.set_customer_id(id);
    v1::ArchiveCustomerResponse response;
    grpc::Status status = customers_->ArchiveCustomer(Ctx().get(), request, &response);
    EXPECT_TRUE(status.ok()) << Decode(status);
    return status.ok();
  }

  std::string Reason(const grpc::Status& status) { return errors::Reason(Decode(status)); }
};

TEST_P(CustomerDeleteMergeTest, DeleteRemovesEverythingAndTheIdIsNeverReused) {
  const v1::Customer c = MustCreate("Siti Rahayu", "0812-3456-7890", "siti@example.co.id");
  ASSERT_TRUE(Delete(c.customer_id(), "del-1").ok());
  EXPECT_EQ(GetStatus(c.customer_id()).error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(SearchIds("Siti").empty());
  EXPECT_TRUE(SearchIds("3456").empty());
  EXPECT_EQ(
      CountRows("SELECT COUNT(*) FROM customer_phones WHERE customer_id = ?", {c.customer_id()}),
      0);
  EXPECT_EQ(
      CountRows("SELECT COUNT(*) FROM customer_stats WHERE customer_id = ?", {c.customer_id()}), 0);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM pending_deletes"), 0);
  EXPECT_EQ(CountEvents("CustomerDeleted"), 1);
  EXPECT_EQ(ledger_.seals().count(c.customer_id()), 1u);  // sealed for good

  // A retry of the same request succeeds; another request finds nothing.
  EXPECT_TRUE(Delete(c.customer_id(), "del-1").ok());
  EXPECT_EQ(Delete(c.customer_id()).error_code(), grpc::StatusCode::NOT_FOUND);
  const v1::Customer other = MustCreate("Agus", "0813-1111-2222");
  const grpc::Status reused = Delete(other.customer_id(), "del-1");
  EXPECT_EQ(reused.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Reason(reused), "REQUEST_ID_REUSED");
  EXPECT_EQ(CountEvents("CustomerDeleted"), 1);

  // Its phone and e-mail are free again; its id is not.
  MustCreate("Siti R.", "+62 812 3456 7890", "siti@example.co.id");
  v1::CreateCustomerRequest again;
  again.set_customer_id(c.customer_id());
  again.mutable_customer()->set_display_name("Someone else");
  const grpc::Status taken = Create(again);
  EXPECT_EQ(taken.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(Reason(taken), "CUSTOMER_ID_EXISTS");
}

TEST_P(CustomerDeleteMergeTest, CustomerWithHistoryIsNotDeleted) {
  const v1::Customer c = MustCreate("Wayan", "0811-2222-3333");
  ledger_.AddHistory(c.customer_id());
  const grpc::Status status = Delete(c.customer_id());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(status), "CUSTOMER_HAS_HISTORY");
  EXPECT_TRUE(absl::StrContains(status.error_message(), "archive instead"));
  EXPECT_EQ(errors::GetMetadata(Decode(status))["sale_count"], "1");
  EXPECT_EQ(Get(c.customer_id()).state(), v1::CUSTOMER_STATE_ACTIVE);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM pending_deletes"), 0);
  EXPECT_TRUE(ledger_.seals().empty());
  EXPECT_EQ(CountEvents("CustomerDeleted"), 0);
}

TEST_P(CustomerDeleteMergeTest, UnreachableLedgerChangesNothing) {
  const v1::Customer c = MustCreate("Made", "0811-4444-5555");
  ledger_.FailNextSeal(absl::UnavailableError("connection refused"));
  const grpc::Status status = Delete(c.customer_id());
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Reason(status), "LEDGER_UNAVAILABLE");
  EXPECT_EQ(ledger_.unseal_calls(), 1);  // the seal may have happened: undone
  EXPECT_EQ(Get(c.customer_id()).state(), v1::CUSTOMER_STATE_ACTIVE);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM pending_deletes"), 0);
  ASSERT_TRUE(Delete(c.customer_id()).ok());  // the retry goes through
}

TEST_P(CustomerDeleteMergeTest, StaleEtagAndBadInputSealNothing) {
  const v1::Customer c = MustCreate("Nyoman");
  const grpc::Status stale = Delete(c.customer_id(), "", "v999");
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(Reason(stale), "ETAG_MISMATCH");
  const grpc::Status missing = Delete("");
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(ViolationFields(missing), std::vector<std::string>{"customer_id"});
  EXPECT_EQ(Delete("0190a3b2-7c4e-7d21-8f3a-1b2c3d4e5f60").error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_TRUE(ledger_.seals().empty());
  ASSERT_TRUE(Delete(c.customer_id(), "", c.etag()).ok());
}

TEST_P(CustomerDeleteMergeTest, AbandonedDeleteIsUndone) {
  // A crash between the seal and the row removal leaves a pending delete and a seal.
  const v1::Customer c = MustCreate("Ketut");
  ASSERT_TRUE(
      ledger_.Seal(app::LedgerTenant{"t1", "IDR", "Asia/Jakarta"}, "seal-1", c.customer_id()).ok());
  absl::Status put = db_->InTransaction([&](db::Transaction& tx) {
    return tx
        .Execute(
            "INSERT INTO pending_deletes (tenant_id, customer_id, seal_id, "
            "create_time_micros) VALUES (?, ?, ?, ?)",
            {std::string("t1"), c.customer_id(), std::string("seal-1"),
             absl::ToUnixMicros(clock_.Now())})
        .status();
  });
  ASSERT_TRUE(put.ok()) << put;
  // A delete meanwhile is told to retry; a young pending delete is left alone.
  EXPECT_EQ(Delete(c.customer_id()).error_code(), grpc::StatusCode::ABORTED);
  ASSERT_TRUE(deletion_->ResumeStale().ok());
  EXPECT_EQ(ledger_.seals().size(), 1u);
  clock_.Advance(absl::Minutes(5));
  ASSERT_TRUE(deletion_->ResumeStale().ok());
  EXPECT_TRUE(ledger_.seals().empty());
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM pending_deletes"), 0);
  EXPECT_EQ(Get(c.customer_id()).state(), v1::CUSTOMER_STATE_ACTIVE);
}

TEST_P(CustomerDeleteMergeTest, MergeMovesDataAndLeavesAPointer) {
  v1::CreateCustomerRequest t;
  t.mutable_customer()->set_display_name("Budi Santoso");
  t.mutable_customer()->mutable_phone()->set_raw("0812-1000-2000");
  t.mutable_customer()->set_notes("Pelanggan lama");
  v1::Customer target;
  ASSERT_TRUE(Create(t, &target).ok());
  v1::CreateCustomerRequest s;
  s.mutable_customer()->set_display_name("Pak Budi");
  s.mutable_customer()->mutable_phone()->set_raw("0857-3000-4000");
  s.mutable_customer()->set_email("budi@toko.id");
  s.mutable_customer()->set_notes("Bayar tiap Jumat");
  v1::Customer source;
  ASSERT_TRUE(Create(s, &source).ok());

  v1::MergeOperation op;
  ASSERT_TRUE(Merge(source.customer_id(), target.customer_id(), &op, "merge-1").ok());
  EXPECT_EQ(op.state(), v1::MERGE_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(op.source_customer_id(), source.customer_id());
  EXPECT_EQ(op.principal(), "tester");
  EXPECT_TRUE(op.has_complete_time());
  EXPECT_EQ(ledger_.reassign_calls(), 1);

  const v1::Customer pointer = Get(source.customer_id());
  EXPECT_EQ(pointer.state(), v1::CUSTOMER_STATE_MERGED);
  EXPECT_EQ(pointer.merged_into_customer_id(), target.customer_id());
  const v1::Customer survivor = Get(target.customer_id());
  ASSERT_EQ(survivor.additional_phones_size(), 1);
  EXPECT_EQ(survivor.additional_phones(0).e164(), "+6285730004000");
  EXPECT_EQ(survivor.email(), "budi@toko.id");
  EXPECT_TRUE(absl::StrContains(survivor.notes(), "Pelanggan lama\n--- merged from Pak Budi"));
  EXPECT_TRUE(absl::StrContains(survivor.notes(), "Bayar tiap Jumat"));
  EXPECT_NE(survivor.etag(), target.etag());
  // Search finds the survivor by the merged phone and e-mail; the pointer is gone from it.
  EXPECT_EQ(SearchIds("0857-3000"), std::vector<std::string>{target.customer_id()});
  EXPECT_EQ(SearchIds("budi@toko"), std::vector<std::string>{target.customer_id()});
  EXPECT_EQ(CountEvents("CustomerMerged"), 1);

  // A retry returns the same operation and changes nothing.
  v1::MergeOperation again;
  ASSERT_TRUE(Merge(source.customer_id(), target.customer_id(), &again, "merge-1").ok());
  EXPECT_EQ(again.merge_operation_id(), op.merge_operation_id());
  EXPECT_EQ(again.state(), v1::MERGE_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(Get(target.customer_id()).etag(), survivor.etag());
  EXPECT_EQ(ledger_.reassign_calls(), 1);

  v1::GetMergeOperationRequest get;
  get.set_merge_operation_id(op.merge_operation_id());
  v1::GetMergeOperationResponse got;
  ASSERT_TRUE(customers_->GetMergeOperation(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.merge_operation().state(), v1::MERGE_OPERATION_STATE_SUCCEEDED);
  get.set_merge_operation_id("no-such-operation");
  const grpc::Status unknown = customers_->GetMergeOperation(Ctx().get(), get, &got);
  EXPECT_EQ(unknown.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(Reason(unknown), "MERGE_OPERATION_NOT_FOUND");
  // Another tenant does not see it.
  get.set_merge_operation_id(op.merge_operation_id());
  EXPECT_EQ(customers_->GetMergeOperation(Ctx("t2").get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // The survivor's data export names what was merged into it.
  v1::ExportCustomerDataRequest export_request;
  export_request.set_customer_id(target.customer_id());
  v1::ExportCustomerDataResponse exported;
  ASSERT_TRUE(customers_->ExportCustomerData(Ctx().get(), export_request, &exported).ok());
  EXPECT_TRUE(absl::StrContains(
      exported.data(), absl::StrCat("\"merged_customers\":[\"", source.customer_id(), "\"]")))
      << exported.data();
  EXPECT_TRUE(absl::StrContains(exported.data(), op.merge_operation_id()));

  // The pointer is read-only; it cannot be merged or deleted again.
  const grpc::Status twice = Merge(source.customer_id(), target.customer_id());
  EXPECT_EQ(Reason(twice), "CUSTOMER_MERGED");
  EXPECT_EQ(Reason(Delete(source.customer_id())), "CUSTOMER_MERGED");
}

TEST_P(CustomerDeleteMergeTest, LedgerRefusalFailsTheMergeAndRestoresTheSource) {
  const v1::Customer target = MustCreate("Ani", "0812-5555-0001");
  const v1::Customer source = MustCreate("Ani W", "0812-5555-0002");
  ASSERT_TRUE(Archive(source.customer_id()));
  ledger_.FailNextReassign(errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_SEALED",
                                         "the customer was deleted"));
  v1::MergeOperation op;
  ASSERT_TRUE(Merge(source.customer_id(), target.customer_id(), &op).ok());
  EXPECT_EQ(op.state(), v1::MERGE_OPERATION_STATE_FAILED);
  EXPECT_EQ(op.failure_reason(), "CUSTOMER_SEALED");
  const v1::Customer back = Get(source.customer_id());
  EXPECT_EQ(back.state(), v1::CUSTOMER_STATE_ARCHIVED);  // its previous state
  EXPECT_EQ(back.merged_into_customer_id(), "");
  EXPECT_EQ(Get(target.customer_id()).etag(), target.etag());
  EXPECT_EQ(CountEvents("CustomerMerged"), 0);
}

TEST_P(CustomerDeleteMergeTest, UnreachableLedgerLeavesTheMergePendingUntilResumed) {
  const v1::Customer target = MustCreate("Dewi", "0812-6666-0001");
  const v1::Customer source = MustCreate("Dewi Lestari", "0812-6666-0002");
  ledger_.FailNextReassign(absl::UnavailableError("down"));
  v1::MergeOperation op;
  ASSERT_TRUE(Merge(source.customer_id(), target.customer_id(), &op).ok());
  EXPECT_EQ(op.state(), v1::MERGE_OPERATION_STATE_PENDING);
  EXPECT_EQ(Get(source.customer_id()).state(), v1::CUSTOMER_STATE_MERGING);
  // While merging: no sale for the source, no delete, no other merge of either side.
  v1::CheckCustomerForSaleRequest check;
  check.set_customer_id(source.customer_id());
  v1::CheckCustomerForSaleResponse checked;
  ASSERT_TRUE(internal_->CheckCustomerForSale(Ctx().get(), check, &checked).ok());
  EXPECT_FALSE(checked.allowed());
  EXPECT_EQ(Reason(Delete(source.customer_id())), "CUSTOMER_MERGE_IN_PROGRESS");
  EXPECT_EQ(Reason(Delete(target.customer_id())), "CUSTOMER_MERGE_IN_PROGRESS");
  const v1::Customer third = MustCreate("Dewi L.", "0812-6666-0003");
  EXPECT_EQ(Reason(Merge(target.customer_id(), third.customer_id())), "CUSTOMER_MERGE_IN_PROGRESS");
  EXPECT_EQ(Reason(Merge(source.customer_id(), third.customer_id())), "CUSTOMER_MERGE_IN_PROGRESS");

  ASSERT_TRUE(merges_->ResumeOpen().ok());
  v1::GetMergeOperationRequest get;
  get.set_merge_operation_id(op.merge_operation_id());
  v1::GetMergeOperationResponse got;
  ASSERT_TRUE(customers_->GetMergeOperation(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.merge_operation().state(), v1::MERGE_OPERATION_STATE_SUCCEEDED);
  EXPECT_EQ(Get(source.customer_id()).state(), v1::CUSTOMER_STATE_MERGED);
  ASSERT_TRUE(merges_->ResumeOpen().ok());  // nothing left: no second move
  EXPECT_EQ(ledger_.reassign_calls(), 2);
  EXPECT_EQ(CountEvents("CustomerMerged"), 1);
}

TEST_P(CustomerDeleteMergeTest, MergeChecksItsInput) {
  const v1::Customer a = MustCreate("Rina", "0812-7777-0001");
  const v1::Customer b = MustCreate("Rini", "0812-7777-0002");
  const grpc::Status same = Merge(a.customer_id(), a.customer_id());
  EXPECT_EQ(same.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Reason(same), "MERGE_SAME_CUSTOMER");
  const grpc::Status empty = Merge("", "");
  EXPECT_EQ(ViolationFields(empty),
            (std::vector<std::string>{"source_customer_id", "target_customer_id"}));
  const std::string unknown = "0190a3b2-7c4e-7d21-8f3a-1b2c3d4e5f60";
  const grpc::Status missing = Merge(a.customer_id(), unknown);
  EXPECT_EQ(missing.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(errors::GetMetadata(Decode(missing))["customer_id"], unknown);
  const grpc::Status stale = Merge(a.customer_id(), b.customer_id(), nullptr, "", "v999");
  EXPECT_EQ(Reason(stale), "ETAG_MISMATCH");
  ASSERT_TRUE(Archive(b.customer_id()));
  const grpc::Status archived = Merge(a.customer_id(), b.customer_id());
  EXPECT_EQ(archived.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(Reason(archived), "CUSTOMER_ARCHIVED");
  EXPECT_EQ(ledger_.reassign_calls(), 0);
  EXPECT_EQ(Get(a.customer_id()).state(), v1::CUSTOMER_STATE_ACTIVE);
}

TEST_P(CustomerDeleteMergeTest, EarlierPointersFollowTheSurvivor) {
  const v1::Customer a = MustCreate("Putu A", "0812-8888-0001");
  const v1::Customer b = MustCreate("Putu B", "0812-8888-0002");
  const v1::Customer c = MustCreate("Putu C", "0812-8888-0003");
  ASSERT_TRUE(Merge(a.customer_id(), b.customer_id()).ok());
  ASSERT_TRUE(Merge(b.customer_id(), c.customer_id()).ok());
  EXPECT_EQ(Get(a.customer_id()).merged_into_customer_id(), c.customer_id());
  EXPECT_EQ(Get(b.customer_id()).merged_into_customer_id(), c.customer_id());
  const v1::Customer survivor = Get(c.customer_id());
  EXPECT_EQ(survivor.additional_phones_size(), 2);  // B's own, and A's that B had received
}

TEST_P(CustomerDeleteMergeTest, LedgerCallsCarryTheTenantsCurrencyAndCalendar) {
  v1::TenantSettings thai;
  thai.set_currency_code("THB");
  thai.set_time_zone("Asia/Bangkok");
  thai.set_default_phone_region("TH");
  SetSettings(thai, {"currency_code", "time_zone", "default_phone_region"});
  const v1::Customer a = MustCreate("สมชาย ใจดี", "081 234 5678");
  const v1::Customer b = MustCreate("สมชาย", "089 876 5432");
  ASSERT_TRUE(Merge(a.customer_id(), b.customer_id()).ok());
  EXPECT_EQ(ledger_.last_tenant().tenant_id, "t1");
  EXPECT_EQ(ledger_.last_tenant().currency_code, "THB");
  EXPECT_EQ(ledger_.last_tenant().time_zone, "Asia/Bangkok");
  const v1::Customer c = MustCreate("สมหญิง");
  ASSERT_TRUE(Delete(c.customer_id()).ok());
  EXPECT_EQ(ledger_.last_tenant().currency_code, "THB");
}

TEST_P(CustomerDeleteMergeTest, AnErasedTargetTakesNoDataAndTheSourceIsErasedToo) {
  const v1::Customer target = MustCreate("Yanti", "0812-9100-0001");
  const v1::Customer source = MustCreate("Yanti K", "0812-9100-0002", "yanti@example.id");
  ledger_.FailNextReassign(absl::UnavailableError("down"));
  v1::MergeOperation op;
  ASSERT_TRUE(Merge(source.customer_id(), target.customer_id(), &op).ok());
  ASSERT_EQ(op.state(), v1::MERGE_OPERATION_STATE_PENDING);
  v1::EraseCustomerRequest erase;
  erase.set_customer_id(target.customer_id());
  erase.set_reason("customer request");
  v1::EraseCustomerResponse erased;
  ASSERT_TRUE(customers_->EraseCustomer(Ctx().get(), erase, &erased).ok());
  ASSERT_TRUE(merges_->ResumeOpen().ok());
  const v1::Customer survivor = Get(target.customer_id());
  EXPECT_EQ(survivor.state(), v1::CUSTOMER_STATE_ERASED);
  EXPECT_EQ(survivor.email(), "");
  EXPECT_EQ(survivor.additional_phones_size(), 0);
  const v1::Customer pointer = Get(source.customer_id());
  EXPECT_EQ(pointer.state(), v1::CUSTOMER_STATE_MERGED);
  EXPECT_EQ(pointer.merged_into_customer_id(), target.customer_id());
  EXPECT_EQ(pointer.email(), "");
  EXPECT_NE(pointer.display_name(), "Yanti K");
  EXPECT_TRUE(SearchIds("Yanti").empty());
}

TEST_P(CustomerDeleteMergeTest, AFailedMergeRestoresASourceWhosePhoneWasTakenAsAnAllowedDuplicate) {
  const v1::Customer target = MustCreate("Joko", "0812-9200-0001");
  const v1::Customer source = MustCreate("Joko W", "0812-9200-0002");
  ledger_.FailNextReassign(absl::UnavailableError("down"));
  v1::MergeOperation op;
  ASSERT_TRUE(Merge(source.customer_id(), target.customer_id(), &op).ok());
  ASSERT_EQ(op.state(), v1::MERGE_OPERATION_STATE_PENDING);
  // While the source is merging its phone is free, and someone takes it.
  const v1::Customer newcomer = MustCreate("Joko Widodo", "0812-9200-0002");
  ledger_.FailNextReassign(errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_SEALED",
                                         "the target was deleted"));
  ASSERT_TRUE(merges_->ResumeOpen().ok());
  const v1::Customer back = Get(source.customer_id());
  EXPECT_EQ(back.state(), v1::CUSTOMER_STATE_ACTIVE);
  EXPECT_EQ(back.phone().e164(), "+6281292000002");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers WHERE customer_id = ? AND "
                      "duplicate_allowed = 1",
                      {source.customer_id()}),
            1);
  std::vector<std::string> found = SearchIds("0812-9200-0002");
  std::sort(found.begin(), found.end());
  std::vector<std::string> both = {source.customer_id(), newcomer.customer_id()};
  std::sort(both.begin(), both.end());
  EXPECT_EQ(found, both);
}

TEST_P(CustomerDeleteMergeTest, ErasingASurvivorErasesWhatWasMergedIntoIt) {
  const v1::Customer target = MustCreate("Rudi Hartono", "0812-9300-0001");
  const v1::Customer source = MustCreate("Rudi H", "0812-9300-0002", "rudi@example.id");
  ASSERT_TRUE(Merge(source.customer_id(), target.customer_id()).ok());
  v1::EraseCustomerRequest erase;
  erase.set_customer_id(target.customer_id());
  erase.set_reason("customer request");
  v1::EraseCustomerResponse erased;
  ASSERT_TRUE(customers_->EraseCustomer(Ctx().get(), erase, &erased).ok());
  const v1::Customer pointer = Get(source.customer_id());
  EXPECT_EQ(pointer.state(), v1::CUSTOMER_STATE_ERASED);
  EXPECT_EQ(pointer.merged_into_customer_id(), target.customer_id());
  EXPECT_EQ(pointer.email(), "");
  EXPECT_FALSE(pointer.has_phone());
  EXPECT_NE(pointer.display_name(), "Rudi H");
  EXPECT_TRUE(SearchIds("Rudi").empty());
  EXPECT_EQ(CountEvents("CustomerErased"), 2);
}

TEST_P(CustomerDeleteMergeTest, TheResumerFinishesOpenWorkAndReportsWhatIsLeft) {
  metrics::Registry registry;
  app::OperationsResumer resumer(*merges_, *deletion_, *store_, registry, clock_);
  const v1::Customer target = MustCreate("Sari", "0812-9400-0001");
  const v1::Customer source = MustCreate("Sari P", "0812-9400-0002");
  ledger_.FailNextReassign(absl::UnavailableError("down"));
  ledger_.FailNextReassign(absl::UnavailableError("still down"));
  v1::MergeOperation op;
  ASSERT_TRUE(Merge(source.customer_id(), target.customer_id(), &op).ok());
  ASSERT_EQ(op.state(), v1::MERGE_OPERATION_STATE_PENDING);
  clock_.Advance(absl::Seconds(90));
  resumer.RunOnce();  // the ledger is still down
  EXPECT_EQ(registry.Value("kelola_customer_open_merge_operations", {}), 1);
  EXPECT_EQ(registry.Value("kelola_customer_pending_deletes", {}), 0);
  EXPECT_GE(registry.Value("kelola_customer_oldest_open_operation_seconds", {}), 90);
  resumer.RunOnce();  // it answers
  EXPECT_EQ(registry.Value("kelola_customer_open_merge_operations", {}), 0);
  EXPECT_EQ(registry.Value("kelola_customer_oldest_open_operation_seconds", {}), 0);
  EXPECT_EQ(Get(source.customer_id()).state(), v1::CUSTOMER_STATE_MERGED);
}

INSTANTIATE_TEST_SUITE_P(Drivers, CustomerDeleteMergeTest,
                         ::testing::Values("sqlite", "postgres", "sqlite_group_commit",
                                           "postgres_group_commit"));

}  // namespace
}  // namespace kelola::customer::testing_support
