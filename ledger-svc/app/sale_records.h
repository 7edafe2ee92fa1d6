#pragma once

// The records a sale writes, built from its command and what the write decided (ids,
// numbers, totals, times): the sale, the payment made with it and that payment's
// allocation, and what the sale adds to the customer's statistics. Pure: no SQL.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/civil_time.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/domain/sale_math.h"
#include "ledger-svc/store/ledger_entries.h"
#include "ledger-svc/store/ledger_store.h"

namespace kelola::ledger {

// A sale to record, as the client asked for it (validated by the api layer). Amounts in
// minor units of the tenant's currency.
struct RecordSaleCommand {
  std::string request_id;
  std::string sale_id;      // empty: the ledger picks one
  std::string customer_id;  // empty: a walk-in sale
  std::string store_id;
  // The lines as the client gave them (prices in minor units; currencies and the derived
  // fields are set when the record is built).
  std::vector<v1::SaleItem> items;
  int64_t order_discount = 0;
  int64_t paid_now = 0;                     // paid with the sale, by payment_method
  int64_t apply_credit = 0;                 // of the customer's credit, oldest first
  std::optional<int64_t> sale_time_micros;  // nullopt: now
  std::optional<absl::CivilDay> due_date;
  std::string note;
  std::string external_reference;
  v1::PaymentMethod payment_method = v1::PAYMENT_METHOD_UNSPECIFIED;
  std::string payment_method_detail;
  std::string payment_reference;
};

// What a sale's write decided before building its records.
struct NewSale {
  std::string sale_id;
  int64_t number = 0;
  std::string payment_id;  // of the payment made with the sale; empty when none
  int64_t sale_time_micros = 0;
  int64_t now_micros = 0;
};

// The lines of the command, for ComputeTotals.
std::vector<LineInput> SaleLines(const RecordSaleCommand& cmd);

// The sale's record (no allocations, nothing refunded).
v1::Sale NewSaleRecord(const LedgerContext& ctx, const RecordSaleCommand& cmd,
                       const SaleTotals& totals, const NewSale& sale);

// The payment made with the sale, numbered `number`.
v1::Payment NewSalePayment(const LedgerContext& ctx, const RecordSaleCommand& cmd,
                           const NewSale& sale, int64_t number);

// The allocation `allocation_id` of the payment made with the sale to it, as inserted.
v1::Allocation SalePaymentAllocation(const LedgerContext& ctx, const RecordSaleCommand& cmd,
                                     const NewSale& sale, const v1::Payment& payment,
                                     const std::string& allocation_id);

// The new sale's facts, known without reading them back: paid by the payment made with it
// and the credit applied; no refunds, no void.
entries::SaleFacts NewSaleFacts(const RecordSaleCommand& cmd, const v1::Sale& record, int64_t total,
                                int64_t sale_time_micros);

// What the sale (and the payment made with it, allocated to it in full) adds to the
// customer's statistics.
entries::StatsDelta SaleStatsDelta(const RecordSaleCommand& cmd, const entries::SaleFacts& facts);

}  // namespace kelola::ledger
