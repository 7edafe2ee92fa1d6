// LedgerService through a real in-process gRPC server on a loopback port, against real
// databases (SQLite file and PostgreSQL, each with and without group commit). customer-svc
// is replaced by a fake CustomerDirectory; everything else is the production object graph
// (tests/ledger-svc/api/ledger_api_fixture.h).

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/ledger/v1/events.pb.h"
#include "libs/errors/errors.h"
#include "tests/ledger-svc/api/ledger_api_fixture.h"

namespace kelola::ledger::testing_support {
namespace {

class LedgerServiceTest : public LedgerApiTest {
 protected:
  LedgerServiceTest() : LedgerApiTest("cashier-1") {}

  int SaleCount(const std::string& tenant = "t1") {
    v1::ListSalesRequest r;
    r.set_page_size(200);
    v1::ListSalesResponse resp;
    auto ctx = Ctx(tenant);
    EXPECT_TRUE(ledger_->ListSales(ctx.get(), r, &resp).ok());
    return resp.sales_size();
  }
};

// ---------------------------------------------------------------------------------
// L1 record a sale

TEST_P(LedgerServiceTest, RecordSaleComputesTotalsStatusAndStats) {
  v1::RecordSaleRequest r = SaleRequest("r1", "cust-1", 0, 0);
  r.clear_items();
  auto* a = r.add_items();
  a->set_name("Gula");
  a->set_quantity_milli(1500);            // 1.5 kg
  *a->mutable_unit_price() = Idr(10001);  // 15001.5 -> 15002
  *a->mutable_line_discount() = Idr(2);
  auto* b = r.add_items();
  b->set_name("Teh");
  b->set_quantity_milli(2000);
  *b->mutable_unit_price() = Idr(5000);
  *r.mutable_order_discount() = Idr(1000);
  *r.mutable_total() = Idr(15000 + 10000 - 1000);
  *r.mutable_amount_paid_now() = Idr(4000);
  r.set_payment_method(v1::PAYMENT_METHOD_CASH);
  v1::RecordSaleResponse resp;
  auto ctx = Ctx();
  ASSERT_TRUE(ledger_->RecordSale(ctx.get(), r, &resp).ok());
  const v1::Sale& sale = resp.sale();
  EXPECT_EQ(sale.number(), 1);
  EXPECT_EQ(sale.items(0).line_amount().amount_minor(), 15000);
  EXPECT_EQ(sale.subtotal().amount_minor(), 25000);
  EXPECT_EQ(sale.total().amount_minor(), 24000);
  EXPECT_EQ(sale.paid_amount().amount_minor(), 4000);
  EXPECT_EQ(sale.outstanding().amount_minor(), 20000);
  EXPECT_EQ(sale.status(), v1::SALE_STATUS_PARTIAL);
  EXPECT_EQ(sale.recorded_by(), "cashier-1");
  EXPECT_EQ(sale.allocations_size(), 1);
  EXPECT_EQ(sale.allocations(0).kind(), v1::ALLOCATION_KIND_SALE_PAYMENT);
  EXPECT_EQ(resp.sale_payment().origin(), v1::PAYMENT_ORIGIN_SALE);
  EXPECT_EQ(resp.sale_payment().amount().amount_minor(), 4000);
  EXPECT_EQ(resp.ledger_version(), 1);
  EXPECT_EQ(resp.customer_stats().balance().amount_minor(), 20000);
  EXPECT_EQ(resp.customer_stats().total_spent().amount_minor(), 24000);
  EXPECT_EQ(resp.customer_stats().transaction_count(), 1);
  EXPECT_TRUE(resp.customer_stats().has_first_purchase_time());

  v1::GetSaleRequest get;
  get.set_sale_id(sale.sale_id());
  v1::GetSaleResponse got;
  auto ctx2 = Ctx();
  ASSERT_TRUE(ledger_->GetSale(ctx2.get(), get, &got).ok());
  EXPECT_EQ(got.sale().outstanding().amount_minor(), 20000);
  EXPECT_EQ(got.sale().items_size(), 2);
  EXPECT_EQ(got.sale().allocations_size(), 1);

  // Unpaid and fully paid.
  EXPECT_EQ(Sale("r2", "cust-1", 500, 0).sale().status(), v1::SALE_STATUS_UNPAID);
  EXPECT_EQ(Sale("r3", "cust-1", 500, 500).sale().status(), v1::SALE_STATUS_PAID);
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 20500);
}

TEST_P(LedgerServiceTest, WalkInSalesMustBePaidInFull) {
  v1::RecordSaleResponse resp;
  auto ctx = Ctx();
  Err e = Decode(ledger_->RecordSale(ctx.get(), SaleRequest("w1", "", 1000, 400), &resp));
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.reason, "CUSTOMER_REQUIRED");
  auto paid = Sale("w2", "", 1000, 1000);
  EXPECT_EQ(paid.sale().status(), v1::SALE_STATUS_PAID);
  EXPECT_EQ(paid.ledger_version(), 0);
  EXPECT_FALSE(paid.has_customer_stats());
  EXPECT_EQ(SaleCount(), 1);
}

TEST_P(LedgerServiceTest, TotalMismatchIsRefused) {
  v1::RecordSaleRequest r = SaleRequest("m1", "cust-1", 1000, 0);
  *r.mutable_total() = Idr(999);
  v1::RecordSaleResponse resp;
  auto ctx = Ctx();
  Err e = Decode(ledger_->RecordSale(ctx.get(), r, &resp));
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.reason, "TOTAL_MISMATCH");
  EXPECT_EQ(e.metadata["computed_total"], "1000");
  EXPECT_EQ(SaleCount(), 0);
}

TEST_P(LedgerServiceTest, BadSaleInputNamesEveryFieldAndWritesNothing) {
  v1::RecordSaleRequest r = SaleRequest("", "bad id!", 1000, 0);
  r.set_store_id("");
  r.mutable_items(0)->set_quantity_milli(-5);
  r.mutable_items(0)->set_name("");
  *r.add_items()->mutable_unit_price() = Idr(-3);
  r.mutable_items(1)->set_name("x");
  r.mutable_items(1)->set_quantity_milli(0);
  *r.mutable_amount_paid_now() = Idr(10);
  r.set_payment_method(static_cast<v1::PaymentMethod>(42));
  *r.mutable_sale_time() = Ts(clock_.Now() + absl::Minutes(30));
  r.mutable_due_date()->set_year(2026);
  r.mutable_due_date()->set_month(2);
  r.mutable_due_date()->set_day(30);
  v1::RecordSaleResponse resp;
  auto ctx = Ctx();
  Err e = Decode(ledger_->RecordSale(ctx.get(), r, &resp));
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.reason, "INVALID_ARGUMENT");
  for (const char* field :
       {"request_id", "customer_id", "store_id", "items[0].quantity_milli", "items[0].name",
        "items[1].quantity_milli", "items[1].unit_price.amount_minor", "payment_method",
        "sale_time", "due_date"}) {
    EXPECT_EQ(e.fields.count(field), 1u) << field;
  }
  // No items at all.
  v1::RecordSaleRequest empty = SaleRequest("e1", "cust-1", 0, 0);
  empty.clear_items();
  auto ctx2 = Ctx();
  Err e2 = Decode(ledger_->RecordSale(ctx2.get(), empty, &resp));
  EXPECT_EQ(e2.fields.count("items"), 1u);
  // Paying more than the total.
  auto ctx3 = Ctx();
  Err e3 = Decode(ledger_->RecordSale(ctx3.get(), SaleRequest("e2", "cust-1", 100, 200), &resp));
  EXPECT_EQ(e3.fields.count("amount_paid_now"), 1u);
  EXPECT_EQ(SaleCount(), 0);
  EXPECT_TRUE(Events().empty());
}

TEST_P(LedgerServiceTest, CurrencyComesFromTheTenantAndMismatchesAreRefused) {
  directory_.SetTenantSettings("thai", {"THB", "Asia/Bangkok"});
  v1::RecordSaleRequest r = SaleRequest("c1", "cust-1", 1000, 0);
  v1::RecordSaleResponse resp;
  auto ctx = Ctx("thai");
  Err e = Decode(ledger_->RecordSale(ctx.get(), r, &resp));
  EXPECT_EQ(e.reason, "CURRENCY_MISMATCH");
  EXPECT_EQ(e.fields.count("items[0].unit_price.currency_code"), 1u);
  EXPECT_EQ(e.fields.count("total.currency_code"), 1u);
  for (auto* m : {r.mutable_items(0)->mutable_unit_price(), r.mutable_total()}) {
    m->set_currency_code("THB");
  }
  auto ctx2 = Ctx("thai");
  ASSERT_TRUE(ledger_->RecordSale(ctx2.get(), r, &resp).ok());
  EXPECT_EQ(resp.sale().total().currency_code(), "THB");
  EXPECT_EQ(Balance("cust-1", "thai").balance().currency_code(), "THB");
  // The IDR tenant refuses the THB sale.
  auto ctx3 = Ctx();
  EXPECT_EQ(Decode(ledger_->RecordSale(ctx3.get(), r, &resp)).reason, "CURRENCY_MISMATCH");
}

TEST_P(LedgerServiceTest, OverflowIsInvalidArgument) {
  v1::RecordSaleRequest r = SaleRequest("o1", "cust-1", INT64_MAX, 0);
  auto* item = r.add_items();
  item->set_name("more");
  item->set_quantity_milli(1000);
  *item->mutable_unit_price() = Idr(INT64_MAX);
  v1::RecordSaleResponse resp;
  auto ctx = Ctx();
  Err e = Decode(ledger_->RecordSale(ctx.get(), r, &resp));
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.reason, "AMOUNT_OVERFLOW");
}

