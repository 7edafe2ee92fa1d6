#pragma once

// Sales recorded through the gateways of a scaled-out suite (libs/testing/scale_out_cluster.h),
// shared by the scale-out test and the scale-out benchmark: the stubs of one gateway, the
// calls they make, and a write load of one thread per customer alternating the gateways.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "kelola/report/v1/report_service.grpc.pb.h"

namespace kelola::testing {

// The stubs of one gateway.
struct Gateway {
  explicit Gateway(const std::shared_ptr<grpc::Channel>& channel);
  std::unique_ptr<kelola::customer::v1::CustomerService::Stub> customers;
  std::unique_ptr<kelola::ledger::v1::LedgerService::Stub> ledger;
  std::unique_ptr<kelola::report::v1::ReportService::Stub> reports;
};

absl::StatusOr<kelola::customer::v1::Customer> CreateCustomer(Gateway& gateway,
                                                              const std::string& key,
                                                              const std::string& name,
                                                              const std::string& phone,
                                                              const std::string& request_id);

// `count` customers of `key`'s tenant ("Pelanggan <tag> <i>", phone 0813-<phone_base>-<1000+i>),
// created alternately through `gateways`; their ids, or the first failure.
absl::StatusOr<std::vector<std::string>> CreateCustomers(const std::vector<Gateway*>& gateways,
                                                         const std::string& key,
                                                         const std::string& tag, int phone_base,
                                                         int count);

// A sale of `total`, all of it on credit.
kelola::ledger::v1::RecordSaleRequest SaleRequest(const std::string& request_id,
                                                  const std::string& customer, int64_t total);

absl::StatusOr<kelola::ledger::v1::RecordSaleResponse> RecordSale(
    Gateway& gateway, const std::string& key, const kelola::ledger::v1::RecordSaleRequest& request,
    absl::Duration timeout = absl::Seconds(10));

// One RecordSale a load thread made: the request, and what its first attempt returned.
struct SaleAttempt {
  kelola::ledger::v1::RecordSaleRequest request;
  absl::StatusCode code = absl::StatusCode::kUnknown;
  std::string message;
  std::string sale_id;  // when acknowledged
  absl::Time finished;  // when the answer came
  absl::Duration latency;
};

// Threads recording sales on their own customer with unique request_ids, each call through
// the next gateway. Keeps every attempt for the checks after the load.
class SaleLoad {
 public:
  SaleLoad(std::vector<Gateway*> gateways, std::string key, std::vector<std::string> customers,
           std::string prefix);
  ~SaleLoad();

  void Start();
  void Stop();
  int64_t acknowledged() const { return acknowledged_.load(); }
  // Call after Stop().
  std::vector<SaleAttempt> attempts();

  // Waits until `more` further sales are acknowledged; false after `timeout`.
  bool WaitForMore(int64_t more, absl::Duration timeout) const;

  // Sales acknowledged per second over `window`.
  double Rate(absl::Duration window) const;

 private:
  void Loop(size_t thread);

  const std::vector<Gateway*> gateways_;
  const std::string key_;
  const std::vector<std::string> customers_;
  const std::string prefix_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acknowledged_{0};
  absl::Mutex mu_;
  std::vector<SaleAttempt> attempts_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::testing
