// The store limit of ledger-svc (ledger_service.proto, "Roles (G4)") through real
// processes: ledger-svc requires the signed internal credential, and each call carries a
// principal limited to some stores, or one that is not. A limited principal writes only for
// its stores, is refused every entry of another store (replays included) with nothing
// written, lists only its stores' entries in full pages, and sees customer-wide balances
// and statistics whole. On SQLite and PostgreSQL.

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "libs/auth/principal.h"
#include "libs/testing/cluster.h"
#include "libs/testing/postgres_environment.h"
#include "libs/testing/suite.h"

namespace kelola::testing {
namespace {

namespace lv1 = ledger::v1;

constexpr char kTenant[] = "toko-a";

auth::Principal Owner(std::vector<std::string> stores = {}) {
  auth::Principal p;
  p.id = stores.empty() ? "owner" : absl::StrCat("owner-of-", stores.size(), "-stores");
  p.kind = auth::PrincipalKind::kUser;
  p.tenant_id = kTenant;
  p.roles = {auth::Role::kOwner};
  p.stores = std::move(stores);
  return p;
}

// The ErrorInfo reason and metadata store_id of a failed call.
struct Refusal {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string reason;
  std::string store_id;
};

Refusal Decode(const grpc::Status& status) {
  Refusal out;
  out.code = status.error_code();
  google::rpc::Status details;
  if (details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (!any.UnpackTo(&info)) continue;
      out.reason = info.reason();
      auto it = info.metadata().find("store_id");
      if (it != info.metadata().end()) out.store_id = it->second;
    }
  }
  return out;
}

void ExpectStoreNotAllowed(const grpc::Status& status, const std::string& store) {
  const Refusal r = Decode(status);
  EXPECT_EQ(r.code, grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
  EXPECT_EQ(r.reason, "STORE_NOT_ALLOWED") << status.error_message();
  EXPECT_EQ(r.store_id, store);
}

class LedgerStoreLimitsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "postgres") {
      ASSERT_NE(SharedPostgres(), nullptr);
    }
    ClusterOptions options;
    options.driver = GetParam();
    options.gateways = 0;
    options.dir_prefix = "kelola-ledger-stores";
    auto cluster = Cluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = *std::move(cluster);
    ledger_ = lv1::LedgerService::NewStub(cluster_->Channel(*cluster_->ledger));
    customers_ = customer::v1::CustomerService::NewStub(cluster_->Channel(*cluster_->customer));
    ani_ = NewCustomer("Ani");
    budi_ = NewCustomer("Budi");
  }

  std::string NewCustomer(const std::string& name) {
    customer::v1::CreateCustomerRequest req;
    req.mutable_customer()->set_display_name(name);
    req.set_request_id(absl::StrCat("create-", name));
    customer::v1::CreateCustomerResponse resp;
    auto ctx = cluster_->SignedContext(Owner());
    const grpc::Status status = customers_->CreateCustomer(ctx.get(), req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp.customer().customer_id();
  }

  static lv1::RecordSaleRequest SaleRequest(const std::string& request_id,
                                            const std::string& customer, const std::string& store,
                                            int64_t total, int64_t paid) {
    lv1::RecordSaleRequest r;
    r.set_request_id(request_id);
    r.set_customer_id(customer);
    r.set_store_id(store);
    auto* item = r.add_items();
    item->set_name("Beras 5kg");
    item->set_quantity_milli(1000);
    *item->mutable_unit_price() = Idr(total);
    *r.mutable_total() = Idr(total);
    if (paid > 0) {
      *r.mutable_amount_paid_now() = Idr(paid);
      r.set_payment_method(lv1::PAYMENT_METHOD_CASH);
    }
    return r;
  }

  grpc::Status TrySale(const auth::Principal& who, const lv1::RecordSaleRequest& req,
                       lv1::RecordSaleResponse* resp = nullptr) {
    lv1::RecordSaleResponse ignored;
    auto ctx = cluster_->SignedContext(who);
    return ledger_->RecordSale(ctx.get(), req, resp != nullptr ? resp : &ignored);
  }

  lv1::Sale Sale(const auth::Principal& who, const std::string& request_id,
                 const std::string& customer, const std::string& store, int64_t total,
                 int64_t paid) {
    lv1::RecordSaleResponse resp;
    const grpc::Status status =
        TrySale(who, SaleRequest(request_id, customer, store, total, paid), &resp);
    EXPECT_TRUE(status.ok()) << request_id << ": " << status.error_message();
    return resp.sale();
  }

  grpc::Status TryPay(const auth::Principal& who, const std::string& request_id,
                      const std::string& store, int64_t amount, const std::string& sale_id = "",
                      lv1::RecordPaymentResponse* resp = nullptr) {
    lv1::RecordPaymentRequest req;
    req.set_request_id(request_id);
    req.set_customer_id(ani_);
    req.set_store_id(store);
    *req.mutable_amount() = Idr(amount);
    req.set_method(lv1::PAYMENT_METHOD_QRIS);
    if (!sale_id.empty()) {
      auto* a = req.add_allocations();
      a->set_sale_id(sale_id);
      *a->mutable_amount() = Idr(amount);
    }
    lv1::RecordPaymentResponse ignored;
    auto ctx = cluster_->SignedContext(who);
    return ledger_->RecordPayment(ctx.get(), req, resp != nullptr ? resp : &ignored);
  }

  grpc::Status TryGetSale(const auth::Principal& who, const std::string& sale_id,
                          lv1::Sale* sale = nullptr) {
    lv1::GetSaleRequest req;
    req.set_sale_id(sale_id);
    lv1::GetSaleResponse resp;
    auto ctx = cluster_->SignedContext(who);
    const grpc::Status status = ledger_->GetSale(ctx.get(), req, &resp);
    if (sale != nullptr) *sale = resp.sale();
    return status;
  }

  // The stores of the entries of every page of a list (`rpc`: ListSales or ListPayments,
  // 3 entries a page) as `who`, each page's size in `page_sizes`.
  template <typename Request, typename Response, typename Rpc, typename Entries>
  std::vector<std::string> AllStores(const auth::Principal& who, Request req, Rpc rpc,
                                     Entries entries, std::vector<int>* page_sizes) {
    std::vector<std::string> stores;
    req.set_page_size(3);
    do {
      Response resp;
      auto ctx = cluster_->SignedContext(who);
      const grpc::Status status = (ledger_.get()->*rpc)(ctx.get(), req, &resp);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      for (const auto& entry : entries(resp)) stores.push_back(entry.store_id());
      if (page_sizes != nullptr) page_sizes->push_back(entries(resp).size());
      req.set_page_token(resp.next_page_token());
    } while (!req.page_token().empty());
    return stores;
  }

  std::vector<std::string> AllSaleStores(const auth::Principal& who, std::vector<int>* page_sizes,
                                         const std::string& filter = "") {
    lv1::ListSalesRequest req;
    req.set_filter(filter);
    return AllStores<lv1::ListSalesRequest, lv1::ListSalesResponse>(
        who, req, &lv1::LedgerService::Stub::ListSales,
        [](const lv1::ListSalesResponse& r) -> const auto& { return r.sales(); }, page_sizes);
  }

  std::vector<std::string> AllPaymentStores(const auth::Principal& who,
                                            std::vector<int>* page_sizes) {
    return AllStores<lv1::ListPaymentsRequest, lv1::ListPaymentsResponse>(
        who, lv1::ListPaymentsRequest(), &lv1::LedgerService::Stub::ListPayments,
        [](const lv1::ListPaymentsResponse& r) -> const auto& { return r.payments(); }, page_sizes);
  }

  int64_t Balance(const auth::Principal& who, const std::string& customer) {
    lv1::GetBalanceRequest req;
    req.set_customer_id(customer);
    lv1::GetBalanceResponse resp;
    auto ctx = cluster_->SignedContext(who);
    const grpc::Status status = ledger_->GetBalance(ctx.get(), req, &resp);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return resp.balance().balance().amount_minor();
  }

  std::unique_ptr<Cluster> cluster_;
  std::unique_ptr<lv1::LedgerService::Stub> ledger_;
  std::unique_ptr<customer::v1::CustomerService::Stub> customers_;
  std::string ani_;
  std::string budi_;
};

