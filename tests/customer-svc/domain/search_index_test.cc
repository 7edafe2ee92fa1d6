// The in-memory quick-search index of one tenant: name fragments, typos, Thai and Indonesian
// names, phones typed any way, emails, states and filters, candidate budgets, paging, and
// upkeep through updates and removals.

#include "customer-svc/domain/search_index.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "libs/phone/phone_normalizer.h"

// Fixtures are aggregates whose trailing members keep their defaults.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace kelola::customer::domain {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Person {
  std::string id;
  std::string name;
  std::vector<std::string> phones;  // as typed
  std::string email;
  int state = v1::CUSTOMER_STATE_ACTIVE;
  std::string company;
  std::string region = "ID";
};

SearchDoc DocOf(const Person& p) {
  static const phone::PhoneNormalizer* const kPhones = new phone::PhoneNormalizer();
  v1::Customer c;
  c.set_customer_id(p.id);
  c.set_display_name(p.name);
  c.set_company_name(p.company);
  c.set_email(p.email);
  c.set_state(static_cast<v1::CustomerState>(p.state));
  for (size_t i = 0; i < p.phones.size(); ++i) {
    auto normalized = kPhones->Normalize(p.phones[i], p.region);
    EXPECT_TRUE(normalized.ok()) << p.phones[i] << ": " << normalized.status();
    v1::Phone* out = i == 0 ? c.mutable_phone() : c.add_additional_phones();
    out->set_raw(p.phones[i]);
    if (normalized.ok()) out->set_e164(normalized->e164);
  }
  auto doc = SearchDocOf(c);
  EXPECT_TRUE(doc.has_value());
  return doc.value_or(SearchDoc{});
}

std::vector<Person> Indonesians() {
  return {
      {"c01", "Budi Santoso", {"0812-3456-789"}, "budi.santoso@gmail.com"},
      {"c02", "Siti Nurhaliza", {"0813 9876 5432", "021 555 0123"}, "siti@yahoo.co.id"},
      {"c03", "Débora Simanjuntak", {"0857-1111-2222"}, ""},
      {"c04", "Agus Salim", {"0811 2222 3333"}, "agus@example.id", v1::CUSTOMER_STATE_ARCHIVED},
      {"c05", "Budiman Hartono", {"0878 4444 5555"}, "", 1, "Toko Maju Jaya"},
      {"c08", "Budi Santosa", {"0812 0000 1111"}, ""},
  };
}

std::vector<Person> Thais() {
  return {{"t01", "สมชาย ใจดี", {"081 234 5678"}, "", 1, "", "TH"},
          {"t02", "ณัฐวุฒิ ศรีสุข", {"089 765 4321"}, "", 1, "", "TH"},
          {"t03", "เกษม สุขใจ", {"086 111 2233"}, "", 1, "", "TH"}};
}

class SearchIndexTest : public ::testing::Test {
 protected:
  void Add(const std::vector<Person>& people) {
    for (const Person& p : people) index_.Upsert(DocOf(p));
  }

  SearchIndexResult Search(const std::string& q, const std::string& region = "ID") {
    SearchIndexQuery query;
    query.query = q;
    query.phone_region = region;
    return index_.Search(query);
  }

  std::vector<std::string> Ids(const std::string& q, const std::string& region = "ID") {
    std::vector<std::string> ids;
    for (const auto& h : Search(q, region).hits) ids.push_back(h.customer_id);
    return ids;
  }

  SearchIndex index_;
};

// The generation moves with every change and with nothing else, and no two indexes share
// one (what a reader caches from an index is keyed by it).
TEST_F(SearchIndexTest, GenerationMovesWithEveryChangeOnly) {
  const uint64_t empty = index_.generation();
  Add(Indonesians());
  const uint64_t loaded = index_.generation();
  EXPECT_NE(loaded, empty);
  Search("budi");
  index_.SameEmail("c01");
  index_.ForEachSmallGroup(64, [](const std::vector<std::string_view>&) {});
  EXPECT_EQ(index_.generation(), loaded);
  index_.Remove("nobody");  // not held: nothing changes
  EXPECT_EQ(index_.generation(), loaded);
  index_.Upsert(DocOf({"c09", "Budi Hartono"}));
  const uint64_t upserted = index_.generation();
  EXPECT_NE(upserted, loaded);
  index_.Remove("c09");
  EXPECT_NE(index_.generation(), upserted);
  EXPECT_NE(index_.generation(), loaded);  // the same customers again, yet another generation

  SearchIndex other;
  EXPECT_NE(other.generation(), index_.generation());
  const uint64_t before_load = other.generation();
  std::vector<SearchDoc> docs;
  for (const Person& p : Thais()) docs.push_back(DocOf(p));
  other.Load(docs);
  EXPECT_NE(other.generation(), before_load);
}

