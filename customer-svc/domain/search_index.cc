#include "customer-svc/domain/search_index.h"

#include <algorithm>
#include <atomic>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "customer-svc/domain/search_text.h"
#include "libs/text/normalize.h"
#include "libs/text/trigram.h"

namespace kelola::customer::domain {
namespace {

// Upper bound for prefix ranges over UTF-8 text compared bytewise: U+10FFFF.
constexpr char kMaxCodePoint[] = "\xf4\x8f\xbf\xbf";
// The driver word is chosen by the postings of its best readings, counted up to this.
constexpr size_t kDriverReadings = 4;
constexpr size_t kDriverCountCap = 4004;
// A national number's suffixes shorter than this are not indexed (phone::SearchKeys drops
// such keys).
constexpr size_t kMinSuffix = phone::kMinSearchKeyDigits;
// A phone's national number is stored once when it ends its E.164 form (this flag is off).
constexpr uint8_t kNationalApart = 0x80;

// How many postings ahead a search asks for a document's cache lines.
constexpr size_t kPrefetchAhead = 8;

void Prefetch(const void* p) { __builtin_prefetch(p); }

// Both ends of an object that may straddle two cache lines (a document: 80 bytes).
template <typename T>
void PrefetchObject(const T& object) {
  Prefetch(&object);
  Prefetch(reinterpret_cast<const char*>(&object) + sizeof(T) - 1);
}

std::string JoinWords(const std::string& text) {
  return absl::StrJoin(SearchWords(text::FoldForMatch(text)), " ");
}

// A phone suffix's first twelve characters as 48 bits that order as the text does, so that
// most comparisons of two suffix entries need neither document: a nibble per character, 0
// past the end, 2-11 for the digits '0'-'9', and 1 or 12 for a character below or above them.
// Past such a character the nibbles are all 15: two such characters can differ while their
// nibbles do not, so only the text tells. Equal nibbles mean equal suffixes when the
// suffixes are at most eleven digits long (WholeSuffix); otherwise the texts are compared.
constexpr size_t kSuffixNibbles = 12;

uint64_t SuffixNibbles(std::string_view suffix) {
  uint64_t out = 0;
  for (size_t i = 0; i < kSuffixNibbles; ++i) {
    uint64_t nibble = 0;
    if (i < suffix.size()) {
      const auto c = static_cast<unsigned char>(suffix[i]);
      nibble = c < '0' ? 1 : c > '9' ? 12 : 2 + (c - '0');
    }
    out = out << 4 | nibble;
    if (nibble == 1 || nibble == 12) {
      for (++i; i < kSuffixNibbles; ++i) out = out << 4 | 0xF;
    }
  }
  return out;
}

// Whether nibbles hold their whole suffix: at most eleven digits (the twelfth nibble is past
// its end).
bool WholeSuffix(uint64_t nibbles) { return (nibbles & 0xF) == 0; }

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

// Calls fn(position, e164, national) for each phone packed by PackPhones.
template <typename Fn>
void ForEachPhone(std::string_view packed, Fn fn) {
  int position = 0;
  for (size_t at = 0; at + 2 <= packed.size(); ++position) {
    const size_t e164_size = static_cast<uint8_t>(packed[at]);
    const uint8_t national_byte = static_cast<uint8_t>(packed[at + 1]);
    const size_t national_size = national_byte & ~kNationalApart;
    const std::string_view e164 = packed.substr(at + 2, e164_size);
    at += 2 + e164_size;
    std::string_view national;
    if (national_byte & kNationalApart) {
      national = packed.substr(at, national_size);
      at += national_size;
    } else {
      national = e164.substr(e164.size() - national_size);
    }
    fn(position, e164, national);
  }
}

std::string PackPhones(const std::vector<std::string>& phones) {
  std::string out;
  for (const std::string& e164 : phones) {
    const std::string national = phone::SearchableNationalNumber(e164);
    const bool apart = national.size() > e164.size() ||
                       e164.compare(e164.size() - national.size(), national.size(), national) != 0;
    out.push_back(static_cast<char>(std::min<size_t>(e164.size(), 255)));
    out.push_back(
        static_cast<char>(std::min<size_t>(national.size(), 127) | (apart ? kNationalApart : 0)));
    out.append(e164.substr(0, 255));
    if (apart) out.append(national.substr(0, 127));
  }
  return out;
}

// What the allocator hands out for `n` bytes (glibc-like: 8 bytes of header, 16-byte steps).
size_t HeapBlock(size_t n) {
  if (n == 0) return 0;
  return std::max<size_t>(32, (n + 8 + 15) & ~size_t{15});
}
size_t StringHeap(const std::string& s) {
  return s.capacity() > 15 ? HeapBlock(s.capacity() + 1) : 0;
}
template <typename T>
size_t VectorHeap(const std::vector<T>& v) {
  return HeapBlock(v.capacity() * sizeof(T));
}
// An ordered set's nodes: values at about 3/4 fill plus node headers.
template <typename Set>
size_t OrderedSetBytes(const Set& set) {
  return set.size() * sizeof(typename Set::value_type) * 4 / 3 + set.size() / 8 * 16;
}
template <typename Set>
size_t HashSetBytes(const Set& set) {
  return set.capacity() * (sizeof(typename Set::value_type) + 1);
}

}  // namespace

std::optional<SearchDoc> SearchDocOf(const v1::Customer& customer) {
  if (customer.state() == v1::CUSTOMER_STATE_MERGED ||
      customer.state() == v1::CUSTOMER_STATE_ERASED) {
    return std::nullopt;
  }
  SearchDoc doc;
  doc.customer_id = customer.customer_id();
  doc.state = customer.state();
  doc.name_words = JoinWords(customer.display_name());
  doc.company_words = JoinWords(customer.company_name());
  doc.email = text::FoldForMatch(customer.email());
  if (customer.has_phone() && !customer.phone().e164().empty()) {
    doc.phones.push_back(customer.phone().e164());
  }
  for (const auto& p : customer.additional_phones()) {
    if (!p.e164().empty()) doc.phones.push_back(p.e164());
  }
  return doc;
}

// --- StringTable ---

SearchIndex::StringTable::StringTable() : by_text_(0, Hash{&texts_}, Eq{&texts_}) {}

size_t SearchIndex::StringTable::Hash::operator()(uint32_t id) const {
  return (*this)((*texts)[id]);
}

size_t SearchIndex::StringTable::Hash::operator()(std::string_view text) const {
  return absl::Hash<absl::string_view>()(absl::string_view(text.data(), text.size()));
}

uint32_t SearchIndex::StringTable::Find(std::string_view text) const {
  auto it = by_text_.find(text);
  return it == by_text_.end() ? kNone : *it;
}

uint32_t SearchIndex::StringTable::Add(std::string_view text) {
  if (uint32_t id = Find(text); id != kNone) return id;
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
    texts_[id] = std::string(text);
  } else {
    id = static_cast<uint32_t>(texts_.size());
    texts_.emplace_back(text);
  }
  by_text_.insert(id);
  return id;
}

