#pragma once

// The quick-search index of one tenant, in memory (C11; docs/decisions/search-index.md).
//
// It is what quick search and the duplicate checks read (store/customer_search.cc,
// store/duplicate_finder.cc): bounded candidate sources (phone suffixes, the whole name, the
// readings of the query word with the fewest postings, email prefixes), each visited in
// customer-id order up to its budget, scored by search_scoring.h. The candidates and order are
// those of the SQL search tables it replaced (docs/decisions/search-index.md).
//
// Layout: customers get dense uint32 ordinals (reused after removal); folded words map to
// posting lists of ordinals kept in customer-id order (the tie order of relevance, so "the first n
// that pass the filter" is a prefix scan); trigrams map to vocabulary words (typo candidates);
// whole name and company fields are interned and carry their own postings; phone national-number
// suffixes are ordered sets of entries that carry a suffix's first twelve characters (a
// suffix's text is read only past them; equal suffixes are ordered by customer id); emails
// are ordinals in an ordered set compared through the documents.
//
// Threading: NOT thread-safe. Const methods (Search, size, bytes) may run concurrently with
// one another but never with Upsert or Remove; the owner guards the index with a reader/writer
// lock (absl::Mutex: ReaderLock to search, Lock to write).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/functional/function_ref.h"
#include "customer-svc/domain/search_scoring.h"
#include "kelola/customer/v1/customer.pb.h"
#include "libs/phone/phone_normalizer.h"

namespace kelola::customer::domain {

// One customer as search sees it.
struct SearchDoc {
  std::string customer_id;
  int state = v1::CUSTOMER_STATE_ACTIVE;
  std::string name_words;           // SearchWords(FoldForMatch(display_name)) joined by ' '
  std::string company_words;        // the same of company_name
  std::vector<std::string> phones;  // E.164: primary first, then additional phones, none empty
  std::string email;                // FoldForMatch(email)
};

// The document of a customer as written, or nullopt when search must not find it (MERGED,
// ERASED): such a customer is Removed.
std::optional<SearchDoc> SearchDocOf(const v1::Customer& customer);

struct SearchIndexOptions {
  // Names whose word trigram similarity reaches this match a query word (typos).
  double name_similarity_threshold = 0.3;
  // Bound on the customers each candidate source contributes (CustomerQueryOptions).
  int search_candidates = 120;
};

struct SearchIndexQuery {
  std::string query;                // trimmed (text::TrimmedName), not folded; not empty
  std::string phone_region = "ID";  // the tenant's default phone region
  std::vector<int> states = {v1::CUSTOMER_STATE_ACTIVE};  // states shown
  // Paging in relevance order: only hits after (score, customer id), at most `limit` (0 = all).
  std::optional<std::pair<double, std::string>> after;
  size_t limit = 0;
  // Customers each candidate source contributes; 0: SearchIndexOptions::search_candidates.
  int search_candidates = 0;
};

struct SearchIndexHit {
  std::string customer_id;
  double score = 0;                  // (0, 1]
  std::vector<ScoredMatch> matches;  // best first
};

struct SearchIndexResult {
  std::vector<SearchIndexHit> hits;  // relevance order (RelevanceBefore)
  bool more = false;                 // hits were left out by `limit`
};

class SearchIndex {
 public:
  using Accept = absl::FunctionRef<bool(std::string_view customer_id)>;

  explicit SearchIndex(SearchIndexOptions options = {});
  SearchIndex(const SearchIndex&) = delete;
  SearchIndex& operator=(const SearchIndex&) = delete;

  // Adds or replaces the customer `doc.customer_id` (after its write committed).
  void Upsert(const SearchDoc& doc);
  // Forgets a customer; unknown ids are ignored.
  void Remove(std::string_view customer_id);
  // Adds many customers at once (start-up, a tenant's first search): the same index as
  // Upserting them in order, built faster by appending and then sorting each structure once.
  void Load(const std::vector<SearchDoc>& docs);

  // Quick search among customers in `query.states` for which `accept` holds (the list filter,
  // checked as candidates are gathered, before the budgets). A phone-like query matches
  // phones only; others match names, company names and email prefixes.
  SearchIndexResult Search(const SearchIndexQuery& query, Accept accept) const;
  SearchIndexResult Search(const SearchIndexQuery& query) const;

  // --- Duplicate candidates (C7) ---

