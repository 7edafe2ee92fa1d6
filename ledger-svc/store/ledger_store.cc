#include "ledger-svc/store/ledger_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "kelola/ledger/v1/events.pb.h"
#include "ledger-svc/domain/filter_terms.h"
#include "ledger-svc/domain/listing.h"
#include "ledger-svc/domain/sale_eligibility.h"
#include "ledger-svc/domain/sale_math.h"
#include "ledger-svc/store/directory_projection.h"
#include "ledger-svc/store/ledger_entries.h"
#include "ledger-svc/store/ledger_writer.h"
#include "libs/errors/errors.h"
#include "libs/time/time.h"

namespace kelola::ledger {

using entries::AppendEvent;
using entries::BuildPayment;
using entries::BuildSale;
using entries::BumpAndRecord;
using entries::Bytes;
using entries::CheckOpen;
using entries::ComputeStats;
using entries::CreditSources;
using entries::CustomerRow;
using entries::DayStartMicros;
using entries::DayText;
using entries::Err;
using entries::FindPayment;
using entries::FindSale;
using entries::FindStoredResponse;
using entries::GetPaymentFacts;
using entries::GetSaleFacts;
using entries::InsertAllocation;
using entries::InsertPayment;
using entries::InsertVoid;
using entries::kPaymentSelect;
using entries::kPaymentUnallocated;
using entries::kSaleOutstanding;
using entries::kSaleSelect;
using entries::kSaleStatus;
using entries::LoadAllocations;
using entries::LoadRefunds;
using entries::LoadVoidInfo;
using entries::LockCustomer;
using entries::LockCustomerForSale;
using entries::M;
using entries::Micros;
using entries::NetAllocationsBySale;
using entries::NextCounter;
using entries::OpenSales;
using entries::ParseDay;
using entries::PaymentFacts;
using entries::PaymentFactsFromRow;
using entries::Position;
using entries::Row;
using entries::RunIdempotent;
using entries::SaleFacts;
using entries::SaleFactsFromRow;
using entries::SetTime;
using entries::StatsDelta;
using entries::ToDate;
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
// VoidSale

absl::StatusOr<v1::VoidSaleResponse> LedgerStore::VoidSale(const LedgerContext& ctx,
                                                           const v1::VoidSaleRequest& req) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = Today(ctx);
  return writes_.Run<v1::VoidSaleResponse>(
      ctx, "VoidSale", req.request_id(), idempotency::Print(req), now,
      [&](Transaction& tx, v1::VoidSaleResponse& out) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(pre, GetSaleFacts(tx, ctx, req.sale_id()));
        const std::string customer = pre.record.customer_id();
        CustomerRow before;
        if (!customer.empty()) {
          LEDGER_ASSIGN_OR_RETURN(row, LockCustomer(tx, ctx, customer));
          before = row;
        }
        LEDGER_ASSIGN_OR_RETURN(facts, GetSaleFacts(tx, ctx, req.sale_id()));
        if (facts.amounts.voided) {
          return Err(absl::StatusCode::kFailedPrecondition, "SALE_VOIDED",
                     "the sale is already voided", {{"sale_id", req.sale_id()}});
        }
        const std::string& own_payment = facts.record.sale_payment_id();
        LEDGER_ASSIGN_OR_RETURN(net, NetAllocationsBySale(tx, ctx, req.sale_id()));
        int64_t released_credit = 0;
        for (const auto& [payment_id, amount] : net) {
          if (payment_id != own_payment) released_credit += amount;
        }
        if (released_credit > 0 && !req.release_payments_as_credit()) {
          return Err(absl::StatusCode::kFailedPrecondition, "SALE_HAS_PAYMENTS",
                     "later payments or credit are allocated to the sale; set "
                     "release_payments_as_credit to keep them as customer credit",
                     {{"sale_id", req.sale_id()}, {"allocated", absl::StrCat(released_credit)}});
        }
        for (const auto& [payment_id, amount] : net) {
          LEDGER_RETURN_IF_ERROR(InsertAllocation(tx, ctx, ids_, now, req.request_id(),
                                                  req.sale_id(), payment_id, -amount,
                                                  v1::ALLOCATION_KIND_SALE_VOID_RELEASE));
        }
        v1::VoidInfo info;
        info.set_reason(req.reason());
        SetTime(info.mutable_void_time(), now);
        info.set_voided_by(ctx.principal);
        info.set_request_id(req.request_id());
        LEDGER_RETURN_IF_ERROR(InsertVoid(tx, ctx, "sale", req.sale_id(), customer, info));
        std::vector<std::string> other_sales;
        if (!own_payment.empty()) {
          LEDGER_ASSIGN_OR_RETURN(pf, GetPaymentFacts(tx, ctx, own_payment));
          if (!pf.voided) {
            LEDGER_RETURN_IF_ERROR(InsertVoid(tx, ctx, "payment", own_payment, customer, info));
            // Credit of the sale's payment (from a refund kept as credit) may have been
            // applied to other sales: those allocations go with the voided payment.
            LEDGER_ASSIGN_OR_RETURN(
                rows, tx.Query("SELECT sale_id, SUM(amount), MIN(entry_seq) FROM allocations "
                               "WHERE tenant_id = ? AND payment_id = ? AND sale_id <> ? GROUP "
                               "BY sale_id ORDER BY MIN(entry_seq)",
                               {ctx.tenant_id, own_payment, req.sale_id()}));
            for (const Row& row : rows) {
              if (row.GetInt(1) <= 0) continue;
              other_sales.push_back(row.GetText(0));
              LEDGER_RETURN_IF_ERROR(InsertAllocation(tx, ctx, ids_, now, req.request_id(),
                                                      row.GetText(0), own_payment, -row.GetInt(1),
                                                      v1::ALLOCATION_KIND_PAYMENT_VOID_RELEASE));
            }
          }
          LEDGER_ASSIGN_OR_RETURN(pf2, GetPaymentFacts(tx, ctx, own_payment));
          LEDGER_ASSIGN_OR_RETURN(payment, BuildPayment(tx, ctx, pf2));
          *out.mutable_sale_payment() = std::move(payment);
        }
        LEDGER_ASSIGN_OR_RETURN(after, GetSaleFacts(tx, ctx, req.sale_id()));
        LEDGER_ASSIGN_OR_RETURN(sale, BuildSale(tx, ctx, after, v1::SALE_VIEW_FULL, today));
        *out.mutable_sale() = std::move(sale);
        *out.mutable_released_credit() = M(released_credit, ctx.currency);
        v1::SaleVoided event;
        event.set_customer_id(customer);
        int64_t walk_in_version = 0;
        if (!customer.empty()) {
          LEDGER_ASSIGN_OR_RETURN(
              stats, BumpAndRecord(tx, ctx, customer, before, today, nullptr, out, event));
        } else {
          walk_in_version = 2 + out.sale().refunds_size();
        }
        *event.mutable_sale() = out.sale();
        if (out.has_sale_payment()) *event.mutable_sale_payment() = out.sale_payment();
        *event.mutable_released_credit() = out.released_credit();
        *event.add_affected_sales() = Position(out.sale());
        for (const std::string& other : other_sales) {
          LEDGER_ASSIGN_OR_RETURN(of, GetSaleFacts(tx, ctx, other));
          LEDGER_ASSIGN_OR_RETURN(other_sale, BuildSale(tx, ctx, of, v1::SALE_VIEW_BASIC, today));
          *event.add_affected_sales() = Position(other_sale);
        }
        return AppendEvent(writes_.outbox(), tx, ctx, customer, out.ledger_version(), req.sale_id(),
                           walk_in_version, event, req.request_id());
      });
}

