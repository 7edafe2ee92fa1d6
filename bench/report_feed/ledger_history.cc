#include "bench/report_feed/ledger_history.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "libs/time/time.h"

namespace kelola::bench {
namespace {

namespace lv1 = kelola::ledger::v1;

constexpr int64_t kDayMicros = int64_t{86400} * 1000000;
const absl::CivilDay kEpochDay(1970, 1, 1);

struct Product {
  const char* sku;
  const char* name;
  int64_t price;  // minor units (IDR × 100)
};
constexpr Product kProducts[] = {
    {"KOPI-250", "Kopi Bubuk 250 g", 3500000},  {"GULA-1KG", "Gula Pasir 1 kg", 1800000},
    {"BRS-5KG", "Beras Premium 5 kg", 7900000}, {"MYK-2L", "Minyak Goreng 2 L", 3700000},
    {"TLR-1KG", "Telur Ayam 1 kg", 2900000},    {"MIE-40", "Mi Instan (dus 40)", 11500000},
    {"SBN-800", "Sabun Cuci 800 g", 2450000},   {"AIR-19L", "Air Galon 19 L", 2000000},
    {"SUSU-1L", "Susu UHT 1 L", 1950000},       {"TEH-25", "Teh Celup (25)", 750000},
    {"TPG-1KG", "Tepung Terigu 1 kg", 1350000}, {"KCP-600", "Kecap Manis 600 ml", 2600000}};
constexpr int kProductCount = sizeof(kProducts) / sizeof(kProducts[0]);

google::protobuf::Timestamp At(int64_t micros) { return time::TimestampFromUnixMicros(micros); }

int32_t DayNumber(int64_t micros) {
  return static_cast<int32_t>(TenantDay(absl::FromUnixMicros(micros)) - kEpochDay);
}

lv1::SaleStatus StatusOf(int64_t net, int64_t paid) {
  if (paid >= net) return lv1::SALE_STATUS_PAID;
  return paid > 0 ? lv1::SALE_STATUS_PARTIAL : lv1::SALE_STATUS_UNPAID;
}

// The fields every payment of the history shares: active, allocated in full when made.
struct PaymentHeader {
  std::string id;
  int64_t number = 0;
  std::string customer_id;
  std::string store_id;
  int64_t amount = 0;
  lv1::PaymentMethod method = lv1::PAYMENT_METHOD_CASH;
  lv1::PaymentOrigin origin = lv1::PAYMENT_ORIGIN_PAYMENT;
  int64_t time_us = 0;
  std::string request_id;
};

void FillPaymentHeader(const PaymentHeader& h, lv1::Payment& payment) {
  payment.set_payment_id(h.id);
  payment.set_number(h.number);
  payment.set_customer_id(h.customer_id);
  payment.set_store_id(h.store_id);
  *payment.mutable_amount() = Idr(h.amount);
  payment.set_method(h.method);
  *payment.mutable_received_time() = At(h.time_us);
  payment.set_status(lv1::PAYMENT_STATUS_ACTIVE);
  payment.set_origin(h.origin);
  *payment.mutable_allocated_amount() = Idr(h.amount);
  *payment.mutable_returned_amount() = Idr(0);
  *payment.mutable_unallocated_amount() = Idr(0);
  payment.set_request_id(h.request_id);
  payment.set_recorded_by("bench");
  *payment.mutable_record_time() = At(h.time_us);
}

// Adds the allocation number `k` (1-based) of `payment` to a sale.
void AddAllocation(lv1::Payment& payment, uint64_t k, const std::string& sale_id,
                   int64_t sale_number, int64_t amount, lv1::AllocationKind kind) {
  lv1::Allocation& allocation = *payment.add_allocations();
  const absl::Time when = absl::FromUnixMicros(time::ToUnixMicros(payment.received_time()));
  allocation.set_allocation_id(SyntheticUuid(
      when, (uint64_t{1} << 46) | (static_cast<uint64_t>(payment.number()) << 8) | (k & 0xff)));
  allocation.set_sale_id(sale_id);
  allocation.set_sale_number(sale_number);
  allocation.set_payment_id(payment.payment_id());
  allocation.set_payment_number(payment.number());
  allocation.set_payment_method(payment.method());
  *allocation.mutable_amount() = Idr(amount);
  allocation.set_kind(kind);
  *allocation.mutable_create_time() = payment.received_time();
  allocation.set_created_by("bench");
  allocation.set_request_id(payment.request_id());
}

}  // namespace

// What a sale is, all derived from its index.
struct LedgerHistory::SaleFacts {
  int64_t number = 0;
  int64_t time_us = 0;
  int64_t customer = 0;
  int32_t store = 0;
  int item_count = 0;
  int products[3] = {};
  int quantities[3] = {};
  int64_t total = 0;
  int64_t paid_now = 0;
  std::string sale_id;
};

LedgerHistory::LedgerHistory(HistoryPlan plan)
    : plan_(std::move(plan)),
      start_us_(absl::ToUnixMicros(plan_.start())),
      end_us_(absl::ToUnixMicros(plan_.end)),
      sale_step_us_(static_cast<double>(end_us_ - start_us_) /
                    static_cast<double>(std::max<int64_t>(1, plan_.sales))),
      customers_(plan_.customers) {}

int64_t LedgerHistory::SaleMicros(int64_t i) const {
  // Evenly spread, each sale at a random point of its own slot: times never go back.
  const double within = static_cast<double>(Mix(plan_.seed, i, 1) >> 11) * 0x1.0p-53;
  return start_us_ + static_cast<int64_t>((static_cast<double>(i) + within) * sale_step_us_);
}

LedgerHistory::SaleFacts LedgerHistory::PlanSale(int64_t i) const {
  SaleFacts s;
  s.number = i + 1;
  s.time_us = SaleMicros(i);
  s.customer = static_cast<int64_t>(Mix(plan_.seed, i, 2) %
                                    plan_.CustomersBy(absl::FromUnixMicros(s.time_us)));
  s.store = static_cast<int32_t>(Mix(plan_.seed, i, 5) % HistoryPlan::kStores);
  s.item_count = 1 + static_cast<int>(Mix(plan_.seed, i, 3) % 3);
  for (int j = 0; j < s.item_count; ++j) {
    s.products[j] = static_cast<int>(Mix(plan_.seed, i, 10 + j) % kProductCount);
    s.quantities[j] = 1 + static_cast<int>(Mix(plan_.seed, i, 20 + j) % 3);
    s.total += kProducts[s.products[j]].price * s.quantities[j];
  }
  const uint64_t kind = Mix(plan_.seed, i, 4) % 100;
  s.paid_now = kind < 60 ? s.total : kind < 75 ? s.total / 2 : 0;
  s.sale_id = SyntheticUuid(absl::FromUnixMicros(s.time_us), s.number);
  return s;
}

bool LedgerHistory::Next(type::v1::Event* out) {
  while (true) {
    const bool sale_left = next_sale_ < plan_.sales;
    if (!pending_.empty() && (!sale_left || pending_.top().time_us < SaleMicros(next_sale_))) {
      if (Pay(out)) return true;
      continue;
    }
    if (!sale_left) return false;
    Sell(out);
    return true;
  }
}

void LedgerHistory::SchedulePayment(int64_t i, const SaleFacts& sale) {
  const int64_t outstanding = sale.total - sale.paid_now;
  const uint64_t plan = Mix(plan_.seed, i, 6) % 100;
  if (outstanding <= 0 || plan >= 80) return;  // one credit sale in five is never paid for
  const int64_t delay = (1 + static_cast<int64_t>(Mix(plan_.seed, i, 7) % 60)) * kDayMicros +
                        static_cast<int64_t>(Mix(plan_.seed, i, 8) % kDayMicros);
  if (sale.time_us + delay >= end_us_) return;
  pending_.push({sale.time_us + delay, scheduled_++, sale.customer,
                 plan < 55 ? outstanding : std::max<int64_t>(1, outstanding / 2)});
}

void LedgerHistory::Sell(type::v1::Event* out) {
  const int64_t i = next_sale_++;
  const SaleFacts s = PlanSale(i);
  CustomerLedger& c = customers_[s.customer];
  const int64_t outstanding = s.total - s.paid_now;
  ++c.version;
  c.total_spent += s.total;
  ++c.transactions;
  c.balance += outstanding;
  if (s.paid_now > 0) {
    c.total_paid += s.paid_now;
    ++c.payments;
  }
  if (c.first_purchase_us == CustomerLedger::kNever) c.first_purchase_us = s.time_us;
  c.last_purchase_us = s.time_us;
  c.last_activity_us = s.time_us;
  OpenLedgerSale position{s.number, s.time_us, DayNumber(s.time_us) + 30,
                          s.store,  s.total,   s.paid_now};
  if (outstanding > 0) c.open.push_back(position);
  const int64_t payment_number = s.paid_now > 0 ? ++payment_numbers_ : 0;
  SchedulePayment(i, s);
  ++sequence_;
  if (out == nullptr) return;
  lv1::SaleRecorded event;
  event.set_customer_id(plan_.CustomerId(s.customer));
  event.set_ledger_version(c.version);
  *event.mutable_stats() = Stats(s.customer, s.time_us);
  FillSale(s, position, *event.mutable_sale());
  if (payment_number > 0) {
    FillSalePayment(s, payment_number, *event.mutable_sale_payment());
    event.mutable_sale()->set_sale_payment_id(event.sale_payment().payment_id());
    *event.mutable_sale()->add_allocations() = event.sale_payment().allocations(0);
  }
  lv1::SalePosition& affected = *event.add_affected_sales() = Position(s.customer, position);
  if (outstanding == 0) affected.clear_due_date();  // paid in full: sold without a due date
  Envelope(s.customer, s.time_us, event, event.sale().request_id(), *out);
}

void LedgerHistory::FillSale(const SaleFacts& s, const OpenLedgerSale& position,
                             lv1::Sale& sale) const {
  const int64_t outstanding = s.total - s.paid_now;
  sale.set_sale_id(s.sale_id);
  sale.set_number(s.number);
  sale.set_customer_id(plan_.CustomerId(s.customer));
  sale.set_store_id(plan_.StoreId(s.store));
  for (int j = 0; j < s.item_count; ++j) {
    const Product& p = kProducts[s.products[j]];
    lv1::SaleItem& item = *sale.add_items();
    item.set_sku(p.sku);
    item.set_name(p.name);
    item.set_quantity_milli(s.quantities[j] * 1000);
    item.set_unit("pcs");
    *item.mutable_unit_price() = Idr(p.price);
    *item.mutable_line_discount() = Idr(0);
    *item.mutable_line_amount() = Idr(p.price * s.quantities[j]);
  }
  *sale.mutable_subtotal() = Idr(s.total);
  *sale.mutable_order_discount() = Idr(0);
  *sale.mutable_total() = Idr(s.total);
  *sale.mutable_paid_amount() = Idr(s.paid_now);
  *sale.mutable_refunded_amount() = Idr(0);
  *sale.mutable_net_total() = Idr(s.total);
  *sale.mutable_outstanding() = Idr(outstanding);
  sale.set_status(StatusOf(s.total, s.paid_now));
  *sale.mutable_sale_time() = At(s.time_us);
  if (outstanding > 0) *sale.mutable_due_date() = time::ToDate(kEpochDay + position.due_day);
  sale.set_request_id(absl::StrCat("sale-", s.number));
  sale.set_recorded_by("bench");
  *sale.mutable_record_time() = At(s.time_us);
}

void LedgerHistory::FillSalePayment(const SaleFacts& s, int64_t number,
                                    lv1::Payment& payment) const {
  PaymentHeader header;
  header.id = SyntheticUuid(absl::FromUnixMicros(s.time_us), (uint64_t{1} << 47) | number);
  header.number = number;
  header.customer_id = plan_.CustomerId(s.customer);
  header.store_id = plan_.StoreId(s.store);
  header.amount = s.paid_now;
  header.method = lv1::PAYMENT_METHOD_CASH;
  header.origin = lv1::PAYMENT_ORIGIN_SALE;
  header.time_us = s.time_us;
  header.request_id = absl::StrCat("sale-", s.number);
  FillPaymentHeader(header, payment);
  payment.set_sale_id(s.sale_id);
  AddAllocation(payment, 0, s.sale_id, s.number, s.paid_now, lv1::ALLOCATION_KIND_SALE_PAYMENT);
}

bool LedgerHistory::Pay(type::v1::Event* out) {
  const PendingPayment due = pending_.top();
  pending_.pop();
  CustomerLedger& c = customers_[due.customer];
  const int64_t amount = std::min(due.amount, c.balance);
  if (amount <= 0) return false;  // later payments already covered it
  ++c.version;
  c.balance -= amount;
  c.total_paid += amount;
  ++c.payments;
  c.last_payment_us = due.time_us;
  c.last_activity_us = due.time_us;
  const int64_t number = ++payment_numbers_;
  ++sequence_;
  // Oldest first, as ledger-svc allocates; settled sales leave the open list.
  std::vector<Allocated> allocated;
  int64_t left = amount;
  size_t settled = 0;
  for (OpenLedgerSale& sale : c.open) {
    if (left == 0) break;
    const int64_t part = std::min(left, sale.net - sale.paid);
    sale.paid += part;
    left -= part;
    if (sale.paid >= sale.net) ++settled;
    if (out != nullptr) allocated.push_back({sale, part});
  }
  c.open.erase(c.open.begin(), c.open.begin() + static_cast<std::ptrdiff_t>(settled));
  if (out != nullptr) FillPayment(due.customer, due.time_us, number, amount, allocated, *out);
  return true;
}

void LedgerHistory::FillPayment(int64_t customer, int64_t time_us, int64_t number, int64_t amount,
                                const std::vector<Allocated>& allocated,
                                type::v1::Event& out) const {
  lv1::PaymentRecorded event;
  event.set_customer_id(plan_.CustomerId(customer));
  event.set_ledger_version(customers_[customer].version);
  *event.mutable_stats() = Stats(customer, time_us);
  PaymentHeader header;
  header.id = SyntheticUuid(absl::FromUnixMicros(time_us), (uint64_t{1} << 47) | number);
  header.number = number;
  header.customer_id = event.customer_id();
  header.store_id = plan_.StoreId(static_cast<int>(number % HistoryPlan::kStores));
  header.amount = amount;
  header.method = lv1::PAYMENT_METHOD_QRIS;
  header.origin = lv1::PAYMENT_ORIGIN_PAYMENT;
  header.time_us = time_us;
  header.request_id = absl::StrCat("payment-", number);
  FillPaymentHeader(header, *event.mutable_payment());
  uint64_t k = 0;
  for (const auto& [sale, part] : allocated) {
    const lv1::SalePosition& position = *event.add_affected_sales() = Position(customer, sale);
    AddAllocation(*event.mutable_payment(), ++k, position.sale_id(), sale.number, part,
                  lv1::ALLOCATION_KIND_PAYMENT);
  }
  Envelope(customer, time_us, event, header.request_id, out);
}

void LedgerHistory::Envelope(int64_t c, int64_t time_us, const google::protobuf::Message& payload,
                             const std::string& request_id, type::v1::Event& out) const {
  out.Clear();
  out.set_sequence(sequence_);
  out.set_tenant_id(plan_.tenant_id);
  out.set_type(payload.GetDescriptor()->full_name());
  out.set_aggregate_type("customer");
  out.set_aggregate_id(plan_.CustomerId(c));
  out.set_aggregate_version(customers_[c].version);
  *out.mutable_occur_time() = At(time_us);
  out.mutable_payload()->PackFrom(payload);
  out.set_request_id(request_id);
  out.set_principal("bench");
}

ledger::v1::CustomerLedgerStats LedgerHistory::Stats(int64_t customer, int64_t time_us) const {
  const CustomerLedger& c = customers_[customer];
  lv1::CustomerLedgerStats s;
  s.set_customer_id(plan_.CustomerId(customer));
  s.set_ledger_version(c.version);
  *s.mutable_total_spent() = Idr(c.total_spent);
  s.set_transaction_count(c.transactions);
  *s.mutable_average_order() =
      Idr(c.transactions == 0 ? 0 : (c.total_spent + c.transactions / 2) / c.transactions);
  *s.mutable_balance() = Idr(c.balance);
  *s.mutable_credit() = Idr(0);
  // Overdue on the day of the change, in the tenant's zone (as the ledger computes it).
  const int32_t today = DayNumber(time_us);
  int64_t overdue = 0;
  int32_t days = 0;
  int32_t earliest_due = INT32_MAX;
  for (const OpenLedgerSale& sale : c.open) {
    earliest_due = std::min(earliest_due, sale.due_day);
    if (today <= sale.due_day) continue;
    overdue += sale.net - sale.paid;
    days = std::max(days, today - sale.due_day);
  }
  *s.mutable_overdue_amount() = Idr(overdue);
  s.set_days_overdue(days);
  *s.mutable_as_of_date() = time::ToDate(kEpochDay + today);
  if (!c.open.empty()) {
    *s.mutable_earliest_open_due_date() = time::ToDate(kEpochDay + earliest_due);
    *s.mutable_oldest_open_sale_time() = At(c.open.front().time_us);
  }
  s.set_open_sale_count(static_cast<int64_t>(c.open.size()));
  if (c.first_purchase_us != CustomerLedger::kNever) {
    *s.mutable_first_purchase_time() = At(c.first_purchase_us);
    *s.mutable_last_purchase_time() = At(c.last_purchase_us);
  }
  if (c.last_payment_us != CustomerLedger::kNever) {
    *s.mutable_last_payment_time() = At(c.last_payment_us);
  }
  if (c.last_activity_us != CustomerLedger::kNever) {
    *s.mutable_last_activity_time() = At(c.last_activity_us);
  }
  *s.mutable_total_paid() = Idr(c.total_paid);
  s.set_payment_count(c.payments);
  s.set_has_history(true);
  return s;
}

ledger::v1::SalePosition LedgerHistory::Position(int64_t customer,
                                                 const OpenLedgerSale& sale) const {
  lv1::SalePosition p;
  p.set_sale_id(SyntheticUuid(absl::FromUnixMicros(sale.time_us), sale.number));
  p.set_number(sale.number);
  p.set_customer_id(plan_.CustomerId(customer));
  p.set_store_id(plan_.StoreId(sale.store));
  *p.mutable_sale_time() = At(sale.time_us);
  *p.mutable_due_date() = time::ToDate(kEpochDay + sale.due_day);
  *p.mutable_net_total() = Idr(sale.net);
  *p.mutable_paid_amount() = Idr(sale.paid);
  *p.mutable_outstanding() = Idr(sale.net - sale.paid);
  p.set_status(StatusOf(sale.net, sale.paid));
  return p;
}

}  // namespace kelola::bench