TEST_F(SearchIndexTest, NameFragmentsWhileTyping) {
  Add(Indonesians());
  // Exact words before longer words that start with the query.
  EXPECT_THAT(Ids("bud"), ElementsAre("c01", "c08", "c05"));
  EXPECT_THAT(Ids("budi"), ElementsAre("c01", "c08", "c05"));
  EXPECT_THAT(Ids("Budi Santoso"), ElementsAre("c01", "c08"));
  EXPECT_THAT(Ids("BUDI   SANTOSO  "), ElementsAre("c01", "c08"));
  const auto exact = Search("Budi Santoso");
  ASSERT_EQ(exact.hits.size(), 2u);
  EXPECT_EQ(exact.hits[0].score, 1.0);
  EXPECT_TRUE(exact.hits[0].matches[0].exact);
  EXPECT_EQ(exact.hits[0].matches[0].field, v1::SEARCH_FIELD_DISPLAY_NAME);
  EXPECT_LT(exact.hits[1].score, 1.0);
  // Company names.
  const auto company = Search("toko maju");
  ASSERT_EQ(company.hits.size(), 1u);
  EXPECT_EQ(company.hits[0].customer_id, "c05");
  EXPECT_EQ(company.hits[0].matches[0].field, v1::SEARCH_FIELD_COMPANY_NAME);
  EXPECT_THAT(Ids("zzzz"), IsEmpty());
}

TEST_F(SearchIndexTest, TyposAndAccents) {
  Add(Indonesians());
  EXPECT_THAT(Ids("budi santosa"), ElementsAre("c08", "c01"));
  EXPECT_THAT(Ids("Simanjuntek"), ElementsAre("c03"));
  EXPECT_THAT(Ids("Nurhalizah"), ElementsAre("c02"));
  EXPECT_THAT(Ids("debora"), ElementsAre("c03"));
  EXPECT_THAT(Ids("DÉBORA simanjuntak"), ElementsAre("c03"));
}

TEST_F(SearchIndexTest, ThaiNamesMatchInsideWords) {
  Add(Thais());
  EXPECT_THAT(Ids("ชาย", "TH"), ElementsAre("t01"));
  EXPECT_THAT(Ids("สมชาย", "TH"), ElementsAre("t01"));
  EXPECT_THAT(Ids("ใจดี", "TH"), ElementsAre("t01"));
  EXPECT_THAT(Ids("วุฒิ", "TH"), ElementsAre("t02"));
  // A word starting with the query ranks above one only containing it.
  EXPECT_THAT(Ids("สุข", "TH"), ElementsAre("t03", "t02"));
  EXPECT_THAT(Ids("สมชาย ใจดี", "TH"), ElementsAre("t01"));
  EXPECT_THAT(Ids("สม", "TH"), ElementsAre("t01"));
}

TEST_F(SearchIndexTest, PhonesTypedAnyWay) {
  Add(Indonesians());
  for (const std::string q : {"0812-3456-789", "+62 812 3456 789", "628123456789", "08123456789",
                              "(0812) 3456 789", "0812.3456.789"}) {
    const auto result = Search(q);
    ASSERT_FALSE(result.hits.empty()) << q;
    EXPECT_EQ(result.hits[0].customer_id, "c01") << q;
    EXPECT_EQ(result.hits[0].score, 1.0) << q;
    EXPECT_EQ(result.hits[0].matches[0].field, v1::SEARCH_FIELD_PHONE) << q;
    EXPECT_TRUE(result.hits[0].matches[0].exact) << q;
    EXPECT_EQ(result.hits[0].matches[0].value, "+628123456789") << q;
  }
  EXPECT_EQ(Ids("0812-345")[0], "c01");
  EXPECT_THAT(Ids("3456"), ElementsAre("c01"));
  EXPECT_THAT(Ids("6789"), ElementsAre("c01"));
  EXPECT_THAT(Ids("0812"), ElementsAre("c01", "c08"));
  const auto additional = Search("021 555 0123");
  ASSERT_EQ(additional.hits.size(), 1u);
  EXPECT_EQ(additional.hits[0].customer_id, "c02");
  EXPECT_EQ(additional.hits[0].matches[0].field, v1::SEARCH_FIELD_ADDITIONAL_PHONE);
  EXPECT_THAT(Ids("08"), IsEmpty());
  Add(Thais());
  for (const std::string q : {"081 234 5678", "+66 81 234 5678", "66812345678", "๐๘๑ ๒๓๔"}) {
    ASSERT_FALSE(Ids(q, "TH").empty()) << q;
    EXPECT_EQ(Ids(q, "TH")[0], "t01") << q;
  }
}

