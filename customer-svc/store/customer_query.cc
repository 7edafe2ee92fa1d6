#include "customer-svc/store/customer_query.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "customer-svc/domain/list_filter.h"
#include "customer-svc/domain/list_page_token.h"
#include "customer-svc/domain/search_scoring.h"
#include "customer-svc/domain/search_text.h"
#include "kelola/customer/v1/customer.pb.h"
#include "libs/errors/errors.h"
#include "libs/phone/phone_normalizer.h"
#include "libs/text/normalize.h"
#include "libs/text/trigram.h"

namespace kelola::customer::store {
namespace {

using db::Value;
using domain::ListFilter;
using domain::ListOrder;
using domain::SortField;

constexpr int64_t kNoActivityAscKey = std::numeric_limits<int64_t>::max();
constexpr int64_t kNoActivityDescKey = std::numeric_limits<int64_t>::min();
constexpr int kStateActive = v1::CUSTOMER_STATE_ACTIVE;
constexpr int kStateArchived = v1::CUSTOMER_STATE_ARCHIVED;
constexpr int kStateMerged = v1::CUSTOMER_STATE_MERGED;
constexpr int kStateErased = v1::CUSTOMER_STATE_ERASED;
// Upper bound for prefix ranges over UTF-8 text compared bytewise: U+10FFFF.
constexpr char kMaxCodePoint[] = "\xf4\x8f\xbf\xbf";
constexpr int kMaxQueryChars = 200;

std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

// Customer ids bound in one IN (...) list.
constexpr size_t kIdsPerStatement = 500;

bool IsPg(const db::Transaction& tx) { return tx.dialect() == db::Dialect::kPostgres; }
// Bytewise comparison of text on PostgreSQL (SQLite's default BINARY already is).
const char* CollC(const db::Transaction& tx) { return IsPg(tx) ? " COLLATE \"C\"" : ""; }
// Our search tables' ids are COLLATE "C" on PostgreSQL; joined to customers (default
// collation) they must compare in the default collation so the customers primary key is used.
const char* CollDefault(const db::Transaction& tx) {
  return IsPg(tx) ? " COLLATE \"default\"" : "";
}

// --- Migrations ---

std::string StatsMigrationSql(bool pg) {
  const std::string c = pg ? " COLLATE \"C\"" : "";
  std::string sql = R"sql(
CREATE TABLE customer_stats (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  total_spent_minor BIGINT NOT NULL DEFAULT 0,
  transaction_count BIGINT NOT NULL DEFAULT 0,
  balance_minor BIGINT NOT NULL DEFAULT 0,
  first_purchase_micros BIGINT,
  last_purchase_micros BIGINT,
  last_activity_micros BIGINT,
  activity_asc_key BIGINT NOT NULL,
  activity_desc_key BIGINT NOT NULL,
  ledger_version BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (tenant_id, customer_id));
)sql";
  const std::vector<std::pair<std::string, std::string>> stats_indexes = {
      {"spent_asc", "total_spent_minor"},   {"spent_desc", "total_spent_minor DESC"},
      {"balance_asc", "balance_minor"},     {"balance_desc", "balance_minor DESC"},
      {"activity_asc", "activity_asc_key"}, {"activity_desc", "activity_desc_key DESC"}};
  for (const auto& [name, column] : stats_indexes) {
    absl::StrAppend(&sql, "CREATE INDEX customer_stats_", name, " ON customer_stats (tenant_id, ",
                    column, ", customer_id", c, ");\n");
  }
  // top_spender_percent: count and rank only the customers with purchases.
  absl::StrAppend(&sql,
                  "CREATE INDEX customer_stats_buyers ON customer_stats (tenant_id, "
                  "total_spent_minor DESC) WHERE transaction_count > 0;\n");
  // Sorts over customers columns. SQLite uses migration 3's customers_by_name and
  // customers_by_created for the ascending orders; PostgreSQL needs "C" collation indexes.
  absl::StrAppend(&sql,
                  "CREATE INDEX customers_query_name_desc ON customers (tenant_id, state, "
                  "name_sort_key",
                  c, " DESC, customer_id", c, ");\n",
                  "CREATE INDEX customers_query_created_desc ON customers (tenant_id, state, "
                  "create_time_micros DESC, customer_id",
                  c, ");\n");
  if (pg) {
    absl::StrAppend(&sql,
                    "CREATE INDEX customers_query_name_asc ON customers (tenant_id, state, "
                    "name_sort_key COLLATE \"C\", customer_id COLLATE \"C\");\n"
                    "CREATE INDEX customers_query_created_asc ON customers (tenant_id, state, "
                    "create_time_micros, customer_id COLLATE \"C\");\n");
  }
  return sql;
}

std::string SearchMigrationSql(bool pg) {
  const std::string c = pg ? " COLLATE \"C\"" : "";
  const std::string without_rowid = pg ? "" : " WITHOUT ROWID";
  return absl::StrCat(R"sql(
CREATE TABLE customer_query_docs (
  tenant_id TEXT NOT NULL,
  customer_id TEXT NOT NULL,
  consent_state INTEGER NOT NULL DEFAULT 0,
  name_words TEXT NOT NULL,
  company_words TEXT NOT NULL,
  phones TEXT NOT NULL,
  email TEXT NOT NULL,
  PRIMARY KEY (tenant_id, customer_id));
CREATE TABLE search_terms (
  tenant_id TEXT NOT NULL,
  term TEXT)sql",
                      c, R"sql( NOT NULL,
  customer_id TEXT)sql",
                      c, R"sql( NOT NULL,
  PRIMARY KEY (tenant_id, term, customer_id)))sql",
                      without_rowid, R"sql(;
CREATE TABLE search_vocab (
  tenant_id TEXT NOT NULL,
  term TEXT)sql",
                      c, R"sql( NOT NULL,
  PRIMARY KEY (tenant_id, term)))sql",
                      without_rowid, R"sql(;
CREATE TABLE search_vocab_grams (
  tenant_id TEXT NOT NULL,
  gram TEXT)sql",
                      c, R"sql( NOT NULL,
  term TEXT)sql",
                      c, R"sql( NOT NULL,
  PRIMARY KEY (tenant_id, gram, term)))sql",
                      without_rowid, R"sql(;
CREATE TABLE search_phones (
  tenant_id TEXT NOT NULL,
  whole INTEGER NOT NULL,
  suffix TEXT)sql",
                      c, R"sql( NOT NULL,
  customer_id TEXT)sql",
                      c, R"sql( NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (tenant_id, whole, suffix, customer_id, position)))sql",
                      without_rowid, R"sql(;
CREATE TABLE search_emails (
  tenant_id TEXT NOT NULL,
  email TEXT)sql",
                      c, R"sql( NOT NULL,
  customer_id TEXT)sql",
                      c, R"sql( NOT NULL,
  PRIMARY KEY (tenant_id, email, customer_id)))sql",
                      without_rowid, ";\n");
}

// --- Small helpers ---

std::optional<int64_t> OptMicros(const std::optional<absl::Time>& t) {
  if (!t) return std::nullopt;
  return absl::ToUnixMicros(*t);
}

Value OptValue(const std::optional<int64_t>& v) {
  if (!v) return db::Null();
  return *v;
}

std::optional<absl::Time> OptTime(const db::Row& row, size_t i) {
  auto v = row.GetOptionalInt(i);
  if (!v) return std::nullopt;
  return absl::FromUnixMicros(*v);
}

// Reads the 7 stats columns starting at `i`: total, count, balance, first, last purchase,
// last activity, ledger version.
CustomerStatsRecord StatsFromRow(const db::Row& row, size_t i) {
  CustomerStatsRecord s;
  s.total_spent_minor = row.GetInt(i);
  s.transaction_count = row.GetInt(i + 1);
  s.balance_minor = row.GetInt(i + 2);
  s.first_purchase_time = OptTime(row, i + 3);
  s.last_purchase_time = OptTime(row, i + 4);
  s.last_activity_time = OptTime(row, i + 5);
  s.ledger_version = row.GetInt(i + 6);
  return s;
}

constexpr char kStatsColumns[] =
    "s.total_spent_minor, s.transaction_count, s.balance_minor, s.first_purchase_micros, "
    "s.last_purchase_micros, s.last_activity_micros, s.ledger_version";

using db::Placeholders;

std::string DoubleBits(double d) {
  uint64_t bits = 0;
  std::memcpy(&bits, &d, sizeof(bits));
  return absl::StrCat(bits);
}

bool ParseDoubleBits(const std::string& s, double* d) {
  uint64_t bits = 0;
  if (!absl::SimpleAtoi(s, &bits)) return false;
  std::memcpy(d, &bits, sizeof(bits));
  return std::isfinite(*d);
}

absl::Status InvalidToken() {
  return errors::Error(absl::StatusCode::kInvalidArgument, domain::kReasonPageTokenInvalid,
                       "page_token is invalid", {}, {{"page_token", "malformed"}});
}

// Which states a listing shows: a `state` term, else ACTIVE (+ ARCHIVED when asked).
std::vector<int64_t> StatesOf(const ListFilter& filter, bool show_archived) {
  if (filter.state) return {*filter.state};
  if (show_archived) return {kStateActive, kStateArchived};
  return {kStateActive};
}

// --- Filter SQL (aliases: c = customers, s = customer_stats) ---

struct FilterContext {
  int64_t now_micros = 0;
  // top_spender_percent: the total_spent a customer needs; nullopt = nobody qualifies.
  std::optional<int64_t> top_threshold;
};

