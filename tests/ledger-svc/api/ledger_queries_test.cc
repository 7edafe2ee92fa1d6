// The List requests as the store's queries and its pages as responses, without a server
// or a database: filters become typed conditions in their order, the checks come in the
// contract's order, and page tokens carry the last row's key bound to every listing
// parameter (in the binding format of tokens already handed out).

#include "ledger-svc/api/ledger_queries.h"

#include <string>
#include <variant>

#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ledger-svc/domain/listing.h"
#include "libs/errors/errors.h"

namespace kelola::ledger::api {
namespace {

LedgerContext Ctx() {
  LedgerContext ctx;
  ctx.tenant_id = "t1";
  ctx.currency = "IDR";
  ctx.time_zone = absl::FixedTimeZone(7 * 3600);  // Asia/Jakarta
  return ctx;
}

int64_t Micros(absl::CivilSecond local, absl::TimeZone tz) {
  return absl::ToUnixMicros(absl::FromCivil(local, tz));
}

template <typename T, typename Variant>
const T& As(const Variant& v) {
  EXPECT_TRUE(std::holds_alternative<T>(v));
  return std::get<T>(v);
}

std::vector<std::string> Fields(const absl::Status& status) {
  std::vector<std::string> fields;
  for (const auto& v : errors::Violations(status)) fields.push_back(v.field);
  return fields;
}

// The reason `req` is refused with ("OK" when it is not).
template <typename Request>
std::string Refusal(const LedgerContext& ctx, const Request& req) {
  return errors::Reason(ToQuery(ctx, req).status());
}

TEST(LedgerQueriesTest, SaleFilterBecomesConditionsInTheFiltersOrder) {
  const LedgerContext ctx = Ctx();
  v1::ListSalesRequest req;
  req.set_filter(
      "status != PAID AND sale_date = \"2024-05-01\" AND store_id = \"s1\" AND open = true AND "
      "overdue = false AND walk_in = true AND sale_time < \"2024-05-03T00:00:00Z\"");
  req.set_order_by("sale_time asc");
  req.set_page_size(500);
  auto query = ToQuery(ctx, req);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->page_size, 200);
  EXPECT_TRUE(query->oldest_first);
  EXPECT_EQ(query->view, v1::SALE_VIEW_BASIC);
  EXPECT_FALSE(query->after.has_value());
  ASSERT_EQ(query->conditions.size(), 8u);
  EXPECT_EQ(As<SaleStatusIs>(query->conditions[0]).status, v1::SALE_STATUS_PAID);
  EXPECT_FALSE(As<SaleStatusIs>(query->conditions[0]).equal);
  // The day is the tenant's: 2024-05-01 00:00 to 2024-05-02 00:00 in UTC+7.
  const TimeBound& from = As<TimeBound>(query->conditions[1]);
  EXPECT_EQ(from.op, TimeBound::kAtOrAfter);
  EXPECT_EQ(from.micros, Micros(absl::CivilSecond(2024, 5, 1), ctx.time_zone));
  const TimeBound& to = As<TimeBound>(query->conditions[2]);
  EXPECT_EQ(to.op, TimeBound::kBefore);
  EXPECT_EQ(to.micros, Micros(absl::CivilSecond(2024, 5, 2), ctx.time_zone));
  EXPECT_EQ(As<StoreIs>(query->conditions[3]).store_id, "s1");
  EXPECT_TRUE(As<StoreIs>(query->conditions[3]).equal);
  EXPECT_TRUE(As<SaleOpen>(query->conditions[4]).open);
  EXPECT_FALSE(As<SaleOverdue>(query->conditions[5]).overdue);
  EXPECT_TRUE(As<SaleWalkIn>(query->conditions[6]).walk_in);
  const TimeBound& before = As<TimeBound>(query->conditions[7]);
  EXPECT_EQ(before.op, TimeBound::kBefore);
  EXPECT_EQ(before.micros, Micros(absl::CivilSecond(2024, 5, 3), absl::UTCTimeZone()));
}

TEST(LedgerQueriesTest, DateBoundsCoverWholeDays) {
  const LedgerContext ctx = Ctx();
  const int64_t may1 = Micros(absl::CivilSecond(2024, 5, 1), ctx.time_zone);
  const int64_t may2 = Micros(absl::CivilSecond(2024, 5, 2), ctx.time_zone);
  struct Case {
    std::string op;
    TimeBound::Op bound;
    int64_t micros;
  };
  for (const Case& c :
       {Case{">=", TimeBound::kAtOrAfter, may1}, Case{">", TimeBound::kAtOrAfter, may2},
        Case{"<", TimeBound::kBefore, may1}, Case{"<=", TimeBound::kBefore, may2}}) {
    v1::ListPaymentsRequest req;
    req.set_filter("received_date " + c.op + " \"2024-05-01\"");
    auto query = ToQuery(ctx, req);
    ASSERT_TRUE(query.ok()) << c.op << ": " << query.status();
    ASSERT_EQ(query->conditions.size(), 1u) << c.op;
    EXPECT_EQ(As<TimeBound>(query->conditions[0]).op, c.bound) << c.op;
    EXPECT_EQ(As<TimeBound>(query->conditions[0]).micros, c.micros) << c.op;
  }
}

TEST(LedgerQueriesTest, RequestsAreCheckedInTheContractsOrder) {
  const LedgerContext ctx = Ctx();
  v1::ListSalesRequest req;
  req.set_page_size(-1);
  req.set_filter("colour = \"red\"");
  req.set_order_by("total desc");
  req.set_page_token("garbage");
  EXPECT_EQ(Fields(ToQuery(ctx, req).status()), std::vector<std::string>{"page_size"});
  req.set_page_size(0);
  EXPECT_EQ(Refusal(ctx, req), "INVALID_FILTER");
  req.set_filter("");
  EXPECT_EQ(Refusal(ctx, req), "INVALID_ORDER_BY");
  req.set_order_by("");
  EXPECT_EQ(Refusal(ctx, req), "PAGE_TOKEN_INVALID");
  req.set_page_token("");
  EXPECT_TRUE(ToQuery(ctx, req).ok());
  // walk_in is a field of the tenant's journal only.
  req.set_customer_id("c1");
  req.set_filter("walk_in = true");
  EXPECT_EQ(Refusal(ctx, req), "INVALID_FILTER");
  req.set_filter("status = UNSPECIFIED");
  EXPECT_EQ(Refusal(ctx, req), "INVALID_FILTER");
  req.set_filter("status < PAID");
  EXPECT_EQ(Refusal(ctx, req), "INVALID_FILTER");
}

TEST(LedgerQueriesTest, SalePageTokensResumeOnlyForTheSameListing) {
  const LedgerContext ctx = Ctx();
  v1::ListSalesRequest req;
  req.set_customer_id("c1");
  req.set_filter("open = true");
  req.set_view(v1::SALE_VIEW_FULL);
  SalePage page;
  page.sales.emplace_back().set_sale_id("s-9");
  page.next_after = EntryKey{1714521600000000, 9};
  const v1::ListSalesResponse response = ToResponse(ctx, req, page);
  ASSERT_EQ(response.sales_size(), 1);
  EXPECT_EQ(response.sales(0).sale_id(), "s-9");
  ASSERT_FALSE(response.next_page_token().empty());
  // Tokens handed out before keep their binding.
  EXPECT_TRUE(DecodePageToken(response.next_page_token(), "t1|ListSales|c1|open = true||2").ok());

  req.set_page_token(response.next_page_token());
  auto next = ToQuery(ctx, req);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(next->after.has_value());
  EXPECT_EQ(next->after->time_micros, 1714521600000000);
  EXPECT_EQ(next->after->number, 9);
  EXPECT_EQ(next->view, v1::SALE_VIEW_FULL);

  v1::ListSalesRequest other = req;
  other.set_filter("open = false");
  EXPECT_EQ(Refusal(ctx, other), "PAGE_TOKEN_MISMATCH");
  LedgerContext limited = ctx;
  limited.stores = {"toko-1"};
  EXPECT_EQ(Refusal(limited, req), "PAGE_TOKEN_MISMATCH");

  page.next_after.reset();
  EXPECT_TRUE(ToResponse(ctx, req, page).next_page_token().empty());
}

TEST(LedgerQueriesTest, PaymentFilterTerms) {
  const LedgerContext ctx = Ctx();
  v1::ListPaymentsRequest req;
  req.set_filter(
      "method = QRIS AND status != VOIDED AND origin = SALE AND store_id != \"s2\" AND "
      "has_credit = true");
  req.set_order_by("received_time desc");
  auto query = ToQuery(ctx, req);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_FALSE(query->oldest_first);
  ASSERT_EQ(query->conditions.size(), 5u);
  EXPECT_EQ(As<PaymentMethodIs>(query->conditions[0]).method, v1::PAYMENT_METHOD_QRIS);
  EXPECT_EQ(As<PaymentStatusIs>(query->conditions[1]).status, v1::PAYMENT_STATUS_VOIDED);
  EXPECT_FALSE(As<PaymentStatusIs>(query->conditions[1]).equal);
  EXPECT_EQ(As<PaymentOriginIs>(query->conditions[2]).origin, v1::PAYMENT_ORIGIN_SALE);
  EXPECT_FALSE(As<StoreIs>(query->conditions[3]).equal);
  EXPECT_TRUE(As<PaymentHasCredit>(query->conditions[4]).has_credit);
  for (const char* refused : {"method = CHEQUE", "method = \"QRIS\"", "status = OPEN",
                              "store_id = s2", "walk_in = true", "sale_time > \"x\""}) {
    req.set_filter(refused);
    EXPECT_EQ(Refusal(ctx, req), "INVALID_FILTER") << refused;
  }
}

TEST(LedgerQueriesTest, ReceivablesQueryAndAnswer) {
  const LedgerContext ctx = Ctx();
  v1::ListReceivablesRequest req;
  req.set_filter(
      "balance >= 100 AND days_overdue > 3 AND category_id = \"k1\" AND overdue = true AND "
      "store_id = \"s2\"");
  req.set_order_by("days_overdue desc");
  auto query = ToQuery(ctx, req);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->order, ReceivableListQuery::kDaysOverdueDesc);
  EXPECT_EQ(query->store_id, "s2");
  EXPECT_EQ(query->category_id, "k1");
  EXPECT_EQ(query->overdue, true);
  ASSERT_EQ(query->min_balance.size(), 1u);
  EXPECT_TRUE(query->min_balance[0].inclusive);
  EXPECT_EQ(query->min_balance[0].value, 100);
  ASSERT_EQ(query->min_days_overdue.size(), 1u);
  EXPECT_FALSE(query->min_days_overdue[0].inclusive);
  EXPECT_EQ(query->min_days_overdue[0].value, 3);

