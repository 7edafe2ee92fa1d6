#include "report-svc/store/fact_index.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "libs/log/log.h"
#include "report-svc/store/summary_cards.h"

namespace kelola::report::store {
namespace {

const absl::CivilDay kEpochDay(1970, 1, 1);

template <typename T>
void EnsureSize(std::vector<T>& v, size_t n, T fill = T()) {
  if (v.size() < n) v.resize(n, fill);
}

// Reads the rows of `columns` from `from_where` past `mark` in chunks ordered by (order1,
// order2), the last two selected columns, and hands each to `apply`; moves `mark`.
template <typename Apply>
absl::Status ReadPast(db::Transaction& tx, int chunk_rows, const std::string& tenant_id,
                      const std::string& columns,
                      const std::string& from_where, const std::string& order1,
                      const std::string& order2, bool text_key, int64_t& mark_change,
                      db::Value& mark_key, Apply apply) {
  // A row-value comparison, so that both planners seek the (tenant, order1, order2) index
  // instead of scanning the tenant's rows (an OR of the two conditions is not a range).
  const std::string sql = absl::StrCat(
      "SELECT ", columns, ", ", order1, ", ", order2, " FROM ", from_where, " AND (", order1,
      ", ", order2, ") > (?, ?) ORDER BY ", order1, ", ", order2, " LIMIT ", chunk_rows);
  while (true) {
    auto rows = tx.Query(sql, {tenant_id, mark_change, mark_key});
    if (!rows.ok()) return rows.status();
    for (const db::Row& r : *rows) apply(r);
    if (!rows->empty()) {
      const db::Row& last = rows->back();
      mark_change = last.GetInt(last.size() - 2);
      if (text_key) {
        mark_key = last.GetText(last.size() - 1);
      } else {
        mark_key = last.GetInt(last.size() - 1);
      }
    }
    if (rows->size() < static_cast<size_t>(chunk_rows)) return absl::OkStatus();
  }
}

}  // namespace

uint32_t TenantFacts::CustomerNo(const std::string& id) {
  auto [it, added] = customer_no_.try_emplace(id, static_cast<uint32_t>(customer_ids_.size()));
  if (added) {
    customer_ids_.push_back(id);
    customers_.emplace_back();
    customers_.back().customer_id = id;
    cards_.emplace_back();
    cards_.back().customer_id = id;
    customer_sales_.emplace_back();
  }
  return it->second;
}

void TenantFacts::AssignSale(size_t row, uint32_t customer) {
  const uint32_t before = sale_customer_[row];
  if (before == customer) return;
  if (before != kNone) {
    std::vector<uint32_t>& rows = customer_sales_[before];
    rows.erase(std::remove(rows.begin(), rows.end(), static_cast<uint32_t>(row)), rows.end());
  }
  customer_sales_[customer].push_back(static_cast<uint32_t>(row));
  sale_customer_[row] = customer;
}

std::vector<domain::OpenSale> TenantFacts::OpenSalesOf(const std::string& customer_id) const {
  std::vector<domain::OpenSale> out;
  auto it = customer_no_.find(customer_id);
  if (it == customer_no_.end()) return out;
  for (uint32_t row : customer_sales_[it->second]) {
    if (sale_outstanding_[row] <= 0) continue;
    domain::OpenSale sale;
    sale.customer_id = customer_id;
    if (sale_due_day_[row] != std::numeric_limits<int32_t>::min()) {
      sale.due_date = kEpochDay + sale_due_day_[row];
    }
    sale.outstanding = sale_outstanding_[row];
    out.push_back(std::move(sale));
  }
  return out;
}

CustomerSales TenantFacts::SalesOf(const std::string& customer_id, absl::Time from,
                                   absl::Time to) const {
  CustomerSales out{customer_id, 0, 0, absl::InfiniteFuture(), absl::InfinitePast()};
  auto it = customer_no_.find(customer_id);
  if (it == customer_no_.end()) return out;
  const int64_t lo = UnixMicrosOrLimit(from), hi = UnixMicrosOrLimit(to);
  for (uint32_t row : customer_sales_[it->second]) {
    const int64_t us = sale_us_[row];
    if (us < lo || us >= hi || !sale_counted_[row]) continue;
    out.total += sale_net_[row];
    ++out.count;
    out.first = std::min(out.first, absl::FromUnixMicros(us));
    out.last = std::max(out.last, absl::FromUnixMicros(us));
  }
  return out;
}

uint32_t TenantFacts::StoreNo(const std::string& id) {
  auto [it, added] = store_no_.try_emplace(id, static_cast<uint32_t>(store_ids_.size()));
  if (added) store_ids_.push_back(id);
  return it->second;
}

uint32_t TenantFacts::FindStore(const std::string& id) const {
  if (id.empty()) return kAll;
  auto it = store_no_.find(id);
  return it == store_no_.end() ? kNone : it->second;
}

std::vector<uint8_t> TenantFacts::CategoryMask(const SeriesFilter& filter) const {
  std::vector<uint8_t> mask(customers_.size(), 1);
  if (!filter.category_id.has_value()) return mask;
  for (size_t i = 0; i < customers_.size(); ++i) {
    mask[i] = customers_[i].category_id == *filter.category_id;
  }
  return mask;
}

bool TenantFacts::SalePasses(size_t row, uint32_t store, const std::vector<uint8_t>& mask) const {
  if (store != kAll && sale_store_[row] != store) return false;
  const uint32_t customer = sale_customer_[row];
  return customer != kNone && mask[customer];
}

std::vector<domain::CustomerRow> TenantFacts::Customers() const {
  std::vector<domain::CustomerRow> out;
  for (const domain::CustomerRow& c : customers_) {
    if (c.version > 0) out.push_back(c);
  }
  return out;
}

std::vector<domain::CardRow> TenantFacts::Cards() const {
  std::vector<domain::CardRow> out;
  for (const domain::CardRow& c : cards_) {
    if (c.ledger_version > 0) out.push_back(c);
  }
  return out;
}

std::vector<CustomerSales> TenantFacts::SalesByCustomer(absl::Time from, absl::Time to,
                                                        const std::string& store_id) const {
  std::vector<CustomerSales> out;
  const uint32_t store = FindStore(store_id);
  if (store == kNone) return out;
  const int64_t lo = UnixMicrosOrLimit(from), hi = UnixMicrosOrLimit(to);
  const size_t n = customers_.size();
  std::vector<int64_t> total(n, 0), count(n, 0), first(n, std::numeric_limits<int64_t>::max()),
      last(n, std::numeric_limits<int64_t>::min());
  for (size_t i = 0; i < sale_us_.size(); ++i) {
    const int64_t us = sale_us_[i];
    if (us < lo || us >= hi || !sale_counted_[i]) continue;
    if (store != kAll && sale_store_[i] != store) continue;
    const uint32_t c = sale_customer_[i];
    if (c == kNone) continue;
    total[c] += sale_net_[i];
    ++count[c];
    first[c] = std::min(first[c], us);
    last[c] = std::max(last[c], us);
  }
  for (size_t c = 0; c < n; ++c) {
    if (count[c] == 0) continue;
    out.push_back({customer_ids_[c], total[c], count[c], absl::FromUnixMicros(first[c]),
                   absl::FromUnixMicros(last[c])});
  }
  return out;
}

std::vector<OpenSale> TenantFacts::OpenSales(const std::string& store_id) const {
  std::vector<OpenSale> out;
  const uint32_t store = FindStore(store_id);
  if (store == kNone) return out;
  for (size_t i = 0; i < sale_us_.size(); ++i) {
    if (sale_outstanding_[i] <= 0 || sale_customer_[i] == kNone) continue;
    if (store != kAll && sale_store_[i] != store) continue;
    OpenSale sale;
    sale.customer_id = customer_ids_[sale_customer_[i]];
    sale.sale_time = absl::FromUnixMicros(sale_us_[i]);
    if (sale_due_day_[i] != std::numeric_limits<int32_t>::min()) {
      sale.due_date = kEpochDay + sale_due_day_[i];
    }
    sale.outstanding = sale_outstanding_[i];
    out.push_back(sale);
  }
  return out;
}

absl::flat_hash_map<std::string, absl::Time> TenantFacts::LastPayments() const {
  std::vector<int64_t> last(customers_.size(), std::numeric_limits<int64_t>::min());
  for (size_t i = 0; i < payment_us_.size(); ++i) {
    const uint32_t c = payment_customer_[i];
    if (c == kNone || !payment_counts_[i]) continue;
    last[c] = std::max(last[c], payment_us_[i]);
  }
  absl::flat_hash_map<std::string, absl::Time> out;
  for (size_t c = 0; c < last.size(); ++c) {
    if (last[c] != std::numeric_limits<int64_t>::min()) {
      out[customer_ids_[c]] = absl::FromUnixMicros(last[c]);
    }
  }
  return out;
}

template <typename Passes>
std::vector<SlotAmount> TenantFacts::BySlot(absl::Time from, absl::Time to,
                                            const std::vector<int64_t>& times,
                                            const std::vector<int64_t>& amounts,
                                            Passes passes) const {
  std::vector<SlotAmount> out;
  const int64_t lo = UnixMicrosOrLimit(from), hi = UnixMicrosOrLimit(to);
  if (hi <= lo) return out;
  // Slots are floor(us / kSlotMicros); the range is bounded (a series spans at most 400
  // buckets), so a dense array per slot is small.
  const int64_t first_slot = lo / kSlotMicros, last_slot = (hi - 1) / kSlotMicros;
  std::vector<int64_t> sum(last_slot - first_slot + 1, 0), count(sum.size(), 0);
  for (size_t i = 0; i < times.size(); ++i) {
    const int64_t us = times[i];
    if (us < lo || us >= hi || !passes(i)) continue;
    const size_t slot = us / kSlotMicros - first_slot;
    sum[slot] += amounts[i];
    ++count[slot];
  }
  for (size_t s = 0; s < sum.size(); ++s) {
    if (count[s] > 0) out.push_back({first_slot + static_cast<int64_t>(s), sum[s], count[s]});
  }
  return out;
}

std::vector<SlotAmount> TenantFacts::SalesBySlot(absl::Time from, absl::Time to,
                                                 const SeriesFilter& filter) const {
  const uint32_t store = FindStore(filter.store_id);
  if (store == kNone) return {};
  const std::vector<uint8_t> mask = CategoryMask(filter);
  return BySlot(from, to, sale_us_, sale_net_,
                [&](size_t i) { return sale_counted_[i] && SalePasses(i, store, mask); });
}

std::vector<SlotAmount> TenantFacts::ReceivableChangesBySlot(absl::Time from, absl::Time to,
                                                             const SeriesFilter& filter) const {
  const uint32_t store = FindStore(filter.store_id);
  if (store == kNone) return {};
  const std::vector<uint8_t> mask = CategoryMask(filter);
  return BySlot(from, to, change_us_, change_delta_,
                [&](size_t i) { return SalePasses(change_sale_[i], store, mask); });
}

int64_t TenantFacts::ReceivablesBefore(absl::Time before, const SeriesFilter& filter) const {
  const uint32_t store = FindStore(filter.store_id);
  if (store == kNone) return 0;
  const std::vector<uint8_t> mask = CategoryMask(filter);
  const int64_t hi = UnixMicrosOrLimit(before);
  int64_t sum = 0;
  for (size_t i = 0; i < change_us_.size(); ++i) {
    if (change_us_[i] < hi && SalePasses(change_sale_[i], store, mask)) sum += change_delta_[i];
  }
  return sum;
}

FactIndex::Entry& FactIndex::EntryOf(const std::string& tenant_id) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<Entry>& entry = tenants_[tenant_id];
  if (entry == nullptr) entry = std::make_unique<Entry>();
  return *entry;
}