// Suffixes that share their first digits and differ after them, that are prefixes of one
// another or only three digits long are each found by keys of three digits and more, in
// an index loaded at once as in one built by upserts, and are gone after an update and a
// removal.
TEST_F(SearchIndexTest, PhoneSuffixesSharingTheirFirstDigits) {
  const std::vector<Person> people = {{"p1", "Ani", {"0812-3456-7001"}, ""},
                                      {"p2", "Bayu", {"0812-3456-7002"}, ""},
                                      {"p3", "Citra", {"0812-3456-7100"}, ""},
                                      {"p4", "Dewi", {"0813-3456-7001"}, ""},
                                      {"p5", "Eko", {"021 3456 700"}, ""}};
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"3456700", {"p1", "p2", "p4", "p5"}},
      {"34567001", {"p1", "p4"}},
      {"3456", {"p1", "p2", "p3", "p4", "p5"}},
      {"71", {}},  // shorter than a search key
      {"7100", {"p3"}},
      {"700", {"p1", "p2", "p4", "p5"}}};
  std::vector<SearchDoc> docs;
  for (const Person& p : people) docs.push_back(DocOf(p));
  SearchIndex loaded;
  loaded.Load(docs);
  Add(people);
  for (const auto& [q, ids] : expected) {
    EXPECT_THAT(Ids(q), ::testing::UnorderedElementsAreArray(ids)) << q;
    SearchIndexQuery query;
    query.query = q;
    std::vector<std::string> found;
    for (const auto& h : loaded.Search(query).hits) found.push_back(h.customer_id);
    EXPECT_THAT(found, ::testing::UnorderedElementsAreArray(ids)) << q << " (loaded)";
  }
  index_.Upsert(DocOf({"p1", "Ani", {"0877-1234-5678"}, ""}));
  index_.Remove("p4");
  EXPECT_THAT(Ids("3456700"), ::testing::UnorderedElementsAre("p2", "p5"));
  EXPECT_THAT(Ids("12345678"), ElementsAre("p1"));
}

// A suffix entry carries the suffix's first twelve characters: suffixes longer than that
// which share them are told apart by their text (here national numbers of fourteen digits,
// two of them equal), keys of twelve digits and fewer are looked up and matched on the
// entries and longer ones on the text, in an index loaded at once as in one built by upserts,
// and in the latter after an update and a removal.
TEST_F(SearchIndexTest, PhoneSuffixesBeyondTheirFirstTwelveCharacters) {
  auto doc = [](const std::string& id, const std::string& e164) {
    SearchDoc d;
    d.customer_id = id;
    d.name_words = "toko";
    d.phones = {e164};
    return d;
  };
  const std::vector<SearchDoc> docs = {doc("l3", "+4930123456789012"),
                                       doc("l1", "+4930123456789012"),
                                       doc("l2", "+4930123456789013"), doc("l4", "+4930123456789")};
  const std::vector<std::pair<std::string, std::vector<std::string>>> expected = {
      {"30123456789012", {"l1", "l3"}},           // fourteen digits: the text decides
      {"30123456789013", {"l2"}},                 //
      {"3012345678901", {"l1", "l2", "l3"}},      // thirteen
      {"301234567890", {"l1", "l2", "l3"}},       // twelve: the entry alone
      {"30123456789", {"l1", "l2", "l3", "l4"}},  // l4's whole number
      {"123456789012", {"l1", "l3"}},             // inner suffixes of twelve digits
      {"23456789013", {"l2"}},
      {"3456789", {"l1", "l2", "l3", "l4"}}};
  SearchIndex loaded;
  loaded.Load(docs);
  for (const SearchDoc& d : docs) index_.Upsert(d);
  auto found = [](const SearchIndex& index, const std::string& q) {
    SearchIndexQuery query;
    query.query = q;
    std::vector<std::string> ids;
    for (const auto& h : index.Search(query).hits) ids.push_back(h.customer_id);
    return ids;
  };
  for (const auto& [q, ids] : expected) {
    EXPECT_THAT(found(index_, q), ::testing::UnorderedElementsAreArray(ids)) << q;
    EXPECT_THAT(found(loaded, q), ::testing::UnorderedElementsAreArray(ids)) << q << " (loaded)";
  }
  index_.Upsert(doc("l1", "+4930123456789999"));
  index_.Remove("l3");
  EXPECT_THAT(found(index_, "30123456789012"), IsEmpty());
  EXPECT_THAT(found(index_, "30123456789999"), ElementsAre("l1"));
  EXPECT_THAT(found(index_, "3012345678901"), ElementsAre("l2"));
  EXPECT_THAT(found(index_, "301234567899"), ElementsAre("l1"));
}