  ReceivablePage page;
  Receivable& owes = page.receivables.emplace_back();
  owes.customer_id = "c1";
  owes.balance = 5000;
  owes.overdue_amount = 2000;
  owes.days_overdue = 4;
  owes.open_sale_count = 2;
  owes.oldest_open_sale_micros = 1714521600000000;
  owes.ledger_version = 7;
  owes.credit = 0;  // a ledger row, without credit; no payment yet
  page.next_after = ReceivableKey{-4, "c1"};
  page.total_balance = 9000;
  page.total_overdue_amount = 2500;
  page.customer_count = 3;
  page.as_of = absl::CivilDay(2024, 5, 6);
  const v1::ListReceivablesResponse response = ToResponse(ctx, req, page);
  ASSERT_EQ(response.receivables_size(), 1);
  const v1::Receivable& r = response.receivables(0);
  EXPECT_EQ(r.customer_id(), "c1");
  EXPECT_EQ(r.balance().amount_minor(), 5000);
  EXPECT_EQ(r.balance().currency_code(), "IDR");
  EXPECT_EQ(r.overdue_amount().amount_minor(), 2000);
  EXPECT_EQ(r.days_overdue(), 4);
  EXPECT_EQ(r.open_sale_count(), 2);
  EXPECT_EQ(r.oldest_open_sale_time().seconds(), 1714521600);
  EXPECT_FALSE(r.has_last_payment_time());
  EXPECT_TRUE(r.has_credit());
  EXPECT_EQ(r.ledger_version(), 7);
  EXPECT_EQ(response.total_balance().amount_minor(), 9000);
  EXPECT_EQ(response.total_overdue_amount().amount_minor(), 2500);
  EXPECT_EQ(response.customer_count(), 3);
  EXPECT_EQ(response.as_of_date().day(), 6);

