// Fuzzes the list and search parameters that clients send as text: customer-svc's
// filter and order_by (ListCustomers, SearchCustomers) and ledger-svc's List filter.
//
// Every input must either parse or be refused with INVALID_ARGUMENT and the documented
// reason and position; what parses must survive a round trip through its own text.

#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "customer-svc/domain/list_filter.h"
#include "fuzz/fuzz_check.h"
#include "ledger-svc/domain/filter_terms.h"
#include "ledger-svc/domain/listing.h"
#include "libs/errors/errors.h"

namespace {

// A refusal: INVALID_ARGUMENT with `reason` and, if `max_position` >= 0, a position
// metadata value in [0, max_position].
void CheckRefusal(const absl::Status& status, absl::string_view reason, int64_t max_position) {
  FUZZ_CHECK(status.code() == absl::StatusCode::kInvalidArgument);
  FUZZ_CHECK(kelola::errors::Reason(status) == reason);
  if (max_position < 0) return;
  int64_t position = -1;
  FUZZ_CHECK(absl::SimpleAtoi(kelola::errors::GetMetadata(status)["position"], &position));
  FUZZ_CHECK(position >= 0 && position <= max_position);
}

void CustomerFilter(absl::string_view text) {
  auto filter = kelola::customer::domain::ParseListFilter(text);
  if (!filter.ok()) {
    // The position counts code points, so it is at most the number of bytes.
    CheckRefusal(filter.status(), kelola::customer::domain::kReasonInvalidFilter,
                 static_cast<int64_t>(text.size()));
    return;
  }
  (void)filter->Canonical();
}

void CustomerOrder(absl::string_view text) {
  auto order = kelola::customer::domain::ParseListOrder(text);
  if (!order.ok()) {
    CheckRefusal(order.status(), kelola::customer::domain::kReasonInvalidOrderBy, -1);
    return;
  }
  auto again = kelola::customer::domain::ParseListOrder(order->Canonical());
  FUZZ_CHECK(again.ok() && again->field == order->field && again->descending == order->descending);
}

// The text of ledger filter terms, quoting every quoted value again.
std::string LedgerText(const std::vector<kelola::ledger::FilterTerm>& terms) {
  std::string out;
  for (const auto& term : terms) {
    if (!out.empty()) out += " AND ";
    absl::StrAppend(&out, term.field, " ", term.op, " ");
    if (!term.quoted) {
      out += term.value;
      continue;
    }
    out += '"';
    for (char c : term.value) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out;
}

void LedgerFilter(absl::string_view text) {
  auto terms = kelola::ledger::ParseFilter(text);
  if (!terms.ok()) {
    CheckRefusal(terms.status(), "INVALID_FILTER", static_cast<int64_t>(text.size()));
    return;
  }
  for (const auto& term : *terms) {
    FUZZ_CHECK(!term.field.empty() && term.position >= 0 &&
               term.position < static_cast<int>(text.size()));
  }
  absl::Status once = kelola::ledger::CheckTermsOnce(*terms, {"sale_time", "total", "due_date"});
  if (!once.ok()) CheckRefusal(once, "INVALID_FILTER", static_cast<int64_t>(text.size()));

  auto again = kelola::ledger::ParseFilter(LedgerText(*terms));
  FUZZ_CHECK(again.ok() && again->size() == terms->size());
  for (size_t i = 0; i < terms->size(); ++i) {
    const auto& a = (*terms)[i];
    const auto& b = (*again)[i];
    FUZZ_CHECK(a.field == b.field && a.op == b.op && a.value == b.value && a.quoted == b.quoted);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  CustomerFilter(text);
  CustomerOrder(text);
  LedgerFilter(text);
  return 0;
}
