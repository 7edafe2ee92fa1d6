#pragma once

// The reads of the tenant-wide reports (R2, R3, R5, R6): plain SQL over the projection,
// taking and returning plain values; the rules live in app/ and domain/. Each function runs
// inside the caller's (read-only) transaction, so one report reads one moment.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/db/database.h"
#include "report-svc/domain/customer_dimension.h"
#include "report-svc/domain/summary_card.h"

namespace kelola::report::store {

// The customers the directory reported, deleted and merged ones included.
absl::StatusOr<std::vector<domain::CustomerRow>> LoadCustomers(db::Transaction& tx,
                                                               const std::string& tenant_id);

// Every stored card of the tenant.
absl::StatusOr<std::vector<domain::CardRow>> LoadCards(db::Transaction& tx,
                                                       const std::string& tenant_id);

// A customer's counted sales (not voided) within an interval.
struct CustomerSales {
  std::string customer_id;
  int64_t total = 0;  // net totals
  int64_t count = 0;
  absl::Time first;
  absl::Time last;
};

// Counted customer sales with sale_time in [from, to), at `store_id` unless it is empty,
// of `customer_ids` unless it is null, summed per customer.
absl::StatusOr<std::vector<CustomerSales>> SalesByCustomer(
    db::Transaction& tx, const std::string& tenant_id, absl::Time from, absl::Time to,
    const std::string& store_id, const std::vector<std::string>* customer_ids = nullptr);

// A sale with an amount outstanding.
struct OpenSaleRow {
  std::string customer_id;
  absl::Time sale_time;
  std::optional<absl::CivilDay> due_date;
  int64_t outstanding = 0;
};

// The open sales of the tenant (at `store_id` unless empty).
absl::StatusOr<std::vector<OpenSaleRow>> LoadOpenSales(db::Transaction& tx,
                                                       const std::string& tenant_id,
                                                       const std::string& store_id);

// Each customer's newest counted payment.
absl::StatusOr<std::map<std::string, absl::Time>> LastPayments(db::Transaction& tx,
                                                               const std::string& tenant_id);

// Amounts per 15-minute slot of UTC (slot = unix micros / kSlotMicros); every time zone's
// offset is a multiple of 15 minutes, so each slot lies within one local day of any zone.
inline constexpr int64_t kSlotMicros = int64_t{15} * 60 * 1000 * 1000;
struct SlotAmount {
  int64_t slot = 0;
  int64_t amount = 0;
  int64_t count = 0;
};

// What the series filter by: a store ("" = all) and a customer category (nullopt = all,
// "" = customers without one).
struct SeriesFilter {
  std::string store_id;
  std::optional<std::string> category_id;
};

// Counted customer sales' net totals per slot within [from, to).
absl::StatusOr<std::vector<SlotAmount>> SalesBySlot(db::Transaction& tx,
                                                    const std::string& tenant_id, absl::Time from,
                                                    absl::Time to, const SeriesFilter& filter);

// Changes of outstanding amounts per slot within [from, to) (`from` may be
// absl::InfinitePast(): everything before `to`).
absl::StatusOr<std::vector<SlotAmount>> ReceivableChangesBySlot(db::Transaction& tx,
                                                                const std::string& tenant_id,
                                                                absl::Time from, absl::Time to,
                                                                const SeriesFilter& filter);

}  // namespace kelola::report::store
