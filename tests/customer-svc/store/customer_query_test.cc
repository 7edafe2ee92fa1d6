// The query side of customer-svc (C7 customer side, C11-C13) against real databases: a
// SQLite file and a fresh PostgreSQL database per test, with the same fixture and the same
// expectations. Fixture customers are written straight into the migration-3 tables.

#include "customer-svc/store/customer_query.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "customer-svc/domain/list_filter.h"
#include "customer-svc/store/ledger_stats_feed.h"
#include "customer-svc/store/migrations.h"
#include "customer-svc/store/planner_statistics.h"
#include "customer-svc/store/search_index_cache.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer.pb.h"
#include "kelola/customer/v1/events.pb.h"
#include "kelola/ledger/v1/events.pb.h"
#include "kelola/type/v1/event.pb.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/errors/errors.h"
#include "libs/events/event_consumer.h"
#include "libs/events/outbox.h"
#include "libs/events/outbox_sequencer.h"
#include "libs/phone/phone_normalizer.h"
#include "libs/testing/postgres_environment.h"
#include "libs/testing/temp_dir.h"
#include "libs/text/collation.h"
#include "libs/text/normalize.h"

// Fixtures are aggregates whose trailing members keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace kelola::customer::store {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAre;

std::string_view Sv(const std::string& s) { return s; }

const absl::Time kNow = absl::FromUnixSeconds(1767225600);  // 2026-01-01T00:00:00Z

struct Fixture {
  std::string id;
  std::string name;
  std::vector<std::string> phones;  // as typed
  std::string email;
  int state = 1;
  std::string category;
  int days_ago = 100;  // created
  std::string company;
  int consent = 0;
  std::string locale = "id";
  std::string region = "ID";
};

// A database of `driver` holding the migrations up to `upto` (all by default), with at
// most `pool_size` connections.
std::unique_ptr<db::Database> OpenDatabase(const std::string& driver, testing::TempDir& dir,
                                           const std::string& name, int upto = 1 << 30,
                                           int pool_size = 8) {
  std::string url;
  if (driver == "sqlite") {
    url = absl::StrCat("sqlite:", dir.path(), "/", name, ".db");
  } else {
    auto created = testing::SharedPostgres()->CreateUniqueDatabase("query");
    EXPECT_TRUE(created.ok()) << created.status();
    if (!created.ok()) return nullptr;
    url = *created;
  }
  db::DatabaseOptions options;
  options.sqlite_synchronous = "NORMAL";
  options.pool_size = pool_size;
  auto db = db::Open(url, options);
  EXPECT_TRUE(db.ok()) << db.status();
  if (!db.ok()) return nullptr;
  std::vector<db::Migration> migrations;
  for (db::Migration& m : Migrations()) {
    if (m.version <= upto) migrations.push_back(std::move(m));
  }
  absl::Status applied = db::ApplyMigrations(**db, migrations);
  EXPECT_TRUE(applied.ok()) << applied;
  return *std::move(db);
}

// What every write of a customer does for the query side: its stats row and a customer event
// in the outbox (which the indexes in memory follow).
absl::Status Reindex(db::Transaction& tx, const std::string& tenant, const std::string& id) {
  static const events::Outbox* const kOutbox = new events::Outbox(RealClock::Get(), nullptr);
  if (absl::Status s = KeepStatsRow(tx, tenant, id); !s.ok()) return s;
  v1::CustomerArchived payload;  // any customer event: the index re-reads the row
  payload.set_customer_id(id);
  events::NewEvent event;
  event.tenant_id = tenant;
  event.aggregate_type = "customer";
  event.aggregate_id = id;
  event.aggregate_version = 1;
  event.payload = &payload;
  return kOutbox->Append(tx, event);
}

absl::Status Insert(db::Transaction& tx, const std::string& tenant, const Fixture& f) {
  static const phone::PhoneNormalizer* const kPhones = new phone::PhoneNormalizer();
  v1::Customer c;
  c.set_customer_id(f.id);
  c.set_display_name(f.name);
  c.set_email(f.email);
  c.set_company_name(f.company);
  c.set_category_id(f.category);
  c.set_state(static_cast<v1::CustomerState>(f.state));
  c.mutable_marketing_consent()->set_state(static_cast<v1::MarketingConsentState>(f.consent));
  const int64_t created = absl::ToUnixMicros(kNow - absl::Hours(24 * f.days_ago));
  std::vector<phone::NormalizedPhone> normalized;
  for (size_t i = 0; i < f.phones.size(); ++i) {
    auto p = kPhones->Normalize(f.phones[i], f.region);
    if (!p.ok()) return p.status();
    normalized.push_back(*p);
    v1::Phone* out = i == 0 ? c.mutable_phone() : c.add_additional_phones();
    out->set_raw(f.phones[i]);
    out->set_e164(p->e164);
  }
  auto n = tx.Execute(
      "INSERT INTO customers (tenant_id, customer_id, state, display_name, name_folded, "
      "name_sort_key, email_normalized, email_dedupe, category_id, consent_granted, "
      "consent_state, birthday_month, birthday_day, merged_into, create_time_micros, "
      "update_time_micros, version, data) VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, NULL, "
      "NULL, NULL, ?, ?, 1, ?)",
      {tenant, f.id, static_cast<int64_t>(f.state), f.name, text::FoldForMatch(Sv(f.name)),
       text::CollationKey(Sv(f.name), Sv(f.locale)),
       f.email.empty() ? db::Null() : db::Value(f.email),
       f.category.empty() ? db::Null() : db::Value(f.category),
       static_cast<int64_t>(f.consent == 1), static_cast<int64_t>(f.consent), created, created,
       db::Bytes{c.SerializeAsString()}});
  if (!n.ok()) return n.status();
  for (size_t i = 0; i < normalized.size(); ++i) {
    n = tx.Execute(
        "INSERT INTO customer_phones (tenant_id, customer_id, position, e164, national_number, "
        "e164_dedupe) VALUES (?, ?, ?, ?, ?, NULL)",
        {tenant, f.id, static_cast<int64_t>(i), normalized[i].e164,
         normalized[i].national_significant_number});
    if (!n.ok()) return n.status();
  }
  return Reindex(tx, tenant, f.id);
}

// Renames an active customer, its phones and email dropped from its data (the caller
// reindexes).
absl::Status Rename(db::Transaction& tx, const std::string& tenant, const std::string& id,
                    const std::string& name) {
  v1::Customer c;
  c.set_customer_id(id);
  c.set_display_name(name);
  c.set_state(v1::CUSTOMER_STATE_ACTIVE);
  return tx
      .Execute(
          "UPDATE customers SET display_name = ?, name_folded = ?, data = ? WHERE tenant_id = ? "
          "AND customer_id = ?",
          {name, text::FoldForMatch(Sv(name)), db::Bytes{c.SerializeAsString()}, tenant, id})
      .status();
}