const char* SqlOp(domain::CompareOp op) {
  switch (op) {
    case domain::CompareOp::kEq:
      return " = ";
    case domain::CompareOp::kNe:
      return " <> ";
    case domain::CompareOp::kGt:
      return " > ";
    case domain::CompareOp::kGe:
      return " >= ";
    case domain::CompareOp::kLt:
      return " < ";
    case domain::CompareOp::kLe:
      return " <= ";
  }
  return " = ";
}

void AppendStates(const std::vector<int64_t>& states, std::string* sql,
                  std::vector<Value>* params) {
  if (states.size() == 1) {
    absl::StrAppend(sql, " AND c.state = ?");
  } else {
    absl::StrAppend(sql, " AND c.state IN (", Placeholders(states.size()), ")");
  }
  for (int64_t s : states) params->push_back(s);
}

void AppendFilter(const ListFilter& f, const FilterContext& ctx, std::string* sql,
                  std::vector<Value>* params) {
  if (f.category) {
    if (f.category->id.empty()) {
      absl::StrAppend(sql, f.category->equal
                               ? " AND (c.category_id IS NULL OR c.category_id = '')"
                               : " AND (c.category_id IS NOT NULL AND c.category_id <> '')");
    } else if (f.category->equal) {
      absl::StrAppend(sql, " AND c.category_id = ?");
      params->push_back(f.category->id);
    } else {
      absl::StrAppend(sql, " AND (c.category_id IS NULL OR c.category_id <> ?)");
      params->push_back(f.category->id);
    }
  }
  for (const auto& b : f.create_time) {
    absl::StrAppend(sql, " AND c.create_time_micros", SqlOp(b.op), "?");
    params->push_back(absl::ToUnixMicros(b.value));
  }
  if (f.has_balance) {
    absl::StrAppend(sql, *f.has_balance ? " AND s.balance_minor > 0" : " AND s.balance_minor <= 0");
  }
  if (f.no_transactions) {
    // No sales means nothing spent: the implied total_spent = 0 lets a total_spent sort
    // seek to its range instead of scanning past every buyer.
    absl::StrAppend(sql, *f.no_transactions
                             ? " AND s.transaction_count = 0 AND s.total_spent_minor = 0"
                             : " AND s.transaction_count > 0");
  }
  for (const auto& b : f.total_spent) {
    absl::StrAppend(sql, " AND s.total_spent_minor", SqlOp(b.op), "?");
    params->push_back(b.value);
  }
  if (f.top_spender_percent) {
    if (ctx.top_threshold) {
      absl::StrAppend(sql, " AND s.transaction_count > 0 AND s.total_spent_minor >= ?");
      params->push_back(*ctx.top_threshold);
    } else {
      absl::StrAppend(sql, " AND 1 = 0");
    }
  }
  constexpr int64_t kDayMicros = int64_t{86400} * 1000000;
  // The activity key columns restate the condition so that an activity sort seeks to it.
  if (f.active_within_days) {
    const int64_t since = ctx.now_micros - *f.active_within_days * kDayMicros;
    absl::StrAppend(sql,
                    " AND s.last_activity_micros >= ? AND s.activity_desc_key >= ? AND "
                    "s.activity_asc_key >= ?");
    params->insert(params->end(), {since, since, since});
  }
  if (f.inactive_for_days) {
    const int64_t since = ctx.now_micros - *f.inactive_for_days * kDayMicros;
    absl::StrAppend(sql,
                    " AND (s.last_activity_micros IS NULL OR s.last_activity_micros < ?)"
                    " AND s.activity_desc_key < ? AND c.create_time_micros < ?");
    params->insert(params->end(), {since, since, since});
  }
  if (f.consent) {
    if (*f.consent == v1::MARKETING_CONSENT_STATE_GRANTED) {
      absl::StrAppend(sql, " AND c.consent_granted = 1");
    } else {
      // customers.consent_granted is a flag; WITHDRAWN vs UNSPECIFIED comes from our docs.
      absl::StrAppend(sql,
                      " AND c.consent_granted = 0 AND COALESCE((SELECT d.consent_state FROM "
                      "customer_query_docs d WHERE d.tenant_id = c.tenant_id AND d.customer_id = "
                      "c.customer_id), 0) = ?");
      params->push_back(static_cast<int64_t>(*f.consent));
    }
  }
}

// The "now" and top-spender threshold of a listing: computed on the first page, carried in
// the token afterwards so that every page applies the same conditions.
absl::StatusOr<FilterContext> FirstPageContext(db::Transaction& tx, absl::string_view tenant,
                                               const ListFilter& filter, absl::Time now) {
  FilterContext ctx;
  ctx.now_micros = absl::ToUnixMicros(now);
  if (filter.top_spender_percent) {
    auto count = tx.Query("SELECT buyers FROM customer_stats_summary WHERE tenant_id = ?",
                          {std::string(tenant)});
    if (!count.ok()) return count.status();
    const int64_t m = count->empty() ? 0 : (*count)[0].GetInt(0);
    if (m > 0) {
      const int64_t k = (m * *filter.top_spender_percent + 99) / 100;
      auto rows = tx.Query(
          "SELECT total_spent_minor FROM customer_stats WHERE tenant_id = ? AND "
          "transaction_count > 0 ORDER BY total_spent_minor DESC LIMIT 1 OFFSET ?",
          {std::string(tenant), k - 1});
      if (!rows.ok()) return rows.status();
      if (!rows->empty()) ctx.top_threshold = (*rows)[0].GetInt(0);
    }
  }
  return ctx;
}

std::vector<std::string> ContextValues(const FilterContext& ctx) {
  return {absl::StrCat(ctx.now_micros), ctx.top_threshold ? absl::StrCat(*ctx.top_threshold) : ""};
}

bool ContextFromValues(const std::vector<std::string>& v, FilterContext* ctx) {
  if (v.size() < 2 || !absl::SimpleAtoi(v[0], &ctx->now_micros)) return false;
  if (!v[1].empty()) {
    int64_t t = 0;
    if (!absl::SimpleAtoi(v[1], &t)) return false;
    ctx->top_threshold = t;
  }
  return true;
}

// --- Index documents ---

// The posting key of a whole folded field: '=' never occurs inside a word.
std::string WholeKey(absl::string_view words) { return absl::StrCat("=", words); }
bool IsWholeKey(absl::string_view term) { return !term.empty() && term[0] == '='; }

struct Doc {
  int consent_state = 0;
  std::string name_words;     // folded words of display_name, in order, space-separated
  std::string company_words;  // the same for company_name
  std::string phones;         // "position,e164,national" joined by ';'
  std::string email;          // folded

  std::set<std::string> Terms() const {
    std::set<std::string> out;
    for (absl::string_view w : absl::StrSplit(name_words, ' ', absl::SkipEmpty())) {
      out.emplace(w);
    }
    for (absl::string_view w : absl::StrSplit(company_words, ' ', absl::SkipEmpty())) {
      out.emplace(w);
    }
    // Whole-field keys, so that an exact full name is found however common its words.
    if (!name_words.empty()) out.insert(WholeKey(name_words));
    if (!company_words.empty()) out.insert(WholeKey(company_words));
    return out;
  }
};

struct DocPhone {
  int position = 0;
  std::string e164;
  std::string national;
};

std::vector<DocPhone> ParsePhones(absl::string_view phones) {
  std::vector<DocPhone> out;
  for (absl::string_view entry : absl::StrSplit(phones, ';', absl::SkipEmpty())) {
    std::vector<std::string> parts = absl::StrSplit(entry, ',');
    if (parts.size() != 3) continue;
    DocPhone p;
    if (!absl::SimpleAtoi(parts[0], &p.position)) continue;
    p.e164 = parts[1];
    p.national = parts[2];
    out.push_back(std::move(p));
  }
  return out;
}

std::string JoinWords(absl::string_view text) {
  return absl::StrJoin(domain::SearchWords(text::FoldForMatch(Sv(text))), " ");
}