// ---------------------------------------------------------------------------------
// VoidPayment

absl::StatusOr<v1::VoidPaymentResponse> LedgerStore::VoidPayment(
    const LedgerContext& ctx, const v1::VoidPaymentRequest& req) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = Today(ctx);
  return writes_.Run<v1::VoidPaymentResponse>(
      ctx, "VoidPayment", req.request_id(), idempotency::Print(req), now,
      [&](Transaction& tx, v1::VoidPaymentResponse& out) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(pre, GetPaymentFacts(tx, ctx, req.payment_id()));
        const std::string customer = pre.record.customer_id();
        if (customer.empty()) {
          return Err(absl::StatusCode::kFailedPrecondition, "WALK_IN_SALE_PAYMENT",
                     "the payment of a walk-in sale cannot be voided alone; void the sale",
                     {{"sale_id", pre.record.sale_id()}});
        }
        LEDGER_ASSIGN_OR_RETURN(before, LockCustomer(tx, ctx, customer));
        LEDGER_ASSIGN_OR_RETURN(pf, GetPaymentFacts(tx, ctx, req.payment_id()));
        if (pf.voided) {
          return Err(absl::StatusCode::kFailedPrecondition, "PAYMENT_VOIDED",
                     "the payment is already voided", {{"payment_id", req.payment_id()}});
        }
        if (pf.returned > 0) {
          return Err(absl::StatusCode::kFailedPrecondition, "PAYMENT_HAS_REFUNDS",
                     "part of the payment was paid back by a refund",
                     {{"payment_id", req.payment_id()}});
        }
        LEDGER_ASSIGN_OR_RETURN(
            rows, tx.Query("SELECT sale_id, SUM(amount), MIN(entry_seq) FROM allocations WHERE "
                           "tenant_id = ? AND payment_id = ? GROUP BY sale_id ORDER BY "
                           "MIN(entry_seq)",
                           {ctx.tenant_id, req.payment_id()}));
        std::vector<std::string> affected;
        for (const Row& row : rows) {
          if (row.GetInt(1) <= 0) continue;
          affected.push_back(row.GetText(0));
          LEDGER_RETURN_IF_ERROR(InsertAllocation(tx, ctx, ids_, now, req.request_id(),
                                                  row.GetText(0), req.payment_id(), -row.GetInt(1),
                                                  v1::ALLOCATION_KIND_PAYMENT_VOID_RELEASE));
        }
        v1::VoidInfo info;
        info.set_reason(req.reason());
        SetTime(info.mutable_void_time(), now);
        info.set_voided_by(ctx.principal);
        info.set_request_id(req.request_id());
        LEDGER_RETURN_IF_ERROR(InsertVoid(tx, ctx, "payment", req.payment_id(), customer, info));
        LEDGER_ASSIGN_OR_RETURN(after, GetPaymentFacts(tx, ctx, req.payment_id()));
        LEDGER_ASSIGN_OR_RETURN(payment, BuildPayment(tx, ctx, after));
        *out.mutable_payment() = std::move(payment);
        v1::PaymentVoided event;
        for (const std::string& sale_id : affected) {
          LEDGER_ASSIGN_OR_RETURN(sf, GetSaleFacts(tx, ctx, sale_id));
          LEDGER_ASSIGN_OR_RETURN(sale, BuildSale(tx, ctx, sf, v1::SALE_VIEW_BASIC, today));
          *event.add_affected_sales() = Position(sale);
          *out.add_affected_sales() = std::move(sale);
        }
        LEDGER_ASSIGN_OR_RETURN(
            stats, BumpAndRecord(tx, ctx, customer, before, today, nullptr, out, event));
        *event.mutable_payment() = out.payment();
        return AppendEvent(writes_.outbox(), tx, ctx, customer, stats.ledger_version(), "", 0,
                           event, req.request_id());
      });
}

