// The card reducers without a database: dispatch on the payload's message type, the
// per-customer version guard, merges, open sales and the read-time figures.

#include "report-svc/domain/summary_card.h"

#include "gtest/gtest.h"
#include "kelola/ledger/v1/events.pb.h"
#include "libs/time/time.h"

namespace kelola::report::domain {
namespace {

CardChange Change(const std::string& customer, int64_t version,
                  const ledger::v1::CustomerLedgerStats& stats) {
  CardChange change;
  change.customer_id = customer;
  change.ledger_version = version;
  change.stats = stats;
  return change;
}

ledger::v1::CustomerLedgerStats Stats(int64_t spent, int64_t count, int64_t balance) {
  ledger::v1::CustomerLedgerStats s;
  s.mutable_total_spent()->set_amount_minor(spent);
  s.mutable_total_spent()->set_currency_code("IDR");
  s.set_transaction_count(count);
  s.mutable_average_order()->set_amount_minor(count == 0 ? 0 : (spent + count / 2) / count);
  s.mutable_balance()->set_amount_minor(balance);
  *s.mutable_first_purchase_time() = time::ToTimestamp(absl::FromUnixSeconds(1000));
  *s.mutable_last_purchase_time() = time::ToTimestamp(absl::FromUnixSeconds(2000));
  return s;
}

template <typename T>
type::v1::Event EventOf(const T& payload) {
  type::v1::Event event;
  event.set_tenant_id("t1");
  event.set_type(T::descriptor()->full_name());
  event.mutable_payload()->PackFrom(payload);
  return event;
}

TEST(CardChangesTest, SaleRecordedYieldsTheCustomersStatsAndPosition) {
  ledger::v1::SaleRecorded sale;
  sale.set_customer_id("c1");
  sale.set_ledger_version(3);
  *sale.mutable_stats() = Stats(5000, 2, 1500);
  auto* position = sale.add_affected_sales();
  position->set_sale_id("s1");
  position->mutable_outstanding()->set_amount_minor(1500);
  auto changes = CardChanges(EventOf(sale));
  ASSERT_TRUE(changes.ok()) << changes.status();
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].customer_id, "c1");
  EXPECT_EQ((*changes)[0].ledger_version, 3);
  EXPECT_EQ((*changes)[0].stats.total_spent().amount_minor(), 5000);
  ASSERT_EQ((*changes)[0].positions.size(), 1u);
  EXPECT_EQ((*changes)[0].positions[0].sale_id(), "s1");
}

TEST(CardChangesTest, DispatchesOnThePayloadTypeNotTheTypeString) {
  ledger::v1::PaymentRecorded payment;
  payment.set_customer_id("c1");
  payment.set_ledger_version(4);
  type::v1::Event event = EventOf(payment);
  event.set_type("something else");  // the envelope's string is not what decides
  auto changes = CardChanges(event);
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 1u);
  EXPECT_EQ((*changes)[0].ledger_version, 4);
}

TEST(CardChangesTest, WalkInSalesAndCreditLimitsChangeNoCard) {
  ledger::v1::SaleRecorded walk_in;  // no customer
  walk_in.add_affected_sales()->set_sale_id("s9");
  auto changes = CardChanges(EventOf(walk_in));
  ASSERT_TRUE(changes.ok());
  EXPECT_TRUE(changes->empty());
  ledger::v1::CreditLimitChanged limit;
  limit.set_customer_id("c1");
  changes = CardChanges(EventOf(limit));
  ASSERT_TRUE(changes.ok());
  EXPECT_TRUE(changes->empty());
}

TEST(CardChangesTest, EveryPerCustomerEventTypeIsRecognized) {
  auto one = [](const auto& payload) {
    auto changes = CardChanges(EventOf(payload));
    return changes.ok() ? changes->size() : 99u;
  };
  ledger::v1::SaleVoided sv;
  sv.set_customer_id("c");
  ledger::v1::PaymentVoided pv;
  pv.set_customer_id("c");
  ledger::v1::SaleRefunded sr;
  sr.set_customer_id("c");
  ledger::v1::CreditApplied ca;
  ca.set_customer_id("c");
  ledger::v1::CustomerSealed cs;
  cs.set_customer_id("c");
  ledger::v1::CustomerUnsealed cu;
  cu.set_customer_id("c");
  EXPECT_EQ(one(sv), 1u);
  EXPECT_EQ(one(pv), 1u);
  EXPECT_EQ(one(sr), 1u);
  EXPECT_EQ(one(ca), 1u);
  EXPECT_EQ(one(cs), 1u);
  EXPECT_EQ(one(cu), 1u);
}

TEST(CardChangesTest, AnUnreadablePayloadIsAnError) {
  type::v1::Event event;
  event.mutable_payload()->set_type_url("type.googleapis.com/kelola.ledger.v1.SaleRecorded");
  event.mutable_payload()->set_value("\xff\xff\xff");
  EXPECT_FALSE(CardChanges(event).ok());
}