absl::StatusOr<std::optional<Doc>> ReadDoc(db::Transaction& tx, const std::string& tenant,
                                           const std::string& id) {
  auto rows = tx.Query(
      "SELECT consent_state, name_words, company_words, phones, email FROM customer_query_docs "
      "WHERE tenant_id = ? AND customer_id = ?",
      {tenant, id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Doc>();
  const db::Row& r = (*rows)[0];
  Doc d;
  d.consent_state = static_cast<int>(r.GetInt(0));
  d.name_words = r.GetText(1);
  d.company_words = r.GetText(2);
  d.phones = r.GetText(3);
  d.email = r.GetText(4);
  return std::optional<Doc>(std::move(d));
}

int64_t TermLockKey(absl::string_view tenant, absl::string_view term) {
  return static_cast<int64_t>(domain::StableHash(absl::StrCat(tenant, "\x1f", term)));
}

// Moves the index entries of one customer from `old_doc` to `new_doc`.
absl::Status ApplyDoc(db::Transaction& tx, const std::string& tenant, const std::string& id,
                      const Doc& old_doc, const Doc& new_doc) {
  const std::set<std::string> old_terms = old_doc.Terms();
  const std::set<std::string> new_terms = new_doc.Terms();
  std::vector<std::string> added, removed;
  std::set_difference(new_terms.begin(), new_terms.end(), old_terms.begin(), old_terms.end(),
                      std::back_inserter(added));
  std::set_difference(old_terms.begin(), old_terms.end(), new_terms.begin(), new_terms.end(),
                      std::back_inserter(removed));
  if (IsPg(tx) && (!added.empty() || !removed.empty())) {
    // Vocabulary entries are shared between customers: adding a posting takes a shared
    // lock on the term, removing the last posting (and then the vocabulary entry) an
    // exclusive one, so a concurrent add never loses its vocabulary entry. Keys in order.
    std::vector<std::pair<int64_t, bool>> locks;
    for (const auto& t : added) locks.emplace_back(TermLockKey(tenant, t), false);
    for (const auto& t : removed) locks.emplace_back(TermLockKey(tenant, t), true);
    std::sort(locks.begin(), locks.end());
    for (const auto& [key, exclusive] : locks) {
      absl::Status locked = tx.ExecuteDeferred(
          exclusive ? "SELECT pg_advisory_xact_lock(?)" : "SELECT pg_advisory_xact_lock_shared(?)",
          {key});
      if (!locked.ok()) return locked;
    }
  }
  for (const auto& term : removed) {
    auto n =
        tx.Execute("DELETE FROM search_terms WHERE tenant_id = ? AND term = ? AND customer_id = ?",
                   {tenant, term, id});
    if (!n.ok()) return n.status();
    auto left = tx.Query("SELECT 1 FROM search_terms WHERE tenant_id = ? AND term = ? LIMIT 1",
                         {tenant, term});
    if (!left.ok()) return left.status();
    if (!left->empty() || IsWholeKey(term)) continue;
    n = tx.Execute("DELETE FROM search_vocab WHERE tenant_id = ? AND term = ?", {tenant, term});
    if (!n.ok()) return n.status();
    for (const auto& gram : text::Trigrams(term)) {
      n = tx.Execute("DELETE FROM search_vocab_grams WHERE tenant_id = ? AND gram = ? AND term = ?",
                     {tenant, gram, term});
      if (!n.ok()) return n.status();
    }
  }
  // Additions in few statements (multi-row VALUES; RETURNING tells which words are new
  // to the vocabulary, whose trigrams are then added).
  if (!added.empty()) {
    std::vector<Value> params;
    std::vector<std::string> rows;
    std::vector<Value> vocab_params;
    std::vector<std::string> vocab_rows;
    for (const auto& term : added) {
      rows.push_back("(?, ?, ?)");
      params.insert(params.end(), {tenant, term, id});
      if (IsWholeKey(term)) continue;
      vocab_rows.push_back("(?, ?)");
      vocab_params.insert(vocab_params.end(), {tenant, term});
    }
    absl::Status n = tx.ExecuteDeferred(
        absl::StrCat("INSERT INTO search_terms (tenant_id, term, customer_id) VALUES ",
                     absl::StrJoin(rows, ", "), " ON CONFLICT DO NOTHING"),
        params);
    if (!n.ok()) return n;
    if (!vocab_rows.empty()) {
      auto fresh = tx.Query(
          absl::StrCat("INSERT INTO search_vocab (tenant_id, term) VALUES ",
                       absl::StrJoin(vocab_rows, ", "), " ON CONFLICT DO NOTHING RETURNING term"),
          vocab_params);
      if (!fresh.ok()) return fresh.status();
      std::vector<Value> gram_params;
      std::vector<std::string> gram_rows;
      for (const auto& r : *fresh) {
        const std::string term = r.GetText(0);
        for (const auto& gram : text::Trigrams(term)) {
          gram_rows.push_back("(?, ?, ?)");
          gram_params.insert(gram_params.end(), {tenant, gram, term});
        }
      }
      if (!gram_rows.empty()) {
        n = tx.ExecuteDeferred(
            absl::StrCat("INSERT INTO search_vocab_grams (tenant_id, gram, term) VALUES ",
                         absl::StrJoin(gram_rows, ", "), " ON CONFLICT DO NOTHING"),
            gram_params);
        if (!n.ok()) return n;
      }
    }
  }
  if (old_doc.phones != new_doc.phones) {
    // Rows are deleted by their keys (from the old document), never by a scan.
    for (const DocPhone& p : ParsePhones(old_doc.phones)) {
      for (size_t i = 0; i + phone::kMinSearchKeyDigits <= p.national.size(); ++i) {
        absl::Status n = tx.ExecuteDeferred(
            "DELETE FROM search_phones WHERE tenant_id = ? AND whole = ? AND suffix = ? AND "
            "customer_id = ? AND position = ?",
            {tenant, static_cast<int64_t>(i == 0), p.national.substr(i), id,
             static_cast<int64_t>(p.position)});
        if (!n.ok()) return n;
      }
    }
    // Every suffix of at least three digits of the national number: a substring query is a
    // prefix range over suffixes; `whole` marks the number itself (prefix matches).
    std::vector<Value> params;
    std::vector<std::string> rows;
    for (const DocPhone& p : ParsePhones(new_doc.phones)) {
      for (size_t i = 0; i + phone::kMinSearchKeyDigits <= p.national.size(); ++i) {
        rows.push_back("(?, ?, ?, ?, ?)");
        params.insert(params.end(), {tenant, static_cast<int64_t>(i == 0), p.national.substr(i), id,
                                     static_cast<int64_t>(p.position)});
      }
    }
    if (!rows.empty()) {
      absl::Status n = tx.ExecuteDeferred(
          absl::StrCat("INSERT INTO search_phones (tenant_id, whole, suffix, customer_id, "
                       "position) VALUES ",
                       absl::StrJoin(rows, ", "), " ON CONFLICT DO NOTHING"),
          params);
      if (!n.ok()) return n;
    }
  }
  if (old_doc.email != new_doc.email) {
    if (!old_doc.email.empty()) {
      absl::Status n = tx.ExecuteDeferred(
          "DELETE FROM search_emails WHERE tenant_id = ? AND email = ? AND customer_id = ?",
          {tenant, old_doc.email, id});
      if (!n.ok()) return n;
    }
    if (!new_doc.email.empty()) {
      absl::Status n = tx.ExecuteDeferred(
          "INSERT INTO search_emails (tenant_id, email, customer_id) VALUES (?, ?, ?)",
          {tenant, new_doc.email, id});
      if (!n.ok()) return n;
    }
  }
  return absl::OkStatus();
}

// --- Search scoring (customer-svc/domain/search_scoring.h) ---

using domain::SearchScorer;
using domain::TermCandidate;

}  // namespace

// --- Migrations ---

std::vector<db::Migration> CustomerQueryMigrations() {
  db::Migration stats;
  stats.version = 20;
  stats.name = "customer stats projection and list sort indexes";
  stats.sqlite = StatsMigrationSql(false);
  stats.postgres = StatsMigrationSql(true);
  db::Migration search;
  search.version = 21;
  search.name = "customer search index";
  search.sqlite = SearchMigrationSql(false);
  search.postgres = SearchMigrationSql(true);
  db::Migration buyers;
  buyers.version = 22;
  buyers.name = "customers with purchases per tenant";
  buyers.sqlite = R"sql(
CREATE TABLE customer_stats_summary (
  tenant_id TEXT NOT NULL PRIMARY KEY,
  buyers BIGINT NOT NULL);
INSERT INTO customer_stats_summary (tenant_id, buyers)
  SELECT tenant_id, COUNT(*) FROM customer_stats WHERE transaction_count > 0 GROUP BY tenant_id;
)sql";
  return {stats, search, buyers};
}

// --- Stats ---

absl::StatusOr<bool> UpsertStats(db::Transaction& tx, absl::string_view tenant,
                                 absl::string_view customer_id, const CustomerStatsRecord& stats) {
  // The per-tenant number of customers with purchases (for top_spender_percent) follows
  // every change of "has purchases".
  auto old = tx.Query(
      "SELECT transaction_count FROM customer_stats WHERE tenant_id = ? AND customer_id = ?",
      {std::string(tenant), std::string(customer_id)});
  if (!old.ok()) return old.status();
  const bool was_buyer = !old->empty() && (*old)[0].GetInt(0) > 0;
  const auto activity = OptMicros(stats.last_activity_time);
  auto n = tx.Execute(
      "INSERT INTO customer_stats (tenant_id, customer_id, total_spent_minor, transaction_count, "
      "balance_minor, first_purchase_micros, last_purchase_micros, last_activity_micros, "
      "activity_asc_key, activity_desc_key, ledger_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "?) ON CONFLICT (tenant_id, customer_id) DO UPDATE SET "
      "total_spent_minor = excluded.total_spent_minor, "
      "transaction_count = excluded.transaction_count, balance_minor = excluded.balance_minor, "
      "first_purchase_micros = excluded.first_purchase_micros, "
      "last_purchase_micros = excluded.last_purchase_micros, "
      "last_activity_micros = excluded.last_activity_micros, "
      "activity_asc_key = excluded.activity_asc_key, "
      "activity_desc_key = excluded.activity_desc_key, ledger_version = excluded.ledger_version "
      "WHERE customer_stats.ledger_version < excluded.ledger_version",
      {std::string(tenant), std::string(customer_id), stats.total_spent_minor,
       stats.transaction_count, stats.balance_minor, OptValue(OptMicros(stats.first_purchase_time)),
       OptValue(OptMicros(stats.last_purchase_time)), OptValue(activity),
       activity ? *activity : kNoActivityAscKey, activity ? *activity : kNoActivityDescKey,
       stats.ledger_version});
  if (!n.ok()) return n.status();
  if (*n == 0) return false;
  const bool is_buyer = stats.transaction_count > 0;
  if (is_buyer != was_buyer) {
    auto m = tx.Execute(
        "INSERT INTO customer_stats_summary (tenant_id, buyers) VALUES (?, ?) ON CONFLICT "
        "(tenant_id) DO UPDATE SET buyers = customer_stats_summary.buyers + excluded.buyers",
        {std::string(tenant), int64_t{is_buyer ? 1 : -1}});
    if (!m.ok()) return m.status();
  }
  return true;
}

