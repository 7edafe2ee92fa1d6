// The search index kept current write by write (Upsert and Remove, as customer-svc applies
// its events) against an index loaded afresh from the same customers (as at a tenant's first
// search): the same queries give the same hits in the same order with the same scores and
// matches -- also after renames, archives, merges and deletions, with a filter, and with a
// candidate budget small enough to bind.

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "customer-svc/domain/search_index.h"
#include "gtest/gtest.h"
#include "libs/phone/phone_normalizer.h"
#include "libs/text/normalize.h"

namespace kelola::customer {
namespace {

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
  static std::unique_ptr<domain::SearchIndex> NewIndex() {
    return std::make_unique<domain::SearchIndex>(
        domain::SearchIndexOptions{.name_similarity_threshold = 0.3, .search_candidates = kBudget});
  }

  // Writes the customer to the index kept write by write, and to the customers of record.
  void Write(const v1::Customer& c) {
    if (auto doc = domain::SearchDocOf(c)) {
      kept_->Upsert(*doc);
    } else {
      kept_->Remove(c.customer_id());
    }
    customers_[c.customer_id()] = c;
  }

  void Delete(const std::string& id) {
    kept_->Remove(id);
    customers_.erase(id);
  }

  // An index loaded at once from the customers of record, in an order unlike the writes'.
  std::unique_ptr<domain::SearchIndex> LoadedAfresh() const {
    std::vector<domain::SearchDoc> docs;
    for (const auto& [id, c] : customers_) {
      if (auto doc = domain::SearchDocOf(c)) docs.push_back(*std::move(doc));
    }
    std::reverse(docs.begin(), docs.end());
    auto index = NewIndex();
    index->Load(docs);
    return index;
  }

  // All hits, or with `page_size` the pages one after another (each after the last hit of the
  // one before, as a search's page token asks).
  std::vector<domain::SearchIndexHit> Hits(const domain::SearchIndex& index, const std::string& q,
                                           const std::string& region, bool archived,
                                           const std::string& category,
                                           size_t page_size = 0) const {
    domain::SearchIndexQuery query;
    auto trimmed = text::TrimmedName(q, 200);
    EXPECT_TRUE(trimmed.ok());
    query.query = trimmed.value_or("");
    query.phone_region = region;
    if (archived) query.states.push_back(v1::CUSTOMER_STATE_ARCHIVED);
    query.limit = page_size;
    auto in_category = [&](std::string_view id) {
      auto it = customers_.find(std::string(id));
      return it != customers_.end() && it->second.category_id() == category;
    };
    std::vector<domain::SearchIndexHit> hits;
    bool more_promised = false;
    for (int pages = 1;; ++pages) {
      if (pages > 1000) {
        ADD_FAILURE() << "the pages do not end";
        break;
      }
      domain::SearchIndexResult result =
          category.empty() ? index.Search(query) : index.Search(query, in_category);
      if (more_promised) {
        EXPECT_FALSE(result.hits.empty()) << "`more` with nothing after";
      }
      if (page_size > 0) {
        EXPECT_LE(result.hits.size(), page_size);
      }
      if (result.more) {
        EXPECT_EQ(result.hits.size(), page_size) << "`more` on a short page";
      }
      for (auto& h : result.hits) hits.push_back(std::move(h));
      if (!result.more) break;
      more_promised = true;
      query.after.emplace(hits.back().score, hits.back().customer_id);
    }
    return hits;
  }

  // Runs `q` on both indexes and compares every hit; returns the number of hits.
  size_t Compare(const domain::SearchIndex& fresh, const std::string& q,
                 const std::string& region = "ID", bool archived = false,
                 const std::string& category = "") {
    SCOPED_TRACE(absl::StrCat("query '", q, "' region ", region, archived ? " archived" : "",
                              category.empty() ? "" : " category " + category));
    const std::vector<domain::SearchIndexHit> want = Hits(fresh, q, region, archived, category);
    const std::vector<domain::SearchIndexHit> got = Hits(*kept_, q, region, archived, category);
    ExpectSameHits(want, got, "kept");
    // Paged by the index itself (a limit and the last hit), the same hits in the same order.
    ExpectSameHits(got, Hits(*kept_, q, region, archived, category, /*page_size=*/7), "paged");
    return want.size();
  }

  static void ExpectSameHits(const std::vector<domain::SearchIndexHit>& want,
                             const std::vector<domain::SearchIndexHit>& got,
                             const std::string& what) {
    SCOPED_TRACE(what);
    EXPECT_EQ(want.size(), got.size());
    for (size_t i = 0; i < std::min(want.size(), got.size()); ++i) {
      SCOPED_TRACE(absl::StrCat("hit ", i));
      EXPECT_EQ(want[i].customer_id, got[i].customer_id);
      EXPECT_EQ(want[i].score, got[i].score);
      EXPECT_EQ(want[i].matches.size(), got[i].matches.size());
      if (want[i].matches.size() != got[i].matches.size()) continue;
      for (size_t m = 0; m < want[i].matches.size(); ++m) {
        EXPECT_EQ(want[i].matches[m].field, got[i].matches[m].field);
        EXPECT_EQ(want[i].matches[m].exact, got[i].matches[m].exact);
        EXPECT_EQ(want[i].matches[m].score, got[i].matches[m].score);
        EXPECT_EQ(want[i].matches[m].value, got[i].matches[m].value);
      }
    }
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
    const std::unique_ptr<domain::SearchIndex> fresh = LoadedAfresh();
    EXPECT_EQ(fresh->size(), kept_->size());
    size_t hits = 0;
    for (const auto& [q, region] : Queries(customers)) {
      hits += Compare(*fresh, q, region);
      hits += Compare(*fresh, q, region, /*archived=*/true);
      hits += Compare(*fresh, q, region, /*archived=*/true, "vip");
    }
    EXPECT_GT(hits, 1000u);  // the queries do find customers
  }

  std::unique_ptr<domain::SearchIndex> kept_ = NewIndex();
  std::map<std::string, v1::Customer> customers_;
};

TEST_F(SearchIndexDifferentialTest, SameHitsInTheSameOrder) {
  constexpr int kCustomers = 1200;
  for (int i = 0; i < kCustomers; ++i) Write(Synthetic(i));
  CompareAll(kCustomers);
}

TEST_F(SearchIndexDifferentialTest, SameHitsAfterLoadUpdatesAndRemovals) {
  constexpr int kCustomers = 1200;
  // Loaded at once (as at a tenant's first search), then changed write by write.
  for (int i = 0; i < kCustomers; ++i) customers_[Synthetic(i).customer_id()] = Synthetic(i);
  kept_ = LoadedAfresh();
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