// ---------------------------------------------------------------------------------
// RefundSale

absl::StatusOr<v1::RefundSaleResponse> LedgerStore::RefundSale(const LedgerContext& ctx,
                                                               const v1::RefundSaleRequest& req) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  const absl::CivilDay today = Today(ctx);
  return writes_.Run<v1::RefundSaleResponse>(
      ctx, "RefundSale", req.request_id(), idempotency::Print(req), now,
      [&](Transaction& tx, v1::RefundSaleResponse& out) -> absl::Status {
        LEDGER_ASSIGN_OR_RETURN(pre, GetSaleFacts(tx, ctx, req.sale_id()));
        const std::string customer = pre.record.customer_id();
        const bool credit_settlement = req.settlement() == v1::REFUND_SETTLEMENT_CREDIT;
        if (customer.empty() && credit_settlement) {
          return Err(absl::StatusCode::kInvalidArgument, "CUSTOMER_REQUIRED",
                     "a walk-in sale cannot be refunded as customer credit", {},
                     {{"settlement", "CREDIT needs a customer"}});
        }
        CustomerRow before;
        if (!customer.empty()) {
          LEDGER_ASSIGN_OR_RETURN(row, LockCustomer(tx, ctx, customer));
          before = row;
        }
        LEDGER_ASSIGN_OR_RETURN(facts, GetSaleFacts(tx, ctx, req.sale_id()));
        if (facts.amounts.voided) {
          return Err(absl::StatusCode::kFailedPrecondition, "SALE_VOIDED", "the sale is voided",
                     {{"sale_id", req.sale_id()}});
        }
        const int64_t amount = req.amount().amount_minor();
        const int64_t refundable = facts.amounts.net_total();
        if (amount > refundable) {
          return Err(
              absl::StatusCode::kFailedPrecondition, "REFUND_EXCEEDS_SALE",
              "the refund is more than the sale's net total",
              {{"refundable", absl::StrCat(refundable)}, {"attempted", absl::StrCat(amount)}});
        }
        // Returned quantities against what is left on each line.
        LEDGER_ASSIGN_OR_RETURN(current, BuildSale(tx, ctx, facts, v1::SALE_VIEW_BASIC, today));
        errors::FieldErrors fields;
        for (int i = 0; i < req.items_size(); ++i) {
          const auto& item = req.items(i);
          if (item.item_index() < 0 || item.item_index() >= current.items_size()) {
            fields.Add(absl::StrCat("items[", i, "].item_index"), "no such line in the sale");
            continue;
          }
          const auto& line = current.items(item.item_index());
          if (item.quantity_milli() > line.quantity_milli() - line.refunded_quantity_milli()) {
            fields.Add(absl::StrCat("items[", i, "].quantity_milli"),
                       "more than is left to refund on the line");
          }
        }
        if (!fields.empty()) return fields.ToStatus();
        const int64_t outstanding = facts.amounts.outstanding();
        const int64_t debt_reduction = std::min(amount, outstanding);
        const int64_t returned = amount - debt_reduction;
        const std::string refund_id = ids_.NewId();
        if (returned > 0) {
          LEDGER_ASSIGN_OR_RETURN(net, NetAllocationsBySale(tx, ctx, req.sale_id()));
          int64_t left = returned;
          for (auto it = net.rbegin(); it != net.rend() && left > 0; ++it) {
            const int64_t take = std::min(left, it->second);
            LEDGER_RETURN_IF_ERROR(InsertAllocation(
                tx, ctx, ids_, now, req.request_id(), req.sale_id(), it->first, -take,
                v1::ALLOCATION_KIND_REFUND_RELEASE, refund_id, !credit_settlement));
            left -= take;
          }
        }
        v1::Refund refund;
        refund.set_refund_id(refund_id);
        refund.set_sale_id(req.sale_id());
        refund.set_customer_id(customer);
        refund.set_store_id(req.store_id().empty() ? facts.record.store_id() : req.store_id());
        *refund.mutable_amount() = M(amount, ctx.currency);
        *refund.mutable_debt_reduction() = M(debt_reduction, ctx.currency);
        *refund.mutable_returned_amount() = M(returned, ctx.currency);
        refund.set_settlement(credit_settlement ? v1::REFUND_SETTLEMENT_CREDIT
                                                : v1::REFUND_SETTLEMENT_PAY_OUT);
        if (!credit_settlement) {
          refund.set_payout_method(req.payout_method() == v1::PAYMENT_METHOD_UNSPECIFIED
                                       ? v1::PAYMENT_METHOD_CASH
                                       : req.payout_method());
        }
        *refund.mutable_items() = req.items();
        refund.set_reason(req.reason());
        const int64_t refund_time = req.has_refund_time() ? Micros(req.refund_time()) : now;
        if (refund_time < facts.sale_time_micros) {
          return Err(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT",
                     "refund_time is before the sale", {},
                     {{"refund_time", "before the sale_time"}});
        }
        SetTime(refund.mutable_refund_time(), refund_time);
        refund.set_recorded_by(ctx.principal);
        SetTime(refund.mutable_record_time(), now);
        refund.set_request_id(req.request_id());
        LEDGER_ASSIGN_OR_RETURN(seq, NextCounter(tx, ctx.tenant_id, "refund"));
        LEDGER_RETURN_IF_ERROR(tx.ExecuteDeferred(
            "INSERT INTO refunds (tenant_id, refund_id, entry_seq, sale_id, "
            "customer_id, amount, refund_time_micros, record) VALUES (?, ?, ?, ?, ?, "
            "?, ?, ?)",
            {ctx.tenant_id, refund_id, seq, req.sale_id(), customer, amount, refund_time,
             Bytes{refund.SerializeAsString()}}));
        *out.mutable_refund() = refund;
        LEDGER_ASSIGN_OR_RETURN(after, GetSaleFacts(tx, ctx, req.sale_id()));
        LEDGER_ASSIGN_OR_RETURN(sale, BuildSale(tx, ctx, after, v1::SALE_VIEW_FULL, today));
        *out.mutable_sale() = std::move(sale);
        v1::SaleRefunded event;
        event.set_customer_id(customer);
        int64_t walk_in_version = 0;
        if (!customer.empty()) {
          LEDGER_ASSIGN_OR_RETURN(
              stats, BumpAndRecord(tx, ctx, customer, before, today, nullptr, out, event));
        } else {
          walk_in_version = 1 + out.sale().refunds_size();
        }
        *event.mutable_refund() = refund;
        *event.mutable_sale() = out.sale();
        *event.add_affected_sales() = Position(out.sale());
        return AppendEvent(writes_.outbox(), tx, ctx, customer, out.ledger_version(), req.sale_id(),
                           walk_in_version, event, req.request_id());
      });
}

