// The in-memory search index against today's SQL search (store/customer_search.cc on SQLite):
// the same synthetic customers written to both, the same queries, the same hits in the same
// order with the same scores and matches -- also after renames, archives, merges and
// deletions, with a filter, and with a candidate budget small enough to bind.

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "customer-svc/domain/search_index.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/migrations.h"
#include "gtest/gtest.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/phone/phone_normalizer.h"
#include "libs/testing/temp_dir.h"
#include "libs/text/collation.h"
#include "libs/text/normalize.h"

namespace kelola::customer {
namespace {

constexpr char kTenant[] = "t1";
constexpr int kBudget = 12;  // candidates per source: small, so that budgets bind

const char* const kGiven[] = {"Budi",  "Siti",  "Agus",   "Dewi", "Rina",    "Andi",
                              "Putri", "Wahyu", "Débora", "Nur",  "Bambang", "Budiman"};
const char* const kFamily[] = {"Santoso", "Santosa", "Wijaya",  "Saputra",     "Hidayat",
                               "Kusuma",  "Nugroho", "Siregar", "Simanjuntak", "Salim"};
const char* const kThai[] = {"สมชาย", "สมศรี", "ใจดี", "ศรีสุข", "สุขใจ", "ณัฐวุฒิ", "เกษม", "วงศ์ไทย"};
const char* const kCompanies[] = {"", "", "", "Toko Maju Jaya", "CV Sumber Rejeki", "Warung Budi"};
const char* const kCategories[] = {"", "vip", "retail"};

uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

template <typename T, size_t N>
const char* Pick(T (&options)[N], uint64_t h) {
  return options[h % N];
}

// Customer `i` of the data set, `generation` varying names on rewrite.
v1::Customer Synthetic(int i, int generation = 0) {
  static const phone::PhoneNormalizer* const kPhones = new phone::PhoneNormalizer();
  const uint64_t h = Mix(static_cast<uint64_t>(i) * 31 + static_cast<uint64_t>(generation));
  v1::Customer c;
  // Ids out of creation order: postings must follow ids, not insertion.
  c.set_customer_id(absl::StrCat("c", Mix(static_cast<uint64_t>(i)) % 100000, "-", i));
  const bool thai = h % 5 == 0;
  if (thai) {
    c.set_display_name(
        absl::StrCat(Pick(kThai, h >> 3), Pick(kThai, h >> 9), " ", Pick(kThai, h >> 15)));
  } else {
    c.set_display_name(absl::StrCat(Pick(kGiven, h >> 3), " ", Pick(kFamily, h >> 9)));
  }
  c.set_company_name(Pick(kCompanies, h >> 21));
  if (h % 3 != 0)
    c.set_email(absl::StrCat(absl::AsciiStrToLower(Pick(kGiven, h >> 3)), i, "@mail.id"));
  c.set_category_id(Pick(kCategories, h >> 27));
  c.set_state(h % 11 == 0 ? v1::CUSTOMER_STATE_ARCHIVED : v1::CUSTOMER_STATE_ACTIVE);
  const std::string region = thai ? "TH" : "ID";
  std::vector<std::string> typed = {thai ? absl::StrCat("08", 1 + h % 9, " ", 1000000 + i * 7)
                                         : absl::StrCat("0812-", 10000000 + (i * 7919) % 90000000)};
  if (h % 7 == 0) typed.push_back(absl::StrCat("+62 21 555 ", 1000 + i % 50));
  for (size_t p = 0; p < typed.size(); ++p) {
    auto normalized = kPhones->Normalize(typed[p], region);
    EXPECT_TRUE(normalized.ok()) << typed[p] << ": " << normalized.status();
    if (!normalized.ok()) continue;
    v1::Phone* out = p == 0 ? c.mutable_phone() : c.add_additional_phones();
    out->set_raw(typed[p]);
    out->set_e164(normalized->e164);
  }
  return c;
}

// `s` without its last `n` code points (a name still being typed).
std::string WithoutLastChars(std::string s, int n) {
  for (int i = 0; i < n; ++i) {
    while (!s.empty()) {  // continuation bytes, then the code point's first byte
      const unsigned char b = static_cast<unsigned char>(s.back());
      s.pop_back();
      if ((b & 0xC0) != 0x80) break;
    }
  }
  return s;
}

class SearchIndexDifferentialTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("kelola-search-diff");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    auto db = db::Open(absl::StrCat("sqlite:", dir_->path(), "/customers.db"));
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(db::ApplyMigrations(*db_, Migrations()).ok());
    store::CustomerQueryOptions options;
    options.search_candidates = kBudget;
    sql_ = std::make_unique<store::CustomerQuery>(clock_, options);
  }

