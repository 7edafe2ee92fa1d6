#pragma once

// customer-svc's side of the synthetic history: the tenant's categories (CategoryChanged),
// then one CustomerCreated per customer at its creation time, with the envelope fields
// customer-svc's outbox sets (aggregate "category"/"customer", version 1).

#include <cstdint>

#include "bench/harness/customer_data.h"
#include "bench/report_feed/event_history.h"
#include "bench/report_feed/history_plan.h"

namespace kelola::bench {

class CustomerHistory final : public EventHistory {
 public:
  explicit CustomerHistory(HistoryPlan plan) : plan_(std::move(plan)), names_(plan_.seed) {}

  bool Next(type::v1::Event* out) override;

  // Events in the whole history (its head sequence).
  static int64_t Size(const HistoryPlan& plan) { return HistoryPlan::kCategories + plan.customers; }

 private:
  void FillCategory(int k, type::v1::Event& out) const;
  void FillCustomer(int64_t c, type::v1::Event& out) const;

  const HistoryPlan plan_;
  const CustomerData names_;
  int64_t next_ = 0;  // index of the next event
};

}  // namespace kelola::bench
