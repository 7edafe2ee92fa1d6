// The oracle of report-svc, with real customer-svc, ledger-svc and report-svc processes on
// SQLite and PostgreSQL. Three tenants in three time zones get a randomized history (fixed,
// printed seed; KELOLA_ORACLE_SEED overrides it): customers in two categories, sales at three
// stores dated in the past (minutes around local midnight, month ends), down payments,
// payments, refunds, credit, voids, merges, an erasure and a walk-in sale. Then every card
// must equal ledger-svc's statistics, and every report, series and insight list must equal
// the recomputation of report_oracle.h from ledger-svc's and customer-svc's own answers.

#include "tests/report-svc/integration/report_oracle.h"

#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/field_mask.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/testing/postgres_environment.h"
#include "libs/testing/suite.h"
#include "libs/time/time.h"
#include "tests/report-svc/integration/report_cluster.h"

namespace kelola::testing {
namespace {

namespace cv1 = kelola::customer::v1;
namespace lv1 = kelola::ledger::v1;
namespace rv1 = kelola::report::v1;
using oracle::Facts;
using oracle::Scope;

constexpr uint64_t kDefaultSeed = 20261203;
constexpr int kCustomersPerTenant = 25;
constexpr char kGrosir[] = "grosir";
constexpr char kEceran[] = "eceran";
const char* const kStores[] = {"toko-1", "toko-2", "toko-3"};

struct TenantPlan {
  const char* id;
  const char* zone;
  const char* currency;
};
constexpr TenantPlan kTenants[] = {{"oracle-jakarta", "Asia/Jakarta", "IDR"},
                                   {"oracle-bangkok", "Asia/Bangkok", "THB"},
                                   {"oracle-jayapura", "Asia/Jayapura", "IDR"}};

uint64_t Seed() {
  const char* env = std::getenv("KELOLA_ORACLE_SEED");
  return env != nullptr ? std::strtoull(env, nullptr, 10) : kDefaultSeed;
}

absl::Status Check(const grpc::Status& status, const std::string& what) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

type::v1::Money Money(const std::string& currency, int64_t minor) {
  type::v1::Money money;
  money.set_amount_minor(minor);
  money.set_currency_code(currency);
  return money;
}

using Cluster = ReportCluster;

// ---- the randomized history of one tenant ----

struct PlannedSale {
  int customer = -1;  // -1: walk-in
  absl::Time time;
  int64_t total = 0;
  int64_t paid_now = 0;
  int due_in_days = -1;  // -1: no due date
  std::string store;
};

// What one tenant's history left behind, for the checks.
struct TenantWorld {
  TenantPlan plan;
  absl::TimeZone zone;
  std::vector<std::string> ids;                    // every customer ever created
  std::vector<oracle::OutstandingChange> changes;  // from the write responses
  absl::CivilDay midnight_day;                     // a day with sales around both its midnights
  absl::CivilMonth month_end_month;                // a month with sales at its last minute
  Facts facts;
  std::map<std::string, lv1::CustomerLedgerStats> stats;
};

// Writes a tenant's history in time order and records every change of a sale's outstanding
// amount, dated as the definitions date it.
class HistoryWriter {
 public:
  HistoryWriter(Cluster& cluster, TenantWorld& world, uint64_t seed)
      : c_(cluster),
        w_(world),
        rng_(seed),
        now_(absl::Now()),
        today_(absl::ToCivilDay(now_, world.zone)) {}

  absl::Status Write();

 private:
  int Rand(int n) { return static_cast<int>(rng_() % static_cast<uint64_t>(n)); }
  std::unique_ptr<grpc::ClientContext> Ctx() { return TenantContext(w_.plan.id); }
  type::v1::Money Amount(int64_t minor) { return Money(w_.plan.currency, minor); }
  absl::Time LocalTime(absl::CivilDay day, int h, int m, int s) {
    return absl::FromCivil(absl::CivilSecond(day.year(), day.month(), day.day(), h, m, s), w_.zone);
  }
  absl::Time SaleInstant(int age_days);
  absl::Status Setup();
  absl::Status CreateCustomers();
  std::vector<PlannedSale> PlanSales();
  absl::Status RunTimeline(const std::vector<PlannedSale>& sales);
  absl::Status RecordSale(const PlannedSale& sale);
  absl::Status RecordPayment(const std::string& customer, absl::Time when, int64_t amount,
                             bool keep_excess);
  absl::Status PayDown(const std::string& customer, absl::Time when);
  absl::Status Refund(const std::string& sale_id, absl::Time when);
  absl::Status RefreshStats(const std::string& customer);
  absl::Status VoidSales();
  absl::Status VoidPayments();
  absl::Status CreditAndCategories();
  absl::Status MergesAndErasure();
  absl::Status Merge(const std::string& source, const std::string& target);
  void Observe(const lv1::Sale& sale, absl::Time when);
  void Observe(const lv1::CustomerLedgerStats& stats) { stats_[stats.customer_id()] = stats; }