absl::Status FactIndex::RefreshEntry(const std::string& tenant_id, Entry& entry) {
  absl::MutexLock lock(&entry.mu);
  db::TransactionOptions read_only;
  read_only.read_only = true;
  return db_.InTransaction(
      [&](db::Transaction& tx) { return Refresh(tx, tenant_id, entry.facts); }, read_only);
}

absl::Status FactIndex::Read(const std::string& tenant_id,
                             const std::function<absl::Status(const TenantFacts&)>& read) {
  Entry& entry = EntryOf(tenant_id);
  if (absl::Status s = RefreshEntry(tenant_id, entry); !s.ok()) return s;
  absl::ReaderMutexLock lock(&entry.mu);
  return read(entry.facts);
}

absl::Status FactIndex::ReadAtLeast(const std::string& tenant_id, int64_t sequence,
                                    const std::function<absl::Status(const TenantFacts&)>& read) {
  Entry& entry = EntryOf(tenant_id);
  {
    absl::ReaderMutexLock lock(&entry.mu);
    if (entry.facts.loaded_ && entry.facts.applied_through_ >= sequence) return read(entry.facts);
  }
  return Read(tenant_id, read);
}

FactIndex::~FactIndex() {
  {
    absl::MutexLock lock(&load_mu_);
    stopping_ = true;
  }
  if (loader_.joinable()) loader_.join();
}