  req.set_page_token(response.next_page_token());
  auto next = ToQuery(ctx, req);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(next->after.has_value());
  EXPECT_EQ(next->after->key, -4);
  EXPECT_EQ(next->after->customer_id, "c1");

  req.set_order_by("credit desc");
  EXPECT_EQ(Refusal(ctx, req), "INVALID_ORDER_BY");
  req.set_order_by("");
  req.set_filter("balance < 100");
  EXPECT_EQ(Refusal(ctx, req), "INVALID_FILTER");
}

TEST(LedgerQueriesTest, CreditLimitQueryAndTokens) {
  const LedgerContext ctx = Ctx();
  v1::ListCreditLimitsRequest req;
  req.set_filter("subject = CATEGORY");
  req.set_order_by("limit desc");
  auto query = ToQuery(ctx, req);
  ASSERT_TRUE(query.ok()) << query.status();
  EXPECT_EQ(query->subject, "category");
  EXPECT_EQ(query->order, CreditLimitListQuery::kLimitDesc);

  CreditLimitPage page;
  page.credit_limits.emplace_back().set_category_id("k1");
  page.next_after = CreditLimitKey{100000, "k1", "category"};
  const v1::ListCreditLimitsResponse response = ToResponse(ctx, req, page);
  ASSERT_EQ(response.credit_limits_size(), 1);
  req.set_page_token(response.next_page_token());
  auto next = ToQuery(ctx, req);
  ASSERT_TRUE(next.ok()) << next.status();
  ASSERT_TRUE(next->after.has_value());
  EXPECT_EQ(next->after->key, 100000);
  EXPECT_EQ(next->after->subject_id, "k1");
  EXPECT_EQ(next->after->subject, "category");

  // A token of this listing whose keys are not a credit limit's: unreadable, and (as
  // ever for this RPC) without a field violation.
  req.set_page_token(
      EncodePageToken("t1|ListCreditLimits|subject = CATEGORY|limit desc", {"x", "k1"}));
  const absl::Status bad = ToQuery(ctx, req).status();
  EXPECT_EQ(errors::Reason(bad), "PAGE_TOKEN_INVALID");
  EXPECT_TRUE(Fields(bad).empty());
  req.set_page_token("");
  req.set_order_by("limit asc");
  EXPECT_EQ(Fields(ToQuery(ctx, req).status()), std::vector<std::string>{"order_by"});
  req.set_order_by("");
  req.set_filter("subject = STORE");
  EXPECT_EQ(Refusal(ctx, req), "INVALID_FILTER");
}

}  // namespace
}  // namespace kelola::ledger::api
