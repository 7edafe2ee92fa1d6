// Three replicas of customer-svc, ledger-svc and report-svc and two gateways on one
// PostgreSQL and one Redis (libs/testing/scale_out_cluster.h), clients alternating between
// the gateways:
// - the end-to-end flows (create, duplicate refused, sale, payment, card, search, report)
//   give the answers one replica gives, and a card read on one gateway reflects a write made
//   through the other;
// - under write load, one replica of each backend is killed (SIGKILL) and restarted: every
//   acknowledged sale is in the ledger exactly once, a failed one retried with its
//   request_id lands exactly once, cards and the report catch up with the ledger (the
//   event consumers resumed), and a merge and a delete started afterwards finish;
// - the restarted replicas alone (the others killed) take writes and consume both streams;
// - the sales/s reached with three replicas and with one are printed, not asserted (two
//   cores: more replicas cannot be faster here, they must only not break).

#include <cstdint>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/errors/errors.h"
#include "libs/testing/scale_out_cluster.h"
#include "libs/testing/scale_out_load.h"
#include "libs/testing/suite.h"

namespace kelola::testing {
namespace {

namespace cv1 = kelola::customer::v1;
namespace lv1 = kelola::ledger::v1;
namespace rv1 = kelola::report::v1;

// One tenant per test, so that each test's report counts only its own sales.
constexpr char kFlowTenant[] = "toko-skala-alur";
constexpr char kFlowKey[] = "so-flow-4c1d83e7a2";
constexpr char kLoadTenant[] = "toko-skala-beban";
constexpr char kLoadKey[] = "so-load-9e27b5f061";
constexpr char kRateTenant[] = "toko-skala-laju";
constexpr char kRateKey[] = "so-rate-13a8d4c97b";
constexpr char kAloneTenant[] = "toko-skala-sisa";
constexpr char kAloneKey[] = "so-alone-6f02c9e85d";

constexpr int kLoadThreads = 8;

// --- Calls through a gateway -------------------------------------------------------------
// (Creating customers and recording sales, alone and as a load: libs/testing/scale_out_load.h.)

// Runs `call` (a gRPC call on a fresh context with `key`) and returns its status.
template <typename F>
absl::Status Call(const std::string& key, F call) {
  return errors::FromGrpcStatus(call(ApiKeyContext(key).get()));
}

absl::StatusOr<int64_t> RecordPayment(Gateway& gateway, const std::string& key,
                                      const std::string& customer, int64_t amount) {
  lv1::RecordPaymentRequest request;
  request.set_request_id(absl::StrCat("pay-", customer));
  request.set_customer_id(customer);
  request.set_store_id("toko-1");
  *request.mutable_amount() = Idr(amount);
  request.set_method(lv1::PAYMENT_METHOD_CASH);
  lv1::RecordPaymentResponse response;
  absl::Status status = Call(key, [&](grpc::ClientContext* context) {
    return gateway.ledger->RecordPayment(context, request, &response);
  });
  if (!status.ok()) return status;
  return response.customer_stats().ledger_version();
}

absl::StatusOr<lv1::CustomerBalance> GetBalance(Gateway& gateway, const std::string& key,
                                                const std::string& customer) {
  lv1::GetBalanceRequest request;
  request.set_customer_id(customer);
  lv1::GetBalanceResponse response;
  absl::Status status = Call(key, [&](grpc::ClientContext* context) {
    return gateway.ledger->GetBalance(context, request, &response);
  });
  if (!status.ok()) return status;
  return response.balance();
}

// No min_ledger_version: read-your-writes across gateways is the gateway's job.
absl::StatusOr<rv1::SummaryCard> GetCard(Gateway& gateway, const std::string& key,
                                         const std::string& customer) {
  rv1::GetSummaryCardRequest request;
  request.set_customer_id(customer);
  rv1::GetSummaryCardResponse response;
  absl::Status status = Call(key, [&](grpc::ClientContext* context) {
    return gateway.reports->GetSummaryCard(context, request, &response);
  });
  if (!status.ok()) return status;
  return response.card();
}

// The report over every day from a year ago to a year ahead (the tenant's "today" is in it
// whatever its time zone).
absl::StatusOr<rv1::CustomerReport> GetReport(Gateway& gateway, const std::string& key) {
  const absl::CivilDay today = absl::ToCivilDay(absl::Now(), absl::UTCTimeZone());
  rv1::GetCustomerReportRequest request;
  request.mutable_start_date()->set_year(static_cast<int>(today.year()) - 1);
  request.mutable_start_date()->set_month(1);
  request.mutable_start_date()->set_day(1);
  request.mutable_end_date()->set_year(static_cast<int>(today.year()) + 1);
  request.mutable_end_date()->set_month(1);
  request.mutable_end_date()->set_day(1);
  rv1::GetCustomerReportResponse response;
  absl::Status status = Call(key, [&](grpc::ClientContext* context) {
    return gateway.reports->GetCustomerReport(context, request, &response);
  });
  if (!status.ok()) return status;
  return response.report();
}

// Every sale of `customer`, page by page, the pages read alternately through `gateways`
// (page tokens must be good on every replica).
absl::StatusOr<std::vector<lv1::Sale>> ListAllSales(std::vector<Gateway*> gateways,
                                                    const std::string& key,
                                                    const std::string& customer) {
  std::vector<lv1::Sale> sales;
  lv1::ListSalesRequest request;
  request.set_customer_id(customer);
  request.set_page_size(200);
  for (int page = 0;; ++page) {
    lv1::ListSalesResponse response;
    absl::Status status = Call(key, [&](grpc::ClientContext* context) {
      return gateways[page % gateways.size()]->ledger->ListSales(context, request, &response);
    });
    if (!status.ok()) return status;
    sales.insert(sales.end(), response.sales().begin(), response.sales().end());
    if (response.next_page_token().empty()) return sales;
    request.set_page_token(response.next_page_token());
  }
}

// Calls `read` until `done` holds for what it returns or `timeout` passes; the last result.
template <typename T>
absl::StatusOr<T> Poll(absl::Duration timeout, const std::function<absl::StatusOr<T>()>& read,
                       const std::function<bool(const T&)>& done) {
  const absl::Time give_up = absl::Now() + timeout;
  while (true) {
    absl::StatusOr<T> result = read();
    if ((result.ok() && done(*result)) || absl::Now() > give_up) return result;
    absl::SleepFor(absl::Milliseconds(100));
  }
}

// --- The cluster --------------------------------------------------------------------------

class ScaleOutTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ScaleOutOptions options;
    options.api_keys = {{kFlowKey, "flow-owner", kFlowTenant, {"owner"}, {}},
                        {kLoadKey, "load-owner", kLoadTenant, {"owner"}, {}},
                        {kRateKey, "rate-owner", kRateTenant, {"owner"}, {}},
                        {kAloneKey, "alone-owner", kAloneTenant, {"owner"}, {}}};
    // The load is about the replicas, not the per-tenant limit (200/s by default).
    options.gateway_args = {"--rate_limit_per_second=1000000", "--rate_limit_burst=1000000"};
    const absl::Time start = absl::Now();
    auto cluster = ScaleOutCluster::Start(std::move(options));
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
    std::cout << "scale-out: 11 processes started in " << absl::Now() - start << ", logs in "
              << cluster_->dir->path() << " (kept if a test fails)" << std::endl;
  }
  static void TearDownTestSuite() {
    // The logs of every process are the evidence of a failure.
    if (cluster_ != nullptr && ::testing::UnitTest::GetInstance()->Failed()) cluster_->dir->Keep();
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    for (const auto& process : cluster_->gateways) {
      gateways_.push_back(std::make_unique<Gateway>(cluster_->Channel(*process)));
    }
  }