void FactIndex::StartLoading(absl::Duration follow_interval) {
  loader_ = std::thread([this, follow_interval] {
    absl::Status loaded = LoadAll();
    {
      absl::MutexLock lock(&load_mu_);
      load_result_ = loaded;
    }
    while (true) {
      {
        absl::MutexLock lock(&load_mu_);
        if (load_mu_.AwaitWithTimeout(absl::Condition(&stopping_), follow_interval)) return;
      }
      std::vector<std::pair<std::string, Entry*>> entries;
      {
        absl::MutexLock lock(&mu_);
        for (auto& [tenant, entry] : tenants_) entries.push_back({tenant, entry.get()});
      }
      for (auto& [tenant, entry] : entries) {
        if (absl::Status s = RefreshEntry(tenant, *entry); !s.ok()) {
          log::Warn("report facts not refreshed", {{"tenant", tenant},
                                                   {"error", std::string(s.message())}});
        }
      }
    }
  });
}

absl::Status FactIndex::Ready() {
  absl::MutexLock lock(&load_mu_);
  if (!load_result_.has_value()) {
    return absl::UnavailableError("the report facts are being loaded into memory");
  }
  return *load_result_;
}

absl::Status FactIndex::LoadAll() {
  std::vector<std::string> tenants;
  db::TransactionOptions read_only;
  read_only.read_only = true;
  absl::Status listed = db_.InTransaction(
      [&](db::Transaction& tx) -> absl::Status {
        auto rows = tx.Query("SELECT DISTINCT tenant_id FROM summary_cards", {});
        if (!rows.ok()) return rows.status();
        tenants.clear();
        for (const db::Row& r : *rows) tenants.push_back(r.GetText(0));
        return absl::OkStatus();
      },
      read_only);
  if (!listed.ok()) return listed;
  for (const std::string& tenant : tenants) {
    if (absl::Status s = RefreshEntry(tenant, EntryOf(tenant)); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status FactIndex::Refresh(db::Transaction& tx, const std::string& tenant_id,
                                TenantFacts& f) {
  // The card feed's cursor first: every event up to it is committed, so every row it wrote
  // is visible to the reads below.
  auto cursor = tx.Query(
      "SELECT sequence FROM consumer_cursors WHERE consumer = ? AND producer = ?",
      {std::string(kCardConsumer), std::string(kLedgerProducer)});
  if (!cursor.ok()) return cursor.status();
  const int64_t through = cursor->empty() ? 0 : cursor->front().GetInt(0);
  auto customers = ReadPast(
      tx, options_.chunk_rows, tenant_id,
      "customer_id, version, display_name, phone_e164, category_id, marketing_consent, "
      "create_us, state, merged_into_customer_id",
      "report_customers WHERE tenant_id = ?", "change_no", "customer_id", true,
      f.customers_mark_.change_no, f.customers_mark_.key, [&](const db::Row& r) {
        domain::CustomerRow& c = f.customers_[f.CustomerNo(r.GetText(0))];
        c.version = r.GetInt(1);
        c.display_name = r.GetText(2);
        c.phone_e164 = r.GetText(3);
        c.category_id = r.GetText(4);
        c.marketing_consent = r.GetInt(5) != 0;
        c.created.reset();
        if (auto us = r.GetOptionalInt(6)) c.created = absl::FromUnixMicros(*us);
        c.state = static_cast<domain::CustomerState>(r.GetInt(7));
        c.merged_into_customer_id = r.GetText(8);
      });
  if (!customers.ok()) return customers;
  auto cards = ReadPast(
      tx, options_.chunk_rows, tenant_id,
      "customer_id, ledger_version, currency, total_spent_minor, transaction_count, "
      "first_purchase_us, last_purchase_us, balance_minor, merged_into_customer_id",
      "summary_cards WHERE tenant_id = ?", "change_no", "customer_id", true,
      f.cards_mark_.change_no, f.cards_mark_.key, [&](const db::Row& r) {
        domain::CardRow& c = f.cards_[f.CustomerNo(r.GetText(0))];
        c.ledger_version = r.GetInt(1);
        c.currency = r.GetText(2);
        c.total_spent = r.GetInt(3);
        c.transaction_count = r.GetInt(4);
        c.first_purchase.reset();
        c.last_purchase.reset();
        if (auto us = r.GetOptionalInt(5)) c.first_purchase = absl::FromUnixMicros(*us);
        if (auto us = r.GetOptionalInt(6)) c.last_purchase = absl::FromUnixMicros(*us);
        c.balance = r.GetInt(7);
        c.merged_into_customer_id = r.GetText(8);
      });
  if (!cards.ok()) return cards;
  auto sales = ReadPast(
      tx, options_.chunk_rows, tenant_id,
      "row_no, customer_id, store_id, sale_us, due_day, net_total_minor, outstanding_minor, "
      "counted",
      "report_sales WHERE tenant_id = ?", "change_no", "row_no", false, f.sales_mark_.change_no,
      f.sales_mark_.key, [&](const db::Row& r) {
        const size_t row = static_cast<size_t>(r.GetInt(0) - 1);
        const size_t n = row + 1;
        EnsureSize(f.sale_us_, n);
        EnsureSize(f.sale_net_, n);
        EnsureSize(f.sale_outstanding_, n);
        EnsureSize(f.sale_customer_, n, TenantFacts::kNone);
        EnsureSize(f.sale_store_, n);
        EnsureSize(f.sale_due_day_, n, std::numeric_limits<int32_t>::min());
        EnsureSize(f.sale_counted_, n);
        f.AssignSale(row, f.CustomerNo(r.GetText(1)));
        f.sale_store_[row] = f.StoreNo(r.GetText(2));
        f.sale_us_[row] = r.GetInt(3);
        const std::optional<int64_t> due = r.GetOptionalInt(4);
        f.sale_due_day_[row] =
            due.has_value() ? static_cast<int32_t>(*due) : std::numeric_limits<int32_t>::min();
        f.sale_net_[row] = r.GetInt(5);
        f.sale_outstanding_[row] = r.GetInt(6);
        f.sale_counted_[row] = r.GetInt(7) != 0;
      });
  if (!sales.ok()) return sales;
  auto payments = ReadPast(
      tx, options_.chunk_rows, tenant_id, "row_no, customer_id, received_us, counts",
      "report_payments WHERE tenant_id = ?", "change_no", "row_no", false,
      f.payments_mark_.change_no, f.payments_mark_.key, [&](const db::Row& r) {
        const size_t row = static_cast<size_t>(r.GetInt(0) - 1);
        EnsureSize(f.payment_us_, row + 1);
        EnsureSize(f.payment_customer_, row + 1, TenantFacts::kNone);
        EnsureSize(f.payment_counts_, row + 1);
        f.payment_customer_[row] = f.CustomerNo(r.GetText(1));
        f.payment_us_[row] = r.GetInt(2);
        f.payment_counts_[row] = r.GetInt(3) != 0;
      });
  if (!payments.ok()) return payments;
  // Changes are only ever appended: read by row number alone (c.row_no twice keeps one shape).
  absl::Status changes = ReadPast(
      tx, options_.chunk_rows, tenant_id, "c.effective_us, c.delta_minor, s.row_no",
      "report_receivable_changes c JOIN report_sales s ON s.tenant_id = c.tenant_id AND "
      "s.sale_id = c.sale_id WHERE c.tenant_id = ?",
      "c.row_no", "c.row_no", false, f.changes_mark_.change_no, f.changes_mark_.key,
      [&](const db::Row& r) {
        f.change_us_.push_back(r.GetInt(0));
        f.change_delta_.push_back(r.GetInt(1));
        f.change_sale_.push_back(static_cast<uint32_t>(r.GetInt(2) - 1));
      });
  if (!changes.ok()) return changes;
  f.applied_through_ = through;
  f.loaded_ = true;
  return absl::OkStatus();
}

}  // namespace kelola::report::store
