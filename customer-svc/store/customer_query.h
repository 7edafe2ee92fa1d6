#pragma once

// The query side of the customer directory (C7 customer side, C11, C12, C13): the
// per-customer ledger stats projection, the quick-search index, filtered and sorted
// lists with keyset page tokens, and duplicate candidates. Same SQL shape and the same
// results on SQLite and PostgreSQL; see docs/decisions/customer-search.md.
//
// Tables (migrations 20-25, CustomerQueryMigrations()): customer_stats, customer_stats_summary;
// plus sort indexes on customers. Search reads the tenants' indexes in memory
// (search_index_cache.h), which follow customer-svc's event stream.
//
// Contract with the directory: every write of a customer row (create, update, archive,
// restore, merge, erase, delete) calls KeepStatsRow in the same transaction, so that lists
// can join the customer's customer_stats row.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "customer-svc/store/duplicate_lists.h"
#include "customer-svc/store/search_index_cache.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"

namespace kelola::customer::store {

// Migrations 20 (stats projection and sort indexes), 21 (superseded search tables), 22 (buyers
// per tenant), 23 (search from memory only), 24 (one index per list order) and 25 (on SQLite,
// the balance in the total_spent index), appended to customer-svc's list after the
// directory's own migrations.
std::vector<db::Migration> CustomerQueryMigrations();

// Per-customer ledger statistics (C12, C13), as projected from ledger events.
struct CustomerStatsRecord {
  int64_t total_spent_minor = 0;
  int64_t transaction_count = 0;
  int64_t balance_minor = 0;
  std::optional<absl::Time> first_purchase_time;
  std::optional<absl::Time> last_purchase_time;
  std::optional<absl::Time> last_activity_time;
  int64_t ledger_version = 0;
};

// Writes the stats of a customer if `stats.ledger_version` is newer than the stored one
// (or none is stored). Returns whether it was applied; older or equal versions are
// ignored (never go backwards). Keeps the tenant's count of customers with purchases.
absl::StatusOr<bool> UpsertStats(db::Transaction& tx, absl::string_view tenant,
                                 absl::string_view customer_id, const CustomerStatsRecord& stats);

// The stored stats, or nullopt.
absl::StatusOr<std::optional<CustomerStatsRecord>> GetStats(db::Transaction& tx,
                                                            absl::string_view tenant,
                                                            absl::string_view customer_id);

// The stored stats of several customers, read at once; customers without a row are absent.
absl::StatusOr<absl::flat_hash_map<std::string, CustomerStatsRecord>> GetStatsOf(
    db::Transaction& tx, absl::string_view tenant, const std::vector<std::string>& customer_ids);

// Keeps the customer_stats row of a customer, which lists join: creates it (zeros) when
// missing, and deletes it when the customer row is gone (C4 delete: `written` is nullptr and
// no row is left). The directory calls it after every write of a customer row
// (DirectoryStoreOptions::on_customer_written).
absl::Status KeepStatsRow(db::Transaction& tx, absl::string_view tenant,
                          absl::string_view customer_id, const v1::Customer* written = nullptr);
// Creates the (zero) stats rows of new customers at once, with multi-row inserts
// (DirectoryStoreOptions::on_customers_inserted).
absl::Status KeepStatsRows(db::Transaction& tx, absl::string_view tenant,
                           const std::vector<std::string>& customer_ids);

// gRPC clients refuse a message above 4 MiB by default (RESOURCE_EXHAUSTED), so a page of
// customers must stay below that whatever the customers hold (a customer with every text
// field at its maximum, in Thai, is about 55 KB; 100 of them are 5.5 MB). Lists and searches
// cut a page short once its customers, as served, would pass this budget, and hand out a
// next_page_token that continues after the last customer returned. The half MiB left is for
// the rest of the response (token, matches of search results).
inline constexpr size_t kMaxPageBytes = 3584 * 1024;

// --- Search (C11) ---

struct SearchOptions {
  std::string query;                // 1-200 code points after trimming
  int page_size = 0;                // 0 -> 20, above 100 -> 100
  std::string page_token;           // from SearchPage::next_page_token
  std::string filter;               // ListCustomersRequest.filter grammar
  std::string order_by;             // empty: relevance; else one of ListCustomersRequest.order_by
  bool show_archived = false;       // include ARCHIVED
  std::string phone_region = "ID";  // the tenant's default phone region (ID, TH)
  size_t max_page_bytes = kMaxPageBytes;  // a page's size on the wire (see kMaxPageBytes)
};

struct SearchMatchInfo {
  v1::SearchField field = v1::SEARCH_FIELD_UNSPECIFIED;
  std::string value;  // display name, company name, phone E.164 or email as stored
  bool exact = false;
  double score = 0;
};

struct SearchHit {
  std::string customer_id;
  double score = 0;                      // (0, 1]
  std::vector<SearchMatchInfo> matches;  // best first
  std::string data;                      // serialized v1::Customer (without stats)
  CustomerStatsRecord stats;
};

struct SearchPage {
  std::vector<SearchHit> hits;
  std::string next_page_token;
};

// --- Lists (C12, C13) ---

struct ListSpec {
  std::string filter;    // AIP-160 subset (customer-svc/domain/list_filter.h)
  std::string order_by;  // "display_name" (default), "total_spent desc", ...
  int page_size = 0;     // 0 -> 50, above 500 -> 500, negative -> INVALID_ARGUMENT
  std::string page_token;
  bool show_archived = false;
  // Also count every matching customer (costs a scan). Counted for the first page; the
  // later pages of the listing repeat the count carried in their page token.
  bool want_total_size = false;
  size_t max_page_bytes = kMaxPageBytes;  // a page's size on the wire (see kMaxPageBytes)
};

struct ListItem {
  std::string customer_id;
  std::string data;  // serialized v1::Customer (without stats)
  CustomerStatsRecord stats;
};

struct ListPage {
  std::vector<ListItem> items;
  std::string next_page_token;
  std::optional<int64_t> total_size;  // when ListSpec::want_total_size
};

// --- Duplicates (C7) ---

struct DuplicateOptions {
  std::string customer_id;  // only pairs with this customer; empty = all
  double min_score = 0;     // 0 -> 0.6; outside [0, 1] -> INVALID_ARGUMENT
  bool show_archived = false;
  int page_size = 0;  // 0 -> 50, above 200 -> 200
  std::string page_token;
  size_t max_page_bytes = kMaxPageBytes;  // a page's size on the wire (see kMaxPageBytes)
  // The tenant's index generation read before the transaction began
  // (CustomerQuery::IndexGeneration). A whole-tenant list is kept for the next pages only
  // when the index is still at it after the read: then every row the list was made from is
  // at least as new as the index (DuplicateLists). 0: the list is not kept.
  uint64_t index_generation = 0;
};

struct DuplicatePairInfo {
  std::string first_id;  // created first: the suggested survivor
  std::string second_id;
  std::string first_data;  // serialized v1::Customer
  std::string second_data;
  double score = 0;
  std::vector<v1::DuplicateReason> reasons;
};

struct DuplicatePage {
  std::vector<DuplicatePairInfo> pairs;
  std::string next_page_token;
};

struct CustomerQueryOptions {
  // Names whose word trigram similarity reaches this match a query word (typos).
  double name_similarity_threshold = 0.3;
  // Two customers' names at least this similar are SIMILAR_NAME duplicates.
  double duplicate_name_threshold = 0.5;
  // Bound on the customers one search scores (see the decision record).
  int search_candidates = 120;
  // Memory for the whole-tenant duplicate lists kept for their next pages (DuplicateLists).
  size_t duplicate_lists_bytes = size_t{64} << 20;
};

// The read side. Thread-safe (its own state is immutable; the search indexes are
// thread-safe); time comes from `clock`.
class CustomerQuery {
 public:
  // `index`: the tenants' quick-search indexes in memory, which searches and duplicate checks
  // read.
  CustomerQuery(const Clock& clock, SearchIndexCache& index, CustomerQueryOptions options = {});