absl::StatusOr<std::optional<CustomerStatsRecord>> GetStats(db::Transaction& tx,
                                                            absl::string_view tenant,
                                                            absl::string_view customer_id) {
  auto rows = tx.Query(absl::StrCat("SELECT ", kStatsColumns,
                                    " FROM customer_stats s WHERE s.tenant_id = ? AND "
                                    "s.customer_id = ?"),
                       {std::string(tenant), std::string(customer_id)});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<CustomerStatsRecord>();
  return std::optional<CustomerStatsRecord>(StatsFromRow((*rows)[0], 0));
}

absl::StatusOr<absl::flat_hash_map<std::string, CustomerStatsRecord>> GetStatsOf(
    db::Transaction& tx, absl::string_view tenant, const std::vector<std::string>& customer_ids) {
  absl::flat_hash_map<std::string, CustomerStatsRecord> out;
  for (size_t begin = 0; begin < customer_ids.size(); begin += kIdsPerStatement) {
    const size_t end = std::min(customer_ids.size(), begin + kIdsPerStatement);
    std::vector<Value> params = {std::string(tenant)};
    for (size_t i = begin; i < end; ++i) params.push_back(customer_ids[i]);
    auto rows = tx.Query(absl::StrCat("SELECT s.customer_id, ", kStatsColumns,
                                      " FROM customer_stats s WHERE s.tenant_id = ? AND "
                                      "s.customer_id IN (",
                                      Placeholders(end - begin), ")"),
                         params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) out[r.GetText(0)] = StatsFromRow(r, 1);
  }
  return out;
}

// --- Index maintenance ---

absl::Status IndexCustomer(db::Transaction& tx, absl::string_view tenant_view,
                           absl::string_view id_view, const v1::Customer* written) {
  const std::string tenant(tenant_view), id(id_view);
  v1::Customer loaded;
  if (written == nullptr) {
    auto rows = tx.Query("SELECT data FROM customers WHERE tenant_id = ? AND customer_id = ?",
                         {tenant, id});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {  // deleted (C4): nothing of it stays
      if (absl::Status s = RemoveFromIndex(tx, tenant, id); !s.ok()) return s;
      return tx
          .Execute("DELETE FROM customer_stats WHERE tenant_id = ? AND customer_id = ?",
                   {tenant, id})
          .status();
    }
    if (!loaded.ParseFromString((*rows)[0].GetBytes(0))) {
      return absl::InternalError(absl::StrCat("customer ", id, ": corrupt data"));
    }
  }
  const v1::Customer& customer = written != nullptr ? *written : loaded;
  const int state = static_cast<int>(customer.state());
  absl::Status stats = tx.ExecuteDeferred(
      "INSERT INTO customer_stats (tenant_id, customer_id, activity_asc_key, activity_desc_key) "
      "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
      {tenant, id, kNoActivityAscKey, kNoActivityDescKey});
  if (!stats.ok()) return stats;
  if (state == kStateMerged || state == kStateErased) return RemoveFromIndex(tx, tenant, id);

  Doc doc;
  doc.consent_state = customer.marketing_consent().state();
  doc.name_words = JoinWords(customer.display_name());
  doc.company_words = JoinWords(customer.company_name());
  doc.email = text::FoldForMatch(Sv(customer.email()));
  // The phones in the order the directory stores them (primary first).
  std::vector<std::string> entries;
  auto add_phone = [&](const std::string& e164) {
    if (e164.empty()) return;
    entries.push_back(
        absl::StrCat(entries.size(), ",", e164, ",", phone::SearchableNationalNumber(e164)));
  };
  if (customer.has_phone()) add_phone(customer.phone().e164());
  for (const auto& p : customer.additional_phones()) add_phone(p.e164());
  doc.phones = absl::StrJoin(entries, ";");

  auto old_doc = ReadDoc(tx, tenant, id);
  if (!old_doc.ok()) return old_doc.status();
  if (absl::Status s = ApplyDoc(tx, tenant, id, old_doc->value_or(Doc{}), doc); !s.ok()) return s;
  return tx.ExecuteDeferred(
      "INSERT INTO customer_query_docs (tenant_id, customer_id, consent_state, name_words, "
      "company_words, phones, email) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, "
      "customer_id) DO UPDATE SET consent_state = excluded.consent_state, name_words = "
      "excluded.name_words, company_words = excluded.company_words, phones = excluded.phones, "
      "email = excluded.email",
      {tenant, id, static_cast<int64_t>(doc.consent_state), doc.name_words, doc.company_words,
       doc.phones, doc.email});
}

absl::Status RemoveFromIndex(db::Transaction& tx, absl::string_view tenant_view,
                             absl::string_view id_view) {
  const std::string tenant(tenant_view), id(id_view);
  auto old_doc = ReadDoc(tx, tenant, id);
  if (!old_doc.ok()) return old_doc.status();
  if (!old_doc->has_value()) return absl::OkStatus();
  if (absl::Status s = ApplyDoc(tx, tenant, id, **old_doc, Doc{}); !s.ok()) return s;
  auto n = tx.Execute("DELETE FROM customer_query_docs WHERE tenant_id = ? AND customer_id = ?",
                      {tenant, id});
  return n.status();
}

// --- CustomerQuery ---

CustomerQuery::CustomerQuery(const Clock& clock, CustomerQueryOptions options,
                             SearchIndexCache* index)
    : clock_(clock), options_(options), index_(index) {}

namespace {

struct SortSpec {
  bool customers_driven = true;  // key column in customers (else customer_stats)
  bool text_key = false;
  std::string key;    // e.g. "c.name_sort_key"
  std::string id;     // "c.customer_id" or "s.customer_id"
  std::string index;  // SQLite INDEXED BY
};

SortSpec SortOf(const ListOrder& order) {
  SortSpec s;
  switch (order.field) {
    case SortField::kDisplayName:
      s.text_key = true;
      s.key = "c.name_sort_key";
      s.index = order.descending ? "customers_query_name_desc" : "customers_by_name";
      break;
    case SortField::kCreateTime:
      s.key = "c.create_time_micros";
      s.index = order.descending ? "customers_query_created_desc" : "customers_by_created";
      break;
    case SortField::kTotalSpent:
      s.customers_driven = false;
      s.key = "s.total_spent_minor";
      s.index = order.descending ? "customer_stats_spent_desc" : "customer_stats_spent_asc";
      break;
    case SortField::kBalance:
      s.customers_driven = false;
      s.key = "s.balance_minor";
      s.index = order.descending ? "customer_stats_balance_desc" : "customer_stats_balance_asc";
      break;
    case SortField::kLastActivityTime:
      s.customers_driven = false;
      s.key = order.descending ? "s.activity_desc_key" : "s.activity_asc_key";
      s.index = order.descending ? "customer_stats_activity_desc" : "customer_stats_activity_asc";
      break;
  }
  s.id = s.customers_driven ? "c.customer_id" : "s.customer_id";
  return s;
}

// An upper bound of what one customer adds to a page on the wire besides its stored data:
// CustomerStats with two amounts, three times and two counters (about 110 bytes at most),
// and the framing of the repeated field.
constexpr size_t kCustomerOverheadBytes = 160;

size_t PageItemBytes(size_t data_bytes) { return data_bytes + kCustomerOverheadBytes; }

// How many of the first `n` items fit in `budget` bytes, `size_of(i)` being item i's size;
// at least one (a single customer is far below any budget). 0 = no budget.
template <typename SizeOf>
size_t FitPage(size_t n, size_t budget, SizeOf size_of) {
  if (budget == 0) return n;
  size_t used = 0;
  for (size_t i = 0; i < n; ++i) {
    used += size_of(i);
    if (used > budget && i > 0) return i;
  }
  return n;
}

struct ListRow {
  ListItem item;
  std::string text_key;
  int64_t int_key = 0;
};

// true if a sorts before b.
bool Before(const ListRow& a, const ListRow& b, bool text_key, bool descending) {
  int cmp = 0;
  if (text_key) {
    cmp = a.text_key.compare(b.text_key);
  } else {
    cmp = a.int_key < b.int_key ? -1 : (a.int_key > b.int_key ? 1 : 0);
  }
  if (cmp != 0) return descending ? cmp > 0 : cmp < 0;
  return a.item.customer_id < b.item.customer_id;
}

}  // namespace