  Gateway& gateway(int i) { return *gateways_[i % gateways_.size()]; }
  std::vector<Gateway*> all_gateways() {
    std::vector<Gateway*> out;
    for (auto& g : gateways_) out.push_back(g.get());
    return out;
  }

  // `count` customers of `key`'s tenant, created alternately through the gateways.
  std::vector<std::string> CreateCustomers(const std::string& key, const std::string& tag,
                                           int phone_base, int count) {
    auto ids = testing::CreateCustomers(all_gateways(), key, tag, phone_base, count);
    EXPECT_TRUE(ids.ok()) << ids.status();
    return ids.ok() ? *std::move(ids) : std::vector<std::string>();
  }

  // Kills replica `index` of every backend.
  void KillReplicas(int index) {
    ASSERT_TRUE(cluster_->customers[index]->Kill().ok());
    ASSERT_TRUE(cluster_->ledgers[index]->Kill().ok());
    ASSERT_TRUE(cluster_->reports[index]->Kill().ok());
  }
  void RestartReplicas(int index) {
    for (auto* replicas : {&cluster_->customers, &cluster_->ledgers, &cluster_->reports}) {
      ServiceProcess& process = *(*replicas)[index];
      absl::Status restarted = process.Restart();
      ASSERT_TRUE(restarted.ok()) << restarted << "\n" << process.LogTail();
    }
  }

