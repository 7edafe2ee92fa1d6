#include "customer-svc/store/ledger_stats_feed.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "customer-svc/store/customer_query.h"
#include "kelola/ledger/v1/events.pb.h"
#include "libs/time/time.h"

namespace kelola::customer::store {
namespace {

std::optional<absl::Time> Time(bool has, const google::protobuf::Timestamp& t) {
  if (!has) return std::nullopt;
  return time::ToTime(t);
}

CustomerStatsRecord ToRecord(const ledger::v1::CustomerLedgerStats& s, int64_t version) {
  CustomerStatsRecord r;
  r.total_spent_minor = s.total_spent().amount_minor();
  r.transaction_count = s.transaction_count();
  // The ledger reports what is owed (`balance`) and the credit it holds (`credit`, the
  // unallocated part of payments) separately, both >= 0; Customer.stats.balance is their
  // difference: negative when the shop holds the customer's money (balance.proto).
  r.balance_minor = s.balance().amount_minor() - s.credit().amount_minor();
  r.first_purchase_time = Time(s.has_first_purchase_time(), s.first_purchase_time());
  r.last_purchase_time = Time(s.has_last_purchase_time(), s.last_purchase_time());
  r.last_activity_time = Time(s.has_last_activity_time(), s.last_activity_time());
  r.ledger_version = version;
  return r;
}

absl::Status Upsert(db::Transaction& tx, const std::string& tenant, const std::string& customer,
                    int64_t version, const ledger::v1::CustomerLedgerStats& stats) {
  if (customer.empty()) return absl::OkStatus();  // a walk-in sale
  // A customer deleted for good (C4) keeps no stats row, even when a ledger event about it
  // (its seal, say) arrives after the delete.
  auto deleted = tx.Query("SELECT 1 FROM deleted_customers WHERE tenant_id = ? AND customer_id = ?",
                          {tenant, customer});
  if (!deleted.ok()) return deleted.status();
  if (!deleted->empty()) return absl::OkStatus();
  return UpsertStats(tx, tenant, customer, ToRecord(stats, version)).status();
}

// What one event says of one customer: its stats after the change, at a ledger version.
struct StatsChange {
  std::string customer;
  int64_t version = 0;
  ledger::v1::CustomerLedgerStats stats;
};

// The per-customer events share their first three fields: customer_id, ledger_version,
// stats (see protos/kelola/ledger/v1/events.proto).
template <typename T>
absl::Status CollectChange(const type::v1::Event& event, std::vector<StatsChange>& out) {
  T change;
  if (!event.payload().UnpackTo(&change)) {
    return absl::InvalidArgumentError("unreadable ledger event payload: " + event.type());
  }
  out.push_back({change.customer_id(), change.ledger_version(), change.stats()});
  return absl::OkStatus();
}

// Appends the stats changes an event carries (none for events without customer stats).
absl::Status CollectChanges(const type::v1::Event& event, std::vector<StatsChange>& out) {
  const std::string& type = event.type();
  if (type == "kelola.ledger.v1.SaleRecorded") {
    return CollectChange<ledger::v1::SaleRecorded>(event, out);
  }
  if (type == "kelola.ledger.v1.PaymentRecorded") {
    return CollectChange<ledger::v1::PaymentRecorded>(event, out);
  }
  if (type == "kelola.ledger.v1.SaleVoided") {
    return CollectChange<ledger::v1::SaleVoided>(event, out);
  }
  if (type == "kelola.ledger.v1.PaymentVoided") {
    return CollectChange<ledger::v1::PaymentVoided>(event, out);
  }
  if (type == "kelola.ledger.v1.SaleRefunded") {
    return CollectChange<ledger::v1::SaleRefunded>(event, out);
  }
  if (type == "kelola.ledger.v1.CreditApplied") {
    return CollectChange<ledger::v1::CreditApplied>(event, out);
  }
  if (type == "kelola.ledger.v1.CustomerSealed") {
    return CollectChange<ledger::v1::CustomerSealed>(event, out);
  }
  if (type == "kelola.ledger.v1.CustomerUnsealed") {
    return CollectChange<ledger::v1::CustomerUnsealed>(event, out);
  }
  if (type == "kelola.ledger.v1.CustomerReassigned") {
    ledger::v1::CustomerReassigned moved;
    if (!event.payload().UnpackTo(&moved)) {
      return absl::InvalidArgumentError("unreadable ledger event payload: " + type);
    }
    out.push_back({moved.customer_id(), moved.ledger_version(), moved.stats()});
    out.push_back(
        {moved.source_customer_id(), moved.source_ledger_version(), moved.source_stats()});
  }
  return absl::OkStatus();  // credit limits and other events carry no customer stats
}

}  // namespace

absl::Status ApplyLedgerEvent(db::Transaction& tx, const type::v1::Event& event) {
  std::vector<StatsChange> changes;
  if (absl::Status s = CollectChanges(event, changes); !s.ok()) return s;
  for (const StatsChange& c : changes) {
    if (absl::Status s = Upsert(tx, event.tenant_id(), c.customer, c.version, c.stats); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ApplyLedgerEvents(db::Transaction& tx, absl::Span<const type::v1::Event> events) {
  // The projection keeps only a customer's newest version, so of a batch only each
  // customer's newest change needs writing (the first of equal versions, as one by one).
  std::map<std::pair<std::string, std::string>, StatsChange> newest;
  std::vector<StatsChange> changes;
  for (const type::v1::Event& event : events) {
    changes.clear();
    if (absl::Status s = CollectChanges(event, changes); !s.ok()) return s;
    for (StatsChange& c : changes) {
      auto [it, inserted] = newest.try_emplace({event.tenant_id(), c.customer}, c);
      if (!inserted && c.version > it->second.version) it->second = std::move(c);
    }
  }
  for (const auto& [key, c] : newest) {
    if (absl::Status s = Upsert(tx, key.first, c.customer, c.version, c.stats); !s.ok()) return s;
  }
  return absl::OkStatus();
}

db::Migration LedgerStatsReplayMigration(int version) {
  db::Migration m;
  m.version = version;
  m.name = "stats feed replays the ledger (balance net of credit)";
  m.sqlite = absl::StrCat("DELETE FROM consumer_cursors WHERE consumer = '", kLedgerStatsConsumer,
                          "' AND producer = '", kLedgerProducer,
                          "';\nUPDATE customer_stats SET ledger_version = ledger_version - 1 WHERE "
                          "ledger_version > 0;");
  return m;
}

}  // namespace kelola::customer::store
