#include "customer-svc/domain/list_filter.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "libs/errors/errors.h"

namespace kelola::customer::domain {
namespace {

// Code points before byte offset `byte` (UTF-8 continuation bytes are not counted).
size_t CodePointOffset(absl::string_view text, size_t byte) {
  size_t n = 0;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++n;
  }
  return n;
}

// The character starting at byte `byte`: a whole UTF-8 sequence, or "\xNN" for a byte that
// does not start one.
std::string CharacterAt(absl::string_view text, size_t byte) {
  const auto lead = static_cast<unsigned char>(text[byte]);
  const size_t length = lead < 0x80             ? 1
                        : (lead & 0xE0) == 0xC0 ? 2
                        : (lead & 0xF0) == 0xE0 ? 3
                        : (lead & 0xF8) == 0xF0 ? 4
                                                : 0;
  bool whole = length > 0 && byte + length <= text.size();
  for (size_t i = 1; whole && i < length; ++i) {
    whole = (static_cast<unsigned char>(text[byte + i]) & 0xC0) == 0x80;
  }
  if (!whole) return absl::StrFormat("\\x%02X", lead);
  return std::string(text.substr(byte, length));
}

enum class TokenKind { kWord, kString, kOp, kEnd };

struct Token {
  TokenKind kind = TokenKind::kEnd;
  std::string text;  // word, unescaped string or operator
  size_t pos = 0;    // byte offset
};

class Parser {
 public:
  explicit Parser(absl::string_view input) : input_(input) {}

  absl::StatusOr<ListFilter> Parse() {
    ListFilter filter;
    auto first = Next();
    if (!first.ok()) return first.status();
    if (first->kind == TokenKind::kEnd) return filter;
    Token token = *std::move(first);
    while (true) {
      if (absl::Status s = ParseTerm(token, filter); !s.ok()) return s;
      auto next = Next();
      if (!next.ok()) return next.status();
      if (next->kind == TokenKind::kEnd) break;
      if (next->kind != TokenKind::kWord || next->text != "AND") {
        return Fail(next->pos, absl::StrCat("expected AND or the end of the filter, found '",
                                            next->text, "'"));
      }
      auto after = Next();
      if (!after.ok()) return after.status();
      if (after->kind == TokenKind::kEnd) return Fail(after->pos, "expected a term after AND");
      token = *std::move(after);
    }
    return filter;
  }

 private:
  absl::Status Fail(size_t byte_pos, absl::string_view detail) const {
    const std::string position = absl::StrCat(CodePointOffset(input_, byte_pos));
    return errors::Error(absl::StatusCode::kInvalidArgument, kReasonInvalidFilter,
                         absl::StrCat("invalid filter at position ", position, ": ", detail),
                         {{"position", position}, {"detail", std::string(detail)}},
                         {{"filter", absl::StrCat("position ", position, ": ", detail)}});
  }

  static bool IsWordChar(char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '+' ||
           c == ':' || c == '.';
  }

  absl::StatusOr<Token> Next() {
    while (pos_ < input_.size() && absl::ascii_isspace(static_cast<unsigned char>(input_[pos_]))) {
      ++pos_;
    }
    Token token;
    token.pos = pos_;
    if (pos_ >= input_.size()) return token;
    const char c = input_[pos_];
    if (c == '"') {
      token.kind = TokenKind::kString;
      ++pos_;
      while (true) {
        if (pos_ >= input_.size()) return Fail(token.pos, "unterminated string");
        const char d = input_[pos_++];
        if (d == '"') break;
        if (d == '\\') {
          if (pos_ >= input_.size()) return Fail(token.pos, "unterminated string");
          const char e = input_[pos_++];
          if (e != '"' && e != '\\')
            return Fail(pos_ - 2, "only \\\" and \\\\ escapes are allowed");
          token.text.push_back(e);
        } else {
          token.text.push_back(d);
        }
      }
      return token;
    }
    if (c == '=' || c == '!' || c == '<' || c == '>') {
      token.kind = TokenKind::kOp;
      token.text.push_back(c);
      ++pos_;
      if (pos_ < input_.size() && input_[pos_] == '=') {
        token.text.push_back('=');
        ++pos_;
      }
      if (token.text == "!") return Fail(token.pos, "'!' must be followed by '='");
      return token;
    }
    if (IsWordChar(c)) {
      token.kind = TokenKind::kWord;
      while (pos_ < input_.size() && IsWordChar(input_[pos_])) token.text.push_back(input_[pos_++]);
      return token;
    }
    return Fail(pos_, absl::StrCat("unexpected character '", CharacterAt(input_, pos_), "'"));
  }