  static ScaleOutCluster* cluster_;
  std::vector<std::unique_ptr<Gateway>> gateways_;
};

ScaleOutCluster* ScaleOutTest::cluster_ = nullptr;

// --- The flows ---------------------------------------------------------------------------

TEST_F(ScaleOutTest, FlowsThroughEitherGatewayGiveOneReplicasAnswers) {
  auto created =
      CreateCustomer(gateway(0), kFlowKey, "Siti Rahmawati", "0812-5550-1001", "flow-create-1");
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string customer = created->customer_id();
  // The same create retried through the other gateway: the same customer.
  auto retried =
      CreateCustomer(gateway(1), kFlowKey, "Siti Rahmawati", "0812-5550-1001", "flow-create-1");
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(retried->customer_id(), customer);
  // Another customer with the same number (written differently) is refused.
  auto duplicate =
      CreateCustomer(gateway(1), kFlowKey, "Siti R.", "+62 812 5550 1001", "flow-create-2");
  ASSERT_EQ(duplicate.status().code(), absl::StatusCode::kAlreadyExists) << duplicate.status();
  EXPECT_EQ(errors::Reason(duplicate.status()), "CUSTOMER_DUPLICATE");
  EXPECT_EQ(errors::GetMetadata(duplicate.status())["existing_customer_id"], customer);

  auto sold = RecordSale(gateway(0), kFlowKey, SaleRequest("flow-sale-0", customer, 250000));
  ASSERT_TRUE(sold.ok()) << sold.status();
  auto paid_version = RecordPayment(gateway(1), kFlowKey, customer, 100000);
  ASSERT_TRUE(paid_version.ok()) << paid_version.status();
  int64_t spent = 250000;
  const int64_t paid = 100000;
  auto card = GetCard(gateway(0), kFlowKey, customer);
  ASSERT_TRUE(card.ok()) << card.status();
  EXPECT_GE(card->ledger_version(), *paid_version);
  EXPECT_EQ(card->total_spent().amount_minor(), spent);
  EXPECT_EQ(card->balance().amount_minor(), spent - paid);
  EXPECT_EQ(card->transaction_count(), 1);

  // Written through one gateway, read through the other straight after.
  for (int round = 1; round <= 4; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const int64_t total = 10000 * round;
    auto written = RecordSale(gateway(round), kFlowKey,
                              SaleRequest(absl::StrCat("flow-sale-", round), customer, total));
    ASSERT_TRUE(written.ok()) << written.status();
    spent += total;
    auto read = GetCard(gateway(round + 1), kFlowKey, customer);
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_GE(read->ledger_version(), written->customer_stats().ledger_version());
    EXPECT_EQ(read->total_spent().amount_minor(), spent);
    EXPECT_EQ(read->balance().amount_minor(), spent - paid);
    EXPECT_EQ(read->transaction_count(), round + 1);
  }
  auto balance = GetBalance(gateway(1), kFlowKey, customer);
  ASSERT_TRUE(balance.ok()) << balance.status();
  EXPECT_EQ(balance->balance().amount_minor(), spent - paid);

  // Search entries are written with the customer; the poll only bounds the wait.
  auto found = Poll<cv1::SearchCustomersResponse>(
      absl::Seconds(10),
      [&]() -> absl::StatusOr<cv1::SearchCustomersResponse> {
        cv1::SearchCustomersRequest request;
        request.set_query("Siti Rahmawati");
        cv1::SearchCustomersResponse response;
        absl::Status status = Call(kFlowKey, [&](grpc::ClientContext* context) {
          return gateway(1).customers->SearchCustomers(context, request, &response);
        });
        if (!status.ok()) return status;
        return response;
      },
      [](const cv1::SearchCustomersResponse& r) { return r.results_size() > 0; });
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_EQ(found->results_size(), 1);
  EXPECT_EQ(found->results(0).customer().customer_id(), customer);

  // The report is built from the event streams: it catches up within a bound.
  auto report = Poll<rv1::CustomerReport>(
      absl::Seconds(30), [&] { return GetReport(gateway(0), kFlowKey); },
      [&](const rv1::CustomerReport& r) {
        return r.transaction_count() == 5 && r.total_customers() == 1;
      });
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->total_customers(), 1);
  EXPECT_EQ(report->new_customers(), 1);
  EXPECT_EQ(report->active_customers(), 1);
  EXPECT_EQ(report->transaction_count(), 5);
  EXPECT_EQ(report->total_sales().amount_minor(), spent);
  EXPECT_EQ(report->average_order_value().amount_minor(), spent / 5);
  ASSERT_EQ(report->top_customers_size(), 1);
}