  // Writes the customer row, its phones and its SQL index entries; mirrors it in memory.
  void Write(const v1::Customer& c) {
    absl::Status s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto n = tx.Execute(
          "INSERT INTO customers (tenant_id, customer_id, state, display_name, name_folded, "
          "name_sort_key, category_id, create_time_micros, update_time_micros, version, data) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 1, ?) ON CONFLICT (tenant_id, customer_id) DO "
          "UPDATE SET state = excluded.state, display_name = excluded.display_name, "
          "name_folded = excluded.name_folded, name_sort_key = excluded.name_sort_key, "
          "category_id = excluded.category_id, data = excluded.data",
          {kTenant, c.customer_id(), static_cast<int64_t>(c.state()), c.display_name(),
           text::FoldForMatch(c.display_name()), text::CollationKey(c.display_name(), "id"),
           c.category_id().empty() ? db::Null() : db::Value(c.category_id()),
           db::Bytes{c.SerializeAsString()}});
      if (!n.ok()) return n.status();
      return store::IndexCustomer(tx, kTenant, c.customer_id(), &c);
    });
    ASSERT_TRUE(s.ok()) << s;
    categories_[c.customer_id()] = c.category_id();
    if (auto doc = domain::SearchDocOf(c)) {
      memory_->Upsert(*doc);
    } else {
      memory_->Remove(c.customer_id());
    }
  }

  void Delete(const std::string& id) {
    absl::Status s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto n = tx.Execute("DELETE FROM customers WHERE tenant_id = ? AND customer_id = ?",
                          {kTenant, id});
      if (!n.ok()) return n.status();
      return store::RemoveFromIndex(tx, kTenant, id);
    });
    ASSERT_TRUE(s.ok()) << s;
    memory_->Remove(id);
  }

  // Every hit of the SQL search, page after page.
  std::vector<store::SearchHit> SqlHits(store::SearchOptions options) {
    std::vector<store::SearchHit> hits;
    options.page_size = 100;
    for (int guard = 0; guard < 50; ++guard) {
      absl::StatusOr<store::SearchPage> page;
      absl::Status s = db_->InTransaction(
          [&](db::Transaction& tx) {
            page = sql_->Search(tx, kTenant, options);
            return absl::OkStatus();
          },
          {.read_only = true});
      EXPECT_TRUE(s.ok() && page.ok()) << options.query << ": " << s << " " << page.status();
      if (!s.ok() || !page.ok()) break;
      for (auto& h : page->hits) hits.push_back(std::move(h));
      if (page->next_page_token.empty()) break;
      options.page_token = page->next_page_token;
    }
    return hits;
  }

  std::vector<domain::SearchIndexHit> MemoryHits(const store::SearchOptions& options,
                                                 const std::string& category) {
    domain::SearchIndexQuery query;
    auto trimmed = text::TrimmedName(options.query, 200);
    EXPECT_TRUE(trimmed.ok());
    query.query = trimmed.value_or("");
    query.phone_region = options.phone_region;
    if (options.show_archived) query.states.push_back(v1::CUSTOMER_STATE_ARCHIVED);
    return memory_
        ->Search(query,
                 [&](std::string_view id) {
                   return category.empty() || categories_[std::string(id)] == category;
                 })
        .hits;
  }

  // Runs `q` both ways and compares every hit; returns the number of hits.
  size_t Compare(const std::string& q, const std::string& region = "ID", bool archived = false,
                 const std::string& category = "") {
    SCOPED_TRACE(absl::StrCat("query '", q, "' region ", region, archived ? " archived" : "",
                              category.empty() ? "" : " category " + category));
    store::SearchOptions options;
    options.query = q;
    options.phone_region = region;
    options.show_archived = archived;
    if (!category.empty()) options.filter = absl::StrCat("category_id = \"", category, "\"");
    const std::vector<store::SearchHit> sql = SqlHits(options);
    const std::vector<domain::SearchIndexHit> mem = MemoryHits(options, category);
    EXPECT_EQ(sql.size(), mem.size());
    for (size_t i = 0; i < std::min(sql.size(), mem.size()); ++i) {
      SCOPED_TRACE(absl::StrCat("hit ", i));
      EXPECT_EQ(sql[i].customer_id, mem[i].customer_id);
      EXPECT_EQ(sql[i].score, mem[i].score);
      EXPECT_EQ(sql[i].matches.size(), mem[i].matches.size());
      if (sql[i].matches.size() != mem[i].matches.size()) continue;
      for (size_t m = 0; m < sql[i].matches.size(); ++m) {
        EXPECT_EQ(sql[i].matches[m].field, mem[i].matches[m].field);
        EXPECT_EQ(sql[i].matches[m].exact, mem[i].matches[m].exact);
        EXPECT_EQ(sql[i].matches[m].score, mem[i].matches[m].score);
        if (!mem[i].matches[m].value.empty()) {
          EXPECT_EQ(sql[i].matches[m].value, mem[i].matches[m].value);
        }
      }
    }
    return sql.size();
  }

  // Queries a cashier types, taken from the data set.
  std::vector<std::pair<std::string, std::string>> Queries(int customers) {
    std::vector<std::pair<std::string, std::string>> out = {{"b", "ID"},
                                                            {"bu", "ID"},
                                                            {"bud", "ID"},
                                                            {"budi", "ID"},
                                                            {"budi santoso", "ID"},
                                                            {"budi santosa", "ID"},
                                                            {"santso", "ID"},
                                                            {"simanjuntek", "ID"},
                                                            {"debora", "ID"},
                                                            {"DÉBORA salim", "ID"},
                                                            {"toko maju", "ID"},
                                                            {"warung budi", "ID"},
                                                            {"nur", "ID"},
                                                            {"zzzz", "ID"},
                                                            {"0812", "ID"},
                                                            {"0812-1000", "ID"},
                                                            {"021 555", "ID"},
                                                            {"555 1010", "ID"},
                                                            {"+62 812", "ID"},
                                                            {"08", "ID"},
                                                            {"budi1", "ID"},
                                                            {"siti@", "ID"},
                                                            {"@mail", "ID"},
                                                            {"สม", "TH"},
                                                            {"ชาย", "TH"},
                                                            {"สุข", "TH"},
                                                            {"ใจดี สุขใจ", "TH"},
                                                            {"081", "TH"},
                                                            {"+66 81", "TH"},
                                                            {"วงศ์", "TH"}};
    for (int i = 0; i < customers; i += customers / 25) {
      const v1::Customer c = Synthetic(i);
      out.emplace_back(c.display_name(), "ID");
      out.emplace_back(WithoutLastChars(c.display_name(), 2), "ID");
      if (!c.email().empty()) out.emplace_back(c.email().substr(0, 6), "ID");
      if (c.has_phone()) out.emplace_back(c.phone().e164().substr(6, 5), "ID");
    }
    return out;
  }

  void CompareAll(int customers) {
    size_t hits = 0;
    for (const auto& [q, region] : Queries(customers)) {
      hits += Compare(q, region);
      hits += Compare(q, region, /*archived=*/true);
      hits += Compare(q, region, /*archived=*/true, "vip");
    }
    EXPECT_GT(hits, 1000u);  // the queries do find customers
  }

  FakeClock clock_;
  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<db::Database> db_;
  std::unique_ptr<store::CustomerQuery> sql_;
  static std::unique_ptr<domain::SearchIndex> NewIndex() {
    return std::make_unique<domain::SearchIndex>(
        domain::SearchIndexOptions{.name_similarity_threshold = 0.3, .search_candidates = kBudget});
  }
  std::unique_ptr<domain::SearchIndex> memory_ = NewIndex();
  absl::flat_hash_map<std::string, std::string> categories_;
};

