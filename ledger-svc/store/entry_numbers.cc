#include "ledger-svc/store/entry_numbers.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "ledger-svc/store/ledger_entries.h"

namespace kelola::ledger {

absl::StatusOr<int64_t> EntryNumbers::Take(db::Transaction& tx, const std::string& tenant,
                                           absl::string_view name) const {
  for (const auto& [reserved_name, value] : reserved_) {
    if (reserved_name == name) return value;
  }
  if (counters_ != nullptr && (name == "sale" || name == "payment")) {
    return counters_->NextInWriter(tx, tenant, name);
  }
  return entries::NextCounter(tx, tenant, name);
}

absl::StatusOr<int64_t> NumberBlocks::NextInWriter(db::Transaction& tx, const std::string& tenant,
                                                   absl::string_view name) {
  absl::MutexLock lock(&mu_);
  auto key = std::make_pair(tenant, std::string(name));
  auto it = taken_.find(key);
  if (it == taken_.end()) {
    // The highest number stored, or handed out by a counter row (databases written before
    // the counters moved to memory); the write lock this transaction holds keeps it so.
    const std::string table = name == "sale" ? "sales" : "payments";
    LEDGER_ASSIGN_OR_RETURN(
        row, tx.QueryOne(absl::StrCat("SELECT MAX(COALESCE((SELECT MAX(number) FROM ", table,
                                      " WHERE tenant_id = ?), 0), COALESCE((SELECT value FROM "
                                      "ledger_counters WHERE tenant_id = ? AND name = ?), 0))"),
                         {tenant, tenant, std::string(name)}));
    it = taken_.emplace(key, row.GetInt(0)).first;
  }
  return ++it->second;
}

absl::StatusOr<EntryNumbers> NumberBlocks::Reserve(const std::string& tenant,
                                                   const std::vector<std::string>& names) {
  EntryNumbers out;
  if (db_.dialect() != db::Dialect::kPostgres) {
    out.counters_ = this;
    return out;
  }
  absl::MutexLock lock(&mu_);
  for (const std::string& name : names) {
    Block& block = blocks_[{tenant, name}];  // map nodes stay put while others are added
    while (block.next >= block.end) {
      if (block.refilling) {
        // Another write reserves this counter's next block: wait for it, not for a second
        // reservation. Other tenants and counters go on meanwhile.
        mu_.Await(absl::Condition(
            +[](Block* b) { return !b->refilling; }, &block));
        continue;
      }
      block.refilling = true;
      const absl::Time now = clock_.Now();
      const int size =
          block.size == 0 ? options_.min_block : NextSize(block.size, now - block.reserved);
      mu_.Unlock();
      auto refilled = Refill(tenant, name, size);
      mu_.Lock();
      block.refilling = false;
      if (!refilled.ok()) return refilled.status();
      std::tie(block.next, block.end) = *refilled;
      block.size = size;
      block.reserved = now;
    }
    out.reserved_.emplace_back(name, block.next++);
  }
  return out;
}

NumberBlockOptions NumberBlocks::Sane(NumberBlockOptions options) {
  options.min_block = std::max(options.min_block, 1);
  options.max_block = std::max(options.max_block, options.min_block);
  return options;
}

int NumberBlocks::NextSize(int size, absl::Duration age) const {
  if (age < options_.block_life / 2) return std::min(size * 2, options_.max_block);
  if (age > options_.block_life * 4) return std::max(size / 2, options_.min_block);
  return std::clamp(size, options_.min_block, options_.max_block);
}

absl::StatusOr<std::pair<int64_t, int64_t>> NumberBlocks::Refill(const std::string& tenant,
                                                                 const std::string& name,
                                                                 int size) {
  std::pair<int64_t, int64_t> block;
  absl::Status status = db_.InTransaction([&](db::Transaction& tx) -> absl::Status {
    // Not flushed on its own: a write that uses a number commits durably after this
    // commit, and its flush takes this commit's WAL record with it. A block lost in a crash
    // was used by no durable write, so reserving it again reuses nothing.
    LEDGER_RETURN_IF_ERROR(tx.ExecuteDeferred("SET LOCAL synchronous_commit = off"));
    LEDGER_ASSIGN_OR_RETURN(
        row, tx.QueryOne("INSERT INTO ledger_counters (tenant_id, name, value) VALUES (?, ?, ?) "
                         "ON CONFLICT (tenant_id, name) DO UPDATE SET value = "
                         "ledger_counters.value + excluded.value RETURNING value",
                         {tenant, name, static_cast<int64_t>(size)}));
    block.second = row.GetInt(0) + 1;
    block.first = block.second - size;
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return block;
}

}  // namespace kelola::ledger
