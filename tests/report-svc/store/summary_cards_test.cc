// The summary card projection against real databases: a SQLite file and a fresh
// PostgreSQL database per test, with the same expectations. Events are applied in batches
// with the consumer cursor, as the feed applies them.

#include "report-svc/store/summary_cards.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kelola/ledger/v1/events.pb.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/events/event_consumer.h"
#include "libs/testing/postgres_environment.h"
#include "libs/testing/suite.h"
#include "libs/testing/temp_dir.h"
#include "libs/time/time.h"
#include "report-svc/store/migrations.h"

namespace kelola::report::store {
namespace {

ledger::v1::CustomerLedgerStats Stats(int64_t spent, int64_t count, int64_t balance,
                                      int64_t credit = 0) {
  ledger::v1::CustomerLedgerStats s;
  s.mutable_total_spent()->set_amount_minor(spent);
  s.mutable_total_spent()->set_currency_code("IDR");
  s.set_transaction_count(count);
  s.mutable_average_order()->set_amount_minor(count == 0 ? 0 : (spent + count / 2) / count);
  s.mutable_balance()->set_amount_minor(balance);
  s.mutable_credit()->set_amount_minor(credit);
  if (count > 0) {
    *s.mutable_first_purchase_time() = time::ToTimestamp(absl::FromUnixSeconds(1767225600));
    *s.mutable_last_purchase_time() =
        time::ToTimestamp(absl::FromUnixSeconds(1767225600 + count * 3600));
  }
  return s;
}

ledger::v1::SalePosition Position(const std::string& sale, const std::string& customer,
                                  int64_t outstanding, absl::CivilDay due) {
  ledger::v1::SalePosition p;
  p.set_sale_id(sale);
  p.set_customer_id(customer);
  p.mutable_outstanding()->set_amount_minor(outstanding);
  *p.mutable_due_date() = time::ToDate(due);
  return p;
}

template <typename T>
type::v1::Event EventOf(int64_t sequence, const T& payload, const std::string& tenant = "t1") {
  type::v1::Event event;
  event.set_sequence(sequence);
  event.set_tenant_id(tenant);
  event.set_type(T::descriptor()->full_name());
  event.mutable_payload()->PackFrom(payload);
  return event;
}

ledger::v1::SaleRecorded Sale(const std::string& customer, int64_t version,
                              ledger::v1::CustomerLedgerStats stats,
                              std::vector<ledger::v1::SalePosition> positions = {}) {
  ledger::v1::SaleRecorded sale;
  sale.set_customer_id(customer);
  sale.set_ledger_version(version);
  *sale.mutable_stats() = std::move(stats);
  for (auto& p : positions) *sale.add_affected_sales() = std::move(p);
  return sale;
}

ledger::v1::PaymentRecorded Payment(const std::string& customer, int64_t version,
                                    ledger::v1::CustomerLedgerStats stats,
                                    std::vector<ledger::v1::SalePosition> positions = {}) {
  ledger::v1::PaymentRecorded payment;
  payment.set_customer_id(customer);
  payment.set_ledger_version(version);
  *payment.mutable_stats() = std::move(stats);
  for (auto& p : positions) *payment.add_affected_sales() = std::move(p);
  return payment;
}

class SummaryCardsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("kelola-cards");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = std::move(*dir);
    auto url = testing::DatabaseUrl(GetParam(), *dir_, "cards");
    ASSERT_TRUE(url.ok()) << url.status();
    auto db = db::Open(*url);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(db::ApplyMigrations(*db_, Migrations()).ok());
  }

  int64_t Apply(const std::vector<type::v1::Event>& events) {
    auto cursor = ApplyBatch(*db_, kCardConsumer, kLedgerProducer, events);
    EXPECT_TRUE(cursor.ok()) << cursor.status();
    return cursor.ok() ? *cursor : -1;
  }