void SearchIndex::StringTable::Release(uint32_t id) {
  by_text_.erase(id);
  std::string().swap(texts_[id]);
  free_.push_back(id);
}

void SearchIndex::StringTable::PrefetchEntry(uint32_t id) const { Prefetch(&texts_[id]); }

void SearchIndex::StringTable::PrefetchText(uint32_t id) const { Prefetch(texts_[id].data()); }

size_t SearchIndex::StringTable::bytes() const {
  size_t n = VectorHeap(texts_) + VectorHeap(free_) + HashSetBytes(by_text_);
  for (const std::string& s : texts_) n += StringHeap(s);
  return n;
}

// --- Orders ---

bool SearchIndex::IdLess::operator()(Ordinal a, Ordinal b) const {
  return index->IdOf(a) < index->IdOf(b);
}

SearchIndex::PhoneEntry SearchIndex::SuffixEntry(std::string_view national, Ordinal ord,
                                                 int position, size_t offset) {
  const uint64_t nibbles = SuffixNibbles(national.substr(offset));
  return {static_cast<uint32_t>(nibbles >> 16),
          static_cast<uint32_t>((nibbles & 0xFFFF) << 16 | uint64_t(position & 0xFF) << 8 |
                                (offset & 0xFF)),
          ord};
}

std::string_view SearchIndex::Suffix(const PhoneEntry& entry) const {
  std::string_view out;
  ForEachPhone(docs_[entry.ord].phones, [&](int p, std::string_view, std::string_view national) {
    if (p == entry.position()) out = national.substr(std::min(entry.offset(), national.size()));
  });
  return out;
}