// --- Kill -9 under write load ---------------------------------------------------------------

// Resends every failed attempt with its own request until it is acknowledged, and every
// tenth acknowledged one once more through the other gateway: the same sale must come back.
// Returns request_id -> sale_id of every sale that must be in the ledger.
std::map<std::string, std::string> SettleAttempts(std::vector<Gateway*> gateways,
                                                  const std::vector<SaleAttempt>& attempts) {
  std::map<std::string, std::string> expected;
  for (size_t i = 0; i < attempts.size(); ++i) {
    const SaleAttempt& attempt = attempts[i];
    const std::string& request_id = attempt.request.request_id();
    Gateway& other = *gateways[(i + 1) % gateways.size()];
    if (attempt.code == absl::StatusCode::kOk) {
      expected[request_id] = attempt.sale_id;
      if (i % 10 != 0) continue;
      auto again = RecordSale(other, kLoadKey, attempt.request);
      EXPECT_TRUE(again.ok()) << request_id << ": " << again.status();
      if (again.ok()) {
        EXPECT_EQ(again->sale().sale_id(), attempt.sale_id) << request_id;
      }
      continue;
    }
    // The only failure a client may see while a replica dies: try again later.
    EXPECT_EQ(attempt.code, absl::StatusCode::kUnavailable)
        << request_id << ": " << attempt.message;
    auto settled = Poll<lv1::RecordSaleResponse>(
        absl::Seconds(30), [&] { return RecordSale(other, kLoadKey, attempt.request); },
        [](const lv1::RecordSaleResponse&) { return true; });
    EXPECT_TRUE(settled.ok()) << request_id << " never recorded on retry: " << settled.status();
    if (settled.ok()) expected[request_id] = settled->sale().sale_id();
  }
  return expected;
}

