#include "customer-svc/store/duplicate_lists.h"

#include <utility>

namespace kelola::customer::store {

std::string DuplicateLists::Key(const std::string& tenant, const std::string& binding) {
  std::string key = tenant;
  key.push_back('\0');
  key += binding;
  return key;
}

size_t DuplicateList::bytes() const {
  size_t total = sizeof(*this) + binding.capacity() + pairs.capacity() * sizeof(ScoredPair) +
                 ids.capacity() * sizeof(std::string);
  for (const std::string& id : ids) {
    if (id.capacity() > 15) total += id.capacity() + 1;  // beyond the short-string buffer
  }
  return total;
}

std::shared_ptr<const DuplicateList> DuplicateLists::Find(const std::string& tenant,
                                                          uint64_t generation,
                                                          const std::string& binding) {
  absl::MutexLock lock(&mu_);
  auto it = lists_.find(Key(tenant, binding));
  if (it == lists_.end() || it->second.list->generation != generation) return nullptr;
  it->second.last_used = ++uses_;
  return it->second.list;
}

void DuplicateLists::Put(const std::string& tenant, std::shared_ptr<const DuplicateList> list) {
  const std::string key = Key(tenant, list->binding);
  const size_t bytes = list->bytes();
  absl::MutexLock lock(&mu_);
  if (auto it = lists_.find(key); it != lists_.end()) {
    // Generations only grow: a list made from a newer index stays.
    if (it->second.list->generation > list->generation) return;
    bytes_ -= it->second.bytes;
    lists_.erase(it);
  }
  if (bytes > budget_bytes_) return;
  while (!lists_.empty() && bytes_ + bytes > budget_bytes_) {
    auto coldest = lists_.begin();
    for (auto it = lists_.begin(); it != lists_.end(); ++it) {
      if (it->second.last_used < coldest->second.last_used) coldest = it;
    }
    bytes_ -= coldest->second.bytes;
    lists_.erase(coldest);
  }
  bytes_ += bytes;
  lists_[key] = {std::move(list), bytes, ++uses_};
}

}  // namespace kelola::customer::store
