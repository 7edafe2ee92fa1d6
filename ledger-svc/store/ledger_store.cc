#include "ledger-svc/store/ledger_store.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "ledger-svc/domain/filter_terms.h"
#include "ledger-svc/domain/listing.h"
#include "ledger-svc/store/ledger_entries.h"
#include "libs/errors/errors.h"
#include "libs/time/time.h"

namespace kelola::ledger {

using entries::Err;
using entries::FindStoredResponse;
using entries::Row;
using entries::Transaction;
using entries::Value;

absl::CivilDay LedgerStore::Today(const LedgerContext& ctx) const {
  return absl::ToCivilDay(clock_.Now(), ctx.time_zone);
}

absl::StatusOr<std::optional<std::string>> LedgerStore::FindReplay(
    const LedgerContext& ctx, absl::string_view rpc, const std::string& request_id,
    const idempotency::Print& print) {
  std::optional<std::string> out;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(found, FindStoredResponse(tx, ctx, rpc, request_id, print));
        out = std::move(found);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

// ---------------------------------------------------------------------------------
// Credit limits

absl::StatusOr<std::optional<v1::CreditLimit>> LedgerStore::FindCreditLimit(
    const LedgerContext& ctx, absl::string_view subject, const std::string& subject_id) {
  std::optional<v1::CreditLimit> out;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        out.reset();
        LEDGER_ASSIGN_OR_RETURN(
            rows, tx.Query("SELECT record FROM credit_limits WHERE tenant_id = ? AND subject = ? "
                           "AND subject_id = ? AND deleted = 0",
                           {ctx.tenant_id, std::string(subject), subject_id}));
        if (rows.empty()) return absl::OkStatus();
        v1::CreditLimit limit;
        limit.ParseFromString(rows[0].GetBytes(0));
        out = std::move(limit);
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

absl::StatusOr<v1::ListCreditLimitsResponse> LedgerStore::ListCreditLimits(
    const LedgerContext& ctx, const v1::ListCreditLimitsRequest& req) {
  LEDGER_ASSIGN_OR_RETURN(page_size, PageSize(req.page_size()));
  LEDGER_ASSIGN_OR_RETURN(terms, ParseFilter(req.filter()));
  LEDGER_RETURN_IF_ERROR(CheckTermsOnce(terms, {}));
  std::string where = "tenant_id = ? AND deleted = 0";
  std::vector<Value> params = {ctx.tenant_id};
  for (const FilterTerm& t : terms) {
    if (t.field == "subject" && t.op == "=" && (t.value == "CUSTOMER" || t.value == "CATEGORY")) {
      where += " AND subject = ?";
      params.emplace_back(std::in_place_type<std::string>,
                          t.value == "CUSTOMER" ? "customer" : "category");
    } else {
      return FilterError(t, "unsupported term");
    }
  }
  const bool by_limit = req.order_by() == "limit desc";
  if (!req.order_by().empty() && !by_limit && req.order_by() != "update_time desc") {
    return Err(absl::StatusCode::kInvalidArgument, "INVALID_ORDER_BY", "unsupported order_by", {},
               {{"order_by", "use \"update_time desc\" or \"limit desc\""}});
  }
  const std::string key_col = by_limit ? "limit_minor" : "update_time_micros";
  const std::string binding =
      absl::StrCat(ctx.tenant_id, "|ListCreditLimits|", req.filter(), "|", req.order_by());
  if (!req.page_token().empty()) {
    LEDGER_ASSIGN_OR_RETURN(keys, DecodePageToken(req.page_token(), binding));
    int64_t key = 0;
    if (keys.size() != 3 || !absl::SimpleAtoi(keys[0], &key)) {
      return Err(absl::StatusCode::kInvalidArgument, "PAGE_TOKEN_INVALID", "bad page_token");
    }
    where += absl::StrCat(" AND (", key_col, " < ? OR (", key_col,
                          " = ? AND (subject_id > ? OR (subject_id = ? AND subject > ?))))");
    params.insert(params.end(), {key, key, keys[1], keys[1], keys[2]});
  }
  v1::ListCreditLimitsResponse out;
  db::TransactionOptions options;
  options.read_only = true;
  absl::Status status = db_.InTransaction(
      [&](Transaction& tx) -> absl::Status {
        out.Clear();
        std::vector<Value> p;
        p.reserve(params.size() + 1);
        p.insert(p.end(), params.begin(), params.end());
        p.emplace_back(static_cast<int64_t>(page_size + 1));
        LEDGER_ASSIGN_OR_RETURN(
            rows, tx.Query(absl::StrCat("SELECT record, ", key_col,
                                        ", subject_id, subject FROM credit_limits WHERE ", where,
                                        " ORDER BY ", key_col,
                                        " DESC, subject_id ASC, subject ASC LIMIT ?"),
                           p));
        for (size_t i = 0; i < rows.size() && static_cast<int>(i) < page_size; ++i) {
          rows[i].GetBytes(0);
          out.add_credit_limits()->ParseFromString(rows[i].GetBytes(0));
        }
        if (static_cast<int>(rows.size()) > page_size) {
          const Row& last = rows[page_size - 1];
          out.set_next_page_token(EncodePageToken(
              binding, {absl::StrCat(last.GetInt(1)), last.GetText(2), last.GetText(3)}));
        }
        return absl::OkStatus();
      },
      options);
  if (!status.ok()) return status;
  return out;
}

}  // namespace kelola::ledger