TEST_F(ScaleOutTest, KillingOneReplicaOfEachUnderLoadLosesAndDoublesNothing) {
  const std::vector<std::string> customers = CreateCustomers(kLoadKey, "beban", 5551, kLoadThreads);
  ASSERT_EQ(customers.size(), static_cast<size_t>(kLoadThreads));
  SaleLoad load(all_gateways(), kLoadKey, customers, "load");
  load.Start();
  ASSERT_TRUE(load.WaitForMore(50, absl::Seconds(30))) << "the load never got going";
  const double rate = load.Rate(absl::Seconds(3));
  std::cout << "scale-out: " << static_cast<int64_t>(rate)
            << " sales/s through 2 gateways and 3 replicas, before the kill" << std::endl;

  KillReplicas(1);
  const bool went_on = load.WaitForMore(50, absl::Seconds(30));
  RestartReplicas(1);
  const bool goes_on = load.WaitForMore(50, absl::Seconds(30));
  load.Stop();
  ASSERT_TRUE(went_on) << "sales stopped with one replica of each backend down";
  ASSERT_TRUE(goes_on) << "sales stopped after the restart";

  const std::vector<SaleAttempt> attempts = load.attempts();
  int failed = 0;
  for (const SaleAttempt& a : attempts) failed += a.code != absl::StatusCode::kOk;
  std::cout << "scale-out: " << attempts.size() << " sales attempted, " << failed
            << " failed while replicas died (retried with their request_id)" << std::endl;
  const std::map<std::string, std::string> expected = SettleAttempts(all_gateways(), attempts);

  // The ledger holds exactly the expected sales, each once.
  std::map<std::string, int64_t> sum_of;  // per customer
  for (const SaleAttempt& a : attempts) {
    sum_of[a.request.customer_id()] += a.request.total().amount_minor();
  }
  int64_t sales_in_ledger = 0;
  int64_t all_sales = 0;
  for (const std::string& customer : customers) {
    auto sales = ListAllSales(all_gateways(), kLoadKey, customer);
    ASSERT_TRUE(sales.ok()) << sales.status();
    std::map<std::string, int> seen;
    for (const lv1::Sale& sale : *sales) {
      ++seen[sale.request_id()];
      auto it = expected.find(sale.request_id());
      ASSERT_NE(it, expected.end()) << "a sale nobody asked for: " << sale.ShortDebugString();
      EXPECT_EQ(sale.sale_id(), it->second) << sale.request_id();
    }
    for (const auto& [request_id, count] : seen) EXPECT_EQ(count, 1) << request_id << " doubled";
    sales_in_ledger += sales->size();
    all_sales += sum_of[customer];
    auto balance = GetBalance(gateway(0), kLoadKey, customer);
    ASSERT_TRUE(balance.ok()) << balance.status();
    EXPECT_EQ(balance->balance().amount_minor(), sum_of[customer]) << customer;
  }
  EXPECT_EQ(sales_in_ledger, static_cast<int64_t>(expected.size())) << "an acknowledged sale lost";
  EXPECT_EQ(expected.size(), attempts.size());

  // The report-svc replicas' consumers resumed: cards and the report reach the ledger.
  for (size_t i = 0; i < customers.size(); ++i) {
    auto card = Poll<rv1::SummaryCard>(
        absl::Seconds(30),
        [&] { return GetCard(gateway(static_cast<int>(i)), kLoadKey, customers[i]); },
        [&](const rv1::SummaryCard& c) {
          return c.balance().amount_minor() == sum_of[customers[i]];
        });
    ASSERT_TRUE(card.ok()) << card.status();
    EXPECT_EQ(card->balance().amount_minor(), sum_of[customers[i]]) << customers[i];
    EXPECT_EQ(card->total_spent().amount_minor(), sum_of[customers[i]]) << customers[i];
  }
  auto report = Poll<rv1::CustomerReport>(
      absl::Seconds(60), [&] { return GetReport(gateway(1), kLoadKey); },
      [&](const rv1::CustomerReport& r) { return r.transaction_count() == sales_in_ledger; });
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->transaction_count(), sales_in_ledger) << "the report stopped consuming";
  EXPECT_EQ(report->total_sales().amount_minor(), all_sales);

  // A merge started now finishes, and moves the whole balance.
  cv1::MergeCustomersRequest merge;
  merge.set_source_customer_id(customers[0]);
  merge.set_target_customer_id(customers[1]);
  merge.set_request_id("merge-after-restart");
  cv1::MergeCustomersResponse merged;
  ASSERT_TRUE(Call(kLoadKey, [&](grpc::ClientContext* context) {
                return gateway(0).customers->MergeCustomers(context, merge, &merged);
              }).ok());
  auto operation = Poll<cv1::MergeOperation>(
      absl::Seconds(30),
      [&]() -> absl::StatusOr<cv1::MergeOperation> {
        cv1::GetMergeOperationRequest request;
        request.set_merge_operation_id(merged.merge_operation().merge_operation_id());
        cv1::GetMergeOperationResponse response;
        absl::Status status = Call(kLoadKey, [&](grpc::ClientContext* context) {
          return gateway(1).customers->GetMergeOperation(context, request, &response);
        });
        if (!status.ok()) return status;
        return response.merge_operation();
      },
      [](const cv1::MergeOperation& op) {
        return op.state() == cv1::MERGE_OPERATION_STATE_SUCCEEDED ||
               op.state() == cv1::MERGE_OPERATION_STATE_FAILED;
      });
  ASSERT_TRUE(operation.ok()) << operation.status();
  ASSERT_EQ(operation->state(), cv1::MERGE_OPERATION_STATE_SUCCEEDED)
      << operation->ShortDebugString();
  auto target = GetBalance(gateway(1), kLoadKey, customers[1]);
  ASSERT_TRUE(target.ok()) << target.status();
  EXPECT_EQ(target->balance().amount_minor(), sum_of[customers[0]] + sum_of[customers[1]]);
  cv1::GetCustomerRequest get_source;
  get_source.set_customer_id(customers[0]);
  cv1::GetCustomerResponse source;
  ASSERT_TRUE(Call(kLoadKey, [&](grpc::ClientContext* context) {
                return gateway(0).customers->GetCustomer(context, get_source, &source);
              }).ok());
  EXPECT_EQ(source.customer().state(), cv1::CUSTOMER_STATE_MERGED);
  EXPECT_EQ(source.customer().merged_into_customer_id(), customers[1]);

  // A delete started now finishes; one with history is refused as documented.
  auto fresh =
      CreateCustomer(gateway(0), kLoadKey, "Tanpa Transaksi", "0813-5551-9999", "create-to-delete");
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  auto remove = [&](const std::string& customer, int via) {
    cv1::DeleteCustomerRequest request;
    request.set_customer_id(customer);
    request.set_request_id(absl::StrCat("delete-", customer));
    cv1::DeleteCustomerResponse response;
    return Call(kLoadKey, [&](grpc::ClientContext* context) {
      return gateway(via).customers->DeleteCustomer(context, request, &response);
    });
  };
  absl::Status deleted = remove(fresh->customer_id(), 1);
  ASSERT_TRUE(deleted.ok()) << deleted;
  cv1::GetCustomerRequest get_deleted;
  get_deleted.set_customer_id(fresh->customer_id());
  cv1::GetCustomerResponse gone;
  absl::Status lookup = Call(kLoadKey, [&](grpc::ClientContext* context) {
    return gateway(0).customers->GetCustomer(context, get_deleted, &gone);
  });
  EXPECT_EQ(lookup.code(), absl::StatusCode::kNotFound) << lookup;
  absl::Status with_history = remove(customers[2], 0);
  EXPECT_EQ(errors::Reason(with_history), "CUSTOMER_HAS_HISTORY") << with_history;
}

