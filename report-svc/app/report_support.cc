#include "report-svc/app/report_support.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/paging/page_token.h"
#include "libs/time/time.h"

namespace kelola::report::app {

type::v1::Money MoneyOf(int64_t amount, const std::string& currency) {
  type::v1::Money m;
  m.set_amount_minor(amount);
  m.set_currency_code(currency);
  return m;
}

void CheckId(errors::FieldErrors& fields, const std::string& field, const std::string& value) {
  if (value.size() > kMaxIdLength) {
    fields.Add(field, absl::StrCat("must be at most ", kMaxIdLength, " characters"));
  }
}

std::optional<absl::CivilDay> RequiredDay(errors::FieldErrors& fields, const std::string& field,
                                          bool has, const type::v1::Date& date) {
  if (!has) {
    fields.Add(field, "is required");
    return std::nullopt;
  }
  absl::StatusOr<absl::CivilDay> day = time::FromDate(date, field);
  if (!day.ok()) {
    for (const errors::FieldViolation& v : errors::Violations(day.status())) {
      fields.Add(v.field, v.description);
    }
    return std::nullopt;
  }
  return *day;
}

CustomerIndex::CustomerIndex(std::vector<customer_stream::CustomerRow> rows)
    : rows_(std::move(rows)) {
  by_id_.reserve(rows_.size());
  for (size_t i = 0; i < rows_.size(); ++i) by_id_[rows_[i].customer_id] = i;
}

const customer_stream::CustomerRow* CustomerIndex::Find(const std::string& customer_id) const {
  auto it = by_id_.find(customer_id);
  return it == by_id_.end() ? nullptr : &rows_[it->second];
}

std::string CustomerIndex::CategoryOf(const std::string& customer_id) const {
  const customer_stream::CustomerRow* c = Find(customer_id);
  return c == nullptr ? "" : c->category_id;
}

absl::StatusOr<SortOrder> ParseOrderBy(const std::string& order_by,
                                       const std::vector<std::string>& allowed,
                                       const SortOrder& fallback,
                                       bool (*default_descending)(const std::string& field),
                                       bool fixed_direction) {
  if (order_by.empty()) return fallback;
  auto invalid = [&] {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ORDER_BY",
                         "order_by names an unsupported field or direction",
                         {{"order_by", order_by}},
                         {{"order_by", "unsupported field or direction"}});
  };
  std::vector<std::string> words = absl::StrSplit(order_by, ' ', absl::SkipEmpty());
  if (words.empty() || words.size() > 2) return invalid();
  if (std::find(allowed.begin(), allowed.end(), words[0]) == allowed.end()) return invalid();
  SortOrder order{words[0], default_descending(words[0])};
  if (words.size() == 2) {
    if (words[1] != "asc" && words[1] != "desc") return invalid();
    const bool descending = words[1] == "desc";
    if (fixed_direction && descending != order.descending) return invalid();
    order.descending = descending;
  }
  return order;
}

bool KeyBefore(const SortKey& a, const SortKey& b, bool by_text, bool descending) {
  const int c = by_text ? a.text.compare(b.text) : (a.number < b.number ? -1 : a.number > b.number);
  if (c != 0) return descending ? c > 0 : c < 0;
  return a.customer_id < b.customer_id;
}

absl::StatusOr<PageSlice> SlicePage(const std::vector<SortKey>& keys, bool by_text, bool descending,
                                    int page_size, const std::string& page_token,
                                    const std::string& kind, const std::string& tenant_id,
                                    const std::string& binding) {
  PageSlice slice;
  if (!page_token.empty()) {
    auto values = paging::DecodeToken(page_token, kind, tenant_id, binding);
    if (!values.ok()) return values.status();
    SortKey last;
    if (values->size() != 3 || !absl::SimpleAtoi((*values)[0], &last.number)) {
      return paging::InvalidPageTokenError();
    }
    last.text = (*values)[1];
    last.customer_id = (*values)[2];
    slice.begin = std::upper_bound(keys.begin(), keys.end(), last,
                                   [&](const SortKey& a, const SortKey& b) {
                                     return KeyBefore(a, b, by_text, descending);
                                   }) -
                  keys.begin();
  }
  slice.end = std::min(keys.size(), slice.begin + static_cast<size_t>(page_size));
  if (slice.end < keys.size() && slice.end > slice.begin) {
    const SortKey& last = keys[slice.end - 1];
    slice.next_page_token = paging::EncodeToken(
        kind, tenant_id, binding, {absl::StrCat(last.number), last.text, last.customer_id});
  }
  return slice;
}

}  // namespace kelola::report::app
