#include "customer-svc/app/query_customers.h"

#include <utility>

#include "customer-svc/app/customer_stats.h"
#include "customer-svc/store/directory_queries.h"
#include "libs/time/time.h"

namespace kelola::customer::app {
namespace {

// A stored customer with its ledger stats, in the tenant's currency.
absl::Status ToCustomer(const std::string& data, const store::CustomerStatsRecord& stats,
                        const std::string& currency, v1::Customer* out) {
  if (!out->ParseFromString(data)) return absl::InternalError("unreadable stored customer");
  time::ClampStoredTimestamps(out);
  SetStats(stats, currency, out);
  return absl::OkStatus();
}

}  // namespace

absl::Status QueryCustomers::List(absl::string_view tenant, const store::ListSpec& spec,
                                  v1::ListCustomersResponse& response) const {
  absl::Status status = store_.Read(tenant, [&](store::DirectoryTx& tx) -> absl::Status {
    response.Clear();
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    auto page = store::DirectoryQueries(query_, tx).List(spec);
    if (!page.ok()) return page.status();
    for (const store::ListItem& item : page->items) {
      if (auto s = ToCustomer(item.data, item.stats, settings->settings.currency_code(),
                              response.add_customers());
          !s.ok()) {
        return s;
      }
    }
    response.set_next_page_token(page->next_page_token);
    response.set_total_size(static_cast<int32_t>(page->total_size.value_or(0)));
    return absl::OkStatus();
  });
  if (!status.ok()) response.Clear();
  return status;
}

absl::Status QueryCustomers::Search(absl::string_view tenant, store::SearchOptions options,
                                    v1::SearchCustomersResponse& response) const {
  // Waits for the tenant's index before taking a connection, which its load may need.
  if (absl::Status ready = query_.AwaitSearchIndex(tenant); !ready.ok()) return ready;
  absl::Status status = store_.Read(tenant, [&](store::DirectoryTx& tx) -> absl::Status {
    response.Clear();
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    options.phone_region = settings->settings.default_phone_region();
    auto page = store::DirectoryQueries(query_, tx).Search(options);
    if (!page.ok()) return page.status();
    for (const store::SearchHit& hit : page->hits) {
      v1::CustomerSearchResult* result = response.add_results();
      if (auto s = ToCustomer(hit.data, hit.stats, settings->settings.currency_code(),
                              result->mutable_customer());
          !s.ok()) {
        return s;
      }
      result->set_score(hit.score);
      for (const store::SearchMatchInfo& match : hit.matches) {
        v1::SearchMatch* m = result->add_matches();
        m->set_field(match.field);
        m->set_value(match.value);
        m->set_exact(match.exact);
      }
    }
    response.set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
  if (!status.ok()) response.Clear();
  return status;
}

absl::Status QueryCustomers::FindDuplicates(absl::string_view tenant,
                                            const store::DuplicateOptions& options,
                                            v1::FindDuplicatesResponse& response) const {
  if (absl::Status ready = query_.AwaitSearchIndex(tenant); !ready.ok()) return ready;
  store::DuplicateOptions read_options = options;
  read_options.index_generation = query_.IndexGeneration(tenant);  // before the transaction
  absl::Status status = store_.Read(tenant, [&](store::DirectoryTx& tx) -> absl::Status {
    response.Clear();
    auto page = store::DirectoryQueries(query_, tx).FindDuplicates(read_options);
    if (!page.ok()) return page.status();
    for (const store::DuplicatePairInfo& info : page->pairs) {
      v1::DuplicatePair* pair = response.add_pairs();
      if (!pair->mutable_first()->ParseFromString(info.first_data) ||
          !pair->mutable_second()->ParseFromString(info.second_data)) {
        return absl::InternalError("unreadable stored customer");
      }
      pair->set_score(info.score);
      for (v1::DuplicateReason reason : info.reasons) pair->add_reasons(reason);
    }
    response.set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
  if (!status.ok()) response.Clear();
  return status;
}

absl::StatusOr<store::ListPage> QueryCustomers::ExportPage(absl::string_view tenant,
                                                           const store::ListSpec& spec) const {
  store::ListPage page;
  absl::Status status = store_.BulkRead(tenant, [&](store::DirectoryTx& tx) -> absl::Status {
    auto result = store::DirectoryQueries(query_, tx).List(spec);
    if (!result.ok()) return result.status();
    page = *std::move(result);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return page;
}

}  // namespace kelola::customer::app
