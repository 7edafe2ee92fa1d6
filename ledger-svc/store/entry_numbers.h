#pragma once

// Sale and payment numbers: per tenant, increasing, never reused, gaps allowed
// (kelola.ledger.v1.Sale.number).
//
// A counter row updated inside the write would stay locked until the write commits, so that
// on PostgreSQL all of a tenant's writes would take turns through their round trips and
// commit (a lock convoy). There each process reserves a block of numbers per tenant and
// counter in a short transaction of its own and hands them out from memory: one round trip
// per block instead of a lock per write. Numbers of a block a process did not use (it
// stopped; a write failed or was a replay) are gaps. Numbers increase per tenant and are
// never reused, but follow the order writes were recorded only roughly: a number is taken
// before its write runs, so a write that waits (for the customer's row, or for customer-svc)
// can commit after a higher number; with several replicas each hands out its own block.
//
// A block is sized to last about a second (NumberBlockOptions): a counter whose last block
// was used up in under half of that gets one twice as large, up to max_block, and one that
// lasted over four times as long gets one half as large, down to min_block. Under load a
// small fixed block meant a reservation every few milliseconds, and every write of the
// tenant waiting for it: at 1,800 sales/s, blocks of 32 cost 112 reservations a second and
// about 340 waits (docs/decisions/ledger-write-path.md). A quiet tenant keeps small blocks,
// so a restart leaves small gaps; a busy one leaves at most max_block unused numbers per
// counter and process.
//
// On SQLite the single writer keeps the counters in memory: a number is taken inside the
// write's transaction, which holds the database's write lock, from the highest number
// stored (read once per tenant and counter), so the writer runs no counter update per
// write. A write rolled back leaves a gap.

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"

namespace kelola::ledger {

class NumberBlocks;

// The numbers of one write.
class EntryNumbers {
 public:
  // The write's number of counter `name`: the reserved one, else the next one in `tx`.
  absl::StatusOr<int64_t> Take(db::Transaction& tx, const std::string& tenant,
                               absl::string_view name) const;

 private:
  friend class NumberBlocks;
  std::vector<std::pair<std::string, int64_t>> reserved_;
  NumberBlocks* counters_ = nullptr;  // SQLite: the writer's counters
};

// How many numbers a process reserves at once per tenant and counter (PostgreSQL).
struct NumberBlockOptions {
  int min_block = 32;                            // taken as at least 1
  int max_block = 4096;                          // taken as at least min_block
  absl::Duration block_life = absl::Seconds(1);  // how long a block should last
};

class NumberBlocks {
 public:
  NumberBlocks(db::Database& db, const Clock& clock, NumberBlockOptions options = {})
      : db_(db), clock_(clock), options_(Sane(options)) {}

  // One number of each counter in `names` for a write about to run (PostgreSQL; on SQLite
  // the write takes them itself, in memory). Called outside the write's transaction, which
  // a block's reservation must not wait inside of.
  absl::StatusOr<EntryNumbers> Reserve(const std::string& tenant,
                                       const std::vector<std::string>& names);

 private:
  friend class EntryNumbers;
  // SQLite: the next "sale" or "payment" number of `tenant`, inside the writer's `tx`.
  absl::StatusOr<int64_t> NextInWriter(db::Transaction& tx, const std::string& tenant,
                                       absl::string_view name);

  struct Block {
    int64_t next = 0;        // the next number to hand out
    int64_t end = 0;         // one past the last number of the block
    bool refilling = false;  // a write is reserving the next block (outside mu_)
    int size = 0;            // numbers in the last block reserved; 0 before the first
    absl::Time reserved;     // when it was reserved
  };
  // `options` with sizes below one taken as one, and max_block at least min_block.
  static NumberBlockOptions Sane(NumberBlockOptions options);
  // The size of the next block after one of `size` numbers reserved `age` ago.
  int NextSize(int size, absl::Duration age) const;
  // Reserves `size` numbers of `name` for `tenant` in a transaction of its own; returns
  // [next, end).
  absl::StatusOr<std::pair<int64_t, int64_t>> Refill(const std::string& tenant,
                                                     const std::string& name, int size);

  db::Database& db_;
  const Clock& clock_;
  const NumberBlockOptions options_;
  absl::Mutex mu_;
  std::map<std::pair<std::string, std::string>, Block> blocks_ ABSL_GUARDED_BY(mu_);
  // SQLite: the last number taken per tenant and counter.
  std::map<std::pair<std::string, std::string>, int64_t> taken_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::ledger
