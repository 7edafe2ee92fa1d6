#include "report-svc/store/summary_cards.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "libs/events/event_consumer.h"
#include "libs/time/time.h"
#include "report-svc/store/batch_reads.h"
#include "report-svc/store/ledger_facts.h"

namespace kelola::report::store {
namespace {

db::Value OptionalMicros(const std::optional<absl::Time>& t) {
  if (!t.has_value()) return db::Null();
  return absl::ToUnixMicros(*t);
}

std::optional<absl::Time> TimeFromMicros(const db::Row& row, size_t i) {
  std::optional<int64_t> micros = row.GetOptionalInt(i);
  if (!micros.has_value()) return std::nullopt;
  return absl::FromUnixMicros(*micros);
}

constexpr char kCardColumns[] =
    "customer_id, ledger_version, currency, total_spent_minor, transaction_count, "
    "average_order_minor, balance_minor, credit_minor, first_purchase_us, last_purchase_us, "
    "merged_into_customer_id";

domain::CardRow CardFromRow(const db::Row& r) {
  domain::CardRow card;
  card.customer_id = r.GetText(0);
  card.ledger_version = r.GetInt(1);
  card.currency = r.GetText(2);
  card.total_spent = r.GetInt(3);
  card.transaction_count = r.GetInt(4);
  card.average_order = r.GetInt(5);
  card.balance = r.GetInt(6);
  card.credit = r.GetInt(7);
  card.first_purchase = TimeFromMicros(r, 8);
  card.last_purchase = TimeFromMicros(r, 9);
  card.merged_into_customer_id = r.GetText(10);
  return card;
}

absl::Status SaveCard(db::Transaction& tx, const std::string& tenant, const domain::CardRow& c,
                      int64_t change_no) {
  return tx.ExecuteDeferred(
      absl::StrCat(
          "INSERT INTO summary_cards (tenant_id, ", kCardColumns,
          ", change_no) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
          "ON CONFLICT (tenant_id, customer_id) DO UPDATE SET change_no = excluded.change_no, "
          "ledger_version = excluded.ledger_version, currency = excluded.currency, "
          "total_spent_minor = excluded.total_spent_minor, "
          "transaction_count = excluded.transaction_count, "
          "average_order_minor = excluded.average_order_minor, "
          "balance_minor = excluded.balance_minor, credit_minor = excluded.credit_minor, "
          "first_purchase_us = excluded.first_purchase_us, "
          "last_purchase_us = excluded.last_purchase_us, "
          "merged_into_customer_id = excluded.merged_into_customer_id"),
      {tenant, c.customer_id, c.ledger_version, c.currency, c.total_spent, c.transaction_count,
       c.average_order, c.balance, c.credit, OptionalMicros(c.first_purchase),
       OptionalMicros(c.last_purchase), c.merged_into_customer_id, change_no});
}

}  // namespace

db::Migration SummaryCardsMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "summary cards and open sales";
  m.sqlite =
      "CREATE TABLE summary_cards (tenant_id TEXT NOT NULL, customer_id TEXT NOT NULL, "
      "ledger_version BIGINT NOT NULL, currency TEXT NOT NULL, total_spent_minor BIGINT NOT NULL, "
      "transaction_count BIGINT NOT NULL, average_order_minor BIGINT NOT NULL, "
      "balance_minor BIGINT NOT NULL, credit_minor BIGINT NOT NULL, first_purchase_us BIGINT, "
      "last_purchase_us BIGINT, merged_into_customer_id TEXT NOT NULL, "
      "PRIMARY KEY (tenant_id, customer_id));\n"
      "CREATE TABLE card_open_sales (tenant_id TEXT NOT NULL, sale_id TEXT NOT NULL, "
      "customer_id TEXT NOT NULL, due_day BIGINT, outstanding_minor BIGINT NOT NULL, "
      "PRIMARY KEY (tenant_id, sale_id));\n"
      "CREATE INDEX card_open_sales_by_customer ON card_open_sales (tenant_id, customer_id);";
  return m;
}

namespace {

// The cards a batch touches, read once up front and kept up to date as the batch writes
// them.
class CardCache {
 public:
  absl::Status Load(db::Transaction& tx, const std::string& tenant,
                    const std::vector<const domain::CardChange*>& changes) {
    std::vector<std::string> ids;
    for (const domain::CardChange* change : changes) {
      if (!cards_.contains({tenant, change->customer_id})) {
        cards_[{tenant, change->customer_id}] = domain::CardRow{};
        ids.push_back(change->customer_id);
      }
    }
    auto rows = ReadByKeys(tx, "summary_cards", "customer_id", kCardColumns, tenant, ids);
    if (!rows.ok()) return rows.status();
    for (const db::Row& r : *rows) {
      domain::CardRow card = CardFromRow(r);
      cards_[{tenant, card.customer_id}] = std::move(card);
    }
    return absl::OkStatus();
  }
  domain::CardRow& at(const std::string& tenant, const std::string& customer) {
    return cards_[{tenant, customer}];
  }