TEST_P(LedgerServiceTest, CustomerCheckRefusesUnknownArchivedAndUnavailable) {
  directory_.Refuse("gone", errors::Error(absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND", "x"));
  directory_.Refuse("arch",
                    errors::Error(absl::StatusCode::kFailedPrecondition, "CUSTOMER_ARCHIVED", "x"));
  v1::RecordSaleResponse resp;
  auto c1 = Ctx();
  EXPECT_EQ(Decode(ledger_->RecordSale(c1.get(), SaleRequest("k1", "gone", 100, 0), &resp)).reason,
            "CUSTOMER_NOT_FOUND");
  auto c2 = Ctx();
  Err archived = Decode(ledger_->RecordSale(c2.get(), SaleRequest("k2", "arch", 100, 0), &resp));
  EXPECT_EQ(archived.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(archived.reason, "CUSTOMER_ARCHIVED");
  directory_.SetUnavailable(true);
  auto c3 = Ctx();
  Err down = Decode(ledger_->RecordSale(c3.get(), SaleRequest("k3", "cust-1", 100, 0), &resp));
  EXPECT_EQ(down.code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(down.reason, "CUSTOMER_SERVICE_UNAVAILABLE");
  // Walk-in sales do not ask customer-svc.
  Sale("k4", "", 100, 100);
  EXPECT_EQ(SaleCount(), 1);
}

// ---------------------------------------------------------------------------------
// L6 idempotency

TEST_P(LedgerServiceTest, ReplayReturnsTheOriginalResponseAndReuseIsRefused) {
  auto first = Sale("same", "cust-1", 1000, 0);
  Sale("other", "cust-1", 50, 0);
  v1::RecordSaleResponse again;
  auto ctx = Ctx();
  ASSERT_TRUE(ledger_->RecordSale(ctx.get(), SaleRequest("same", "cust-1", 1000, 0), &again).ok());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  auto ctx2 = Ctx();
  Err e = Decode(ledger_->RecordSale(ctx2.get(), SaleRequest("same", "cust-1", 1001, 0), &again));
  EXPECT_EQ(e.code, grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(e.reason, "REQUEST_ID_REUSED");
  EXPECT_EQ(SaleCount(), 2);
  // Scoped per tenant: the same id in another tenant is a new sale.
  Sale("same", "cust-1", 1000, 0, "t2");
  EXPECT_EQ(SaleCount("t2"), 1);

  v1::RecordPaymentResponse p1, p2;
  ASSERT_TRUE(Pay("pay", "cust-1", 300, &p1).ok());
  ASSERT_TRUE(Pay("pay", "cust-1", 300, &p2).ok());
  EXPECT_EQ(p1.SerializeAsString(), p2.SerializeAsString());
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 750);
}

TEST_P(LedgerServiceTest, ReplayDaysLaterIgnoresClockDependentChecks) {
  // Due today, sale time "now": valid when recorded.
  v1::RecordSaleRequest r = SaleRequest("offline-1", "cust-1", 900, 0);
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), absl::FixedTimeZone(25200));
  r.mutable_due_date()->set_year(static_cast<int32_t>(today.year()));
  r.mutable_due_date()->set_month(today.month());
  r.mutable_due_date()->set_day(today.day());
  v1::RecordSaleResponse first, again;
  auto c1 = Ctx();
  ASSERT_TRUE(ledger_->RecordSale(c1.get(), r, &first).ok());
  // Three days later the device re-syncs; customer-svc is down by now, too.
  clock_.Advance(absl::Hours(72));
  directory_.SetUnavailable(true);
  auto c2 = Ctx();
  ASSERT_TRUE(ledger_->RecordSale(c2.get(), r, &again).ok());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(SaleCount(), 1);
}

TEST_P(LedgerServiceTest, ConcurrentDuplicatesRecordOneSale) {
  const v1::RecordSaleRequest request = SaleRequest("dup", "cust-1", 1234, 0);
  std::vector<std::thread> threads;
  std::vector<v1::RecordSaleResponse> responses(8);
  std::vector<grpc::Status> statuses(8);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      auto ctx = Ctx();
      statuses[i] = ledger_->RecordSale(ctx.get(), request, &responses[i]);
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(statuses[i].ok()) << statuses[i].error_message();
    EXPECT_EQ(responses[i].sale().sale_id(), responses[0].sale().sale_id());
    EXPECT_EQ(responses[i].ledger_version(), 1);
  }
  EXPECT_EQ(SaleCount(), 1);
  EXPECT_EQ(Events().size(), 1u);
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 1234);
}

TEST_P(LedgerServiceTest, ReplayWorksAfterReopeningTheDatabase) {
  auto first = Sale("persist", "cust-1", 777, 0);
  Stop();
  Start();
  v1::RecordSaleResponse again;
  auto ctx = Ctx();
  ASSERT_TRUE(
      ledger_->RecordSale(ctx.get(), SaleRequest("persist", "cust-1", 777, 0), &again).ok());
  EXPECT_EQ(again.SerializeAsString(), first.SerializeAsString());
  EXPECT_EQ(SaleCount(), 1);
  EXPECT_EQ(Stats("cust-1").ledger_version(), 1);
}

// ---------------------------------------------------------------------------------
// L2, L9 payments

TEST_P(LedgerServiceTest, PaymentsAllocateOldestFirstAndRefuseOverpayment) {
  auto s1 = Sale("s1", "cust-1", 1000, 0);
  auto s2 = Sale("s2", "cust-1", 2000, 500);
  auto s3 = Sale("s3", "cust-1", 3000, 0);
  v1::RecordPaymentResponse resp;
  ASSERT_TRUE(Pay("p1", "cust-1", 2000, &resp).ok());
  ASSERT_EQ(resp.payment().allocations_size(), 2);
  EXPECT_EQ(resp.payment().allocations(0).sale_id(), s1.sale().sale_id());
  EXPECT_EQ(resp.payment().allocations(0).amount().amount_minor(), 1000);
  EXPECT_EQ(resp.payment().allocations(1).sale_id(), s2.sale().sale_id());
  EXPECT_EQ(resp.payment().allocations(1).amount().amount_minor(), 1000);
  EXPECT_EQ(resp.allocated_sales(0).status(), v1::SALE_STATUS_PAID);
  EXPECT_EQ(resp.allocated_sales(1).status(), v1::SALE_STATUS_PARTIAL);
  EXPECT_EQ(resp.customer_stats().balance().amount_minor(), 3500);
  EXPECT_EQ(resp.ledger_version(), 4);

  Err over = Decode(Pay("p2", "cust-1", 4000, &resp));
  EXPECT_EQ(over.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(over.reason, "OVERPAYMENT");
  EXPECT_EQ(over.metadata["outstanding"], "3500");
  EXPECT_EQ(over.metadata["excess"], "500");
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 3500);

  ASSERT_TRUE(Pay("p3", "cust-1", 4000, &resp, /*keep_excess=*/true).ok());
  EXPECT_EQ(resp.payment().unallocated_amount().amount_minor(), 500);
  auto balance = Balance("cust-1");
  EXPECT_EQ(balance.balance().amount_minor(), 0);
  EXPECT_EQ(balance.credit().amount_minor(), 500);
  EXPECT_EQ(balance.ledger_version(), 5);

  // The credit pays part of the next sale, when asked for explicitly.
  v1::RecordSaleRequest r = SaleRequest("s4", "cust-1", 800, 0);
  *r.mutable_apply_credit() = Idr(500);
  v1::RecordSaleResponse sale;
  auto ctx = Ctx();
  ASSERT_TRUE(ledger_->RecordSale(ctx.get(), r, &sale).ok());
  EXPECT_EQ(sale.sale().outstanding().amount_minor(), 300);
  EXPECT_EQ(sale.sale().allocations(0).kind(), v1::ALLOCATION_KIND_CREDIT);
  EXPECT_EQ(sale.customer_stats().credit().amount_minor(), 0);
  v1::RecordSaleRequest r2 = SaleRequest("s5", "cust-1", 800, 0);
  *r2.mutable_apply_credit() = Idr(1);
  auto ctx2 = Ctx();
  EXPECT_EQ(Decode(ledger_->RecordSale(ctx2.get(), r2, &sale)).reason, "INSUFFICIENT_CREDIT");

  // Payment history, newest first.
  v1::ListPaymentsRequest list;
  list.set_customer_id("cust-1");
  v1::ListPaymentsResponse payments;
  auto ctx3 = Ctx();
  ASSERT_TRUE(ledger_->ListPayments(ctx3.get(), list, &payments).ok());
  ASSERT_EQ(payments.payments_size(), 3);  // p3, p1 and the payment made with s2
  EXPECT_EQ(payments.payments(0).request_id(), "p3");
  list.set_filter("origin = PAYMENT");
  auto ctx4 = Ctx();
  ASSERT_TRUE(ledger_->ListPayments(ctx4.get(), list, &payments).ok());
  EXPECT_EQ(payments.payments_size(), 2);
}