// Equal suffixes are ordered by customer id: a source whose budget binds on a suffix that
// forty customers share contributes the first customers by id, whatever order they came in.
TEST_F(SearchIndexTest, EqualPhoneSuffixesInCustomerIdOrder) {
  std::vector<Person> people;
  for (int i = 0; i < 40; ++i) {
    const int n = (i * 17) % 40;  // out of id order
    people.push_back({absl::StrCat("s", n < 10 ? "0" : "", n),
                      "Toko",
                      {absl::StrCat("0812 00", 10 + n, " 5678")},
                      ""});
  }
  Add(people);
  SearchIndexQuery query;
  query.query = "5678";
  query.search_candidates = 5;
  std::vector<std::string> ids;
  for (const auto& h : index_.Search(query).hits) ids.push_back(h.customer_id);
  EXPECT_THAT(ids, ElementsAre("s00", "s01", "s02", "s03", "s04"));
}

TEST_F(SearchIndexTest, EmailsByCaseInsensitivePrefix) {
  Add(Indonesians());
  const auto exact = Search("BUDI.SANTOSO@GMAIL.COM");
  ASSERT_EQ(exact.hits.size(), 1u);
  EXPECT_EQ(exact.hits[0].matches[0].field, v1::SEARCH_FIELD_EMAIL);
  EXPECT_TRUE(exact.hits[0].matches[0].exact);
  EXPECT_THAT(Ids("siti@ya"), ElementsAre("c02"));
  const auto both = Search("siti");
  ASSERT_EQ(both.hits.size(), 1u);
  ASSERT_EQ(both.hits[0].matches.size(), 2u);
  EXPECT_EQ(both.hits[0].matches[0].field, v1::SEARCH_FIELD_DISPLAY_NAME);
  EXPECT_EQ(both.hits[0].matches[1].field, v1::SEARCH_FIELD_EMAIL);
  EXPECT_EQ(both.hits[0].matches[1].value, "siti@yahoo.co.id");
}

// The index keeps an email's first four bytes beside the customer and reads the email only
// where they agree with the query: emails shorter than that, queries shorter or longer, and
// an email changed or dropped by an update still match exactly as the emails themselves say.
TEST_F(SearchIndexTest, EmailsThroughTheirFirstBytes) {
  Add(Indonesians());
  Add({{"e01", "Rudi Hartono", {}, "ab@x.id"},
       {"e02", "Wati Lestari", {}, "abcd@x.id"},
       {"e03", "Yanti Putri", {}, "z@b"}});
  EXPECT_THAT(Ids("z@b"), ElementsAre("e03"));  // shorter than the four bytes kept
  EXPECT_THAT(Ids("z@"), ElementsAre("e03"));
  EXPECT_THAT(Ids("z@bc"), IsEmpty());
  EXPECT_THAT(Ids("ab"), ElementsAre("e01", "e02"));
  EXPECT_THAT(Ids("ab@"), ElementsAre("e01"));
  EXPECT_THAT(Ids("ab@x.id"), ElementsAre("e01"));
  EXPECT_THAT(Ids("abc"), ElementsAre("e02"));
  EXPECT_THAT(Ids("abcd@"), ElementsAre("e02"));
  EXPECT_THAT(Ids("abcx"), IsEmpty());
  index_.Upsert(DocOf({"e02", "Wati Lestari", {}, "ab@y.id"}));
  EXPECT_THAT(Ids("abc"), IsEmpty());
  EXPECT_THAT(Ids("ab@"), ElementsAre("e01", "e02"));
  index_.Upsert(DocOf({"e01", "Rudi Hartono", {}, ""}));
  EXPECT_THAT(Ids("ab@"), ElementsAre("e02"));
}