// ---------------------------------------------------------------------------------
// Credit limits

namespace {

std::pair<std::string, std::string> Subject(const v1::CreditLimit& limit) {
  if (limit.subject_case() == v1::CreditLimit::kCategoryId) {
    return {"category", limit.category_id()};
  }
  return {"customer", limit.customer_id()};
}

}  // namespace

absl::StatusOr<v1::SetCreditLimitResponse> LedgerStore::SetCreditLimit(
    const LedgerContext& ctx, const v1::SetCreditLimitRequest& req) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  return writes_.Run<v1::SetCreditLimitResponse>(
      ctx, "SetCreditLimit", req.request_id(), idempotency::Print(req), now,
      [&](Transaction& tx, v1::SetCreditLimitResponse& out) -> absl::Status {
        const auto [subject, subject_id] = Subject(req.credit_limit());
        if (subject == "customer") {  // no limit for a deleted or merged customer
          LEDGER_ASSIGN_OR_RETURN(row, LockCustomer(tx, ctx, subject_id));
          (void)row;
        }
        v1::CreditLimit limit;
        if (subject == "customer") {
          limit.set_customer_id(subject_id);
        } else {
          limit.set_category_id(subject_id);
        }
        *limit.mutable_limit() = M(req.credit_limit().limit().amount_minor(), ctx.currency);
        limit.set_update_by(ctx.principal);
        SetTime(limit.mutable_update_time(), now);
        LEDGER_RETURN_IF_ERROR(tx.ExecuteDeferred(
            "INSERT INTO credit_limits (tenant_id, subject, subject_id, limit_minor, "
            "update_time_micros, version, deleted, record) VALUES (?, ?, ?, ?, ?, 1, "
            "0, ?) ON CONFLICT (tenant_id, subject, subject_id) DO UPDATE SET "
            "limit_minor = excluded.limit_minor, update_time_micros = "
            "excluded.update_time_micros, version = credit_limits.version + 1, "
            "deleted = 0, record = excluded.record",
            {ctx.tenant_id, subject, subject_id, limit.limit().amount_minor(), now,
             Bytes{limit.SerializeAsString()}}));
        LEDGER_ASSIGN_OR_RETURN(row, tx.QueryOne("SELECT version FROM credit_limits WHERE "
                                                 "tenant_id = ? AND subject = ? AND "
                                                 "subject_id = ?",
                                                 {ctx.tenant_id, subject, subject_id}));
        *out.mutable_credit_limit() = limit;
        return entries::AppendLimitEvent(writes_.outbox(), tx, ctx, subject, subject_id,
                                         row.GetInt(0), &limit, req.request_id());
      });
}

