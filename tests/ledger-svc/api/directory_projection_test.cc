// Whether a customer may buy or pay, decided by the sale's or payment's own transaction from
// the ledger's projection of customer-svc's directory (fed here with customer-svc's event
// payloads), with customer-svc (FakeDirectory) asked only about customers the projection
// does not hold.

#include "ledger-svc/store/directory_projection.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kelola/customer/v1/events.pb.h"
#include "tests/ledger-svc/api/ledger_api_fixture.h"

namespace kelola::ledger::testing_support {
namespace {

namespace cv1 = customer::v1;

template <typename Payload>
type::v1::Event EventOf(const std::string& customer, int64_t version, const Payload& payload,
                        const std::string& tenant = "t1") {
  type::v1::Event event;
  event.set_tenant_id(tenant);
  event.set_aggregate_type("customer");
  event.set_aggregate_id(customer);
  event.set_aggregate_version(version);
  event.mutable_payload()->PackFrom(payload);
  return event;
}

type::v1::Event Created(const std::string& customer, int64_t version,
                        const std::string& category = "", const std::string& tenant = "t1") {
  cv1::CustomerCreated created;
  created.mutable_customer()->set_customer_id(customer);
  created.mutable_customer()->set_category_id(category);
  created.mutable_customer()->set_state(cv1::CUSTOMER_STATE_ACTIVE);
  return EventOf(customer, version, created, tenant);
}

class DirectoryProjectionTest : public LedgerApiTest {
 protected:
  DirectoryProjectionTest() : LedgerApiTest("cashier-1") {}

  void Apply(const std::vector<type::v1::Event>& events) {
    absl::Status applied =
        db_->InTransaction([&](db::Transaction& tx) { return ApplyDirectoryEvents(tx, events); });
    ASSERT_TRUE(applied.ok()) << applied;
  }

  // customer-svc stops answering, after the tenant's settings were cached by a walk-in sale.
  void StopCustomerSvc() {
    Sale("warm-up", "", 100, 100);
    directory_.SetUnavailable(true);
  }

  // Version 2 of c1 archived, c2 merged into c3, c4 deleted and c5 erased.
  static std::vector<type::v1::Event> ArchivedMergedDeletedErased() {
    cv1::CustomerArchived archived;
    archived.set_customer_id("c1");
    cv1::CustomerMerged merged;
    merged.set_source_customer_id("c2");
    merged.set_target_customer_id("c3");
    cv1::CustomerDeleted deleted;
    deleted.set_customer_id("c4");
    cv1::CustomerErased erased;
    erased.set_customer_id("c5");
    return {EventOf("c1", 2, archived), EventOf("c2", 2, merged), EventOf("c4", 2, deleted),
            EventOf("c5", 2, erased)};
  }

  Err SaleError(const std::string& request_id, const std::string& customer) {
    return Decode(TrySale(request_id, customer, 100, 0));
  }