std::string_view SearchIndex::E164(const PhoneEntry& entry) const {
  std::string_view out;
  ForEachPhone(docs_[entry.ord].phones, [&](int p, std::string_view e164, std::string_view) {
    if (p == entry.position()) out = e164;
  });
  return out;
}

SearchIndex::SuffixKey::SuffixKey(std::string_view text)
    : text(text), nibbles(SuffixNibbles(text)), known(0) {
  const bool digits = std::all_of(text.begin(), text.end(), absl::ascii_isdigit);
  if (digits && text.size() <= kSuffixNibbles) known = text.size();
}

bool SearchIndex::SuffixStartsWith(const PhoneEntry& entry, const SuffixKey& key) const {
  if (key.known < key.text.size()) return StartsWith(Suffix(entry), key.text);
  const size_t drop = 4 * (kSuffixNibbles - key.known);
  return entry.nibbles() >> drop == key.nibbles >> drop;
}

bool SearchIndex::SuffixLess::operator()(const PhoneEntry& a, const PhoneEntry& b) const {
  const uint64_t na = a.nibbles();
  if (const uint64_t nb = b.nibbles(); na != nb) return na < nb;
  if (!WholeSuffix(na)) {
    if (int c = index->Suffix(a).compare(index->Suffix(b)); c != 0) return c < 0;
  }
  if (a.ord != b.ord) {
    if (int c = index->IdOf(a.ord).compare(index->IdOf(b.ord)); c != 0) return c < 0;
  }
  return (a.tail & 0xFFFF) < (b.tail & 0xFFFF);
}
bool SearchIndex::SuffixLess::operator()(const PhoneEntry& a, const SuffixKey& b) const {
  const uint64_t na = a.nibbles();
  if (na != b.nibbles) return na < b.nibbles;
  // Equal nibbles and a key of at most twelve digits: the suffix starts with the key, so it
  // is not before it (what lower_bound asks).
  if (WholeSuffix(na) || b.known == b.text.size()) return false;
  return index->Suffix(a) < b.text;
}
bool SearchIndex::SuffixLess::operator()(const SuffixKey& a, const PhoneEntry& b) const {
  const uint64_t nb = b.nibbles();
  if (a.nibbles != nb) return a.nibbles < nb;
  return !WholeSuffix(nb) && a.text < index->Suffix(b);
}

bool SearchIndex::EmailLess::operator()(Ordinal a, Ordinal b) const {
  if (int c = index->docs_[a].email.compare(index->docs_[b].email); c != 0) return c < 0;
  return index->IdOf(a) < index->IdOf(b);
}
bool SearchIndex::EmailLess::operator()(Ordinal a, std::string_view b) const {
  return std::string_view(index->docs_[a].email) < b;
}
bool SearchIndex::EmailLess::operator()(std::string_view a, Ordinal b) const {
  return a < std::string_view(index->docs_[b].email);
}

// --- Upkeep ---

namespace {

// Generations of every index of the process, from one counter.
uint64_t NextGeneration() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

}  // namespace

SearchIndex::SearchIndex(SearchIndexOptions options)
    : options_(options),
      generation_(NextGeneration()),
      vocabulary_(WordLess{&words_}),
      whole_phones_(SuffixLess{this}),
      inner_phones_(SuffixLess{this}),
      emails_(EmailLess{this}) {}

void SearchIndex::Upsert(const SearchDoc& doc) {
  generation_ = NextGeneration();
  Ordinal ord = ids_.Find(doc.customer_id);
  if (ord != kNone && docs_[ord].live) {
    RemoveEntries(ord);
  } else {
    ord = ids_.Add(doc.customer_id);
    if (docs_.size() <= ord) docs_.resize(ord + 1);
    ++live_;
  }
  AddEntries(ord, doc);
}

void SearchIndex::Remove(std::string_view customer_id) {
  const Ordinal ord = ids_.Find(customer_id);
  if (ord == kNone || !docs_[ord].live) return;
  generation_ = NextGeneration();
  RemoveEntries(ord);
  docs_[ord] = Doc{};
  ids_.Release(ord);
  --live_;
}

namespace {

template <typename Less>
void InsertPosting(std::vector<uint32_t>& postings, uint32_t ord, Less less) {
  auto it = std::lower_bound(postings.begin(), postings.end(), ord, less);
  if (it == postings.end() || *it != ord) postings.insert(it, ord);
}

template <typename Less>
void ErasePosting(std::vector<uint32_t>& postings, uint32_t ord, Less less) {
  auto it = std::lower_bound(postings.begin(), postings.end(), ord, less);
  if (it != postings.end() && *it == ord) postings.erase(it);
  if (postings.empty()) std::vector<uint32_t>().swap(postings);
}

}  // namespace