absl::StatusOr<v1::DeleteCreditLimitResponse> LedgerStore::DeleteCreditLimit(
    const LedgerContext& ctx, const v1::DeleteCreditLimitRequest& req) {
  const int64_t now = absl::ToUnixMicros(clock_.Now());
  return writes_.Run<v1::DeleteCreditLimitResponse>(
      ctx, "DeleteCreditLimit", req.request_id(), idempotency::Print(req), now,
      [&](Transaction& tx, v1::DeleteCreditLimitResponse& out) -> absl::Status {
        const std::string subject = req.subject_case() == v1::DeleteCreditLimitRequest::kCategoryId
                                        ? "category"
                                        : "customer";
        const std::string subject_id =
            subject == "category" ? req.category_id() : req.customer_id();
        LEDGER_ASSIGN_OR_RETURN(
            changed, tx.Execute("UPDATE credit_limits SET deleted = 1, version = version + 1, "
                                "update_time_micros = ? WHERE tenant_id = ? AND subject = ? AND "
                                "subject_id = ? AND deleted = 0",
                                {now, ctx.tenant_id, subject, subject_id}));
        out.set_existed(changed > 0);
        if (changed == 0) return absl::OkStatus();
        LEDGER_ASSIGN_OR_RETURN(row, tx.QueryOne("SELECT version FROM credit_limits WHERE "
                                                 "tenant_id = ? AND subject = ? AND "
                                                 "subject_id = ?",
                                                 {ctx.tenant_id, subject, subject_id}));
        return entries::AppendLimitEvent(writes_.outbox(), tx, ctx, subject, subject_id,
                                         row.GetInt(0), nullptr, req.request_id());
      });
}

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
        std::vector<Value> p = params;
        p.push_back(static_cast<int64_t>(page_size + 1));
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