absl::StatusOr<ListPage> CustomerQuery::List(db::Transaction& tx, absl::string_view tenant_view,
                                             const ListSpec& spec) const {
  const std::string tenant(tenant_view);
  auto filter = domain::ParseListFilter(spec.filter);
  if (!filter.ok()) return filter.status();
  auto order = domain::ParseListOrder(spec.order_by);
  if (!order.ok()) return order.status();
  auto page_size =
      domain::ListPageSize(spec.page_size, domain::kListDefaultPageSize, domain::kListMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  const std::vector<int64_t> states = StatesOf(*filter, spec.show_archived);
  const std::string binding = absl::StrCat("list\x1f", filter->Canonical(), "\x1f",
                                           order->Canonical(), "\x1f", absl::StrJoin(states, ","));
  const SortSpec sort = SortOf(*order);

  FilterContext ctx;
  std::optional<std::pair<std::string, std::string>> after;  // last key, last id
  std::optional<int64_t> carried_total;                      // from the first page
  if (!spec.page_token.empty()) {
    auto values = domain::DecodeKeysetToken(spec.page_token, "list", tenant, binding);
    if (!values.ok()) return values.status();
    // now, top-spender threshold, last key, last id[, total_size counted on the first page]
    if (values->size() < 4 || values->size() > 5 || !ContextFromValues(*values, &ctx)) {
      return InvalidToken();
    }
    after.emplace((*values)[2], (*values)[3]);
    int64_t unused = 0;
    if (!sort.text_key && !absl::SimpleAtoi(after->first, &unused)) return InvalidToken();
    if (values->size() == 5 && !(*values)[4].empty()) {
      int64_t total = 0;
      if (!absl::SimpleAtoi((*values)[4], &total) || total < 0) return InvalidToken();
      carried_total = total;
    }
  } else {
    auto first = FirstPageContext(tx, tenant, *filter, clock_.Now());
    if (!first.ok()) return first.status();
    ctx = *first;
  }

  const bool pg = IsPg(tx);
  const std::string coll = CollC(tx);
  const char* dir = order->descending ? " DESC" : "";
  auto run = [&](const std::vector<int64_t>& query_states) -> absl::StatusOr<std::vector<ListRow>> {
    std::vector<Value> params;
    std::string sql =
        absl::StrCat("SELECT c.customer_id, c.data, ", kStatsColumns, ", ", sort.key, " FROM ");
    const std::string indexed = pg ? "" : absl::StrCat(" INDEXED BY ", sort.index);
    if (sort.customers_driven) {
      absl::StrAppend(&sql, "customers c", indexed,
                      " CROSS JOIN customer_stats s WHERE c.tenant_id = ? AND s.tenant_id = "
                      "c.tenant_id AND s.customer_id = c.customer_id");
    } else {
      absl::StrAppend(&sql, "customer_stats s", indexed,
                      " CROSS JOIN customers c WHERE s.tenant_id = ? AND c.tenant_id = "
                      "s.tenant_id AND c.customer_id = s.customer_id");
    }
    params.push_back(tenant);
    AppendStates(query_states, &sql, &params);
    AppendFilter(*filter, ctx, &sql, &params);
    if (after) {
      Value key = after->first;
      if (!sort.text_key) {
        int64_t k = 0;
        (void)absl::SimpleAtoi(after->first, &k);  // checked when the token was read
        key = k;
      }
      const char* op_eq = order->descending ? " <= ?" : " >= ?";
      const char* op = order->descending ? " < ?" : " > ?";
      const std::string k = absl::StrCat(sort.key, sort.text_key ? coll : "");
      absl::StrAppend(&sql, " AND ", k, op_eq, " AND (", k, op, " OR ", sort.id, coll, " > ?)");
      params.push_back(key);
      params.push_back(key);
      params.push_back(after->second);
    }
    absl::StrAppend(&sql, " ORDER BY ", sort.key, sort.text_key ? coll : "", dir, ", ", sort.id,
                    coll, " LIMIT ?");
    params.push_back(static_cast<int64_t>(*page_size + 1));
    auto rows = tx.Query(sql, params);
    if (!rows.ok()) return rows.status();
    std::vector<ListRow> out;
    out.reserve(rows->size());
    for (const auto& r : *rows) {
      ListRow row;
      row.item.customer_id = r.GetText(0);
      row.item.data = r.GetBytes(1);
      row.item.stats = StatsFromRow(r, 2);
      if (sort.text_key) {
        row.text_key = r.GetText(9);
      } else {
        row.int_key = r.GetInt(9);
      }
      out.push_back(std::move(row));
    }
    return out;
  };

  std::vector<ListRow> rows;
  if (sort.customers_driven && states.size() > 1) {
    // One index range per state (each in sort order), merged here.
    for (int64_t state : states) {
      auto part = run({state});
      if (!part.ok()) return part.status();
      rows.insert(rows.end(), std::make_move_iterator(part->begin()),
                  std::make_move_iterator(part->end()));
    }
    std::sort(rows.begin(), rows.end(), [&](const ListRow& a, const ListRow& b) {
      return Before(a, b, sort.text_key, order->descending);
    });
  } else {
    auto all = run(states);
    if (!all.ok()) return all.status();
    rows = *std::move(all);
  }

  ListPage page;
  if (spec.want_total_size) {
    page.total_size = carried_total;
    if (!page.total_size) {
      std::vector<Value> params = {tenant};
      std::string sql =
          "SELECT COUNT(*) FROM customers c CROSS JOIN customer_stats s WHERE c.tenant_id = ? AND "
          "s.tenant_id = c.tenant_id AND s.customer_id = c.customer_id";
      AppendStates(states, &sql, &params);
      AppendFilter(*filter, ctx, &sql, &params);
      auto count = tx.QueryOne(sql, params);
      if (!count.ok()) return count.status();
      page.total_size = count->GetInt(0);
    }
  }
  // At most page_size customers, and only as many as fit the response budget.
  const size_t keep =
      FitPage(std::min(rows.size(), static_cast<size_t>(*page_size)), spec.max_page_bytes,
              [&](size_t i) { return PageItemBytes(rows[i].item.data.size()); });
  const bool more = rows.size() > keep;
  rows.resize(keep);
  if (more && !rows.empty()) {
    std::vector<std::string> values = ContextValues(ctx);
    const ListRow& last = rows.back();
    values.push_back(sort.text_key ? last.text_key : absl::StrCat(last.int_key));
    values.push_back(last.item.customer_id);
    values.push_back(page.total_size ? absl::StrCat(*page.total_size) : "");
    page.next_page_token = domain::EncodeKeysetToken("list", tenant, binding, values);
  }
  for (auto& r : rows) page.items.push_back(std::move(r.item));
  return page;
}

// --- Search ---

namespace {

// A search hit's position in the requested order.
struct Ranked {
  double score = 0;
  std::string text_key;
  int64_t int_key = 0;
  std::string id;
  size_t index = 0;  // into the hits
};

struct SearchContext {
  db::Transaction& tx;
  const std::string& tenant;
  const std::vector<int64_t>& states;
  const ListFilter& filter;
  const FilterContext& ctx;
  double threshold;
};

// A search result on the wire, bounded from above: the customer, its score and matches.
size_t SearchHitBytes(const SearchHit& hit) {
  size_t bytes = PageItemBytes(hit.data.size()) + 16;
  for (const SearchMatchInfo& m : hit.matches) bytes += m.value.size() + 16;
  return bytes;
}

// Whether the filter reads customer_stats (s.*): searches join it only then, since the
// join costs a lookup per posting.
bool NeedsStats(const ListFilter& f) {
  return f.has_balance.has_value() || f.no_transactions.has_value() || !f.total_spent.empty() ||
         f.top_spender_percent.has_value() || f.active_within_days.has_value() ||
         f.inactive_for_days.has_value();
}

std::string StatsJoin(const SearchContext& sc) {
  return NeedsStats(sc.filter) ? " CROSS JOIN customer_stats s" : "";
}

std::string StatsJoinCondition(const SearchContext& sc) {
  return NeedsStats(sc.filter) ? " AND s.tenant_id = c.tenant_id AND s.customer_id = c.customer_id"
                               : "";
}

// Customer ids from `table` p (with p.customer_id) whose customer passes the state and
// filter, for the condition `where` on p, in (order) order, at most `limit`.
absl::StatusOr<std::vector<std::string>> Postings(const SearchContext& sc, absl::string_view table,
                                                  absl::string_view where,
                                                  std::vector<Value> where_params,
                                                  absl::string_view order, int64_t limit) {
  std::vector<Value> params = {sc.tenant};
  for (auto& v : where_params) params.push_back(std::move(v));
  std::string sql = absl::StrCat("SELECT p.customer_id FROM ", table, " p CROSS JOIN customers c",
                                 StatsJoin(sc), " WHERE p.tenant_id = ? AND ", where,
                                 " AND c.tenant_id = p.tenant_id AND c.customer_id = p.customer_id",
                                 CollDefault(sc.tx), StatsJoinCondition(sc));
  AppendStates(sc.states, &sql, &params);
  AppendFilter(sc.filter, sc.ctx, &sql, &params);
  absl::StrAppend(&sql, " ORDER BY ", order, " LIMIT ?");
  params.push_back(limit);
  auto rows = sc.tx.Query(sql, params);
  if (!rows.ok()) return rows.status();
  std::vector<std::string> out;
  out.reserve(rows->size());
  for (const auto& r : *rows) out.push_back(r.GetText(0));
  return out;
}

// Postings of several search_terms words in one statement: for each word, at most `limit`
// customer ids (passing state and filter) in customer_id order; result i for terms[i].
absl::StatusOr<std::vector<std::vector<std::string>>> TermPostings(
    const SearchContext& sc, const std::vector<std::string>& terms, int64_t limit) {
  std::vector<std::vector<std::string>> out(terms.size());
  if (terms.empty()) return out;
  std::vector<Value> params;
  std::vector<std::string> parts;
  for (size_t i = 0; i < terms.size(); ++i) {
    std::string sql = absl::StrCat(
        "SELECT ", i, " AS k, t", i,
        ".customer_id FROM (SELECT p.customer_id FROM search_terms p CROSS JOIN customers c",
        StatsJoin(sc),
        " WHERE p.tenant_id = ? AND p.term = ? AND c.tenant_id = p.tenant_id AND c.customer_id "
        "= p.customer_id",
        CollDefault(sc.tx), StatsJoinCondition(sc));
    params.push_back(sc.tenant);
    params.push_back(terms[i]);
    AppendStates(sc.states, &sql, &params);
    AppendFilter(sc.filter, sc.ctx, &sql, &params);
    absl::StrAppend(&sql, " ORDER BY p.customer_id LIMIT ?) t", i);
    params.push_back(limit);
    parts.push_back(std::move(sql));
  }
  auto rows = sc.tx.Query(
      absl::StrCat(absl::StrJoin(parts, " UNION ALL "), " ORDER BY k, customer_id"), params);
  if (!rows.ok()) return rows.status();
  for (const auto& r : *rows) {
    const int64_t k = r.GetInt(0);
    if (k >= 0 && k < static_cast<int64_t>(out.size())) out[k].push_back(r.GetText(1));
  }
  return out;
}

// Vocabulary words that query word `q` may mean, best first (at most domain::kTermsPerWord).
absl::StatusOr<std::vector<TermCandidate>> CandidateTerms(const SearchContext& sc,
                                                          const std::string& q) {
  domain::TermCandidates candidates(q, sc.threshold);
  auto prefix = sc.tx.Query(
      "SELECT term FROM search_vocab WHERE tenant_id = ? AND term >= ? AND term < ? ORDER BY "
      "term LIMIT ?",
      {sc.tenant, q, absl::StrCat(q, kMaxCodePoint),
       static_cast<int64_t>(domain::kPrefixTermsScanned)});
  if (!prefix.ok()) return prefix.status();
  for (const auto& r : *prefix) candidates.AddPrefixWord(r.GetText(0));
  // Substring and spelling-variant matches through the trigrams of vocabulary words.
  const std::vector<std::string>& used = candidates.lookup_grams();
  if (!used.empty()) {
    std::vector<Value> params = {sc.tenant};
    for (const auto& g : used) params.push_back(g);
    auto rows = sc.tx.Query(absl::StrCat("SELECT term, COUNT(*) FROM search_vocab_grams WHERE "
                                         "tenant_id = ? AND gram IN (",
                                         Placeholders(used.size()), ") GROUP BY term"),
                            params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) candidates.AddGramWord(r.GetText(0), r.GetInt(1));
  }
  return candidates.Best();
}

// The SQL search: candidates from the search tables, each source bounded, scored from
// customer_query_docs.
absl::StatusOr<std::vector<SearchHit>> SqlHits(const SearchContext& sc,
                                               const phone::PhoneNormalizer& phone_keys, int budget,
                                               const std::string& trimmed,
                                               const std::string& region) {
  db::Transaction& tx = sc.tx;
  const std::string& tenant = sc.tenant;
  const std::string folded = text::FoldForMatch(Sv(trimmed));
  const std::string coll = CollC(tx);
  std::vector<std::string> candidates;
  absl::flat_hash_set<std::string> seen;
  auto add = [&](const std::vector<std::string>& ids) {
    for (const auto& id : ids) {
      if (seen.insert(id).second) candidates.push_back(id);
    }
  };
  const std::vector<std::string> keys = phone_keys.SearchKeys(Sv(trimmed), Sv(region));
  for (const auto& key : keys) {
    for (int64_t whole : {1, 0}) {
      auto ids = Postings(sc, "search_phones", "p.whole = ? AND p.suffix >= ? AND p.suffix < ?",
                          {whole, key, absl::StrCat(key, ":")},
                          absl::StrCat("p.suffix", coll, ", p.customer_id", coll), budget);
      if (!ids.ok()) return ids.status();
      add(*ids);
    }
  }
  SearchScorer scorer(folded, keys, sc.threshold);
  const std::vector<std::string>& words = scorer.words();
  if (keys.empty() && !words.empty()) {
    // Names: the query word with the fewest postings drives; its candidate vocabulary words
    // are visited best first, each contributing its postings in customer_id order.
    std::vector<std::vector<TermCandidate>> terms_per_word;
    size_t driver = 0;
    int64_t driver_postings = std::numeric_limits<int64_t>::max();
    for (size_t i = 0; i < words.size(); ++i) {
      auto terms = CandidateTerms(sc, words[i]);
      if (!terms.ok()) return terms.status();
      if (words.size() > 1) {
        // How common the word's best readings are (bounded count), to pick the driver.
        std::vector<Value> params = {tenant};
        const size_t n = std::min<size_t>(terms->size(), 4);
        for (size_t t = 0; t < n; ++t) params.push_back((*terms)[t].term);
        int64_t postings = 0;
        if (n > 0) {
          auto count = tx.QueryOne(
              absl::StrCat("SELECT COUNT(*) FROM (SELECT 1 FROM search_terms WHERE tenant_id = ? "
                           "AND term IN (",
                           Placeholders(n), ") LIMIT 4004) x"),
              params);
          if (!count.ok()) return count.status();
          postings = count->GetInt(0);
        }
        if (postings < driver_postings) {
          driver = i;
          driver_postings = postings;
        }
      }
      terms_per_word.push_back(*std::move(terms));
    }
    // Exact whole names (display or company) first, however common their words are; then
    // the driver's readings, best first, until the budget is spent. Readings are fetched in
    // growing groups (one statement each): common words fill the budget in the first group.
    const int limit = words.size() > 1 ? budget * 2 : budget;
    const std::vector<TermCandidate>& readings = terms_per_word[driver];
    int remaining = limit;
    size_t next = 0;
    for (size_t group = 4; remaining > 0 && (next == 0 || next < readings.size()); group *= 2) {
      std::vector<std::string> terms;
      if (next == 0) terms.push_back(WholeKey(absl::StrJoin(words, " ")));
      const size_t first = next;
      for (; next < readings.size() && next < first + group; ++next) {
        terms.push_back(readings[next].term);
      }
      auto postings = TermPostings(sc, terms, remaining);
      if (!postings.ok()) return postings.status();
      for (size_t i = 0; i < postings->size(); ++i) {
        std::vector<std::string>& ids = (*postings)[i];
        if (first == 0 && i == 0) {  // the whole-name key: its own budget
          if (static_cast<int>(ids.size()) > budget) ids.resize(budget);
          add(ids);
          continue;
        }
        if (remaining <= 0) break;
        if (static_cast<int>(ids.size()) > remaining) ids.resize(remaining);
        remaining -= static_cast<int>(ids.size());
        add(ids);
      }
      if (next >= readings.size()) break;
    }
  }
  if (keys.empty() && folded.find(' ') == std::string::npos && folded.size() >= 2) {
    auto ids = Postings(sc, "search_emails", "p.email >= ? AND p.email < ?",
                        {folded, absl::StrCat(folded, kMaxCodePoint)},
                        absl::StrCat("p.email", coll, ", p.customer_id", coll), budget);
    if (!ids.ok()) return ids.status();
    add(*ids);
  }

  // Score every candidate from its index document (no customer data read yet).
  std::vector<SearchHit> hits;
  for (size_t begin = 0; begin < candidates.size(); begin += kIdsPerStatement) {
    const size_t end = std::min(candidates.size(), begin + kIdsPerStatement);
    std::vector<Value> params = {tenant};
    for (size_t i = begin; i < end; ++i) params.push_back(candidates[i]);
    auto rows =
        tx.Query(absl::StrCat("SELECT customer_id, name_words, company_words, phones, email "
                              "FROM customer_query_docs WHERE tenant_id = ? AND "
                              "customer_id IN (",
                              Placeholders(end - begin), ")"),
                 params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      SearchHit hit;
      hit.customer_id = r.GetText(0);
      const std::string name_words = r.GetText(1), company_words = r.GetText(2);
      const std::string email = r.GetText(4);
      const std::vector<DocPhone> doc_phones = ParsePhones(r.GetText(3));
      std::vector<domain::SearchPhone> phones;
      for (const DocPhone& p : doc_phones) phones.push_back({p.position, p.e164, p.national});
      std::vector<domain::ScoredMatch> scored =
          scorer.Score({name_words, company_words, phones, email});
      if (scored.empty()) continue;
      std::vector<SearchMatchInfo> matches;
      for (auto& m : scored) matches.push_back({m.field, std::move(m.value), m.exact, m.score});
      hit.score = matches[0].score;
      hit.matches = std::move(matches);
      hits.push_back(std::move(hit));
    }
  }
  return hits;
}

// The search over the tenant's index in memory (search_index_cache.h); nullopt while it is
// not loaded, and for a filter with conditions other than the state, which the index does
// not hold (the SQL search joins them; checking them per candidate would cost a query per
// posting).
absl::StatusOr<std::optional<std::vector<SearchHit>>> IndexedHits(const SearchContext& sc,
                                                                  SearchIndexCache& index,
                                                                  const std::string& trimmed,
                                                                  const std::string& region) {
  ListFilter conditions = sc.filter;
  conditions.state.reset();
  if (conditions.Canonical() != ListFilter().Canonical()) {
    return std::optional<std::vector<SearchHit>>();
  }
  domain::SearchIndexQuery query;
  query.query = trimmed;
  query.phone_region = region;
  query.states.assign(sc.states.begin(), sc.states.end());
  auto result = index.Search(sc.tx, sc.tenant, query);
  if (!result.ok()) return result.status();
  if (!result->has_value()) return std::optional<std::vector<SearchHit>>();
  std::vector<SearchHit> hits;
  hits.reserve((*result)->hits.size());
  for (domain::SearchIndexHit& found : (*result)->hits) {
    SearchHit& hit = hits.emplace_back();
    hit.customer_id = std::move(found.customer_id);
    hit.score = found.score;
    for (auto& m : found.matches) {
      hit.matches.push_back({m.field, std::move(m.value), m.exact, m.score});
    }
  }
  return std::optional<std::vector<SearchHit>>(std::move(hits));
}

}  // namespace

absl::StatusOr<SearchPage> CustomerQuery::Search(db::Transaction& tx, absl::string_view tenant_view,
                                                 const SearchOptions& options) const {
  const std::string tenant(tenant_view);
  auto trimmed = text::TrimmedName(Sv(options.query), kMaxQueryChars);
  if (!trimmed.ok()) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                         "query must hold 1-200 characters", {},
                         {{"query", "must hold 1-200 characters of text"}});
  }
  auto filter = domain::ParseListFilter(options.filter);
  if (!filter.ok()) return filter.status();
  auto page_size = domain::ListPageSize(options.page_size, domain::kSearchDefaultPageSize,
                                        domain::kSearchMaxPageSize);
  if (!page_size.ok()) return page_size.status();
  const std::vector<int64_t> states = StatesOf(*filter, options.show_archived);
  const std::string folded = text::FoldForMatch(Sv(*trimmed));
  // Relevance (empty order_by) or one of the list orders over the matching customers.
  std::optional<ListOrder> order;
  if (!options.order_by.empty()) {
    auto parsed = domain::ParseListOrder(options.order_by);
    if (!parsed.ok()) return parsed.status();
    order = *parsed;
  }
  const std::string binding = absl::StrCat(
      "search\x1f", folded, "\x1f", filter->Canonical(), "\x1f", absl::StrJoin(states, ","), "\x1f",
      options.phone_region, "\x1f", order ? order->Canonical() : "relevance");

  FilterContext ctx;
  // The last hit of the previous page: relevance score or sort key, and id.
  std::optional<Ranked> after;
  if (!options.page_token.empty()) {
    auto values = domain::DecodeKeysetToken(options.page_token, "search", tenant, binding);
    if (!values.ok()) return values.status();
    Ranked last;
    bool ok = values->size() == 4 && ContextFromValues(*values, &ctx);
    if (ok && !order) ok = ParseDoubleBits((*values)[2], &last.score);
    if (ok && order && !SortOf(*order).text_key) ok = absl::SimpleAtoi((*values)[2], &last.int_key);
    if (!ok) return InvalidToken();
    last.text_key = (*values)[2];
    last.id = (*values)[3];
    after = std::move(last);
  } else {
    auto first = FirstPageContext(tx, tenant, *filter, clock_.Now());
    if (!first.ok()) return first.status();
    ctx = *first;
  }
  const SearchContext sc{tx, tenant, states, *filter, ctx, options_.name_similarity_threshold};

  // 1. Candidates and their scores: from the tenant's index in memory when it is loaded,
  // else from the SQL search tables.
  std::vector<SearchHit> hits;
  bool from_memory = false;
  if (index_ != nullptr) {
    auto found = IndexedHits(sc, *index_, *trimmed, options.phone_region);
    if (!found.ok()) return found.status();
    if (found->has_value()) {
      hits = **std::move(found);
      from_memory = true;
    }
  }
  if (!from_memory) {
    auto found = SqlHits(sc, phones_, options_.search_candidates, *trimmed, options.phone_region);
    if (!found.ok()) return found.status();
    hits = *std::move(found);
  }
  // Order: relevance, or the requested list order (keys read for the scored hits only).
  std::vector<Ranked> ranked(hits.size());
  for (size_t i = 0; i < hits.size(); ++i) {
    ranked[i].score = hits[i].score;
    ranked[i].id = hits[i].customer_id;
    ranked[i].index = i;
  }
  std::optional<SortSpec> sort;
  if (order) {
    sort = SortOf(*order);
    absl::flat_hash_map<std::string, Ranked*> by_id;
    for (auto& r : ranked) by_id[r.id] = &r;
    for (size_t begin = 0; begin < ranked.size(); begin += kIdsPerStatement) {
      const size_t end = std::min(ranked.size(), begin + kIdsPerStatement);
      std::vector<Value> params = {tenant};
      for (size_t i = begin; i < end; ++i) params.push_back(ranked[i].id);
      auto rows = tx.Query(
          absl::StrCat("SELECT c.customer_id, ", sort->key,
                       " FROM customers c CROSS JOIN customer_stats s WHERE c.tenant_id = ? AND "
                       "c.customer_id IN (",
                       Placeholders(end - begin),
                       ") AND s.tenant_id = c.tenant_id AND s.customer_id = c.customer_id"),
          params);
      if (!rows.ok()) return rows.status();
      for (const auto& r : *rows) {
        Ranked* target = by_id[r.GetText(0)];
        if (sort->text_key) {
          target->text_key = r.GetText(1);
        } else {
          target->int_key = r.GetInt(1);
        }
      }
    }
  }
  auto before = [&](const Ranked& a, const Ranked& b) {
    if (!order) {
      if (a.score != b.score) return a.score > b.score;
      return a.id < b.id;
    }
    int cmp = 0;
    if (sort->text_key) {
      cmp = a.text_key.compare(b.text_key);
    } else {
      cmp = a.int_key < b.int_key ? -1 : (a.int_key > b.int_key ? 1 : 0);
    }
    if (cmp != 0) return order->descending ? cmp > 0 : cmp < 0;
    return a.id < b.id;
  };
  std::sort(ranked.begin(), ranked.end(), before);
  if (after) {
    ranked.erase(std::remove_if(ranked.begin(), ranked.end(),
                                [&](const Ranked& r) { return !before(*after, r); }),
                 ranked.end());
  }
  SearchPage page;
  bool more = static_cast<int>(ranked.size()) > *page_size;
  if (more) ranked.resize(*page_size);
  {
    std::vector<SearchHit> ordered;
    ordered.reserve(ranked.size());
    for (const Ranked& r : ranked) ordered.push_back(std::move(hits[r.index]));
    hits = std::move(ordered);
  }
  // 3. The page's customers and stats; names as stored for the matches.
  if (!hits.empty()) {
    std::vector<Value> params = {tenant};
    for (const auto& h : hits) params.push_back(h.customer_id);
    auto rows = tx.Query(absl::StrCat("SELECT c.customer_id, c.data, ", kStatsColumns,
                                      ", c.display_name FROM customers c CROSS JOIN "
                                      "customer_stats s WHERE c.tenant_id = ? AND c.customer_id "
                                      "IN (",
                                      Placeholders(hits.size()),
                                      ") AND s.tenant_id = c.tenant_id AND s.customer_id = "
                                      "c.customer_id"),
                         params);
    if (!rows.ok()) return rows.status();
    absl::flat_hash_map<std::string, const db::Row*> by_id;
    for (const auto& r : *rows) by_id[r.GetText(0)] = &r;
    for (auto& h : hits) {
      auto it = by_id.find(h.customer_id);
      if (it == by_id.end()) continue;
      const db::Row& r = *it->second;
      h.data = r.GetBytes(1);
      h.stats = StatsFromRow(r, 2);
      v1::Customer customer;
      bool parsed = false;
      for (auto& m : h.matches) {
        if (m.field == v1::SEARCH_FIELD_DISPLAY_NAME) m.value = r.GetText(9);
        if (m.field == v1::SEARCH_FIELD_COMPANY_NAME) {
          if (!parsed) parsed = customer.ParseFromString(h.data);
          m.value = customer.company_name();
        }
      }
    }
    // A customer removed after the index saw it (PostgreSQL reads each statement afresh) is
    // left out rather than answered empty.
    size_t kept = 0;
    for (size_t i = 0; i < hits.size(); ++i) {
      if (hits[i].data.empty()) continue;
      if (kept != i) {
        hits[kept] = std::move(hits[i]);
        ranked[kept] = std::move(ranked[i]);
      }
      ++kept;
    }
    hits.resize(kept);
    ranked.resize(kept);
  }
  // Only as many results as fit the response budget; the next page continues after the last.
  const size_t keep = FitPage(hits.size(), options.max_page_bytes,
                              [&](size_t i) { return SearchHitBytes(hits[i]); });
  if (keep < hits.size()) {
    more = true;
    hits.resize(keep);
    ranked.resize(keep);
  }
  if (more && !ranked.empty()) {
    const Ranked& last = ranked.back();
    std::vector<std::string> values = ContextValues(ctx);
    values.push_back(!order           ? DoubleBits(last.score)
                     : sort->text_key ? last.text_key
                                      : absl::StrCat(last.int_key));
    values.push_back(last.id);
    page.next_page_token = domain::EncodeKeysetToken("search", tenant, binding, values);
  }
  page.hits = std::move(hits);
  return page;
}