// Where a customer's open sales begin, as its ledger row keeps it (settled_before): the
// sale time and number of the first sale an oldest-first payment may have to read.
std::optional<std::pair<int64_t, int64_t>> SettledBefore(db::Database& db,
                                                         const std::string& customer) {
  std::optional<std::pair<int64_t, int64_t>> out;
  absl::Status s = db.InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto row = tx.QueryOne(
        "SELECT settled_before_time, settled_before_number FROM customer_ledgers WHERE "
        "tenant_id = 't1' AND customer_id = ?",
        {customer});
    if (!row.ok()) return row.status();
    if (!row->IsNull(0)) out = std::make_pair(row->GetInt(0), row->GetInt(1));
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::pair<int64_t, int64_t> PlaceOf(const v1::Sale& sale) {
  return {absl::ToUnixMicros(absl::FromUnixSeconds(sale.sale_time().seconds()) +
                             absl::Nanoseconds(sale.sale_time().nanos())),
          sale.number()};
}

TEST_P(LedgerServiceTest, OldestFirstPaymentsReadFromWhereTheOpenSalesBegin) {
  auto s1 = Sale("s1", "cust-1", 1000, 0);
  auto s2 = Sale("s2", "cust-1", 1000, 0);
  auto s3 = Sale("s3", "cust-1", 1000, 0);
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), std::nullopt);  // not known until a payment reads
  v1::RecordPaymentResponse p1;
  ASSERT_TRUE(Pay("p1", "cust-1", 1500, &p1).ok());  // s1 paid, s2 half
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), PlaceOf(s2.sale()));
  v1::RecordPaymentResponse p2;
  ASSERT_TRUE(Pay("p2", "cust-1", 200, &p2).ok());
  ASSERT_EQ(p2.payment().allocations_size(), 1);
  EXPECT_EQ(p2.payment().allocations(0).sale_id(), s2.sale().sale_id());

  // Voiding p1 makes s1 owe again: the next payment pays it first.
  ASSERT_TRUE(VoidPayment("vp1", p1.payment().payment_id(), "recorded twice").ok());
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), std::nullopt);
  v1::RecordPaymentResponse p3;
  ASSERT_TRUE(Pay("p3", "cust-1", 400, &p3).ok());
  ASSERT_EQ(p3.payment().allocations_size(), 1);
  EXPECT_EQ(p3.payment().allocations(0).sale_id(), s1.sale().sale_id());
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), PlaceOf(s1.sale()));

  // A sale recorded late, with a sale time before s1's, is paid before s1.
  const v1::RecordSaleResponse s0 = SaleAt("s0", "cust-1", 700, 0, clock_.Now() - absl::Hours(1));
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), PlaceOf(s0.sale()));
  v1::RecordPaymentResponse p4;
  ASSERT_TRUE(Pay("p4", "cust-1", 900, &p4).ok());
  ASSERT_EQ(p4.payment().allocations_size(), 2);
  EXPECT_EQ(p4.payment().allocations(0).sale_id(), s0.sale().sale_id());
  EXPECT_EQ(p4.payment().allocations(0).amount().amount_minor(), 700);
  EXPECT_EQ(p4.payment().allocations(1).sale_id(), s1.sale().sale_id());
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 3700 - 400 - 900 - 200);

  // A bound that the row's last write did not set is not trusted: a ledger-svc from before
  // it (during a rolling upgrade) bumps the version and leaves the bound behind. Here the
  // bound left says s3, with s1 and s2 still open before it.
  const auto wrong = PlaceOf(s3.sale());
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) {
                   return tx
                       .Execute(
                           "UPDATE customer_ledgers SET ledger_version = ledger_version + 1, "
                           "settled_before_time = ?, settled_before_number = ? WHERE tenant_id "
                           "= 't1' AND customer_id = 'cust-1'",
                           {wrong.first, wrong.second})
                       .status();
                 })
                  .ok());
  v1::RecordPaymentResponse p5;
  ASSERT_TRUE(Pay("p5", "cust-1", 100, &p5).ok());
  ASSERT_EQ(p5.payment().allocations_size(), 1);
  EXPECT_EQ(p5.payment().allocations(0).sale_id(), s1.sale().sale_id());
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), PlaceOf(s1.sale()));
}

// The writes other than sales and oldest-first payments: a payment with explicit
// allocations keeps the bound (settling named sales reopens none); a refund and applied
// credit forget it (BumpCustomer's default), and the payment after them reads from the
// first sale and finds the oldest open one.
TEST_P(LedgerServiceTest, OtherWritesKeepOrForgetWhereTheOpenSalesBegin) {
  Sale("s1", "cust-1", 1000, 0);
  auto s2 = Sale("s2", "cust-1", 1000, 0);
  auto s3 = Sale("s3", "cust-1", 1000, 0);
  ASSERT_TRUE(Pay("p1", "cust-1", 1200).ok());  // s1 paid, s2 owes 800
  ASSERT_EQ(SettledBefore(*db_, "cust-1"), PlaceOf(s2.sale()));
  v1::RecordPaymentResponse named;
  ASSERT_TRUE(Pay("p2", "cust-1", 1000, &named, false, {{s3.sale().sale_id(), 1000}}).ok());
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), PlaceOf(s2.sale()));
  EXPECT_EQ(named.customer_stats().open_sale_count(), 1);

  // A refund of part of s2: forgotten; the next payment still pays s2.
  v1::RefundSaleRequest rf;
  rf.set_request_id("rf1");
  rf.set_sale_id(s2.sale().sale_id());
  *rf.mutable_amount() = Idr(100);
  rf.set_reason("returned goods");
  v1::RefundSaleResponse rfr;
  auto c1 = Ctx();
  ASSERT_TRUE(ledger_->RefundSale(c1.get(), rf, &rfr).ok());
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), std::nullopt);
  v1::RecordPaymentResponse p3;
  ASSERT_TRUE(Pay("p3", "cust-1", 100, &p3).ok());
  ASSERT_EQ(p3.payment().allocations_size(), 1);
  EXPECT_EQ(p3.payment().allocations(0).sale_id(), s2.sale().sale_id());
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), PlaceOf(s2.sale()));

  // Credit applied oldest first: pays s2's rest, then forgets the bound.
  ASSERT_TRUE(Pay("dep", "cust-1", 900, nullptr, /*keep_excess=*/true).ok());  // 600 to s2
  auto s4 = Sale("s4", "cust-1", 1000, 0);
  v1::ApplyCreditRequest ac;
  ac.set_request_id("ac1");
  ac.set_customer_id("cust-1");
  v1::ApplyCreditResponse acr;
  auto c2 = Ctx();
  ASSERT_TRUE(ledger_->ApplyCredit(c2.get(), ac, &acr).ok());
  ASSERT_EQ(acr.allocations_size(), 1);
  EXPECT_EQ(acr.allocations(0).sale_id(), s4.sale().sale_id());
  EXPECT_EQ(acr.allocations(0).amount().amount_minor(), 300);
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), std::nullopt);
  v1::RecordPaymentResponse p4;
  ASSERT_TRUE(Pay("p4", "cust-1", 700, &p4).ok());
  ASSERT_EQ(p4.payment().allocations_size(), 1);
  EXPECT_EQ(p4.payment().allocations(0).sale_id(), s4.sale().sale_id());
  EXPECT_EQ(p4.customer_stats().open_sale_count(), 0);
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 0);
}

// Sales recorded at one time are paid in the order of their numbers, and the bound
// follows them; a voided sale forgets the bound, and the payments after it skip the void.
TEST_P(LedgerServiceTest, SalesAtOneTimeAndVoidedSalesKeepTheOldestFirstOrder) {
  const absl::Time at = clock_.Now() - absl::Hours(2);
  std::vector<v1::RecordSaleResponse> e;
  for (int i = 0; i < 3; ++i) e.push_back(SaleAt(absl::StrCat("e", i), "cust-1", 1000, 0, at));
  ASSERT_EQ(PlaceOf(e[0].sale()).first, PlaceOf(e[2].sale()).first);
  ASSERT_LT(PlaceOf(e[0].sale()), PlaceOf(e[1].sale()));
  ASSERT_LT(PlaceOf(e[1].sale()), PlaceOf(e[2].sale()));
  v1::RecordPaymentResponse p1;
  ASSERT_TRUE(Pay("p1", "cust-1", 1500, &p1).ok());  // e0 paid, e1 half
  ASSERT_EQ(p1.payment().allocations_size(), 2);
  EXPECT_EQ(p1.payment().allocations(0).sale_id(), e[0].sale().sale_id());
  EXPECT_EQ(p1.payment().allocations(1).sale_id(), e[1].sale().sale_id());
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), PlaceOf(e[1].sale()));
  v1::RecordPaymentResponse p2;
  ASSERT_TRUE(Pay("p2", "cust-1", 600, &p2).ok());  // e1's rest, then e2
  ASSERT_EQ(p2.payment().allocations_size(), 2);
  EXPECT_EQ(p2.payment().allocations(0).sale_id(), e[1].sale().sale_id());
  EXPECT_EQ(p2.payment().allocations(0).amount().amount_minor(), 500);
  EXPECT_EQ(p2.payment().allocations(1).sale_id(), e[2].sale().sale_id());
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), PlaceOf(e[2].sale()));

  // An open sale before e2, voided: the bound is forgotten, and the next payment, reading
  // from the first sale, skips the void and pays e2.
  const v1::RecordSaleResponse v0 = SaleAt("v0", "cust-1", 700, 0, clock_.Now() - absl::Hours(3));
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), PlaceOf(v0.sale()));
  ASSERT_TRUE(VoidSale("vs1", v0.sale().sale_id(), "wrong customer").ok());
  EXPECT_EQ(SettledBefore(*db_, "cust-1"), std::nullopt);
  v1::RecordPaymentResponse p3;
  ASSERT_TRUE(Pay("p3", "cust-1", 900, &p3).ok());
  ASSERT_EQ(p3.payment().allocations_size(), 1);
  EXPECT_EQ(p3.payment().allocations(0).sale_id(), e[2].sale().sale_id());
  EXPECT_EQ(p3.payment().allocations(0).amount().amount_minor(), 900);
  EXPECT_EQ(p3.customer_stats().open_sale_count(), 0);
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 0);
}