// Moves a customer to `state` (column and data), as archive, restore and erase do.
absl::Status SetState(db::Transaction& tx, const std::string& tenant, const std::string& id,
                      v1::CustomerState state) {
  auto rows =
      tx.Query("SELECT data FROM customers WHERE tenant_id = ? AND customer_id = ?", {tenant, id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return absl::NotFoundError(id);
  v1::Customer c;
  if (!c.ParseFromString((*rows)[0].GetBytes(0))) return absl::InternalError("corrupt data");
  c.set_state(state);
  auto n =
      tx.Execute("UPDATE customers SET state = ?, data = ? WHERE tenant_id = ? AND customer_id = ?",
                 {static_cast<int64_t>(state), db::Bytes{c.SerializeAsString()}, tenant, id});
  if (!n.ok()) return n.status();
  return Reindex(tx, tenant, id);
}

CustomerStatsRecord Stats(int64_t spent, int64_t count, int64_t balance,
                          std::optional<int> activity_days_ago, int64_t version = 1) {
  CustomerStatsRecord s;
  s.total_spent_minor = spent;
  s.transaction_count = count;
  s.balance_minor = balance;
  if (activity_days_ago) {
    s.last_activity_time = kNow - absl::Hours(24 * *activity_days_ago);
    s.last_purchase_time = s.last_activity_time;
    s.first_purchase_time = kNow - absl::Hours(24 * 400);
  }
  s.ledger_version = version;
  return s;
}

// The shared fixture of tenant "t1" (Indonesia) plus a few for "t2" and a Thai tenant.
std::vector<Fixture> SearchFixture() {
  return {
      {"c01", "Budi Santoso", {"0812-3456-789"}, "budi.santoso@gmail.com", 1, "retail", 300},
      {"c02",
       "Siti Nurhaliza",
       {"0813 9876 5432", "021 555 0123"},
       "siti@yahoo.co.id",
       1,
       "vip",
       200},
      {"c03", "Débora Simanjuntak", {"0857-1111-2222"}, "", 1, "wholesale", 150},
      {"c04", "Agus Salim", {"0811 2222 3333"}, "agus@example.id", 2, "retail", 120},
      {"c05", "Budiman Hartono", {"0878 4444 5555"}, "", 1, "", 90, "Toko Maju Jaya"},
      {"c06", "Bu Ani Wijaya", {"0819 6666 7777"}, "", 4, "", 80},
      {"c07", "Rina Kusuma", {"0815 8888 9999"}, "", 5, "", 70},
      {"c08", "Budi Santosa", {"0812 0000 1111"}, "", 1, "", 60},
  };
}

std::vector<Fixture> ThaiFixture() {
  Fixture a{"t01", "สมชาย ใจดี", {"081 234 5678"}, "", 1, "", 50};
  a.locale = "th";
  a.region = "TH";
  Fixture b{"t02", "ณัฐวุฒิ ศรีสุข", {"089 765 4321"}, "", 1, "", 40};
  b.locale = "th";
  b.region = "TH";
  Fixture c{"t03", "เกษม สุขใจ", {"086 111 2233"}, "", 1, "", 30};
  c.locale = "th";
  c.region = "TH";
  return {a, b, c};
}

// Parameter: the driver. Searches read the tenants' indexes in memory (SearchIndexCache).
class CustomerQueryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("kelola-query");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    db_ = OpenDatabase(driver(), *dir_, "customers");
    ASSERT_NE(db_, nullptr);
    indexes_ = std::make_unique<SearchIndexCache>(*db_, clock_);
    query_ = std::make_unique<CustomerQuery>(clock_, *indexes_);
  }

  std::string driver() const { return GetParam(); }

  // Writes the customers; the tenant's index is (re)loaded afterwards, and later changes
  // reach it through their events.
  void Seed(const std::string& tenant, const std::vector<Fixture>& fixtures) {
    absl::Status s = db_->InTransaction([&](db::Transaction& tx) {
      for (const auto& f : fixtures) {
        if (absl::Status st = Insert(tx, tenant, f); !st.ok()) return st;
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    s = indexes_->Load(tenant);
    ASSERT_TRUE(s.ok()) << s;
  }

  // A page of tenant t1's duplicate pairs, read in a transaction of its own, as the service
  // reads it (the index's generation taken before the transaction). On PostgreSQL the staged
  // events are numbered first, as the service's sequencer does within milliseconds: a
  // catch-up applies a staged event again at every read until then, so no list is kept.
  absl::StatusOr<DuplicatePage> Duplicates(DuplicateOptions options) {
    if (driver() == "postgres") {
      auto numbered = events::OutboxSequencer(*db_, nullptr).RunOnce();
      if (!numbered.ok()) return numbered.status();
    }
    options.index_generation = query_->IndexGeneration("t1");
    absl::StatusOr<DuplicatePage> page;
    absl::Status s = db_->InTransaction([&](db::Transaction& tx) {
      page = query_->FindDuplicates(tx, "t1", options);
      return page.status();
    });
    if (!s.ok()) return s;
    return page;
  }

  void SetStats(const std::string& tenant, const std::string& id, const CustomerStatsRecord& st) {
    absl::Status s = db_->InTransaction(
        [&](db::Transaction& tx) { return UpsertStats(tx, tenant, id, st).status(); });
    ASSERT_TRUE(s.ok()) << s;
  }

  // On PostgreSQL, every other search first has the staged events numbered, so that
  // catch-ups read both numbered and staged events.
  absl::StatusOr<SearchPage> Search(const std::string& query, SearchOptions options = {},
                                    const std::string& tenant = "t1") {
    options.query = query;
    if (driver() == "postgres" && searches_ % 2 == 1) {
      auto numbered = events::OutboxSequencer(*db_, nullptr).RunOnce();
      if (!numbered.ok()) return numbered.status();
    }
    const int64_t served = indexes_->stats().searches;
    absl::StatusOr<SearchPage> out;
    absl::Status s = db_->InTransaction(
        [&](db::Transaction& tx) {
          out = query_->Search(tx, tenant, options);
          return absl::OkStatus();
        },
        {.read_only = true});
    if (!s.ok()) return s;
    ++searches_;
    if (out.ok()) {
      EXPECT_EQ(indexes_->stats().searches, served + 1) << "not answered from memory: " << query;
    }
    return out;
  }

  std::vector<std::string> SearchIds(const std::string& query, SearchOptions options = {},
                                     const std::string& tenant = "t1") {
    auto page = Search(query, options, tenant);
    EXPECT_TRUE(page.ok()) << query << ": " << page.status();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const auto& h : page->hits) ids.push_back(h.customer_id);
    }
    return ids;
  }

  absl::StatusOr<ListPage> List(const ListSpec& spec, const std::string& tenant = "t1") {
    absl::StatusOr<ListPage> out;
    absl::Status s = db_->InTransaction(
        [&](db::Transaction& tx) {
          out = query_->List(tx, tenant, spec);
          return absl::OkStatus();
        },
        {.read_only = true});
    if (!s.ok()) return s;
    return out;
  }

  std::vector<std::string> ListIds(const std::string& filter, const std::string& order_by = "",
                                   bool show_archived = false) {
    ListSpec spec;
    spec.filter = filter;
    spec.order_by = order_by;
    spec.show_archived = show_archived;
    auto page = List(spec);
    EXPECT_TRUE(page.ok()) << filter << " / " << order_by << ": " << page.status();
    std::vector<std::string> ids;
    if (page.ok()) {
      for (const auto& i : page->items) ids.push_back(i.customer_id);
    }
    return ids;
  }

  // Every page of a listing, following tokens.
  std::vector<std::string> AllPages(ListSpec spec, const std::string& tenant = "t1") {
    std::vector<std::string> ids;
    for (int guard = 0; guard < 100; ++guard) {
      auto page = List(spec, tenant);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      for (const auto& i : page->items) ids.push_back(i.customer_id);
      if (page->next_page_token.empty()) break;
      spec.page_token = page->next_page_token;
    }
    return ids;
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<db::Database> db_;
  FakeClock clock_{kNow};
  std::unique_ptr<SearchIndexCache> indexes_;  // memory mode
  int searches_ = 0;
  std::unique_ptr<CustomerQuery> query_;
};

// --- Search (C11) ---

TEST_P(CustomerQueryTest, PhoneMatchesHoweverTyped) {
  Seed("t1", SearchFixture());
  for (const std::string q : {"0812-3456-789", "+62 812 3456 789", "628123456789", "08123456789",
                              "(0812) 3456 789", "0812.3456.789"}) {
    auto page = Search(q);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_FALSE(page->hits.empty()) << q;
    EXPECT_EQ(page->hits[0].customer_id, "c01") << q;
    EXPECT_EQ(page->hits[0].score, 1.0) << q;
    EXPECT_EQ(page->hits[0].matches[0].field, v1::SEARCH_FIELD_PHONE) << q;
    EXPECT_TRUE(page->hits[0].matches[0].exact) << q;
    EXPECT_EQ(page->hits[0].matches[0].value, "+628123456789") << q;
  }
  // Partial digits, typed from the start or from the middle.
  EXPECT_EQ(SearchIds("0812-345")[0], "c01");
  EXPECT_EQ(SearchIds("62812345")[0], "c01");
  EXPECT_THAT(SearchIds("3456"), ElementsAre("c01"));
  EXPECT_THAT(SearchIds("6789"), ElementsAre("c01"));
  // "812" is in both 0812 numbers; prefix matches rank above, ties by id.
  EXPECT_THAT(SearchIds("0812"), ElementsAre("c01", "c08"));
  // An additional phone.
  auto page = Search("021 555 0123");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->hits.size(), 1u);
  EXPECT_EQ(page->hits[0].customer_id, "c02");
  EXPECT_EQ(page->hits[0].matches[0].field, v1::SEARCH_FIELD_ADDITIONAL_PHONE);
  // Fewer than three digits: no phone keys, and no name matches either.
  EXPECT_TRUE(SearchIds("08").empty());
}

TEST_P(CustomerQueryTest, ThaiPhonesAndThaiSubstrings) {
  Seed("th", ThaiFixture());
  SearchOptions th;
  th.phone_region = "TH";
  for (const std::string q : {"081 234 5678", "+66 81 234 5678", "0812345678", "66812345678",
                              "+66 81 234", "081-234", "๐๘๑ ๒๓๔"}) {
    auto ids = SearchIds(q, th, "th");
    ASSERT_FALSE(ids.empty()) << q;
    EXPECT_EQ(ids[0], "t01") << q;
  }
  // Thai names match on any part of a word (no spaces between Thai words).
  EXPECT_THAT(SearchIds("ชาย", th, "th"), ElementsAre("t01"));
  EXPECT_THAT(SearchIds("สมชาย", th, "th"), ElementsAre("t01"));
  EXPECT_THAT(SearchIds("ใจดี", th, "th"), ElementsAre("t01"));
  EXPECT_THAT(SearchIds("วุฒิ", th, "th"), ElementsAre("t02"));
  // A word that starts with the query ranks above one that only contains it.
  EXPECT_THAT(SearchIds("สุข", th, "th"), ElementsAre("t03", "t02"));
  EXPECT_THAT(SearchIds("สมชาย ใจดี", th, "th"), ElementsAre("t01"));
  // Prefix of a Thai word while typing (two code points).
  EXPECT_THAT(SearchIds("สม", th, "th"), ElementsAre("t01"));
}

TEST_P(CustomerQueryTest, NamesTolerateCaseAccentsSpacesAndTypos) {
  Seed("t1", SearchFixture());
  // Exact full name first; the one-letter variant "Budi Santosa" next.
  EXPECT_THAT(SearchIds("Budi Santoso"), ElementsAre("c01", "c08"));
  EXPECT_THAT(SearchIds("BUDI   SANTOSO  "), ElementsAre("c01", "c08"));
  EXPECT_THAT(SearchIds("budi santosa"), ElementsAre("c08", "c01"));
  auto page = Search("Budi Santoso");
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->hits[0].score, 1.0);
  EXPECT_TRUE(page->hits[0].matches[0].exact);
  EXPECT_EQ(page->hits[0].matches[0].field, v1::SEARCH_FIELD_DISPLAY_NAME);
  EXPECT_LT(page->hits[1].score, 1.0);
  // Accents: folded away in both directions.
  EXPECT_THAT(SearchIds("debora"), ElementsAre("c03"));
  EXPECT_THAT(SearchIds("DÉBORA simanjuntak"), ElementsAre("c03"));
  // One-letter typos.
  EXPECT_THAT(SearchIds("Simanjuntek"), ElementsAre("c03"));
  EXPECT_THAT(SearchIds("Nurhalizah"), ElementsAre("c02"));
  EXPECT_THAT(SearchIds("siti nurhaliza"), ElementsAre("c02"));
  // Prefix while typing: "budi" exact words before "budiman".
  EXPECT_THAT(SearchIds("bud"), ElementsAre("c01", "c08", "c05"));
  EXPECT_THAT(SearchIds("budi"), ElementsAre("c01", "c08", "c05"));
  // Company name.
  page = Search("toko maju");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->hits.size(), 1u);
  EXPECT_EQ(page->hits[0].customer_id, "c05");
  EXPECT_EQ(page->hits[0].matches[0].field, v1::SEARCH_FIELD_COMPANY_NAME);
  // Nothing similar.
  EXPECT_TRUE(SearchIds("zzzz").empty());
}

TEST_P(CustomerQueryTest, EmailMatchesCaseInsensitivePrefix) {
  Seed("t1", SearchFixture());
  auto page = Search("BUDI.SANTOSO@GMAIL.COM");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->hits.size(), 1u);
  EXPECT_EQ(page->hits[0].matches[0].field, v1::SEARCH_FIELD_EMAIL);
  EXPECT_TRUE(page->hits[0].matches[0].exact);
  EXPECT_THAT(SearchIds("siti@ya"), ElementsAre("c02"));
  // A name query also finds the email that starts with it, ranked by the best field.
  page = Search("siti");
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->hits.size(), 1u);
  EXPECT_EQ(page->hits[0].matches.size(), 2u);
  EXPECT_EQ(page->hits[0].matches[0].field, v1::SEARCH_FIELD_DISPLAY_NAME);
  EXPECT_EQ(page->hits[0].matches[1].field, v1::SEARCH_FIELD_EMAIL);
}

TEST_P(CustomerQueryTest, ArchivedHiddenUnlessAskedMergedAndErasedNever) {
  Seed("t1", SearchFixture());
  EXPECT_TRUE(SearchIds("agus").empty());
  SearchOptions archived;
  archived.show_archived = true;
  EXPECT_THAT(SearchIds("agus", archived), ElementsAre("c04"));
  EXPECT_THAT(SearchIds("0811 2222 3333", archived), ElementsAre("c04"));
  // Merged (c06) and erased (c07) are not in the index at all.
  EXPECT_TRUE(SearchIds("ani wijaya", archived).empty());
  EXPECT_TRUE(SearchIds("rina", archived).empty());
  EXPECT_TRUE(SearchIds("0815 8888 9999", archived).empty());
  // Restoring c04 (a state change and its event) makes it visible by default.
  absl::Status s = db_->InTransaction(
      [&](db::Transaction& tx) { return SetState(tx, "t1", "c04", v1::CUSTOMER_STATE_ACTIVE); });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(SearchIds("agus"), ElementsAre("c04"));
}