// --- Throughput at three replicas and at one ---------------------------------------------------

TEST_F(ScaleOutTest, ThroughputAtThreeReplicasAndAtOne) {
  const std::vector<std::string> customers = CreateCustomers(kRateKey, "laju", 5552, kLoadThreads);
  ASSERT_EQ(customers.size(), static_cast<size_t>(kLoadThreads));
  auto measure = [&](const std::string& prefix) {
    SaleLoad load(all_gateways(), kRateKey, customers, prefix);
    load.Start();
    const bool started = load.WaitForMore(50, absl::Seconds(30));
    const double rate = started ? load.Rate(absl::Seconds(3)) : 0;
    load.Stop();
    for (const SaleAttempt& a : load.attempts()) {
      EXPECT_EQ(a.code, absl::StatusCode::kOk) << a.request.request_id() << ": " << a.message;
    }
    return rate;
  };
  const double three = measure("rate3");
  // Replicas 1 and 2 gone: the gateways' round robin sends everything to replica 0.
  KillReplicas(1);
  KillReplicas(2);
  // The gateways notice a dead replica on their next call to it; settle before measuring.
  for (int i = 0; i < 4; ++i) {
    auto warm = Poll<lv1::CustomerBalance>(
        absl::Seconds(10), [&] { return GetBalance(gateway(i), kRateKey, customers[0]); },
        [](const lv1::CustomerBalance&) { return true; });
    ASSERT_TRUE(warm.ok()) << warm.status();
  }
  const double one = measure("rate1");
  RestartReplicas(1);
  RestartReplicas(2);
  std::cout << "scale-out: " << static_cast<int64_t>(three)
            << " sales/s through 2 gateways and 3 replicas" << std::endl;
  std::cout << "scale-out: " << static_cast<int64_t>(one)
            << " sales/s through 2 gateways and 1 replica" << std::endl;
}