  Cluster& c_;
  TenantWorld& w_;
  std::mt19937_64 rng_;
  absl::Time now_;
  absl::CivilDay today_;
  int next_id_ = 0;
  std::map<std::string, int64_t> outstanding_;             // by sale id
  std::map<std::string, lv1::Sale> sales_;                 // latest known, by sale id
  std::map<std::string, lv1::CustomerLedgerStats> stats_;  // latest known, by customer
  std::vector<std::string> payment_ids_;                   // RecordPayment payments
};

void HistoryWriter::Observe(const lv1::Sale& sale, absl::Time when) {
  sales_[sale.sale_id()] = sale;
  int64_t& before = outstanding_[sale.sale_id()];
  const int64_t after = sale.outstanding().amount_minor();
  if (after != before) w_.changes.push_back({sale.sale_id(), when, after - before});
  before = after;
}

// A past instant `age_days` before today: often minutes before or after local midnight or at
// the last minute of a month, else during opening hours.
absl::Time HistoryWriter::SaleInstant(int age_days) {
  absl::CivilDay day = today_ - age_days;
  absl::Time t;
  switch (Rand(10)) {
    case 0:
    case 1:
      t = LocalTime(day, 23, 58, Rand(60));
      break;
    case 2:
    case 3:
      t = LocalTime(day, 0, 1, Rand(60));
      break;
    case 4:
      t = LocalTime(absl::CivilDay(absl::CivilMonth(day) + 1) - 1, 23, 59, 30);
      break;
    default:
      t = LocalTime(day, 8 + Rand(13), Rand(60), Rand(60));
  }
  const absl::Time latest = now_ - absl::Minutes(10);
  return t > latest ? latest - absl::Seconds(Rand(3600)) : t;
}

absl::Status HistoryWriter::Setup() {
  cv1::UpdateTenantSettingsRequest settings;
  settings.mutable_settings()->set_time_zone(w_.plan.zone);
  settings.mutable_settings()->set_currency_code(w_.plan.currency);
  settings.mutable_update_mask()->add_paths("time_zone");
  settings.mutable_update_mask()->add_paths("currency_code");
  settings.set_request_id("settings-1");
  cv1::UpdateTenantSettingsResponse updated;
  auto s = Check(c_.tenants->UpdateTenantSettings(Ctx().get(), settings, &updated), "settings");
  if (!s.ok()) return s;
  for (const char* id : {kGrosir, kEceran}) {
    cv1::CreateCategoryRequest request;
    request.set_category_id(id);
    request.mutable_category()->set_display_name(id == kGrosir ? "Grosir" : "Eceran");
    request.set_request_id(absl::StrCat("category-", id));
    cv1::CreateCategoryResponse response;
    s = Check(c_.categories->CreateCategory(Ctx().get(), request, &response), "category");
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status HistoryWriter::CreateCustomers() {
  static const char* const kNames[] = {"Budi", "Siti",  "Agus", "Dewi", "Somchai",
                                       "Nok",  "Wayan", "Made", "Rina", "Joko"};
  for (int i = 0; i < kCustomersPerTenant; ++i) {
    cv1::CreateCustomerRequest request;
    cv1::Customer* customer = request.mutable_customer();
    customer->set_display_name(absl::StrFormat("%s %02d", kNames[i % 10], i));
    customer->mutable_phone()->set_raw(absl::StrFormat("0812%08d", 71000000 + i * 37));
    customer->set_category_id(i % 3 == 0 ? "" : i % 3 == 1 ? kGrosir : kEceran);
    if (i % 4 == 0) {
      customer->mutable_marketing_consent()->set_state(cv1::MARKETING_CONSENT_STATE_GRANTED);
      *customer->mutable_marketing_consent()->mutable_consent_time() =
          time::ToTimestamp(now_ - absl::Hours(24));
      customer->mutable_marketing_consent()->set_source("in_store_form");
    }
    request.set_request_id(absl::StrCat("create-", i));
    cv1::CreateCustomerResponse response;
    auto s = Check(c_.customers->CreateCustomer(Ctx().get(), request, &response), "create");
    if (!s.ok()) return s;
    w_.ids.push_back(response.customer().customer_id());
  }
  return absl::OkStatus();
}

// Sales per customer profile: 0 and 1 never buy; 2 and 12 are new (last 25 days); 9 bought
// only long ago and owes (erased later); 13 and 14 stopped 200+ days ago; 15–17 buy often;
// 10 and 11 bought around both midnights of midnight_day and at the end of a month.
std::vector<PlannedSale> HistoryWriter::PlanSales() {
  std::vector<PlannedSale> plan;
  auto add = [&](int customer, absl::Time t) {
    PlannedSale sale{customer, t, 1000 * (10 + Rand(1500)), 0, -1, kStores[Rand(3)]};
    const int paid = Rand(10);
    if (paid >= 4) sale.paid_now = paid >= 7 ? sale.total : sale.total * (20 + Rand(40)) / 100;
    if (Rand(2) == 0) sale.due_in_days = std::vector<int>{0, 7, 14, 30}[Rand(4)];
    plan.push_back(sale);
  };
  for (int i = 2; i < kCustomersPerTenant; ++i) {
    int count = 1 + Rand(4);
    int min_age = 0, max_age = 420;
    if (i == 2 || i == 12) max_age = 25;
    if (i == 9) min_age = 380, max_age = 500;
    if (i == 13 || i == 14) min_age = 200, max_age = 360;
    if (i >= 15 && i <= 17) count = 5 + Rand(3), max_age = 90;
    for (int k = 0; k < count; ++k) add(i, SaleInstant(min_age + Rand(max_age - min_age + 1)));
  }
  const absl::CivilDay d = w_.midnight_day;
  add(10, LocalTime(d, 0, 1, 5));
  add(10, LocalTime(d, 23, 58, 40));
  add(11, LocalTime(d + 1, 0, 2, 10));
  add(11, LocalTime(d - 1, 23, 59, 50));
  const absl::CivilDay last_of_month = absl::CivilDay(w_.month_end_month + 1) - 1;
  add(10, LocalTime(last_of_month, 23, 59, 30));
  add(11, LocalTime(last_of_month + 1, 0, 0, 30));
  plan[plan.size() - 1].store = plan[plan.size() - 2].store = "toko-2";
  return plan;
}

absl::Status HistoryWriter::RecordSale(const PlannedSale& planned) {
  lv1::RecordSaleRequest request;
  const std::string sale_id = absl::StrCat("s", ++next_id_);
  request.set_request_id(absl::StrCat("rs-", sale_id));
  request.set_sale_id(sale_id);
  if (planned.customer >= 0) request.set_customer_id(w_.ids[planned.customer]);
  request.set_store_id(planned.store);
  auto* item = request.add_items();
  item->set_sku("BERAS-5KG");
  item->set_name("Beras 5 kg");
  item->set_quantity_milli(1000);
  *item->mutable_unit_price() = Amount(planned.total);
  *request.mutable_total() = Amount(planned.total);
  if (planned.paid_now > 0) {
    *request.mutable_amount_paid_now() = Amount(planned.paid_now);
    request.set_payment_method(lv1::PAYMENT_METHOD_CASH);
  }
  *request.mutable_sale_time() = time::ToTimestamp(planned.time);
  if (planned.due_in_days >= 0) {
    *request.mutable_due_date() =
        time::ToDate(absl::ToCivilDay(planned.time, w_.zone) + planned.due_in_days);
  }
  lv1::RecordSaleResponse response;
  auto s = Check(c_.ledger_stub->RecordSale(Ctx().get(), request, &response), "sale " + sale_id);
  if (!s.ok()) return s;
  Observe(response.sale(), planned.time);
  if (planned.customer >= 0) Observe(response.customer_stats());
  return absl::OkStatus();
}

absl::Status HistoryWriter::RecordPayment(const std::string& customer, absl::Time when,
                                          int64_t amount, bool keep_excess) {
  lv1::RecordPaymentRequest request;
  const std::string payment_id = absl::StrCat("p", ++next_id_);
  request.set_request_id(absl::StrCat("rp-", payment_id));
  request.set_payment_id(payment_id);
  request.set_customer_id(customer);
  request.set_store_id(kStores[Rand(3)]);
  *request.mutable_amount() = Amount(amount);
  request.set_method(Rand(2) == 0 ? lv1::PAYMENT_METHOD_CASH : lv1::PAYMENT_METHOD_QRIS);
  *request.mutable_received_time() = time::ToTimestamp(when);
  request.set_keep_excess_as_credit(keep_excess);
  lv1::RecordPaymentResponse response;
  auto s = Check(c_.ledger_stub->RecordPayment(Ctx().get(), request, &response), payment_id);
  if (!s.ok()) return s;
  for (const lv1::Sale& sale : response.allocated_sales()) Observe(sale, when);
  Observe(response.customer_stats());
  payment_ids_.push_back(payment_id);
  return absl::OkStatus();
}

// Pays part, all or more than the customer owes (the excess kept as credit), or makes a
// deposit when nothing is owed.
absl::Status HistoryWriter::PayDown(const std::string& customer, absl::Time when) {
  const int64_t owed = stats_[customer].balance().amount_minor();
  const int choice = Rand(10);
  if (owed == 0) {
    return choice < 3 ? RecordPayment(customer, when, 25000, true) : absl::OkStatus();
  }
  if (choice < 2) return RecordPayment(customer, when, owed + 5000, true);
  if (choice < 6) return RecordPayment(customer, when, owed, false);
  return RecordPayment(customer, when, std::max<int64_t>(1, owed * (30 + Rand(60)) / 100), false);
}

absl::Status HistoryWriter::Refund(const std::string& sale_id, absl::Time when) {
  const int64_t net = sales_[sale_id].net_total().amount_minor();
  if (net == 0) return absl::OkStatus();
  lv1::RefundSaleRequest request;
  request.set_request_id(absl::StrCat("rf-", sale_id));
  request.set_sale_id(sale_id);
  *request.mutable_amount() = Amount(std::vector<int>{30, 50, 100}[Rand(3)] * net / 100);
  request.set_reason("barang rusak");
  const bool credit = Rand(2) == 0;
  request.set_settlement(credit ? lv1::REFUND_SETTLEMENT_CREDIT : lv1::REFUND_SETTLEMENT_PAY_OUT);
  if (!credit) request.set_payout_method(lv1::PAYMENT_METHOD_CASH);
  *request.mutable_refund_time() = time::ToTimestamp(when);
  lv1::RefundSaleResponse response;
  auto s = Check(c_.ledger_stub->RefundSale(Ctx().get(), request, &response), "refund " + sale_id);
  if (!s.ok()) return s;
  Observe(response.sale(), when);
  Observe(response.customer_stats());
  return absl::OkStatus();
}

// Sales, payments and refunds in time order; payments and refunds come after the sales
// they follow.
absl::Status HistoryWriter::RunTimeline(const std::vector<PlannedSale>& planned) {
  struct Step {
    absl::Time when;
    int kind;  // 0 sale, 1 payment, 2 refund
    size_t sale;
  };
  std::vector<Step> steps;
  const absl::Time latest = now_ - absl::Minutes(5);
  for (size_t k = 0; k < planned.size(); ++k) {
    steps.push_back({planned[k].time, 0, k});
    const absl::Duration room = latest - planned[k].time;
    if (room < absl::Hours(1)) continue;
    auto later = [&] { return planned[k].time + room * (0.05 + 0.9 * Rand(1000) / 1000.0); };
    if (Rand(3) == 0) steps.push_back({later(), 1, k});
    if (Rand(10) == 0) steps.push_back({later(), 2, k});
  }
  std::stable_sort(steps.begin(), steps.end(),
                   [](const Step& a, const Step& b) { return a.when < b.when; });
  std::map<size_t, std::string> sale_ids;
  for (const Step& step : steps) {
    const PlannedSale& sale = planned[step.sale];
    absl::Status s;
    if (step.kind == 0) {
      s = RecordSale(sale);
      sale_ids[step.sale] = absl::StrCat("s", next_id_);
    } else if (step.kind == 1) {
      s = PayDown(w_.ids[sale.customer], step.when);
    } else {
      s = Refund(sale_ids[step.sale], step.when);
    }
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status HistoryWriter::RefreshStats(const std::string& customer) {
  auto stats = ReadLedgerStats(*c_.ledger_stub, w_.plan.id, customer);
  if (!stats.ok()) return stats.status();
  Observe(*stats);
  return absl::OkStatus();
}

// Voids of a few sales (paid parts released as credit), all "now".
absl::Status HistoryWriter::VoidSales() {
  std::vector<std::string> voidable;
  for (const auto& [id, sale] : sales_) {
    if (!sale.customer_id().empty() && sale.status() != lv1::SALE_STATUS_VOIDED)
      voidable.push_back(id);
  }
  for (int k = 0; k < 4 && !voidable.empty(); ++k) {
    lv1::VoidSaleRequest request;
    request.set_request_id(absl::StrCat("vs-", k));
    request.set_sale_id(voidable[Rand(static_cast<int>(voidable.size()))]);
    request.set_reason("salah input");
    request.set_release_payments_as_credit(true);
    lv1::VoidSaleResponse response;
    grpc::Status status = c_.ledger_stub->VoidSale(Ctx().get(), request, &response);
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) continue;  // voided twice
    auto s = Check(status, "void sale");
    if (!s.ok()) return s;
    Observe(response.sale(), time::ToTime(response.sale().void_info().void_time()));
    Observe(response.customer_stats());
  }
  return absl::OkStatus();
}

// Voids of two payments and of one payment made with a sale (that sale owes again), "now".
absl::Status HistoryWriter::VoidPayments() {
  std::vector<std::string> ids;
  const size_t n = payment_ids_.size();
  if (n > 0) ids.push_back(payment_ids_[n / 3]);
  if (n > 1) ids.push_back(payment_ids_[2 * n / 3]);
  for (const auto& [id, sale] : sales_) {
    if (!sale.customer_id().empty() && sale.status() == lv1::SALE_STATUS_PARTIAL &&
        !sale.sale_payment_id().empty()) {
      ids.push_back(sale.sale_payment_id());
      break;
    }
  }
  for (const std::string& id : ids) {
    lv1::VoidPaymentRequest request;
    request.set_request_id(absl::StrCat("vp-", id));
    request.set_payment_id(id);
    request.set_reason("salah catat");
    lv1::VoidPaymentResponse response;
    grpc::Status status = c_.ledger_stub->VoidPayment(Ctx().get(), request, &response);
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) continue;  // refunded
    auto s = Check(status, "void payment " + id);
    if (!s.ok()) return s;
    const absl::Time when = time::ToTime(response.payment().void_info().void_time());
    for (const lv1::Sale& sale : response.affected_sales()) Observe(sale, when);
    Observe(response.customer_stats());
  }
  return absl::OkStatus();
}

// Credit applied for every customer who holds credit and owes, and two category changes.
absl::Status HistoryWriter::CreditAndCategories() {
  for (const std::string& customer : w_.ids) {
    const lv1::CustomerLedgerStats stats = stats_[customer];
    if (stats.credit().amount_minor() == 0 || stats.balance().amount_minor() == 0) continue;
    lv1::ApplyCreditRequest request;
    request.set_request_id(absl::StrCat("ac-", customer));
    request.set_customer_id(customer);
    lv1::ApplyCreditResponse response;
    auto s = Check(c_.ledger_stub->ApplyCredit(Ctx().get(), request, &response), "apply credit");
    if (!s.ok()) return s;
    // Dated at the event's occur time: the allocations' create time is the nearest answer.
    const absl::Time when = response.allocations().empty()
                                ? absl::Now()
                                : time::ToTime(response.allocations(0).create_time());
    for (const lv1::Sale& sale : response.affected_sales()) Observe(sale, when);
    Observe(response.customer_stats());
  }
  for (int i : {3, 4}) {  // the category filter uses the category as of now
    cv1::UpdateCustomerRequest request;
    request.mutable_customer()->set_customer_id(w_.ids[i]);
    request.mutable_customer()->set_category_id(i == 3 ? kEceran : kGrosir);
    request.mutable_update_mask()->add_paths("category_id");
    request.set_request_id(absl::StrCat("category-change-", i));
    cv1::UpdateCustomerResponse response;
    auto s = Check(c_.customers->UpdateCustomer(Ctx().get(), request, &response), "update");
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status HistoryWriter::Merge(const std::string& source, const std::string& target) {
  cv1::MergeCustomersRequest request;
  request.set_source_customer_id(source);
  request.set_target_customer_id(target);
  request.set_request_id(absl::StrCat("merge-", source));
  cv1::MergeCustomersResponse response;
  auto s = Check(c_.customers->MergeCustomers(Ctx().get(), request, &response), "merge");
  if (!s.ok()) return s;
  cv1::MergeOperation operation = response.merge_operation();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (operation.state() != cv1::MERGE_OPERATION_STATE_SUCCEEDED) {
    if (operation.state() == cv1::MERGE_OPERATION_STATE_FAILED || absl::Now() > deadline) {
      return absl::InternalError(absl::StrCat("merge ", source, ": ", operation.DebugString()));
    }
    absl::SleepFor(absl::Milliseconds(100));
    cv1::GetMergeOperationRequest get;
    get.set_merge_operation_id(operation.merge_operation_id());
    cv1::GetMergeOperationResponse got;
    s = Check(c_.customers->GetMergeOperation(Ctx().get(), get, &got), "merge operation");
    if (!s.ok()) return s;
    operation = got.merge_operation();
  }
  return absl::OkStatus();
}

// Two merges (then writes on the survivors), an erasure of a customer who still owes, and a
// walk-in sale.
absl::Status HistoryWriter::MergesAndErasure() {
  for (auto [source, target] : {std::pair{5, 6}, std::pair{7, 8}}) {
    auto s = Merge(w_.ids[source], w_.ids[target]);
    if (!s.ok()) return s;
  }
  auto s = RecordSale({6, now_ - absl::Hours(3), 420000, 0, 14, "toko-2"});
  if (!s.ok()) return s;
  s = RefreshStats(w_.ids[8]);  // the merge moved the source's balance here
  if (s.ok()) s = PayDown(w_.ids[8], now_ - absl::Hours(1));
  if (!s.ok()) return s;
  cv1::EraseCustomerRequest erase;
  erase.set_customer_id(w_.ids[9]);
  erase.set_request_id("erase-9");
  erase.set_reason("PDP request 2026-17");
  cv1::EraseCustomerResponse erased;
  s = Check(c_.customers->EraseCustomer(Ctx().get(), erase, &erased), "erase");
  if (!s.ok()) return s;
  return RecordSale({-1, now_ - absl::Hours(49), 77000, 77000, -1, "toko-3"});
}

absl::Status HistoryWriter::Write() {
  auto s = Setup();
  if (s.ok()) s = CreateCustomers();
  if (s.ok()) s = RunTimeline(PlanSales());
  if (s.ok()) s = VoidSales();
  if (s.ok()) s = VoidPayments();
  if (s.ok()) s = CreditAndCategories();
  if (s.ok()) s = MergesAndErasure();
  return s;
}

// ---- what the services answer now: the oracle's facts ----

absl::Status ReadCustomers(Cluster& c, TenantWorld& w) {
  cv1::BatchGetCustomersRequest request;
  for (const std::string& id : w.ids) request.add_customer_ids(id);
  request.set_allow_missing(true);
  cv1::BatchGetCustomersResponse response;
  auto s = Check(c.customers->BatchGetCustomers(TenantContext(w.plan.id).get(), request, &response),
                 "customers");
  if (!s.ok()) return s;
  for (const cv1::Customer& customer : response.customers()) {
    oracle::Customer& out = w.facts.customers[customer.customer_id()];
    out.customer_id = customer.customer_id();
    out.display_name = customer.display_name();
    out.phone_e164 = customer.phone().e164();
    out.category_id = customer.category_id();
    out.create_time = time::ToTime(customer.create_time());
    out.exists = customer.state() == cv1::CUSTOMER_STATE_ACTIVE ||
                 customer.state() == cv1::CUSTOMER_STATE_ARCHIVED;
    out.marketing_consent =
        customer.marketing_consent().state() == cv1::MARKETING_CONSENT_STATE_GRANTED;
  }
  for (const std::string& id : w.ids) {
    auto stats = ReadLedgerStats(*c.ledger_stub, w.plan.id, id);
    if (!stats.ok()) return stats.status();
    w.stats[id] = *stats;
    w.facts.customers[id].ledger_version = stats->ledger_version();
  }
  return absl::OkStatus();
}

oracle::Sale SaleFact(const lv1::Sale& sale) {
  oracle::Sale out;
  out.sale_id = sale.sale_id();
  out.customer_id = sale.customer_id();
  out.store_id = sale.store_id();
  out.sale_time = time::ToTime(sale.sale_time());
  out.voided = sale.status() == lv1::SALE_STATUS_VOIDED;
  out.net_total = sale.net_total().amount_minor();
  out.outstanding = sale.outstanding().amount_minor();
  if (sale.has_due_date()) out.due_date = time::ToCivilDay(sale.due_date());
  return out;
}

absl::Status ReadLedger(Cluster& c, TenantWorld& w) {
  std::string token;
  do {
    lv1::ListSalesRequest request;
    request.set_page_size(200);
    request.set_page_token(token);
    request.set_view(lv1::SALE_VIEW_FULL);
    lv1::ListSalesResponse response;
    auto s = Check(c.ledger_stub->ListSales(TenantContext(w.plan.id).get(), request, &response),
                   "sales");
    if (!s.ok()) return s;
    for (const lv1::Sale& sale : response.sales()) w.facts.sales.push_back(SaleFact(sale));
    token = response.next_page_token();
  } while (!token.empty());
  do {
    lv1::ListPaymentsRequest request;
    request.set_page_size(200);
    request.set_page_token(token);
    lv1::ListPaymentsResponse response;
    auto s = Check(c.ledger_stub->ListPayments(TenantContext(w.plan.id).get(), request, &response),
                   "payments");
    if (!s.ok()) return s;
    for (const lv1::Payment& payment : response.payments()) {
      w.facts.payments.push_back({payment.customer_id(), time::ToTime(payment.received_time()),
                                  payment.status() == lv1::PAYMENT_STATUS_VOIDED});
    }
    token = response.next_page_token();
  } while (!token.empty());
  return absl::OkStatus();
}

// The three tenants of one driver, written once and shared by the tests of that driver.
struct World {
  absl::Status status;
  uint64_t seed = 0;
  std::unique_ptr<Cluster> cluster;
  std::vector<TenantWorld> tenants;
};

// Waits (bounded) until report-svc has applied every customer's ledger version, so that the
// checks start from a caught-up read model; the card test then checks the cards strictly.
void WaitForCards(Cluster& c, const TenantWorld& w) {
  rv1::SummaryCard card;
  for (const auto& [id, stats] : w.stats) {
    ReadCardAtVersion(*c.reports, w.plan.id, id, stats.ledger_version(), &card);
  }
}

// What a tenant's history holds, so that a passing run shows it exercised something.
std::string Coverage(const TenantWorld& w) {
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), w.zone);
  int voided = 0, open = 0, walk_in = 0;
  for (const oracle::Sale& sale : w.facts.sales) {
    voided += sale.voided ? 1 : 0;
    open += sale.outstanding > 0 ? 1 : 0;
    walk_in += sale.customer_id.empty() ? 1 : 0;
  }
  std::string out = absl::StrCat(
      w.plan.id, " (", w.plan.zone, "): ", w.facts.sales.size(), " sales (", voided, " voided, ",
      open, " open, ", walk_in, " walk-in), ", w.facts.payments.size(), " payments, ",
      w.changes.size(), " outstanding changes; receivable rows ",
      oracle::ExpectedReceivables(w.facts, {}, false, "", today).rows.size(), "; insight lists");
  for (rv1::InsightKind kind :
       {rv1::INSIGHT_KIND_PAYMENT_REMINDER, rv1::INSIGHT_KIND_BEST, rv1::INSIGHT_KIND_LOYAL,
        rv1::INSIGHT_KIND_AT_RISK, rv1::INSIGHT_KIND_INACTIVE, rv1::INSIGHT_KIND_NEW}) {
    absl::StrAppend(&out, " ", rv1::InsightKind_Name(kind).substr(13), "=",
                    oracle::ExpectedInsights(w.facts, kind, today).size());
  }
  return out;
}

std::unique_ptr<World> BuildWorld(const std::string& driver) {
  auto world = std::make_unique<World>();
  world->seed = Seed();
  std::cout << "report oracle: driver " << driver << ", seed " << world->seed
            << " (set KELOLA_ORACLE_SEED to repeat another)" << std::endl;
  auto cluster = StartReportCluster(driver, "kelola-report-oracle");
  if (!cluster.ok()) {
    world->status = cluster.status();
    return world;
  }
  world->cluster = *std::move(cluster);
  const absl::Time start = absl::Now();
  for (size_t t = 0; t < std::size(kTenants) && world->status.ok(); ++t) {
    TenantWorld& w = world->tenants.emplace_back();
    w.plan = kTenants[t];
    w.zone = time::LoadTenantTimeZone(w.plan.zone).value();
    const absl::CivilDay today = absl::ToCivilDay(absl::Now(), w.zone);
    w.midnight_day = today - 40;
    w.month_end_month = absl::CivilMonth(today) - 1;
    w.facts.time_zone_name = w.plan.zone;
    w.facts.zone = w.zone;
    w.facts.currency = w.plan.currency;
    HistoryWriter writer(*world->cluster, w, world->seed * 31 + t);
    world->status = writer.Write();
    w.facts.changes = w.changes;
    if (world->status.ok()) world->status = ReadCustomers(*world->cluster, w);
    if (world->status.ok()) world->status = ReadLedger(*world->cluster, w);
    if (world->status.ok()) WaitForCards(*world->cluster, w);
    if (world->status.ok()) std::cout << "report oracle: " << Coverage(w) << std::endl;
  }
  std::cout << "report oracle: history of " << driver << " written and read back in "
            << absl::FormatDuration(absl::Now() - start) << std::endl;
  return world;
}

std::map<std::string, std::unique_ptr<World>>& Worlds() {
  static auto* worlds = new std::map<std::string, std::unique_ptr<World>>();
  return *worlds;
}

class ReportOracleTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void TearDownTestSuite() { Worlds().clear(); }

  void SetUp() override {
    std::unique_ptr<World>& world = Worlds()[GetParam()];
    if (world == nullptr) {
      world = BuildWorld(GetParam());
      KeepDatabasesForTheSuite();  // the world serves the suite's later tests
    }
    world_ = world.get();
    ASSERT_TRUE(world_->status.ok())
        << "seed " << world_->seed << ": " << world_->status << "\n"
        << (world_->cluster && world_->cluster->ledger ? world_->cluster->ledger->LogTail() : "");
  }

  rv1::ReportService::Stub& reports() { return *world_->cluster->reports; }

  // Runs `attempt` (which fills `diff`, empty when the answer equals the recomputation)
  // until it matches; report-svc is eventually consistent (customer-svc's stream too), so
  // the first mismatching check of a test waits up to 15 s, later ones try once. Returns
  // false when the RPC is UNIMPLEMENTED, after one failure saying so, so that the test
  // stops there.
  bool ExpectEventually(const std::string& what,
                        const std::function<grpc::Status(std::string* diff)>& attempt) {
    const absl::Time deadline = absl::Now() + (patient_ ? absl::Seconds(15) : absl::ZeroDuration());
    grpc::Status status;
    std::string diff;
    while (true) {
      diff.clear();
      status = attempt(&diff);
      if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
        ADD_FAILURE() << what << ": report-svc answers UNIMPLEMENTED (" << status.error_message()
                      << "); the oracle's remaining checks of this test are skipped";
        return false;
      }
      if (status.ok() && diff.empty()) return true;
      if (absl::Now() >= deadline) break;
      absl::SleepFor(absl::Milliseconds(300));
    }
    patient_ = false;
    if (!status.ok()) {
      ADD_FAILURE() << "seed " << world_->seed << ", " << what << ": " << status.error_code() << " "
                    << status.error_message();
    } else {
      ADD_FAILURE() << "seed " << world_->seed << ", " << what
                    << ": report-svc differs from the recomputation (expected → actual):\n"
                    << diff;
    }
    return true;
  }

  World* world_ = nullptr;
  bool patient_ = true;
};

absl::CivilDay LocalToday(const TenantWorld& w) { return absl::ToCivilDay(absl::Now(), w.zone); }

std::string ScopeName(const Scope& scope) {
  return absl::StrCat("category=\"", scope.category_id, "\" store=\"", scope.store_id, "\"");
}

// ---- R1: the cards ----

TEST_P(ReportOracleTest, EveryCardEqualsTheLedgersStatistics) {
  for (const TenantWorld& w : world_->tenants) {
    for (const std::string& id : w.ids) {
      SCOPED_TRACE(absl::StrCat(w.plan.id, " ", id, " seed ", world_->seed));
      // Read again now: overdue days follow the calendar, and the tenant's midnight may have
      // passed since the history was read back.
      auto fresh = ReadLedgerStats(*world_->cluster->ledger_stub, w.plan.id, id);
      ASSERT_TRUE(fresh.ok()) << fresh.status();
      const lv1::CustomerLedgerStats& truth = *fresh;
      rv1::SummaryCard card;
      grpc::Status status =
          ReadCardAtVersion(reports(), w.plan.id, id, truth.ledger_version(), &card);
      ASSERT_TRUE(status.ok()) << status.error_message();
      ExpectCardEqualsLedger(card, truth);
    }
    // The batch answers the same cards in request order.
    rv1::BatchGetSummaryCardsRequest batch;
    for (const std::string& id : w.ids) batch.add_customer_ids(id);
    rv1::BatchGetSummaryCardsResponse cards;
    ASSERT_TRUE(reports().BatchGetSummaryCards(TenantContext(w.plan.id).get(), batch, &cards).ok());
    ASSERT_EQ(cards.cards_size(), static_cast<int>(w.ids.size()));
    for (size_t i = 0; i < w.ids.size(); ++i) {
      SCOPED_TRACE(absl::StrCat(w.plan.id, " batch ", w.ids[i]));
      ExpectCardEqualsLedger(cards.cards(static_cast<int>(i)), w.stats.at(w.ids[i]));
    }
  }
}

// The oracle's own input: the outstanding changes recorded from the write responses add up,
// per sale, to what ListSales answers now (so the RECEIVABLES series is recomputed from a
// complete record).
TEST_P(ReportOracleTest, RecordedOutstandingChangesAddUpToTheLedger) {
  for (const TenantWorld& w : world_->tenants) {
    std::map<std::string, int64_t> sums;
    for (const auto& change : w.changes) sums[change.sale_id] += change.delta;
    for (const oracle::Sale& sale : w.facts.sales) {
      EXPECT_EQ(sums[sale.sale_id], sale.outstanding) << w.plan.id << " sale " << sale.sale_id;
    }
    int64_t owed = 0;
    for (const auto& [id, stats] : w.stats) owed += stats.balance().amount_minor();
    int64_t open = 0;
    for (const oracle::Sale& sale : w.facts.sales) open += sale.outstanding;
    EXPECT_EQ(open, owed) << w.plan.id;
  }
}

// ---- R2 ----

std::vector<Scope> ReportScopes() {
  return {{}, {kGrosir, ""}, {"", "toko-2"}, {kEceran, "toko-1"}};
}

TEST_P(ReportOracleTest, CustomerReportEqualsTheRecomputation) {
  for (const TenantWorld& w : world_->tenants) {
    const absl::CivilDay today = LocalToday(w);
    const absl::CivilDay month_first(w.month_end_month);
    const std::vector<std::pair<absl::CivilDay, absl::CivilDay>> ranges = {
        {w.midnight_day, w.midnight_day},
        {w.midnight_day + 1, w.midnight_day + 1},
        {month_first, absl::CivilDay(w.month_end_month + 1) - 1},
        {today - 500, today}};
    for (const auto& range : ranges) {
      // Named copies: lambdas cannot capture structured bindings before C++20 in clang 14.
      const absl::CivilDay start = range.first, end = range.second;
      for (const Scope& scope : ReportScopes()) {
        const std::string what =
            absl::StrCat(w.plan.id, " GetCustomerReport ", absl::FormatCivilTime(start), "..",
                         absl::FormatCivilTime(end), " ", ScopeName(scope));
        rv1::GetCustomerReportRequest request;
        *request.mutable_start_date() = time::ToDate(start);
        *request.mutable_end_date() = time::ToDate(end);
        request.set_category_id(scope.category_id);
        request.set_store_id(scope.store_id);
        request.set_top_customers_limit(5);
        const bool implemented = ExpectEventually(what, [&](std::string* diff) {
          rv1::GetCustomerReportResponse response;
          grpc::Status status =
              reports().GetCustomerReport(TenantContext(w.plan.id).get(), request, &response);
          if (status.ok()) {
            *diff = oracle::Diff(oracle::ExpectedCustomerReport(w.facts, scope, start, end, 5),
                                 response.report(), {"data_as_of_time"});
          }
          return status;
        });
        if (!implemented) return;
      }
    }
  }
}

// ---- R3 ----

// Every page of a receivables report, rows concatenated, totals and as_of_date of the first.
grpc::Status AllReceivables(rv1::ReportService::Stub& reports, const std::string& tenant,
                            rv1::GetReceivablesReportRequest request,
                            rv1::GetReceivablesReportResponse* all) {
  all->Clear();
  for (int page = 0; page < 200; ++page) {
    rv1::GetReceivablesReportResponse response;
    grpc::Status status =
        reports.GetReceivablesReport(TenantContext(tenant).get(), request, &response);
    if (!status.ok()) return status;
    if (page == 0) {
      *all->mutable_totals() = response.totals();
      *all->mutable_as_of_date() = response.as_of_date();
    }
    for (const auto& row : response.rows()) *all->add_rows() = row;
    if (response.next_page_token().empty()) return grpc::Status::OK;
    request.set_page_token(response.next_page_token());
  }
  return grpc::Status(grpc::StatusCode::INTERNAL, "more than 200 pages");
}

// "Today" of a response must be the tenant's day at the time of the call.
std::string AsOfDateDiff(const type::v1::Date& as_of, absl::CivilDay before, absl::CivilDay after) {
  const absl::CivilDay day = time::ToCivilDay(as_of);
  if (day == before || day == after) return "";
  return absl::StrCat("as_of_date ", absl::FormatCivilTime(day), " is not the tenant's today ",
                      absl::FormatCivilTime(after), "\n");
}

TEST_P(ReportOracleTest, ReceivablesReportEqualsTheRecomputation) {
  const std::vector<Scope> scopes = {{}, {kGrosir, ""}, {"", "toko-1"}};
  const std::vector<std::string> orders = {"",
                                           "balance desc",
                                           "oldest_open_sale_date asc",
                                           "days_overdue desc",
                                           "overdue_amount desc",
                                           "display_name asc"};
  for (const TenantWorld& w : world_->tenants) {
    for (const Scope& scope : scopes) {
      for (const std::string& order_by : orders) {
        for (bool overdue_only : {false, true}) {
          const std::string what =
              absl::StrCat(w.plan.id, " GetReceivablesReport order_by=\"", order_by,
                           "\" overdue_only=", overdue_only, " ", ScopeName(scope));
          rv1::GetReceivablesReportRequest request;
          request.set_category_id(scope.category_id);
          request.set_store_id(scope.store_id);
          request.set_overdue_only(overdue_only);
          request.set_order_by(order_by);
          request.set_page_size(3);  // several pages
          const bool implemented = ExpectEventually(what, [&](std::string* diff) {
            const absl::CivilDay before = LocalToday(w);
            rv1::GetReceivablesReportResponse actual;
            grpc::Status status = AllReceivables(reports(), w.plan.id, request, &actual);
            if (!status.ok()) return status;
            const absl::CivilDay today = time::ToCivilDay(actual.as_of_date());
            const oracle::Receivables expected =
                oracle::ExpectedReceivables(w.facts, scope, overdue_only, order_by, today);
            rv1::GetReceivablesReportResponse want;
            for (const auto& row : expected.rows) *want.add_rows() = row;
            *want.mutable_totals() = expected.totals;
            *want.mutable_as_of_date() = actual.as_of_date();
            *diff = AsOfDateDiff(actual.as_of_date(), before, LocalToday(w)) +
                    oracle::Diff(want, actual, {"data_as_of_time", "next_page_token"});
            return status;
          });
          if (!implemented) return;
        }
      }
    }
  }
}

// ---- R6 ----

TEST_P(ReportOracleTest, SeriesEqualTheRecomputation) {
  const std::vector<Scope> scopes = {{}, {"", "toko-2"}, {kEceran, ""}};
  for (const TenantWorld& w : world_->tenants) {
    const absl::CivilDay today = LocalToday(w);
    const std::vector<std::tuple<rv1::Granularity, absl::CivilDay, absl::CivilDay>> ranges = {
        {rv1::GRANULARITY_DAY, w.midnight_day - 3, today + 2},
        {rv1::GRANULARITY_WEEK, today - 7 * 30 - 3, today + 3},
        {rv1::GRANULARITY_MONTH, today - 450, today + 35}};
    for (rv1::SeriesMetric metric : {rv1::SERIES_METRIC_NEW_CUSTOMERS, rv1::SERIES_METRIC_SALES,
                                     rv1::SERIES_METRIC_RECEIVABLES}) {
      for (const auto& range : ranges) {
        const auto granularity = std::get<0>(range);
        const absl::CivilDay start = std::get<1>(range), end = std::get<2>(range);
        for (const Scope& scope : scopes) {
          const std::string what =
              absl::StrCat(w.plan.id, " GetSeries ", rv1::SeriesMetric_Name(metric), " ",
                           rv1::Granularity_Name(granularity), " ", absl::FormatCivilTime(start),
                           "..", absl::FormatCivilTime(end), " ", ScopeName(scope));
          rv1::GetSeriesRequest request;
          request.set_metric(metric);
          request.set_granularity(granularity);
          *request.mutable_start_date() = time::ToDate(start);
          *request.mutable_end_date() = time::ToDate(end);
          request.set_category_id(scope.category_id);
          request.set_store_id(scope.store_id);
          const bool implemented = ExpectEventually(what, [&](std::string* diff) {
            const absl::CivilDay before = LocalToday(w);
            rv1::GetSeriesResponse actual;
            grpc::Status status =
                reports().GetSeries(TenantContext(w.plan.id).get(), request, &actual);
            const absl::CivilDay after = LocalToday(w);
            if (!status.ok()) return status;
            if (before != after) {  // the tenant's midnight passed during the call: ask again
              *diff = "midnight passed during the call";
              return status;
            }
            rv1::GetSeriesResponse want;
            for (auto& point :
                 oracle::ExpectedSeries(w.facts, scope, metric, granularity, start, end, after)) {
              *want.add_points() = std::move(point);
            }
            want.set_metric(metric);
            want.set_granularity(granularity);
            want.set_time_zone(w.plan.zone);
            *diff = oracle::Diff(want, actual, {"data_as_of_time"});
            return status;
          });
          if (!implemented) return;
        }
      }
    }
  }
}

// ---- R5 ----

TEST_P(ReportOracleTest, InsightListsEqualTheRecomputation) {
  for (const TenantWorld& w : world_->tenants) {
    for (rv1::InsightKind kind :
         {rv1::INSIGHT_KIND_PAYMENT_REMINDER, rv1::INSIGHT_KIND_BEST, rv1::INSIGHT_KIND_LOYAL,
          rv1::INSIGHT_KIND_AT_RISK, rv1::INSIGHT_KIND_INACTIVE, rv1::INSIGHT_KIND_NEW}) {
      const std::string what =
          absl::StrCat(w.plan.id, " ListCustomerInsights ", rv1::InsightKind_Name(kind));
      const bool implemented = ExpectEventually(what, [&](std::string* diff) {
        const absl::CivilDay before = LocalToday(w);
        rv1::ListCustomerInsightsRequest request;
        request.set_kind(kind);
        request.set_page_size(4);  // several pages
        rv1::ListCustomerInsightsResponse actual;
        for (int page = 0; page < 100; ++page) {
          rv1::ListCustomerInsightsResponse response;
          grpc::Status status =
              reports().ListCustomerInsights(TenantContext(w.plan.id).get(), request, &response);
          if (!status.ok()) return status;
          if (page == 0) {
            actual.set_total_size(response.total_size());
            *actual.mutable_as_of_date() = response.as_of_date();
          }
          for (const auto& insight : response.insights()) *actual.add_insights() = insight;
          if (response.next_page_token().empty()) break;
          request.set_page_token(response.next_page_token());
        }
        const absl::CivilDay today = time::ToCivilDay(actual.as_of_date());
        rv1::ListCustomerInsightsResponse want;
        for (auto& insight : oracle::ExpectedInsights(w.facts, kind, today)) {
          *want.add_insights() = std::move(insight);
        }
        want.set_total_size(want.insights_size());
        *want.mutable_as_of_date() = actual.as_of_date();
        *diff = AsOfDateDiff(actual.as_of_date(), before, LocalToday(w)) +
                oracle::Diff(want, actual, {"next_page_token"});
        return grpc::Status::OK;
      });
      if (!implemented) return;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Drivers, ReportOracleTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::testing
