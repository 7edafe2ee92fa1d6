#include "ledger-svc/domain/credit_rules.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ledger-svc/domain/sale_math.h"
#include "libs/errors/errors.h"

namespace kelola::ledger {

std::optional<int64_t> EffectiveCreditLimit(std::optional<int64_t> own,
                                            std::optional<int64_t> category) {
  return own.has_value() ? own : category;
}

absl::Status CheckCreditLimit(std::optional<int64_t> limit, int64_t balance, int64_t unpaid,
                              absl::string_view currency) {
  if (unpaid <= 0) return absl::OkStatus();
  absl::StatusOr<int64_t> after = AddToTotal(balance, unpaid, "balance");
  if (!after.ok()) return after.status();
  if (!limit.has_value() || *after <= *limit) return absl::OkStatus();
  return errors::Error(absl::StatusCode::kFailedPrecondition, "CREDIT_LIMIT_EXCEEDED",
                       "the sale would take the customer's balance above the credit limit",
                       {{"limit", absl::StrCat(*limit)},
                        {"balance", absl::StrCat(balance)},
                        {"attempted", absl::StrCat(unpaid)},
                        {"currency_code", std::string(currency)}});
}

absl::StatusOr<int64_t> TotalCredit(const std::vector<CreditSource>& sources) {
  int64_t total = 0;
  for (const CreditSource& source : sources) {
    absl::StatusOr<int64_t> sum = AddToTotal(total, source.credit, "credit");
    if (!sum.ok()) return sum.status();
    total = *sum;
  }
  return total;
}

absl::StatusOr<std::vector<CreditTake>> TakeCreditOldestFirst(
    const std::vector<int64_t>& amounts, const std::vector<CreditSource>& sources) {
  absl::StatusOr<int64_t> available = TotalCredit(sources);
  if (!available.ok()) return available.status();
  int64_t wanted = 0;
  for (int64_t amount : amounts) {
    absl::StatusOr<int64_t> sum = CheckedAdd(wanted, std::max<int64_t>(amount, 0));
    if (!sum.ok()) return sum.status();
    wanted = *sum;
  }
  if (wanted > *available) {
    return errors::Error(
        absl::StatusCode::kFailedPrecondition, "INSUFFICIENT_CREDIT",
        "more credit asked than the customer holds",
        {{"credit", absl::StrCat(*available)}, {"attempted", absl::StrCat(wanted)}});
  }
  std::vector<CreditTake> takes;
  size_t source = 0;
  int64_t source_left = sources.empty() ? 0 : sources[0].credit;
  for (size_t target = 0; target < amounts.size(); ++target) {
    int64_t left = amounts[target];
    while (left > 0 && source < sources.size()) {
      const int64_t take = std::min(left, source_left);
      if (take > 0) {
        takes.push_back({target, sources[source].payment_id, take});
        left -= take;
        source_left -= take;
      }
      if (source_left == 0 && ++source < sources.size()) source_left = sources[source].credit;
    }
  }
  return takes;
}

}  // namespace kelola::ledger