// --- The restarted replicas on their own ---------------------------------------------------

// Replicas 1 and 2 were killed and restarted above; with replica 0 of every backend now
// gone, they alone must take a create, a sale and its card, and consume both event streams
// into the report: their consumers resumed after the restart.
TEST_F(ScaleOutTest, RestartedReplicasAloneCarryTheFlows) {
  KillReplicas(0);
  // Right after a replica dies a gateway may still answer UNAVAILABLE (its next call finds
  // the replica gone): the client tries again, with the same request_id for a write.
  const auto any = [](const auto&) { return true; };
  auto created = Poll<cv1::Customer>(
      absl::Seconds(10),
      [&] {
        return CreateCustomer(gateway(0), kAloneKey, "Budi Santoso", "0813-5553-1000",
                              "create-alone");
      },
      any);
  ASSERT_TRUE(created.ok()) << created.status();
  const std::string customer = created->customer_id();
  auto sold = Poll<lv1::RecordSaleResponse>(
      absl::Seconds(10),
      [&] {
        return RecordSale(gateway(1), kAloneKey, SaleRequest("alone-sale", customer, 123400));
      },
      any);
  ASSERT_TRUE(sold.ok()) << sold.status();
  auto card = Poll<rv1::SummaryCard>(
      absl::Seconds(10), [&] { return GetCard(gateway(0), kAloneKey, customer); }, any);
  ASSERT_TRUE(card.ok()) << card.status();
  EXPECT_EQ(card->balance().amount_minor(), 123400);
  EXPECT_GE(card->ledger_version(), sold->customer_stats().ledger_version());
  auto report = Poll<rv1::CustomerReport>(
      absl::Seconds(30), [&] { return GetReport(gateway(1), kAloneKey); },
      [](const rv1::CustomerReport& r) {
        return r.transaction_count() == 1 && r.total_customers() == 1;
      });
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->transaction_count(), 1) << "the ledger stream is not consumed";
  EXPECT_EQ(report->total_customers(), 1) << "the customer stream is not consumed";
  EXPECT_EQ(report->total_sales().amount_minor(), 123400);
  RestartReplicas(0);
}

}  // namespace
}  // namespace kelola::testing