  // A stored card with the customer's open sales as the projection stored them.
  struct CardWithSales {
    domain::CardRow row;
    std::vector<domain::OpenSale> open_sales;
  };
  CardWithSales Card(const std::string& customer, const std::string& tenant = "t1") {
    CardWithSales out;
    auto cards = ReadCards(*db_, tenant, {customer});
    EXPECT_TRUE(cards.ok()) << cards.status();
    if (cards.ok() && cards->contains(customer)) out.row = cards->at(customer).row;
    auto read = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto rows = tx.Query(
          "SELECT sale_id, due_day, outstanding_minor FROM report_sales WHERE tenant_id = ? AND "
          "customer_id = ? AND outstanding_minor > 0 ORDER BY sale_id",
          {tenant, customer});
      if (!rows.ok()) return rows.status();
      for (const db::Row& r : *rows) {
        domain::OpenSale sale;
        sale.sale_id = r.GetText(0);
        sale.customer_id = customer;
        if (auto due = r.GetOptionalInt(1)) sale.due_date = absl::CivilDay(1970, 1, 1) + *due;
        sale.outstanding = r.GetInt(2);
        out.open_sales.push_back(sale);
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(read.ok()) << read;
    return out;
  }

  int64_t Cursor() {
    auto cursor = events::EventConsumer::LoadCursor(*db_, kCardConsumer, kLedgerProducer);
    EXPECT_TRUE(cursor.ok());
    return cursor.ok() ? *cursor : -1;
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<db::Database> db_;
};

const absl::CivilDay kDue(2026, 1, 10);

TEST_P(SummaryCardsTest, ABatchAppliesEveryEventAndTheCursorAtOnce) {
  const int64_t cursor = Apply({
      EventOf(1, Sale("c1", 1, Stats(3000, 1, 3000), {Position("s1", "c1", 3000, kDue)})),
      EventOf(2, Sale("c2", 1, Stats(100, 1, 0))),
      EventOf(3, Sale("c1", 2, Stats(5000, 2, 5000), {Position("s2", "c1", 2000, kDue + 5)})),
      EventOf(4, Payment("c1", 3, Stats(5000, 2, 2000), {Position("s1", "c1", 0, kDue)})),
  });
  EXPECT_EQ(cursor, 4);
  EXPECT_EQ(Cursor(), 4);
  CardWithSales c1 = Card("c1");
  EXPECT_EQ(c1.row.ledger_version, 3);
  EXPECT_EQ(c1.row.total_spent, 5000);
  EXPECT_EQ(c1.row.transaction_count, 2);
  EXPECT_EQ(c1.row.average_order, 2500);
  EXPECT_EQ(c1.row.balance, 2000);
  EXPECT_EQ(c1.row.currency, "IDR");
  EXPECT_EQ(c1.row.first_purchase, absl::FromUnixSeconds(1767225600));
  EXPECT_EQ(c1.row.last_purchase, absl::FromUnixSeconds(1767225600 + 2 * 3600));
  ASSERT_EQ(c1.open_sales.size(), 1u);  // s1 was paid off
  EXPECT_EQ(c1.open_sales[0].sale_id, "s2");
  EXPECT_EQ(c1.open_sales[0].outstanding, 2000);
  EXPECT_EQ(c1.open_sales[0].due_date, kDue + 5);
  EXPECT_EQ(Card("c2").row.total_spent, 100);
  EXPECT_EQ(Card("c1", "other-tenant").row.ledger_version, 0);  // tenants are apart
}

TEST_P(SummaryCardsTest, ReplaysAndOlderVersionsChangeNothing) {
  const std::vector<type::v1::Event> history = {
      EventOf(1, Sale("c1", 1, Stats(3000, 1, 3000), {Position("s1", "c1", 3000, kDue)})),
      EventOf(2, Payment("c1", 2, Stats(3000, 1, 0), {Position("s1", "c1", 0, kDue)})),
  };
  Apply(history);
  // Below the cursor: skipped.
  EXPECT_EQ(Apply(history), 2);
  // A replay from a dropped cursor: the per-customer version guard keeps the card.
  ASSERT_TRUE(db_->InTransaction([](db::Transaction& tx) {
                   return tx.Execute("DELETE FROM consumer_cursors").status();
                 })
                  .ok());
  EXPECT_EQ(Apply(history), 2);
  CardWithSales c1 = Card("c1");
  EXPECT_EQ(c1.row.ledger_version, 2);
  EXPECT_EQ(c1.row.balance, 0);
  EXPECT_TRUE(c1.open_sales.empty());  // the replayed sale did not reopen s1
}

TEST_P(SummaryCardsTest, AFailedBatchLeavesCardsAndCursorAsTheyWere) {
  Apply({EventOf(1, Sale("c1", 1, Stats(3000, 1, 3000)))});
  type::v1::Event broken = EventOf(3, Sale("c1", 3, Stats(1, 1, 1)));
  broken.mutable_payload()->set_value("\xff\xff\xff");
  auto cursor = ApplyBatch(*db_, kCardConsumer, kLedgerProducer,
                           {EventOf(2, Sale("c1", 2, Stats(5000, 2, 5000))), broken});
  EXPECT_FALSE(cursor.ok());
  EXPECT_EQ(Cursor(), 1);
  EXPECT_EQ(Card("c1").row.ledger_version, 1);
  EXPECT_EQ(Card("c1").row.total_spent, 3000);
}

TEST_P(SummaryCardsTest, AMergeMovesHistoryAndOpenSalesToTheSurvivor) {
  Apply({
      EventOf(1, Sale("src", 1, Stats(3000, 1, 3000), {Position("s1", "src", 3000, kDue)})),
      EventOf(2, Sale("dst", 1, Stats(1000, 1, 1000), {Position("s2", "dst", 1000, kDue)})),
  });
  ledger::v1::CustomerReassigned moved;
  moved.set_customer_id("dst");
  moved.set_ledger_version(2);
  *moved.mutable_stats() = Stats(4000, 2, 4000);
  moved.set_source_customer_id("src");
  moved.set_source_ledger_version(2);
  moved.mutable_source_stats()->set_merged_into_customer_id("dst");
  moved.add_moved_sale_ids("s1");
  Apply({EventOf(3, moved)});
  CardWithSales dst = Card("dst");
  EXPECT_EQ(dst.row.total_spent, 4000);
  EXPECT_EQ(dst.row.balance, 4000);
  ASSERT_EQ(dst.open_sales.size(), 2u);
  CardWithSales src = Card("src");
  EXPECT_EQ(src.row.ledger_version, 2);
  EXPECT_EQ(src.row.total_spent, 0);
  EXPECT_EQ(src.row.merged_into_customer_id, "dst");
  EXPECT_TRUE(src.open_sales.empty());
  // The source's own old sale event, replayed, cannot bring its history back.
  ASSERT_TRUE(db_->InTransaction([](db::Transaction& tx) {
                   return tx.Execute("DELETE FROM consumer_cursors").status();
                 })
                  .ok());
  Apply({EventOf(1, Sale("src", 1, Stats(3000, 1, 3000), {Position("s1", "src", 3000, kDue)}))});
  EXPECT_EQ(Card("src").row.total_spent, 0);
  EXPECT_EQ(Card("dst").open_sales.size(), 2u);
}

TEST_P(SummaryCardsTest, WalkInSalesAndCreditLimitsOnlyMoveTheCursor) {
  ledger::v1::SaleRecorded walk_in;
  walk_in.add_affected_sales()->set_sale_id("w1");
  ledger::v1::CreditLimitChanged limit;
  limit.set_customer_id("c1");
  EXPECT_EQ(Apply({EventOf(1, walk_in), EventOf(2, limit)}), 2);
  auto count = db_->InTransaction([](db::Transaction& tx) -> absl::Status {
    auto rows = tx.Query("SELECT COUNT(*) FROM summary_cards");
    if (!rows.ok()) return rows.status();
    EXPECT_EQ(rows->front().GetInt(0), 0);
    return absl::OkStatus();
  });
  EXPECT_TRUE(count.ok());
}

TEST_P(SummaryCardsTest, ManyEventsInOneBatch) {
  std::vector<type::v1::Event> events;
  for (int i = 1; i <= 2000; ++i) {
    events.push_back(EventOf(
        i, Sale(absl::StrCat("c", i % 50), i / 50 + 1, Stats(i * 100, i / 50 + 1, i * 100))));
  }
  EXPECT_EQ(Apply(events), 2000);
  EXPECT_EQ(Card("c0").row.ledger_version, 41);
  EXPECT_EQ(Card("c0").row.total_spent, 200000);
  EXPECT_EQ(Card("c1").row.ledger_version, 40);
  EXPECT_EQ(Card("c1").row.total_spent, 195100);
}

INSTANTIATE_TEST_SUITE_P(Drivers, SummaryCardsTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace kelola::report::store
