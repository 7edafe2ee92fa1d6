// Request fields that reach the database must be refused at the door when malformed:
// Timestamps and Dates outside their ranges, request_ids that are not visible ASCII, and
// page tokens the ledger did not issue. Every refusal is INVALID_ARGUMENT naming the
// field, never INTERNAL, on SQLite and PostgreSQL.

#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/ledger-svc/api/ledger_api_fixture.h"

namespace kelola::ledger::testing_support {
namespace {

using ::testing::ElementsAre;

class LedgerInputValidationTest : public LedgerApiTest {
 protected:
  LedgerInputValidationTest() : LedgerApiTest("cashier-1") {}
};

// A token the ledger issued, with `value` (which it carries in the clear) replaced by bytes
// of the same length that no well-behaved client would send.
std::string Tamper(const std::string& token, const std::string& value) {
  std::string raw;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(token, &raw));
  std::string garbage(value.size(), 'x');
  garbage[0] = '\xff';
  if (garbage.size() > 1) garbage[1] = '\0';
  const size_t at = raw.rfind(value);
  EXPECT_NE(at, std::string::npos) << "the token does not carry " << value;
  if (at != std::string::npos) raw.replace(at, value.size(), garbage);
  return absl::WebSafeBase64Escape(raw);
}

TEST_P(LedgerInputValidationTest, ForgedCreditLimitTokensAreRefused) {
  for (const char* customer : {"cust-1", "cust-2", "cust-3"}) {
    v1::SetCreditLimitRequest set;
    set.set_request_id(std::string("lim-") + customer);
    set.mutable_credit_limit()->set_customer_id(customer);
    *set.mutable_credit_limit()->mutable_limit() = Idr(1000);
    v1::SetCreditLimitResponse set_resp;
    ASSERT_TRUE(ledger_->SetCreditLimit(Ctx().get(), set, &set_resp).ok());
    clock_.Advance(absl::Minutes(1));
  }
  v1::ListCreditLimitsRequest list;
  list.set_page_size(1);
  v1::ListCreditLimitsResponse first;
  ASSERT_TRUE(ledger_->ListCreditLimits(Ctx().get(), list, &first).ok());
  ASSERT_EQ(first.credit_limits_size(), 1);
  ASSERT_FALSE(first.next_page_token().empty());
  const std::string token = first.next_page_token();

  v1::ListCreditLimitsResponse page;
  for (const std::string& forged :
       {Tamper(token, first.credit_limits(0).customer_id()), token.substr(0, token.size() / 2),
        token + "AAAA", std::string("djF8MTIzfHh8eQ")}) {
    list.set_page_token(forged);
    const Err e = Decode(ledger_->ListCreditLimits(Ctx().get(), list, &page));
    EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT) << forged;
    EXPECT_EQ(e.reason, "PAGE_TOKEN_INVALID") << forged;
    EXPECT_EQ(e.fields, std::set<std::string>{"page_token"}) << forged;
  }
  list.set_page_token(token);
  ASSERT_TRUE(ledger_->ListCreditLimits(Ctx().get(), list, &page).ok());
  EXPECT_EQ(page.credit_limits_size(), 1);
}

TEST_P(LedgerInputValidationTest, RequestIdsFollowTheOneRule) {
  for (const std::string& request_id :
       {std::string("a\0b", 3), std::string(1 << 20, 'r'), std::string("beli-\xF0\x9F\x98\x80"),
        std::string("a b"), std::string(101, 'a'), std::string()}) {
    v1::RecordSaleResponse resp;
    const Err e = Decode(TrySale(request_id, "cust-1", 1000, 1000, &resp));
    EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT) << request_id.size();
    EXPECT_EQ(e.fields.count("request_id"), 1u) << request_id.size();
  }
  EXPECT_EQ(Decode(TrySale(std::string(100, 'z'), "cust-1", 1000, 1000)).code,
            grpc::StatusCode::OK);
}

TEST_P(LedgerInputValidationTest, TimestampsAndDatesOutsideTheirRangesAreRefused) {
  struct Case {
    int64_t seconds;
    int32_t nanos;
  };
  for (const Case& c : std::vector<Case>{
           {1767225600, -1}, {1767225600, 1000000000}, {-62135596801, 0}, {INT64_MIN, 0}}) {
    v1::RecordSaleRequest sale = SaleRequest("s-time", "cust-1", 1000, 1000);
    sale.mutable_sale_time()->set_seconds(c.seconds);
    sale.mutable_sale_time()->set_nanos(c.nanos);
    v1::RecordSaleResponse resp;
    const Err e = Decode(ledger_->RecordSale(Ctx().get(), sale, &resp));
    EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT) << c.seconds << "." << c.nanos;
    EXPECT_EQ(e.fields, std::set<std::string>{"sale_time"}) << c.seconds << "." << c.nanos;
  }
  for (const auto& [y, m, d] : std::vector<std::tuple<int, int, int>>{
           {2026, 2, 29}, {0, 1, 1}, {10000, 1, 1}, {2026, 13, 1}}) {
    v1::RecordSaleRequest sale = SaleRequest("s-date", "cust-1", 1000, 0);
    sale.mutable_due_date()->set_year(y);
    sale.mutable_due_date()->set_month(m);
    sale.mutable_due_date()->set_day(d);
    v1::RecordSaleResponse resp;
    const Err e = Decode(ledger_->RecordSale(Ctx().get(), sale, &resp));
    EXPECT_EQ(e.code, grpc::StatusCode::INVALID_ARGUMENT) << y << "-" << m << "-" << d;
    EXPECT_EQ(e.fields, std::set<std::string>{"due_date"}) << y << "-" << m << "-" << d;
  }
}

INSTANTIATE_TEST_SUITE_P(Drivers, LedgerInputValidationTest,
                         ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::ledger::testing_support