  // Customers in `states` holding the whole name or company of `customer_id`, a word of
  // them, or a reading of such a word (a spelling variant): at most `budget` per field and
  // reading, in customer-id order, `customer_id` left out. Empty for an unknown customer.
  std::vector<std::string> NameNeighbours(std::string_view customer_id,
                                          const std::vector<int>& states, size_t budget) const;
  // Customers with the same (folded) email as `customer_id`, `customer_id` left out.
  std::vector<std::string> SameEmail(std::string_view customer_id) const;
  using Group = absl::FunctionRef<void(const std::vector<std::string_view>& customer_ids)>;
  // Calls `fn` for each word, whole name and whole company held by 2 to `max_group`
  // customers, with those customers in customer-id order.
  void ForEachSmallGroup(size_t max_group, Group fn) const;
  // Calls `fn` for each email held by two customers or more, with those customers.
  void ForEachEmailGroup(Group fn) const;
  // Customers holding a phone (the same E.164) of `customer_id`, `customer_id` left out, in
  // customer-id order. Empty for an unknown customer.
  std::vector<std::string> SamePhone(std::string_view customer_id) const;
  // Calls `fn` for each phone (E.164) held by two customers or more, with those customers in
  // customer-id order.
  void ForEachPhoneGroup(Group fn) const;

  size_t size() const { return live_; }
  // Changes with every Upsert, Remove of a customer it holds, and Load, and differs between
  // any two indexes of the process: the same generation read twice means the same index with the
  // same content (a reader caches what it derived from the index under it;
  // store/duplicate_lists.h).
  uint64_t generation() const { return generation_; }
  // Bytes held by the index, computed from container capacities (heap blocks rounded up to
  // 16 bytes, ordered-set nodes estimated); O(customers).
  size_t bytes() const;

 private:
  using Ordinal = uint32_t;
  static constexpr uint32_t kNone = UINT32_MAX;

  // Strings with dense ids, found by text; ids of released strings are reused.
  class StringTable {
   public:
    StringTable();
    uint32_t Find(std::string_view text) const;  // kNone when absent
    uint32_t Add(std::string_view text);         // the existing id, or a new one
    void Release(uint32_t id);
    std::string_view text(uint32_t id) const { return texts_[id]; }
    // Asks for the cache line of a string's entry, then, once it is there, of its text: a
    // search fetches many at random places of a large table (SearchIndex::Search).
    void PrefetchEntry(uint32_t id) const;
    void PrefetchText(uint32_t id) const;
    size_t capacity() const { return texts_.size(); }
    size_t bytes() const;

   private:
    struct Hash {
      using is_transparent = void;
      const std::vector<std::string>* texts;
      size_t operator()(uint32_t id) const;
      size_t operator()(std::string_view text) const;
    };
    struct Eq {
      using is_transparent = void;
      const std::vector<std::string>* texts;
      bool operator()(uint32_t a, uint32_t b) const { return a == b; }
      bool operator()(uint32_t a, std::string_view b) const { return (*texts)[a] == b; }
      bool operator()(std::string_view a, uint32_t b) const { return a == (*texts)[b]; }
    };
    std::vector<std::string> texts_;
    std::vector<uint32_t> free_;
    absl::flat_hash_set<uint32_t, Hash, Eq> by_text_;
  };

  struct Doc {
    uint32_t name = kNone;  // fields_ ids
    uint32_t company = kNone;
    uint8_t state = 0;
    bool live = false;
    // The email's first bytes, zero after its end: a search reads the email itself only when
    // it may start with the query (in the Doc's padding).
    std::array<char, 4> email_head{};
    std::string phones;  // per phone: e164 length, national length, e164, national
    std::string email;
  };