TEST_F(SearchIndexDifferentialTest, SameHitsInTheSameOrder) {
  constexpr int kCustomers = 1200;
  for (int i = 0; i < kCustomers; ++i) Write(Synthetic(i));
  CompareAll(kCustomers);
}

TEST_F(SearchIndexDifferentialTest, SameHitsAfterLoadUpdatesAndRemovals) {
  constexpr int kCustomers = 1200;
  // Written to SQL one by one, loaded into memory at once (as at start-up).
  std::vector<domain::SearchDoc> docs;
  for (int i = 0; i < kCustomers; ++i) {
    Write(Synthetic(i));
    if (auto doc = domain::SearchDocOf(Synthetic(i))) docs.push_back(*doc);
  }
  memory_ = NewIndex();
  memory_->Load(docs);
  for (int i = 0; i < kCustomers; i += 3) {
    v1::Customer c = Synthetic(i, /*generation=*/1);  // renamed, new company, phones, state
    c.set_customer_id(Synthetic(i).customer_id());
    if (i % 9 == 0) c.set_state(v1::CUSTOMER_STATE_MERGED);
    if (i % 15 == 0) c.set_state(v1::CUSTOMER_STATE_ERASED);
    Write(c);
  }
  for (int i = 1; i < kCustomers; i += 10) Delete(Synthetic(i).customer_id());
  CompareAll(kCustomers);
}

}  // namespace
}  // namespace kelola::customer