TEST_P(LedgerStoreLimitsTest, WritesOnlyForItsStoresAndNothingElseIsWritten) {
  const auth::Principal owner = Owner();
  const auth::Principal cashier = Owner({"store-1"});
  const lv1::Sale own = Sale(cashier, "s-1", ani_, "store-1", 1000, 0);
  EXPECT_EQ(own.store_id(), "store-1");

  ExpectStoreNotAllowed(TrySale(cashier, SaleRequest("s-2", ani_, "store-2", 500, 0)), "store-2");
  ExpectStoreNotAllowed(TryPay(cashier, "p-1", "store-2", 100), "store-2");
  // A payment not at a store is not one of the principal's entries.
  ExpectStoreNotAllowed(TryPay(cashier, "p-2", "", 100), "");

  // The owner's sale at store-2, then the limited principal's attempts on it.
  const lv1::Sale other = Sale(owner, "s-3", ani_, "store-2", 700, 0);
  ExpectStoreNotAllowed(TryPay(cashier, "p-3", "store-1", 100, other.sale_id()), "store-2");
  // A replay of the owner's request answers nothing the principal may not see.
  ExpectStoreNotAllowed(TrySale(cashier, SaleRequest("s-3", ani_, "store-2", 700, 0)), "store-2");
  ExpectStoreNotAllowed(TryGetSale(cashier, other.sale_id()), "store-2");
  lv1::Sale read;
  ASSERT_TRUE(TryGetSale(cashier, own.sale_id(), &read).ok());
  EXPECT_EQ(read.sale_id(), own.sale_id());
  {
    lv1::VoidSaleRequest req;
    req.set_request_id("v-1");
    req.set_sale_id(other.sale_id());
    req.set_reason("mistake");
    lv1::VoidSaleResponse resp;
    auto ctx = cluster_->SignedContext(cashier);
    ExpectStoreNotAllowed(ledger_->VoidSale(ctx.get(), req, &resp), "store-2");
  }
  {
    lv1::RefundSaleRequest req;
    req.set_request_id("r-1");
    req.set_sale_id(other.sale_id());
    *req.mutable_amount() = Idr(100);
    req.set_reason("returned");
    lv1::RefundSaleResponse resp;
    auto ctx = cluster_->SignedContext(cashier);
    ExpectStoreNotAllowed(ledger_->RefundSale(ctx.get(), req, &resp), "store-2");
    // Its own sale, refunded at another store.
    req.set_request_id("r-2");
    req.set_sale_id(own.sale_id());
    req.set_store_id("store-2");
    auto ctx2 = cluster_->SignedContext(cashier);
    ExpectStoreNotAllowed(ledger_->RefundSale(ctx2.get(), req, &resp), "store-2");
  }
  {
    lv1::ApplyCreditRequest req;
    req.set_request_id("c-1");
    req.set_customer_id(ani_);
    auto* a = req.add_allocations();
    a->set_sale_id(other.sale_id());
    *a->mutable_amount() = Idr(100);
    lv1::ApplyCreditResponse resp;
    auto ctx = cluster_->SignedContext(cashier);
    ExpectStoreNotAllowed(ledger_->ApplyCredit(ctx.get(), req, &resp), "store-2");
  }
  lv1::RecordPaymentResponse paid_elsewhere;
  ASSERT_TRUE(TryPay(owner, "p-4", "store-2", 200, other.sale_id(), &paid_elsewhere).ok());
  {
    lv1::GetPaymentRequest req;
    req.set_payment_id(paid_elsewhere.payment().payment_id());
    lv1::GetPaymentResponse resp;
    auto ctx = cluster_->SignedContext(cashier);
    ExpectStoreNotAllowed(ledger_->GetPayment(ctx.get(), req, &resp), "store-2");
    lv1::VoidPaymentRequest vreq;
    vreq.set_request_id("vp-1");
    vreq.set_payment_id(paid_elsewhere.payment().payment_id());
    vreq.set_reason("mistake");
    lv1::VoidPaymentResponse vresp;
    auto ctx2 = cluster_->SignedContext(cashier);
    ExpectStoreNotAllowed(ledger_->VoidPayment(ctx2.get(), vreq, &vresp), "store-2");
  }
  // Its own store's payment, allocated to its own sale, is recorded.
  ASSERT_TRUE(TryPay(cashier, "p-5", "store-1", 300, own.sale_id()).ok());

  // Nothing refused was written: the owner sees the two sales and two payments, the store-2
  // sale not voided, and the balance of exactly what was accepted.
  const std::vector<std::string> sales = AllSaleStores(owner, nullptr);
  EXPECT_EQ(std::multiset<std::string>(sales.begin(), sales.end()),
            (std::multiset<std::string>{"store-1", "store-2"}));
  std::vector<int> pages;
  const std::vector<std::string> payments = AllPaymentStores(owner, &pages);
  EXPECT_EQ(std::multiset<std::string>(payments.begin(), payments.end()),
            (std::multiset<std::string>{"store-1", "store-2"}));
  lv1::Sale after;
  ASSERT_TRUE(TryGetSale(owner, other.sale_id(), &after).ok());
  EXPECT_NE(after.status(), lv1::SALE_STATUS_VOIDED);
  EXPECT_EQ(after.outstanding().amount_minor(), 500);
  // Customer-wide balances and statistics are not limited.
  EXPECT_EQ(Balance(owner, ani_), 1000 - 300 + 700 - 200);
  EXPECT_EQ(Balance(cashier, ani_), Balance(owner, ani_));
  lv1::GetCustomerLedgerStatsRequest sreq;
  sreq.set_customer_id(ani_);
  lv1::GetCustomerLedgerStatsResponse by_owner, by_cashier;
  auto c1 = cluster_->SignedContext(owner);
  ASSERT_TRUE(ledger_->GetCustomerLedgerStats(c1.get(), sreq, &by_owner).ok());
  auto c2 = cluster_->SignedContext(cashier);
  ASSERT_TRUE(ledger_->GetCustomerLedgerStats(c2.get(), sreq, &by_cashier).ok());
  EXPECT_EQ(by_cashier.stats().SerializeAsString(), by_owner.stats().SerializeAsString());
  EXPECT_EQ(by_cashier.stats().transaction_count(), 2);
}