TEST_P(CustomerQueryTest, ReindexAndRemoveFollowChanges) {
  Seed("t1", SearchFixture());
  absl::Status s = db_->InTransaction([&](db::Transaction& tx) {
    if (absl::Status r = Rename(tx, "t1", "c01", "Bambang Pamungkas"); !r.ok()) return r;
    auto n =
        tx.Execute("DELETE FROM customer_phones WHERE tenant_id = 't1' AND customer_id = 'c01'");
    if (!n.ok()) return n.status();
    return Reindex(tx, "t1", "c01");
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(SearchIds("budi"), ElementsAre("c08", "c05"));
  EXPECT_THAT(SearchIds("bambang"), ElementsAre("c01"));
  EXPECT_TRUE(SearchIds("0812-3456-789").empty());
  EXPECT_TRUE(SearchIds("budi.santoso@gmail.com").empty());
  // Erased: its event removes the customer from the index, a typo reading included (the
  // index's vocabulary keeps no word of a removed customer: search_index_test.cc).
  s = db_->InTransaction(
      [&](db::Transaction& tx) { return SetState(tx, "t1", "c01", v1::CUSTOMER_STATE_ERASED); });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(SearchIds("bambang").empty());
  EXPECT_TRUE(SearchIds("bambng").empty());
}

TEST_P(CustomerQueryTest, TenantsAreIsolated) {
  Seed("t1", SearchFixture());
  Seed("t2", {{"x01", "Budi Lain", {"0812-3456-789"}, "budi.santoso@gmail.com"}});
  EXPECT_THAT(SearchIds("0812-3456-789", {}, "t2"), ElementsAre("x01"));
  EXPECT_THAT(SearchIds("budi", {}, "t2"), ElementsAre("x01"));
  EXPECT_THAT(SearchIds("budi.santoso@gmail.com"), ElementsAre("c01"));
  EXPECT_THAT(ListIds(""), ElementsAre("c08", "c01", "c05", "c03", "c02"));
}

TEST_P(CustomerQueryTest, SearchPagesAndTokens) {
  std::vector<Fixture> many;
  for (int i = 0; i < 25; ++i) {
    many.push_back({absl::StrCat("m", i < 10 ? "0" : "", i),
                    absl::StrCat("Dewi Lestari ", i),
                    {},
                    "",
                    1,
                    "",
                    10});
  }
  Seed("t1", many);
  SearchOptions options;
  options.page_size = 10;
  std::vector<std::string> all;
  std::string token;
  for (int p = 0; p < 5; ++p) {
    options.page_token = token;
    auto page = Search("dewi", options);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& h : page->hits) all.push_back(h.customer_id);
    token = page->next_page_token;
    if (token.empty()) break;
  }
  std::vector<std::string> sorted = all;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(all, sorted);  // equal scores: customer_id order
  EXPECT_EQ(all.size(), 25u);
  // A token of one query refused for another.
  options.page_size = 10;
  options.page_token = "";
  auto first = Search("dewi", options);
  ASSERT_TRUE(first.ok());
  options.page_token = first->next_page_token;
  auto other = Search("lestari", options);
  EXPECT_EQ(other.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(other.status()), "PAGE_TOKEN_MISMATCH");
  // Empty query.
  auto empty = Search("   ");
  EXPECT_EQ(empty.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(CustomerQueryTest, SearchWithFilter) {
  Seed("t1", SearchFixture());
  SearchOptions options;
  options.filter = "category_id = \"retail\"";
  options.show_archived = true;
  EXPECT_THAT(SearchIds("budi", options), ElementsAre("c01"));
  options.filter = "category_id = ";
  EXPECT_EQ(errors::Reason(Search("budi", options).status()), "INVALID_FILTER");
}

TEST_P(CustomerQueryTest, SearchInAListOrder) {
  Seed("t1", SearchFixture());
  SetStats("t1", "c05", Stats(900, 1, 0, 1));
  SetStats("t1", "c08", Stats(500, 1, 0, 1));
  SearchOptions options;
  options.order_by = "total_spent desc";
  EXPECT_THAT(SearchIds("budi", options), ElementsAre("c05", "c08", "c01"));
  options.order_by = "create_time";  // oldest first
  EXPECT_THAT(SearchIds("budi", options), ElementsAre("c01", "c05", "c08"));
  options.order_by = "display_name desc";
  options.page_size = 2;
  auto page = Search("budi", options);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->hits.size(), 2u);
  EXPECT_EQ(page->hits[0].customer_id, "c05");  // Budiman > Budi Santoso > Budi Santosa
  EXPECT_EQ(page->hits[1].customer_id, "c01");
  options.page_token = page->next_page_token;
  EXPECT_THAT(SearchIds("budi", options), ElementsAre("c08"));
  options.order_by = "display_name";  // another order: the token no longer applies
  EXPECT_EQ(errors::Reason(Search("budi", options).status()), "PAGE_TOKEN_MISMATCH");
  options.page_token = "";
  options.order_by = "score";
  EXPECT_EQ(errors::Reason(Search("budi", options).status()), "INVALID_ORDER_BY");
}

// --- Stats projection ---

TEST_P(CustomerQueryTest, StatsNeverGoBackwards) {
  Seed("t1", SearchFixture());
  absl::StatusOr<bool> applied;
  auto upsert = [&](const CustomerStatsRecord& st) {
    absl::Status s = db_->InTransaction([&](db::Transaction& tx) {
      applied = UpsertStats(tx, "t1", "c01", st);
      return applied.status();
    });
    EXPECT_TRUE(s.ok()) << s;
    return *applied;
  };
  EXPECT_TRUE(upsert(Stats(1000, 1, 500, 3, 5)));
  EXPECT_FALSE(upsert(Stats(9, 9, 9, 1, 4)));  // older
  EXPECT_FALSE(upsert(Stats(9, 9, 9, 1, 5)));  // same version
  EXPECT_TRUE(upsert(Stats(2000, 2, 0, 1, 6)));
  absl::StatusOr<std::optional<CustomerStatsRecord>> got;
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) {
                   got = GetStats(tx, "t1", "c01");
                   return got.status();
                 })
                  .ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->total_spent_minor, 2000);
  EXPECT_EQ((*got)->transaction_count, 2);
  EXPECT_EQ((*got)->ledger_version, 6);
  EXPECT_EQ((*got)->last_activity_time, kNow - absl::Hours(24));
  // Stats of a customer not yet indexed are kept too (events may arrive first).
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) {
                   return UpsertStats(tx, "t1", "later", Stats(1, 1, 1, 1)).status();
                 })
                  .ok());
}

// The stats feed applies the ledger's per-customer events, except to customers deleted for
// good (C4): a seal event that arrives after the delete must not bring back a stats row.
TEST_P(CustomerQueryTest, LedgerEventsKeepNoStatsForADeletedCustomer) {
  Seed("t1", SearchFixture());
  auto event = [](const google::protobuf::Message& payload) {
    type::v1::Event e;
    e.set_tenant_id("t1");
    e.set_type(payload.GetDescriptor()->full_name());
    e.mutable_payload()->PackFrom(payload);
    return e;
  };
  ledger::v1::SaleRecorded sale;
  sale.set_customer_id("c01");
  sale.set_ledger_version(3);
  sale.mutable_stats()->mutable_total_spent()->set_amount_minor(150000);
  sale.mutable_stats()->set_transaction_count(1);
  ledger::v1::CustomerSealed sealed;
  sealed.set_customer_id("gone");
  sealed.set_ledger_version(1);
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
                   auto n = tx.Execute(
                       "INSERT INTO deleted_customers (tenant_id, customer_id, "
                       "delete_time_micros, principal, request_id) VALUES ('t1', 'gone', 1, "
                       "'test', 'r1')");
                   if (!n.ok()) return n.status();
                   if (auto s = ApplyLedgerEvent(tx, event(sale)); !s.ok()) return s;
                   return ApplyLedgerEvent(tx, event(sealed));
                 })
                  .ok());
  absl::StatusOr<std::optional<CustomerStatsRecord>> kept, gone;
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
                   kept = GetStats(tx, "t1", "c01");
                   gone = GetStats(tx, "t1", "gone");
                   return absl::OkStatus();
                 })
                  .ok());
  ASSERT_TRUE(kept.ok() && kept->has_value());
  EXPECT_EQ((*kept)->total_spent_minor, 150000);
  ASSERT_TRUE(gone.ok()) << gone.status();
  EXPECT_FALSE(gone->has_value());
}

// Projections written before balances were net of credit are rebuilt: migration 40 has the
// feed replay the ledger's stream, and the replay of each customer's newest event rewrites
// its row (older events still do not apply).
TEST_P(CustomerQueryTest, ReplayMigrationRewritesStatsFromTheNewestEvent) {
  auto dir = testing::TempDir::Create("kelola-replay");
  ASSERT_TRUE(dir.ok());
  std::string url = absl::StrCat("sqlite:", (*dir)->path(), "/old.db");
  if (driver() != "sqlite") {
    auto created = testing::SharedPostgres()->CreateUniqueDatabase("replay");
    ASSERT_TRUE(created.ok()) << created.status();
    url = *created;
  }
  auto opened = db::Open(url);
  ASSERT_TRUE(opened.ok()) << opened.status();
  db::Database& db = **opened;
  std::vector<db::Migration> before;
  for (const db::Migration& m : Migrations()) {
    if (m.version < 40) before.push_back(m);
  }
  ASSERT_TRUE(db::ApplyMigrations(db, before).ok());
  // As the old rule projected a deposit of 5.000 kept as credit: balance 0, version 1.
  ledger::v1::PaymentRecorded paid;
  paid.set_customer_id("c01");
  paid.set_ledger_version(1);
  paid.mutable_stats()->mutable_credit()->set_amount_minor(5000);
  ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) -> absl::Status {
                  CustomerStatsRecord old_rule;
                  old_rule.ledger_version = 1;
                  if (auto s = UpsertStats(tx, "t1", "c01", old_rule).status(); !s.ok()) return s;
                  return tx
                      .Execute(
                          "INSERT INTO consumer_cursors (consumer, producer, sequence) "
                          "VALUES ('customer-svc.stats', 'ledger-svc', 7)")
                      .status();
                }).ok());
  ASSERT_TRUE(db::ApplyMigrations(db, Migrations()).ok());
  auto cursor = events::EventConsumer::LoadCursor(db, kLedgerStatsConsumer, kLedgerProducer);
  ASSERT_TRUE(cursor.ok());
  EXPECT_EQ(*cursor, 0);  // the stream is read again from its start

  auto event = [](const google::protobuf::Message& payload) {
    type::v1::Event e;
    e.set_tenant_id("t1");
    e.set_type(payload.GetDescriptor()->full_name());
    e.mutable_payload()->PackFrom(payload);
    return e;
  };
  absl::StatusOr<std::optional<CustomerStatsRecord>> got;
  ASSERT_TRUE(db.InTransaction([&](db::Transaction& tx) -> absl::Status {
                  if (auto s = ApplyLedgerEvent(tx, event(paid)); !s.ok()) return s;
                  got = GetStats(tx, "t1", "c01");
                  return got.status();
                }).ok());
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->balance_minor, -5000);
  EXPECT_EQ((*got)->ledger_version, 1);
}

// The feed applies ledger events in batches: a batch (with replays, an out-of-order event,
// a reassignment and a deleted customer) leaves the same stats as its events one by one.
TEST_P(CustomerQueryTest, ABatchOfLedgerEventsEqualsThemOneByOne) {
  auto event = [](const std::string& tenant, const google::protobuf::Message& payload) {
    type::v1::Event e;
    e.set_tenant_id(tenant);
    e.set_type(payload.GetDescriptor()->full_name());
    e.mutable_payload()->PackFrom(payload);
    return e;
  };
  auto sale = [](const std::string& customer, int64_t version, int64_t spent) {
    ledger::v1::SaleRecorded s;
    s.set_customer_id(customer);
    s.set_ledger_version(version);
    s.mutable_stats()->mutable_total_spent()->set_amount_minor(spent);
    s.mutable_stats()->set_transaction_count(version);
    return s;
  };
  ledger::v1::CustomerReassigned moved;
  moved.set_customer_id("c01");
  moved.set_ledger_version(5);
  moved.mutable_stats()->mutable_total_spent()->set_amount_minor(9000);
  moved.set_source_customer_id("c02");
  moved.set_source_ledger_version(3);
  ledger::v1::PaymentRecorded paid;
  paid.set_customer_id("c03");
  paid.set_ledger_version(1);
  paid.mutable_stats()->mutable_credit()->set_amount_minor(700);
  const std::vector<ledger::v1::SaleRecorded> sales = {
      sale("c01", 1, 100), sale("c01", 3, 300), sale("c01", 2, 200),  // 2 arrives late
      sale("c02", 1, 50),  sale("c02", 2, 80),  sale("gone", 1, 10), sale("c01", 3, 999)};
  for (const std::string tenant : {"batch", "single"}) {
    std::vector<type::v1::Event> events;
    for (const auto& s : sales) events.push_back(event(tenant, s));
    events.push_back(event(tenant, moved));
    events.push_back(event(tenant, paid));
    events.push_back(event(tenant, sales[0]));  // a replay
    ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
                     auto n = tx.Execute(
                         "INSERT INTO deleted_customers (tenant_id, customer_id, "
                         "delete_time_micros, principal, request_id) VALUES (?, 'gone', 1, "
                         "'test', 'r1')",
                         {tenant});
                     if (!n.ok()) return n.status();
                     if (tenant == "batch") return ApplyLedgerEvents(tx, events);
                     for (const type::v1::Event& e : events) {
                       if (auto s = ApplyLedgerEvent(tx, e); !s.ok()) return s;
                     }
                     return absl::OkStatus();
                   })
                    .ok());
  }
  for (const std::string customer : {"c01", "c02", "c03", "gone"}) {
    absl::StatusOr<std::optional<CustomerStatsRecord>> batch, single;
    ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
                     batch = GetStats(tx, "batch", customer);
                     single = GetStats(tx, "single", customer);
                     return absl::OkStatus();
                   })
                    .ok());
    ASSERT_TRUE(batch.ok() && single.ok()) << customer;
    ASSERT_EQ(batch->has_value(), single->has_value()) << customer;
    if (!batch->has_value()) continue;
    EXPECT_EQ((*batch)->ledger_version, (*single)->ledger_version) << customer;
    EXPECT_EQ((*batch)->total_spent_minor, (*single)->total_spent_minor) << customer;
    EXPECT_EQ((*batch)->transaction_count, (*single)->transaction_count) << customer;
    EXPECT_EQ((*batch)->balance_minor, (*single)->balance_minor) << customer;
  }
  absl::StatusOr<std::optional<CustomerStatsRecord>> c01, c02, gone;
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
                   c01 = GetStats(tx, "batch", "c01");
                   c02 = GetStats(tx, "batch", "c02");
                   gone = GetStats(tx, "batch", "gone");
                   return absl::OkStatus();
                 })
                  .ok());
  ASSERT_TRUE(c01.ok() && c01->has_value() && c02.ok() && c02->has_value() && gone.ok());
  EXPECT_EQ((*c01)->ledger_version, 5);
  EXPECT_EQ((*c01)->total_spent_minor, 9000);
  EXPECT_EQ((*c02)->ledger_version, 3);
  EXPECT_EQ((*c02)->total_spent_minor, 0);
  EXPECT_FALSE(gone->has_value());
}