TEST(CardChangesTest, ReassignmentChangesTargetThenSource) {
  ledger::v1::CustomerReassigned moved;
  moved.set_customer_id("target");
  moved.set_ledger_version(7);
  *moved.mutable_stats() = Stats(9000, 3, 0);
  moved.set_source_customer_id("source");
  moved.set_source_ledger_version(5);
  moved.mutable_source_stats()->set_merged_into_customer_id("target");
  moved.add_moved_sale_ids("s1");
  auto changes = CardChanges(EventOf(moved));
  ASSERT_TRUE(changes.ok());
  ASSERT_EQ(changes->size(), 2u);
  EXPECT_EQ((*changes)[0].customer_id, "target");
  EXPECT_EQ((*changes)[0].moved_sale_ids, std::vector<std::string>{"s1"});
  EXPECT_EQ((*changes)[1].customer_id, "source");
  EXPECT_EQ((*changes)[1].ledger_version, 5);
  CardRow source = ReduceCard((*changes)[1], CardRow{});
  EXPECT_EQ(source.merged_into_customer_id, "target");
  EXPECT_EQ(source.total_spent, 0);
}

TEST(ReduceCardTest, TakesTheStatsOfANewerVersionOnly) {
  CardChange v2 = Change("c1", 2, Stats(3000, 1, 3000));
  CardChange v3 = Change("c1", 3, Stats(5000, 2, 1000));
  CardRow row = ReduceCard(v2, CardRow{});
  EXPECT_EQ(row.ledger_version, 2);
  EXPECT_EQ(row.total_spent, 3000);
  EXPECT_EQ(row.currency, "IDR");
  row = ReduceCard(v3, row);
  EXPECT_EQ(row.ledger_version, 3);
  EXPECT_EQ(row.total_spent, 5000);
  EXPECT_EQ(row.transaction_count, 2);
  EXPECT_EQ(row.average_order, 2500);
  EXPECT_EQ(row.balance, 1000);
  EXPECT_EQ(row.first_purchase, absl::FromUnixSeconds(1000));
  EXPECT_EQ(row.last_purchase, absl::FromUnixSeconds(2000));
  // A replay of v2, and a duplicate of v3, leave the card as it is.
  EXPECT_EQ(ReduceCard(v2, row), row);
  EXPECT_EQ(ReduceCard(v3, row), row);
}

TEST(ReduceCardTest, UnsetPurchaseTimesStayUnset) {
  ledger::v1::CustomerLedgerStats empty;
  CardRow row = ReduceCard(Change("c1", 1, empty), CardRow{});
  EXPECT_FALSE(row.first_purchase.has_value());
  EXPECT_FALSE(row.last_purchase.has_value());
}

TEST(SaleFactTest, APositionBecomesAFact) {
  ledger::v1::SalePosition p;
  p.set_sale_id("s1");
  p.set_customer_id("c1");
  p.set_store_id("st1");
  *p.mutable_sale_time() = time::ToTimestamp(absl::FromUnixSeconds(1000));
  p.mutable_net_total()->set_amount_minor(900);
  p.mutable_outstanding()->set_amount_minor(700);
  p.set_status(ledger::v1::SALE_STATUS_PARTIAL);
  *p.mutable_due_date() = time::ToDate(absl::CivilDay(2026, 1, 10));
  SaleFact fact = SaleFactOf(p);
  EXPECT_EQ(fact.outstanding, 700);
  EXPECT_EQ(fact.net_total, 900);
  EXPECT_EQ(fact.store_id, "st1");
  EXPECT_EQ(fact.sale_time, absl::FromUnixSeconds(1000));
  EXPECT_EQ(fact.due_date, absl::CivilDay(2026, 1, 10));
  EXPECT_TRUE(fact.counted);
  EXPECT_EQ(OutstandingDelta(std::nullopt, fact), 700);
  SaleFact paid = fact;
  paid.outstanding = 200;
  EXPECT_EQ(OutstandingDelta(fact.outstanding, paid), -500);
  p.set_status(ledger::v1::SALE_STATUS_VOIDED);
  EXPECT_FALSE(SaleFactOf(p).counted);
}

TEST(OverdueTest, OnlySalesDueBeforeTodayAreOverdue) {
  std::vector<OpenSale> open = {
      {"s1", "c1", absl::CivilDay(2026, 1, 10), 700},
      {"s2", "c1", absl::CivilDay(2026, 1, 20), 300},
      {"s3", "c1", std::nullopt, 1000},  // no due date: never overdue
  };
  EXPECT_EQ(OverdueOn(open, absl::CivilDay(2026, 1, 10)).amount, 0);  // due today: not yet
  Overdue o = OverdueOn(open, absl::CivilDay(2026, 1, 15));
  EXPECT_EQ(o.amount, 700);
  EXPECT_EQ(o.days, 5);
  o = OverdueOn(open, absl::CivilDay(2026, 2, 1));
  EXPECT_EQ(o.amount, 1000);
  EXPECT_EQ(o.days, 22);
}

TEST(DaysSinceLastPurchaseTest, CountsDaysInTheTenantsZone) {
  const absl::TimeZone jakarta = absl::FixedTimeZone(7 * 3600);
  CardRow row;
  EXPECT_FALSE(DaysSinceLastPurchase(row, jakarta, absl::CivilDay(2026, 1, 2)).has_value());
  // 2026-01-01T17:30Z is 00:30 on 2 January in Jakarta.
  row.last_purchase =
      absl::FromCivil(absl::CivilSecond(2026, 1, 1, 17, 30, 0), absl::UTCTimeZone());
  EXPECT_EQ(DaysSinceLastPurchase(row, jakarta, absl::CivilDay(2026, 1, 2)), 0);
  EXPECT_EQ(DaysSinceLastPurchase(row, jakarta, absl::CivilDay(2026, 1, 9)), 7);
  EXPECT_EQ(DaysSinceLastPurchase(row, absl::UTCTimeZone(), absl::CivilDay(2026, 1, 2)), 1);
}

}  // namespace
}  // namespace kelola::report::domain