void SearchIndex::AddEntries(Ordinal ord, const SearchDoc& doc) {
  Doc& d = docs_[ord];
  d.live = true;
  d.state = static_cast<uint8_t>(doc.state);
  d.email = doc.email;
  d.email_head = {};
  d.email.copy(d.email_head.data(), d.email_head.size());
  d.phones = PackPhones(doc.phones);
  d.phones.shrink_to_fit();
  std::set<std::string> unique;  // a word of both name and company has one posting
  for (const std::string* field : {&doc.name_words, &doc.company_words}) {
    for (std::string& w : SearchWords(*field)) unique.insert(std::move(w));
  }
  for (const std::string& w : unique) AddWord(w, ord);
  for (const auto& [field, slot] :
       {std::pair{&doc.name_words, &d.name}, std::pair{&doc.company_words, &d.company}}) {
    if (field->empty()) continue;
    const uint32_t id = fields_.Add(*field);
    if (field_refs_.size() <= id) {
      field_refs_.resize(id + 1);
      field_postings_.resize(id + 1);
    }
    ++field_refs_[id];
    AddPosting(field_postings_[id], ord);
    *slot = id;
  }
  ForEachPhone(d.phones, [&](int position, std::string_view, std::string_view national) {
    for (size_t i = 0; i + kMinSuffix <= national.size() && i < 256; ++i) {
      const PhoneEntry entry = SuffixEntry(national, ord, position, i);
      if (pending_ != nullptr) {
        (i == 0 ? pending_->whole_phones : pending_->inner_phones).push_back(entry);
      } else {
        (i == 0 ? whole_phones_ : inner_phones_).insert(entry);
      }
    }
  });
  if (d.email.empty()) return;
  if (pending_ != nullptr) {
    pending_->emails.push_back(ord);
  } else {
    emails_.insert(ord);
  }
}

void SearchIndex::RemoveEntries(Ordinal ord) {
  const IdLess less{this};
  Doc& d = docs_[ord];
  if (!d.email.empty()) emails_.erase(ord);
  ForEachPhone(d.phones, [&](int position, std::string_view, std::string_view national) {
    for (size_t i = 0; i + kMinSuffix <= national.size() && i < 256; ++i) {
      const PhoneEntry entry = SuffixEntry(national, ord, position, i);
      (i == 0 ? whole_phones_ : inner_phones_).erase(entry);
    }
  });
  std::set<std::string> unique;
  for (uint32_t* slot : {&d.name, &d.company}) {
    if (*slot == kNone) continue;
    for (std::string& w : SearchWords(fields_.text(*slot))) unique.insert(std::move(w));
  }
  for (const std::string& w : unique) RemoveWord(words_.Find(w), ord);
  for (uint32_t* slot : {&d.name, &d.company}) {
    if (*slot == kNone) continue;
    ErasePosting(field_postings_[*slot], ord, less);
    if (--field_refs_[*slot] == 0) fields_.Release(*slot);
    *slot = kNone;
  }
}

void SearchIndex::AddWord(std::string_view word, Ordinal ord) {
  const uint32_t id = words_.Add(word);
  if (word_postings_.size() <= id) word_postings_.resize(id + 1);
  if (word_postings_[id].empty()) {  // new to the vocabulary
    vocabulary_.insert(id);
    for (const std::string& gram : text::Trigrams(word)) {
      if (!StartsWith(gram, "  ")) grams_[gram].push_back(id);
    }
  }
  AddPosting(word_postings_[id], ord);
}

void SearchIndex::AddPosting(std::vector<Ordinal>& postings, Ordinal ord) {
  if (pending_ != nullptr) {
    postings.push_back(ord);  // sorted by FinishLoad
  } else {
    InsertPosting(postings, ord, IdLess{this});
  }
}