TEST_P(LedgerStoreLimitsTest, ListsKeepToItsStoresInFullPages) {
  const auth::Principal owner = Owner();
  const auth::Principal limited = Owner({"store-1", "store-3"});
  // Interleaved: 8 sales at store-1 and store-3 (Ani owes on them), 6 at store-2 (half of
  // them Budi's, whose only debt is there); each paid 100 at the sale.
  int n = 0;
  for (int i = 0; i < 4; ++i) {
    Sale(owner, absl::StrCat("a-", ++n), ani_, "store-1", 1000, 100);
    Sale(owner, absl::StrCat("a-", ++n), ani_, "store-2", 1000, 100);
    Sale(owner, absl::StrCat("a-", ++n), ani_, "store-3", 1000, 100);
    if (i % 2 == 0) Sale(owner, absl::StrCat("a-", ++n), budi_, "store-2", 5000, 100);
  }
  const std::set<std::string> allowed = {"store-1", "store-3"};
  std::vector<int> pages;
  const std::vector<std::string> sales = AllSaleStores(limited, &pages);
  EXPECT_EQ(sales.size(), 8u);
  for (const std::string& s : sales) EXPECT_TRUE(allowed.contains(s)) << s;
  EXPECT_EQ(pages, (std::vector<int>{3, 3, 2}));
  EXPECT_EQ(AllSaleStores(owner, nullptr).size(), 14u);
  // Asking for another store's entries finds none.
  EXPECT_TRUE(AllSaleStores(limited, nullptr, "store_id = \"store-2\"").empty());

  pages.clear();
  const std::vector<std::string> payments = AllPaymentStores(limited, &pages);
  EXPECT_EQ(payments.size(), 8u);
  for (const std::string& s : payments) EXPECT_TRUE(allowed.contains(s)) << s;
  EXPECT_EQ(pages, (std::vector<int>{3, 3, 2}));

  // Receivables of its stores only: Ani's eight sales there, Budi not at all.
  lv1::ListReceivablesRequest rreq;
  lv1::ListReceivablesResponse receivables;
  auto rctx = cluster_->SignedContext(limited);
  ASSERT_TRUE(ledger_->ListReceivables(rctx.get(), rreq, &receivables).ok());
  ASSERT_EQ(receivables.receivables_size(), 1);
  EXPECT_EQ(receivables.receivables(0).customer_id(), ani_);
  EXPECT_EQ(receivables.receivables(0).balance().amount_minor(), 8 * 900);
  EXPECT_EQ(receivables.receivables(0).open_sale_count(), 8);
  EXPECT_EQ(receivables.total_balance().amount_minor(), 8 * 900);
  // The balance stays customer-wide.
  EXPECT_EQ(Balance(limited, ani_), 12 * 900);

  // A page token is bound to the store limit: another principal cannot resume it.
  lv1::ListSalesRequest first;
  first.set_page_size(3);
  lv1::ListSalesResponse page;
  auto ctx = cluster_->SignedContext(limited);
  ASSERT_TRUE(ledger_->ListSales(ctx.get(), first, &page).ok());
  ASSERT_FALSE(page.next_page_token().empty());
  first.set_page_token(page.next_page_token());
  for (const auth::Principal& other : {owner, Owner({"store-2"})}) {
    lv1::ListSalesResponse resumed;
    auto octx = cluster_->SignedContext(other);
    const Refusal r = Decode(ledger_->ListSales(octx.get(), first, &resumed));
    EXPECT_EQ(r.code, grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(r.reason, "PAGE_TOKEN_MISMATCH");
  }
}

INSTANTIATE_TEST_SUITE_P(Drivers, LedgerStoreLimitsTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::testing