  static std::optional<CompareOp> OpOf(const std::string& s) {
    if (s == "=") return CompareOp::kEq;
    if (s == "!=") return CompareOp::kNe;
    if (s == ">") return CompareOp::kGt;
    if (s == ">=") return CompareOp::kGe;
    if (s == "<") return CompareOp::kLt;
    if (s == "<=") return CompareOp::kLe;
    return std::nullopt;
  }

  absl::Status ParseTerm(const Token& field, ListFilter& filter) {
    if (field.kind != TokenKind::kWord) {
      return Fail(field.pos, "expected a field name");
    }
    static const auto* const kFields =
        new std::map<std::string, int>{{"category_id", 1},         {"state", 1},
                                       {"create_time", 2},         {"has_balance", 1},
                                       {"no_transactions", 1},     {"total_spent", 2},
                                       {"top_spender_percent", 1}, {"active_within_days", 1},
                                       {"inactive_for_days", 1},   {"consent", 1}};
    auto known = kFields->find(field.text);
    if (known == kFields->end()) {
      return Fail(field.pos, absl::StrCat("unknown field '", field.text, "'"));
    }
    if (++seen_[field.text] > known->second) {
      return Fail(field.pos, absl::StrCat("field '", field.text, "' appears too often"));
    }
    auto op_token = Next();
    if (!op_token.ok()) return op_token.status();
    if (op_token->kind != TokenKind::kOp) {
      return Fail(op_token->pos, absl::StrCat("expected an operator after '", field.text, "'"));
    }
    const CompareOp op = *OpOf(op_token->text);
    auto value = Next();
    if (!value.ok()) return value.status();
    if (value->kind != TokenKind::kWord && value->kind != TokenKind::kString) {
      return Fail(value->pos, absl::StrCat("expected a value for '", field.text, "'"));
    }
    const std::string& f = field.text;
    const Token& v = *value;
    auto require_op = [&](std::initializer_list<CompareOp> allowed) -> absl::Status {
      if (std::find(allowed.begin(), allowed.end(), op) == allowed.end()) {
        return Fail(op_token->pos,
                    absl::StrCat("operator '", op_token->text, "' is not allowed for '", f, "'"));
      }
      return absl::OkStatus();
    };
    auto require_kind = [&](TokenKind kind) -> absl::Status {
      if (v.kind != kind) {
        return Fail(v.pos, kind == TokenKind::kString
                               ? absl::StrCat("'", f, "' takes a double-quoted string")
                               : absl::StrCat("'", f, "' takes a bare value, not a string"));
      }
      return absl::OkStatus();
    };
    auto boolean = [&]() -> absl::StatusOr<bool> {
      if (auto s = require_op({CompareOp::kEq}); !s.ok()) return s;
      if (auto s = require_kind(TokenKind::kWord); !s.ok()) return s;
      if (v.text == "true") return true;
      if (v.text == "false") return false;
      return Fail(v.pos, absl::StrCat("'", f, "' takes true or false"));
    };
    auto positive = [&](int max) -> absl::StatusOr<int> {
      if (auto s = require_op({CompareOp::kEq}); !s.ok()) return s;
      if (auto s = require_kind(TokenKind::kWord); !s.ok()) return s;
      int n = 0;
      if (v.text.empty() || !std::all_of(v.text.begin(), v.text.end(), ::isdigit) ||
          !absl::SimpleAtoi(v.text, &n) || n < 1 || n > max) {
        return Fail(v.pos, absl::StrCat("'", f, "' takes a whole number from 1 to ", max));
      }
      return n;
    };

    if (f == "category_id") {
      if (auto s = require_op({CompareOp::kEq, CompareOp::kNe}); !s.ok()) return s;
      if (auto s = require_kind(TokenKind::kString); !s.ok()) return s;
      filter.category = ListFilter::Category{v.text, op == CompareOp::kEq};
    } else if (f == "state") {
      if (auto s = require_op({CompareOp::kEq}); !s.ok()) return s;
      if (auto s = require_kind(TokenKind::kWord); !s.ok()) return s;
      static const auto* const kStates = new std::map<std::string, int>{
          {"ACTIVE", 1}, {"ARCHIVED", 2}, {"MERGING", 3}, {"MERGED", 4}, {"ERASED", 5}};
      auto it = kStates->find(v.text);
      if (it == kStates->end()) {
        return Fail(v.pos, "state takes ACTIVE, ARCHIVED, MERGING, MERGED or ERASED");
      }
      filter.state = it->second;
    } else if (f == "create_time") {
      if (auto s = require_op({CompareOp::kGt, CompareOp::kGe, CompareOp::kLt, CompareOp::kLe});
          !s.ok()) {
        return s;
      }
      if (auto s = require_kind(TokenKind::kString); !s.ok()) return s;
      absl::Time t;
      std::string err;
      if (!absl::ParseTime(absl::RFC3339_full, v.text, &t, &err)) {
        return Fail(v.pos,
                    "create_time takes an RFC 3339 time such as "
                    "\"2024-01-01T00:00:00+07:00\"");
      }
      filter.create_time.push_back({op, t});
    } else if (f == "has_balance") {
      auto b = boolean();
      if (!b.ok()) return b.status();
      filter.has_balance = *b;
    } else if (f == "no_transactions") {
      auto b = boolean();
      if (!b.ok()) return b.status();
      filter.no_transactions = *b;
    } else if (f == "total_spent") {
      if (auto s = require_op(
              {CompareOp::kEq, CompareOp::kGt, CompareOp::kGe, CompareOp::kLt, CompareOp::kLe});
          !s.ok()) {
        return s;
      }
      if (auto s = require_kind(TokenKind::kWord); !s.ok()) return s;
      int64_t n = 0;
      const bool digits =
          !v.text.empty() &&
          std::all_of(v.text.begin() + (v.text[0] == '-' ? 1 : 0), v.text.end(), ::isdigit) &&
          v.text != "-";
      if (!digits || !absl::SimpleAtoi(v.text, &n)) {
        return Fail(v.pos, "total_spent takes a whole number of minor units");
      }
      filter.total_spent.push_back({op, n});
    } else if (f == "top_spender_percent") {
      auto n = positive(100);
      if (!n.ok()) return n.status();
      filter.top_spender_percent = *n;
    } else if (f == "active_within_days") {
      auto n = positive(36500);
      if (!n.ok()) return n.status();
      filter.active_within_days = *n;
    } else if (f == "inactive_for_days") {
      auto n = positive(36500);
      if (!n.ok()) return n.status();
      filter.inactive_for_days = *n;
    } else if (f == "consent") {
      if (auto s = require_op({CompareOp::kEq}); !s.ok()) return s;
      if (auto s = require_kind(TokenKind::kWord); !s.ok()) return s;
      static const auto* const kConsent =
          new std::map<std::string, int>{{"UNSPECIFIED", 0}, {"GRANTED", 1}, {"WITHDRAWN", 2}};
      auto it = kConsent->find(v.text);
      if (it == kConsent->end())
        return Fail(v.pos, "consent takes GRANTED, WITHDRAWN or UNSPECIFIED");
      filter.consent = it->second;
    }
    return absl::OkStatus();
  }