void SearchIndex::Load(const std::vector<SearchDoc>& docs) {
  generation_ = NextGeneration();
  if (live_ != 0) {
    for (const SearchDoc& doc : docs) Upsert(doc);
    return;
  }
  Pending pending;
  pending_ = &pending;
  std::vector<const SearchDoc*> repeated;  // ids seen before: Upserted once the rest is sorted
  for (const SearchDoc& doc : docs) {
    const Ordinal ord = ids_.Find(doc.customer_id);
    if (ord != kNone && docs_[ord].live) {
      repeated.push_back(&doc);
    } else {
      Upsert(doc);
    }
  }
  pending_ = nullptr;
  FinishLoad(pending);
  for (const SearchDoc* doc : repeated) Upsert(*doc);
}

void SearchIndex::FinishLoad(Pending& pending) {
  const IdLess less{this};
  for (auto& postings : word_postings_) std::sort(postings.begin(), postings.end(), less);
  for (auto& postings : field_postings_) std::sort(postings.begin(), postings.end(), less);
  // Sorted input goes into the ordered sets at their ends.
  std::sort(pending.whole_phones.begin(), pending.whole_phones.end(), SuffixLess{this});
  whole_phones_.insert(pending.whole_phones.begin(), pending.whole_phones.end());
  std::vector<PhoneEntry>().swap(pending.whole_phones);
  std::sort(pending.inner_phones.begin(), pending.inner_phones.end(), SuffixLess{this});
  inner_phones_.insert(pending.inner_phones.begin(), pending.inner_phones.end());
  std::vector<PhoneEntry>().swap(pending.inner_phones);
  std::sort(pending.emails.begin(), pending.emails.end(), EmailLess{this});
  emails_.insert(pending.emails.begin(), pending.emails.end());
}

void SearchIndex::RemoveWord(uint32_t word, Ordinal ord) {
  if (word == kNone) return;
  ErasePosting(word_postings_[word], ord, IdLess{this});
  if (!word_postings_[word].empty()) return;
  vocabulary_.erase(word);
  for (const std::string& gram : text::Trigrams(words_.text(word))) {
    auto it = grams_.find(gram);
    if (it == grams_.end()) continue;
    auto& list = it->second;
    list.erase(std::remove(list.begin(), list.end(), word), list.end());
    if (list.empty()) grams_.erase(it);
  }
  words_.Release(word);
}

size_t SearchIndex::bytes() const {
  size_t n = sizeof(*this) + ids_.bytes() + fields_.bytes() + words_.bytes();
  n += VectorHeap(docs_) + VectorHeap(field_refs_) + VectorHeap(field_postings_) +
       VectorHeap(word_postings_);
  for (const Doc& d : docs_) n += StringHeap(d.phones) + StringHeap(d.email);
  for (const auto& p : field_postings_) n += VectorHeap(p);
  for (const auto& p : word_postings_) n += VectorHeap(p);
  n += OrderedSetBytes(vocabulary_) + OrderedSetBytes(whole_phones_) +
       OrderedSetBytes(inner_phones_) + OrderedSetBytes(emails_);
  n += grams_.capacity() * (sizeof(std::pair<std::string, std::vector<uint32_t>>) + 1);
  for (const auto& [gram, list] : grams_) n += StringHeap(gram) + VectorHeap(list);
  return n;
}

// --- Search ---

// The customers a search scores, each once, in the order found; every source takes the first
// customers (in its own order) that pass the states and the filter, up to its budget.
class SearchIndex::Candidates {
 public:
  // `accept` may be null (every customer in `states`).
  Candidates(const SearchIndex& index, const std::vector<int>& states, const Accept* accept)
      : index_(index), accept_(accept) {
    for (int s : states) {
      if (s >= 0 && s < 32) states_ |= uint32_t{1} << s;
    }
  }

  bool Accepts(Ordinal ord) const {
    return (states_ >> index_.docs_[ord].state & 1) != 0 &&
           (accept_ == nullptr || (*accept_)(index_.IdOf(ord)));
  }

  void Add(Ordinal ord) {
    if (seen_.insert(ord).second) list_.push_back(ord);
  }

  // Adds the first `limit` accepted customers of `postings`; returns how many it took
  // (customers already found count too).
  size_t AddFirst(const std::vector<Ordinal>& postings, size_t limit) {
    size_t taken = 0;
    for (size_t i = 0; i < postings.size() && taken < limit; ++i) {
      // The documents lie at random places: ask for one a few postings ahead.
      if (i + kPrefetchAhead < postings.size()) {
        PrefetchObject(index_.docs_[postings[i + kPrefetchAhead]]);
      }
      const Ordinal ord = postings[i];
      if (!Accepts(ord)) continue;
      Add(ord);
      ++taken;
    }
    return taken;
  }

