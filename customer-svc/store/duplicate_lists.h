#pragma once

// The whole-tenant duplicate lists (C7) made lately, kept for the pages that follow
// (docs/decisions/customer-search.md, "The duplicate list").
//
// A whole-tenant FindDuplicates pairs and scores every candidate of the tenant, which takes
// tens of milliseconds at 10,000 customers and grows with the pairs; a page is 50 of them.
// The list is made once, in page order, and kept with the generation of the tenant's search
// index it was made from (domain::SearchIndex::generation), and only when every row it was
// made from is at least as new as that index (DuplicateOptions::index_generation). Every
// write to a customer reaches that index before the next read of it (the read's catch-up),
// and changes its generation, so a list is reused only while no customer of the tenant
// changed since it was made; the customers a page shows are always read afresh. One list
// per tenant and request (states, minimum score).
//
// Bounded: the lists kept take at most `budget_bytes` (the least recently used go first; a
// list larger than the budget is not kept). Thread-safe.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace kelola::customer::store {

// A pair of a duplicate list: its score and reasons, the customers by their number in the
// list's `ids` (lo's id sorts before hi's).
struct ScoredPair {
  double score = 0;
  uint32_t lo = 0;
  uint32_t hi = 0;
  uint8_t reasons = 0;  // bit set: 1 << v1::DuplicateReason
};

struct DuplicateList {
  uint64_t generation = 0;        // of the tenant's search index it was made from
  std::string binding;            // the request it answers: states and minimum score
  std::vector<std::string> ids;   // customer ids by number, in id order
  std::vector<ScoredPair> pairs;  // page order: score descending, then lo, then hi

  size_t bytes() const;  // held in memory (estimated from capacities)
};

class DuplicateLists {
 public:
  explicit DuplicateLists(size_t budget_bytes = size_t{64} << 20) : budget_bytes_(budget_bytes) {}

  // The list of `tenant` made from `generation` for `binding`, or null.
  std::shared_ptr<const DuplicateList> Find(const std::string& tenant, uint64_t generation,
                                            const std::string& binding) ABSL_LOCKS_EXCLUDED(mu_);
  // Keeps `list` as `tenant`'s for its request, in place of one made from an older index
  // (one made from a newer index stays). A list larger than the budget is not kept, and the
  // older one it replaces goes.
  void Put(const std::string& tenant, std::shared_ptr<const DuplicateList> list)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  static std::string Key(const std::string& tenant, const std::string& binding);

  struct Entry {
    std::shared_ptr<const DuplicateList> list;
    size_t bytes = 0;
    uint64_t last_used = 0;
  };
  const size_t budget_bytes_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> lists_ ABSL_GUARDED_BY(mu_);
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t uses_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kelola::customer::store
