// LedgerService contract rules that cut across RPCs: overflow-checked money sums, length
// limits counted in characters, list pages bounded by message size, filter terms given at
// most once, and the tenant's currency taken from customer-svc, never from a header. Same
// fixture as ledger_service_test: a real in-process gRPC server on SQLite and PostgreSQL,
// each with and without group commit.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "tests/ledger-svc/api/ledger_api_fixture.h"

namespace kelola::ledger::testing_support {
namespace {

// `n` Thai characters (each 3 bytes in UTF-8).
std::string Thai(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "ก";
  return out;
}

class LedgerContractTest : public LedgerApiTest {
 protected:
  LedgerContractTest() : LedgerApiTest("owner-1") {}

  grpc::Status RecordSale(const v1::RecordSaleRequest& r, v1::RecordSaleResponse* resp = nullptr) {
    v1::RecordSaleResponse ignored;
    auto ctx = Ctx();
    return ledger_->RecordSale(ctx.get(), r, resp != nullptr ? resp : &ignored);
  }

  Err ListSalesError(const std::string& filter) {
    v1::ListSalesRequest r;
    r.set_filter(filter);
    v1::ListSalesResponse resp;
    auto ctx = Ctx();
    return Decode(ledger_->ListSales(ctx.get(), r, &resp));
  }