  const std::vector<Ordinal>& list() const { return list_; }

 private:
  const SearchIndex& index_;
  const Accept* accept_;
  uint32_t states_ = 0;
  absl::flat_hash_set<Ordinal> seen_;
  std::vector<Ordinal> list_;
};

std::vector<TermCandidate> SearchIndex::Readings(const std::string& word) const {
  TermCandidates candidates(word, options_.name_similarity_threshold);
  const std::string upper = absl::StrCat(word, kMaxCodePoint);
  int scanned = 0;
  for (auto it = vocabulary_.lower_bound(std::string_view(word));
       it != vocabulary_.end() && scanned < kPrefixTermsScanned; ++it, ++scanned) {
    const std::string_view w = words_.text(*it);
    if (!(w < upper)) break;
    candidates.AddPrefixWord(w);
  }
  absl::flat_hash_map<uint32_t, int64_t> common;
  for (const std::string& gram : candidates.lookup_grams()) {
    auto it = grams_.find(gram);
    if (it == grams_.end()) continue;
    for (uint32_t w : it->second) ++common[w];
  }
  for (const auto& [w, n] : common) candidates.AddGramWord(words_.text(w), n);
  return candidates.Best();
}

size_t SearchIndex::PostingCount(const std::vector<TermCandidate>& readings, size_t cap) const {
  size_t n = 0;
  for (size_t i = 0; i < readings.size() && i < kDriverReadings; ++i) {
    const uint32_t w = words_.Find(readings[i].term);
    if (w != kNone) n += word_postings_[w].size();
  }
  return std::min(n, cap);
}

void SearchIndex::GatherNames(const std::vector<std::string>& words, size_t budget,
                              Candidates& out) const {
  // The query word with the fewest postings drives; its readings are visited best first.
  std::vector<TermCandidate> driver;
  size_t driver_postings = SIZE_MAX;
  for (const std::string& word : words) {
    std::vector<TermCandidate> readings = Readings(word);
    const size_t postings = words.size() > 1 ? PostingCount(readings, kDriverCountCap) : 0;
    if (postings < driver_postings) {
      driver = std::move(readings);
      driver_postings = postings;
    }
  }
  // Exact whole names (display or company) first, however common their words are.
  if (uint32_t whole = fields_.Find(absl::StrJoin(words, " ")); whole != kNone) {
    out.AddFirst(field_postings_[whole], budget);
  }
  size_t remaining = words.size() > 1 ? budget * 2 : budget;
  for (const TermCandidate& reading : driver) {
    if (remaining == 0) break;
    const uint32_t w = words_.Find(reading.term);
    if (w == kNone) continue;
    remaining -= out.AddFirst(word_postings_[w], remaining);
  }
}

void SearchIndex::GatherPhones(const std::vector<std::string>& keys, size_t budget,
                               Candidates& out) const {
  for (const std::string& text : keys) {
    const SuffixKey key(text);
    for (const auto* set : {&whole_phones_, &inner_phones_}) {
      size_t taken = 0;
      for (auto it = set->lower_bound(key);
           it != set->end() && taken < budget && SuffixStartsWith(*it, key); ++it) {
        if (!out.Accepts(it->ord)) continue;
        out.Add(it->ord);
        ++taken;
      }
    }
  }
}

void SearchIndex::GatherEmails(const std::string& folded, size_t budget, Candidates& out) const {
  const std::string upper = absl::StrCat(folded, kMaxCodePoint);
  size_t taken = 0;
  for (auto it = emails_.lower_bound(std::string_view(folded));
       it != emails_.end() && taken < budget && docs_[*it].email < upper; ++it) {
    if (!out.Accepts(*it)) continue;
    out.Add(*it);
    ++taken;
  }
}

SearchIndexResult SearchIndex::Search(const SearchIndexQuery& query) const {
  return SearchAccepted(query, nullptr);
}

SearchIndexResult SearchIndex::Search(const SearchIndexQuery& query, Accept accept) const {
  return SearchAccepted(query, &accept);
}

bool SearchIndex::EmailMayStartWith(const Doc& d, std::string_view folded) {
  for (size_t i = 0; i < folded.size() && i < d.email_head.size(); ++i) {
    if (d.email_head[i] != folded[i]) return false;
  }
  return !d.email.empty();
}

