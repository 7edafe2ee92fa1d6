#pragma once

// The facts of the tenant-wide reports held in memory, column by column, so that a report
// over millions of sales is one pass over a few arrays instead of an SQL aggregation.
//
// The database stays the truth: every row the projection writes carries a change number
// (the sequence of the event that last wrote it; the customers' from customer-svc's stream),
// and sales, payments and outstanding changes a row number dense per tenant. The first load
// reads each table in primary-key order; later the index asks for the rows whose change
// number is above what it has seen (indexed, so an idle refresh is a few small queries) and
// writes them into the arrays at their row numbers. Reports refresh before reading; cards
// only when the index holds less than their own change number. So the index is right
// whoever applied the events (several replicas of report-svc may share a PostgreSQL
// database), survives nothing (it is loaded again after a restart) and needs no hook in the
// projection. Batches commit one at a time (the consumer's cursor lock), so a row with
// change number N is only visible once every row below N is.
//
// Walk-in sales are not stored by the projection; every sale here has a customer.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "libs/customer_stream/customer_reducer.h"
#include "libs/db/database.h"
#include "report-svc/domain/summary_card.h"
#include "report-svc/store/report_reads.h"

namespace kelola::report::store {

// What one customer owes on its open sales (R3), with what a receivables row shows of it.
// The pointers point into the index and are valid during the read.
struct Owing {
  const std::string* customer_id = nullptr;
  const customer_stream::CustomerRow* customer =
      nullptr;                            // version 0: not reported by the directory
  const domain::CardRow* card = nullptr;  // ledger_version 0: no card
  std::optional<absl::Time> last_payment;
  int64_t balance = 0;
  int64_t aging[4] = {0, 0, 0, 0};
  int64_t overdue = 0;
  int32_t days_overdue = 0;
  absl::Time oldest_sale_time = absl::InfiniteFuture();
};

class FactIndex;

// One tenant's facts. Customers and stores are numbered densely in the order first seen.
class TenantFacts {
 public:
  // Customers the directory reported (version > 0), deleted and merged ones included.
  std::vector<customer_stream::CustomerRow> Customers() const;
  // Every stored card.
  std::vector<domain::CardRow> Cards() const;
  // As store::SalesByCustomer: counted sales in [from, to) (store "" = all) per customer.
  std::vector<CustomerSales> SalesByCustomer(absl::Time from, absl::Time to,
                                             const std::string& store_id) const;
  // Net totals of counted sales per 15-minute slot (kSlotMicros) in [from, to).
  std::vector<SlotAmount> SalesBySlot(absl::Time from, absl::Time to,
                                      const SeriesFilter& filter) const;
  // Outstanding changes per slot in [from, to), and their sum before `from`.
  std::vector<SlotAmount> ReceivableChangesBySlot(absl::Time from, absl::Time to,
                                                  const SeriesFilter& filter) const;
  int64_t ReceivablesBefore(absl::Time before, const SeriesFilter& filter) const;

  // Every customer with an amount outstanding (on sales of `store_id` unless ""), aged on
  // `today` in `zone` (overdue: due before today).
  std::vector<Owing> OwingCustomers(const std::string& store_id, absl::TimeZone zone,
                                    absl::CivilDay today) const;

  // One customer's open sales (for a card's overdue figures; sale ids are not kept).
  std::vector<domain::OpenSale> OpenSalesOf(const std::string& customer_id) const;
  // One customer's counted sales in [from, to) (count 0 when none).
  CustomerSales SalesOf(const std::string& customer_id, absl::Time from, absl::Time to) const;
  // Every ledger event up to this sequence is in the index (the card feed's cursor when the
  // index was last brought up to date).
  int64_t applied_through() const { return applied_through_; }

 private:
  friend class FactIndex;
  static constexpr uint32_t kNone = UINT32_MAX;

  uint32_t CustomerNo(const std::string& id);
  uint32_t StoreNo(const std::string& id);
  // kNone for an unknown store (no sale matches it); kAll for "".
  static constexpr uint32_t kAll = UINT32_MAX - 1;
  uint32_t FindStore(const std::string& id) const;
  // Per customer number: whether it passes the filter's category.
  std::vector<uint8_t> CategoryMask(const SeriesFilter& filter) const;
  // Sums amounts[i] per slot of times[i] in [from, to) for every i that `passes`.
  template <typename Passes>
  std::vector<SlotAmount> BySlot(absl::Time from, absl::Time to, const std::vector<int64_t>& times,
                                 const std::vector<int64_t>& amounts, Passes passes) const;
  // Whether sale `row` passes a store number (kAll passes every store) and a category mask.
  bool SalePasses(size_t row, uint32_t store, const std::vector<uint8_t>& mask) const;

