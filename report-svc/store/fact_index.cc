#include "report-svc/store/fact_index.h"

#include <algorithm>
#include <limits>

#include "absl/strings/str_cat.h"
#include "libs/log/log.h"
#include "libs/threads/thread_name.h"
#include "report-svc/domain/calendar.h"
#include "report-svc/store/customer_dimension.h"
#include "report-svc/store/summary_cards.h"

namespace kelola::report::store {
namespace {

const absl::CivilDay kEpochDay(1970, 1, 1);

template <typename T>
void EnsureSize(std::vector<T>& v, size_t n, T fill = T()) {
  if (v.size() < n) v.resize(n, fill);
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

std::vector<customer_stream::CustomerRow> TenantFacts::Customers() const {
  std::vector<customer_stream::CustomerRow> out;
  for (const customer_stream::CustomerRow& c : customers_) {
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

std::vector<Owing> TenantFacts::OwingCustomers(const std::string& store_id, absl::TimeZone zone,
                                               absl::CivilDay today) const {
  std::vector<Owing> out;
  const uint32_t store = FindStore(store_id);
  if (store == kNone) return out;
  const domain::AgingThresholds aging = domain::AgingThresholdsOn(today, zone);
  const int64_t today_day = today - kEpochDay;
  std::vector<uint32_t> slot(customers_.size(), kNone);  // customer → index in `out`
  for (size_t i = 0; i < sale_us_.size(); ++i) {
    const int64_t outstanding = sale_outstanding_[i];
    const uint32_t c = sale_customer_[i];
    if (outstanding <= 0 || c == kNone || (store != kAll && sale_store_[i] != store)) continue;
    if (slot[c] == kNone) {
      slot[c] = static_cast<uint32_t>(out.size());
      out.emplace_back();
    }
    Owing& o = out[slot[c]];
    const absl::Time sold = absl::FromUnixMicros(sale_us_[i]);
    o.balance += outstanding;
    o.aging[aging.BucketOf(sold)] += outstanding;
    o.oldest_sale_time = std::min(o.oldest_sale_time, sold);
    const int32_t due = sale_due_day_[i];
    if (due != std::numeric_limits<int32_t>::min() && today_day > due) {
      o.overdue += outstanding;
      o.days_overdue = std::max(o.days_overdue, static_cast<int32_t>(today_day - due));
    }
  }
  std::vector<int64_t> last_payment(customers_.size(), std::numeric_limits<int64_t>::min());
  for (size_t i = 0; i < payment_us_.size(); ++i) {
    const uint32_t c = payment_customer_[i];
    if (c == kNone || !payment_counts_[i] || slot[c] == kNone) continue;
    last_payment[c] = std::max(last_payment[c], payment_us_[i]);
  }
  for (uint32_t c = 0; c < slot.size(); ++c) {
    if (slot[c] == kNone) continue;
    Owing& o = out[slot[c]];
    o.customer_id = &customer_ids_[c];
    o.customer = &customers_[c];
    o.card = &cards_[c];
    if (last_payment[c] != std::numeric_limits<int64_t>::min()) {
      o.last_payment = absl::FromUnixMicros(last_payment[c]);
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
  // One refresher at a time; readers keep reading between the chunks it applies.
  absl::MutexLock refreshing(&entry.refresh_mu);
  db::TransactionOptions read_only;
  read_only.read_only = true;
  return db_.InTransaction([&](db::Transaction& tx) { return Refresh(tx, tenant_id, entry); },
                           read_only);
}

absl::Status FactIndex::Read(const std::string& tenant_id,
                             const std::function<absl::Status(const TenantFacts&)>& read) {
  Entry& entry = EntryOf(tenant_id);
  entry.last_read_us.store(absl::ToUnixMicros(absl::Now()));
  if (absl::Status s = RefreshEntry(tenant_id, entry); !s.ok()) return s;
  absl::ReaderMutexLock lock(&entry.mu);
  return read(entry.facts);
}

absl::Status FactIndex::ReadAtLeast(const std::string& tenant_id, int64_t sequence,
                                    const std::function<absl::Status(const TenantFacts&)>& read) {
  Entry& entry = EntryOf(tenant_id);
  entry.last_read_us.store(absl::ToUnixMicros(absl::Now()));
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

void FactIndex::StartLoading(absl::Duration follow_interval, absl::Duration follow_idle) {
  loader_ = threads::Start("fact-loader", [this, follow_interval, follow_idle] {
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
      const int64_t recent_us = absl::ToUnixMicros(absl::Now() - follow_idle);
      {
        absl::MutexLock lock(&mu_);
        for (auto& [tenant, entry] : tenants_) {
          if (entry->last_read_us.load() >= recent_us) entries.push_back({tenant, entry.get()});
        }
      }
      for (auto& [tenant, entry] : entries) {
        if (absl::Status s = RefreshEntry(tenant, *entry); !s.ok()) {
          log::Warn("report facts not refreshed",
                    {{"tenant", tenant}, {"error", std::string(s.message())}});
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

namespace {

// How the index follows one table: `columns` are handed to the table's row function;
// a first load reads the whole table in the order of `scan_key` (its primary key, the
// cheapest order to read), later refreshes read the rows past the mark in the order of
// (change_no, `order_key`).
struct TableSpec {
  const char* table;
  const char* columns;
  const char* scan_key;
  bool scan_key_text;
  const char* order_key;
  bool order_key_text;
  const char* change_column = "change_no";
};

constexpr TableSpec kCustomers{
    "report_customers",
    "customer_id, version, display_name, phone_e164, category_id, marketing_consent, "
    "create_us, state, merged_into_customer_id",
    "customer_id",
    true,
    "customer_id",
    true};
constexpr TableSpec kCards{
    "summary_cards",
    "customer_id, ledger_version, currency, total_spent_minor, transaction_count, "
    "first_purchase_us, last_purchase_us, balance_minor, merged_into_customer_id",
    "customer_id",
    true,
    "customer_id",
    true};
constexpr TableSpec kSales{
    "report_sales",
    "row_no, customer_id, store_id, sale_us, due_day, net_total_minor, outstanding_minor, "
    "counted",
    "sale_id",
    true,
    "row_no",
    false};
constexpr TableSpec kPayments{"report_payments", "row_no, customer_id, received_us, counts",
                              "payment_id",      true,
                              "row_no",          false};
// Only ever appended: always read by row number (its change numbers grow with it).
constexpr TableSpec kChanges{"report_receivable_changes",
                             "effective_us, delta_minor, sale_row_no",
                             "row_no",
                             false,
                             "row_no",
                             false,
                             "row_no"};

db::Value KeyOf(const db::Row& r, size_t i, bool text) {
  if (text) return r.GetText(i);
  return r.GetInt(i);
}

db::Value LowestKey(bool text) {
  if (text) return std::string();
  return int64_t{-1};
}

// Reads the rows in chunks of `chunk_rows` (bounded memory) and hands each chunk to
// `apply`. With `mark_change` unset: the whole table in `scan_key` order; else the rows
// past (mark_change, mark_key) in (change_no, order_key) order, moving the mark.
absl::Status ReadChunks(db::Transaction& tx, int chunk_rows, const std::string& tenant_id,
                        const TableSpec& spec, std::optional<int64_t>& mark_change,
                        db::Value& mark_key, const std::function<void(const db::Rows&)>& apply) {
  const bool scan = !mark_change.has_value();
  // Row values, so that both planners seek the index instead of scanning the tenant.
  const std::string sql =
      scan ? absl::StrCat("SELECT ", spec.columns, ", ", spec.scan_key, " FROM ", spec.table,
                          " WHERE tenant_id = ? AND ", spec.scan_key, " > ? ORDER BY ",
                          spec.scan_key, " LIMIT ", chunk_rows)
           : absl::StrCat("SELECT ", spec.columns, ", ", spec.change_column, ", ", spec.order_key,
                          " FROM ", spec.table, " WHERE tenant_id = ? AND (", spec.change_column,
                          ", ", spec.order_key, ") > (?, ?) ORDER BY ", spec.change_column, ", ",
                          spec.order_key, " LIMIT ", chunk_rows);
  db::Value scan_key = LowestKey(spec.scan_key_text);
  while (true) {
    auto rows = scan ? tx.Query(sql, {tenant_id, scan_key})
                     : tx.Query(sql, {tenant_id, *mark_change, mark_key});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return absl::OkStatus();
    apply(*rows);
    const db::Row& last = rows->back();
    if (scan) {
      scan_key = KeyOf(last, last.size() - 1, spec.scan_key_text);
    } else {
      mark_change = last.GetInt(last.size() - 2);
      mark_key = KeyOf(last, last.size() - 1, spec.order_key_text);
    }
    if (rows->size() < static_cast<size_t>(chunk_rows)) return absl::OkStatus();
  }
}

absl::StatusOr<int64_t> CursorOf(db::Transaction& tx, const char* consumer, const char* producer) {
  auto rows = tx.Query("SELECT sequence FROM consumer_cursors WHERE consumer = ? AND producer = ?",
                       {std::string(consumer), std::string(producer)});
  if (!rows.ok()) return rows.status();
  return rows->empty() ? 0 : rows->front().GetInt(0);
}

}  // namespace

void TenantFacts::ApplyCustomer(const db::Row& r) {
  customer_stream::CustomerRow& c = customers_[CustomerNo(r.GetText(0))];
  c.version = r.GetInt(1);
  c.display_name = r.GetText(2);
  c.phone_e164 = r.GetText(3);
  c.category_id = r.GetText(4);
  c.marketing_consent = r.GetInt(5) != 0;
  c.created.reset();
  if (auto us = r.GetOptionalInt(6)) c.created = absl::FromUnixMicros(*us);
  c.state = static_cast<customer_stream::CustomerState>(r.GetInt(7));
  c.merged_into_customer_id = r.GetText(8);
}

void TenantFacts::ApplyCard(const db::Row& r) {
  domain::CardRow& c = cards_[CustomerNo(r.GetText(0))];
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
}

void TenantFacts::ApplySale(const db::Row& r) {
  const size_t row = static_cast<size_t>(r.GetInt(0) - 1);
  const size_t n = row + 1;
  EnsureSize(sale_us_, n);
  EnsureSize(sale_net_, n);
  EnsureSize(sale_outstanding_, n);
  EnsureSize(sale_customer_, n, kNone);
  EnsureSize(sale_store_, n);
  EnsureSize(sale_due_day_, n, std::numeric_limits<int32_t>::min());
  EnsureSize(sale_counted_, n);
  AssignSale(row, CustomerNo(r.GetText(1)));
  sale_store_[row] = StoreNo(r.GetText(2));
  sale_us_[row] = r.GetInt(3);
  const std::optional<int64_t> due = r.GetOptionalInt(4);
  sale_due_day_[row] =
      due.has_value() ? static_cast<int32_t>(*due) : std::numeric_limits<int32_t>::min();
  sale_net_[row] = r.GetInt(5);
  sale_outstanding_[row] = r.GetInt(6);
  sale_counted_[row] = r.GetInt(7) != 0;
}

void TenantFacts::ApplyPayment(const db::Row& r) {
  const size_t row = static_cast<size_t>(r.GetInt(0) - 1);
  EnsureSize(payment_us_, row + 1);
  EnsureSize(payment_customer_, row + 1, kNone);
  EnsureSize(payment_counts_, row + 1);
  payment_customer_[row] = CustomerNo(r.GetText(1));
  payment_us_[row] = r.GetInt(2);
  payment_counts_[row] = r.GetInt(3) != 0;
}

void TenantFacts::ApplyChange(const db::Row& r) {
  change_us_.push_back(r.GetInt(0));
  change_delta_.push_back(r.GetInt(1));
  change_sale_.push_back(static_cast<uint32_t>(r.GetInt(2) - 1));
}

absl::Status FactIndex::Refresh(db::Transaction& tx, const std::string& tenant_id, Entry& entry) {
  // The cursors first: every event up to them is committed, so every row written for them
  // is visible to the reads below.
  auto ledger_through = CursorOf(tx, kCardConsumer, kLedgerProducer);
  if (!ledger_through.ok()) return ledger_through.status();
  auto customers_through = CursorOf(tx, kCustomerConsumer, kCustomerProducer);
  if (!customers_through.ok()) return customers_through.status();

  struct Followed {
    const TableSpec* spec;
    TenantFacts::Mark TenantFacts::*mark;
    void (TenantFacts::*apply)(const db::Row&);
    int64_t through;
  };
  const Followed tables[] = {
      {&kCustomers, &TenantFacts::customers_mark_, &TenantFacts::ApplyCustomer, *customers_through},
      {&kCards, &TenantFacts::cards_mark_, &TenantFacts::ApplyCard, *ledger_through},
      {&kSales, &TenantFacts::sales_mark_, &TenantFacts::ApplySale, *ledger_through},
      {&kPayments, &TenantFacts::payments_mark_, &TenantFacts::ApplyPayment, *ledger_through},
      {&kChanges, &TenantFacts::changes_mark_, &TenantFacts::ApplyChange, *ledger_through},
  };
  for (const Followed& t : tables) {
    TenantFacts::Mark mark;
    {
      absl::ReaderMutexLock lock(&entry.mu);
      mark = entry.facts.*t.mark;
    }
    // Outstanding changes are only appended: followed by row number from the start.
    const bool append_only = t.spec == &kChanges;
    if (!mark.change_no.has_value() && append_only) {
      mark = {int64_t{-1}, LowestKey(false)};
    }
    const bool first_load = !mark.change_no.has_value();
    absl::Status read = ReadChunks(tx, options_.chunk_rows, tenant_id, *t.spec, mark.change_no,
                                   mark.key, [&](const db::Rows& rows) {
                                     absl::MutexLock lock(&entry.mu);
                                     for (const db::Row& r : rows) (entry.facts.*t.apply)(r);
                                   });
    if (!read.ok()) return read;
    // After a first load, what changes later is what comes after the cursor.
    if (first_load) mark = {t.through, LowestKey(t.spec->order_key_text)};
    absl::MutexLock lock(&entry.mu);
    entry.facts.*t.mark = mark;
  }
  absl::MutexLock lock(&entry.mu);
  entry.facts.applied_through_ = *ledger_through;
  entry.facts.loaded_ = true;
  return absl::OkStatus();
}

}  // namespace kelola::report::store