  absl::string_view input_;
  size_t pos_ = 0;
  std::map<std::string, int> seen_;
};

const char* OpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "!=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
  }
  return "?";
}

absl::Status OrderByError(absl::string_view order_by, absl::string_view detail) {
  return errors::Error(absl::StatusCode::kInvalidArgument, kReasonInvalidOrderBy,
                       absl::StrCat("invalid order_by: ", detail),
                       {{"order_by", std::string(order_by)}}, {{"order_by", std::string(detail)}});
}

}  // namespace

std::string ListFilter::Canonical() const {
  std::vector<std::string> terms;
  if (category) {
    terms.push_back(absl::StrCat("category_id", category->equal ? "=" : "!=", category->id.size(),
                                 ":", category->id));
  }
  if (state) terms.push_back(absl::StrCat("state=", *state));
  std::vector<std::string> ranges;
  for (const auto& b : create_time) {
    ranges.push_back(absl::StrCat("create_time", OpText(b.op), absl::ToUnixMicros(b.value)));
  }
  for (const auto& b : total_spent)
    ranges.push_back(absl::StrCat("total_spent", OpText(b.op), b.value));
  std::sort(ranges.begin(), ranges.end());
  terms.insert(terms.end(), ranges.begin(), ranges.end());
  if (has_balance) terms.push_back(absl::StrCat("has_balance=", *has_balance));
  if (no_transactions) terms.push_back(absl::StrCat("no_transactions=", *no_transactions));
  if (top_spender_percent)
    terms.push_back(absl::StrCat("top_spender_percent=", *top_spender_percent));
  if (active_within_days) terms.push_back(absl::StrCat("active_within_days=", *active_within_days));
  if (inactive_for_days) terms.push_back(absl::StrCat("inactive_for_days=", *inactive_for_days));
  if (consent) terms.push_back(absl::StrCat("consent=", *consent));
  return absl::StrJoin(terms, " AND ");
}