TEST_P(LedgerServiceTest, ExplicitAllocationsAreChecked) {
  auto mine = Sale("a1", "cust-1", 1000, 0);
  auto theirs = Sale("a2", "cust-2", 1000, 0);
  v1::RecordPaymentResponse resp;
  Err foreign = Decode(Pay("pa", "cust-1", 500, &resp, false, {{theirs.sale().sale_id(), 500}}));
  EXPECT_EQ(foreign.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(foreign.reason, "ALLOCATION_FOREIGN_SALE");
  EXPECT_EQ(foreign.fields.count("allocations[0].sale_id"), 1u);
  Err exceeds = Decode(Pay("pb", "cust-1", 1500, &resp, false, {{mine.sale().sale_id(), 1500}}));
  EXPECT_EQ(exceeds.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(exceeds.reason, "ALLOCATION_EXCEEDS_OUTSTANDING");
  Err bad = Decode(Pay("pc", "cust-1", 100, &resp, false,
                       {{mine.sale().sale_id(), 100}, {mine.sale().sale_id(), 50}}));
  EXPECT_EQ(bad.reason, "INVALID_ARGUMENT");
  EXPECT_EQ(bad.fields.count("allocations[1].sale_id"), 1u);
  EXPECT_EQ(bad.fields.count("allocations"), 1u);
  ASSERT_TRUE(Pay("pd", "cust-1", 400, &resp, false, {{mine.sale().sale_id(), 400}}).ok());
  EXPECT_EQ(resp.allocated_sales(0).outstanding().amount_minor(), 600);
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 600);
  EXPECT_EQ(Balance("cust-2").balance().amount_minor(), 1000);
}

TEST_P(LedgerServiceTest, BadPaymentInputNamesEveryField) {
  v1::RecordPaymentRequest r;
  r.set_payment_id("no spaces");
  *r.mutable_amount() = Idr(-1);
  r.set_method(static_cast<v1::PaymentMethod>(99));
  *r.mutable_received_time() = Ts(clock_.Now() + absl::Hours(1));
  v1::RecordPaymentResponse resp;
  auto ctx = Ctx();
  Err e = Decode(ledger_->RecordPayment(ctx.get(), r, &resp));
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  for (const char* field : {"request_id", "payment_id", "customer_id", "amount.amount_minor",
                            "method", "received_time"}) {
    EXPECT_EQ(e.fields.count(field), 1u) << field;
  }
}

// ---------------------------------------------------------------------------------
// L7 voids and refunds, exact balances

TEST_P(LedgerServiceTest, BalancesStayExactThroughVoidsAndRefunds) {
  auto s1 = Sale("s1", "cust-1", 10000, 2000);  // owes 8000
  auto s2 = Sale("s2", "cust-1", 5000, 0);      // owes 5000
  v1::RecordPaymentResponse pay;
  ASSERT_TRUE(Pay("p1", "cust-1", 9000, &pay).ok());  // s1 paid, s2 owes 4000
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 4000);

  // Voiding the payment makes both sales owe again.
  v1::VoidPaymentRequest vp;
  vp.set_request_id("vp1");
  vp.set_payment_id(pay.payment().payment_id());
  vp.set_reason("recorded twice");
  v1::VoidPaymentResponse vpr;
  auto c1 = Ctx();
  ASSERT_TRUE(ledger_->VoidPayment(c1.get(), vp, &vpr).ok());
  EXPECT_EQ(vpr.payment().status(), v1::PAYMENT_STATUS_VOIDED);
  EXPECT_EQ(vpr.payment().void_info().voided_by(), "cashier-1");
  EXPECT_EQ(vpr.affected_sales_size(), 2);
  EXPECT_EQ(vpr.customer_stats().balance().amount_minor(), 13000);
  auto c1b = Ctx();
  EXPECT_EQ(Decode(ledger_->VoidPayment(
                       c1b.get(),
                       [&] {
                         auto again = vp;
                         again.set_request_id("vp2");
                         return again;
                       }(),
                       &vpr))
                .reason,
            "PAYMENT_VOIDED");

  // Refund 3000 of s2 (unpaid): only reduces the debt.
  v1::RefundSaleRequest rf;
  rf.set_request_id("rf1");
  rf.set_sale_id(s2.sale().sale_id());
  *rf.mutable_amount() = Idr(3000);
  rf.set_reason("returned goods");
  rf.add_items()->set_item_index(0);
  rf.mutable_items(0)->set_quantity_milli(500);
  v1::RefundSaleResponse rfr;
  auto c2 = Ctx();
  ASSERT_TRUE(ledger_->RefundSale(c2.get(), rf, &rfr).ok());
  EXPECT_EQ(rfr.refund().debt_reduction().amount_minor(), 3000);
  EXPECT_EQ(rfr.refund().returned_amount().amount_minor(), 0);
  EXPECT_EQ(rfr.sale().outstanding().amount_minor(), 2000);
  EXPECT_EQ(rfr.sale().items(0).refunded_quantity_milli(), 500);
  EXPECT_EQ(rfr.customer_stats().balance().amount_minor(), 10000);
  EXPECT_EQ(rfr.customer_stats().total_spent().amount_minor(), 12000);

  // Refund 3000 of s1 (2000 paid at sale, owes 8000): reduces debt only.
  // Then pay s1 fully and refund the rest as credit.
  ASSERT_TRUE(Pay("p2", "cust-1", 8000, &pay, false, {{s1.sale().sale_id(), 8000}}).ok());
  rf.set_request_id("rf2");
  rf.set_sale_id(s1.sale().sale_id());
  *rf.mutable_amount() = Idr(2500);
  rf.set_settlement(v1::REFUND_SETTLEMENT_CREDIT);
  auto c3 = Ctx();
  ASSERT_TRUE(ledger_->RefundSale(c3.get(), rf, &rfr).ok());
  EXPECT_EQ(rfr.refund().returned_amount().amount_minor(), 2500);
  EXPECT_EQ(rfr.sale().status(), v1::SALE_STATUS_PAID);
  EXPECT_EQ(rfr.customer_stats().credit().amount_minor(), 2500);
  EXPECT_EQ(rfr.customer_stats().balance().amount_minor(), 2000);
  rf.set_request_id("rf3");
  *rf.mutable_amount() = Idr(100000);
  auto c4 = Ctx();
  Err exceeds = Decode(ledger_->RefundSale(c4.get(), rf, &rfr));
  EXPECT_EQ(exceeds.reason, "REFUND_EXCEEDS_SALE");
  EXPECT_EQ(exceeds.metadata["refundable"], "7500");

  // Voiding s2 (no later payments) clears its debt.
  v1::VoidSaleRequest vs;
  vs.set_request_id("vs1");
  vs.set_sale_id(s2.sale().sale_id());
  vs.set_reason("wrong customer");
  v1::VoidSaleResponse vsr;
  auto c5 = Ctx();
  ASSERT_TRUE(ledger_->VoidSale(c5.get(), vs, &vsr).ok());
  EXPECT_EQ(vsr.sale().status(), v1::SALE_STATUS_VOIDED);
  EXPECT_EQ(vsr.sale().void_info().reason(), "wrong customer");
  EXPECT_EQ(vsr.customer_stats().balance().amount_minor(), 0);
  EXPECT_EQ(vsr.customer_stats().transaction_count(), 1);
  EXPECT_EQ(vsr.customer_stats().total_spent().amount_minor(), 7500);

  // Voiding s1 needs permission to release p2 as credit.
  vs.set_request_id("vs2");
  vs.set_sale_id(s1.sale().sale_id());
  auto c6 = Ctx();
  EXPECT_EQ(Decode(ledger_->VoidSale(c6.get(), vs, &vsr)).reason, "SALE_HAS_PAYMENTS");
  vs.set_request_id("vs3");
  vs.set_release_payments_as_credit(true);
  auto c7 = Ctx();
  ASSERT_TRUE(ledger_->VoidSale(c7.get(), vs, &vsr).ok());
  EXPECT_EQ(vsr.sale_payment().status(), v1::PAYMENT_STATUS_VOIDED);
  // p2 had 5500 left on s1 after the refund released 2500 of it as credit.
  EXPECT_EQ(vsr.released_credit().amount_minor(), 5500);
  auto balance = Balance("cust-1");
  EXPECT_EQ(balance.balance().amount_minor(), 0);
  // p2's 8000 is all credit again; the sale payment (2000) is voided.
  EXPECT_EQ(balance.credit().amount_minor(), 8000);
  auto stats = Stats("cust-1");
  EXPECT_EQ(stats.transaction_count(), 0);
  EXPECT_EQ(stats.total_spent().amount_minor(), 0);
  EXPECT_TRUE(stats.has_history());
}

// ---------------------------------------------------------------------------------
// L11 events

TEST_P(LedgerServiceTest, EventsFollowEveryChangeInOrderWithVersions) {
  auto s1 = Sale("s1", "cust-1", 1000, 0);
  v1::RecordPaymentResponse pay;
  ASSERT_TRUE(Pay("p1", "cust-1", 400, &pay).ok());
  Sale("w1", "", 300, 300);
  v1::VoidSaleResponse vsr;
  ASSERT_TRUE(VoidSale("v1", s1.sale().sale_id(), "mistake", &vsr,
                       /*release_payments_as_credit=*/true)
                  .ok());

  auto events = Events();
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[0].type(), "kelola.ledger.v1.SaleRecorded");
  EXPECT_EQ(events[1].type(), "kelola.ledger.v1.PaymentRecorded");
  EXPECT_EQ(events[2].type(), "kelola.ledger.v1.SaleRecorded");
  EXPECT_EQ(events[3].type(), "kelola.ledger.v1.SaleVoided");
  EXPECT_EQ(events[0].aggregate_id(), "cust-1");
  EXPECT_EQ(events[0].aggregate_version(), 1);
  EXPECT_EQ(events[1].aggregate_version(), 2);
  EXPECT_EQ(events[2].aggregate_type(), "sale");
  EXPECT_EQ(events[3].aggregate_version(), 3);
  EXPECT_EQ(events[3].principal(), "cashier-1");
  EXPECT_EQ(events[3].request_id(), "v1");
  for (size_t i = 0; i < events.size(); ++i) EXPECT_EQ(events[i].sequence(), int64_t(i + 1));
  v1::PaymentRecorded paid;
  ASSERT_TRUE(events[1].payload().UnpackTo(&paid));
  EXPECT_EQ(paid.ledger_version(), 2);
  EXPECT_EQ(paid.stats().balance().amount_minor(), 600);
  ASSERT_EQ(paid.affected_sales_size(), 1);
  EXPECT_EQ(paid.affected_sales(0).outstanding().amount_minor(), 600);
  v1::SaleVoided voided;
  ASSERT_TRUE(events[3].payload().UnpackTo(&voided));
  EXPECT_EQ(voided.stats().credit().amount_minor(), 400);
  EXPECT_EQ(voided.stats().ledger_version(), 3);
}

// ---------------------------------------------------------------------------------
// L4 lists