TEST_F(SearchIndexTest, StatesAndFilterPredicate) {
  Add(Indonesians());
  EXPECT_THAT(Ids("agus"), IsEmpty());
  SearchIndexQuery query;
  query.query = "agus";
  query.states = {v1::CUSTOMER_STATE_ACTIVE, v1::CUSTOMER_STATE_ARCHIVED};
  EXPECT_EQ(index_.Search(query).hits.size(), 1u);
  query.query = "budi";
  query.states = {v1::CUSTOMER_STATE_ACTIVE};
  const auto filtered = index_.Search(query, [](std::string_view id) { return id != "c01"; }).hits;
  ASSERT_EQ(filtered.size(), 2u);
  EXPECT_EQ(filtered[0].customer_id, "c08");
  // Merged and erased customers have no document.
  v1::Customer merged;
  merged.set_customer_id("c09");
  merged.set_state(v1::CUSTOMER_STATE_MERGED);
  EXPECT_FALSE(SearchDocOf(merged).has_value());
}

TEST(SearchIndexBudgetTest, EachSourceTakesTheFirstAcceptedIdsUpToItsBudget) {
  SearchIndex index({.name_similarity_threshold = 0.3, .search_candidates = 3});
  for (int i = 9; i >= 0; --i) {
    index.Upsert(DocOf({absl::StrCat("k", i), absl::StrCat("Wati Nomor", i), {}, ""}));
  }
  SearchIndexQuery query;
  query.query = "wati";
  std::vector<std::string> ids;
  for (const auto& h : index.Search(query).hits) ids.push_back(h.customer_id);
  EXPECT_THAT(ids, ElementsAre("k0", "k1", "k2"));
  // The filter applies before the budget.
  ids.clear();
  for (const auto& h : index.Search(query, [](std::string_view id) { return id != "k1"; }).hits) {
    ids.push_back(h.customer_id);
  }
  EXPECT_THAT(ids, ElementsAre("k0", "k2", "k3"));
  // A query may widen the budget (a filtered search gathers more before its SQL check).
  query.search_candidates = 5;
  ids.clear();
  for (const auto& h : index.Search(query).hits) ids.push_back(h.customer_id);
  EXPECT_THAT(ids, ElementsAre("k0", "k1", "k2", "k3", "k4"));
}

// Duplicate candidates (C7): one customer's name neighbours and same-email customers, and the
// tenant's small groups.
TEST_F(SearchIndexTest, DuplicateCandidatesOfOneCustomer) {
  Add(Indonesians());
  Add({{"c10", "Budi Santosa", {}, "BUDI.SANTOSO@gmail.com"},
       {"c11", "Wulan Hartanto", {}, ""},
       {"c12", "Siti Aminah", {}, "", v1::CUSTOMER_STATE_ARCHIVED},
       {"c13", "Toko Maju Jaya", {}, ""}});
  // Its words and their readings (santoso ~ santosa, budi ~ budiman), and its whole name;
  // never itself, nor a customer sharing none of them (c11).
  EXPECT_THAT(index_.NameNeighbours("c01", {v1::CUSTOMER_STATE_ACTIVE}, 200),
              ::testing::UnorderedElementsAre("c05", "c08", "c10"));
  // Listed states only; an unknown customer has none.
  EXPECT_THAT(index_.NameNeighbours("c02", {v1::CUSTOMER_STATE_ACTIVE}, 200), IsEmpty());
  EXPECT_THAT(
      index_.NameNeighbours("c02", {v1::CUSTOMER_STATE_ACTIVE, v1::CUSTOMER_STATE_ARCHIVED}, 200),
      ElementsAre("c12"));
  EXPECT_THAT(index_.NameNeighbours("nobody", {v1::CUSTOMER_STATE_ACTIVE}, 200), IsEmpty());
  // The company field counts as a name: "Toko Maju Jaya" is c05's company and c13's name.
  EXPECT_THAT(index_.NameNeighbours("c13", {v1::CUSTOMER_STATE_ACTIVE}, 200), ElementsAre("c05"));
  // At most `budget` per reading, in customer-id order.
  EXPECT_THAT(index_.NameNeighbours("c01", {v1::CUSTOMER_STATE_ACTIVE}, 1),
              ::testing::IsSupersetOf({"c05"}));
  EXPECT_THAT(index_.SameEmail("c01"), ElementsAre("c10"));  // case folded
  EXPECT_THAT(index_.SameEmail("c03"), IsEmpty());           // no email
  index_.Remove("c10");
  EXPECT_THAT(index_.SameEmail("c01"), IsEmpty());
}

