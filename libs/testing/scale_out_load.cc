#include "libs/testing/scale_out_load.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "libs/errors/errors.h"
#include "libs/testing/suite.h"

namespace kelola::testing {

namespace cv1 = kelola::customer::v1;
namespace lv1 = kelola::ledger::v1;
namespace rv1 = kelola::report::v1;

Gateway::Gateway(const std::shared_ptr<grpc::Channel>& channel)
    : customers(cv1::CustomerService::NewStub(channel)),
      ledger(lv1::LedgerService::NewStub(channel)),
      reports(rv1::ReportService::NewStub(channel)) {}

absl::StatusOr<cv1::Customer> CreateCustomer(Gateway& gateway, const std::string& key,
                                             const std::string& name, const std::string& phone,
                                             const std::string& request_id) {
  cv1::CreateCustomerRequest request;
  request.set_request_id(request_id);
  request.mutable_customer()->set_display_name(name);
  request.mutable_customer()->mutable_phone()->set_raw(phone);
  cv1::CreateCustomerResponse response;
  grpc::Status status =
      gateway.customers->CreateCustomer(ApiKeyContext(key).get(), request, &response);
  if (!status.ok()) return errors::FromGrpcStatus(status);
  return response.customer();
}

absl::StatusOr<std::vector<std::string>> CreateCustomers(const std::vector<Gateway*>& gateways,
                                                         const std::string& key,
                                                         const std::string& tag, int phone_base,
                                                         int count) {
  std::vector<std::string> ids;
  for (int i = 0; i < count; ++i) {
    auto created = CreateCustomer(
        *gateways[i % gateways.size()], key, absl::StrCat("Pelanggan ", tag, " ", i),
        absl::StrCat("0813-", phone_base, "-", 1000 + i), absl::StrCat("create-", tag, "-", i));
    if (!created.ok()) return created.status();
    ids.push_back(created->customer_id());
  }
  return ids;
}

lv1::RecordSaleRequest SaleRequest(const std::string& request_id, const std::string& customer,
                                   int64_t total) {
  lv1::RecordSaleRequest request;
  request.set_request_id(request_id);
  request.set_customer_id(customer);
  request.set_store_id("toko-1");
  lv1::SaleItem* item = request.add_items();
  item->set_sku("BERAS-5KG");
  item->set_name("Beras 5 kg");
  item->set_quantity_milli(1000);
  *item->mutable_unit_price() = Idr(total);
  *request.mutable_total() = Idr(total);
  return request;
}

absl::StatusOr<lv1::RecordSaleResponse> RecordSale(Gateway& gateway, const std::string& key,
                                                   const lv1::RecordSaleRequest& request,
                                                   absl::Duration timeout) {
  lv1::RecordSaleResponse response;
  grpc::Status status =
      gateway.ledger->RecordSale(ApiKeyContext(key, timeout).get(), request, &response);
  if (!status.ok()) return errors::FromGrpcStatus(status);
  return response;
}

SaleLoad::SaleLoad(std::vector<Gateway*> gateways, std::string key,
                   std::vector<std::string> customers, std::string prefix)
    : gateways_(std::move(gateways)),
      key_(std::move(key)),
      customers_(std::move(customers)),
      prefix_(std::move(prefix)) {}

SaleLoad::~SaleLoad() { Stop(); }

void SaleLoad::Start() {
  for (size_t i = 0; i < customers_.size(); ++i) threads_.emplace_back([this, i] { Loop(i); });
}

void SaleLoad::Stop() {
  stop_.store(true);
  for (auto& t : threads_) t.join();
  threads_.clear();
}

std::vector<SaleAttempt> SaleLoad::attempts() {
  absl::MutexLock lock(&mu_);
  return attempts_;
}

bool SaleLoad::WaitForMore(int64_t more, absl::Duration timeout) const {
  const int64_t target = acknowledged() + more;
  const absl::Time give_up = absl::Now() + timeout;
  while (acknowledged() < target) {
    if (absl::Now() > give_up) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

double SaleLoad::Rate(absl::Duration window) const {
  const int64_t before = acknowledged();
  const absl::Time start = absl::Now();
  absl::SleepFor(window);
  return static_cast<double>(acknowledged() - before) / absl::ToDoubleSeconds(absl::Now() - start);
}

void SaleLoad::Loop(size_t thread) {
  for (int n = 0; !stop_.load(); ++n) {
    SaleAttempt attempt;
    attempt.request = SaleRequest(absl::StrCat(prefix_, "-", thread, "-", n), customers_[thread],
                                  1000 * (1 + n % 9));
    Gateway& gateway = *gateways_[(thread + n) % gateways_.size()];
    const absl::Time sent = absl::Now();
    auto sold = RecordSale(gateway, key_, attempt.request, absl::Seconds(5));
    attempt.finished = absl::Now();
    attempt.latency = attempt.finished - sent;
    attempt.code = sold.status().code();
    attempt.message = std::string(sold.status().message());
    if (sold.ok()) {
      attempt.sale_id = sold->sale().sale_id();
      acknowledged_.fetch_add(1);
    }
    {
      absl::MutexLock lock(&mu_);
      attempts_.push_back(std::move(attempt));
    }
    // A failed call comes back at once while a replica is down: not a busy loop.
    if (!sold.ok()) absl::SleepFor(absl::Milliseconds(50));
  }
}

}  // namespace kelola::testing