TEST_P(LedgerServiceTest, ListSalesPagesNewestFirstAndFilters) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(Sale(absl::StrCat("s", i), "cust-1", 100, i % 2 == 0 ? 0 : 100).sale().sale_id());
  }
  Sale("other", "cust-2", 100, 0);
  v1::ListSalesRequest r;
  r.set_customer_id("cust-1");
  r.set_page_size(2);
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    v1::ListSalesResponse resp;
    auto ctx = Ctx();
    ASSERT_TRUE(ledger_->ListSales(ctx.get(), r, &resp).ok());
    for (const auto& s : resp.sales()) seen.push_back(s.sale_id());
    if (resp.next_page_token().empty()) break;
    r.set_page_token(resp.next_page_token());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{ids[4], ids[3], ids[2], ids[1], ids[0]}));

  v1::ListSalesRequest f;
  f.set_customer_id("cust-1");
  f.set_filter("status = UNPAID");
  v1::ListSalesResponse resp;
  auto c2 = Ctx();
  ASSERT_TRUE(ledger_->ListSales(c2.get(), f, &resp).ok());
  EXPECT_EQ(resp.sales_size(), 3);
  f.set_filter("open = false AND store_id = \"store-1\"");
  auto c3 = Ctx();
  ASSERT_TRUE(ledger_->ListSales(c3.get(), f, &resp).ok());
  EXPECT_EQ(resp.sales_size(), 2);
  const std::string today = absl::FormatTime("%Y-%m-%d", clock_.Now(), absl::FixedTimeZone(25200));
  f.set_filter(absl::StrCat("sale_date >= \"", today, "\" AND sale_date <= \"", today, "\""));
  auto c4 = Ctx();
  ASSERT_TRUE(ledger_->ListSales(c4.get(), f, &resp).ok());
  EXPECT_EQ(resp.sales_size(), 5);
  f.set_filter("sale_date < \"2000-01-01\"");
  auto c5 = Ctx();
  ASSERT_TRUE(ledger_->ListSales(c5.get(), f, &resp).ok());
  EXPECT_EQ(resp.sales_size(), 0);
  f.set_filter("colour = RED");
  auto c6 = Ctx();
  EXPECT_EQ(Decode(ledger_->ListSales(c6.get(), f, &resp)).reason, "INVALID_FILTER");
  f.set_filter("");
  f.set_order_by("price");
  auto c7 = Ctx();
  EXPECT_EQ(Decode(ledger_->ListSales(c7.get(), f, &resp)).reason, "INVALID_ORDER_BY");
  // A token from another listing.
  v1::ListSalesRequest mismatch;
  mismatch.set_customer_id("cust-2");
  mismatch.set_page_token(r.page_token());
  auto c8 = Ctx();
  EXPECT_EQ(Decode(ledger_->ListSales(c8.get(), mismatch, &resp)).reason, "PAGE_TOKEN_MISMATCH");
}

// ---------------------------------------------------------------------------------
// L5, L12 balances, overdue, receivables

TEST_P(LedgerServiceTest, OverdueAmountsAndReceivables) {
  v1::RecordSaleRequest r = SaleRequest("due", "cust-1", 1000, 0);
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), absl::FixedTimeZone(25200));
  const absl::CivilDay due = today + 3;
  r.mutable_due_date()->set_year(static_cast<int32_t>(due.year()));
  r.mutable_due_date()->set_month(due.month());
  r.mutable_due_date()->set_day(due.day());
  v1::RecordSaleResponse resp;
  auto ctx = Ctx();
  ASSERT_TRUE(ledger_->RecordSale(ctx.get(), r, &resp).ok());
  directory_.SetCategory("cust-2", "wholesale");
  Sale("b1", "cust-2", 5000, 0);
  Sale("b2", "cust-3", 300, 0);
  Sale("b3", "cust-4", 300, 300);  // owes nothing
  EXPECT_EQ(Balance("cust-1").overdue_amount().amount_minor(), 0);
  clock_.Advance(absl::Hours(24 * 10));
  auto b = Balance("cust-1");
  EXPECT_EQ(b.overdue_amount().amount_minor(), 1000);
  EXPECT_EQ(b.days_overdue(), 7);
  EXPECT_EQ(b.open_sale_count(), 1);

  v1::BatchGetBalancesRequest batch;
  for (const char* id : {"cust-2", "never-seen", "cust-2"}) batch.add_customer_ids(id);
  v1::BatchGetBalancesResponse batch_resp;
  auto c2 = Ctx();
  ASSERT_TRUE(ledger_->BatchGetBalances(c2.get(), batch, &batch_resp).ok());
  ASSERT_EQ(batch_resp.balances_size(), 3);
  EXPECT_EQ(batch_resp.balances(0).balance().amount_minor(), 5000);
  EXPECT_EQ(batch_resp.balances(1).balance().amount_minor(), 0);
  EXPECT_EQ(batch_resp.balances(1).ledger_version(), 0);

  v1::ListReceivablesRequest lr;
  lr.set_page_size(2);
  v1::ListReceivablesResponse rec;
  auto c3 = Ctx();
  ASSERT_TRUE(ledger_->ListReceivables(c3.get(), lr, &rec).ok());
  EXPECT_EQ(rec.customer_count(), 3);
  EXPECT_EQ(rec.total_balance().amount_minor(), 6300);
  EXPECT_EQ(rec.total_overdue_amount().amount_minor(), 1000);
  ASSERT_EQ(rec.receivables_size(), 2);
  EXPECT_EQ(rec.receivables(0).customer_id(), "cust-2");
  EXPECT_EQ(rec.receivables(1).customer_id(), "cust-1");
  lr.set_page_token(rec.next_page_token());
  auto c4 = Ctx();
  ASSERT_TRUE(ledger_->ListReceivables(c4.get(), lr, &rec).ok());
  ASSERT_EQ(rec.receivables_size(), 1);
  EXPECT_EQ(rec.receivables(0).customer_id(), "cust-3");
  EXPECT_TRUE(rec.next_page_token().empty());

  v1::ListReceivablesRequest oldest;
  oldest.set_order_by("oldest_open_sale_time asc");
  auto c5 = Ctx();
  ASSERT_TRUE(ledger_->ListReceivables(c5.get(), oldest, &rec).ok());
  EXPECT_EQ(rec.receivables(0).customer_id(), "cust-1");
  oldest.set_filter("overdue = true");
  auto c6 = Ctx();
  ASSERT_TRUE(ledger_->ListReceivables(c6.get(), oldest, &rec).ok());
  EXPECT_EQ(rec.customer_count(), 1);
  oldest.set_filter("category_id = \"wholesale\"");
  auto c7 = Ctx();
  ASSERT_TRUE(ledger_->ListReceivables(c7.get(), oldest, &rec).ok());
  ASSERT_EQ(rec.customer_count(), 1);
  EXPECT_EQ(rec.receivables(0).customer_id(), "cust-2");
  EXPECT_EQ(rec.total_balance().amount_minor(), 5000);
}

// ---------------------------------------------------------------------------------
// L10 credit limits

TEST_P(LedgerServiceTest, CreditLimitsRefuseSalesAboveThem) {
  Sale("s0", "cust-1", 600, 0);
  v1::SetCreditLimitRequest set;
  set.set_request_id("lim1");
  set.mutable_credit_limit()->set_customer_id("cust-1");
  *set.mutable_credit_limit()->mutable_limit() = Idr(1000);
  v1::SetCreditLimitResponse set_resp;
  auto c1 = Ctx();
  ASSERT_TRUE(ledger_->SetCreditLimit(c1.get(), set, &set_resp).ok());
  EXPECT_EQ(set_resp.credit_limit().update_by(), "cashier-1");

  v1::RecordSaleResponse resp;
  auto c2 = Ctx();
  Err e = Decode(ledger_->RecordSale(c2.get(), SaleRequest("s1", "cust-1", 500, 0), &resp));
  EXPECT_EQ(e.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(e.reason, "CREDIT_LIMIT_EXCEEDED");
  EXPECT_EQ(e.metadata["limit"], "1000");
  EXPECT_EQ(e.metadata["balance"], "600");
  EXPECT_EQ(e.metadata["attempted"], "500");
  // Paid in part, so that only 400 goes on credit: allowed.
  Sale("s2", "cust-1", 500, 100);
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 1000);

  // A category limit applies to customers without their own.
  directory_.SetCategory("cust-2", "wholesale");
  set.set_request_id("lim2");
  set.mutable_credit_limit()->set_category_id("wholesale");
  *set.mutable_credit_limit()->mutable_limit() = Idr(0);
  auto c3 = Ctx();
  ASSERT_TRUE(ledger_->SetCreditLimit(c3.get(), set, &set_resp).ok());
  auto c4 = Ctx();
  EXPECT_EQ(Decode(ledger_->RecordSale(c4.get(), SaleRequest("s3", "cust-2", 1, 0), &resp)).reason,
            "CREDIT_LIMIT_EXCEEDED");

  v1::GetCreditLimitRequest get;
  get.set_customer_id("cust-2");
  v1::GetCreditLimitResponse got;
  auto c5 = Ctx();
  ASSERT_TRUE(ledger_->GetCreditLimit(c5.get(), get, &got).ok());
  EXPECT_EQ(got.effective_source(), v1::CREDIT_LIMIT_SOURCE_CATEGORY);
  EXPECT_EQ(got.category_id(), "wholesale");
  EXPECT_EQ(got.available_credit().amount_minor(), 0);
  get.set_customer_id("cust-1");
  auto c6 = Ctx();
  ASSERT_TRUE(ledger_->GetCreditLimit(c6.get(), get, &got).ok());
  EXPECT_EQ(got.effective_source(), v1::CREDIT_LIMIT_SOURCE_CUSTOMER);
  EXPECT_EQ(got.balance().amount_minor(), 1000);

  v1::ListCreditLimitsRequest list;
  v1::ListCreditLimitsResponse limits;
  auto c7 = Ctx();
  ASSERT_TRUE(ledger_->ListCreditLimits(c7.get(), list, &limits).ok());
  EXPECT_EQ(limits.credit_limits_size(), 2);

  v1::DeleteCreditLimitRequest del;
  del.set_request_id("del1");
  del.set_category_id("wholesale");
  v1::DeleteCreditLimitResponse del_resp;
  auto c8 = Ctx();
  ASSERT_TRUE(ledger_->DeleteCreditLimit(c8.get(), del, &del_resp).ok());
  EXPECT_TRUE(del_resp.existed());
  del.set_request_id("del2");
  auto c9 = Ctx();
  ASSERT_TRUE(ledger_->DeleteCreditLimit(c9.get(), del, &del_resp).ok());
  EXPECT_FALSE(del_resp.existed());
  Sale("s4", "cust-2", 1, 0);

  v1::SetCreditLimitRequest bad;
  bad.set_request_id("lim3");
  *bad.mutable_credit_limit()->mutable_limit() = Idr(-5);
  auto c10 = Ctx();
  Err be = Decode(ledger_->SetCreditLimit(c10.get(), bad, &set_resp));
  EXPECT_EQ(be.fields.count("credit_limit.subject"), 1u);
  EXPECT_EQ(be.fields.count("credit_limit.limit.amount_minor"), 1u);
}

