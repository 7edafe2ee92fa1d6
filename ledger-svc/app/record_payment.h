#pragma once

// RecordPayment: a customer pays, in one write. Inside the write's transaction: the
// payment_id is checked, the customer's row locked and whether the customer may pay
// decided from the ledger's projection of customer-svc's directory (archived customers
// may), the payment allocated to the sales
// the client named or to the oldest open sales, more than owed refused unless kept as
// credit; the payment and its allocations inserted; the customer's statistics moved by
// the payment's delta (recomputed when a sale is named twice); the event appended.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/app/allocation_targets.h"
#include "ledger-svc/app/directory_check.h"
#include "ledger-svc/store/ledger_writer.h"
#include "libs/clock/clock.h"
#include "libs/idempotency/idempotency.h"
#include "libs/ids/ids.h"

namespace kelola::ledger {

// A payment to record (validated by the api layer); amounts in minor units.
struct RecordPaymentCommand {
  std::string request_id;
  std::string payment_id;  // empty: the ledger picks one
  std::string customer_id;
  std::string store_id;
  int64_t amount = 0;
  v1::PaymentMethod method = v1::PAYMENT_METHOD_UNSPECIFIED;
  std::string method_detail;
  std::string reference;
  std::string note;
  std::optional<int64_t> received_time_micros;  // nullopt: now
  std::vector<AllocationTarget> allocations;    // empty: the oldest open sales first
  bool keep_excess_as_credit = false;
};

// The payment's record, numbered `number`.
v1::Payment NewPaymentRecord(const LedgerContext& ctx, const RecordPaymentCommand& cmd,
                             const std::string& payment_id, int64_t number, int64_t received_micros,
                             int64_t now_micros);

// OK unless the payment is more than `plan` allocates and the rest is not to be kept as
// credit (FAILED_PRECONDITION OVERPAYMENT with what was `owed`).
absl::Status CheckExcess(const RecordPaymentCommand& cmd, int64_t allocated, int64_t owed);

class RecordPayment {
 public:
  RecordPayment(LedgerWriter& writer, const Clock& clock, ids::IdGenerator& ids)
      : writer_(writer), clock_(clock), ids_(ids) {}

  // `print`: the fingerprint of the request the command came from (idempotency).
  // `ask_directory` is called only for a customer the projection does not hold yet; an
  // archived customer's refusal from customer-svc is the caller's to turn into an answer.
  absl::StatusOr<v1::RecordPaymentResponse> Run(const LedgerContext& ctx,
                                                const RecordPaymentCommand& cmd,
                                                const idempotency::Print& print,
                                                const DirectoryQuestion& ask_directory);

 private:
  struct Write;
  // The write, with `checked` customer-svc's answer when it was asked.
  absl::StatusOr<v1::RecordPaymentResponse> WritePayment(const LedgerContext& ctx,
                                                         const RecordPaymentCommand& cmd,
                                                         const idempotency::Print& print,
                                                         const EntryNumbers& numbers,
                                                         const CustomerCheck* checked);
  absl::Status Decide(Write& w) const;
  absl::Status Insert(Write& w) const;
  absl::Status Respond(Write& w, v1::RecordPaymentResponse& out) const;

  LedgerWriter& writer_;
  const Clock& clock_;
  ids::IdGenerator& ids_;
};

}  // namespace kelola::ledger