// The same phone is the same E.164, however typed, among any of a customer's phones; the
// same national number from another country is not.
TEST_F(SearchIndexTest, CustomersSharingAPhone) {
  Add(Indonesians());
  Add({{"c20", "Budi S.", {"+62 812 3456 789"}, ""},               // c01's phone
       {"c21", "Rina", {"0899 1234 5678", "(021) 5550123"}, ""},   // c02's second phone
       {"c22", "Agus", {"0811-2222-3333", "0811-2222-3333"}, ""},  // c04's, twice
       {"c23", "Pak Budi", {"0812 345 678"}, ""},                  // national 812345678
       {"t09", "สมชาย", {"081 234 5678"}, "", 1, "", "TH"}});      // the same, in Thailand
  EXPECT_THAT(index_.SamePhone("c01"), ElementsAre("c20"));
  EXPECT_THAT(index_.SamePhone("c20"), ElementsAre("c01"));
  EXPECT_THAT(index_.SamePhone("c02"), ElementsAre("c21"));
  EXPECT_THAT(index_.SamePhone("c21"), ElementsAre("c02"));
  EXPECT_THAT(index_.SamePhone("c04"), ElementsAre("c22"));  // archived ones too
  EXPECT_THAT(index_.SamePhone("c22"), ElementsAre("c04"));
  // c23's and t09's numbers are one national number (a search finds both by it).
  EXPECT_THAT(Ids("812345678"), ::testing::IsSupersetOf({"c23", "t09"}));
  EXPECT_THAT(index_.SamePhone("c23"), IsEmpty());
  EXPECT_THAT(index_.SamePhone("t09"), IsEmpty());
  EXPECT_THAT(index_.SamePhone("nobody"), IsEmpty());

  std::vector<std::vector<std::string>> groups;
  auto collect = [&] {
    groups.clear();
    index_.ForEachPhoneGroup([&](const std::vector<std::string_view>& ids) {
      groups.emplace_back(ids.begin(), ids.end());
    });
  };
  collect();
  EXPECT_THAT(groups,
              ::testing::UnorderedElementsAre(ElementsAre("c01", "c20"), ElementsAre("c02", "c21"),
                                              ElementsAre("c04", "c22")));
  Add({{"c24", "Budi lagi", {"0812-3456-789"}, ""}});
  index_.Remove("c21");
  collect();
  EXPECT_THAT(groups, ::testing::UnorderedElementsAre(ElementsAre("c01", "c20", "c24"),
                                                      ElementsAre("c04", "c22")));
  EXPECT_THAT(index_.SamePhone("c02"), IsEmpty());
  EXPECT_THAT(index_.SamePhone("c01"), ElementsAre("c20", "c24"));
}

