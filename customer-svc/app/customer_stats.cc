#include "customer-svc/app/customer_stats.h"

#include <string>

#include "customer-svc/app/support.h"
#include "customer-svc/store/directory_queries.h"

namespace kelola::customer::app {

void SetStats(const store::CustomerStatsRecord& stats, absl::string_view currency,
              v1::Customer* out) {
  v1::CustomerStats* s = out->mutable_stats();
  s->Clear();
  s->mutable_total_spent()->set_amount_minor(stats.total_spent_minor);
  s->mutable_total_spent()->set_currency_code(std::string(currency));
  s->set_transaction_count(stats.transaction_count);
  s->mutable_balance()->set_amount_minor(stats.balance_minor);
  s->mutable_balance()->set_currency_code(std::string(currency));
  if (stats.first_purchase_time) {
    *s->mutable_first_purchase_time() = ToProto(*stats.first_purchase_time);
  }
  if (stats.last_purchase_time) {
    *s->mutable_last_purchase_time() = ToProto(*stats.last_purchase_time);
  }
  if (stats.last_activity_time) {
    *s->mutable_last_activity_time() = ToProto(*stats.last_activity_time);
  }
  s->set_ledger_version(stats.ledger_version);
}

absl::Status AttachStats(store::DirectoryTx& tx, absl::string_view currency,
                         const std::vector<v1::Customer*>& customers) {
  std::vector<std::string> ids;
  ids.reserve(customers.size());
  for (const v1::Customer* c : customers) ids.push_back(c->customer_id());
  auto stats = store::StatsOf(tx, ids);
  if (!stats.ok()) return stats.status();
  for (v1::Customer* c : customers) {
    auto it = stats->find(c->customer_id());
    SetStats(it == stats->end() ? store::CustomerStatsRecord{} : it->second, currency, c);
  }
  return absl::OkStatus();
}

}  // namespace kelola::customer::app
