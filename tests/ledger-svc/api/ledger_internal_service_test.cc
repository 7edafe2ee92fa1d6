// LedgerInternalService (the ledger's side of customer-svc's delete and merge protocols,
// ARCHITECTURE.md "Cross-service protocols") through a real in-process gRPC server on a
// loopback port, next to LedgerService on the same server, against real databases
// (SQLite file and PostgreSQL, each with and without group commit). customer-svc is
// replaced by a fake CustomerDirectory; everything else is the production object graph
// (tests/ledger-svc/api/ledger_api_fixture.h).

#include <atomic>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/ledger/v1/events.pb.h"
#include "tests/ledger-svc/api/ledger_api_fixture.h"

namespace kelola::ledger::testing_support {
namespace {

using google::protobuf::util::MessageDifferencer;

constexpr char kDomain[] = "ledger.kelola.id";

int64_t Micros(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000000 + ts.nanos() / 1000;
}

// Expects `status` to be a ledger error with `code` and `reason`; returns it decoded.
Err ExpectError(const grpc::Status& status, grpc::StatusCode code, const std::string& reason) {
  Err e = Decode(status);
  EXPECT_EQ(e.code, code) << status.error_message();
  EXPECT_EQ(e.reason, reason) << status.error_message();
  EXPECT_EQ(e.domain, kDomain) << status.error_message();
  return e;
}

bool Same(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return MessageDifferencer::Equals(a, b);
}

// Calls come from customer-svc. The fixture's FakeDirectory is left as it is: every customer
// is active (the ledger's own refusals are what these tests are about).
class LedgerInternalServiceTest : public LedgerApiTest {
 protected:
  LedgerInternalServiceTest() : LedgerApiTest("customer-svc") {}

  // --- LedgerInternalService -------------------------------------------------------

  grpc::Status Seal(const std::string& seal_id, const std::string& customer,
                    v1::SealCustomerResponse* resp = nullptr, const std::string& tenant = "t1") {
    v1::SealCustomerRequest r;
    r.set_seal_id(seal_id);
    r.set_customer_id(customer);
    v1::SealCustomerResponse ignored;
    auto ctx = Ctx(tenant);
    return internal_->SealCustomer(ctx.get(), r, resp != nullptr ? resp : &ignored);
  }

  grpc::Status Unseal(const std::string& seal_id, const std::string& customer,
                      v1::UnsealCustomerResponse* resp = nullptr,
                      const std::string& tenant = "t1") {
    v1::UnsealCustomerRequest r;
    r.set_seal_id(seal_id);
    r.set_customer_id(customer);
    v1::UnsealCustomerResponse ignored;
    auto ctx = Ctx(tenant);
    return internal_->UnsealCustomer(ctx.get(), r, resp != nullptr ? resp : &ignored);
  }

  grpc::Status Reassign(const std::string& operation_id, const std::string& source,
                        const std::string& target,
                        v1::ReassignCustomerHistoryResponse* resp = nullptr,
                        const std::string& tenant = "t1") {
    v1::ReassignCustomerHistoryRequest r;
    r.set_merge_operation_id(operation_id);
    r.set_source_customer_id(source);
    r.set_target_customer_id(target);
    v1::ReassignCustomerHistoryResponse ignored;
    auto ctx = Ctx(tenant);
    return internal_->ReassignCustomerHistory(ctx.get(), r, resp != nullptr ? resp : &ignored);
  }

  // --- LedgerService (beyond the fixture's) ---------------------------------------

  grpc::Status SetLimit(const std::string& request_id, const std::string& customer, int64_t limit) {
    v1::SetCreditLimitRequest r;
    r.set_request_id(request_id);
    r.mutable_credit_limit()->set_customer_id(customer);
    *r.mutable_credit_limit()->mutable_limit() = Idr(limit);
    v1::SetCreditLimitResponse resp;
    auto ctx = Ctx();
    return ledger_->SetCreditLimit(ctx.get(), r, &resp);
  }

  grpc::Status ApplyCredit(const std::string& request_id, const std::string& customer,
                           v1::ApplyCreditResponse* resp = nullptr) {
    v1::ApplyCreditRequest r;
    r.set_request_id(request_id);
    r.set_customer_id(customer);
    v1::ApplyCreditResponse ignored;
    auto ctx = Ctx();
    return ledger_->ApplyCredit(ctx.get(), r, resp != nullptr ? resp : &ignored);
  }