// --- Lists (C12, C13) ---

class ListTest : public CustomerQueryTest {
 protected:
  void SetUp() override {
    CustomerQueryTest::SetUp();
    Seed("t1", {
                   {"a1", "Budi Santoso", {}, "", 1, "retail", 300, "", 1},
                   {"a2", "adi Nugroho", {}, "", 1, "wholesale", 200, "", 2},
                   {"a3", "Ádi Pratama", {}, "", 1, "retail", 100},
                   {"a4", "Adi Pratama", {}, "", 1, "vip", 50, "", 1},
                   {"a5", "Çahya Putri", {}, "", 1, "", 20},
                   {"a6", "Zainal Abidin", {}, "", 2, "retail", 10},
                   {"a7", "Eko Prasetyo", {}, "", 1, "wholesale", 5},
               });
    SetStats("t1", "a1", Stats(500000, 10, 0, 2));      // big spender, recent
    SetStats("t1", "a2", Stats(120000, 3, 25000, 45));  // owes, inactive 45 days
    SetStats("t1", "a3", Stats(90000, 2, 10000, 100));  // owes, inactive 100 days
    SetStats("t1", "a4", Stats(0, 0, 0, std::nullopt));
    SetStats("t1", "a5", Stats(0, 0, -5000, 10));  // credit, payment only
    SetStats("t1", "a6", Stats(700000, 20, 1000, 1));
    // a7: no stats beyond the zero row that KeepStatsRow made.
  }
};

TEST_P(ListTest, DefaultOrderIsUnicodeNameAToZ) {
  // Case and accents only break ties: adi < Adi < Ádi < Budi < Çahya < Eko.
  EXPECT_THAT(ListIds(""), ElementsAre("a2", "a4", "a3", "a1", "a5", "a7"));
  EXPECT_THAT(ListIds("", "display_name desc"), ElementsAre("a7", "a5", "a1", "a3", "a4", "a2"));
  EXPECT_THAT(ListIds("", "display_name", true),
              ElementsAre("a2", "a4", "a3", "a1", "a5", "a7", "a6"));
}

TEST_P(ListTest, ThaiCollationOrder) {
  Seed("th", ThaiFixture());
  ListSpec spec;
  auto page = List(spec, "th");
  ASSERT_TRUE(page.ok());
  std::vector<std::string> ids;
  for (const auto& i : page->items) ids.push_back(i.customer_id);
  // เกษม sorts under ก (leading vowel reordered), so before ณัฐวุฒิ and สมชาย.
  EXPECT_THAT(ids, ElementsAre("t03", "t02", "t01"));
}

// Ties (a4, a5, a7 spent nothing; a1, a4, a7 owe nothing; a4, a7 have no activity) are broken
// by customer_id in the order's direction.
TEST_P(ListTest, EachSort) {
  EXPECT_THAT(ListIds("", "create_time"), ElementsAre("a1", "a2", "a3", "a4", "a5", "a7"));
  EXPECT_THAT(ListIds("", "create_time desc"), ElementsAre("a7", "a5", "a4", "a3", "a2", "a1"));
  EXPECT_THAT(ListIds("", "total_spent desc"), ElementsAre("a1", "a2", "a3", "a7", "a5", "a4"));
  EXPECT_THAT(ListIds("", "total_spent"), ElementsAre("a4", "a5", "a7", "a3", "a2", "a1"));
  EXPECT_THAT(ListIds("", "balance desc"), ElementsAre("a2", "a3", "a7", "a4", "a1", "a5"));
  EXPECT_THAT(ListIds("", "balance"), ElementsAre("a5", "a1", "a4", "a7", "a3", "a2"));
  // Customers without activity last in both directions.
  EXPECT_THAT(ListIds("", "last_activity_time desc"),
              ElementsAre("a1", "a5", "a2", "a3", "a7", "a4"));
  EXPECT_THAT(ListIds("", "last_activity_time"), ElementsAre("a3", "a2", "a5", "a1", "a4", "a7"));
  EXPECT_THAT(ListIds("", "total_spent desc", true),
              ElementsAre("a6", "a1", "a2", "a3", "a7", "a5", "a4"));
}

TEST_P(ListTest, EachFilterAndCombinations) {
  EXPECT_THAT(ListIds("category_id = \"retail\""), ElementsAre("a3", "a1"));
  EXPECT_THAT(ListIds("category_id != \"retail\""), ElementsAre("a2", "a4", "a5", "a7"));
  EXPECT_THAT(ListIds("category_id = \"\""), ElementsAre("a5"));
  EXPECT_THAT(ListIds("state = ARCHIVED"), ElementsAre("a6"));
  EXPECT_THAT(ListIds("has_balance = true"), ElementsAre("a2", "a3"));
  EXPECT_THAT(ListIds("has_balance = false"), ElementsAre("a4", "a1", "a5", "a7"));
  EXPECT_THAT(ListIds("no_transactions = true"), ElementsAre("a4", "a5", "a7"));
  EXPECT_THAT(ListIds("no_transactions = false"), ElementsAre("a2", "a3", "a1"));
  EXPECT_THAT(ListIds("total_spent >= 100000"), ElementsAre("a2", "a1"));
  EXPECT_THAT(ListIds("total_spent > 0 AND total_spent < 200000"), ElementsAre("a2", "a3"));
  // Top 25% of the tenant's 4 customers with purchases (a6 700000, a1, a2, a3) = 1: a6,
  // which is archived, so the default list shows nobody; 50% = a6, a1.
  EXPECT_THAT(ListIds("top_spender_percent = 25"), ElementsAre());
  EXPECT_THAT(ListIds("top_spender_percent = 50"), ElementsAre("a1"));
  EXPECT_THAT(ListIds("top_spender_percent = 50", "", true), ElementsAre("a1", "a6"));
  // The ranking follows stats changes: a1 loses its purchases (a refund of everything),
  // leaving a6, a2, a3 as buyers; the top 50% (2) are a6 and a2.
  SetStats("t1", "a1", Stats(0, 0, 0, 2, 2));
  EXPECT_THAT(ListIds("top_spender_percent = 50", "", true), ElementsAre("a2", "a6"));
  SetStats("t1", "a1", Stats(500000, 10, 0, 2, 3));
  EXPECT_THAT(ListIds("top_spender_percent = 50", "", true), ElementsAre("a1", "a6"));
  EXPECT_THAT(ListIds("active_within_days = 30"), ElementsAre("a1", "a5"));
  EXPECT_THAT(ListIds("inactive_for_days = 30"), ElementsAre("a2", "a4", "a3"));
  // a4 has no activity but was created only 50 days ago.
  EXPECT_THAT(ListIds("inactive_for_days = 60"), ElementsAre("a3"));
  EXPECT_THAT(ListIds("consent = GRANTED"), ElementsAre("a4", "a1"));
  EXPECT_THAT(ListIds("consent = WITHDRAWN"), ElementsAre("a2"));
  EXPECT_THAT(ListIds("consent = UNSPECIFIED"), ElementsAre("a3", "a5", "a7"));
  EXPECT_THAT(ListIds("create_time >= \"2025-09-01T00:00:00+07:00\" AND create_time < "
                      "\"2025-12-01T00:00:00Z\""),
              ElementsAre("a4", "a3"));
  EXPECT_THAT(ListIds("category_id = \"wholesale\" AND has_balance = true AND "
                      "inactive_for_days = 30",
                      "balance desc"),
              ElementsAre("a2"));
  EXPECT_THAT(ListIds("no_transactions = true AND category_id != \"vip\"", "create_time desc"),
              ElementsAre("a7", "a5"));
  // Time moves: "now" comes from the injected clock.
  clock_.Advance(absl::Hours(24 * 30));
  EXPECT_THAT(ListIds("active_within_days = 30"), ElementsAre());
}

TEST_P(ListTest, TotalSizeCountsEveryPage) {
  ListSpec spec;
  spec.filter = "no_transactions = true";
  spec.page_size = 2;
  spec.want_total_size = true;
  auto page = List(spec);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 2u);
  EXPECT_EQ(page->total_size, 3);
}

TEST_P(ListTest, MalformedFiltersAndOrdersAreRefused) {
  for (const std::string f :
       {"category_id", "category_id = retail", "state = GONE", "has_balance = yes",
        "total_spent >= \"100\"", "top_spender_percent = 0", "top_spender_percent = 101",
        "active_within_days = -1", "nosuch = 1", "has_balance = true has_balance = false",
        "has_balance = true AND has_balance = true", "has_balance = true OR no_transactions = true",
        "create_time >= \"yesterday\"", "create_time = \"2025-01-01T00:00:00Z\"",
        "category_id = \"x", "consent = YES", "has_balance = true AND",
        "total_spent > 1 AND total_spent < 5 AND total_spent < 3", "has_balance ! true"}) {
    ListSpec spec;
    spec.filter = f;
    auto page = List(spec);
    ASSERT_FALSE(page.ok()) << f;
    EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument) << f;
    EXPECT_EQ(errors::Reason(page.status()), "INVALID_FILTER") << f;
    auto violations = errors::Violations(page.status());
    ASSERT_EQ(violations.size(), 1u) << f;
    EXPECT_EQ(violations[0].field, "filter") << f;
    EXPECT_EQ(errors::GetMetadata(page.status()).count("position"), 1u) << f;
  }
  ListSpec spec;
  spec.filter = "has_balance = true AND nosuch = 1";
  EXPECT_EQ(errors::GetMetadata(List(spec).status())["position"], "23");
  for (const std::string o : {"name", "total_spent downward", "display_name asc extra"}) {
    ListSpec bad;
    bad.order_by = o;
    auto page = List(bad);
    EXPECT_EQ(errors::Reason(page.status()), "INVALID_ORDER_BY") << o;
    EXPECT_EQ(errors::Violations(page.status())[0].field, "order_by") << o;
  }
  ListSpec negative;
  negative.page_size = -1;
  EXPECT_EQ(List(negative).status().code(), absl::StatusCode::kInvalidArgument);
  ListSpec huge;
  huge.page_size = 100000;  // lowered to the maximum (contract: AIP-158)
  EXPECT_TRUE(List(huge).ok());
}