// Past twelve digits, numbers are told apart by more than the entries' nibbles (which hold
// twelve); an index built at once (Load) pairs as one built customer by customer.
TEST_F(SearchIndexTest, CustomersSharingALongPhoneInAnIndexBuiltAtOnce) {
  std::vector<SearchDoc> docs;
  for (const Person& p : std::vector<Person>{
           {"d01", "Andi", {"0812 3456 78901"}, ""},                     // twelve digits
           {"d02", "Andi W", {"+62 812-3456-78901"}, ""},                // d01's
           {"d03", "Dewi", {"0812 3456 7890"}, ""},                      // its first eleven
           {"g01", "Hans", {"+49 30 1234567890"}, "", 1, "", "DE"},      // twelve digits
           {"g02", "Jonas", {"+49 30 12345678901"}, "", 1, "", "DE"},    // thirteen
           {"g03", "Lena", {"030 12345678901"}, "", 1, "", "DE"},        // g02's
           {"g04", "Paul", {"+49 30 12345678902"}, "", 1, "", "DE"}}) {  // the last differs
    docs.push_back(DocOf(p));
  }
  index_.Load(docs);
  EXPECT_THAT(index_.SamePhone("d01"), ElementsAre("d02"));
  EXPECT_THAT(index_.SamePhone("d03"), IsEmpty());
  EXPECT_THAT(index_.SamePhone("g01"), IsEmpty());
  EXPECT_THAT(index_.SamePhone("g02"), ElementsAre("g03"));
  EXPECT_THAT(index_.SamePhone("g04"), IsEmpty());
  std::vector<std::vector<std::string>> groups;
  index_.ForEachPhoneGroup([&](const std::vector<std::string_view>& ids) {
    groups.emplace_back(ids.begin(), ids.end());
  });
  EXPECT_THAT(groups, ::testing::UnorderedElementsAre(ElementsAre("d01", "d02"),
                                                      ElementsAre("g02", "g03")));
}

TEST_F(SearchIndexTest, DuplicateGroupsOfTheTenant) {
  Add(Indonesians());
  Add({{"c10", "Budi Santosa", {}, "siti@yahoo.co.id"},
       {"c11", "Siti Rahma", {}, "SITI@yahoo.co.id"}});
  std::vector<std::vector<std::string>> emails;
  index_.ForEachEmailGroup([&](const std::vector<std::string_view>& ids) {
    emails.emplace_back(ids.begin(), ids.end());
  });
  EXPECT_THAT(emails, ElementsAre(ElementsAre("c02", "c10", "c11")));
  std::vector<std::vector<std::string>> groups;
  index_.ForEachSmallGroup(2, [&](const std::vector<std::string_view>& ids) {
    groups.emplace_back(ids.begin(), ids.end());
  });
  // Groups of exactly two with max_group 2: "santosa" and the whole name "budi santosa"
  // (c08, c10), "siti" (c02, c11); "budi" is held by three (c01, c08, c10).
  EXPECT_THAT(groups,
              ::testing::UnorderedElementsAre(ElementsAre("c08", "c10"), ElementsAre("c08", "c10"),
                                              ElementsAre("c02", "c11")));
  groups.clear();
  index_.ForEachSmallGroup(64, [&](const std::vector<std::string_view>& ids) {
    groups.emplace_back(ids.begin(), ids.end());
  });
  EXPECT_THAT(groups, ::testing::Contains(ElementsAre("c01", "c08", "c10")));
}

TEST_F(SearchIndexTest, PagesAfterTheLastHit) {
  Add(Indonesians());
  SearchIndexQuery query;
  query.query = "budi";
  query.limit = 2;
  const auto first = index_.Search(query);
  ASSERT_EQ(first.hits.size(), 2u);
  EXPECT_TRUE(first.more);
  query.after.emplace(first.hits[1].score, first.hits[1].customer_id);
  const auto second = index_.Search(query);
  ASSERT_EQ(second.hits.size(), 1u);
  EXPECT_EQ(second.hits[0].customer_id, "c05");
  EXPECT_FALSE(second.more);
}