SearchIndexResult SearchIndex::SearchAccepted(const SearchIndexQuery& query,
                                              const Accept* accept) const {
  const std::string folded = text::FoldForMatch(query.query);
  SearchScorer scorer(folded, phones_.SearchKeys(query.query, query.phone_region),
                      options_.name_similarity_threshold);
  Candidates candidates(*this, query.states, accept);
  const size_t budget = static_cast<size_t>(std::max(
      0, query.search_candidates > 0 ? query.search_candidates : options_.search_candidates));
  GatherPhones(scorer.phone_keys(), budget, candidates);
  if (scorer.phone_keys().empty() && !scorer.words().empty()) {
    GatherNames(scorer.words(), budget, candidates);
  }
  if (scorer.phone_keys().empty() && folded.find(' ') == std::string::npos && folded.size() >= 2) {
    GatherEmails(folded, budget, candidates);
  }
  // Every candidate is scored; only the page's hits (after the cursor, at most `limit`) are
  // ordered fully and copied out with their ids.
  struct Scored {
    double score = 0;
    Ordinal ord = 0;
    std::vector<ScoredMatch> matches;
  };
  const std::vector<Ordinal>& list = candidates.list();
  // The candidates' documents and names lie at random places of a large index: their cache
  // lines are asked for all at once, a step at a time, rather than waited for one by one.
  // Only what the query can match is read: a phone query reads no email, the others read no
  // phones, and an email only where its first bytes agree with the query.
  const bool phone_query = !scorer.phone_keys().empty();
  for (Ordinal ord : list) PrefetchObject(docs_[ord]);
  if (!phone_query) {
    for (Ordinal ord : list) {
      if (docs_[ord].name != kNone) fields_.PrefetchEntry(docs_[ord].name);
    }
    for (Ordinal ord : list) {
      if (docs_[ord].name != kNone) fields_.PrefetchText(docs_[ord].name);
    }
  }
  std::vector<Scored> scored;
  scored.reserve(list.size());
  absl::InlinedVector<SearchPhone, 4> phones;
  for (Ordinal ord : list) {
    const Doc& d = docs_[ord];
    phones.clear();
    if (phone_query) {
      ForEachPhone(d.phones, [&](int position, std::string_view e164, std::string_view national) {
        phones.push_back({position, e164, national});
      });
    }
    const std::string_view email =
        !phone_query && EmailMayStartWith(d, folded) ? std::string_view(d.email) : "";
    std::vector<ScoredMatch> matches =
        scorer.Score({d.name == kNone ? "" : fields_.text(d.name),
                      d.company == kNone ? "" : fields_.text(d.company), phones, email});
    if (matches.empty()) continue;
    const double score = matches[0].score;
    if (query.after) {  // only hits after the cursor in relevance order
      const double after_score = query.after->first;
      const std::string& after_id = query.after->second;
      if (!RelevanceBeforeById(
              after_score, [&] { return std::string_view(after_id); }, score,
              [&] { return IdOf(ord); })) {
        continue;
      }
    }
    scored.push_back({score, ord, std::move(matches)});
  }
  auto before = [this](const Scored& a, const Scored& b) {
    return RelevanceBeforeById(
        a.score, [&] { return IdOf(a.ord); }, b.score, [&] { return IdOf(b.ord); });
  };
  SearchIndexResult result;
  size_t keep = scored.size();
  if (query.limit > 0 && keep > query.limit) {
    keep = query.limit;
    result.more = true;
    std::partial_sort(scored.begin(), scored.begin() + static_cast<std::ptrdiff_t>(keep),
                      scored.end(), before);
  } else {
    std::sort(scored.begin(), scored.end(), before);
  }
  result.hits.reserve(keep);
  for (size_t i = 0; i < keep; ++i) {
    result.hits.push_back(
        {std::string(IdOf(scored[i].ord)), scored[i].score, std::move(scored[i].matches)});
  }
  return result;
}

// --- Duplicate candidates ---

std::vector<std::string> SearchIndex::NameNeighbours(std::string_view customer_id,
                                                     const std::vector<int>& states,
                                                     size_t budget) const {
  const Ordinal self = ids_.Find(customer_id);
  if (self == kNone || !docs_[self].live) return {};
  const Doc& d = docs_[self];
  Candidates out(*this, states, nullptr);
  std::set<std::string> words;
  for (uint32_t field : {d.name, d.company}) {
    if (field == kNone) continue;
    out.AddFirst(field_postings_[field], budget);
    for (std::string& w : SearchWords(fields_.text(field))) words.insert(std::move(w));
  }
  for (const std::string& word : words) {
    for (const TermCandidate& reading : Readings(word)) {
      const uint32_t w = words_.Find(reading.term);
      if (w != kNone) out.AddFirst(word_postings_[w], budget);
    }
  }
  std::vector<std::string> ids;
  for (Ordinal ord : out.list()) {
    if (ord != self) ids.emplace_back(IdOf(ord));
  }
  return ids;
}

