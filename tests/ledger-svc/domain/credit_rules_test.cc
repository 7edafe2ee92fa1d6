#include "ledger-svc/domain/credit_rules.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(CreditRulesTest, TheCustomersOwnLimitComesBeforeItsCategorys) {
  EXPECT_EQ(EffectiveCreditLimit(500, 900), 500);
  EXPECT_EQ(EffectiveCreditLimit(0, 900), 0);  // a limit of zero is a limit: cash only
  EXPECT_EQ(EffectiveCreditLimit(std::nullopt, 900), 900);
  EXPECT_EQ(EffectiveCreditLimit(std::nullopt, std::nullopt), std::nullopt);
}

TEST(CreditRulesTest, ABalanceMayReachTheLimitButNotPassIt) {
  EXPECT_TRUE(CheckCreditLimit(100'000, 60'000, 40'000, "IDR").ok());
  absl::Status over = CheckCreditLimit(100'000, 60'000, 40'001, "IDR");
  EXPECT_EQ(over.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(errors::Reason(over), "CREDIT_LIMIT_EXCEEDED");
  const errors::Metadata metadata = errors::GetMetadata(over);
  EXPECT_EQ(metadata.at("limit"), "100000");
  EXPECT_EQ(metadata.at("balance"), "60000");
  EXPECT_EQ(metadata.at("attempted"), "40001");
  EXPECT_EQ(metadata.at("currency_code"), "IDR");
}

TEST(CreditRulesTest, NothingUnpaidOrNoLimitIsAlwaysAllowed) {
  EXPECT_TRUE(CheckCreditLimit(0, 0, 0, "THB").ok());
  EXPECT_TRUE(CheckCreditLimit(0, 500, 0, "THB").ok());  // already above: paying in full is fine
  EXPECT_TRUE(CheckCreditLimit(std::nullopt, 1'000'000'000, 1'000'000'000, "THB").ok());
}

TEST(CreditRulesTest, ABalanceThatWouldOverflowIsRefusedNamingIt) {
  absl::Status overflow = CheckCreditLimit(std::nullopt, kMax - 5, 6, "IDR");
  EXPECT_EQ(errors::Reason(overflow), "AMOUNT_OVERFLOW");
  EXPECT_EQ(errors::GetMetadata(overflow).at("field"), "balance");
}

TEST(CreditRulesTest, CreditIsTakenFromTheOldestPaymentFirst) {
  const std::vector<CreditSource> sources = {{"p-old", 300}, {"p-mid", 200}, {"p-new", 500}};
  auto takes = TakeCreditOldestFirst({450}, sources);
  ASSERT_TRUE(takes.ok()) << takes.status();
  ASSERT_EQ(takes->size(), 2u);
  EXPECT_EQ((*takes)[0].payment_id, "p-old");
  EXPECT_EQ((*takes)[0].amount, 300);
  EXPECT_EQ((*takes)[1].payment_id, "p-mid");
  EXPECT_EQ((*takes)[1].amount, 150);
}

TEST(CreditRulesTest, SeveralAmountsShareTheSourcesInOrder) {
  const std::vector<CreditSource> sources = {{"a", 100}, {"b", 100}};
  auto takes = TakeCreditOldestFirst({150, 0, 50}, sources);
  ASSERT_TRUE(takes.ok()) << takes.status();
  ASSERT_EQ(takes->size(), 3u);
  EXPECT_EQ((*takes)[0].target, 0u);
  EXPECT_EQ((*takes)[0].payment_id, "a");
  EXPECT_EQ((*takes)[0].amount, 100);
  EXPECT_EQ((*takes)[1].target, 0u);
  EXPECT_EQ((*takes)[1].payment_id, "b");
  EXPECT_EQ((*takes)[1].amount, 50);
  EXPECT_EQ((*takes)[2].target, 2u);  // the amount of 0 takes nothing
  EXPECT_EQ((*takes)[2].payment_id, "b");
  EXPECT_EQ((*takes)[2].amount, 50);
}

TEST(CreditRulesTest, AskingMoreThanTheCreditTakesNothing) {
  auto takes = TakeCreditOldestFirst({120, 90}, {{"a", 100}, {"b", 100}});
  ASSERT_FALSE(takes.ok());
  EXPECT_EQ(takes.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(errors::Reason(takes.status()), "INSUFFICIENT_CREDIT");
  EXPECT_EQ(errors::GetMetadata(takes.status()).at("credit"), "200");
  EXPECT_EQ(errors::GetMetadata(takes.status()).at("attempted"), "210");
  EXPECT_EQ(errors::Reason(TakeCreditOldestFirst({1}, {}).status()), "INSUFFICIENT_CREDIT");
}

TEST(CreditRulesTest, CreditThatDoesNotFitSixtyFourBitsIsRefused) {
  const std::vector<CreditSource> sources = {{"a", kMax}, {"b", 1}};
  EXPECT_EQ(errors::Reason(TotalCredit(sources).status()), "AMOUNT_OVERFLOW");
  EXPECT_EQ(errors::Reason(TakeCreditOldestFirst({1}, sources).status()), "AMOUNT_OVERFLOW");
  EXPECT_EQ(errors::Reason(TakeCreditOldestFirst({kMax, kMax}, {{"a", 5}}).status()),
            "AMOUNT_OVERFLOW");
}

}  // namespace
}  // namespace kelola::ledger
