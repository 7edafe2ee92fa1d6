#pragma once

// The ledger's reads: entries, balances, statistics, receivables and credit limits, each
// in one read-only snapshot, taking plain values (the lists: the queries of
// list_queries.h); the stored responses of earlier writes; the tenant settings kept for
// when customer-svc cannot answer. The writes are the app layer's use cases (app/), each
// one transaction through LedgerWriter (ledger_writer.h) over the statements of
// ledger_entries.h and entry_writes.h.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "ledger-svc/store/list_queries.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/idempotency/idempotency.h"

namespace kelola::ledger {

// Who writes, for which tenant, in which currency and calendar.
struct LedgerContext {
  std::string tenant_id;
  std::string principal;
  // The stores the principal may act for; empty = every store of the tenant. Lists keep
  // to them in SQL; single entries are checked by the api layer.
  std::vector<std::string> stores;
  std::string currency = "IDR";
  absl::TimeZone time_zone;
};

// A tenant's settings as customer-svc reported them, and the currency its ledger history
// is in (empty until pinned).
struct StoredTenantSettings {
  std::string currency_code;
  std::string time_zone;
  std::string ledger_currency;
};

class LedgerStore {
 public:
  LedgerStore(db::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // The stored response of an earlier write with this request_id, if any (nullopt when
  // none); ALREADY_EXISTS REQUEST_ID_REUSED when its content differed. `rpc` names the
  // method; `print` is the request's fingerprint (libs/idempotency).
  absl::StatusOr<std::optional<std::string>> FindReplay(const LedgerContext& ctx,
                                                        absl::string_view rpc,
                                                        const std::string& request_id,
                                                        const idempotency::Print& print);

  absl::StatusOr<v1::Sale> GetSale(const LedgerContext& ctx, const std::string& sale_id,
                                   v1::SaleView view);
  absl::StatusOr<v1::Payment> GetPayment(const LedgerContext& ctx, const std::string& payment_id);
  // A page of sales or payments of the query (list_queries.h), kept to the principal's
  // stores (ctx.stores). A page ends early before its entries reach max_page_bytes.
  absl::StatusOr<SalePage> ListSales(const LedgerContext& ctx, const SaleListQuery& query);
  absl::StatusOr<PaymentPage> ListPayments(const LedgerContext& ctx, const PaymentListQuery& query);
  // Balances of several customers in one snapshot, in request order.
  absl::StatusOr<std::vector<v1::CustomerBalance>> GetBalances(
      const LedgerContext& ctx, const std::vector<std::string>& customer_ids);
  absl::StatusOr<v1::CustomerLedgerStats> GetStats(const LedgerContext& ctx,
                                                   const std::string& customer_id);
  // The customers who owe, from their open sales at the principal's stores, with the
  // totals over every customer that matched. FAILED_PRECONDITION when a sum passes int64.
  absl::StatusOr<ReceivablePage> ListReceivables(const LedgerContext& ctx,
                                                 const ReceivableListQuery& query);
  // The subject's own limit (nullopt when none).
  absl::StatusOr<std::optional<v1::CreditLimit>> FindCreditLimit(const LedgerContext& ctx,
                                                                 absl::string_view subject,
                                                                 const std::string& subject_id);
  absl::StatusOr<CreditLimitPage> ListCreditLimits(const LedgerContext& ctx,
                                                   const CreditLimitListQuery& query);

  // The tenant's currency and time zone as customer-svc last reported them (nullopt when
  // never), and storing a newer report. Only for when customer-svc cannot answer.
  absl::StatusOr<std::optional<StoredTenantSettings>> FindTenantSettings(
      const std::string& tenant_id);
  absl::Status SaveTenantSettings(const std::string& tenant_id,
                                  const StoredTenantSettings& settings);
  // Pins the currency of the tenant's ledger history to `settings.currency_code` unless
  // one is pinned already (`replace`: even then) and returns the pinned currency.
  // SaveTenantSettings never changes it.
  absl::StatusOr<std::string> PinLedgerCurrency(const std::string& tenant_id,
                                                const StoredTenantSettings& settings, bool replace);
  // The store of each sale (`entity` "sale") or payment ("payment") of `ids` that exists,
  // by id. A store never changes once recorded, so a check made with it before a write
  // still holds inside the write's transaction.
  absl::StatusOr<std::map<std::string, std::string>> EntryStores(
      const LedgerContext& ctx, absl::string_view entity, const std::vector<std::string>& ids);
  // Whether the tenant has any sale, payment or credit limit.
  absl::StatusOr<bool> HasLedgerHistory(const std::string& tenant_id);

  // ListSales and ListPayments end a page early, with a next_page_token after its last
  // entry, before the entries reach this many serialized bytes, so that a page of large
  // sales stays below gRPC's default 4 MiB message limit. A page holds at least one entry.
  static constexpr size_t kDefaultMaxPageBytes = 3584 * 1024;
  void set_max_page_bytes(size_t bytes) { max_page_bytes_ = bytes; }

 private:
  absl::CivilDay Today(const LedgerContext& ctx) const;
  db::Database& db_;
  const Clock& clock_;
  size_t max_page_bytes_ = kDefaultMaxPageBytes;
};

}  // namespace kelola::ledger