// --- Duplicates ---

absl::StatusOr<DuplicatePage> CustomerQuery::FindDuplicates(db::Transaction& tx,
                                                            absl::string_view tenant_view,
                                                            const DuplicateOptions& options) const {
  const std::string tenant(tenant_view);
  if (!(options.min_score >= 0 && options.min_score <= 1)) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                         "min_score must be within 0-1", {}, {{"min_score", "must be within 0-1"}});
  }
  const double min_score = options.min_score == 0 ? 0.6 : options.min_score;
  auto page_size = domain::ListPageSize(options.page_size, 50, 200);
  if (!page_size.ok()) return page_size.status();
  const std::vector<int64_t> states = options.show_archived
                                          ? std::vector<int64_t>{kStateActive, kStateArchived}
                                          : std::vector<int64_t>{kStateActive};
  const std::string binding =
      absl::StrCat("dups\x1f", options.customer_id, "\x1f", DoubleBits(min_score), "\x1f",
                   absl::StrJoin(states, ","));
  std::optional<std::tuple<double, std::string, std::string>> after;
  if (!options.page_token.empty()) {
    auto values = domain::DecodeKeysetToken(options.page_token, "dups", tenant, binding);
    if (!values.ok()) return values.status();
    double score = 0;
    if (values->size() != 3 || !ParseDoubleBits((*values)[0], &score)) return InvalidToken();
    after.emplace(score, (*values)[1], (*values)[2]);
  }
  if (!options.customer_id.empty()) {
    auto rows = tx.Query("SELECT 1 FROM customers WHERE tenant_id = ? AND customer_id = ?",
                         {tenant, options.customer_id});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) {
      return errors::Error(absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND",
                           absl::StrCat("customer ", options.customer_id, " not found"),
                           {{"customer_id", options.customer_id}});
    }
  }

  // Candidate pairs (low id, high id) -> reasons found so far.
  std::map<std::pair<std::string, std::string>, std::set<int>> pairs;
  auto add_pair = [&](const std::string& a, const std::string& b, int reason) {
    if (a == b) return;
    auto& reasons = a < b ? pairs[{a, b}] : pairs[{b, a}];
    if (reason != 0) reasons.insert(reason);
  };
  const bool one = !options.customer_id.empty();
  {
    std::vector<Value> params = {tenant};
    if (one) params.push_back(options.customer_id);
    auto rows = tx.Query(
        absl::StrCat("SELECT a.customer_id, b.customer_id FROM customer_phones a CROSS JOIN "
                     "customer_phones b WHERE a.tenant_id = ?",
                     one ? " AND a.customer_id = ?" : "",
                     " AND b.tenant_id = a.tenant_id AND b.e164 = a.e164 AND b.customer_id <> "
                     "a.customer_id"),
        params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows)
      add_pair(r.GetText(0), r.GetText(1), v1::DUPLICATE_REASON_SAME_PHONE);
  }
  {
    // Same email: for one customer, a lookup by its folded email; else a self-join.
    std::vector<Value> params = {tenant};
    std::string where = " AND a.email <> ''";
    if (one) {
      auto doc = ReadDoc(tx, tenant, options.customer_id);
      if (!doc.ok()) return doc.status();
      where = " AND a.email = ? AND a.customer_id = ?";
      params.push_back(doc->has_value() ? (*doc)->email : std::string());
      params.push_back(options.customer_id);
    }
    auto rows = tx.Query(
        absl::StrCat("SELECT a.customer_id, b.customer_id FROM search_emails a CROSS JOIN "
                     "search_emails b WHERE a.tenant_id = ?",
                     where,
                     " AND b.tenant_id = a.tenant_id AND b.email = a.email AND b.customer_id <> "
                     "a.customer_id"),
        params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      add_pair(r.GetText(0), r.GetText(1), v1::DUPLICATE_REASON_SAME_EMAIL);
    }
  }
  // Name candidates: customers sharing a word. For one customer, its words and their
  // spelling variants; for the whole tenant, words held by at most kBlock customers.
  constexpr int64_t kBlock = 64;
  if (one) {
    auto doc = ReadDoc(tx, tenant, options.customer_id);
    if (!doc.ok()) return doc.status();
    if (doc->has_value()) {
      const ListFilter no_filter;
      const FilterContext no_ctx;
      const SearchContext sc{tx,        tenant, states,
                             no_filter, no_ctx, options_.name_similarity_threshold};
      for (const auto& word : (*doc)->Terms()) {
        auto terms = IsWholeKey(word) ? absl::StatusOr<std::vector<TermCandidate>>(
                                            std::vector<TermCandidate>{{word, 1.0}})
                                      : CandidateTerms(sc, word);
        if (!terms.ok()) return terms.status();
        for (const auto& t : *terms) {
          auto ids = Postings(sc, "search_terms", "p.term = ?", {t.term},
                              absl::StrCat("p.customer_id", CollC(tx)), 200);
          if (!ids.ok()) return ids.status();
          for (const auto& id : *ids) add_pair(options.customer_id, id, 0);
        }
      }
    }
  } else {
    auto rows = tx.Query(
        "SELECT t.term, t.customer_id FROM search_terms t WHERE t.tenant_id = ? AND t.term IN "
        "(SELECT term FROM search_terms WHERE tenant_id = ? GROUP BY term HAVING COUNT(*) "
        "BETWEEN 2 AND ?) ORDER BY t.term, t.customer_id",
        {tenant, tenant, kBlock});
    if (!rows.ok()) return rows.status();
    std::map<std::string, std::vector<std::string>> groups;
    for (const auto& r : *rows) groups[r.GetText(0)].push_back(r.GetText(1));
    for (const auto& [term, ids] : groups) {
      for (size_t i = 0; i < ids.size(); ++i) {
        for (size_t j = i + 1; j < ids.size(); ++j) add_pair(ids[i], ids[j], 0);
      }
    }
  }

  // Details of every customer involved.
  struct Info {
    int state = 0;
    std::string name;
    int64_t create_micros = 0;
    std::string data;
  };
  std::set<std::string> ids;
  for (const auto& [pair, reasons] : pairs) {
    ids.insert(pair.first);
    ids.insert(pair.second);
  }
  absl::flat_hash_map<std::string, Info> info;
  std::vector<std::string> id_list(ids.begin(), ids.end());
  for (size_t begin = 0; begin < id_list.size(); begin += 500) {
    const size_t end = std::min(id_list.size(), begin + 500);
    std::vector<Value> params = {tenant};
    for (size_t i = begin; i < end; ++i) params.push_back(id_list[i]);
    auto rows =
        tx.Query(absl::StrCat("SELECT customer_id, state, name_folded, create_time_micros, "
                              "data FROM customers WHERE tenant_id = ? AND customer_id IN (",
                              Placeholders(end - begin), ")"),
                 params);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      info[r.GetText(0)] = {static_cast<int>(r.GetInt(1)), r.GetText(2), r.GetInt(3),
                            r.GetBytes(4)};
    }
  }
  auto listed = [&](const std::string& id) -> const Info* {
    auto it = info.find(id);
    if (it == info.end()) return nullptr;
    if (std::find(states.begin(), states.end(), it->second.state) == states.end()) return nullptr;
    return &it->second;
  };

  struct Scored {
    double score;
    std::string lo, hi;
    std::vector<v1::DuplicateReason> reasons;
  };
  std::vector<Scored> scored;
  // std::map: references stay valid while it grows.
  std::map<std::string, std::vector<std::string>> grams_cache;
  auto grams_of = [&](const std::string& id,
                      const std::string& name) -> const std::vector<std::string>& {
    auto it = grams_cache.find(id);
    if (it == grams_cache.end()) {
      it = grams_cache.emplace(id, text::Trigrams(domain::StripHonorifics(name))).first;
    }
    return it->second;
  };
  for (const auto& [pair, found] : pairs) {
    const Info* a = listed(pair.first);
    const Info* b = listed(pair.second);
    if (a == nullptr || b == nullptr) continue;
    std::set<int> reasons = found;
    const double sim =
        text::TrigramSetSimilarity(grams_of(pair.first, a->name), grams_of(pair.second, b->name));
    if (sim >= options_.duplicate_name_threshold) reasons.insert(v1::DUPLICATE_REASON_SIMILAR_NAME);
    if (reasons.empty()) continue;
    const bool contact = reasons.count(v1::DUPLICATE_REASON_SAME_PHONE) > 0 ||
                         reasons.count(v1::DUPLICATE_REASON_SAME_EMAIL) > 0;
    const double score = contact ? 1.0 : sim;
    if (score < min_score) continue;
    Scored s{score, pair.first, pair.second, {}};
    for (int r : reasons) s.reasons.push_back(static_cast<v1::DuplicateReason>(r));
    scored.push_back(std::move(s));
  }
  std::sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.lo != b.lo) return a.lo < b.lo;
    return a.hi < b.hi;
  });
  if (after) {
    const auto& [score, lo, hi] = *after;
    scored.erase(std::remove_if(scored.begin(), scored.end(),
                                [score = score, &lo = lo, &hi = hi](const Scored& s) {
                                  if (s.score != score) return s.score > score;
                                  return std::tie(s.lo, s.hi) <= std::tie(lo, hi);
                                }),
                 scored.end());
  }
  DuplicatePage page;
  // At most page_size pairs, and only as many as fit the response budget (two customers each).
  const size_t keep = FitPage(std::min(scored.size(), static_cast<size_t>(*page_size)),
                              options.max_page_bytes, [&](size_t i) {
                                return PageItemBytes(info[scored[i].lo].data.size()) +
                                       PageItemBytes(info[scored[i].hi].data.size()) + 32;
                              });
  if (scored.size() > keep) {
    scored.resize(keep);
    page.next_page_token = domain::EncodeKeysetToken(
        "dups", tenant, binding,
        {DoubleBits(scored.back().score), scored.back().lo, scored.back().hi});
  }
  for (auto& s : scored) {
    const Info& a = info[s.lo];
    const Info& b = info[s.hi];
    const bool a_first = std::tie(a.create_micros, s.lo) <= std::tie(b.create_micros, s.hi);
    DuplicatePairInfo p;
    p.first_id = a_first ? s.lo : s.hi;
    p.second_id = a_first ? s.hi : s.lo;
    p.first_data = a_first ? a.data : b.data;
    p.second_data = a_first ? b.data : a.data;
    p.score = s.score;
    p.reasons = std::move(s.reasons);
    page.pairs.push_back(std::move(p));
  }
  return page;
}

}  // namespace kelola::customer::store