  // Customers.
  std::vector<std::string> customer_ids_;
  absl::flat_hash_map<std::string, uint32_t> customer_no_;
  std::vector<customer_stream::CustomerRow> customers_;  // version 0: not reported by the directory
  std::vector<domain::CardRow> cards_;                   // ledger_version 0: no card
  std::vector<std::vector<uint32_t>> customer_sales_;    // each customer's sale rows
  // Stores.
  std::vector<std::string> store_ids_;
  absl::flat_hash_map<std::string, uint32_t> store_no_;
  // Sales by row number − 1.
  std::vector<int64_t> sale_us_, sale_net_, sale_outstanding_;
  std::vector<uint32_t> sale_customer_, sale_store_;
  std::vector<int32_t> sale_due_day_;  // days since 1970; INT32_MIN: no due date
  std::vector<uint8_t> sale_counted_;
  // Payments by row number − 1.
  std::vector<int64_t> payment_us_;
  std::vector<uint32_t> payment_customer_;
  std::vector<uint8_t> payment_counts_;
  // Outstanding changes, in change order; each names its sale (row number − 1).
  std::vector<int64_t> change_us_, change_delta_;
  std::vector<uint32_t> change_sale_;
  // Records sale `row` as `customer`'s (moving it from another customer after a merge).
  void AssignSale(size_t row, uint32_t customer);

  int64_t applied_through_ = 0;
  bool loaded_ = false;
  // Where each table was read up to: its ordering columns' values of the last row read
  // (change_no unset: not loaded yet).
  struct Mark {
    std::optional<int64_t> change_no;
    db::Value key;
  };
  Mark customers_mark_, cards_mark_, sales_mark_, payments_mark_, changes_mark_;

  // Writes one row of each table (the columns of fact_index.cc's TableSpec) into the arrays.
  void ApplyCustomer(const db::Row& r);
  void ApplyCard(const db::Row& r);
  void ApplySale(const db::Row& r);
  void ApplyPayment(const db::Row& r);
  void ApplyChange(const db::Row& r);
};

struct FactIndexOptions {
  // Rows read per query while catching up (bounds the memory of one result set).
  int chunk_rows = 20000;
};

class FactIndex {
 public:
  explicit FactIndex(db::Database& db, FactIndexOptions options = {})
      : db_(db), options_(options) {}

  // Brings the tenant's facts up to date with the database, then calls `read` with them
  // (reads of a tenant run concurrently; a refresh waits for them). A database error comes
  // back as it is.
  absl::Status Read(const std::string& tenant_id,
                    const std::function<absl::Status(const TenantFacts&)>& read);
  // Like Read, but asks the database only when the index holds less than the ledger events
  // up to `sequence` (a card read names the change number of the card it shows).
  absl::Status ReadAtLeast(const std::string& tenant_id, int64_t sequence,
                           const std::function<absl::Status(const TenantFacts&)>& read);
  // Loads every tenant the projection knows.
  absl::Status LoadAll();
  // Runs LoadAll() on a thread of its own (after a start, before traffic: see Ready()), then
  // brings every tenant read within `follow_idle` up to date every `follow_interval` until
  // destruction, so that reads rarely have to wait for a refresh of their own (tenants
  // nobody reads, e.g. during a rebuild, cost nothing until they are read).
  void StartLoading(absl::Duration follow_interval = absl::Milliseconds(250),
                    absl::Duration follow_idle = absl::Minutes(5));
  // OK once StartLoading()'s load finished; UNAVAILABLE until then (or with its error).
  absl::Status Ready();
  ~FactIndex();

 private:
  struct Entry {
    absl::Mutex refresh_mu;  // held by the one refresher
    absl::Mutex mu;
    TenantFacts facts ABSL_GUARDED_BY(mu);
    std::atomic<int64_t> last_read_us{0};  // when a caller last read the tenant
  };
  Entry& EntryOf(const std::string& tenant_id);
  absl::Status RefreshEntry(const std::string& tenant_id, Entry& entry);
  absl::Status Refresh(db::Transaction& tx, const std::string& tenant_id, Entry& entry);

  db::Database& db_;
  const FactIndexOptions options_;
  std::thread loader_;
  absl::Mutex load_mu_;
  std::optional<absl::Status> load_result_ ABSL_GUARDED_BY(load_mu_);
  bool stopping_ ABSL_GUARDED_BY(load_mu_) = false;
  absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<Entry>> tenants_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::report::store
