#include "customer-svc/store/search_tables.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "customer-svc/domain/list_page_token.h"
#include "customer-svc/domain/search_text.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/query_sql.h"
#include "kelola/customer/v1/customer.pb.h"
#include "libs/phone/phone_normalizer.h"
#include "libs/text/normalize.h"
#include "libs/text/trigram.h"

namespace kelola::customer::store {
namespace search_tables {
namespace {

using db::Value;
using query_sql::IsPg;
using query_sql::Sv;

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

std::string JoinWords(absl::string_view text) {
  return absl::StrJoin(domain::SearchWords(text::FoldForMatch(Sv(text))), " ");
}

int64_t TermLockKey(absl::string_view tenant, absl::string_view term) {
  return static_cast<int64_t>(domain::StableHash(absl::StrCat(tenant, "\x1f", term)));
}

// The index document of a customer as written.
Doc DocOf(const v1::Customer& customer) {
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
  return doc;
}

// Takes the PostgreSQL advisory locks on the vocabulary terms a customer gains (`added`,
// shared) and loses (`removed`, exclusive). Nothing on SQLite (its writers are serial).
absl::Status LockTerms(db::Transaction& tx, const std::string& tenant,
                       const std::vector<std::string>& added,
                       const std::vector<std::string>& removed) {
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
  return absl::OkStatus();
}

// Deletes the postings of `removed` for customer `id`, and the vocabulary entries (with
// their trigrams) of the terms no customer holds any more.
absl::Status RemoveTerms(db::Transaction& tx, const std::string& tenant, const std::string& id,
                         const std::vector<std::string>& removed) {
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
  return absl::OkStatus();
}

// Adds the postings of `added` (not empty) for customer `id`, the vocabulary entries of the
// words new to the tenant and their trigrams.
absl::Status AddTerms(db::Transaction& tx, const std::string& tenant, const std::string& id,
                      const std::vector<std::string>& added) {
  // Additions in few statements (multi-row VALUES; RETURNING tells which words are new
  // to the vocabulary, whose trigrams are then added).
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
  if (vocab_rows.empty()) return absl::OkStatus();
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
  if (gram_rows.empty()) return absl::OkStatus();
  return tx.ExecuteDeferred(
      absl::StrCat("INSERT INTO search_vocab_grams (tenant_id, gram, term) VALUES ",
                   absl::StrJoin(gram_rows, ", "), " ON CONFLICT DO NOTHING"),
      gram_params);
}

// Replaces customer `id`'s search_phones rows of `old_phones` by those of `new_phones`
// (Doc::phones; the caller checks that they differ).
absl::Status ReplacePhones(db::Transaction& tx, const std::string& tenant, const std::string& id,
                           const std::string& old_phones, const std::string& new_phones) {
  // Rows are deleted by their keys (from the old document), never by a scan.
  for (const DocPhone& p : ParsePhones(old_phones)) {
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
  for (const DocPhone& p : ParsePhones(new_phones)) {
    for (size_t i = 0; i + phone::kMinSearchKeyDigits <= p.national.size(); ++i) {
      rows.push_back("(?, ?, ?, ?, ?)");
      params.insert(params.end(), {tenant, static_cast<int64_t>(i == 0), p.national.substr(i), id,
                                   static_cast<int64_t>(p.position)});
    }
  }
  if (rows.empty()) return absl::OkStatus();
  return tx.ExecuteDeferred(
      absl::StrCat("INSERT INTO search_phones (tenant_id, whole, suffix, customer_id, "
                   "position) VALUES ",
                   absl::StrJoin(rows, ", "), " ON CONFLICT DO NOTHING"),
      params);
}

// Replaces customer `id`'s search_emails row of `old_email` by one of `new_email` (either
// may be empty: no row; the caller checks that they differ).
absl::Status ReplaceEmail(db::Transaction& tx, const std::string& tenant, const std::string& id,
                          const std::string& old_email, const std::string& new_email) {
  if (!old_email.empty()) {
    absl::Status n = tx.ExecuteDeferred(
        "DELETE FROM search_emails WHERE tenant_id = ? AND email = ? AND customer_id = ?",
        {tenant, old_email, id});
    if (!n.ok()) return n;
  }
  if (!new_email.empty()) {
    absl::Status n = tx.ExecuteDeferred(
        "INSERT INTO search_emails (tenant_id, email, customer_id) VALUES (?, ?, ?)",
        {tenant, new_email, id});
    if (!n.ok()) return n;
  }
  return absl::OkStatus();
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
  if (absl::Status s = LockTerms(tx, tenant, added, removed); !s.ok()) return s;
  if (absl::Status s = RemoveTerms(tx, tenant, id, removed); !s.ok()) return s;
  if (!added.empty()) {
    if (absl::Status s = AddTerms(tx, tenant, id, added); !s.ok()) return s;
  }
  if (old_doc.phones != new_doc.phones) {
    absl::Status s = ReplacePhones(tx, tenant, id, old_doc.phones, new_doc.phones);
    if (!s.ok()) return s;
  }
  if (old_doc.email != new_doc.email) {
    absl::Status s = ReplaceEmail(tx, tenant, id, old_doc.email, new_doc.email);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace

db::Migration SearchTablesMigration() {
  return {21, "customer search index", SearchMigrationSql(false), SearchMigrationSql(true)};
}

std::string WholeKey(absl::string_view words) { return absl::StrCat("=", words); }

bool IsWholeKey(absl::string_view term) { return !term.empty() && term[0] == '='; }

std::set<std::string> Doc::Terms() const {
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

}  // namespace search_tables

namespace {

using query_sql::kNoActivityAscKey;
using query_sql::kNoActivityDescKey;
using search_tables::ApplyDoc;
using search_tables::Doc;
using search_tables::DocOf;
using search_tables::ReadDoc;

using query_sql::kStateErased;
using query_sql::kStateMerged;

}  // namespace

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

  const Doc doc = DocOf(customer);
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

}  // namespace kelola::customer::store