  // How many customers owe in `category`, as the ledger rows store it.
  int ReceivablesIn(const std::string& category) {
    v1::ListReceivablesRequest request;
    request.set_filter(absl::StrCat("category_id = \"", category, "\""));
    v1::ListReceivablesResponse response;
    auto ctx = Ctx();
    EXPECT_TRUE(ledger_->ListReceivables(ctx.get(), request, &response).ok());
    return response.receivables_size();
  }
};

TEST_P(DirectoryProjectionTest, AProjectedCustomerBuysWithoutCustomerSvc) {
  Apply({Created("c1", 1, "grosir")});
  StopCustomerSvc();
  v1::RecordSaleResponse resp;
  ASSERT_TRUE(TrySale("s1", "c1", 100, 0, &resp).ok());
  EXPECT_EQ(directory_.calls(), 0);
  // The projection's category is the customer's: stored for receivables by category.
  v1::ListReceivablesRequest by_category;
  by_category.set_filter("category_id = \"grosir\"");
  v1::ListReceivablesResponse receivables;
  auto ctx = Ctx();
  ASSERT_TRUE(ledger_->ListReceivables(ctx.get(), by_category, &receivables).ok());
  ASSERT_EQ(receivables.receivables_size(), 1);
  EXPECT_EQ(receivables.receivables(0).customer_id(), "c1");
}

// The ledger row stores the customer's category only when it changed: the next sale after
// a move to another category moves the customer's receivables with it.
TEST_P(DirectoryProjectionTest, ACategoryChangeIsStoredWithTheNextSale) {
  Apply({Created("c1", 1, "grosir")});
  StopCustomerSvc();
  Sale("s1", "c1", 100, 0);
  EXPECT_EQ(ReceivablesIn("grosir"), 1);  // stored with the row's first write
  cv1::CustomerCategoryChanged moved;
  moved.set_customer_id("c1");
  moved.set_new_category_id("eceran");
  Apply({EventOf("c1", 2, moved)});
  Sale("s2", "c1", 100, 0);
  EXPECT_EQ(ReceivablesIn("grosir"), 0);
  ASSERT_EQ(ReceivablesIn("eceran"), 1);
  EXPECT_EQ(Balance("c1").balance().amount_minor(), 200);
  // Back to no category: the row holds none either.
  cv1::CustomerCategoryChanged cleared;
  cleared.set_customer_id("c1");
  Apply({EventOf("c1", 3, cleared)});
  Sale("s3", "c1", 100, 0);
  EXPECT_EQ(ReceivablesIn("eceran"), 0);
  EXPECT_EQ(directory_.calls(), 0);
}

TEST_P(DirectoryProjectionTest, AnUnseenCustomerIsAskedOnceAndRemembered) {
  directory_.SetVersion("fresh", 3);
  directory_.SetCategory("fresh", "eceran");
  Sale("s1", "fresh", 100, 0);
  Sale("s2", "fresh", 100, 0);
  Sale("s3", "fresh", 100, 0);
  EXPECT_EQ(directory_.calls(), 1);
  EXPECT_EQ(ReceivablesIn("eceran"), 1);  // customer-svc's answer, stored with the row
  // An older event of the customer does not undo the newer answer; a newer one replaces it.
  cv1::CustomerArchived archived;
  archived.set_customer_id("fresh");
  Apply({EventOf("fresh", 2, archived)});
  Sale("s4", "fresh", 100, 0);
  Apply({EventOf("fresh", 4, archived)});
  EXPECT_EQ(SaleError("s5", "fresh").reason, "CUSTOMER_ARCHIVED");
  EXPECT_EQ(directory_.calls(), 1);
}

TEST_P(DirectoryProjectionTest, RefusalsFollowTheStream) {
  // One batch: each customer's events reduced in order and written once.
  std::vector<type::v1::Event> events = {Created("c1", 1), Created("c2", 1), Created("c4", 1),
                                         Created("c5", 1)};
  for (type::v1::Event& e : ArchivedMergedDeletedErased()) events.push_back(std::move(e));
  Apply(events);
  StopCustomerSvc();  // every answer below comes from the projection
  Err c1 = SaleError("s1", "c1");
  EXPECT_EQ(c1.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(c1.reason, "CUSTOMER_ARCHIVED");
  Err c2 = SaleError("s2", "c2");
  EXPECT_EQ(c2.reason, "CUSTOMER_MERGED");
  EXPECT_EQ(c2.metadata["merged_into_customer_id"], "c3");
  EXPECT_EQ(SaleError("s4", "c4").reason, "CUSTOMER_NOT_FOUND");
  EXPECT_EQ(SaleError("s5", "c5").reason, "CUSTOMER_ARCHIVED");
  EXPECT_EQ(directory_.calls(), 0);
  // Refused writes leave nothing behind; restored, the customer buys again.
  EXPECT_EQ(Balance("c1").balance().amount_minor(), 0);
  cv1::CustomerRestored restored;
  restored.set_customer_id("c1");
  Apply({EventOf("c1", 3, restored)});
  Sale("s6", "c1", 100, 0);
}

TEST_P(DirectoryProjectionTest, AReplayIsAnsweredWhateverTheProjectionSaysNow) {
  Apply({Created("c1", 1)});
  v1::RecordSaleResponse first;
  ASSERT_TRUE(TrySale("s1", "c1", 100, 0, &first).ok());
  cv1::CustomerArchived archived;
  archived.set_customer_id("c1");
  Apply({EventOf("c1", 2, archived)});
  v1::RecordSaleResponse again;
  ASSERT_TRUE(TrySale("s1", "c1", 100, 0, &again).ok());
  EXPECT_EQ(again.sale().sale_id(), first.sale().sale_id());
  EXPECT_EQ(SaleError("s2", "c1").reason, "CUSTOMER_ARCHIVED");
}

TEST_P(DirectoryProjectionTest, WhatCustomerSvcRefusesOrCannotAnswerIsNotRemembered) {
  directory_.Refuse("ghost",
                    errors::Error(absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND", "gone"));
  EXPECT_EQ(SaleError("s1", "ghost").reason, "CUSTOMER_NOT_FOUND");
  EXPECT_EQ(SaleError("s2", "ghost").reason, "CUSTOMER_NOT_FOUND");
  EXPECT_EQ(directory_.calls(), 2);
  directory_.SetVersion("later", 1);
  StopCustomerSvc();
  EXPECT_EQ(SaleError("s3", "later").code, grpc::StatusCode::UNAVAILABLE);
  directory_.SetUnavailable(false);
  Sale("s4", "later", 100, 0);
  Sale("s5", "later", 100, 0);
  EXPECT_EQ(directory_.calls(), 4);
}

TEST_P(DirectoryProjectionTest, ProjectionsOfOtherTenantsAndAggregatesAreKeptApart) {
  cv1::CategoryChanged category;
  category.mutable_category()->set_category_id("c1");
  Apply({EventOf("c1", 1, category), Created("c1", 1, "", "t2")});
  Sale("warm-up-t2", "", 100, 100, "t2");
  StopCustomerSvc();
  EXPECT_EQ(SaleError("s1", "c1").code, grpc::StatusCode::UNAVAILABLE);  // t1: not projected
  EXPECT_TRUE(TrySale("s2", "c1", 100, 0, nullptr, "t2").ok());
}

TEST_P(DirectoryProjectionTest, PaymentsFollowTheProjectionWhereArchivedCustomersMayPay) {
  Apply({Created("c1", 1), Created("c2", 1), Created("c4", 1), Created("c5", 1)});
  Sale("s1", "c1", 500, 0);
  Sale("s5", "c5", 500, 0);
  Apply(ArchivedMergedDeletedErased());
  StopCustomerSvc();  // every answer below comes from the projection
  v1::RecordPaymentResponse paid;
  ASSERT_TRUE(Pay("p1", "c1", 200, &paid).ok());
  EXPECT_EQ(paid.payment().allocations_size(), 1);
  EXPECT_EQ(Balance("c1").balance().amount_minor(), 300);
  ASSERT_TRUE(Pay("p5", "c5", 500).ok());
  EXPECT_EQ(Balance("c5").balance().amount_minor(), 0);
  Err c2 = Decode(Pay("p2", "c2", 100, nullptr, /*keep_excess=*/true));
  EXPECT_EQ(c2.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(c2.reason, "CUSTOMER_MERGED");
  EXPECT_EQ(c2.metadata["merged_into_customer_id"], "c3");
  Err c4 = Decode(Pay("p4", "c4", 100, nullptr, /*keep_excess=*/true));
  EXPECT_EQ(c4.code, grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(c4.reason, "CUSTOMER_NOT_FOUND");
  EXPECT_EQ(directory_.calls(), 0);
  // A refused payment left nothing behind; a replay of a recorded one is answered as first.
  EXPECT_EQ(Stats("c2").payment_count(), 0);
  v1::RecordPaymentResponse again;
  ASSERT_TRUE(Pay("p1", "c1", 200, &again).ok());
  EXPECT_EQ(again.payment().payment_id(), paid.payment().payment_id());
}

TEST_P(DirectoryProjectionTest, AnUnseenCustomerPaysAfterOneQuestion) {
  directory_.SetVersion("fresh", 3);
  Sale("s1", "fresh", 300, 0);
  ASSERT_TRUE(Pay("p1", "fresh", 100).ok());
  ASSERT_TRUE(Pay("p2", "fresh", 100).ok());
  EXPECT_EQ(directory_.calls(), 1);  // the sale's question; the payments use its answer
  // customer-svc's refusal of an archived customer lets the payment through, remembering
  // nothing; other refusals and silence stand, unless the request was recorded before.
  directory_.Refuse(
      "old", errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_ARCHIVED", "archived"));
  ASSERT_TRUE(Pay("p3", "old", 100, nullptr, /*keep_excess=*/true).ok());
  ASSERT_TRUE(Pay("p4", "old", 100, nullptr, /*keep_excess=*/true).ok());
  EXPECT_EQ(directory_.calls(), 3);
  EXPECT_EQ(Balance("old").credit().amount_minor(), 200);
  directory_.Refuse("ghost",
                    errors::Error(absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND", "gone"));
  EXPECT_EQ(Decode(Pay("p5", "ghost", 100, nullptr, true)).reason, "CUSTOMER_NOT_FOUND");
  directory_.SetUnavailable(true);
  EXPECT_EQ(Decode(Pay("p6", "unseen", 100, nullptr, true)).code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_TRUE(Pay("p3", "old", 100, nullptr, true).ok());  // recorded: answered again
}

INSTANTIATE_TEST_SUITE_P(Drivers, DirectoryProjectionTest,
                         ::testing::Values("sqlite", "postgres", "sqlite_group_commit",
                                           "postgres_group_commit"));

}  // namespace
}  // namespace kelola::ledger::testing_support