std::vector<std::string> SearchIndex::SameEmail(std::string_view customer_id) const {
  const Ordinal self = ids_.Find(customer_id);
  if (self == kNone || !docs_[self].live || docs_[self].email.empty()) return {};
  const std::string_view email = docs_[self].email;
  std::vector<std::string> ids;
  for (auto it = emails_.lower_bound(email); it != emails_.end() && docs_[*it].email == email;
       ++it) {
    if (*it != self) ids.emplace_back(IdOf(*it));
  }
  return ids;
}

void SearchIndex::ForEachSmallGroup(size_t max_group, Group fn) const {
  std::vector<std::string_view> ids;
  for (const auto* lists : {&word_postings_, &field_postings_}) {
    for (const std::vector<Ordinal>& postings : *lists) {
      if (postings.size() < 2 || postings.size() > max_group) continue;
      ids.clear();
      for (Ordinal ord : postings) ids.push_back(IdOf(ord));
      fn(ids);
    }
  }
}

// Every phone has its whole-number entry, which needs a national number of at least
// kMinSuffix digits: a stored phone is a possible number (phone::PhoneNormalizer), and no
// region's possible numbers are that short. The entries of one phone number lie among those
// whose first twelve characters agree (their nibbles), which lie together; the E.164s decide
// among them (the same national number may come from several countries).
std::vector<std::string> SearchIndex::SamePhone(std::string_view customer_id) const {
  const Ordinal self = ids_.Find(customer_id);
  if (self == kNone || !docs_[self].live) return {};
  std::vector<Ordinal> found;
  ForEachPhone(docs_[self].phones,
               [&](int position, std::string_view e164, std::string_view national) {
                 if (national.size() < kMinSuffix) return;
                 const SuffixKey key(national);
                 for (auto it = whole_phones_.lower_bound(key);
                      it != whole_phones_.end() && it->nibbles() == key.nibbles; ++it) {
                   if (it->ord != self && E164(*it) == e164) found.push_back(it->ord);
                 }
               });
  std::vector<std::string> ids;
  ids.reserve(found.size());
  for (Ordinal ord : found) ids.emplace_back(IdOf(ord));
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

void SearchIndex::ForEachPhoneGroup(Group fn) const {
  std::vector<const PhoneEntry*> run;  // entries whose first twelve characters agree
  std::vector<std::pair<std::string_view, Ordinal>> phones;  // theirs: E.164, document
  std::vector<std::string_view> ids;
  // The E.164s are read only where a run holds two entries or more (seldom, over a tenant).
  auto flush = [&] {
    if (run.size() >= 2) {
      phones.clear();
      for (const PhoneEntry* entry : run) phones.emplace_back(E164(*entry), entry->ord);
      // A stable sort keeps each E.164's entries in customer-id order.
      std::stable_sort(phones.begin(), phones.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t i = 0; i < phones.size();) {
        ids.clear();
        size_t j = i;
        for (; j < phones.size() && phones[j].first == phones[i].first; ++j) {
          const std::string_view id = IdOf(phones[j].second);
          if (ids.empty() || ids.back() != id) ids.push_back(id);  // a customer's phone twice
        }
        if (ids.size() >= 2) fn(ids);
        i = j;
      }
    }
    run.clear();
  };
  for (const PhoneEntry& entry : whole_phones_) {
    if (!run.empty() && run.back()->nibbles() != entry.nibbles()) flush();
    run.push_back(&entry);
  }
  flush();
}

void SearchIndex::ForEachEmailGroup(Group fn) const {
  std::vector<std::string_view> ids;
  std::string_view email;
  auto flush = [&] {
    if (ids.size() >= 2) fn(ids);
    ids.clear();
  };
  for (Ordinal ord : emails_) {
    if (docs_[ord].email != email) {
      flush();
      email = docs_[ord].email;
    }
    ids.push_back(IdOf(ord));
  }
  flush();
}

}  // namespace kelola::customer::domain
