#pragma once

// Internal to customer-svc's query side: the SQL search tables (customer_query_docs,
// search_terms, search_vocab, search_vocab_grams, search_phones, search_emails). A
// customer's index document (customer_query_docs) is what the search scores and what its
// entries in the other tables are derived from; IndexCustomer / RemoveFromIndex
// (customer_query.h) keep both in step.

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"

namespace kelola::customer::store::search_tables {

// Migration 21: the search tables.
db::Migration SearchTablesMigration();

// The posting key of a whole folded field: '=' never occurs inside a word.
std::string WholeKey(absl::string_view words);

// Whether a search_terms term is a WholeKey (and so has no vocabulary entry).
bool IsWholeKey(absl::string_view term);

// One customer's index document, as stored in customer_query_docs.
struct Doc {
  int consent_state = 0;
  std::string name_words;     // folded words of display_name, in order, space-separated
  std::string company_words;  // the same for company_name
  std::string phones;         // "position,e164,national" joined by ';'
  std::string email;          // folded

  // The search_terms terms of the document: its words and the WholeKey of each field.
  std::set<std::string> Terms() const;
};

// One phone of Doc::phones.
struct DocPhone {
  int position = 0;
  std::string e164;
  std::string national;
};

// The entries of Doc::phones; malformed entries are skipped.
std::vector<DocPhone> ParsePhones(absl::string_view phones);

// The stored document of a customer, or nullopt.
absl::StatusOr<std::optional<Doc>> ReadDoc(db::Transaction& tx, const std::string& tenant,
                                           const std::string& id);

}  // namespace kelola::customer::store::search_tables
