#include "ledger-svc/domain/filter_terms.h"

#include <map>

namespace kelola::ledger {

absl::Status CheckTermsOnce(const std::vector<FilterTerm>& terms,
                            const std::set<std::string>& range_fields) {
  struct Bounds {
    bool lower = false;
    bool upper = false;
  };
  std::map<std::string, Bounds> ranges;
  std::set<std::string> seen;
  for (const FilterTerm& t : terms) {
    const bool lower = t.op == ">" || t.op == ">=" || t.op == "=";
    const bool upper = t.op == "<" || t.op == "<=" || t.op == "=";
    if (range_fields.count(t.field) == 0 || (!lower && !upper)) {
      if (!seen.insert(t.field).second) return FilterError(t, "may appear only once");
      continue;
    }
    Bounds& b = ranges[t.field];
    if ((lower && b.lower) || (upper && b.upper)) {
      return FilterError(t, "gives a bound that an earlier term already gives");
    }
    b.lower = b.lower || lower;
    b.upper = b.upper || upper;
  }
  return absl::OkStatus();
}

}  // namespace kelola::ledger