 private:
  std::map<std::pair<std::string, std::string>, domain::CardRow> cards_;
};

// The changes of every event of a batch, decoded once, and the rows they touch.
struct DecodedBatch {
  std::vector<std::vector<domain::CardChange>> changes;  // per event
  CardCache cards;
  SaleOutstanding sales;
};

absl::StatusOr<std::unique_ptr<DecodedBatch>> Decode(db::Transaction& tx,
                                                     absl::Span<const type::v1::Event> events) {
  auto batch = std::make_unique<DecodedBatch>();
  std::map<std::string, std::vector<const domain::CardChange*>> by_tenant;
  batch->changes.reserve(events.size());
  for (const type::v1::Event& event : events) {
    absl::StatusOr<std::vector<domain::CardChange>> changes = domain::CardChanges(event);
    if (!changes.ok()) return changes.status();
    batch->changes.push_back(std::move(*changes));
  }
  for (size_t i = 0; i < events.size(); ++i) {
    for (const domain::CardChange& change : batch->changes[i]) {
      by_tenant[events[i].tenant_id()].push_back(&change);
    }
  }
  for (const auto& [tenant, changes] : by_tenant) {
    if (absl::Status s = batch->cards.Load(tx, tenant, changes); !s.ok()) return s;
    if (absl::Status s = batch->sales.Load(tx, tenant, changes); !s.ok()) return s;
  }
  return batch;
}

absl::Status ApplyChanges(db::Transaction& tx, const type::v1::Event& event,
                          const std::vector<domain::CardChange>& changes, DecodedBatch& batch,
                          RowNumbers& numbers) {
  for (const domain::CardChange& change : changes) {
    domain::CardRow& card = batch.cards.at(event.tenant_id(), change.customer_id);
    if (!domain::IsNewer(change, card)) continue;  // a replay: the card is already newer
    card = domain::ReduceCard(change, card);
    // Rows carry the event's sequence as their change number (store/fact_index.h).
    if (absl::Status s = SaveCard(tx, event.tenant_id(), card, event.sequence()); !s.ok()) {
      return s;
    }
    if (absl::Status s =
            SaveLedgerFacts(tx, event.tenant_id(), change, event.sequence(), numbers, batch.sales);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ApplyLedgerBatch(db::Transaction& tx, absl::Span<const type::v1::Event> events) {
  if (events.empty()) return absl::OkStatus();
  auto batch = Decode(tx, events);
  if (!batch.ok()) return batch.status();
  RowNumbers numbers;
  for (size_t i = 0; i < events.size(); ++i) {
    if (absl::Status s = ApplyChanges(tx, events[i], (*batch)->changes[i], **batch, numbers);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = numbers.Save(tx); !s.ok()) return s;
  return tx.ExecuteDeferred(
      "INSERT INTO report_ledger_position (id, last_occur_us) VALUES (1, ?) "
      "ON CONFLICT (id) DO UPDATE SET last_occur_us = excluded.last_occur_us",
      {time::ToUnixMicros(events.back().occur_time())});
}

absl::StatusOr<std::optional<absl::Time>> ReadLedgerAsOf(db::Transaction& tx) {
  auto rows = tx.Query("SELECT last_occur_us FROM report_ledger_position WHERE id = 1", {});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<absl::Time>();
  return std::optional<absl::Time>(absl::FromUnixMicros(rows->front().GetInt(0)));
}

absl::StatusOr<int64_t> ApplyBatch(db::Database& db, const std::string& consumer,
                                   const std::string& producer,
                                   const std::vector<type::v1::Event>& events) {
  auto applied =
      events::EventConsumer::ApplyBatch(db, consumer, producer, events, ApplyLedgerBatch);
  if (!applied.ok()) return applied.status();
  if (!applied->empty()) return applied->back()->sequence();
  return events::EventConsumer::LoadCursor(db, consumer, producer);
}

absl::StatusOr<std::map<std::string, StoredCard>> ReadCards(
    db::Database& db, const std::string& tenant_id, const std::vector<std::string>& customer_ids) {
  std::map<std::string, StoredCard> out;
  const std::set<std::string> unique(customer_ids.begin(), customer_ids.end());
  if (unique.empty()) return out;
  std::vector<db::Value> params = {tenant_id};
  for (const std::string& id : unique) params.push_back(id);
  const std::string in =
      absl::StrCat("(", absl::StrJoin(std::vector<std::string>(unique.size(), "?"), ", "), ")");
  db::TransactionOptions read_only;
  read_only.read_only = true;
  absl::Status status = db.InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        out.clear();
        auto cards = tx.Query(
            absl::StrCat("SELECT ", kCardColumns,
                         ", change_no FROM summary_cards WHERE tenant_id = ? AND customer_id IN ",
                         in),
            params);
        if (!cards.ok()) return cards.status();
        for (const db::Row& r : *cards) {
          StoredCard& card = out[r.GetText(0)];
          card.row = CardFromRow(r);
          card.change_no = r.GetInt(11);
        }
        return absl::OkStatus();
      },
      read_only);
  if (!status.ok()) return status;
  return out;
}

}  // namespace kelola::report::store