// ---------------------------------------------------------------------------------
// Tenancy

TEST_P(LedgerServiceTest, OtherTenantsSeeNothing) {
  auto sale = Sale("s1", "cust-1", 1000, 400);
  v1::GetSaleRequest get;
  get.set_sale_id(sale.sale().sale_id());
  v1::GetSaleResponse got;
  auto c1 = Ctx("t2");
  Err e = Decode(ledger_->GetSale(c1.get(), get, &got));
  EXPECT_EQ(e.code, grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(e.reason, "SALE_NOT_FOUND");
  v1::GetPaymentRequest gp;
  gp.set_payment_id(sale.sale_payment().payment_id());
  v1::GetPaymentResponse gpr;
  auto c2 = Ctx("t2");
  EXPECT_EQ(Decode(ledger_->GetPayment(c2.get(), gp, &gpr)).reason, "PAYMENT_NOT_FOUND");
  auto c3 = Ctx("t1");
  ASSERT_TRUE(ledger_->GetPayment(c3.get(), gp, &gpr).ok());
  EXPECT_EQ(gpr.payment().sale_id(), sale.sale().sale_id());
  v1::VoidSaleRequest vs;
  vs.set_request_id("x");
  vs.set_sale_id(sale.sale().sale_id());
  vs.set_reason("r");
  v1::VoidSaleResponse vsr;
  auto c4 = Ctx("t2");
  EXPECT_EQ(Decode(ledger_->VoidSale(c4.get(), vs, &vsr)).code, grpc::StatusCode::NOT_FOUND);
  v1::GetBalanceRequest gb;
  gb.set_customer_id("cust-1");
  v1::GetBalanceResponse gbr;
  auto c5 = Ctx("t2");
  ASSERT_TRUE(ledger_->GetBalance(c5.get(), gb, &gbr).ok());
  EXPECT_EQ(gbr.balance().balance().amount_minor(), 0);
  EXPECT_EQ(SaleCount("t2"), 0);
  auto c6 = Ctx("");
  EXPECT_EQ(ledger_->GetBalance(c6.get(), gb, &gbr).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

TEST_P(LedgerServiceTest, ApplyCreditPaysOpenSalesOldestFirst) {
  v1::RecordPaymentResponse pay;
  ASSERT_TRUE(Pay("dep", "cust-1", 1500, &pay, /*keep_excess=*/true).ok());  // a deposit
  auto s1 = Sale("s1", "cust-1", 1000, 0);
  auto s2 = Sale("s2", "cust-1", 1000, 0);
  v1::ApplyCreditRequest r;
  r.set_request_id("ac1");
  r.set_customer_id("cust-1");
  v1::ApplyCreditResponse resp;
  auto c1 = Ctx();
  ASSERT_TRUE(ledger_->ApplyCredit(c1.get(), r, &resp).ok());
  EXPECT_EQ(resp.applied_amount().amount_minor(), 1500);
  ASSERT_EQ(resp.allocations_size(), 2);
  EXPECT_EQ(resp.allocations(0).sale_id(), s1.sale().sale_id());
  EXPECT_EQ(resp.allocations(0).kind(), v1::ALLOCATION_KIND_CREDIT);
  EXPECT_EQ(resp.affected_sales(0).status(), v1::SALE_STATUS_PAID);
  EXPECT_EQ(resp.affected_sales(1).outstanding().amount_minor(), 500);
  EXPECT_EQ(resp.customer_stats().credit().amount_minor(), 0);
  EXPECT_EQ(resp.customer_stats().balance().amount_minor(), 500);
  EXPECT_EQ(resp.ledger_version(), 4);
  // Nothing left to apply: succeeds, applies nothing, version unchanged.
  r.set_request_id("ac2");
  auto c2 = Ctx();
  ASSERT_TRUE(ledger_->ApplyCredit(c2.get(), r, &resp).ok());
  EXPECT_EQ(resp.applied_amount().amount_minor(), 0);
  EXPECT_EQ(resp.ledger_version(), 4);
  // Explicit allocation above the credit.
  r.set_request_id("ac3");
  auto* t = r.add_allocations();
  t->set_sale_id(s2.sale().sale_id());
  *t->mutable_amount() = Idr(100);
  auto c3 = Ctx();
  EXPECT_EQ(Decode(ledger_->ApplyCredit(c3.get(), r, &resp)).reason, "INSUFFICIENT_CREDIT");
  auto events = Events();
  EXPECT_EQ(events.back().type(), "kelola.ledger.v1.CreditApplied");
}

TEST_P(LedgerServiceTest, ConcurrentPaymentsNeverOverAllocate) {
  for (int i = 0; i < 4; ++i) Sale(absl::StrCat("s", i), "cust-1", 1000, 0);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0}, overpaid{0};
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      v1::RecordPaymentRequest r;
      r.set_request_id(absl::StrCat("p", i));
      r.set_customer_id("cust-1");
      *r.mutable_amount() = Idr(700);
      r.set_method(v1::PAYMENT_METHOD_CASH);
      v1::RecordPaymentResponse resp;
      auto ctx = Ctx();
      grpc::Status s = ledger_->RecordPayment(ctx.get(), r, &resp);
      if (s.ok()) ok.fetch_add(1);
      if (Decode(s).reason == "OVERPAYMENT") overpaid.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  // 4000 owed, 700 each: five fit in full, the sixth would overpay (200 left) and is
  // refused, as are the rest.
  EXPECT_EQ(ok.load(), 5);
  EXPECT_EQ(overpaid.load(), 3);
  auto stats = Stats("cust-1");
  EXPECT_EQ(stats.balance().amount_minor(), 500);
  EXPECT_EQ(stats.credit().amount_minor(), 0);
  EXPECT_EQ(stats.ledger_version(), 4 + 5);
  // Versions in the events are 1..9 without gaps.
  auto events = Events();
  ASSERT_EQ(events.size(), 9u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].aggregate_version(), static_cast<int64_t>(i + 1));
  }
}

// The first writes of a customer the ledger has no row for yet, all at once: each inserts
// the row or finds it inserted, then locks it; none is lost and the versions have no gap.
TEST_P(LedgerServiceTest, ConcurrentFirstSalesOfANewCustomerAllCount) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&, i] {
      v1::RecordSaleRequest r = SaleRequest(absl::StrCat("first-", i), "cust-new", 1000, 0);
      v1::RecordSaleResponse resp;
      auto ctx = Ctx();
      if (ledger_->RecordSale(ctx.get(), r, &resp).ok()) ok.fetch_add(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 12);
  auto stats = Stats("cust-new");
  EXPECT_EQ(stats.balance().amount_minor(), 12 * 1000);
  EXPECT_EQ(stats.ledger_version(), 12);
  EXPECT_EQ(stats.transaction_count(), 12);
  auto events = Events();
  ASSERT_EQ(events.size(), 12u);
  for (size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(events[i].aggregate_version(), static_cast<int64_t>(i + 1));
  }
}

TEST_P(LedgerServiceTest, ClientIdsAndWalkInCorrections) {
  v1::RecordSaleRequest r = SaleRequest("c1", "", 1000, 1000);
  r.set_sale_id("pos-7-0001");
  v1::RecordSaleResponse sale;
  auto c1 = Ctx();
  ASSERT_TRUE(ledger_->RecordSale(c1.get(), r, &sale).ok());
  EXPECT_EQ(sale.sale().sale_id(), "pos-7-0001");
  r.set_request_id("c2");
  auto c2 = Ctx();
  Err exists = Decode(ledger_->RecordSale(c2.get(), r, &sale));
  EXPECT_EQ(exists.code, grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(exists.reason, "SALE_ID_EXISTS");

  // The payment of a walk-in sale cannot be voided alone.
  v1::VoidPaymentRequest vp;
  vp.set_request_id("vp");
  vp.set_payment_id(sale.sale_payment().payment_id());
  vp.set_reason("mistake");
  v1::VoidPaymentResponse vpr;
  auto c3 = Ctx();
  EXPECT_EQ(Decode(ledger_->VoidPayment(c3.get(), vp, &vpr)).reason, "WALK_IN_SALE_PAYMENT");

  // A walk-in refund cannot become credit, and cannot predate the sale.
  v1::RefundSaleRequest rf;
  rf.set_request_id("rf");
  rf.set_sale_id("pos-7-0001");
  *rf.mutable_amount() = Idr(400);
  rf.set_reason("broken");
  rf.set_settlement(v1::REFUND_SETTLEMENT_CREDIT);
  v1::RefundSaleResponse rfr;
  auto c4 = Ctx();
  EXPECT_EQ(Decode(ledger_->RefundSale(c4.get(), rf, &rfr)).reason, "CUSTOMER_REQUIRED");
  rf.set_settlement(v1::REFUND_SETTLEMENT_PAY_OUT);
  *rf.mutable_refund_time() = Ts(clock_.Now() - absl::Hours(48));
  auto c5 = Ctx();
  Err early = Decode(ledger_->RefundSale(c5.get(), rf, &rfr));
  EXPECT_EQ(early.fields.count("refund_time"), 1u);
  rf.clear_refund_time();
  rf.add_items()->set_item_index(3);
  rf.mutable_items(0)->set_quantity_milli(1);
  auto c6 = Ctx();
  EXPECT_EQ(Decode(ledger_->RefundSale(c6.get(), rf, &rfr)).fields.count("items[0].item_index"),
            1u);
  rf.clear_items();
  auto c7 = Ctx();
  ASSERT_TRUE(ledger_->RefundSale(c7.get(), rf, &rfr).ok());
  EXPECT_EQ(rfr.refund().returned_amount().amount_minor(), 400);
  EXPECT_EQ(rfr.refund().payout_method(), v1::PAYMENT_METHOD_CASH);
  EXPECT_EQ(rfr.sale().net_total().amount_minor(), 600);
  EXPECT_EQ(rfr.sale().status(), v1::SALE_STATUS_PAID);
  v1::GetPaymentRequest gp;
  gp.set_payment_id(sale.sale_payment().payment_id());
  v1::GetPaymentResponse gpr;
  auto c8 = Ctx();
  ASSERT_TRUE(ledger_->GetPayment(c8.get(), gp, &gpr).ok());
  EXPECT_EQ(gpr.payment().returned_amount().amount_minor(), 400);
  EXPECT_EQ(gpr.payment().unallocated_amount().amount_minor(), 0);
  auto events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].aggregate_type(), "sale");
  EXPECT_EQ(events[1].aggregate_version(), 2);
}