absl::StatusOr<ListFilter> ParseListFilter(absl::string_view filter) {
  return Parser(filter).Parse();
}

std::string ListOrder::Canonical() const {
  const char* name = "display_name";
  switch (field) {
    case SortField::kDisplayName:
      name = "display_name";
      break;
    case SortField::kCreateTime:
      name = "create_time";
      break;
    case SortField::kTotalSpent:
      name = "total_spent";
      break;
    case SortField::kLastActivityTime:
      name = "last_activity_time";
      break;
    case SortField::kBalance:
      name = "balance";
      break;
  }
  return absl::StrCat(name, descending ? " desc" : " asc");
}

absl::StatusOr<ListOrder> ParseListOrder(absl::string_view order_by) {
  std::vector<absl::string_view> parts =
      absl::StrSplit(order_by, absl::ByAnyChar(" \t\n\r"), absl::SkipEmpty());
  ListOrder order;
  if (parts.empty()) return order;
  if (parts.size() > 2) return OrderByError(order_by, "only one field may be given");
  static const auto* const kFields = new std::map<std::string, SortField, std::less<>>{
      {"display_name", SortField::kDisplayName},
      {"create_time", SortField::kCreateTime},
      {"total_spent", SortField::kTotalSpent},
      {"last_activity_time", SortField::kLastActivityTime},
      {"balance", SortField::kBalance}};
  auto it = kFields->find(parts[0]);
  if (it == kFields->end()) {
    return OrderByError(order_by, absl::StrCat("unsupported field '", parts[0],
                                               "'; use display_name, create_time, total_spent, "
                                               "last_activity_time or balance"));
  }
  order.field = it->second;
  if (parts.size() == 2) {
    if (parts[1] == "desc") {
      order.descending = true;
    } else if (parts[1] != "asc") {
      return OrderByError(order_by,
                          absl::StrCat("unsupported direction '", parts[1], "'; use asc or desc"));
    }
  }
  return order;
}

absl::StatusOr<int> ListPageSize(int page_size, int default_size, int max_size) {
  if (page_size < 0) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                         "page_size must not be negative", {},
                         {{"page_size", "must not be negative"}});
  }
  if (page_size == 0) return default_size;
  return std::min(page_size, max_size);
}

}  // namespace kelola::customer::domain