  // Orders ordinals through their documents; `index` is the owning SearchIndex.
  struct IdLess {
    const SearchIndex* index;
    bool operator()(Ordinal a, Ordinal b) const;
  };
  struct WordLess {
    using is_transparent = void;
    const StringTable* words;
    bool operator()(uint32_t a, uint32_t b) const { return words->text(a) < words->text(b); }
    bool operator()(uint32_t a, std::string_view b) const { return words->text(a) < b; }
    bool operator()(std::string_view a, uint32_t b) const { return a < words->text(b); }
  };
  // A phone suffix entry: the suffix's first twelve characters as nibbles that order as the
  // text does (SuffixNibbles in search_index.cc), the phone's position and the suffix's
  // offset into the national number, and the document's ordinal; ordered by suffix,
  // customer id, position. Suffixes that differ in their first twelve characters are
  // compared without reading either document.
  struct PhoneEntry {
    uint32_t head;  // nibbles of characters 1-8
    uint32_t tail;  // nibbles of characters 9-12 << 16 | position << 8 | offset
    Ordinal ord;
    uint64_t nibbles() const { return uint64_t{head} << 16 | tail >> 16; }
    int position() const { return static_cast<int>((tail >> 8) & 0xFF); }
    size_t offset() const { return tail & 0xFF; }
  };
  // A text looked up among the suffixes, with its nibbles; `known` of its first characters
  // are decided by them (all of it when it is twelve digits or fewer, none otherwise).
  struct SuffixKey {
    explicit SuffixKey(std::string_view text);
    std::string_view text;
    uint64_t nibbles;
    size_t known;
  };
  struct SuffixLess {
    using is_transparent = void;
    const SearchIndex* index;
    bool operator()(const PhoneEntry& a, const PhoneEntry& b) const;
    bool operator()(const PhoneEntry& a, const SuffixKey& b) const;
    bool operator()(const SuffixKey& a, const PhoneEntry& b) const;
  };
  // Ordinals with an email, ordered by email, customer id.
  struct EmailLess {
    using is_transparent = void;
    const SearchIndex* index;
    bool operator()(Ordinal a, Ordinal b) const;
    bool operator()(Ordinal a, std::string_view b) const;
    bool operator()(std::string_view a, Ordinal b) const;
  };

  class Candidates;
  // Entries appended during Load, sorted when it ends.
  struct Pending {
    std::vector<PhoneEntry> whole_phones;
    std::vector<PhoneEntry> inner_phones;
    std::vector<Ordinal> emails;
  };

  void AddEntries(Ordinal ord, const SearchDoc& doc);
  void RemoveEntries(Ordinal ord);
  void AddPosting(std::vector<Ordinal>& postings, Ordinal ord);
  void FinishLoad(Pending& pending);
  void AddWord(std::string_view word, Ordinal ord);
  void RemoveWord(uint32_t word, Ordinal ord);
  static PhoneEntry SuffixEntry(std::string_view national, Ordinal ord, int position,
                                size_t offset);
  std::string_view Suffix(const PhoneEntry& entry) const;
  // The E.164 of the phone an entry was made from.
  std::string_view E164(const PhoneEntry& entry) const;
  bool SuffixStartsWith(const PhoneEntry& entry, const SuffixKey& key) const;
  std::string_view IdOf(Ordinal ord) const { return ids_.text(ord); }
  // `accept` may be null: every customer in the states is accepted.
  SearchIndexResult SearchAccepted(const SearchIndexQuery& query, const Accept* accept) const;
  static bool EmailMayStartWith(const Doc& d, std::string_view folded);

  std::vector<TermCandidate> Readings(const std::string& word) const;
  void GatherNames(const std::vector<std::string>& words, size_t budget, Candidates& out) const;
  void GatherPhones(const std::vector<std::string>& keys, size_t budget, Candidates& out) const;
  void GatherEmails(const std::string& folded, size_t budget, Candidates& out) const;
  size_t PostingCount(const std::vector<TermCandidate>& readings, size_t cap) const;

  const SearchIndexOptions options_;
  const phone::PhoneNormalizer phones_;
  StringTable ids_;  // customer id -> ordinal
  std::vector<Doc> docs_;
  size_t live_ = 0;
  uint64_t generation_;
  StringTable fields_;  // whole folded names and company names
  std::vector<uint32_t> field_refs_;
  std::vector<std::vector<Ordinal>> field_postings_;
  StringTable words_;  // the vocabulary
  std::vector<std::vector<Ordinal>> word_postings_;
  absl::btree_set<uint32_t, WordLess> vocabulary_;                 // words in bytewise order
  absl::flat_hash_map<std::string, std::vector<uint32_t>> grams_;  // trigram -> words
  absl::btree_set<PhoneEntry, SuffixLess> whole_phones_;           // offset 0
  absl::btree_set<PhoneEntry, SuffixLess> inner_phones_;           // offsets >= 1
  absl::btree_set<Ordinal, EmailLess> emails_;
  Pending* pending_ = nullptr;  // set while loading
};

}  // namespace kelola::customer::domain
