#pragma once

// Synthetic customers for benchmarks: realistic Indonesian and Thai names, phones typed
// the ways shop staff type them, and emails, from a seed. The same seed and index always
// give the same customer; phones and emails never repeat within one data set, so the
// duplicate check (C6) does not refuse generated customers.

#include <cstdint>
#include <string>

namespace kelola::bench {

struct SyntheticCustomer {
  std::string display_name;
  std::string phone;   // as typed in an Indonesian shop, e.g. "0812-3456-7890", "+66 81 234 5678"
  std::string region;  // "ID" or "TH": the customer's country
  std::string email;   // empty for about a third of customers
};

class CustomerData {
 public:
  // `thai_share_percent` of customers get Thai names and Thai phones.
  explicit CustomerData(uint64_t seed, int thai_share_percent = 30)
      : seed_(seed), thai_share_percent_(thai_share_percent) {}

  // Customer number `index` (0-based) of the data set. Pure: no state.
  SyntheticCustomer Make(int64_t index) const;

 private:
  uint64_t seed_;
  int thai_share_percent_;
};

}  // namespace kelola::bench