TEST_P(LedgerServiceTest, StatisticsFollowTheEntries) {
  const absl::Time t0 = clock_.Now();
  auto s1 = Sale("s1", "cust-1", 1000, 1000);
  const absl::Time t1 = clock_.Now();
  auto s2 = Sale("s2", "cust-1", 2001, 0);
  v1::RecordPaymentResponse pay;
  const absl::Time t2 = clock_.Now();
  ASSERT_TRUE(Pay("p1", "cust-1", 1000, &pay).ok());
  auto stats = Stats("cust-1");
  EXPECT_EQ(stats.ledger_version(), 3);
  EXPECT_EQ(stats.total_spent().amount_minor(), 3001);
  EXPECT_EQ(stats.transaction_count(), 2);
  EXPECT_EQ(stats.average_order().amount_minor(), 1501);  // 1500.5 rounds half up
  EXPECT_EQ(stats.balance().amount_minor(), 1001);
  EXPECT_EQ(stats.total_paid().amount_minor(), 2000);
  EXPECT_EQ(stats.payment_count(), 2);
  EXPECT_EQ(stats.open_sale_count(), 1);
  EXPECT_EQ(stats.first_purchase_time().seconds(), absl::ToUnixSeconds(t0));
  EXPECT_EQ(stats.last_purchase_time().seconds(), absl::ToUnixSeconds(t1));
  EXPECT_EQ(stats.oldest_open_sale_time().seconds(), absl::ToUnixSeconds(t1));
  EXPECT_EQ(stats.last_payment_time().seconds(), absl::ToUnixSeconds(t2));
  EXPECT_EQ(stats.last_activity_time().seconds(), absl::ToUnixSeconds(t2));
  EXPECT_TRUE(stats.has_history());
  // Stored with the event equals computed now.
  auto events = Events();
  v1::PaymentRecorded recorded;
  ASSERT_TRUE(events.back().payload().UnpackTo(&recorded));
  EXPECT_EQ(recorded.stats().SerializeAsString(), stats.SerializeAsString());

  // Voiding the payment: its release entries show in the sale's detail.
  v1::VoidPaymentResponse vpr;
  ASSERT_TRUE(VoidPayment("vp", pay.payment().payment_id(), "bounced transfer", &vpr).ok());
  v1::GetSaleRequest get;
  get.set_sale_id(s2.sale().sale_id());
  v1::GetSaleResponse got;
  auto c2 = Ctx();
  ASSERT_TRUE(ledger_->GetSale(c2.get(), get, &got).ok());
  ASSERT_EQ(got.sale().allocations_size(), 2);
  EXPECT_EQ(got.sale().allocations(1).kind(), v1::ALLOCATION_KIND_PAYMENT_VOID_RELEASE);
  EXPECT_EQ(got.sale().allocations(1).amount().amount_minor(), -1000);
  EXPECT_EQ(got.sale().status(), v1::SALE_STATUS_UNPAID);
  stats = Stats("cust-1");
  EXPECT_EQ(stats.ledger_version(), 4);
  EXPECT_EQ(stats.balance().amount_minor(), 2001);
  EXPECT_EQ(stats.payment_count(), 1);
  EXPECT_FALSE(stats.has_last_payment_time());
  // A customer the ledger never saw.
  auto empty = Stats("nobody");
  EXPECT_EQ(empty.ledger_version(), 0);
  EXPECT_FALSE(empty.has_history());
}

// Sales and payments update the stored statistics incrementally (the other writes, and
// changes that move a minimum, recompute them): after every step of a mix of sales
// (overdue, paid, on credit, with credit applied), payments (oldest first, explicit,
// closing the oldest sale, with excess kept as credit), a refund, voids and a payment
// void, the stored statistics equal a full recomputation from the entries.
TEST_P(LedgerServiceTest, IncrementalStatisticsEqualARecomputation) {
  const std::string c = "cust-mix";
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), absl::FixedTimeZone(7 * 3600));
  auto check = [&](const v1::CustomerLedgerStats& stored, const std::string& step) {
    const v1::CustomerLedgerStats computed = Stats(c);
    EXPECT_EQ(stored.DebugString(), computed.DebugString()) << step;
  };
  auto sale = [&](const std::string& id, int64_t total, int64_t paid, int days_ago,
                  int due_after_days, int64_t apply_credit = 0) {
    v1::RecordSaleRequest r = SaleRequest(id, c, total, paid);
    *r.mutable_sale_time() = Ts(clock_.Now() - absl::Hours(24 * days_ago));
    if (due_after_days >= 0) {
      const absl::CivilDay due = today - days_ago + due_after_days;
      r.mutable_due_date()->set_year(static_cast<int32_t>(due.year()));
      r.mutable_due_date()->set_month(due.month());
      r.mutable_due_date()->set_day(due.day());
    }
    if (apply_credit > 0) *r.mutable_apply_credit() = Idr(apply_credit);
    v1::RecordSaleResponse resp;
    auto ctx = Ctx();
    grpc::Status st = ledger_->RecordSale(ctx.get(), r, &resp);
    EXPECT_TRUE(st.ok()) << id << ": " << st.error_message();
    // The response (built without reading the new sale back) equals a read of it.
    v1::GetSaleRequest get;
    get.set_sale_id(resp.sale().sale_id());
    get.set_view(v1::SALE_VIEW_FULL);
    v1::GetSaleResponse got;
    auto c = Ctx();
    EXPECT_TRUE(ledger_->GetSale(c.get(), get, &got).ok());
    EXPECT_EQ(resp.sale().DebugString(), got.sale().DebugString()) << id;
    if (resp.has_sale_payment()) {
      v1::GetPaymentRequest gp;
      gp.set_payment_id(resp.sale_payment().payment_id());
      v1::GetPaymentResponse gotp;
      auto c2 = Ctx();
      EXPECT_TRUE(ledger_->GetPayment(c2.get(), gp, &gotp).ok());
      EXPECT_EQ(resp.sale_payment().DebugString(), gotp.payment().DebugString()) << id;
    }
    clock_.Advance(absl::Minutes(1));
    check(resp.customer_stats(), id);
    return resp;
  };
  auto pay = [&](const std::string& id, int64_t amount, bool keep_excess,
                 std::vector<std::pair<std::string, int64_t>> allocations = {}) {
    v1::RecordPaymentResponse resp;
    grpc::Status st = Pay(id, c, amount, &resp, keep_excess, std::move(allocations));
    EXPECT_TRUE(st.ok()) << id << ": " << st.error_message();
    v1::GetPaymentRequest gp;
    gp.set_payment_id(resp.payment().payment_id());
    v1::GetPaymentResponse got;
    auto ctx = Ctx();
    EXPECT_TRUE(ledger_->GetPayment(ctx.get(), gp, &got).ok());
    EXPECT_EQ(resp.payment().DebugString(), got.payment().DebugString()) << id;
    check(resp.customer_stats(), id);
    return resp;
  };

  auto s1 = sale("s1", 5000, 1000, 40, 10);               // overdue 30 days
  auto s2 = sale("s2", 3000, 0, 20, 5);                   // overdue 15 days
  sale("s3", 2000, 2000, 0, -1);                          // paid in full
  auto s4 = sale("s4", 4000, 0, 0, 30);                   // not due yet
  pay("p1", 500, false);                                  // part of s1, still open
  pay("p2", 3000, false, {{s2.sale().sale_id(), 3000}});  // closes s2 (not the oldest)
  auto p3 = pay("p3", 10000, true);  // closes s1 (the oldest) and s4; 2500 credit
  EXPECT_EQ(p3.customer_stats().credit().amount_minor(), 2500);
  EXPECT_EQ(p3.customer_stats().open_sale_count(), 0);
  auto s5 = sale("s5", 3000, 0, 2, 1, 2000);  // credit applied, 1000 owed, overdue 1 day
  EXPECT_EQ(s5.customer_stats().balance().amount_minor(), 1000);
  sale("s6", 1500, 500, 1, 0);  // overdue, the newest
  pay("p4", 200, false);        // part of s5

  // A refund, a sale void, a payment void: recomputed, still equal.
  v1::RefundSaleRequest rf;
  rf.set_request_id("rf");
  rf.set_sale_id(s5.sale().sale_id());
  *rf.mutable_amount() = Idr(300);
  rf.set_reason("returned goods");
  v1::RefundSaleResponse rfr;
  auto c1 = Ctx();
  ASSERT_TRUE(ledger_->RefundSale(c1.get(), rf, &rfr).ok());
  clock_.Advance(absl::Minutes(1));
  check(rfr.customer_stats(), "refund");
  v1::VoidPaymentResponse vpr;
  ASSERT_TRUE(VoidPayment("vp", p3.payment().payment_id(), "bounced", &vpr).ok());
  clock_.Advance(absl::Minutes(1));
  check(vpr.customer_stats(), "void payment");
  v1::VoidSaleResponse vsr;
  ASSERT_TRUE(VoidSale("vs", s2.sale().sale_id(), "mistake", &vsr,
                       /*release_payments_as_credit=*/true)
                  .ok());
  clock_.Advance(absl::Minutes(1));
  check(vsr.customer_stats(), "void sale");
  // Incremental again on top of recomputed statistics.
  sale("s7", 700, 0, 0, -1);
  pay("p5", 100, false);
  pay("p6", 50000, true);  // pays everything, the rest is credit
  // Closing the oldest open sale while others stay open: the open sales after the payment,
  // read from where they begin, decide the oldest time, the earliest due date and the days
  // overdue.
  sale("s8", 1000, 0, 10, 12);  // due in two days, the oldest
  sale("s9", 1000, 0, 9, 3);    // overdue six days: the earliest due date
  sale("s10", 1000, 0, 8, -1);  // no due date
  sale("s11", 1000, 0, 7, 4);   // overdue three days
  pay("p7", 1000, false);       // closes s8: s9 is the oldest now
  pay("p8", 1000, false);       // closes s9: s11's due date and days overdue now
  pay("p9", 1500, false);       // closes s10, half of s11
  pay("p10", 500, false);       // closes s11: nothing open
  // More open sales than a page: after the oldest closes, the earliest due date is on the
  // tenth, past the page that gives the oldest open sale.
  sale("t0", 100, 0, 20, 1);  // the oldest, overdue 19 days: the earliest due date
  for (int i = 1; i <= 8; ++i) sale(absl::StrCat("t", i), 100, 0, 20 - i, -1);
  sale("t9", 100, 0, 10, 2);  // overdue 8 days
  pay("p11", 100, false);     // closes t0
  pay("p12", 900, false);     // closes t1 to t9
}