  std::vector<v1::Sale> Sales(const std::string& customer, const std::string& tenant = "t1") {
    v1::ListSalesRequest r;
    r.set_customer_id(customer);
    r.set_page_size(200);
    v1::ListSalesResponse resp;
    auto ctx = Ctx(tenant);
    grpc::Status s = ledger_->ListSales(ctx.get(), r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(resp.next_page_token().empty());
    return {resp.sales().begin(), resp.sales().end()};
  }

  std::vector<v1::Payment> Payments(const std::string& customer) {
    v1::ListPaymentsRequest r;
    r.set_customer_id(customer);
    r.set_page_size(200);
    v1::ListPaymentsResponse resp;
    auto ctx = Ctx();
    grpc::Status s = ledger_->ListPayments(ctx.get(), r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(resp.next_page_token().empty());
    return {resp.payments().begin(), resp.payments().end()};
  }

  v1::GetCreditLimitResponse CreditLimit(const std::string& customer) {
    v1::GetCreditLimitRequest r;
    r.set_customer_id(customer);
    v1::GetCreditLimitResponse resp;
    auto ctx = Ctx();
    grpc::Status s = ledger_->GetCreditLimit(ctx.get(), r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  std::vector<type::v1::Event> EventsOfType(const std::string& type) {
    std::vector<type::v1::Event> out;
    for (auto& e : Events()) {
      if (e.type() == type) out.push_back(std::move(e));
    }
    return out;
  }

  // The stats a write returned must be what a full recomputation (GetCustomerLedgerStats)
  // gives at the same version.
  void ExpectStatsCurrent(const v1::CustomerLedgerStats& returned, const std::string& customer,
                          const std::string& what) {
    v1::CustomerLedgerStats computed = Stats(customer);
    EXPECT_TRUE(Same(returned, computed)) << what << "\nreturned: " << returned.DebugString()
                                          << "\ncomputed: " << computed.DebugString();
  }
};

// ---------------------------------------------------------------------------------
// SealCustomer (C4 delete, step 1)

TEST_P(LedgerInternalServiceTest, SealOfACustomerWithoutHistoryRefusesEveryLaterWrite) {
  EXPECT_EQ(Balance("cust-1").ledger_version(), 0);
  const absl::Time sealed_at = clock_.Now();
  v1::SealCustomerResponse sealed;
  ASSERT_TRUE(Seal("del-1", "cust-1", &sealed).ok());
  EXPECT_EQ(sealed.customer_id(), "cust-1");
  EXPECT_EQ(sealed.seal_id(), "del-1");
  EXPECT_EQ(Micros(sealed.seal_time()), absl::ToUnixMicros(sealed_at));
  EXPECT_EQ(sealed.ledger_version(), 1);

  // Reads show the seal.
  v1::CustomerBalance balance = Balance("cust-1");
  EXPECT_TRUE(balance.sealed());
  EXPECT_EQ(balance.ledger_version(), 1);
  EXPECT_EQ(balance.balance().amount_minor(), 0);
  EXPECT_TRUE(balance.merged_into_customer_id().empty());
  v1::CustomerLedgerStats stats = Stats("cust-1");
  EXPECT_TRUE(stats.sealed());
  EXPECT_EQ(stats.ledger_version(), 1);
  EXPECT_FALSE(stats.has_history());
  EXPECT_EQ(stats.transaction_count(), 0);

  clock_.Advance(absl::Minutes(1));
  // No sale, payment (not even one kept as credit), credit or limit for it any more.
  Err sale = ExpectError(TrySale("s1", "cust-1", 1000, 0), grpc::StatusCode::FAILED_PRECONDITION,
                         "CUSTOMER_SEALED");
  EXPECT_EQ(sale.metadata["customer_id"], "cust-1");
  EXPECT_EQ(sale.metadata["seal_id"], "del-1");
  ExpectError(TrySale("s2", "cust-1", 1000, 1000), grpc::StatusCode::FAILED_PRECONDITION,
              "CUSTOMER_SEALED");
  Err pay = ExpectError(Pay("p1", "cust-1", 5000, nullptr, /*keep_excess=*/true),
                        grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_SEALED");
  EXPECT_EQ(pay.metadata["seal_id"], "del-1");
  Err limit = ExpectError(SetLimit("lim-1", "cust-1", 100000),
                          grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_SEALED");
  EXPECT_EQ(limit.metadata["customer_id"], "cust-1");
  ExpectError(ApplyCredit("ac-1", "cust-1"), grpc::StatusCode::FAILED_PRECONDITION,
              "CUSTOMER_SEALED");
  EXPECT_TRUE(Sales("cust-1").empty());
  EXPECT_TRUE(Payments("cust-1").empty());
  EXPECT_FALSE(CreditLimit("cust-1").has_credit_limit());
  EXPECT_EQ(Balance("cust-1").ledger_version(), 1);  // the refused writes changed nothing

  // Other customers, and the same id in another tenant, are not affected.
  Sale("s3", "cust-2", 1000, 0);
  Sale("s1", "cust-1", 1000, 0, "t2");
  EXPECT_FALSE(Balance("cust-1", "t2").sealed());
  EXPECT_EQ(Balance("cust-1", "t2").balance().amount_minor(), 1000);

  // A retry of the seal answers as the first call did, even later.
  v1::SealCustomerResponse replay;
  ASSERT_TRUE(Seal("del-1", "cust-1", &replay).ok());
  EXPECT_TRUE(Same(replay, sealed)) << replay.DebugString();
  EXPECT_EQ(Balance("cust-1").ledger_version(), 1);

  // The same seal_id for another customer is refused, and seals nothing.
  Err reused =
      ExpectError(Seal("del-1", "cust-3"), grpc::StatusCode::ALREADY_EXISTS, "REQUEST_ID_REUSED");
  EXPECT_EQ(reused.metadata["request_id"], "del-1");
  EXPECT_FALSE(Balance("cust-3").sealed());
  Sale("s4", "cust-3", 1000, 0);

  // A second delete operation (another seal_id) finds the customer sealed.
  Err twice = ExpectError(Seal("del-2", "cust-1"), grpc::StatusCode::FAILED_PRECONDITION,
                          "CUSTOMER_SEALED");
  EXPECT_EQ(twice.metadata["customer_id"], "cust-1");
  EXPECT_EQ(twice.metadata["seal_id"], "del-1");
  EXPECT_EQ(Balance("cust-1").ledger_version(), 1);

  // Sealing a customer that already has a ledger row (only a credit limit, no entries)
  // works too, and its version grows from where it was.
  ASSERT_TRUE(SetLimit("lim-2", "cust-4", 5000).ok());
  const int64_t before = Balance("cust-4").ledger_version();
  v1::SealCustomerResponse sealed4;
  ASSERT_TRUE(Seal("del-4", "cust-4", &sealed4).ok());
  EXPECT_EQ(sealed4.ledger_version(), before + 1);
  EXPECT_TRUE(Stats("cust-4").sealed());
}

TEST_P(LedgerInternalServiceTest, SealRefusesACustomerWithAnyHistoryAndChangesNothing) {
  // An open sale.
  Sale("s1", "open", 1000, 0);
  // A fully paid sale (its payment counts too).
  Sale("s2", "paid", 1000, 1000);
  // A voided sale.
  auto voided = Sale("s3", "voided", 1000, 0);
  { ASSERT_TRUE(VoidSale("vs1", voided.sale().sale_id(), "mistake").ok()); }
  // Only a payment, kept as credit.
  ASSERT_TRUE(Pay("p1", "payer", 2000, nullptr, /*keep_excess=*/true).ok());

  struct Case {
    std::string customer;
    std::string sale_count;
    std::string payment_count;
  };
  for (const Case& c : std::vector<Case>{
           {"open", "1", "0"}, {"paid", "1", "1"}, {"voided", "1", "0"}, {"payer", "0", "1"}}) {
    SCOPED_TRACE(c.customer);
    const v1::CustomerLedgerStats before = Stats(c.customer);
    const size_t events_before = Events().size();
    Err e = ExpectError(Seal(absl::StrCat("del-", c.customer), c.customer),
                        grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_HAS_HISTORY");
    EXPECT_EQ(e.metadata["customer_id"], c.customer);
    EXPECT_EQ(e.metadata["sale_count"], c.sale_count);
    EXPECT_EQ(e.metadata["payment_count"], c.payment_count);
    // Nothing changed: same version and stats, not sealed, no event, and the customer
    // can still buy.
    const v1::CustomerLedgerStats after = Stats(c.customer);
    EXPECT_TRUE(Same(before, after)) << after.DebugString();
    EXPECT_FALSE(after.sealed());
    EXPECT_FALSE(Balance(c.customer).sealed());
    EXPECT_EQ(Events().size(), events_before);
    v1::RecordSaleResponse later;
    ASSERT_TRUE(TrySale(absl::StrCat("later-", c.customer), c.customer, 500, 0, &later).ok());
    EXPECT_EQ(later.ledger_version(), before.ledger_version() + 1);
    // The refusal is not remembered: the same seal_id answers from the current history.
    Err again = ExpectError(Seal(absl::StrCat("del-", c.customer), c.customer),
                            grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_HAS_HISTORY");
    EXPECT_EQ(again.metadata["sale_count"], absl::StrCat(std::stoi(c.sale_count) + 1));
  }
}

// ---------------------------------------------------------------------------------
// UnsealCustomer (C4 delete, compensation)

TEST_P(LedgerInternalServiceTest, UnsealUndoesTheSealOfTheSameOperationOnly) {
  v1::SealCustomerResponse sealed;
  ASSERT_TRUE(Seal("del-1", "cust-1", &sealed).ok());
  ASSERT_EQ(sealed.ledger_version(), 1);

  // Another operation's seal_id may not lift the seal.
  Err mismatch = ExpectError(Unseal("del-9", "cust-1"), grpc::StatusCode::FAILED_PRECONDITION,
                             "SEAL_MISMATCH");
  EXPECT_EQ(mismatch.metadata["customer_id"], "cust-1");
  EXPECT_EQ(mismatch.metadata["seal_id"], "del-1");
  EXPECT_TRUE(Balance("cust-1").sealed());
  ExpectError(TrySale("s0", "cust-1", 1000, 0), grpc::StatusCode::FAILED_PRECONDITION,
              "CUSTOMER_SEALED");

  v1::UnsealCustomerResponse unsealed;
  ASSERT_TRUE(Unseal("del-1", "cust-1", &unsealed).ok());
  EXPECT_TRUE(unsealed.was_sealed());
  EXPECT_EQ(unsealed.ledger_version(), 2);
  EXPECT_FALSE(Balance("cust-1").sealed());
  EXPECT_FALSE(Stats("cust-1").sealed());
  EXPECT_EQ(Stats("cust-1").ledger_version(), 2);

  // The customer can buy and pay again, and the stats of those writes are right.
  v1::RecordSaleResponse sale;
  ASSERT_TRUE(TrySale("s1", "cust-1", 1000, 0, &sale).ok());
  EXPECT_EQ(sale.ledger_version(), 3);
  EXPECT_FALSE(sale.customer_stats().sealed());
  ExpectStatsCurrent(sale.customer_stats(), "cust-1", "sale after unseal");
  v1::RecordPaymentResponse pay;
  ASSERT_TRUE(Pay("p1", "cust-1", 400, &pay).ok());
  ExpectStatsCurrent(pay.customer_stats(), "cust-1", "payment after unseal");
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 600);

  // The compensation is retryable: a retry answers as the first call did.
  v1::UnsealCustomerResponse replay;
  ASSERT_TRUE(Unseal("del-1", "cust-1", &replay).ok());
  EXPECT_TRUE(Same(replay, unsealed)) << replay.DebugString();

  // Unsealing a customer that is not sealed succeeds and changes nothing.
  const int64_t version = Balance("cust-1").ledger_version();
  v1::UnsealCustomerResponse not_sealed;
  ASSERT_TRUE(Unseal("del-2", "cust-1", &not_sealed).ok());
  EXPECT_FALSE(not_sealed.was_sealed());
  EXPECT_EQ(not_sealed.ledger_version(), version);
  EXPECT_EQ(Balance("cust-1").ledger_version(), version);
  v1::UnsealCustomerResponse never_seen;
  ASSERT_TRUE(Unseal("del-3", "cust-new", &never_seen).ok());
  EXPECT_FALSE(never_seen.was_sealed());
  EXPECT_EQ(never_seen.ledger_version(), 0);

  // A customer whose seal was lifted can be sealed again by a new delete operation (if
  // it still has no history).
  ASSERT_TRUE(Seal("del-4", "cust-2").ok());
  ASSERT_TRUE(Unseal("del-4", "cust-2").ok());
  v1::SealCustomerResponse resealed;
  ASSERT_TRUE(Seal("del-5", "cust-2", &resealed).ok());
  EXPECT_EQ(resealed.ledger_version(), 3);
  EXPECT_TRUE(Balance("cust-2").sealed());
}

TEST_P(LedgerInternalServiceTest, ASealArrivingAfterItsUnsealIsRefused) {
  // The delete's SealCustomer timed out before reaching the ledger; customer-svc
  // compensated with UnsealCustomer (nothing to undo); then the delayed seal arrives.
  v1::UnsealCustomerResponse unsealed;
  ASSERT_TRUE(Unseal("del-1", "cust-1", &unsealed).ok());
  EXPECT_FALSE(unsealed.was_sealed());
  Err late =
      ExpectError(Seal("del-1", "cust-1"), grpc::StatusCode::FAILED_PRECONDITION, "SEAL_MISMATCH");
  EXPECT_EQ(late.metadata["customer_id"], "cust-1");
  EXPECT_FALSE(Balance("cust-1").sealed());
  Sale("s1", "cust-1", 1000, 0);

  // The seal had committed but its answer was lost; customer-svc compensated; then a
  // retry of the seal arrives. It must not report the customer sealed: it is not, and
  // customer-svc would delete a customer that can still buy.
  ASSERT_TRUE(Seal("del-2", "cust-2").ok());
  v1::UnsealCustomerResponse lifted;
  ASSERT_TRUE(Unseal("del-2", "cust-2", &lifted).ok());
  ASSERT_TRUE(lifted.was_sealed());
  ExpectError(Seal("del-2", "cust-2"), grpc::StatusCode::FAILED_PRECONDITION, "SEAL_MISMATCH");
  EXPECT_FALSE(Balance("cust-2").sealed());
  EXPECT_EQ(Balance("cust-2").ledger_version(), 2);
  Sale("s2", "cust-2", 1000, 0);
  // The compensation itself stays retryable.
  v1::UnsealCustomerResponse replay;
  ASSERT_TRUE(Unseal("del-2", "cust-2", &replay).ok());
  EXPECT_TRUE(Same(replay, lifted)) << replay.DebugString();
}

// ---------------------------------------------------------------------------------
// ReassignCustomerHistory (C7 merge, ledger step)

TEST_P(LedgerInternalServiceTest, ReassignMovesTheWholeHistoryToTheTarget) {
  const std::string src = "dup-1";
  const std::string tgt = "keep-1";
  // The source: open, partly paid, voided, refunded (as credit) and open sales; a payment
  // on one sale and one with its excess kept as credit; an own credit limit.
  auto s1 = Sale("src-s1", src, 10000, 0);
  auto s2 = Sale("src-s2", src, 8000, 3000);
  auto s3 = Sale("src-s3", src, 5000, 0);
  auto s4 = Sale("src-s4", src, 6000, 6000);
  auto s5 = Sale("src-s5", src, 2000, 0);
  { ASSERT_TRUE(VoidSale("src-void", s3.sale().sale_id(), "mistake").ok()); }
  {
    v1::RefundSaleRequest rf;
    rf.set_request_id("src-refund");
    rf.set_sale_id(s4.sale().sale_id());
    *rf.mutable_amount() = Idr(2000);
    rf.set_reason("returned goods");
    rf.set_settlement(v1::REFUND_SETTLEMENT_CREDIT);
    v1::RefundSaleResponse rfr;
    auto ctx = Ctx();
    ASSERT_TRUE(ledger_->RefundSale(ctx.get(), rf, &rfr).ok());
  }
  v1::RecordPaymentResponse p1, p2;
  ASSERT_TRUE(Pay("src-p1", src, 4000, &p1, false, {{s1.sale().sale_id(), 4000}}).ok());
  ASSERT_TRUE(Pay("src-p2", src, 1500, &p2, true, {{s2.sale().sale_id(), 1000}}).ok());
  ASSERT_TRUE(SetLimit("src-limit", src, 100000).ok());
  // The target: its own sales and limit.
  auto t1 = Sale("tgt-t1", tgt, 7000, 0);
  auto t2 = Sale("tgt-t2", tgt, 3000, 1000);
  ASSERT_TRUE(SetLimit("tgt-limit", tgt, 50000).ok());

  const v1::CustomerLedgerStats src_before = Stats(src);
  const v1::CustomerLedgerStats tgt_before = Stats(tgt);
  // s1 6000 + s2 4000 + s5 2000 owed; s4's refund 2000 + p2's excess 500 as credit.
  ASSERT_EQ(src_before.balance().amount_minor(), 12000);
  ASSERT_EQ(src_before.credit().amount_minor(), 2500);
  ASSERT_EQ(tgt_before.balance().amount_minor(), 9000);
  std::set<std::string> src_sales, src_payments;
  for (const auto& s : Sales(src)) src_sales.insert(s.sale_id());
  for (const auto& p : Payments(src)) src_payments.insert(p.payment_id());
  ASSERT_EQ(src_sales.size(), 5u);     // the voided one too
  ASSERT_EQ(src_payments.size(), 4u);  // 2 with sales, 2 alone
  const size_t events_before = Events().size();

  clock_.Advance(absl::Minutes(1));
  const absl::Time merged_at = clock_.Now();
  v1::ReassignCustomerHistoryResponse merged;
  ASSERT_TRUE(Reassign("merge-1", src, tgt, &merged).ok());
  EXPECT_EQ(merged.moved_sale_count(), 5);
  EXPECT_EQ(merged.moved_payment_count(), 4);
  EXPECT_EQ(merged.moved_balance().amount_minor(), 12000);
  EXPECT_EQ(merged.moved_balance().currency_code(), "IDR");
  EXPECT_EQ(merged.moved_credit().amount_minor(), 2500);
  EXPECT_EQ(merged.moved_credit().currency_code(), "IDR");
  EXPECT_EQ(merged.source_ledger_version(), src_before.ledger_version() + 1);
  EXPECT_EQ(merged.target_ledger_version(), tgt_before.ledger_version() + 1);
  EXPECT_EQ(Micros(merged.reassign_time()), absl::ToUnixMicros(merged_at));

  // The target holds both histories; its stats are what a recomputation gives.
  const v1::CustomerLedgerStats& ts = merged.target_stats();
  EXPECT_EQ(ts.customer_id(), tgt);
  EXPECT_EQ(ts.ledger_version(), merged.target_ledger_version());
  EXPECT_EQ(ts.balance().amount_minor(), 21000);
  EXPECT_EQ(ts.credit().amount_minor(), 2500);
  EXPECT_EQ(ts.total_spent().amount_minor(),
            src_before.total_spent().amount_minor() + tgt_before.total_spent().amount_minor());
  EXPECT_EQ(ts.transaction_count(),
            src_before.transaction_count() + tgt_before.transaction_count());
  EXPECT_EQ(ts.payment_count(), src_before.payment_count() + tgt_before.payment_count());
  EXPECT_EQ(ts.total_paid().amount_minor(),
            src_before.total_paid().amount_minor() + tgt_before.total_paid().amount_minor());
  EXPECT_EQ(ts.open_sale_count(), src_before.open_sale_count() + tgt_before.open_sale_count());
  EXPECT_EQ(Micros(ts.first_purchase_time()), Micros(src_before.first_purchase_time()));
  EXPECT_EQ(Micros(ts.last_purchase_time()), Micros(tgt_before.last_purchase_time()));
  EXPECT_TRUE(ts.has_history());
  EXPECT_FALSE(ts.sealed());
  EXPECT_TRUE(ts.merged_into_customer_id().empty());
  ExpectStatsCurrent(ts, tgt, "merge response");
  v1::CustomerBalance tb = Balance(tgt);
  EXPECT_EQ(tb.balance().amount_minor(), 21000);
  EXPECT_EQ(tb.credit().amount_minor(), 2500);
  EXPECT_EQ(tb.ledger_version(), merged.target_ledger_version());
  EXPECT_EQ(tb.open_sale_count(), 5);

  // The source reads zero, pointing at the target.
  v1::CustomerBalance sb = Balance(src);
  EXPECT_EQ(sb.balance().amount_minor(), 0);
  EXPECT_EQ(sb.credit().amount_minor(), 0);
  EXPECT_EQ(sb.open_sale_count(), 0);
  EXPECT_EQ(sb.merged_into_customer_id(), tgt);
  EXPECT_FALSE(sb.sealed());
  EXPECT_EQ(sb.ledger_version(), merged.source_ledger_version());
  v1::CustomerLedgerStats ss = Stats(src);
  EXPECT_EQ(ss.merged_into_customer_id(), tgt);
  EXPECT_EQ(ss.transaction_count(), 0);
  EXPECT_EQ(ss.total_spent().amount_minor(), 0);
  EXPECT_FALSE(ss.has_history());
  EXPECT_TRUE(Sales(src).empty());
  EXPECT_TRUE(Payments(src).empty());

  // The moved entries are listed for the target, marked with their origin, with their
  // ids and numbers kept.
  std::map<std::string, int64_t> numbers_before;
  for (const auto* s : {&s1, &s2, &s3, &s4, &s5}) {
    numbers_before[s->sale().sale_id()] = s->sale().number();
  }
  std::vector<v1::Sale> tgt_sales = Sales(tgt);
  ASSERT_EQ(tgt_sales.size(), 7u);
  for (const v1::Sale& s : tgt_sales) {
    EXPECT_EQ(s.customer_id(), tgt);
    if (src_sales.count(s.sale_id()) > 0) {
      EXPECT_EQ(s.reassigned_from_customer_id(), src) << s.sale_id();
      EXPECT_EQ(s.number(), numbers_before[s.sale_id()]);
    } else {
      EXPECT_TRUE(s.reassigned_from_customer_id().empty()) << s.sale_id();
    }
  }
  std::vector<v1::Payment> tgt_payments = Payments(tgt);
  ASSERT_EQ(tgt_payments.size(), 5u);  // the 4 moved + t2's payment with the sale
  int moved_payments = 0;
  for (const v1::Payment& p : tgt_payments) {
    EXPECT_EQ(p.customer_id(), tgt);
    if (src_payments.count(p.payment_id()) > 0) {
      ++moved_payments;
      EXPECT_EQ(p.reassigned_from_customer_id(), src) << p.payment_id();
    } else {
      EXPECT_TRUE(p.reassigned_from_customer_id().empty()) << p.payment_id();
    }
  }
  EXPECT_EQ(moved_payments, 4);
  {
    v1::GetSaleRequest get;
    get.set_sale_id(s1.sale().sale_id());
    get.set_view(v1::SALE_VIEW_FULL);
    v1::GetSaleResponse got;
    auto ctx = Ctx();
    ASSERT_TRUE(ledger_->GetSale(ctx.get(), get, &got).ok());
    EXPECT_EQ(got.sale().customer_id(), tgt);
    EXPECT_EQ(got.sale().reassigned_from_customer_id(), src);
    EXPECT_EQ(got.sale().outstanding().amount_minor(), 6000);
    ASSERT_EQ(got.sale().allocations_size(), 1);
    EXPECT_EQ(got.sale().allocations(0).payment_id(), p1.payment().payment_id());
    get.set_sale_id(s4.sale().sale_id());
    auto ctx2 = Ctx();
    ASSERT_TRUE(ledger_->GetSale(ctx2.get(), get, &got).ok());
    ASSERT_EQ(got.sale().refunds_size(), 1);
    EXPECT_EQ(got.sale().refunds(0).customer_id(), tgt);
    v1::GetPaymentRequest gp;
    gp.set_payment_id(p2.payment().payment_id());
    v1::GetPaymentResponse gpr;
    auto ctx3 = Ctx();
    ASSERT_TRUE(ledger_->GetPayment(ctx3.get(), gp, &gpr).ok());
    EXPECT_EQ(gpr.payment().customer_id(), tgt);
    EXPECT_EQ(gpr.payment().reassigned_from_customer_id(), src);
    EXPECT_EQ(gpr.payment().unallocated_amount().amount_minor(), 500);
  }

  // The source's own limit is gone; the target's stays.
  v1::GetCreditLimitResponse src_limit = CreditLimit(src);
  EXPECT_FALSE(src_limit.has_credit_limit());
  EXPECT_EQ(src_limit.effective_source(), v1::CREDIT_LIMIT_SOURCE_NONE);
  v1::GetCreditLimitResponse tgt_limit = CreditLimit(tgt);
  ASSERT_TRUE(tgt_limit.has_credit_limit());
  EXPECT_EQ(tgt_limit.credit_limit().limit().amount_minor(), 50000);
  EXPECT_EQ(tgt_limit.effective_source(), v1::CREDIT_LIMIT_SOURCE_CUSTOMER);
  EXPECT_EQ(tgt_limit.balance().amount_minor(), 21000);
  {
    v1::ListCreditLimitsRequest list;
    v1::ListCreditLimitsResponse limits;
    auto ctx = Ctx();
    ASSERT_TRUE(ledger_->ListCreditLimits(ctx.get(), list, &limits).ok());
    ASSERT_EQ(limits.credit_limits_size(), 1);
    EXPECT_EQ(limits.credit_limits(0).customer_id(), tgt);
  }
  // Receivables list the target only.
  {
    v1::ListReceivablesRequest rr;
    v1::ListReceivablesResponse rec;
    auto ctx = Ctx();
    ASSERT_TRUE(ledger_->ListReceivables(ctx.get(), rr, &rec).ok());
    ASSERT_EQ(rec.receivables_size(), 1);
    EXPECT_EQ(rec.receivables(0).customer_id(), tgt);
    EXPECT_EQ(rec.receivables(0).balance().amount_minor(), 21000);
  }

  // Events: the removed limit and CustomerReassigned, with both customers' versions.
  std::vector<type::v1::Event> events = Events();
  ASSERT_EQ(events.size(), events_before + 2);
  const type::v1::Event& limit_event = events[events_before];
  EXPECT_EQ(limit_event.type(), "kelola.ledger.v1.CreditLimitChanged");
  EXPECT_EQ(limit_event.aggregate_id(), "customer:" + src);
  v1::CreditLimitChanged limit_changed;
  ASSERT_TRUE(limit_event.payload().UnpackTo(&limit_changed));
  EXPECT_EQ(limit_changed.customer_id(), src);
  EXPECT_FALSE(limit_changed.has_credit_limit());
  const type::v1::Event& event = events.back();
  EXPECT_EQ(event.type(), "kelola.ledger.v1.CustomerReassigned");
  EXPECT_EQ(event.aggregate_type(), "customer");
  EXPECT_EQ(event.aggregate_id(), tgt);
  EXPECT_EQ(event.aggregate_version(), merged.target_ledger_version());
  EXPECT_EQ(event.request_id(), "merge-1");
  EXPECT_EQ(event.principal(), "customer-svc");
  v1::CustomerReassigned reassigned;
  ASSERT_TRUE(event.payload().UnpackTo(&reassigned));
  EXPECT_EQ(reassigned.customer_id(), tgt);
  EXPECT_EQ(reassigned.source_customer_id(), src);
  EXPECT_EQ(reassigned.merge_operation_id(), "merge-1");
  EXPECT_EQ(reassigned.ledger_version(), merged.target_ledger_version());
  EXPECT_EQ(reassigned.source_ledger_version(), merged.source_ledger_version());
  EXPECT_TRUE(Same(reassigned.stats(), merged.target_stats()));
  EXPECT_EQ(reassigned.source_stats().merged_into_customer_id(), tgt);
  EXPECT_EQ(reassigned.source_stats().balance().amount_minor(), 0);
  EXPECT_EQ(reassigned.source_stats().ledger_version(), merged.source_ledger_version());
  EXPECT_EQ(
      std::set<std::string>(reassigned.moved_sale_ids().begin(), reassigned.moved_sale_ids().end()),
      src_sales);
  EXPECT_EQ(std::set<std::string>(reassigned.moved_payment_ids().begin(),
                                  reassigned.moved_payment_ids().end()),
            src_payments);

  // The source takes no more entries: record on the survivor.
  Err sale = ExpectError(TrySale("src-s6", src, 1000, 0), grpc::StatusCode::FAILED_PRECONDITION,
                         "CUSTOMER_MERGED");
  EXPECT_EQ(sale.metadata["customer_id"], src);
  EXPECT_EQ(sale.metadata["merged_into_customer_id"], tgt);
  Err pay = ExpectError(Pay("src-p3", src, 1000, nullptr, true),
                        grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_MERGED");
  EXPECT_EQ(pay.metadata["merged_into_customer_id"], tgt);
  // Not even for the moved sales.
  ExpectError(Pay("src-p4", src, 1000, nullptr, false, {{s1.sale().sale_id(), 1000}}),
              grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_MERGED");
  ExpectError(SetLimit("src-limit-2", src, 1), grpc::StatusCode::FAILED_PRECONDITION,
              "CUSTOMER_MERGED");
  ExpectError(ApplyCredit("src-ac", src), grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_MERGED");
  EXPECT_EQ(Balance(src).ledger_version(), merged.source_ledger_version());
  // A retry of a sale recorded before the merge still gets its original answer.
  v1::RecordSaleResponse old;
  ASSERT_TRUE(TrySale("src-s1", src, 10000, 0, &old).ok());
  EXPECT_EQ(old.sale().sale_id(), s1.sale().sale_id());

  // The moved sales are the target's now: void, refund, pay and credit work through it,
  // and every write's stats match a recomputation.
  {
    v1::VoidSaleResponse vsr;
    ASSERT_TRUE(VoidSale("tgt-void-s5", s5.sale().sale_id(), "wrong customer", &vsr).ok());
    EXPECT_EQ(vsr.sale().customer_id(), tgt);
    EXPECT_EQ(vsr.ledger_version(), merged.target_ledger_version() + 1);
    EXPECT_EQ(vsr.customer_stats().balance().amount_minor(), 19000);
    ExpectStatsCurrent(vsr.customer_stats(), tgt, "void of a moved sale");
  }
  {
    v1::RefundSaleRequest rf;
    rf.set_request_id("tgt-refund-s1");
    rf.set_sale_id(s1.sale().sale_id());
    *rf.mutable_amount() = Idr(1000);
    rf.set_reason("returned goods");
    v1::RefundSaleResponse rfr;
    auto ctx = Ctx();
    ASSERT_TRUE(ledger_->RefundSale(ctx.get(), rf, &rfr).ok());
    EXPECT_EQ(rfr.refund().customer_id(), tgt);
    EXPECT_EQ(rfr.sale().outstanding().amount_minor(), 5000);
    EXPECT_EQ(rfr.customer_stats().balance().amount_minor(), 18000);
    ExpectStatsCurrent(rfr.customer_stats(), tgt, "refund of a moved sale");
  }
  {
    v1::RecordPaymentResponse pay_s2;
    ASSERT_TRUE(Pay("tgt-p1", tgt, 4000, &pay_s2, false, {{s2.sale().sale_id(), 4000}}).ok());
    ASSERT_EQ(pay_s2.allocated_sales_size(), 1);
    EXPECT_EQ(pay_s2.allocated_sales(0).status(), v1::SALE_STATUS_PAID);
    EXPECT_EQ(pay_s2.customer_stats().balance().amount_minor(), 14000);
    ExpectStatsCurrent(pay_s2.customer_stats(), tgt, "payment of a moved sale");
  }
  {
    v1::ApplyCreditResponse applied;
    ASSERT_TRUE(ApplyCredit("tgt-ac", tgt, &applied).ok());
    EXPECT_EQ(applied.applied_amount().amount_minor(), 2500);  // the moved credit
    EXPECT_EQ(applied.customer_stats().balance().amount_minor(), 11500);
    EXPECT_EQ(applied.customer_stats().credit().amount_minor(), 0);
    ExpectStatsCurrent(applied.customer_stats(), tgt, "credit applied after merge");
  }
  {
    v1::RecordSaleResponse more;
    ASSERT_TRUE(TrySale("tgt-t3", tgt, 500, 0, &more).ok());
    EXPECT_EQ(more.customer_stats().balance().amount_minor(), 12000);
    ExpectStatsCurrent(more.customer_stats(), tgt, "sale after merge");
  }

  // A retry of the merge (the saga resuming) answers as the first call did.
  v1::ReassignCustomerHistoryResponse replay;
  ASSERT_TRUE(Reassign("merge-1", src, tgt, &replay).ok());
  EXPECT_TRUE(Same(replay, merged)) << replay.DebugString();
  // The same operation id for other customers is refused.
  Err reused = ExpectError(Reassign("merge-1", src, "keep-2"), grpc::StatusCode::ALREADY_EXISTS,
                           "REQUEST_ID_REUSED");
  EXPECT_EQ(reused.metadata["request_id"], "merge-1");
  ExpectError(Reassign("merge-1", "dup-2", tgt), grpc::StatusCode::ALREADY_EXISTS,
              "REQUEST_ID_REUSED");
  // Another operation cannot merge the source again, to the same or another target.
  Err again = ExpectError(Reassign("merge-2", src, tgt), grpc::StatusCode::FAILED_PRECONDITION,
                          "CUSTOMER_MERGED");
  EXPECT_EQ(again.metadata["customer_id"], src);
  EXPECT_EQ(again.metadata["merged_into_customer_id"], tgt);
  ExpectError(Reassign("merge-3", src, "keep-2"), grpc::StatusCode::FAILED_PRECONDITION,
              "CUSTOMER_MERGED");
  EXPECT_EQ(Stats(tgt).balance().amount_minor(), 12000);
  EXPECT_EQ(Balance(src).ledger_version(), merged.source_ledger_version());
}

TEST_P(LedgerInternalServiceTest, ReassignRefusesSameSealedAndMergedCustomers) {
  Sale("a1", "a", 1000, 0);
  Sale("b1", "b", 2000, 0);

  // Source and target the same.
  Err same = ExpectError(Reassign("m-same", "a", "a"), grpc::StatusCode::INVALID_ARGUMENT,
                         "REASSIGN_SAME_CUSTOMER");
  EXPECT_EQ(same.fields.count("target_customer_id"), 1u);

  // A sealed (deleted) target or source.
  ASSERT_TRUE(Seal("del-s", "sealed").ok());
  Err sealed_target = ExpectError(Reassign("m-1", "a", "sealed"),
                                  grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_SEALED");
  EXPECT_EQ(sealed_target.metadata["customer_id"], "sealed");
  EXPECT_EQ(sealed_target.metadata["seal_id"], "del-s");
  Err sealed_source = ExpectError(Reassign("m-2", "sealed", "a"),
                                  grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_SEALED");
  EXPECT_EQ(sealed_source.metadata["customer_id"], "sealed");
  // Nothing moved, nothing marked.
  EXPECT_EQ(Balance("a").balance().amount_minor(), 1000);
  EXPECT_TRUE(Balance("a").merged_into_customer_id().empty());
  EXPECT_EQ(Balance("a").ledger_version(), 1);

  // A merged target: merge a into b, then c into a.
  ASSERT_TRUE(Reassign("m-3", "a", "b").ok());
  Err merged_target = ExpectError(Reassign("m-4", "c", "a"), grpc::StatusCode::FAILED_PRECONDITION,
                                  "CUSTOMER_MERGED");
  EXPECT_EQ(merged_target.metadata["customer_id"], "a");
  EXPECT_EQ(merged_target.metadata["merged_into_customer_id"], "b");
  // The way back is closed too.
  ExpectError(Reassign("m-5", "b", "a"), grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_MERGED");
  EXPECT_EQ(Balance("b").balance().amount_minor(), 3000);

  // A merged customer cannot be sealed (deleted) by the ledger either.
  Err seal_merged =
      ExpectError(Seal("del-a", "a"), grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_MERGED");
  EXPECT_EQ(seal_merged.metadata["merged_into_customer_id"], "b");
  // Unsealing a merged customer changes nothing.
  v1::UnsealCustomerResponse unsealed;
  ASSERT_TRUE(Unseal("del-a", "a", &unsealed).ok());
  EXPECT_FALSE(unsealed.was_sealed());
  EXPECT_EQ(Balance("a").merged_into_customer_id(), "b");
}

TEST_P(LedgerInternalServiceTest, ReassignOfASourceWithoutHistoryMergesItToo) {
  Sale("t1", "target", 1000, 0);
  const int64_t target_version = Balance("target").ledger_version();
  v1::ReassignCustomerHistoryResponse merged;
  ASSERT_TRUE(Reassign("m-empty", "never-bought", "target", &merged).ok());
  EXPECT_EQ(merged.moved_sale_count(), 0);
  EXPECT_EQ(merged.moved_payment_count(), 0);
  EXPECT_EQ(merged.moved_balance().amount_minor(), 0);
  EXPECT_EQ(merged.moved_credit().amount_minor(), 0);
  EXPECT_EQ(merged.source_ledger_version(), 1);
  EXPECT_EQ(merged.target_ledger_version(), target_version + 1);
  EXPECT_EQ(merged.target_stats().balance().amount_minor(), 1000);
  ExpectStatsCurrent(merged.target_stats(), "target", "merge of an empty source");
  EXPECT_EQ(Balance("never-bought").merged_into_customer_id(), "target");
  ExpectError(TrySale("n1", "never-bought", 1000, 0), grpc::StatusCode::FAILED_PRECONDITION,
              "CUSTOMER_MERGED");
  // A target the ledger has never seen is fine as well.
  Sale("x1", "x", 700, 200);
  v1::ReassignCustomerHistoryResponse into_new;
  ASSERT_TRUE(Reassign("m-new", "x", "brand-new", &into_new).ok());
  EXPECT_EQ(into_new.moved_sale_count(), 1);
  EXPECT_EQ(into_new.moved_payment_count(), 1);
  EXPECT_EQ(into_new.moved_balance().amount_minor(), 500);
  EXPECT_EQ(into_new.target_ledger_version(), 1);
  EXPECT_EQ(Balance("brand-new").balance().amount_minor(), 500);
  ExpectStatsCurrent(into_new.target_stats(), "brand-new", "merge into a new target");
}

// A merge that brings the target a sale older than its open ones: the target's next
// oldest-first payment pays the moved sale first (the target's ledger row forgets where its
// open sales began, as every write but sales and oldest-first payments does).
TEST_P(LedgerInternalServiceTest, AMergedOlderSaleIsPaidFirst) {
  Sale("t1", "target", 1000, 0);
  auto t2 = Sale("t2", "target", 1000, 0);
  v1::RecordPaymentResponse before;
  ASSERT_TRUE(Pay("tp1", "target", 1200, &before).ok());  // t1 paid, t2 owes 800
  const v1::RecordSaleResponse b0 = SaleAt("b0", "source", 500, 0, clock_.Now() - absl::Hours(5));
  ASSERT_TRUE(Reassign("m-old", "source", "target").ok());
  v1::RecordPaymentResponse after;
  ASSERT_TRUE(Pay("tp2", "target", 600, &after).ok());
  ASSERT_EQ(after.payment().allocations_size(), 2);
  EXPECT_EQ(after.payment().allocations(0).sale_id(), b0.sale().sale_id());
  EXPECT_EQ(after.payment().allocations(0).amount().amount_minor(), 500);
  EXPECT_EQ(after.payment().allocations(1).sale_id(), t2.sale().sale_id());
  EXPECT_EQ(after.payment().allocations(1).amount().amount_minor(), 100);
  EXPECT_EQ(Balance("target").balance().amount_minor(), 700);
}

// ---------------------------------------------------------------------------------
// Events of the seal protocol

TEST_P(LedgerInternalServiceTest, SealAndUnsealEmitEventsWithTheCustomersVersions) {
  v1::SealCustomerResponse sealed;
  ASSERT_TRUE(Seal("del-1", "cust-1", &sealed).ok());
  v1::UnsealCustomerResponse unsealed;
  ASSERT_TRUE(Unseal("del-1", "cust-1", &unsealed).ok());
  // Retries, refusals and no-op unseals emit nothing.
  EXPECT_FALSE(Seal("del-1", "cust-1").ok());
  ASSERT_TRUE(Unseal("del-1", "cust-1").ok());
  ASSERT_TRUE(Unseal("del-2", "cust-2").ok());
  Sale("s1", "cust-3", 1000, 0);
  ASSERT_FALSE(Seal("del-3", "cust-3").ok());

  std::vector<type::v1::Event> events = Events();
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0].type(), "kelola.ledger.v1.CustomerSealed");
  EXPECT_EQ(events[0].aggregate_type(), "customer");
  EXPECT_EQ(events[0].aggregate_id(), "cust-1");
  EXPECT_EQ(events[0].aggregate_version(), sealed.ledger_version());
  EXPECT_EQ(events[0].request_id(), "del-1");
  EXPECT_EQ(events[0].principal(), "customer-svc");
  v1::CustomerSealed seal_event;
  ASSERT_TRUE(events[0].payload().UnpackTo(&seal_event));
  EXPECT_EQ(seal_event.customer_id(), "cust-1");
  EXPECT_EQ(seal_event.seal_id(), "del-1");
  EXPECT_EQ(seal_event.ledger_version(), sealed.ledger_version());
  EXPECT_TRUE(seal_event.stats().sealed());
  EXPECT_EQ(seal_event.stats().ledger_version(), sealed.ledger_version());

  EXPECT_EQ(events[1].type(), "kelola.ledger.v1.CustomerUnsealed");
  EXPECT_EQ(events[1].aggregate_id(), "cust-1");
  EXPECT_EQ(events[1].aggregate_version(), unsealed.ledger_version());
  v1::CustomerUnsealed unseal_event;
  ASSERT_TRUE(events[1].payload().UnpackTo(&unseal_event));
  EXPECT_EQ(unseal_event.seal_id(), "del-1");
  EXPECT_EQ(unseal_event.ledger_version(), unsealed.ledger_version());
  EXPECT_FALSE(unseal_event.stats().sealed());
  EXPECT_EQ(unseal_event.stats().ledger_version(), unsealed.ledger_version());

  EXPECT_EQ(events[2].type(), "kelola.ledger.v1.SaleRecorded");
}

// ---------------------------------------------------------------------------------
// Races (ARCHITECTURE.md: the protocols must be race-free)

// Many sales for a fresh customer racing its seal: either the seal wins and no sale is
// recorded, or a sale wins and the seal is refused - never a sealed customer with sales.
TEST_P(LedgerInternalServiceTest, SalesRacingASealNeverBothSucceed) {
  constexpr int kRounds = 20;
  constexpr int kSales = 8;
  int seal_won = 0, sales_won = 0;
  const absl::Time start = absl::Now();
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::string customer = absl::StrCat("race-", round);
    absl::Notification go;
    std::atomic<int> sent{0};
    std::vector<grpc::Status> sales(kSales);
    grpc::Status seal;
    std::vector<std::thread> threads;
    for (int i = 0; i < kSales; ++i) {
      threads.emplace_back([&, i] {
        go.WaitForNotification();
        sent.fetch_add(1);
        sales[i] = TrySale(absl::StrCat(customer, "-s", i), customer, 1000, 0);
      });
    }
    // The seal goes out after a varying number of the sales, so that both orders occur.
    const int after = round % (kSales + 1);
    threads.emplace_back([&] {
      go.WaitForNotification();
      const absl::Time deadline = absl::Now() + absl::Seconds(2);
      while (sent.load() < after && absl::Now() < deadline) std::this_thread::yield();
      seal = Seal(absl::StrCat("del-", customer), customer);
    });
    go.Notify();
    for (auto& t : threads) t.join();

    int ok_sales = 0, sealed_sales = 0;
    for (const auto& s : sales) {
      if (s.ok()) {
        ++ok_sales;
      } else {
        Err e = Decode(s);
        EXPECT_EQ(e.reason, "CUSTOMER_SEALED") << s.error_message();
        if (e.reason == "CUSTOMER_SEALED") ++sealed_sales;
      }
    }
    const std::vector<v1::Sale> recorded = Sales(customer);
    const v1::CustomerLedgerStats stats = Stats(customer);
    if (seal.ok()) {
      ++seal_won;
      EXPECT_EQ(ok_sales, 0);
      EXPECT_EQ(sealed_sales, kSales);
      EXPECT_TRUE(recorded.empty());
      EXPECT_TRUE(stats.sealed());
      EXPECT_FALSE(stats.has_history());
    } else {
      ++sales_won;
      Err e = ExpectError(seal, grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_HAS_HISTORY");
      EXPECT_GE(std::stoi(e.metadata["sale_count"]), 1);
      EXPECT_EQ(ok_sales, kSales);
      EXPECT_EQ(recorded.size(), static_cast<size_t>(kSales));
      EXPECT_FALSE(stats.sealed());
      EXPECT_EQ(stats.transaction_count(), kSales);
      EXPECT_EQ(stats.balance().amount_minor(), 1000 * kSales);
    }
  }
  const absl::Duration took = absl::Now() - start;
  std::cout << GetParam() << ": seal won " << seal_won << ", sales won " << sales_won << " in "
            << took << "\n";
  EXPECT_EQ(seal_won + sales_won, kRounds);
  EXPECT_LT(took, absl::Seconds(30));
}

// Sales for the source racing its merge: every sale either committed before the merge
// (and moved with it) or was refused CUSTOMER_MERGED; none is left behind on the source.
TEST_P(LedgerInternalServiceTest, SalesRacingAMergeAreMovedOrRefused) {
  constexpr int kRounds = 10;
  constexpr int kSales = 6;
  int moved_total = 0, refused_total = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::string src = absl::StrCat("src-", round);
    const std::string tgt = absl::StrCat("tgt-", round);
    Sale(absl::StrCat(tgt, "-own"), tgt, 100, 0);
    absl::Notification go;
    std::atomic<int> sent{0};
    std::vector<grpc::Status> sales(kSales);
    std::vector<v1::RecordSaleResponse> responses(kSales);
    grpc::Status merge;
    v1::ReassignCustomerHistoryResponse merged;
    std::vector<std::thread> threads;
    for (int i = 0; i < kSales; ++i) {
      threads.emplace_back([&, i] {
        go.WaitForNotification();
        sent.fetch_add(1);
        sales[i] = TrySale(absl::StrCat(src, "-s", i), src, 1000, 0, &responses[i]);
      });
    }
    const int after = round % (kSales + 1);
    threads.emplace_back([&] {
      go.WaitForNotification();
      const absl::Time deadline = absl::Now() + absl::Seconds(2);
      while (sent.load() < after && absl::Now() < deadline) std::this_thread::yield();
      merge = Reassign(absl::StrCat("merge-", round), src, tgt, &merged);
    });
    go.Notify();
    for (auto& t : threads) t.join();

    ASSERT_TRUE(merge.ok()) << merge.error_message();
    std::set<std::string> committed;
    for (int i = 0; i < kSales; ++i) {
      if (sales[i].ok()) {
        committed.insert(responses[i].sale().sale_id());
      } else {
        Err e = ExpectError(sales[i], grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_MERGED");
        EXPECT_EQ(e.metadata["merged_into_customer_id"], tgt);
      }
    }
    moved_total += static_cast<int>(committed.size());
    refused_total += kSales - static_cast<int>(committed.size());
    EXPECT_EQ(merged.moved_sale_count(), static_cast<int64_t>(committed.size()));
    EXPECT_EQ(merged.moved_balance().amount_minor(), 1000 * static_cast<int64_t>(committed.size()));
    EXPECT_TRUE(Sales(src).empty());
    std::set<std::string> moved;
    for (const auto& s : Sales(tgt)) {
      if (s.reassigned_from_customer_id() == src) moved.insert(s.sale_id());
    }
    EXPECT_EQ(moved, committed);
    EXPECT_EQ(Balance(tgt).balance().amount_minor(),
              100 + 1000 * static_cast<int64_t>(committed.size()));
    EXPECT_EQ(Balance(src).balance().amount_minor(), 0);
  }
  std::cout << GetParam() << ": sales moved " << moved_total << ", refused " << refused_total
            << "\n";
}

// ---------------------------------------------------------------------------------
// Bad input and tenancy

TEST_P(LedgerInternalServiceTest, BadInputNamesEveryField) {
  Err seal = ExpectError(Seal("", ""), grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT");
  EXPECT_EQ(seal.fields, (std::set<std::string>{"seal_id", "customer_id"}));
  Err seal_bad = ExpectError(Seal(std::string(101, 'x'), "not an id!"),
                             grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT");
  EXPECT_EQ(seal_bad.fields, (std::set<std::string>{"seal_id", "customer_id"}));
  Err seal_ctrl = ExpectError(Seal("del\n1", std::string(65, 'c')),
                              grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT");
  EXPECT_EQ(seal_ctrl.fields, (std::set<std::string>{"seal_id", "customer_id"}));
  Err seal_one =
      ExpectError(Seal("del-1", ""), grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT");
  EXPECT_EQ(seal_one.fields, (std::set<std::string>{"customer_id"}));

  Err unseal =
      ExpectError(Unseal("", "a/b"), grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT");
  EXPECT_EQ(unseal.fields, (std::set<std::string>{"seal_id", "customer_id"}));

  Err reassign =
      ExpectError(Reassign("", "", ""), grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT");
  EXPECT_EQ(reassign.fields, (std::set<std::string>{"merge_operation_id", "source_customer_id",
                                                    "target_customer_id"}));
  Err reassign_bad = ExpectError(Reassign(std::string(101, 'm'), "bad id", "ok-id"),
                                 grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT");
  EXPECT_EQ(reassign_bad.fields,
            (std::set<std::string>{"merge_operation_id", "source_customer_id"}));
  Err reassign_target = ExpectError(Reassign("m-1", "ok-id", "bad id"),
                                    grpc::StatusCode::INVALID_ARGUMENT, "INVALID_ARGUMENT");
  EXPECT_EQ(reassign_target.fields, (std::set<std::string>{"target_customer_id"}));

  // Boundaries that are valid: 100-character operation ids, 64-character customer ids.
  ASSERT_TRUE(Seal(std::string(100, 'x'), std::string(64, 'c')).ok());
  ASSERT_TRUE(Unseal(std::string(100, 'x'), std::string(64, 'c')).ok());
  ASSERT_TRUE(Reassign(std::string(100, 'm'), "s", std::string(64, 't')).ok());

  // Nothing was written by the refused calls.
  EXPECT_EQ(Events().size(), 3u);
}

TEST_P(LedgerInternalServiceTest, TenantIsRequiredAndScopesEverything) {
  // Without a tenant: the same error as every LedgerService RPC.
  v1::GetBalanceRequest gb;
  gb.set_customer_id("cust-1");
  v1::GetBalanceResponse gbr;
  auto c1 = Ctx("");
  const Err reference = Decode(ledger_->GetBalance(c1.get(), gb, &gbr));
  ASSERT_EQ(reference.code, grpc::StatusCode::UNAUTHENTICATED);
  for (const grpc::Status& s :
       {Seal("del-1", "cust-1", nullptr, ""), Unseal("del-1", "cust-1", nullptr, ""),
        Reassign("m-1", "cust-1", "cust-2", nullptr, "")}) {
    Err e = Decode(s);
    EXPECT_EQ(e.code, reference.code);
    EXPECT_EQ(e.reason, reference.reason);
    EXPECT_EQ(e.domain, reference.domain);
    EXPECT_EQ(e.reason, "TENANT_MISSING");
  }
  // A malformed tenant likewise.
  auto c2 = Ctx("bad tenant!");
  const Err bad_reference = Decode(ledger_->GetBalance(c2.get(), gb, &gbr));
  ASSERT_EQ(bad_reference.code, grpc::StatusCode::INVALID_ARGUMENT);
  for (const grpc::Status& s : {Seal("del-1", "cust-1", nullptr, "bad tenant!"),
                                Unseal("del-1", "cust-1", nullptr, "bad tenant!"),
                                Reassign("m-1", "cust-1", "cust-2", nullptr, "bad tenant!")}) {
    Err e = Decode(s);
    EXPECT_EQ(e.code, bad_reference.code);
    EXPECT_EQ(e.reason, bad_reference.reason);
    EXPECT_EQ(e.fields, bad_reference.fields);
  }
  EXPECT_TRUE(Events().empty());

  // Operation ids, seals and merges are per tenant.
  Sale("s1", "cust-1", 1000, 0, "t1");
  ASSERT_TRUE(Seal("del-1", "cust-1", nullptr, "t2").ok());  // t2's cust-1 has no history
  EXPECT_TRUE(Balance("cust-1", "t2").sealed());
  EXPECT_FALSE(Balance("cust-1", "t1").sealed());
  Sale("s2", "cust-1", 1000, 0, "t1");
  ExpectError(TrySale("s1", "cust-1", 1000, 0, nullptr, "t2"),
              grpc::StatusCode::FAILED_PRECONDITION, "CUSTOMER_SEALED");
  // t1 reuses the seal_id for another customer: not a reuse, another tenant's key.
  ASSERT_TRUE(Seal("del-1", "cust-9", nullptr, "t1").ok());

  Sale("s3", "cust-2", 500, 0, "t2");
  v1::ReassignCustomerHistoryResponse merged;
  ASSERT_TRUE(Reassign("m-1", "cust-1", "cust-2", &merged, "t1").ok());
  EXPECT_EQ(merged.moved_sale_count(), 2);
  EXPECT_EQ(merged.target_stats().balance().amount_minor(), 2000);  // t2's sale not counted
  EXPECT_EQ(Balance("cust-2", "t2").balance().amount_minor(), 500);
  EXPECT_TRUE(Balance("cust-1", "t2").merged_into_customer_id().empty());
  EXPECT_EQ(Sales("cust-2", "t2").size(), 1u);
  EXPECT_EQ(Balance("cust-1", "t1").merged_into_customer_id(), "cust-2");
}

TEST_P(LedgerInternalServiceTest, MovedEntriesNameTheirFirstOwnerThroughChainsOfMerges) {
  Sale("a-sale", "cust-a", 10000, 0);
  Sale("b-sale", "cust-b", 20000, 0);
  ASSERT_TRUE(Reassign("merge-ab", "cust-a", "cust-b").ok());
  ASSERT_TRUE(Reassign("merge-bc", "cust-b", "cust-c").ok());
  std::map<std::string, std::string> first_owner;
  for (const v1::Sale& sale : Sales("cust-c")) {
    EXPECT_EQ(sale.customer_id(), "cust-c");
    first_owner[sale.request_id()] = sale.reassigned_from_customer_id();
  }
  EXPECT_EQ(first_owner["a-sale"], "cust-a");
  EXPECT_EQ(first_owner["b-sale"], "cust-b");
  EXPECT_EQ(Stats("cust-c").balance().amount_minor(), 30000);
}

INSTANTIATE_TEST_SUITE_P(Drivers, LedgerInternalServiceTest,
                         ::testing::Values("sqlite", "postgres", "sqlite_group_commit",
                                           "postgres_group_commit"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::ledger::testing_support