TEST_P(ListTest, PageTokensAreBoundAndStableUnderInserts) {
  for (const std::string order : {"display_name", "display_name desc", "create_time desc",
                                  "total_spent desc", "balance", "last_activity_time"}) {
    for (bool archived : {false, true}) {
      ListSpec spec;
      spec.order_by = order;
      spec.show_archived = archived;
      spec.page_size = 2;
      const std::vector<std::string> expected = ListIds("", order, archived);
      EXPECT_EQ(AllPages(spec), expected) << order << " " << archived;
    }
  }
  // Insert customers between pages: rows before the cursor are not returned, rows after it
  // are, and nothing that existed is skipped or repeated.
  ListSpec spec;
  spec.page_size = 2;
  auto first = List(spec);
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->items.size(), 2u);  // a2, a4
  Seed("t1", {{"n1", "Aaron Before", {}, "", 1, "", 1}, {"n2", "Yusuf After", {}, "", 1, "", 1}});
  std::vector<std::string> ids = {first->items[0].customer_id, first->items[1].customer_id};
  spec.page_token = first->next_page_token;
  for (int guard = 0; guard < 10 && !spec.page_token.empty(); ++guard) {
    auto page = List(spec);
    ASSERT_TRUE(page.ok()) << page.status();
    for (const auto& i : page->items) ids.push_back(i.customer_id);
    spec.page_token = page->next_page_token;
    if (guard == 0) {
      Seed("t1",
           {{"n3", "Abdul Early", {}, "", 1, "", 1}, {"n4", "Zulkifli Late", {}, "", 1, "", 1}});
    }
  }
  EXPECT_THAT(ids, ElementsAre("a2", "a4", "a3", "a1", "a5", "a7", "n2", "n4"));

  // A token used with another filter, order or state is refused; garbage is invalid.
  ListSpec a;
  a.page_size = 2;
  a.filter = "has_balance = false";
  auto page = List(a);
  ASSERT_TRUE(page.ok());
  ASSERT_FALSE(page->next_page_token.empty());
  ListSpec b = a;
  b.page_token = page->next_page_token;
  b.filter = "has_balance = true";
  EXPECT_EQ(errors::Reason(List(b).status()), "PAGE_TOKEN_MISMATCH");
  b.filter = a.filter;
  b.order_by = "create_time";
  EXPECT_EQ(errors::Reason(List(b).status()), "PAGE_TOKEN_MISMATCH");
  b.order_by = "";
  b.show_archived = true;
  EXPECT_EQ(errors::Reason(List(b).status()), "PAGE_TOKEN_MISMATCH");
  b.show_archived = false;
  b.filter = "  has_balance   =  false ";  // same filter, other spacing: accepted
  EXPECT_TRUE(List(b).ok());
  EXPECT_EQ(List(b, "t2").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(List(b, "t2").status()), "PAGE_TOKEN_INVALID");
  b.page_token = "garbage!";
  EXPECT_EQ(errors::Reason(List(b).status()), "PAGE_TOKEN_INVALID");
}

// In each stats order, customers the ledger never told of (their stats row is the zero row
// made at create) and customers whose stats are all zero share the zero key, by id in the
// order's direction; every page size walks the same listing, filtered or not, with archived
// customers or without. The expected listing is computed here from the stats given.
TEST_P(ListTest, StatsOrdersPageThroughTheOrderTheStatsGive) {
  struct Known {
    int state;
    std::string category;
    int days_ago;
    std::optional<CustomerStatsRecord> stats;
  };
  std::map<std::string, Known> known;
  std::vector<Fixture> fixtures;
  for (int i = 0; i < 30; ++i) {
    const std::string id = absl::StrCat("m", absl::Dec(i, absl::kZeroPad2));
    Known k{i % 5 == 4 ? 2 : 1, i % 3 == 0 ? "retail" : "", 20 + i * 3, std::nullopt};
    switch (i % 4) {
      case 0:
        break;  // the ledger never told of it
      case 1:
        k.stats = Stats(0, 0, 0, std::nullopt);  // told, all zero
        break;
      case 2:
        k.stats = Stats(1000 * (i % 7), i % 7, (i % 3 - 1) * 500,
                        i % 7 == 0 ? std::nullopt : std::optional(i));
        break;
      case 3:
        k.stats = Stats(0, 0, -250 * (i % 2), 5);  // payments only
        break;
    }
    known[id] = k;
    fixtures.push_back(
        {id, absl::StrCat("Pelanggan ", i), {}, "", k.state, k.category, k.days_ago});
  }
  Seed("mix", fixtures);
  for (const auto& [id, k] : known) {
    if (k.stats) SetStats("mix", id, *k.stats);
  }
  const absl::Time now = clock_.Now();
  auto passes = [&](const std::string& filter, const Known& k) {
    const CustomerStatsRecord st = k.stats.value_or(CustomerStatsRecord{});
    if (filter == "no_transactions = true") return st.transaction_count == 0;
    if (filter == "has_balance = false") return st.balance_minor <= 0;
    if (filter == "category_id = \"retail\"") return k.category == "retail";
    if (filter == "inactive_for_days = 30") {
      const absl::Time since = now - absl::Hours(24 * 30);
      return (!st.last_activity_time || *st.last_activity_time < since) &&
             kNow - absl::Hours(24 * k.days_ago) < since;
    }
    return true;
  };
  auto key = [](const std::string& order, const Known& k) -> int64_t {
    const CustomerStatsRecord st = k.stats.value_or(CustomerStatsRecord{});
    if (absl::StartsWith(order, "total_spent")) return st.total_spent_minor;
    if (absl::StartsWith(order, "balance")) return st.balance_minor;
    if (!st.last_activity_time) {
      return absl::EndsWith(order, "desc") ? std::numeric_limits<int64_t>::min()
                                           : std::numeric_limits<int64_t>::max();
    }
    return absl::ToUnixMicros(*st.last_activity_time);
  };
  for (const std::string order : {"total_spent", "total_spent desc", "balance", "balance desc",
                                  "last_activity_time", "last_activity_time desc"}) {
    const bool desc = absl::EndsWith(order, "desc");
    for (const std::string filter : {"", "no_transactions = true", "has_balance = false",
                                     "category_id = \"retail\"", "inactive_for_days = 30"}) {
      for (bool archived : {false, true}) {
        std::vector<std::pair<int64_t, std::string>> expected_keys;
        for (const auto& [id, k] : known) {
          if ((k.state == 2 && !archived) || !passes(filter, k)) continue;
          expected_keys.emplace_back(key(order, k), id);
        }
        std::sort(expected_keys.begin(), expected_keys.end());
        if (desc) std::reverse(expected_keys.begin(), expected_keys.end());
        std::vector<std::string> expected;
        for (const auto& [k, id] : expected_keys) expected.push_back(id);
        for (int page_size : {1, 3, 7, 100}) {
          ListSpec spec;
          spec.order_by = order;
          spec.filter = filter;
          spec.show_archived = archived;
          spec.page_size = page_size;
          spec.want_total_size = true;
          EXPECT_EQ(AllPages(spec, "mix"), expected)
              << order << " / " << filter << " / archived " << archived << " / " << page_size;
          auto first = List(spec, "mix");
          ASSERT_TRUE(first.ok()) << first.status();
          EXPECT_EQ(first->total_size, static_cast<int64_t>(expected.size())) << filter;
        }
      }
    }
  }
}

// --- Duplicates (C7) ---

TEST_P(CustomerQueryTest, FindDuplicates) {
  Seed("t1", {
                 {"d1", "Budi Santoso", {"0812-3456-789"}, "budi@x.id", 1, "", 30},
                 {"d2", "Pak Budi Santosa", {"+62 812 3456 789"}, "", 1, "", 20},
                 {"d3", "Siti Aminah", {}, "BUDI@X.ID", 1, "", 10},
                 {"d4", "Siti Aminah", {}, "", 1, "", 5},
                 {"d5", "Joko Widodo", {}, "", 1, "", 4},
                 {"d6", "Siti Aminah", {}, "", 2, "", 3},
             });
  absl::StatusOr<DuplicatePage> page;
  auto find = [&](DuplicateOptions options) {
    absl::Status s = db_->InTransaction([&](db::Transaction& tx) {
      page = query_->FindDuplicates(tx, "t1", options);
      return absl::OkStatus();
    });
    EXPECT_TRUE(s.ok());
    EXPECT_TRUE(page.ok()) << page.status();
    std::vector<std::string> out;
    if (!page.ok()) return out;
    for (const auto& p : page->pairs) {
      std::vector<std::string> reasons;
      for (auto r : p.reasons) reasons.push_back(v1::DuplicateReason_Name(r));
      out.push_back(absl::StrCat(p.first_id, "-", p.second_id, ":", absl::StrJoin(reasons, ",")));
    }
    return out;
  };
  EXPECT_THAT(
      find({}),
      ElementsAre("d1-d2:DUPLICATE_REASON_SAME_PHONE,DUPLICATE_REASON_SIMILAR_NAME",
                  "d1-d3:DUPLICATE_REASON_SAME_EMAIL", "d3-d4:DUPLICATE_REASON_SIMILAR_NAME"));
  DuplicateOptions archived;
  archived.show_archived = true;
  EXPECT_EQ(find(archived).size(), 5u);
  DuplicateOptions one;
  one.customer_id = "d4";
  EXPECT_THAT(find(one), ElementsAre("d3-d4:DUPLICATE_REASON_SIMILAR_NAME"));
  one.customer_id = "d3";  // its email's holder and its name's
  EXPECT_THAT(find(one), UnorderedElementsAre("d1-d3:DUPLICATE_REASON_SAME_EMAIL",
                                              "d3-d4:DUPLICATE_REASON_SIMILAR_NAME"));
  DuplicateOptions paged;
  paged.page_size = 1;
  auto p1 = find(paged);
  paged.page_token = page->next_page_token;
  auto p2 = find(paged);
  paged.page_token = page->next_page_token;
  auto p3 = find(paged);
  EXPECT_EQ(p1.size() + p2.size() + p3.size(), 3u);
  EXPECT_TRUE(page->next_page_token.empty());
  DuplicateOptions bad;
  bad.min_score = 1.5;
  absl::Status s = db_->InTransaction(
      [&](db::Transaction& tx) { return query_->FindDuplicates(tx, "t1", bad).status(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  DuplicateOptions missing;
  missing.customer_id = "nope";
  s = db_->InTransaction(
      [&](db::Transaction& tx) { return query_->FindDuplicates(tx, "t1", missing).status(); });
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
}

// Pages of any size walk the whole list in its order (score, then the ids), and each pair
// carries its two stored customers, the one created first first, though only a page's
// customers are read in full.
TEST_P(CustomerQueryTest, FindDuplicatesPagesWalkTheWholeList) {
  std::vector<Fixture> fixtures;
  // Groups of names held a few times (similar names), two of them with a shared phone,
  // and customers with a shared email across groups: scores of 1 and below, many ties.
  const std::vector<std::string> names = {"Budi Santoso",   "Budi Santosa", "Dewi Lestari",
                                          "Dewi Lestari",   "Dewi Lestary", "Rina Wulandari",
                                          "Rina Wulandari", "Agus Salim",   "Agus Salimin"};
  for (int i = 0; i < 27; ++i) {
    Fixture f;
    f.id = absl::StrFormat("p%02d", (i * 7) % 27);  // ids not in creation order
    f.name = names[i % names.size()];
    if (i % 9 == 0) f.phones = {"0812-7777-0001"};
    if (i % 9 == 3) f.phones = {absl::StrCat("0813-5555-", 1000 + i)};
    if (i % 5 == 1) f.email = absl::StrCat("shared", i % 3, "@x.id");
    f.days_ago = 100 - i;
    fixtures.push_back(f);
  }
  Seed("t1", fixtures);
  auto walk = [&](int page_size, std::vector<DuplicatePairInfo>* out) {
    DuplicateOptions options;
    options.page_size = page_size;
    for (int pages = 0; pages < 1000; ++pages) {
      absl::StatusOr<DuplicatePage> page = Duplicates(options);
      ASSERT_TRUE(page.ok()) << page.status();
      EXPECT_LE(page->pairs.size(), static_cast<size_t>(page_size));
      for (auto& pair : page->pairs) out->push_back(std::move(pair));
      if (page->next_page_token.empty()) return;
      options.page_token = page->next_page_token;
    }
    FAIL() << "no last page";
  };
  std::vector<DuplicatePairInfo> whole;
  walk(200, &whole);
  ASSERT_GT(whole.size(), 20u);
  for (size_t i = 0; i < whole.size(); ++i) {
    const DuplicatePairInfo& p = whole[i];
    v1::Customer first, second;
    ASSERT_TRUE(first.ParseFromString(p.first_data)) << i;
    ASSERT_TRUE(second.ParseFromString(p.second_data)) << i;
    EXPECT_EQ(first.customer_id(), p.first_id);
    EXPECT_EQ(second.customer_id(), p.second_id);
    EXPECT_LE(std::make_pair(first.create_time().seconds(), first.create_time().nanos()),
              std::make_pair(second.create_time().seconds(), second.create_time().nanos()));
    if (i > 0) {
      const DuplicatePairInfo& q = whole[i - 1];
      auto ids = [](const DuplicatePairInfo& d) { return std::minmax(d.first_id, d.second_id); };
      EXPECT_TRUE(q.score > p.score || (q.score == p.score && ids(q) < ids(p))) << i;
    }
  }
  for (int page_size : {1, 2, 7}) {
    std::vector<DuplicatePairInfo> paged;
    walk(page_size, &paged);
    ASSERT_EQ(paged.size(), whole.size()) << page_size;
    for (size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(paged[i].first_id, whole[i].first_id) << page_size << " " << i;
      EXPECT_EQ(paged[i].second_id, whole[i].second_id) << page_size << " " << i;
      EXPECT_EQ(paged[i].first_data, whole[i].first_data) << page_size << " " << i;
      EXPECT_EQ(paged[i].reasons, whole[i].reasons) << page_size << " " << i;
    }
  }
}

// The whole-tenant list is kept for its next pages (DuplicateLists) only while no customer
// changed: a created, deleted or archived customer is in the next page and walk at once, and
// a page token of the list before the write continues in the list after it.
TEST_P(CustomerQueryTest, FindDuplicatesListFollowsWrites) {
  Seed("t1", {
                 {"a1", "Budi Santoso", {"0812-1111-0001"}},
                 {"a2", "Budi Santosa", {}},
                 {"a3", "Siti Aminah", {}},
                 {"a5", "Siti Aminah", {"0812-1111-0005"}},
                 {"a6", "Joko Susilo", {}},
             });
  auto page = [&](const DuplicateOptions& options) {
    absl::StatusOr<DuplicatePage> out = Duplicates(options);
    EXPECT_TRUE(out.ok()) << out.status();
    return out.value_or(DuplicatePage{});
  };
  auto names = [](const DuplicatePage& p) {
    std::vector<std::string> out;
    for (const auto& pair : p.pairs) out.push_back(pair.first_id + "-" + pair.second_id);
    return out;
  };
  auto walk = [&](bool archived) {
    DuplicateOptions options;
    options.show_archived = archived;
    options.page_size = 1;
    std::vector<std::string> out;
    for (;;) {
      DuplicatePage p = page(options);
      for (const std::string& n : names(p)) out.push_back(n);
      if (p.next_page_token.empty()) return out;
      options.page_token = p.next_page_token;
    }
  };
  EXPECT_THAT(walk(false), ElementsAre("a3-a5", "a1-a2"));
  // A row changed without an event (which no write does) is not seen while the list is
  // kept; its event makes the next call read it.
  auto fold_a2 = [&](const std::string& folded, bool with_event) {
    ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
                     auto n = tx.Execute(
                         "UPDATE customers SET name_folded = ? WHERE tenant_id = 't1' AND "
                         "customer_id = 'a2'",
                         {folded});
                     if (!n.ok()) return n.status();
                     return with_event ? Reindex(tx, "t1", "a2") : absl::OkStatus();
                   })
                    .ok());
  };
  fold_a2("zz", false);
  EXPECT_THAT(walk(false), ElementsAre("a3-a5", "a1-a2"));
  fold_a2("zz", true);
  EXPECT_THAT(walk(false), ElementsAre("a3-a5"));
  fold_a2("budi santosa", true);
  EXPECT_THAT(walk(false), ElementsAre("a3-a5", "a1-a2"));
  DuplicateOptions first;
  first.page_size = 1;
  DuplicatePage p1 = page(first);
  ASSERT_THAT(names(p1), ElementsAre("a3-a5"));

  // A new customer with a5's phone: its pair (score 1, after a3-a5) is on the next page of
  // the token taken before it.
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) {
                   return Insert(tx, "t1", {"z1", "Wulan Sari", {"0812 1111 0005"}});
                 })
                  .ok());
  DuplicateOptions next = first;
  next.page_token = p1.next_page_token;
  EXPECT_THAT(names(page(next)), ElementsAre("a5-z1"));
  EXPECT_THAT(walk(false), ElementsAre("a3-a5", "a5-z1", "a1-a2"));

  // Deleted: its pair is gone.
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) {
                   auto n = tx.Execute(
                       "DELETE FROM customers WHERE tenant_id = 't1' AND customer_id = 'a2'", {});
                   if (!n.ok()) return n.status();
                   return Reindex(tx, "t1", "a2");
                 })
                  .ok());
  EXPECT_THAT(walk(false), ElementsAre("a3-a5", "a5-z1"));

  // Archived: listed only with the archived customers.
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) {
                   return SetState(tx, "t1", "a5", v1::CUSTOMER_STATE_ARCHIVED);
                 })
                  .ok());
  EXPECT_THAT(walk(false), IsEmpty());
  EXPECT_THAT(walk(true), ElementsAre("a3-a5", "a5-z1"));
  EXPECT_THAT(walk(false), IsEmpty());
}