// Oldest-first allocation reads the open sales in pages (of 8) until the payment is
// covered: a payment over more than a page of sales takes them in order.
TEST_P(LedgerServiceTest, OldestFirstAllocationCrossesPages) {
  std::vector<std::string> sales;
  for (int i = 0; i < 12; ++i) {
    sales.push_back(Sale(absl::StrCat("s", i), "cust-pages", 100, 0).sale().sale_id());
  }
  v1::RecordPaymentResponse pay;
  ASSERT_TRUE(Pay("p1", "cust-pages", 1050, &pay).ok());
  ASSERT_EQ(pay.allocated_sales_size(), 11);
  for (int i = 0; i < 11; ++i) EXPECT_EQ(pay.allocated_sales(i).sale_id(), sales[i]) << i;
  EXPECT_EQ(pay.allocated_sales(10).outstanding().amount_minor(), 50);
  EXPECT_EQ(pay.customer_stats().balance().amount_minor(), 150);
  EXPECT_EQ(pay.customer_stats().open_sale_count(), 2);
  EXPECT_EQ(pay.customer_stats().DebugString(), Stats("cust-pages").DebugString());
  // More than is owed, kept as credit: every open sale is read.
  ASSERT_TRUE(Pay("p2", "cust-pages", 1000, &pay, true).ok());
  EXPECT_EQ(pay.allocated_sales_size(), 2);
  EXPECT_EQ(pay.customer_stats().credit().amount_minor(), 850);
  EXPECT_EQ(pay.customer_stats().balance().amount_minor(), 0);
}

TEST_P(LedgerServiceTest, MalformedIdsAndLimits) {
  v1::GetSaleRequest get;
  get.set_sale_id("not/an id");
  v1::GetSaleResponse got;
  auto c1 = Ctx();
  Err e1 = Decode(ledger_->GetSale(c1.get(), get, &got));
  EXPECT_EQ(e1.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e1.fields.count("sale_id"), 1u);
  get.set_sale_id("unknown-sale");
  auto c2 = Ctx();
  EXPECT_EQ(Decode(ledger_->GetSale(c2.get(), get, &got)).reason, "SALE_NOT_FOUND");

  v1::VoidSaleRequest vs;
  v1::VoidSaleResponse vsr;
  auto c3 = Ctx();
  Err e3 = Decode(ledger_->VoidSale(c3.get(), vs, &vsr));
  for (const char* f : {"request_id", "sale_id", "reason"}) EXPECT_EQ(e3.fields.count(f), 1u);

  v1::BatchGetBalancesRequest batch;
  for (int i = 0; i < 101; ++i) batch.add_customer_ids(absl::StrCat("c", i));
  v1::BatchGetBalancesResponse batch_resp;
  auto c4 = Ctx();
  Err e4 = Decode(ledger_->BatchGetBalances(c4.get(), batch, &batch_resp));
  EXPECT_EQ(e4.code, grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_EQ(e4.reason, "TOO_MANY_ITEMS");
  batch.Clear();
  auto c5 = Ctx();
  EXPECT_EQ(Decode(ledger_->BatchGetBalances(c5.get(), batch, &batch_resp)).code,
            grpc::StatusCode::INVALID_ARGUMENT);

  v1::RecordSaleRequest big = SaleRequest("big", "", 0, 0);
  for (int i = 0; i < 500; ++i) *big.add_items() = big.items(0);
  v1::RecordSaleResponse resp;
  auto c6 = Ctx();
  EXPECT_EQ(Decode(ledger_->RecordSale(c6.get(), big, &resp)).reason, "TOO_MANY_ITEMS");

  v1::ListSalesRequest list;
  list.set_page_size(-1);
  v1::ListSalesResponse sales;
  auto c7 = Ctx();
  EXPECT_EQ(Decode(ledger_->ListSales(c7.get(), list, &sales)).fields.count("page_size"), 1u);
  list.set_page_size(0);
  list.set_page_token("garbage");
  auto c8 = Ctx();
  EXPECT_EQ(Decode(ledger_->ListSales(c8.get(), list, &sales)).reason, "PAGE_TOKEN_INVALID");
  EXPECT_EQ(SaleCount(), 0);
}

TEST_P(LedgerServiceTest, VoidingASaleTakesCreditAppliedFromItsPaymentBack) {
  // s1 paid in full at the sale; a refund kept as credit; the credit pays s2.
  auto s1 = Sale("s1", "cust-1", 1000, 1000);
  auto s2 = Sale("s2", "cust-1", 300, 0);
  v1::RefundSaleRequest rf;
  rf.set_request_id("rf");
  rf.set_sale_id(s1.sale().sale_id());
  *rf.mutable_amount() = Idr(400);
  rf.set_reason("price corrected");
  rf.set_settlement(v1::REFUND_SETTLEMENT_CREDIT);
  v1::RefundSaleResponse rfr;
  auto c1 = Ctx();
  ASSERT_TRUE(ledger_->RefundSale(c1.get(), rf, &rfr).ok());
  v1::ApplyCreditRequest ac;
  ac.set_request_id("ac");
  ac.set_customer_id("cust-1");
  v1::ApplyCreditResponse acr;
  auto c2 = Ctx();
  ASSERT_TRUE(ledger_->ApplyCredit(c2.get(), ac, &acr).ok());
  EXPECT_EQ(acr.applied_amount().amount_minor(), 300);
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 0);
  EXPECT_EQ(Balance("cust-1").credit().amount_minor(), 100);
  // Voiding s1 voids its payment, so s2 owes again and the credit is gone.
  v1::VoidSaleResponse vsr;
  ASSERT_TRUE(VoidSale("vs", s1.sale().sale_id(), "wrong sale", &vsr).ok());
  EXPECT_EQ(vsr.customer_stats().balance().amount_minor(), 300);
  EXPECT_EQ(vsr.customer_stats().credit().amount_minor(), 0);
  v1::SaleVoided event;
  ASSERT_TRUE(Events().back().payload().UnpackTo(&event));
  ASSERT_EQ(event.affected_sales_size(), 2);
  EXPECT_EQ(event.affected_sales(1).sale_id(), s2.sale().sale_id());
  EXPECT_EQ(event.affected_sales(1).outstanding().amount_minor(), 300);
}

TEST_P(LedgerServiceTest, OverdueFilterAndPaymentPages) {
  v1::RecordSaleRequest r = SaleRequest("due", "cust-1", 1000, 0);
  const absl::CivilDay today = absl::ToCivilDay(clock_.Now(), absl::FixedTimeZone(25200));
  r.mutable_due_date()->set_year(static_cast<int32_t>(today.year()));
  r.mutable_due_date()->set_month(today.month());
  r.mutable_due_date()->set_day(today.day());
  v1::RecordSaleResponse resp;
  auto c1 = Ctx();
  ASSERT_TRUE(ledger_->RecordSale(c1.get(), r, &resp).ok());
  Sale("nodue", "cust-1", 1000, 0);
  clock_.Advance(absl::Hours(48));
  v1::ListSalesRequest list;
  list.set_customer_id("cust-1");
  list.set_filter("overdue = true");
  v1::ListSalesResponse sales;
  auto c2 = Ctx();
  ASSERT_TRUE(ledger_->ListSales(c2.get(), list, &sales).ok());
  ASSERT_EQ(sales.sales_size(), 1);
  EXPECT_EQ(sales.sales(0).request_id(), "due");
  EXPECT_EQ(sales.sales(0).days_overdue(), 2);

  v1::RecordPaymentResponse pay;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(Pay(absl::StrCat("p", i), "cust-1", 100, &pay).ok());
  v1::ListPaymentsRequest pl;
  pl.set_customer_id("cust-1");
  pl.set_page_size(2);
  pl.set_order_by("received_time asc");
  std::vector<std::string> seen;
  for (int page = 0; page < 5; ++page) {
    v1::ListPaymentsResponse payments;
    auto ctx = Ctx();
    ASSERT_TRUE(ledger_->ListPayments(ctx.get(), pl, &payments).ok());
    for (const auto& p : payments.payments()) seen.push_back(p.request_id());
    if (payments.next_page_token().empty()) break;
    pl.set_page_token(payments.next_page_token());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"p0", "p1", "p2", "p3", "p4"}));
}

INSTANTIATE_TEST_SUITE_P(Drivers, LedgerServiceTest,
                         ::testing::Values("sqlite", "postgres", "sqlite_group_commit",
                                           "postgres_group_commit"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::ledger::testing_support
