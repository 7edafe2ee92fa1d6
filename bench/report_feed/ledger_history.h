#pragma once

// ledger-svc's side of the synthetic history, in time order: `plan.sales` SaleRecorded
// events spread evenly over the span (each for a customer that exists by then; 60% paid in
// cash, 15% half paid, 25% on credit due in 30 days), and PaymentRecorded events paying
// down what customers owe: most credit sales are followed 1-60 days later by a payment of
// all or half of what is outstanding, allocated oldest-first as the ledger allocates.
// Every event carries what ledger-svc's would: the customer's CustomerLedgerStats after the
// change (running totals, balance, overdue figures on the day, first/last purchase), its
// ledger version (+1 per event), and the positions of the sales it touched; envelope
// aggregate "customer" with that version, occur_time the business time.
//
// The state kept is per customer (totals and open sales) plus the payments not yet due, so
// memory follows the number of customers, not of events.

#include <cstdint>
#include <queue>
#include <vector>

#include "bench/report_feed/event_history.h"
#include "bench/report_feed/history_plan.h"
#include "kelola/ledger/v1/balance.pb.h"
#include "kelola/ledger/v1/events.pb.h"

namespace kelola::bench {

// A sale with something outstanding.
struct OpenLedgerSale {
  int64_t number = 0;  // 1-based sale number; the sale id derives from it and the time
  int64_t time_us = 0;
  int32_t due_day = 0;  // days since 1970-01-01 in the tenant's zone
  int32_t store = 0;
  int64_t net = 0;
  int64_t paid = 0;
};

// A customer's ledger as the history has built it so far.
struct CustomerLedger {
  static constexpr int64_t kNever = INT64_MIN;
  int64_t version = 0;
  int64_t total_spent = 0;
  int64_t transactions = 0;
  int64_t balance = 0;
  int64_t total_paid = 0;
  int64_t payments = 0;
  int64_t first_purchase_us = kNever;
  int64_t last_purchase_us = kNever;
  int64_t last_payment_us = kNever;  // payments made apart from a sale
  int64_t last_activity_us = kNever;
  std::vector<OpenLedgerSale> open;  // oldest first
};

class LedgerHistory final : public EventHistory {
 public:
  explicit LedgerHistory(HistoryPlan plan);

  bool Next(type::v1::Event* out) override;

  // Events produced so far (the sequence of the last one).
  int64_t sequence() const { return sequence_; }
  const CustomerLedger& customer(int64_t c) const { return customers_[c]; }

 private:
  struct PendingPayment {
    int64_t time_us;
    int64_t order;  // tie-break: scheduling order
    int64_t customer;
    int64_t amount;
  };
  struct Later {
    bool operator()(const PendingPayment& a, const PendingPayment& b) const {
      return a.time_us != b.time_us ? a.time_us > b.time_us : a.order > b.order;
    }
  };
  struct SaleFacts;
  // A sale a payment went to (as it is after the payment) and the amount allocated.
  struct Allocated {
    OpenLedgerSale sale;
    int64_t amount;
  };

  int64_t SaleMicros(int64_t i) const;
  SaleFacts PlanSale(int64_t i) const;
  void Sell(type::v1::Event* out);
  void FillSale(const SaleFacts& s, const OpenLedgerSale& position, ledger::v1::Sale& sale) const;
  void FillSalePayment(const SaleFacts& s, int64_t number, ledger::v1::Payment& payment) const;
  // False when the customer owed nothing by then (no event).
  bool Pay(type::v1::Event* out);
  void FillPayment(int64_t customer, int64_t time_us, int64_t number, int64_t amount,
                   const std::vector<Allocated>& allocated, type::v1::Event& out) const;
  void SchedulePayment(int64_t i, const SaleFacts& sale);
  void Envelope(int64_t c, int64_t time_us, const google::protobuf::Message& payload,
                const std::string& request_id, type::v1::Event& out) const;
  ledger::v1::CustomerLedgerStats Stats(int64_t c, int64_t time_us) const;
  ledger::v1::SalePosition Position(int64_t c, const OpenLedgerSale& sale) const;

  const HistoryPlan plan_;
  const int64_t start_us_;
  const int64_t end_us_;
  const double sale_step_us_;
  std::vector<CustomerLedger> customers_;
  std::priority_queue<PendingPayment, std::vector<PendingPayment>, Later> pending_;
  int64_t next_sale_ = 0;
  int64_t payment_numbers_ = 0;
  int64_t scheduled_ = 0;
  int64_t sequence_ = 0;
};

}  // namespace kelola::bench