TEST_F(SearchIndexTest, UpdatesAndRemovalsLeaveNothingBehind) {
  const size_t empty_bytes = index_.bytes();
  Add(Indonesians());
  EXPECT_EQ(index_.size(), 6u);
  const size_t full_bytes = index_.bytes();
  EXPECT_GT(full_bytes, empty_bytes);
  // Renamed, phone dropped, email dropped.
  index_.Upsert(DocOf({"c01", "Bambang Pamungkas", {}, ""}));
  EXPECT_EQ(index_.size(), 6u);
  EXPECT_THAT(Ids("budi"), ElementsAre("c08", "c05"));
  EXPECT_THAT(Ids("bambang"), ElementsAre("c01"));
  EXPECT_THAT(Ids("0812-3456-789"), IsEmpty());
  EXPECT_THAT(Ids("budi.santoso@gmail.com"), IsEmpty());
  // Archived, then restored.
  Person archived{"c03", "Débora Simanjuntak", {"0857-1111-2222"}, ""};
  archived.state = v1::CUSTOMER_STATE_ARCHIVED;
  index_.Upsert(DocOf(archived));
  EXPECT_THAT(Ids("debora"), IsEmpty());
  archived.state = v1::CUSTOMER_STATE_ACTIVE;
  index_.Upsert(DocOf(archived));
  EXPECT_THAT(Ids("debora"), ElementsAre("c03"));
  // Removed: gone from words, typos, phones and emails; unknown ids are ignored.
  index_.Remove("c01");
  index_.Remove("c01");
  index_.Remove("nobody");
  EXPECT_EQ(index_.size(), 5u);
  EXPECT_THAT(Ids("bambang"), IsEmpty());
  EXPECT_THAT(Ids("bambeng"), IsEmpty());
  // A new customer takes the freed ordinal and is found.
  index_.Upsert(DocOf({"c10", "Bambang Irawan", {"0812-3456-789"}, "b@x.id"}));
  EXPECT_THAT(Ids("bambang"), ElementsAre("c10"));
  EXPECT_THAT(Ids("0812-3456-789"), ElementsAre("c10"));
  for (const Person& p : Indonesians()) index_.Remove(p.id);
  index_.Remove("c10");
  EXPECT_EQ(index_.size(), 0u);
  EXPECT_THAT(Ids("budi"), IsEmpty());
  EXPECT_THAT(Ids("siti@ya"), IsEmpty());
  EXPECT_THAT(Ids("0813"), IsEmpty());
}

TEST_F(SearchIndexTest, LoadBuildsWhatUpsertsBuild) {
  std::vector<SearchDoc> docs;
  for (const Person& p : Indonesians()) docs.push_back(DocOf(p));
  for (const Person& p : Thais()) docs.push_back(DocOf(p));
  docs.push_back(DocOf({"c01", "Bambang Pamungkas", {"0812-3456-789"}, ""}));  // later wins
  SearchIndex loaded;
  loaded.Load(docs);
  for (const SearchDoc& doc : docs) index_.Upsert(doc);
  EXPECT_EQ(loaded.size(), index_.size());
  for (const std::string q : {"bud", "budi santosa", "bambang", "simanjuntek", "0812", "3456",
                              "siti@ya", "สุข", "ชาย", "toko"}) {
    SearchIndexQuery query;
    query.query = q;
    query.states = {v1::CUSTOMER_STATE_ACTIVE, v1::CUSTOMER_STATE_ARCHIVED};
    const auto a = loaded.Search(query).hits;
    const auto b = index_.Search(query).hits;
    ASSERT_EQ(a.size(), b.size()) << q;
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].customer_id, b[i].customer_id) << q;
      EXPECT_EQ(a[i].score, b[i].score) << q;
    }
  }
  EXPECT_THAT(Ids("bambang"), ElementsAre("c01"));
  // Loading into a non-empty index upserts.
  loaded.Load({DocOf({"c20", "Wayan Sudirta", {}, ""})});
  SearchIndexQuery wayan;
  wayan.query = "wayan";
  EXPECT_EQ(loaded.Search(wayan).hits.size(), 1u);
}

TEST(SearchIndexMemoryTest, WellUnderOneKibPerCustomer) {
  SearchIndex index;
  constexpr int kCustomers = 20000;
  const char* given[] = {"Budi", "Siti", "Agus", "Dewi", "Rina", "Andi", "Putri", "Wahyu"};
  const char* family[] = {"Santoso", "Wijaya", "Saputra", "Hidayat", "Pratama", "Kusuma"};
  for (int i = 0; i < kCustomers; ++i) {
    SearchDoc doc;
    doc.customer_id = absl::StrCat("0190a3b2-7c4e-7d21-8f3a-", 100000000000 + i);
    doc.name_words = absl::StrCat(absl::AsciiStrToLower(given[i % 8]), " ",
                                  absl::AsciiStrToLower(family[i % 6]));
    doc.phones = {absl::StrCat("+62812", 10000000 + i)};
    doc.email = absl::StrCat("customer", i, "@gmail.com");
    index.Upsert(doc);
  }
  EXPECT_EQ(index.size(), static_cast<size_t>(kCustomers));
  EXPECT_LT(index.bytes() / kCustomers, 700u);
}

}  // namespace
}  // namespace kelola::customer::domain