  // Quick search over names, phones and email, by relevance or in a list order. Errors:
  // INVALID_ARGUMENT (empty or too long query, negative page_size), INVALID_FILTER,
  // INVALID_ORDER_BY, PAGE_TOKEN_MISMATCH, PAGE_TOKEN_INVALID; UNAVAILABLE
  // SEARCH_INDEX_LOADING / SEARCH_INDEX_UNAVAILABLE (search_index_cache.h).
  absl::StatusOr<SearchPage> Search(db::Transaction& tx, absl::string_view tenant,
                                    const SearchOptions& options) const;

  // Waits until the tenant's search index is in memory (SearchIndexCache::AwaitLoaded): a
  // Search or FindDuplicates caller calls it before opening its transaction.
  absl::Status AwaitSearchIndex(absl::string_view tenant) const {
    return index_.AwaitLoaded(std::string_view(tenant.data(), tenant.size()));
  }
  // The generation of the tenant's index in memory (0 when none is ready), for
  // DuplicateOptions::index_generation.
  uint64_t IndexGeneration(absl::string_view tenant) const {
    return index_.Generation(std::string_view(tenant.data(), tenant.size()));
  }

  // Filtered, sorted, keyset-paginated list. Errors: INVALID_FILTER, INVALID_ORDER_BY,
  // PAGE_TOKEN_MISMATCH, PAGE_TOKEN_INVALID, INVALID_ARGUMENT (negative page_size).
  absl::StatusOr<ListPage> List(db::Transaction& tx, absl::string_view tenant,
                                const ListSpec& spec) const;

  // Likely duplicate pairs, score desc then ids. Errors: INVALID_ARGUMENT (min_score),
  // PAGE_TOKEN_*, NOT_FOUND CUSTOMER_NOT_FOUND (customer_id unknown); UNAVAILABLE as Search.
  absl::StatusOr<DuplicatePage> FindDuplicates(db::Transaction& tx, absl::string_view tenant,
                                               const DuplicateOptions& options) const;

 private:
  const Clock& clock_;
  CustomerQueryOptions options_;
  SearchIndexCache& index_;
  // Whole-tenant duplicate lists, kept for their next pages (shared by copies).
  std::shared_ptr<DuplicateLists> duplicate_lists_;
};

}  // namespace kelola::customer::store