// A reader's snapshot may be older than the index (SQLite: another reader's catch-up moved
// the index on meanwhile): the list it makes from its rows is answered but not kept under
// the newer generation, so the next call lists the newer customer.
TEST_P(CustomerQueryTest, FindDuplicatesListFromAnOlderSnapshotIsNotKept) {
  Seed("t1", {{"b1", "Rina Wulandari", {"0812-2222-0001"}}, {"b2", "Dewi Kusuma", {}}});
  ASSERT_TRUE(Duplicates({}).ok());  // a list kept for the index as seeded
  DuplicateOptions options;
  options.index_generation = query_->IndexGeneration("t1");
  absl::StatusOr<DuplicatePage> pinned;
  ASSERT_TRUE(db_->InTransaction(
                     [&](db::Transaction& tx) -> absl::Status {
                       // The snapshot (on SQLite fixed by the first read).
                       auto rows = tx.Query("SELECT COUNT(*) FROM customers", {});
                       if (!rows.ok()) return rows.status();
                       // Meanwhile: a customer with b1's phone, and a search that brings
                       // the index up to it.
                       std::thread other([&] {
                         EXPECT_TRUE(
                             db_->InTransaction([&](db::Transaction& w) {
                                  return Insert(w, "t1", {"b3", "Ayu Pratiwi", {"0812 2222 0001"}});
                                })
                                 .ok());
                         EXPECT_THAT(SearchIds("pratiwi"), ElementsAre("b3"));
                       });
                       other.join();
                       pinned = query_->FindDuplicates(tx, "t1", options);
                       return pinned.status();
                     },
                     {.read_only = true})
                  .ok())
      << pinned.status();
  absl::StatusOr<DuplicatePage> fresh = Duplicates({});
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  ASSERT_EQ(fresh->pairs.size(), 1u);
  EXPECT_EQ(fresh->pairs[0].first_id + "-" + fresh->pairs[0].second_id, "b1-b3");
}

// The kept lists: found by tenant, request and index generation, a newer one never replaced
// by an older one, the least recently used dropped for the byte budget, none kept above it.
TEST(DuplicateListsTest, KeptByGenerationAndRequestWithinBudget) {
  auto list = [](uint64_t generation, size_t pairs) {
    auto l = std::make_shared<DuplicateList>();
    l->generation = generation;
    l->binding = "b";
    l->ids = {"c1", "c2"};
    l->pairs.resize(pairs);
    return l;
  };
  DuplicateLists lists(list(1, 1000)->bytes() * 2 + 100);  // room for two
  lists.Put("t1", list(1, 1000));
  EXPECT_NE(lists.Find("t1", 1, "b"), nullptr);
  EXPECT_EQ(lists.Find("t1", 2, "b"), nullptr);
  EXPECT_EQ(lists.Find("t1", 1, "other request"), nullptr);
  EXPECT_EQ(lists.Find("t2", 1, "b"), nullptr);
  lists.Put("t2", list(5, 1000));
  EXPECT_NE(lists.Find("t1", 1, "b"), nullptr);  // t1 used last: t2 is the coldest
  lists.Put("t3", list(7, 1000));
  EXPECT_NE(lists.Find("t1", 1, "b"), nullptr);
  EXPECT_EQ(lists.Find("t2", 5, "b"), nullptr);
  EXPECT_NE(lists.Find("t3", 7, "b"), nullptr);
  lists.Put("t1", list(2, 1000));  // in place of t1's older list
  EXPECT_EQ(lists.Find("t1", 1, "b"), nullptr);
  EXPECT_NE(lists.Find("t1", 2, "b"), nullptr);
  EXPECT_NE(lists.Find("t3", 7, "b"), nullptr);
  lists.Put("t1", list(1, 1000));  // older than the one kept: the newer stays
  EXPECT_NE(lists.Find("t1", 2, "b"), nullptr);
  lists.Put("t4", list(9, 100000));  // larger than the budget: not kept, nothing dropped
  EXPECT_EQ(lists.Find("t4", 9, "b"), nullptr);
  EXPECT_NE(lists.Find("t1", 2, "b"), nullptr);
  EXPECT_NE(lists.Find("t3", 7, "b"), nullptr);
  lists.Put("t3", list(8, 100000));  // too large: not kept, and t3's older list goes too
  EXPECT_EQ(lists.Find("t3", 7, "b"), nullptr);
  EXPECT_EQ(lists.Find("t3", 8, "b"), nullptr);
}

