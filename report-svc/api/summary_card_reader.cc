#include "report-svc/api/summary_card_reader.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"
#include "libs/log/log.h"
#include "libs/time/time.h"

namespace kelola::report {
namespace {

// Customer ids are at most 64 characters (as the ledger checks them).
constexpr size_t kMaxIdLength = 64;

type::v1::Money Money(int64_t amount, const std::string& currency) {
  type::v1::Money m;
  m.set_amount_minor(amount);
  m.set_currency_code(currency);
  return m;
}

absl::Status StoreUnavailable(const absl::Status& cause) {
  log::Warn("card store read failed", {{"error", std::string(cause.message())}});
  return errors::Error(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE",
                       "the report store is unavailable; retry with backoff");
}

}  // namespace

v1::SummaryCard ToSummaryCard(const std::string& customer_id, const domain::CardRow* stored,
                              const std::vector<domain::OpenSale>& open_sales,
                              const TenantSettings& settings, absl::CivilDay today,
                              v1::CustomerSegment segment) {
  v1::SummaryCard card;
  card.set_customer_id(customer_id);
  *card.mutable_as_of_date() = time::ToDate(today);
  const domain::CardRow empty;
  const domain::CardRow& row = stored != nullptr ? *stored : empty;
  const std::string& currency = row.currency.empty() ? settings.currency : row.currency;
  card.set_ledger_version(row.ledger_version);
  *card.mutable_total_spent() = Money(row.total_spent, currency);
  card.set_transaction_count(row.transaction_count);
  *card.mutable_average_order() = Money(row.average_order, currency);
  *card.mutable_balance() = Money(row.balance, currency);
  *card.mutable_credit() = Money(row.credit, currency);
  if (row.first_purchase.has_value()) {
    *card.mutable_first_purchase_time() = time::ToTimestamp(*row.first_purchase);
  }
  if (row.last_purchase.has_value()) {
    *card.mutable_last_purchase_time() = time::ToTimestamp(*row.last_purchase);
  }
  if (auto days = domain::DaysSinceLastPurchase(row, settings.time_zone, today)) {
    card.set_days_since_last_purchase(*days);
  }
  const domain::Overdue overdue = domain::OverdueOn(open_sales, today);
  *card.mutable_overdue_amount() = Money(overdue.amount, currency);
  card.set_days_overdue(overdue.days);
  card.set_merged_into_customer_id(row.merged_into_customer_id);
  if (segment != v1::CUSTOMER_SEGMENT_UNSPECIFIED) {
    card.set_segment(segment);
    *card.mutable_segment_date() = time::ToDate(today);
  }
  return card;
}

absl::StatusOr<std::vector<v1::SummaryCard>> SummaryCardReader::Cards(
    const std::string& tenant_id, const std::vector<std::string>& ids,
    const std::map<std::string, int64_t>& min, absl::Time deadline) {
  absl::StatusOr<TenantSettings> settings = settings_.Get(tenant_id, deadline);
  if (!settings.ok()) return settings.status();
  const absl::Time wait_until = std::min(absl::Now() + options_.max_wait, deadline);
  while (true) {
    auto stored = store::ReadCards(db_, tenant_id, ids);
    if (!stored.ok()) return StoreUnavailable(stored.status());
    std::string behind;
    for (const auto& [id, version] : min) {
      auto it = stored->find(id);
      if (version > (it == stored->end() ? 0 : it->second.row.ledger_version)) {
        behind = id;
        break;
      }
    }
    if (behind.empty()) return Complete(tenant_id, ids, *stored, *settings);
    if (absl::Now() + options_.poll_interval > wait_until) {
      auto it = stored->find(behind);
      const int64_t applied = it == stored->end() ? 0 : it->second.row.ledger_version;
      return errors::Error(absl::StatusCode::kUnavailable, "PROJECTION_LAGGING",
                           "the read model has not caught up with min_ledger_version yet; retry, "
                           "or read the ledger",
                           {{"customer_id", behind},
                            {"min_ledger_version", absl::StrCat(min.at(behind))},
                            {"ledger_version", absl::StrCat(applied)}});
    }
    absl::SleepFor(options_.poll_interval);
  }
}

absl::StatusOr<std::vector<v1::SummaryCard>> SummaryCardReader::Complete(
    const std::string& tenant_id, const std::vector<std::string>& ids,
    const std::map<std::string, store::StoredCard>& stored, const TenantSettings& settings) {
  const absl::Time now = clock_.Now();
  const absl::CivilDay today = absl::ToCivilDay(now, settings.time_zone);
  std::shared_ptr<const domain::RfmScale> scale;
  if (segments_ != nullptr) {
    auto current = segments_->ScaleFor(tenant_id, settings.time_zone, today, now);
    if (!current.ok()) return StoreUnavailable(current.status());
    scale = *current;
  }
  // The index must hold every event the cards shown were written by.
  int64_t needed = 0;
  for (const auto& [id, card] : stored) needed = std::max(needed, card.change_no);
  const domain::Interval window = app::Segments::WindowOf(settings.time_zone, today);
  std::vector<v1::SummaryCard> cards;
  absl::Status read =
      facts_.ReadAtLeast(tenant_id, needed, [&](const store::TenantFacts& facts) -> absl::Status {
        cards.clear();
        for (const std::string& id : ids) {
          auto it = stored.find(id);
          const domain::CardRow* row = it == stored.end() ? nullptr : &it->second.row;
          v1::CustomerSegment segment = v1::CUSTOMER_SEGMENT_UNSPECIFIED;
          if (row != nullptr && scale != nullptr) {
            segment = app::Segments::SegmentOf(*row, facts.SalesOf(id, window.from, window.to),
                                               *scale, settings.time_zone, today);
          }
          cards.push_back(ToSummaryCard(id, row, facts.OpenSalesOf(id), settings, today, segment));
        }
        return absl::OkStatus();
      });
  if (!read.ok()) return StoreUnavailable(read);
  return cards;
}

absl::StatusOr<v1::GetSummaryCardResponse> SummaryCardReader::Get(
    const std::string& tenant_id, const v1::GetSummaryCardRequest& request, absl::Time deadline) {
  errors::FieldErrors invalid;
  if (request.customer_id().empty()) invalid.Add("customer_id", "required");
  if (request.customer_id().size() > kMaxIdLength) invalid.Add("customer_id", "too long");
  if (request.min_ledger_version() < 0) invalid.Add("min_ledger_version", "must not be negative");
  if (!invalid.empty()) return invalid.ToStatus();
  std::map<std::string, int64_t> min;
  if (request.min_ledger_version() > 0) min[request.customer_id()] = request.min_ledger_version();
  auto cards = Cards(tenant_id, {request.customer_id()}, min, deadline);
  if (!cards.ok()) return cards.status();
  v1::GetSummaryCardResponse response;
  *response.mutable_card() = std::move(cards->front());
  return response;
}

absl::StatusOr<v1::BatchGetSummaryCardsResponse> SummaryCardReader::BatchGet(
    const std::string& tenant_id, const v1::BatchGetSummaryCardsRequest& request,
    absl::Time deadline) {
  if (request.customer_ids_size() > options_.max_batch) {
    return errors::Error(absl::StatusCode::kResourceExhausted, "TOO_MANY_ITEMS",
                         absl::StrCat("at most ", options_.max_batch, " customer_ids"),
                         {{"field", "customer_ids"}, {"max", absl::StrCat(options_.max_batch)}});
  }
  errors::FieldErrors invalid;
  if (request.customer_ids().empty()) invalid.Add("customer_ids", "required: 1 to 100 ids");
  const std::set<std::string> requested(request.customer_ids().begin(),
                                        request.customer_ids().end());
  for (int i = 0; i < request.customer_ids_size(); ++i) {
    const std::string& id = request.customer_ids(i);
    if (id.empty()) invalid.Add(absl::StrCat("customer_ids[", i, "]"), "empty");
    if (id.size() > kMaxIdLength) invalid.Add(absl::StrCat("customer_ids[", i, "]"), "too long");
  }
  std::map<std::string, int64_t> min;
  for (const auto& [id, version] : request.min_ledger_versions()) {
    const std::string field = absl::StrCat("min_ledger_versions[", id, "]");
    if (version < 0) invalid.Add(field, "must not be negative");
    // Entries for ids not requested constrain nothing.
    if (version > 0 && requested.contains(id)) min[id] = version;
  }
  if (!invalid.empty()) return invalid.ToStatus();
  const std::vector<std::string> ids(request.customer_ids().begin(), request.customer_ids().end());
  auto cards = Cards(tenant_id, ids, min, deadline);
  if (!cards.ok()) return cards.status();
  v1::BatchGetSummaryCardsResponse response;
  for (v1::SummaryCard& card : *cards) *response.add_cards() = std::move(card);
  return response;
}

}  // namespace kelola::report