  int PaymentCount(const std::string& customer) {
    v1::ListPaymentsRequest r;
    r.set_customer_id(customer);
    r.set_page_size(200);
    v1::ListPaymentsResponse resp;
    auto ctx = Ctx();
    EXPECT_TRUE(ledger_->ListPayments(ctx.get(), r, &resp).ok());
    return resp.payments_size();
  }
};

// ---------------------------------------------------------------------------------
// Overflow (L8): a request whose own amounts overflow is INVALID_ARGUMENT naming the field;
// a write that would overflow what is stored is FAILED_PRECONDITION; nothing is written.

TEST_P(LedgerContractTest, TwoPaymentsOfInt64MaxAsCreditNeverWrap) {
  v1::RecordPaymentResponse first;
  ASSERT_TRUE(Pay("p1", "cust-1", INT64_MAX, &first, /*keep_excess=*/true).ok());
  const size_t events = Events().size();
  Err e = Decode(Pay("p2", "cust-1", INT64_MAX, nullptr, /*keep_excess=*/true));
  EXPECT_EQ(e.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(e.reason, "AMOUNT_OVERFLOW");
  EXPECT_FALSE(e.metadata["field"].empty());
  // Nothing of the refused payment was written.
  EXPECT_EQ(PaymentCount("cust-1"), 1);
  EXPECT_EQ(Events().size(), events);
  const auto balance = Balance("cust-1");
  EXPECT_EQ(balance.credit().amount_minor(), INT64_MAX);
  EXPECT_EQ(balance.ledger_version(), first.ledger_version());
  const auto stats = Stats("cust-1");
  EXPECT_EQ(stats.credit().amount_minor(), INT64_MAX);
  EXPECT_EQ(stats.total_paid().amount_minor(), INT64_MAX);
  EXPECT_EQ(stats.payment_count(), 1);
}

TEST_P(LedgerContractTest, SalesThatWouldOverflowTheBalanceOrTotalSpentAreRefused) {
  Sale("s1", "cust-1", INT64_MAX, 0);
  Err balance = Decode(TrySale("s2", "cust-1", 1, 0));
  EXPECT_EQ(balance.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(balance.reason, "AMOUNT_OVERFLOW");
  EXPECT_EQ(balance.metadata["field"], "balance");
  // Paid in full: the balance stays 0 but the total spent would overflow.
  Sale("s3", "cust-2", INT64_MAX, INT64_MAX);
  Err spent = Decode(TrySale("s4", "cust-2", 1, 1));
  EXPECT_EQ(spent.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(spent.reason, "AMOUNT_OVERFLOW");
  EXPECT_EQ(spent.metadata["field"], "total_spent");
  EXPECT_EQ(Stats("cust-1").balance().amount_minor(), INT64_MAX);
  EXPECT_EQ(Stats("cust-1").transaction_count(), 1);
  EXPECT_EQ(Stats("cust-2").total_spent().amount_minor(), INT64_MAX);
  EXPECT_EQ(Stats("cust-2").transaction_count(), 1);
}

TEST_P(LedgerContractTest, ReceivableTotalsThatDoNotFitAreRefusedNotWrapped) {
  directory_.SetCategory("cust-2", "wholesale");
  Sale("s1", "cust-1", INT64_MAX, 0);
  Sale("s2", "cust-2", INT64_MAX, 0);
  v1::ListReceivablesRequest r;
  v1::ListReceivablesResponse resp;
  auto ctx = Ctx();
  grpc::Status status = ledger_->ListReceivables(ctx.get(), r, &resp);
  if (status.ok()) {  // never a wrapped (negative) total
    ADD_FAILURE() << "total_balance " << resp.total_balance().amount_minor();
  }
  Err e = Decode(status);
  EXPECT_EQ(e.code, grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(e.reason, "AMOUNT_OVERFLOW");
  EXPECT_EQ(e.metadata["field"], "total_balance");
  // A narrower listing fits.
  r.set_filter("category_id = \"wholesale\"");
  auto ctx2 = Ctx();
  ASSERT_TRUE(ledger_->ListReceivables(ctx2.get(), r, &resp).ok());
  EXPECT_EQ(resp.total_balance().amount_minor(), INT64_MAX);
  EXPECT_EQ(resp.customer_count(), 1);
}

TEST_P(LedgerContractTest, RequestAmountsThatOverflowNameTheirField) {
  // One line: quantity × unit price does not fit.
  v1::RecordSaleRequest line = SaleRequest("o1", "cust-1", 1, 0);
  line.mutable_items(0)->set_quantity_milli(1000000);
  *line.mutable_items(0)->mutable_unit_price() = Idr(INT64_MAX / 10);
  Err e1 = Decode(RecordSale(line));
  EXPECT_EQ(e1.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e1.reason, "AMOUNT_OVERFLOW");
  EXPECT_EQ(e1.fields.count("items[0].unit_price"), 1u);
  // Two lines that fit alone but not together.
  v1::RecordSaleRequest sum = SaleRequest("o2", "cust-1", INT64_MAX, 0);
  *sum.add_items() = sum.items(0);
  Err e2 = Decode(RecordSale(sum));
  EXPECT_EQ(e2.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e2.reason, "AMOUNT_OVERFLOW");
  EXPECT_EQ(e2.fields.count("items"), 1u);
  // Allocations that add up to more than fits.
  v1::RecordPaymentRequest pay;
  pay.set_request_id("o3");
  pay.set_customer_id("cust-1");
  *pay.mutable_amount() = Idr(INT64_MAX);
  pay.set_method(v1::PAYMENT_METHOD_CASH);
  for (const char* sale : {"a", "b"}) {
    auto* t = pay.add_allocations();
    t->set_sale_id(sale);
    *t->mutable_amount() = Idr(INT64_MAX);
  }
  v1::RecordPaymentResponse pay_resp;
  auto c3 = Ctx();
  Err e3 = Decode(ledger_->RecordPayment(c3.get(), pay, &pay_resp));
  EXPECT_EQ(e3.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e3.reason, "AMOUNT_OVERFLOW");
  EXPECT_EQ(e3.fields.count("allocations"), 1u);
  v1::ApplyCreditRequest apply;
  apply.set_request_id("o4");
  apply.set_customer_id("cust-1");
  *apply.mutable_allocations() = pay.allocations();
  v1::ApplyCreditResponse apply_resp;
  auto c4 = Ctx();
  Err e4 = Decode(ledger_->ApplyCredit(c4.get(), apply, &apply_resp));
  EXPECT_EQ(e4.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e4.reason, "AMOUNT_OVERFLOW");
  EXPECT_EQ(e4.fields.count("allocations"), 1u);
  EXPECT_TRUE(Events().empty());
}

// ---------------------------------------------------------------------------------
// Length limits count characters (Unicode code points), not bytes.

TEST_P(LedgerContractTest, LengthLimitsCountCharactersNotBytes) {
  v1::RecordSaleRequest ok = SaleRequest("t1", "cust-1", 1000, 0);
  auto* item = ok.mutable_items(0);
  item->set_name(Thai(200));
  item->set_sku(Thai(100));
  item->set_unit(Thai(20));
  ok.set_note(Thai(1000));
  ok.set_external_reference(Thai(100));
  v1::RecordSaleResponse resp;
  grpc::Status status = RecordSale(ok, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.sale().items(0).name(), Thai(200));

  v1::RecordSaleRequest too_long = SaleRequest("t2", "cust-1", 1000, 0);
  too_long.mutable_items(0)->set_name(Thai(201));
  too_long.mutable_items(0)->set_sku(Thai(101));
  too_long.mutable_items(0)->set_unit(Thai(21));
  too_long.set_note(Thai(1001));
  Err e = Decode(RecordSale(too_long));
  EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(e.fields,
            (std::set<std::string>{"items[0].name", "items[0].sku", "items[0].unit", "note"}));

  v1::RecordPaymentRequest pay;
  pay.set_request_id("t3");
  pay.set_customer_id("cust-1");
  *pay.mutable_amount() = Idr(100);
  pay.set_method(v1::PAYMENT_METHOD_OTHER);
  pay.set_method_detail(Thai(100));
  pay.set_reference(Thai(100));
  pay.set_note(Thai(1000));
  v1::RecordPaymentResponse pay_resp;
  auto c3 = Ctx();
  status = ledger_->RecordPayment(c3.get(), pay, &pay_resp);
  EXPECT_TRUE(status.ok()) << status.error_message();

  v1::VoidSaleRequest void_sale;
  void_sale.set_request_id("t4");
  void_sale.set_sale_id(resp.sale().sale_id());
  void_sale.set_reason(Thai(501));
  v1::VoidSaleResponse void_resp;
  auto c4 = Ctx();
  EXPECT_EQ(Decode(ledger_->VoidSale(c4.get(), void_sale, &void_resp)).fields.count("reason"), 1u);
  void_sale.set_reason(Thai(500));
  void_sale.set_release_payments_as_credit(true);
  auto c5 = Ctx();
  status = ledger_->VoidSale(c5.get(), void_sale, &void_resp);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// ---------------------------------------------------------------------------------
// Pages are cut short of the message size limit.

TEST_P(LedgerContractTest, LargeSalesArePagedBelowTheMessageLimitEachExactlyOnce) {
  // 30 sales of 500 items with 200-character names: about 5.5 MB, more than one 4 MiB
  // message, although the default page (50) would hold them all.
  constexpr int kSales = 30;
  std::set<std::string> recorded;
  for (int s = 0; s < kSales; ++s) {
    v1::RecordSaleRequest r = SaleRequest(absl::StrCat("big-", s), "", 0, 0);
    r.clear_items();
    for (int i = 0; i < 500; ++i) {
      auto* item = r.add_items();
      item->set_sku(std::string(100, 'S'));
      item->set_name(absl::StrCat(std::string(190, 'N'), s, "-", i).substr(0, 200));
      item->set_unit(std::string(20, 'u'));
      item->set_quantity_milli(1000);
      *item->mutable_unit_price() = Idr(1);
    }
    *r.mutable_total() = Idr(500);
    *r.mutable_amount_paid_now() = Idr(500);
    r.set_payment_method(v1::PAYMENT_METHOD_CASH);
    v1::RecordSaleResponse resp;
    grpc::Status status = RecordSale(r, &resp);
    ASSERT_TRUE(status.ok()) << status.error_message();
    recorded.insert(resp.sale().sale_id());
    if (s % 3 != 0) clock_.Advance(absl::Minutes(1));  // some share a sale_time
  }
  std::map<std::string, int> seen;
  v1::ListSalesRequest r;  // the default page size
  int pages = 0;
  for (; pages < 100; ++pages) {
    v1::ListSalesResponse resp;
    auto ctx = Ctx();
    grpc::Status status = ledger_->ListSales(ctx.get(), r, &resp);
    ASSERT_TRUE(status.ok()) << status.error_code() << " " << status.error_message();
    EXPECT_LT(resp.ByteSizeLong(), 4u * 1024 * 1024);
    EXPECT_GT(resp.sales_size(), 0);
    for (const auto& sale : resp.sales()) ++seen[sale.sale_id()];
    if (resp.next_page_token().empty()) break;
    r.set_page_token(resp.next_page_token());
  }
  EXPECT_GE(pages, 1);  // at least two pages
  EXPECT_EQ(seen.size(), recorded.size());
  for (const auto& id : recorded) EXPECT_EQ(seen[id], 1) << id;
}

TEST_P(LedgerContractTest, PaymentPagesAreCutBySizeTooEachExactlyOnce) {
  max_page_bytes_ = 3000;  // about two payments with long notes
  Stop();
  Start();
  std::set<std::string> recorded;
  for (int i = 0; i < 9; ++i) {
    v1::RecordPaymentRequest r;
    r.set_request_id(absl::StrCat("pay-", i));
    r.set_customer_id("cust-1");
    *r.mutable_amount() = Idr(100 + i);
    r.set_method(v1::PAYMENT_METHOD_CASH);
    r.set_note(Thai(400));  // 1200 bytes
    r.set_keep_excess_as_credit(true);
    v1::RecordPaymentResponse resp;
    auto ctx = Ctx();
    grpc::Status status = ledger_->RecordPayment(ctx.get(), r, &resp);
    ASSERT_TRUE(status.ok()) << status.error_message();
    recorded.insert(resp.payment().payment_id());
    if (i % 2 == 0) clock_.Advance(absl::Minutes(1));  // some share a received_time
  }
  std::map<std::string, int> seen;
  v1::ListPaymentsRequest r;
  r.set_customer_id("cust-1");
  int pages = 0;
  for (; pages < 20; ++pages) {
    v1::ListPaymentsResponse resp;
    auto ctx = Ctx();
    ASSERT_TRUE(ledger_->ListPayments(ctx.get(), r, &resp).ok());
    EXPECT_GE(resp.payments_size(), 1);
    EXPECT_LE(resp.payments_size(), 2);
    for (const auto& p : resp.payments()) ++seen[p.payment_id()];
    if (resp.next_page_token().empty()) break;
    r.set_page_token(resp.next_page_token());
  }
  EXPECT_GE(pages, 4);
  EXPECT_EQ(seen.size(), recorded.size());
  for (const auto& id : recorded) EXPECT_EQ(seen[id], 1) << id;
}

// ---------------------------------------------------------------------------------
// Filter terms: range fields at most one bound of each kind, other fields at most once.

TEST_P(LedgerContractTest, RepeatedFilterTermsAreRefused) {
  for (const char* filter :
       {"status = PAID AND status = UNPAID", "status != PAID AND status != VOIDED",
        "sale_date >= \"2024-05-01\" AND sale_date > \"2024-06-01\"",
        "sale_time < \"2024-05-01T00:00:00Z\" AND sale_time <= \"2024-06-01T00:00:00Z\"",
        "sale_date = \"2024-05-01\" AND sale_date <= \"2024-06-01\"",
        "open = true AND open = false", "store_id = \"a\" AND store_id != \"b\""}) {
    Err e = ListSalesError(filter);
    EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT) << filter;
    EXPECT_EQ(e.reason, "INVALID_FILTER") << filter;
    EXPECT_EQ(e.fields, (std::set<std::string>{"filter"})) << filter;
  }
  // Both bounds of a range are fine.
  EXPECT_EQ(ListSalesError("sale_date >= \"2024-05-01\" AND sale_date <= \"2024-05-31\" AND "
                           "sale_time > \"2024-05-01T00:00:00Z\" AND "
                           "sale_time < \"2024-06-01T00:00:00Z\" AND status = PAID")
                .code,
            grpc::StatusCode::OK);

  v1::ListPaymentsRequest payments;
  payments.set_filter("method = CASH AND method = QRIS");
  v1::ListPaymentsResponse payments_resp;
  auto c1 = Ctx();
  EXPECT_EQ(Decode(ledger_->ListPayments(c1.get(), payments, &payments_resp)).reason,
            "INVALID_FILTER");
  payments.set_filter("received_date >= \"2024-05-01\" AND received_date <= \"2024-05-31\"");
  auto c2 = Ctx();
  EXPECT_TRUE(ledger_->ListPayments(c2.get(), payments, &payments_resp).ok());

  v1::ListReceivablesRequest receivables;
  receivables.set_filter("balance > 1 AND balance >= 5");
  v1::ListReceivablesResponse receivables_resp;
  auto c3 = Ctx();
  EXPECT_EQ(Decode(ledger_->ListReceivables(c3.get(), receivables, &receivables_resp)).reason,
            "INVALID_FILTER");
  receivables.set_filter("overdue = true AND overdue = false");
  auto c4 = Ctx();
  EXPECT_EQ(Decode(ledger_->ListReceivables(c4.get(), receivables, &receivables_resp)).reason,
            "INVALID_FILTER");

  v1::ListCreditLimitsRequest limits;
  limits.set_filter("subject = CUSTOMER AND subject = CATEGORY");
  v1::ListCreditLimitsResponse limits_resp;
  auto c5 = Ctx();
  EXPECT_EQ(Decode(ledger_->ListCreditLimits(c5.get(), limits, &limits_resp)).reason,
            "INVALID_FILTER");
}

// ---------------------------------------------------------------------------------
// The tenant's currency is the ledger's to know, not the caller's to say.

TEST_P(LedgerContractTest, ACurrencyHeaderCannotChangeTheTenantsCurrency) {
  auto ctx = Ctx();
  ctx->AddMetadata("x-kelola-currency", "THB");
  ctx->AddMetadata("x-kelola-time-zone", "Asia/Jayapura");
  v1::RecordSaleResponse resp;
  grpc::Status status = ledger_->RecordSale(ctx.get(), SaleRequest("h1", "cust-1", 1000, 0), &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.sale().total().currency_code(), "IDR");
  // A THB payment does not settle the IDR sale.
  v1::RecordPaymentRequest pay;
  pay.set_request_id("h2");
  pay.set_customer_id("cust-1");
  pay.mutable_amount()->set_amount_minor(1000);
  pay.mutable_amount()->set_currency_code("THB");
  pay.set_method(v1::PAYMENT_METHOD_CASH);
  auto c2 = Ctx();
  c2->AddMetadata("x-kelola-currency", "THB");
  v1::RecordPaymentResponse pay_resp;
  Err e = Decode(ledger_->RecordPayment(c2.get(), pay, &pay_resp));
  EXPECT_EQ(e.reason, "CURRENCY_MISMATCH");
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 1000);
}

TEST_P(LedgerContractTest, ARestartedLedgerKnowsItsTenantsWhileCustomerSvcIsDown) {
  directory_.SetTenantSettings("thai", {"THB", "Asia/Bangkok"});
  v1::RecordSaleRequest r = SaleRequest("w1", "", 1000, 1000);
  for (auto* m :
       {r.mutable_items(0)->mutable_unit_price(), r.mutable_total(), r.mutable_amount_paid_now()}) {
    m->set_currency_code("THB");
  }
  v1::RecordSaleResponse resp;
  auto c1 = Ctx("thai");
  ASSERT_TRUE(ledger_->RecordSale(c1.get(), r, &resp).ok());
  Stop();
  directory_.SetUnavailable(true);
  Start();
  // The last answer customer-svc gave is in the ledger's database: never a guess.
  r.set_request_id("w2");
  auto c2 = Ctx("thai");
  grpc::Status status = ledger_->RecordSale(c2.get(), r, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.sale().total().currency_code(), "THB");
  // A tenant the ledger never learned about is refused until customer-svc answers.
  auto c3 = Ctx("new-tenant");
  Err e = Decode(ledger_->RecordSale(c3.get(), SaleRequest("w3", "", 1000, 1000), &resp));
  EXPECT_EQ(e.code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(e.reason, "CUSTOMER_SERVICE_UNAVAILABLE");
  directory_.SetUnavailable(false);
  auto c4 = Ctx("new-tenant");
  status = ledger_->RecordSale(c4.get(), SaleRequest("w3", "", 1000, 1000), &resp);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// A tenant's currency is locked once it has ledger entries: the ledger pins it with the
// first entry, and when customer-svc later reports another (no price list to stop the
// change there), every money write is refused and reads stay in the pinned currency.
TEST_P(LedgerContractTest, ATenantsCurrencyIsLockedOnceItHasLedgerEntries) {
  Sale("cl1", "cust-1", 1000, 0);  // IDR
  const size_t events = Events().size();
  directory_.SetTenantSettings("t1", {"THB", "Asia/Bangkok"});
  clock_.Advance(absl::Seconds(61));  // the cached IDR answer expires
  v1::RecordPaymentRequest pay;
  pay.set_request_id("cl2");
  pay.set_customer_id("cust-1");
  pay.mutable_amount()->set_amount_minor(1000);
  pay.mutable_amount()->set_currency_code("THB");
  pay.set_method(v1::PAYMENT_METHOD_CASH);
  v1::RecordSaleRequest sale = SaleRequest("cl3", "cust-1", 500, 0);
  for (auto* m : {sale.mutable_items(0)->mutable_unit_price(), sale.mutable_total()}) {
    m->set_currency_code("THB");
  }
  auto refused = [&] {
    v1::RecordPaymentResponse pay_resp;
    auto c1 = Ctx();
    Err e = Decode(ledger_->RecordPayment(c1.get(), pay, &pay_resp));
    EXPECT_EQ(e.code, grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(e.reason, "CURRENCY_LOCKED");
    EXPECT_EQ(e.metadata["ledger_currency"], "IDR");
    EXPECT_EQ(e.metadata["tenant_currency"], "THB");
    Err s = Decode(RecordSale(sale));
    EXPECT_EQ(s.code, grpc::StatusCode::FAILED_PRECONDITION);
    EXPECT_EQ(s.reason, "CURRENCY_LOCKED");
    // Reads keep working, in the pinned currency; nothing was written.
    v1::CustomerBalance balance = Balance("cust-1");
    EXPECT_EQ(balance.balance().currency_code(), "IDR");
    EXPECT_EQ(balance.balance().amount_minor(), 1000);
    EXPECT_EQ(PaymentCount("cust-1"), 0);
    EXPECT_EQ(Events().size(), events);
  };
  refused();
  // The pin is in the database: a restarted ledger refuses too.
  Stop();
  Start();
  refused();
  // Set back to IDR, writes work again.
  directory_.SetTenantSettings("t1", {"IDR", "Asia/Jakarta"});
  clock_.Advance(absl::Seconds(61));
  pay.mutable_amount()->set_currency_code("IDR");
  v1::RecordPaymentResponse paid;
  auto c2 = Ctx();
  grpc::Status status = ledger_->RecordPayment(c2.get(), pay, &paid);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(Balance("cust-1").balance().amount_minor(), 0);
}

// Without ledger entries the currency may still change, even after a refused write.
TEST_P(LedgerContractTest, ATenantWithoutLedgerEntriesMayChangeItsCurrency) {
  v1::RecordSaleRequest sale = SaleRequest("cf1", "cust-1", 500, 0);
  sale.mutable_total()->set_amount_minor(499);
  auto c1 = Ctx("fresh");
  v1::RecordSaleResponse resp;
  EXPECT_EQ(Decode(ledger_->RecordSale(c1.get(), sale, &resp)).reason, "TOTAL_MISMATCH");
  directory_.SetTenantSettings("fresh", {"THB", "Asia/Bangkok"});
  clock_.Advance(absl::Seconds(61));
  sale.mutable_total()->set_amount_minor(500);
  for (auto* m : {sale.mutable_items(0)->mutable_unit_price(), sale.mutable_total()}) {
    m->set_currency_code("THB");
  }
  auto c2 = Ctx("fresh");
  grpc::Status status = ledger_->RecordSale(c2.get(), sale, &resp);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(resp.sale().total().currency_code(), "THB");
}

// Filter times and dates are in protobuf's range, years 0001 to 9999, like every time the
// API takes; absl's specials ("infinite-future") are not times.
TEST_P(LedgerContractTest, FilterTimesAndDatesOutsideYears1To9999AreRefused) {
  for (const char* filter :
       {"sale_time < \"infinite-future\"", "sale_time > \"infinite-past\"",
        "sale_time < \"10000-01-01T00:00:00Z\"", "sale_time > \"0000-12-31T23:59:59Z\"",
        "sale_time < \"9999-12-31T23:59:59-01:00\"", "sale_date <= \"10000-01-01\"",
        "sale_date >= \"0000-01-01\"", "sale_date = \"99999-01-01\""}) {
    Err e = ListSalesError(filter);
    EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT) << filter;
    EXPECT_EQ(e.reason, "INVALID_FILTER") << filter;
    EXPECT_EQ(e.fields, (std::set<std::string>{"filter"})) << filter;
  }
  for (const char* filter :
       {"sale_time < \"9999-12-31T23:59:59.999999999Z\"", "sale_time > \"0001-01-01T00:00:00Z\"",
        "sale_date <= \"9999-12-31\"", "sale_date >= \"0001-01-01\""}) {
    EXPECT_EQ(ListSalesError(filter).code, grpc::StatusCode::OK) << filter;
  }
  v1::ListPaymentsRequest payments;
  payments.set_filter("received_time >= \"infinite-past\"");
  v1::ListPaymentsResponse payments_resp;
  auto ctx = Ctx();
  EXPECT_EQ(Decode(ledger_->ListPayments(ctx.get(), payments, &payments_resp)).reason,
            "INVALID_FILTER");
}

// Every write's replay is answered from the stored response before the tenant's settings
// are needed, so a retry during a customer-svc outage succeeds even for a tenant this
// process has not asked about yet and the database holds no copy of.
TEST_P(LedgerContractTest, ReplaysOfEveryWriteNeedNoCustomerSvc) {
  auto s1 = Sale("rs1", "cust-1", 1000, 0);
  auto s2 = Sale("rs2", "cust-1", 2000, 0);
  v1::RecordPaymentResponse paid;
  ASSERT_TRUE(
      Pay("rp1", "cust-1", 500, &paid, /*keep_excess=*/true, {{s1.sale().sale_id(), 100}}).ok());
  auto call = [&](auto method, const auto& request, auto* response) {
    auto ctx = Ctx();
    return (ledger_.get()->*method)(ctx.get(), request, response);
  };
  v1::VoidSaleRequest void_sale;
  void_sale.set_request_id("rv1");
  void_sale.set_sale_id(s2.sale().sale_id());
  void_sale.set_reason("wrong customer");
  v1::RefundSaleRequest refund;
  refund.set_request_id("rr1");
  refund.set_sale_id(s1.sale().sale_id());
  *refund.mutable_amount() = Idr(100);
  refund.set_reason("returned");
  v1::ApplyCreditRequest apply;
  apply.set_request_id("ra1");
  apply.set_customer_id("cust-1");
  v1::VoidPaymentRequest void_payment;
  void_payment.set_request_id("rvp1");
  void_payment.set_payment_id(paid.payment().payment_id());
  void_payment.set_reason("recorded twice");
  v1::DeleteCreditLimitRequest del;
  del.set_request_id("rd1");
  del.set_customer_id("cust-1");
  v1::VoidSaleResponse void_sale_1, void_sale_2;
  v1::RefundSaleResponse refund_1, refund_2;
  v1::ApplyCreditResponse apply_1, apply_2;
  v1::VoidPaymentResponse void_payment_1, void_payment_2;
  v1::DeleteCreditLimitResponse del_1, del_2;
  using Stub = v1::LedgerService::Stub;
  ASSERT_TRUE(call(&Stub::VoidSale, void_sale, &void_sale_1).ok());
  ASSERT_TRUE(call(&Stub::RefundSale, refund, &refund_1).ok());
  ASSERT_TRUE(call(&Stub::VoidPayment, void_payment, &void_payment_1).ok());
  ASSERT_TRUE(call(&Stub::ApplyCredit, apply, &apply_1).ok());
  ASSERT_TRUE(call(&Stub::DeleteCreditLimit, del, &del_1).ok());
  // A restarted process (empty cache), no stored copy of the settings, customer-svc down.
  Stop();
  directory_.SetUnavailable(true);
  Start();
  ASSERT_TRUE(db_->InTransaction([](db::Transaction& tx) {
                   return tx.Execute("DELETE FROM tenant_settings").status();
                 })
                  .ok());
  grpc::Status status = call(&Stub::VoidSale, void_sale, &void_sale_2);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(void_sale_2.SerializeAsString(), void_sale_1.SerializeAsString());
  status = call(&Stub::RefundSale, refund, &refund_2);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(refund_2.SerializeAsString(), refund_1.SerializeAsString());
  status = call(&Stub::ApplyCredit, apply, &apply_2);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(apply_2.SerializeAsString(), apply_1.SerializeAsString());
  status = call(&Stub::VoidPayment, void_payment, &void_payment_2);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(void_payment_2.SerializeAsString(), void_payment_1.SerializeAsString());
  status = call(&Stub::DeleteCreditLimit, del, &del_2);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(del_2.SerializeAsString(), del_1.SerializeAsString());
  // A new write still needs the tenant's settings.
  void_sale.set_request_id("rv2");
  Err e = Decode(call(&Stub::VoidSale, void_sale, &void_sale_2));
  EXPECT_EQ(e.code, grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(e.reason, "CUSTOMER_SERVICE_UNAVAILABLE");
}

INSTANTIATE_TEST_SUITE_P(Drivers, LedgerContractTest,
                         ::testing::Values("sqlite", "postgres", "sqlite_group_commit",
                                           "postgres_group_commit"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::ledger::testing_support