TEST_P(CustomerQueryTest, ConcurrentWritesAndDeletesKeepSearchExact) {
  // Writers add and remove customers sharing words at the same time; afterwards the index
  // holds exactly the customers left, found by word, prefix and typo.
  Seed("t1", {{"base", "Budi Hartono", {}, "", 1, "", 1}});
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        const std::string id = absl::StrCat("w", t, "_", i);
        absl::Status s = db_->InTransaction([&](db::Transaction& tx) {
          return Insert(
              tx, "t1",
              {id, absl::StrCat("Budi Kurniawan", t % 2 ? " Halim" : ""), {}, "", 1, "", 1});
        });
        if (!s.ok()) ++failures;
        if (i % 2 == 1) {
          s = db_->InTransaction([&](db::Transaction& tx) {
            auto n = tx.Execute("DELETE FROM customers WHERE tenant_id = 't1' AND customer_id = ?",
                                {id});
            if (!n.ok()) return n.status();
            return Reindex(tx, "t1", id);  // a missing row is removed from the index
          });
          if (!s.ok()) ++failures;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(SearchIds("kurniawan").size(), 16u);
  EXPECT_EQ(SearchIds("kurniawn").size(), 16u);  // typo, through the vocabulary
  EXPECT_EQ(SearchIds("budi").size(), 17u);
}

// --- Search from memory (SearchIndexCache) ---

// The tests of the indexes in memory themselves (SearchIndexCache).
class MemorySearchTest : public CustomerQueryTest {};

// The ids a search through `query` answers for tenant `tenant`.
std::vector<std::string> IdsOf(db::Database& db, const CustomerQuery& query,
                               const std::string& tenant, const std::string& text,
                               const std::string& filter = "") {
  std::vector<std::string> ids;
  SearchOptions options;
  options.query = text;
  options.filter = filter;
  absl::Status s = db.InTransaction(
      [&](db::Transaction& tx) {
        auto page = query.Search(tx, tenant, options);
        if (!page.ok()) return page.status();
        for (const auto& h : page->hits) ids.push_back(h.customer_id);
        return absl::OkStatus();
      },
      {.read_only = true});
  EXPECT_TRUE(s.ok()) << text << ": " << s;
  return ids;
}

// Two replicas, each with its own indexes over the one database: a customer written through
// one is found by the other at once (its search first applies the events committed before
// it; on PostgreSQL also those the sequencer has not numbered yet), and so are renames and
// erasures.
TEST_P(MemorySearchTest, MemoryIndexesOfReplicasFollowEachOthersWrites) {
  Seed("t1", SearchFixture());
  SearchIndexCache other(*db_, clock_);
  ASSERT_TRUE(other.Load("t1").ok());
  const CustomerQuery other_query(clock_, other);
  EXPECT_THAT(IdsOf(*db_, other_query, "t1", "budi"), ElementsAre("c01", "c08", "c05"));
  if (driver() == "sqlite") {
    EXPECT_EQ(other.stats().catch_ups_skipped, 1);  // nothing new since the load
  }
  absl::Status s = db_->InTransaction([&](db::Transaction& tx) {
    return Insert(tx, "t1", {"n01", "Wulan Sari", {"0896 1234 0000"}, "", 1, "", 1});
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(IdsOf(*db_, other_query, "t1", "wulan"), ElementsAre("n01"));
  EXPECT_THAT(IdsOf(*db_, other_query, "t1", "0896 1234 0000"), ElementsAre("n01"));
  // The first search applied the new customer, the second found nothing new. On
  // PostgreSQL a customer still staged for the sequencer is read again by every catch-up.
  if (driver() == "sqlite") {
    EXPECT_EQ(other.stats().catch_ups_skipped, 2);
  }
  EXPECT_THAT(SearchIds("wulan"), ElementsAre("n01"));  // numbered first on PostgreSQL
  s = db_->InTransaction([&](db::Transaction& tx) {
    if (absl::Status r = Rename(tx, "t1", "n01", "Wulan Anggraini"); !r.ok()) return r;
    return Reindex(tx, "t1", "n01");
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_THAT(IdsOf(*db_, other_query, "t1", "anggraini"), ElementsAre("n01"));
  EXPECT_TRUE(IdsOf(*db_, other_query, "t1", "0896 1234 0000").empty());
  s = db_->InTransaction(
      [&](db::Transaction& tx) { return SetState(tx, "t1", "n01", v1::CUSTOMER_STATE_ERASED); });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(IdsOf(*db_, other_query, "t1", "anggraini").empty());
  EXPECT_TRUE(SearchIds("anggraini").empty());
  EXPECT_EQ(other.stats().searches, 6);
  EXPECT_EQ(other.stats().customers, SearchFixture().size() - 2);  // merged and erased left out
}

// Read-your-writes under load: writers on one replica create customers and search for each
// at once, through their own replica and another, while more searches run on both; every
// search finds what its caller wrote before it.
TEST_P(MemorySearchTest, ConcurrentWritersFindTheirWritesOnEveryReplica) {
  Seed("t1", SearchFixture());
  SearchIndexCache other(*db_, clock_);
  ASSERT_TRUE(other.Load("t1").ok());
  const CustomerQuery other_query(clock_, other);
  std::atomic<int> missed{0};
  std::atomic<bool> writing{true};
  std::vector<std::thread> threads;
  for (int w = 0; w < 6; ++w) {
    threads.emplace_back([&, w] {
      for (int i = 0; i < 15; ++i) {
        const std::string id = absl::StrCat("rw", w, "x", i);
        const std::string word = absl::StrCat("Kirana", std::string(1, static_cast<char>('a' + w)),
                                              std::string(1, static_cast<char>('a' + i)));
        absl::Status s = db_->InTransaction([&](db::Transaction& tx) {
          return Insert(tx, "t1", {id, word + " Lestari", {}, "", 1, "", 1});
        });
        if (!s.ok()) ++missed;
        const CustomerQuery& replica = i % 2 == 0 ? *query_ : other_query;
        const std::vector<std::string> found = IdsOf(*db_, replica, "t1", word);
        if (std::find(found.begin(), found.end(), id) == found.end()) ++missed;
      }
    });
  }
  for (int r = 0; r < 4; ++r) {
    threads.emplace_back([&, r] {
      while (writing) IdsOf(*db_, r % 2 == 0 ? *query_ : other_query, "t1", "lestari");
    });
  }
  for (int w = 0; w < 6; ++w) threads[w].join();
  writing = false;
  for (size_t t = 6; t < threads.size(); ++t) threads[t].join();
  EXPECT_EQ(missed.load(), 0);
}

// Writers change two tenants while their indexes are loaded again and again and searched
// without pause; afterwards every search answers what an index loaded afresh answers.
TEST_P(MemorySearchTest, MemoryIndexesStayExactUnderConcurrentWritesLoadsAndSearches) {
  Seed("t1", SearchFixture());
  Seed("t2", SearchFixture());
  SearchIndexCache cache(*db_, clock_);
  const CustomerQuery memory_query(clock_, cache);
  std::atomic<bool> writing{true};
  std::atomic<int> failures{0};
  std::thread writer([&] {
    for (int i = 0; i < 120; ++i) {
      const std::string tenant = i % 2 ? "t2" : "t1";
      const std::string id = absl::StrCat("w", i);
      absl::Status s = db_->InTransaction([&](db::Transaction& tx) {
        return Insert(tx, tenant, {id, absl::StrCat("Sinta Dewi ", i % 7), {}, "", 1, "", 1});
      });
      if (s.ok() && i % 3 == 1) {
        s = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
          if (absl::Status r = Rename(tx, tenant, id, "Sinta Rahayu"); !r.ok()) return r;
          return Reindex(tx, tenant, id);
        });
      }
      if (s.ok() && i % 5 == 2) {
        s = db_->InTransaction([&](db::Transaction& tx) {
          return SetState(tx, tenant, id, v1::CUSTOMER_STATE_ERASED);
        });
      }
      if (!s.ok()) ++failures;
    }
    writing = false;
  });
  std::thread loader([&] {
    while (writing) {
      for (const char* tenant : {"t1", "t2"}) {
        if (!cache.Load(tenant).ok()) ++failures;
      }
    }
  });
  std::thread searcher([&] {
    while (writing) {
      for (const char* tenant : {"t1", "t2"}) IdsOf(*db_, memory_query, tenant, "sinta");
    }
  });
  writer.join();
  loader.join();
  searcher.join();
  EXPECT_EQ(failures.load(), 0);
  SearchIndexCache fresh(*db_, clock_);
  const CustomerQuery fresh_query(clock_, fresh);
  for (const char* tenant : {"t1", "t2"}) {
    ASSERT_TRUE(fresh.Load(tenant).ok());
    for (const char* text : {"sinta", "dewi", "rahayu", "sinta dewi 3"}) {
      const int64_t before = cache.stats().searches;
      const std::vector<std::string> found = IdsOf(*db_, memory_query, tenant, text);
      EXPECT_FALSE(found.empty()) << tenant << " " << text;
      EXPECT_EQ(found, IdsOf(*db_, fresh_query, tenant, text)) << tenant << " " << text;
      EXPECT_EQ(cache.stats().searches, before + 1) << "not answered from the followed index";
    }
  }
}

// At start, the tenants whose customers changed lately are loaded in the background,
// before their first search.
TEST_P(MemorySearchTest, MemoryIndexesOfRecentlyActiveTenantsLoadAtStart) {
  Seed("t1", SearchFixture());
  Seed("t2", {{"x01", "Budi Lain", {"0812-3456-789"}, "budi.santoso@gmail.com"}});
  if (driver() == "postgres") {
    ASSERT_TRUE(events::OutboxSequencer(*db_, nullptr).RunOnce().ok());
  }
  SearchIndexCache restarted(*db_, clock_);
  const CustomerQuery restarted_query(clock_, restarted);
  ASSERT_TRUE(restarted.QueueRecentlyActive(3, 10).ok());  // t2's 1 event and t1's last 2
  restarted.Start();
  restarted.WaitIdle();
  EXPECT_EQ(restarted.stats().tenants, 2u);
  EXPECT_THAT(IdsOf(*db_, restarted_query, "t1", "budi"), ElementsAre("c01", "c08", "c05"));
  EXPECT_THAT(IdsOf(*db_, restarted_query, "t2", "budi"), ElementsAre("x01"));
  EXPECT_EQ(restarted.stats().searches, 2);
  SearchIndexCache quiet(*db_, clock_);
  ASSERT_TRUE(quiet.QueueRecentlyActive(1, 10).ok());  // only the newest event's tenant
  quiet.Start();
  quiet.WaitIdle();
  EXPECT_EQ(quiet.stats().tenants, 1u);
}

// Under a memory budget that holds one tenant, loading a second drops the colder one; its
// next search waits for the loader thread (started on demand) to load it again, which drops
// the other.
TEST_P(MemorySearchTest, MemoryBudgetDropsTheColdestTenant) {
  Seed("t1", SearchFixture());
  Seed("t2", {{"x01", "Budi Lain", {"0812-3456-789"}, "budi.santoso@gmail.com"}});
  SearchIndexCacheOptions options;
  options.memory_budget_bytes = 1;  // the tenant just used is always kept
  SearchIndexCache small(*db_, clock_, options);
  const CustomerQuery small_query(clock_, small);
  ASSERT_TRUE(small.Load("t1").ok());
  clock_.Advance(absl::Seconds(1));
  ASSERT_TRUE(small.Load("t2").ok());
  EXPECT_EQ(small.stats().tenants, 1u);
  EXPECT_EQ(small.stats().evictions, 1);
  EXPECT_THAT(IdsOf(*db_, small_query, "t1", "budi"), ElementsAre("c01", "c08", "c05"));
  EXPECT_EQ(small.stats().searches, 1);
  EXPECT_EQ(small.stats().loads, 3);
  EXPECT_EQ(small.stats().evictions, 2);
  EXPECT_THAT(IdsOf(*db_, small_query, "t2", "budi"), ElementsAre("x01"));
  EXPECT_EQ(small.stats().searches, 2);
  EXPECT_EQ(small.stats().loads, 4);
  EXPECT_EQ(small.stats().tenants, 1u);
  small.Stop();
}

// A search that cannot wait for its tenant's index to load is refused with UNAVAILABLE
// (SEARCH_INDEX_LOADING), and so is a duplicate check; the load goes on, and once it is done
// both are answered. Nothing falls back to a slower path. The load is held back for sure:
// the database has one connection, which the caller's own transaction holds while it waits.
TEST_P(MemorySearchTest, SearchWhileTheIndexLoadsIsRefusedThenAnswered) {
  auto db = OpenDatabase(driver(), *dir_, "one-connection", 1 << 30, /*pool_size=*/1);
  ASSERT_NE(db, nullptr);
  absl::Status s = db->InTransaction([&](db::Transaction& tx) {
    for (const auto& f : SearchFixture()) {
      if (absl::Status st = Insert(tx, "t1", f); !st.ok()) return st;
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  SearchIndexCacheOptions options;
  options.load_wait = absl::Milliseconds(100);
  SearchIndexCache impatient(*db, clock_, options);
  const CustomerQuery impatient_query(clock_, impatient);
  SearchOptions search;
  search.query = "budi";
  absl::StatusOr<SearchPage> page;
  absl::StatusOr<DuplicatePage> dups;
  s = db->InTransaction(
      [&](db::Transaction& tx) {
        page = impatient_query.Search(tx, "t1", search);
        dups = impatient_query.FindDuplicates(tx, "t1", {});
        return absl::OkStatus();
      },
      {.read_only = true});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(page.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(errors::Reason(page.status()), "SEARCH_INDEX_LOADING");
  EXPECT_EQ(errors::Reason(dups.status()), "SEARCH_INDEX_LOADING");
  impatient.WaitIdle();
  EXPECT_THAT(IdsOf(*db, impatient_query, "t1", "budi"), ElementsAre("c01", "c08", "c05"));
  s = db->InTransaction(
      [&](db::Transaction& tx) {
        dups = impatient_query.FindDuplicates(tx, "t1", {});
        return absl::OkStatus();
      },
      {.read_only = true});
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(dups.ok()) << dups.status();
  impatient.Stop();
}

// A filter beyond the state is checked in SQL over what the index found; each candidate
// source then gathers 8 times its budget, so customers passing the filter are found behind
// more than a plain budget of others that do not.
TEST_P(MemorySearchTest, FilteredSearchLooksBeyondThePlainBudget) {
  std::vector<Fixture> fixtures;
  for (int i = 1; i <= 12; ++i) {
    fixtures.push_back({absl::StrCat("b", i < 10 ? "0" : "", i),
                        absl::StrCat("Budi ", i),
                        {},
                        "",
                        1,
                        i >= 11 ? "vip" : "retail",
                        10});
  }
  Seed("t1", fixtures);
  CustomerQueryOptions narrow;
  narrow.search_candidates = 2;
  const CustomerQuery narrow_query(clock_, *indexes_, narrow);
  EXPECT_THAT(IdsOf(*db_, narrow_query, "t1", "budi", "category_id = \"vip\""),
              ElementsAre("b11", "b12"));
  EXPECT_THAT(IdsOf(*db_, narrow_query, "t1", "budi"), ElementsAre("b01", "b02"));  // plain
}

// A filter so selective that 8 times the budget finds nobody passing it: the search looks
// again with 64 times the budget.
TEST_P(MemorySearchTest, SelectiveFilterWidensTheSearchOnce) {
  std::vector<Fixture> fixtures;
  for (int i = 1; i <= 40; ++i) {
    fixtures.push_back({absl::StrCat("b", i < 10 ? "0" : "", i),
                        absl::StrCat("Budi ", i),
                        {},
                        "",
                        1,
                        i == 40 ? "vip" : "retail",
                        10});
  }
  Seed("t1", fixtures);
  CustomerQueryOptions narrow;
  narrow.search_candidates = 2;  // 16, then 128 candidates per source
  const CustomerQuery narrow_query(clock_, *indexes_, narrow);
  EXPECT_THAT(IdsOf(*db_, narrow_query, "t1", "budi", "category_id = \"vip\""), ElementsAre("b40"));
}

// The planner's estimate of the rows `sql` returns (EXPLAIN's top line), or -1.
int64_t EstimatedRows(db::Database& db, const std::string& sql) {
  int64_t rows = -1;
  absl::Status s = db.InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto plan = tx.Query(absl::StrCat("EXPLAIN ", sql));
    if (!plan.ok()) return plan.status();
    if (plan->empty()) return absl::OkStatus();
    const std::string line = (*plan)[0].GetText(0);
    const size_t at = line.find(" rows=");
    if (at == std::string::npos) return absl::OkStatus();
    if (!absl::SimpleAtoi(line.substr(at + 6, line.find(' ', at + 6) - at - 6), &rows)) rows = -1;
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return rows;
}

// A backfill of ledger stats into rows that were all zero (an import, then the ledger's
// history): until the statistics are refreshed PostgreSQL believes nobody owes anything and
// plans `has_balance = true` lists as if one customer matched (docs/benchmarks.md: 250 ms for
// a page at 100,000 customers). RefreshIfStale, which customer-svc runs every second, brings
// the estimate to what the rows hold.
TEST(PlannerStatisticsTest, ABackfillOfStatsIsAnalyzedAtOnce) {
  auto dir = testing::TempDir::Create("kelola-planner");
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto pg = OpenDatabase("postgres", **dir, "planner");
  ASSERT_NE(pg, nullptr);
  std::vector<std::string> ids;
  for (int i = 0; i < 3000; ++i) ids.push_back(absl::StrCat("c", i));
  ASSERT_TRUE(
      pg->InTransaction([&](db::Transaction& tx) { return KeepStatsRows(tx, "t1", ids); }).ok());
  ASSERT_TRUE(pg->InTransaction([](db::Transaction& tx) {
                  return tx.ExecuteScript("ANALYZE customer_stats");
                }).ok());
  const std::string owing =
      "SELECT customer_id FROM customer_stats WHERE tenant_id = 't1' AND balance_minor > 0";
  // The backfill: a third of them owe.
  ASSERT_TRUE(pg->InTransaction([&](db::Transaction& tx) -> absl::Status {
                  for (int i = 0; i < 1000; ++i) {
                    CustomerStatsRecord stats;
                    stats.transaction_count = 1;
                    stats.total_spent_minor = 10000 + i;
                    stats.balance_minor = 500 + i;
                    stats.ledger_version = 1;
                    auto applied = UpsertStats(tx, "t1", ids[static_cast<size_t>(i) * 3], stats);
                    if (!applied.ok()) return applied.status();
                  }
                  return absl::OkStatus();
                }).ok());
  EXPECT_LE(EstimatedRows(*pg, owing), 10);  // the old picture

  auto refreshed = RefreshIfStale(*pg, StatsProjectionRule(), /*rows_written=*/1000);
  ASSERT_TRUE(refreshed.ok()) << refreshed.status();
  EXPECT_TRUE(*refreshed);
  EXPECT_GE(EstimatedRows(*pg, owing), 500);

  // A change below the rule's threshold (500 rows plus a tenth) does not analyze, as far as
  // the caller's count goes; SQLite keeps no statistics.
  auto small = RefreshIfStale(*pg, {"customer_stats", 1e9, 0.1, "ANALYZE customer_stats"}, 10);
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_FALSE(*small);
  auto lite = OpenDatabase("sqlite", **dir, "planner");
  ASSERT_NE(lite, nullptr);
  auto none = RefreshIfStale(*lite, StatsProjectionRule(), 1000000);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(*none);
}

INSTANTIATE_TEST_SUITE_P(Drivers, CustomerQueryTest, ::testing::Values("sqlite", "postgres"));
INSTANTIATE_TEST_SUITE_P(Drivers, ListTest, ::testing::Values("sqlite", "postgres"));
INSTANTIATE_TEST_SUITE_P(Drivers, MemorySearchTest, ::testing::Values("sqlite", "postgres"));

// Migration 23 on a database that had the SQL search tables: the consent state moves from
// customer_query_docs into customers (a customer without a document keeps what its flag
// tells), and the search tables go.
TEST_P(CustomerQueryTest, MigrationMovesConsentStateAndDropsTheSearchTables) {
  auto old = OpenDatabase(driver(), *dir_, "before23", 22);
  ASSERT_NE(old, nullptr);
  absl::Status s = old->InTransaction([&](db::Transaction& tx) -> absl::Status {
    for (const auto& [id, granted] : {std::pair{"w1", 0}, {"g1", 1}, {"m1", 1}}) {
      auto n = tx.Execute(
          "INSERT INTO customers (tenant_id, customer_id, state, display_name, name_folded, "
          "name_sort_key, consent_granted, create_time_micros, update_time_micros, version, "
          "data) VALUES ('t1', ?, 1, 'x', 'x', 'x', ?, 0, 0, 1, ?)",
          {std::string(id), int64_t{granted}, db::Bytes{""}});
      if (!n.ok()) return n.status();
    }
    // w1 withdrew its consent, g1 granted it; m1 (merged) has no document.
    for (const auto& [id, state] : {std::pair{"w1", 2}, {"g1", 1}}) {
      auto n = tx.Execute(
          "INSERT INTO customer_query_docs (tenant_id, customer_id, consent_state, name_words, "
          "company_words, phones, email) VALUES ('t1', ?, ?, 'x', '', '', '')",
          {std::string(id), int64_t{state}});
      if (!n.ok()) return n.status();
    }
    // A search table as databases from before this version hold (migration 21 once made
    // all six); a fresh database has only customer_query_docs.
    if (absl::Status c = tx.ExecuteScript(
            "CREATE TABLE search_terms (tenant_id TEXT NOT NULL, term TEXT NOT NULL, "
            "customer_id TEXT NOT NULL, PRIMARY KEY (tenant_id, term, customer_id))");
        !c.ok()) {
      return c;
    }
    return tx
        .Execute(
            "INSERT INTO search_terms (tenant_id, term, customer_id) VALUES "
            "('t1', 'x', 'w1')")
        .status();
  });
  ASSERT_TRUE(s.ok()) << s;
  s = db::ApplyMigrations(*old, Migrations());
  ASSERT_TRUE(s.ok()) << s;
  s = old->InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto rows = tx.Query(
        "SELECT customer_id, consent_state FROM customers WHERE tenant_id = 't1' ORDER BY "
        "customer_id");
    if (!rows.ok()) return rows.status();
    std::vector<std::string> got;
    for (const auto& r : *rows) got.push_back(absl::StrCat(r.GetText(0), "=", r.GetInt(1)));
    EXPECT_THAT(got, ElementsAre("g1=1", "m1=1", "w1=2"));
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  for (const char* table : {"customer_query_docs", "search_terms", "search_vocab",
                            "search_vocab_grams", "search_phones", "search_emails"}) {
    s = old->InTransaction(
        [&](db::Transaction& tx) {
          return tx.Query(absl::StrCat("SELECT COUNT(*) FROM ", table)).status();
        },
        {.read_only = true});
    EXPECT_FALSE(s.ok()) << table << " is still there";
  }
}

// --- Same results on both drivers ---

TEST(CustomerQueryDriversTest, IdenticalResultsOnBothDrivers) {
  auto dir = testing::TempDir::Create("kelola-query-both");
  ASSERT_TRUE(dir.ok());
  FakeClock clock(kNow);
  std::vector<std::string> outputs;
  for (const std::string driver : {"sqlite", "postgres"}) {
    auto db = OpenDatabase(driver, **dir, "both");
    ASSERT_NE(db, nullptr);
    SearchIndexCache indexes(*db, clock);
    const CustomerQuery query(clock, indexes);
    std::vector<Fixture> fixtures = SearchFixture();
    // Many similar names, so that ranking ties and fuzzy candidates matter.
    const char* first[] = {"Budi", "Budiman", "Bude", "Siti", "Sity", "Dewi", "Dewa", "Ani"};
    const char* last[] = {"Santoso", "Santosa", "Susanto", "Wijaya", "Widjaja", "Lestari"};
    int n = 0;
    for (const char* f : first) {
      for (const char* l : last) {
        ++n;
        fixtures.push_back({absl::StrCat("g", n < 10 ? "0" : "", n),
                            absl::StrCat(f, " ", l),
                            {absl::StrCat("0812 77", n < 10 ? "0" : "", n, " 1234")},
                            absl::StrCat(f, ".", l, "@mail.id"),
                            n % 7 == 0 ? 2 : 1,
                            n % 3 == 0 ? "retail" : "",
                            n % 40});
      }
    }
    ASSERT_TRUE(db->InTransaction([&](db::Transaction& tx) {
                    for (const auto& f : fixtures) {
                      if (absl::Status s = Insert(tx, "t1", f); !s.ok()) return s;
                    }
                    for (int i = 1; i <= n; ++i) {
                      auto st = UpsertStats(tx, "t1", absl::StrCat("g", i < 10 ? "0" : "", i),
                                            Stats((i * 7919) % 100 * 1000, i % 4, (i % 5 - 2) * 100,
                                                  i % 6 == 0 ? std::optional<int>() : i % 50));
                      if (!st.ok()) return st.status();
                    }
                    return absl::OkStatus();
                  }).ok());
    std::string out;
    ASSERT_TRUE(db->InTransaction([&](db::Transaction& tx) {
                    for (const std::string q :
                         {"budi", "bud", "santosa", "budi santoso", "wijaja", "sity", "dewi l",
                          "0812", "0812 77", "1234", "+62 812", "budi.s", "ani", "an"}) {
                      for (bool archived : {false, true}) {
                        SearchOptions o;
                        o.query = q;
                        o.show_archived = archived;
                        if (archived) o.order_by = "total_spent desc";
                        o.page_size = 100;
                        auto page = query.Search(tx, "t1", o);
                        if (!page.ok()) return page.status();
                        absl::StrAppend(&out, q, archived, ":");
                        for (const auto& h : page->hits) {
                          absl::StrAppend(&out, h.customer_id, "/", h.score, "/",
                                          h.matches[0].field, ",");
                        }
                        absl::StrAppend(&out, "\n");
                      }
                    }
                    for (const std::string order :
                         {"display_name", "display_name desc", "create_time", "total_spent desc",
                          "balance desc", "last_activity_time desc", "last_activity_time"}) {
                      for (const std::string filter :
                           {"", "has_balance = true", "top_spender_percent = 20",
                            "category_id = \"retail\" AND no_transactions = false",
                            "inactive_for_days = 20"}) {
                        ListSpec spec;
                        spec.order_by = order;
                        spec.filter = filter;
                        spec.page_size = 7;
                        spec.show_archived = true;
                        absl::StrAppend(&out, order, "|", filter, ":");
                        for (int p = 0; p < 20; ++p) {
                          auto page = query.List(tx, "t1", spec);
                          if (!page.ok()) return page.status();
                          for (const auto& i : page->items)
                            absl::StrAppend(&out, i.customer_id, ",");
                          if (page->next_page_token.empty()) break;
                          spec.page_token = page->next_page_token;
                        }
                        absl::StrAppend(&out, "\n");
                      }
                    }
                    DuplicateOptions d;
                    d.page_size = 200;
                    d.min_score = 0.5;
                    auto dups = query.FindDuplicates(tx, "t1", d);
                    if (!dups.ok()) return dups.status();
                    for (const auto& p : dups->pairs) {
                      absl::StrAppend(&out, p.first_id, "-", p.second_id, "/", p.score, ",");
                    }
                    return absl::OkStatus();
                  }).ok());
    outputs.push_back(out);
  }
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0], outputs[1]);
  EXPECT_GT(outputs[0].size(), 2000u);
}

}  // namespace
}  // namespace kelola::customer::store
