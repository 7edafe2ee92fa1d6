// GetCustomerProfile against a fake suite whose backends answer from their own threads after
// configurable delays (honouring the call's deadline as gRPC does, or hanging past it) and a
// fake card source.

#include "gateway/api/customer_profile.h"

#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/text_format.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "gtest/gtest.h"
#include "libs/errors/errors.h"

namespace kelola::gateway {
namespace {

constexpr char kId[] = "c-1";

// How one fake backend method answers.
struct Answer {
  absl::Duration delay = absl::ZeroDuration();
  grpc::Status status = grpc::Status::OK;
  // A stuck backend: answers after `delay` even when the call's deadline passed earlier.
  bool ignore_deadline = false;
};

class FakeSuiteStub final : public SuiteStub {
 public:
  ~FakeSuiteStub() override {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& t : threads_) t.join();
  }

  Answer customer, sales, payments, stats;
  customer::v1::GetCustomerResponse customer_response;
  ledger::v1::ListSalesResponse sales_response;
  ledger::v1::ListPaymentsResponse payments_response;
  ledger::v1::GetCustomerLedgerStatsResponse stats_response;
  // The requests received (copied when the call starts).
  ledger::v1::ListSalesRequest sales_request;
  ledger::v1::ListPaymentsRequest payments_request;
  int stats_calls = 0;

  void GetCustomer(grpc::ClientContext* context, const customer::v1::GetCustomerRequest& request,
                   customer::v1::GetCustomerResponse* response, Done done) override {
    EXPECT_EQ(request.customer_id(), kId);
    Reply(
        context, customer, [this, response] { *response = customer_response; }, done);
  }
  void ListSales(grpc::ClientContext* context, const ledger::v1::ListSalesRequest& request,
                 ledger::v1::ListSalesResponse* response, Done done) override {
    sales_request = request;
    Reply(
        context, sales, [this, response] { *response = sales_response; }, done);
  }
  void ListPayments(grpc::ClientContext* context, const ledger::v1::ListPaymentsRequest& request,
                    ledger::v1::ListPaymentsResponse* response, Done done) override {
    payments_request = request;
    Reply(
        context, payments, [this, response] { *response = payments_response; }, done);
  }
  void GetCustomerLedgerStats(grpc::ClientContext* context,
                              const ledger::v1::GetCustomerLedgerStatsRequest& request,
                              ledger::v1::GetCustomerLedgerStatsResponse* response,
                              Done done) override {
    EXPECT_EQ(request.customer_id(), kId);
    ++stats_calls;
    Reply(
        context, stats, [this, response] { *response = stats_response; }, done);
  }
  void GetSummaryCard(grpc::ClientContext*, const report::v1::GetSummaryCardRequest&,
                      report::v1::GetSummaryCardResponse*, Done done) override {
    done(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "not used by the profile"));
  }
  void BatchGetSummaryCards(grpc::ClientContext*, const report::v1::BatchGetSummaryCardsRequest&,
                            report::v1::BatchGetSummaryCardsResponse*, Done done) override {
    done(grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "not used by the profile"));
  }

 private:
  void Reply(grpc::ClientContext* context, Answer answer, std::function<void()> fill, Done done) {
    const absl::Time deadline = absl::FromChrono(context->deadline());
    absl::MutexLock lock(&mu_);
    threads_.emplace_back([this, deadline, answer, fill, done] {
      absl::Time until = absl::Now() + answer.delay;
      const bool expired = !answer.ignore_deadline && deadline < until;
      if (expired) until = deadline;
      mu_.LockWhenWithDeadline(absl::Condition(&stopping_), until);
      mu_.Unlock();
      if (expired) return done(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline"));
      if (answer.status.ok()) fill();
      done(answer.status);
    });
  }

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_ ABSL_GUARDED_BY(mu_);
};

class FakeCardSource final : public CardSource {
 public:
  absl::StatusOr<SourcedCard> result;
  absl::Duration delay = absl::ZeroDuration();
  int64_t min_version_seen = -1;

  absl::StatusOr<SourcedCard> Get(const grpc::ServerContextBase&, const auth::Principal&,
                                  const std::string& customer_id,
                                  int64_t min_ledger_version) override {
    EXPECT_EQ(customer_id, kId);
    min_version_seen = min_ledger_version;
    absl::SleepFor(delay);
    return result;
  }
};

// A backend error as it arrives on the wire.
grpc::Status WireError(absl::StatusCode code, const char* reason, const char* domain) {
  return errors::ToGrpcStatus(errors::Error(code, reason, "backend says no"), domain);
}

class CustomerProfileTest : public ::testing::Test {
 protected:
  CustomerProfileTest() {
    stub_.customer_response.mutable_customer()->set_customer_id(kId);
    stub_.customer_response.mutable_customer()->set_display_name("Budi");
    stub_.sales_response.add_sales()->set_sale_id("s-2");
    stub_.sales_response.add_sales()->set_sale_id("s-1");
    stub_.sales_response.set_next_page_token("more-sales");
    stub_.payments_response.add_payments()->set_payment_id("p-1");
    SourcedCard card;
    card.card.set_customer_id(kId);
    card.card.set_ledger_version(7);
    card.source = v1::CARD_SOURCE_CACHE;
    cards_.result = card;
    principal_.id = "u-1";
    principal_.tenant_id = "t-1";
    principal_.roles = {auth::Role::kOwner};
    request_.set_customer_id(kId);
  }

  // Get() with backend calls limited to `deadline` (the caller set none).
  absl::StatusOr<v1::GetCustomerProfileResponse> Get(absl::Duration deadline = absl::Seconds(5)) {
    BackendCallPreparer preparer(signer_, deadline, absl::Minutes(1));
    CustomerProfiles profiles(stub_, cards_, preparer);
    grpc::ServerContext incoming;
    return profiles.Get(incoming, principal_, request_);
  }

  auth::CredentialSigner signer_{"test-internal-key", "gateway", RealClock::Get()};
  FakeSuiteStub stub_;
  FakeCardSource cards_;
  auth::Principal principal_;
  v1::GetCustomerProfileRequest request_;
};

bool Available(const v1::PartStatus& status) {
  return status.availability() == v1::AVAILABILITY_AVAILABLE && !status.has_error();
}

TEST_F(CustomerProfileTest, AllPartsAvailable) {
  request_.set_min_ledger_version(7);
  auto profile = Get();
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_TRUE(Available(profile->customer().status()));
  EXPECT_EQ(profile->customer().customer().display_name(), "Budi");
  EXPECT_TRUE(Available(profile->summary_card().status()));
  EXPECT_EQ(profile->summary_card().source(), v1::CARD_SOURCE_CACHE);
  EXPECT_EQ(profile->summary_card().card().ledger_version(), 7);
  EXPECT_EQ(cards_.min_version_seen, 7);
  EXPECT_TRUE(Available(profile->recent_sales().status()));
  ASSERT_EQ(profile->recent_sales().sales_size(), 2);
  EXPECT_EQ(profile->recent_sales().sales(0).sale_id(), "s-2");
  EXPECT_EQ(profile->recent_sales().next_page_token(), "more-sales");
  EXPECT_TRUE(Available(profile->recent_payments().status()));
  ASSERT_EQ(profile->recent_payments().payments_size(), 1);
  EXPECT_EQ(stub_.stats_calls, 0);
  // Default limits, the BASIC view, and the lists' default order (newest first).
  EXPECT_EQ(stub_.sales_request.customer_id(), kId);
  EXPECT_EQ(stub_.sales_request.page_size(), 10);
  EXPECT_EQ(stub_.sales_request.view(), ledger::v1::SALE_VIEW_BASIC);
  EXPECT_EQ(stub_.sales_request.order_by(), "");
  EXPECT_EQ(stub_.payments_request.customer_id(), kId);
  EXPECT_EQ(stub_.payments_request.page_size(), 10);
  EXPECT_EQ(stub_.payments_request.order_by(), "");
}

TEST_F(CustomerProfileTest, LimitsBecomePageSizes) {
  request_.set_recent_sales_limit(3);
  request_.set_recent_payments_limit(50);
  ASSERT_TRUE(Get().ok());
  EXPECT_EQ(stub_.sales_request.page_size(), 3);
  EXPECT_EQ(stub_.payments_request.page_size(), 50);
}

TEST_F(CustomerProfileTest, PartsAreFetchedInParallelWithTheCard) {
  const absl::Duration delay = absl::Milliseconds(300);
  stub_.customer.delay = stub_.sales.delay = stub_.payments.delay = delay;
  cards_.delay = delay;
  const absl::Time start = absl::Now();
  auto profile = Get();
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_LT(absl::Now() - start, 2 * delay);
  EXPECT_TRUE(Available(profile->customer().status()));
  EXPECT_TRUE(Available(profile->recent_payments().status()));
}

TEST_F(CustomerProfileTest, OneBackendDownMakesOnlyItsPartUnavailable) {
  stub_.payments.status =
      WireError(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE", "ledger.kelola.id");
  auto profile = Get();
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_TRUE(Available(profile->customer().status()));
  EXPECT_TRUE(Available(profile->recent_sales().status()));
  EXPECT_TRUE(Available(profile->summary_card().status()));
  const v1::RecentPaymentsPart& payments = profile->recent_payments();
  EXPECT_EQ(payments.status().availability(), v1::AVAILABILITY_UNAVAILABLE);
  EXPECT_EQ(payments.payments_size(), 0);
  const v1::PartError& error = payments.status().error();
  EXPECT_EQ(error.code(), 14);
  EXPECT_EQ(error.reason(), "STORE_UNAVAILABLE");
  EXPECT_EQ(error.domain(), "ledger.kelola.id");
  EXPECT_EQ(error.message(), "backend says no");
  EXPECT_EQ(error.backend(), "ledger-svc");
}

TEST_F(CustomerProfileTest, TransportFailureIsTheGatewaysBackendUnavailable) {
  stub_.customer.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "connection refused");
  auto profile = Get();
  ASSERT_TRUE(profile.ok()) << profile.status();
  const v1::PartError& error = profile->customer().status().error();
  EXPECT_EQ(profile->customer().status().availability(), v1::AVAILABILITY_UNAVAILABLE);
  EXPECT_FALSE(profile->customer().has_customer());
  EXPECT_EQ(error.code(), 14);
  EXPECT_EQ(error.reason(), "BACKEND_UNAVAILABLE");
  EXPECT_EQ(error.domain(), "gateway.kelola.id");
  EXPECT_EQ(error.backend(), "customer-svc");
}

void ExpectDeadlineExceeded(const v1::PartStatus& status, const char* backend) {
  EXPECT_EQ(status.availability(), v1::AVAILABILITY_UNAVAILABLE);
  EXPECT_EQ(status.error().code(), 4);
  EXPECT_EQ(status.error().reason(), "DEADLINE_EXCEEDED");
  EXPECT_EQ(status.error().domain(), "gateway.kelola.id");
  EXPECT_EQ(status.error().backend(), backend);
}

TEST_F(CustomerProfileTest, SlowBackendPastTheDeadlineIsDeadlineExceeded) {
  const absl::Duration deadline = absl::Milliseconds(300);
  stub_.sales.delay = absl::Seconds(5);
  const absl::Time start = absl::Now();
  auto profile = Get(deadline);
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_LT(took, deadline + absl::Milliseconds(250));
  ExpectDeadlineExceeded(profile->recent_sales().status(), "ledger-svc");
  EXPECT_EQ(profile->recent_sales().sales_size(), 0);
  EXPECT_TRUE(Available(profile->customer().status()));
  EXPECT_TRUE(Available(profile->recent_payments().status()));
  EXPECT_TRUE(Available(profile->summary_card().status()));
}

TEST_F(CustomerProfileTest, StuckBackendIsGivenUpAtTheDeadline) {
  const absl::Duration deadline = absl::Milliseconds(300);
  stub_.customer.delay = absl::Seconds(3);
  stub_.customer.ignore_deadline = true;
  const absl::Time start = absl::Now();
  auto profile = Get(deadline);
  const absl::Duration took = absl::Now() - start;
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_GE(took, deadline - absl::Milliseconds(50));
  EXPECT_LT(took, deadline + absl::Milliseconds(250));
  ExpectDeadlineExceeded(profile->customer().status(), "customer-svc");
  EXPECT_TRUE(Available(profile->recent_sales().status()));
}

// Statistics with every field the card shows.
ledger::v1::CustomerLedgerStats FullStats() {
  ledger::v1::CustomerLedgerStats stats;
  EXPECT_TRUE(google::protobuf::TextFormat::ParseFromString(
      R"pb(
        customer_id: "c-1"
        ledger_version: 9
        total_spent { amount_minor: 3001 currency_code: "IDR" }
        transaction_count: 2
        average_order { amount_minor: 1501 currency_code: "IDR" }
        balance { amount_minor: 1000 currency_code: "IDR" }
        credit { amount_minor: 50 currency_code: "IDR" }
        overdue_amount { amount_minor: 400 currency_code: "IDR" }
        days_overdue: 3
        as_of_date { year: 2026 month: 12 day: 3 }
        first_purchase_time { seconds: 1700000000 }
        last_purchase_time { seconds: 1760000000 }
      )pb",
      &stats));
  return stats;
}

TEST_F(CustomerProfileTest, LaggingProjectionFallsBackToTheLedger) {
  cards_.result =
      errors::Error(absl::StatusCode::kFailedPrecondition, "PROJECTION_LAGGING", "behind");
  *stub_.stats_response.mutable_stats() = FullStats();
  auto profile = Get();
  ASSERT_TRUE(profile.ok()) << profile.status();
  const v1::SummaryCardPart& part = profile->summary_card();
  EXPECT_TRUE(Available(part.status()));
  EXPECT_EQ(part.source(), v1::CARD_SOURCE_LEDGER);
  const report::v1::SummaryCard& card = part.card();
  EXPECT_EQ(card.customer_id(), kId);
  EXPECT_EQ(card.ledger_version(), 9);
  EXPECT_EQ(card.total_spent().amount_minor(), 3001);
  EXPECT_EQ(card.total_spent().currency_code(), "IDR");
  EXPECT_EQ(card.transaction_count(), 2);
  EXPECT_EQ(card.average_order().amount_minor(), 1501);
  EXPECT_EQ(card.balance().amount_minor(), 1000);
  EXPECT_EQ(card.credit().amount_minor(), 50);
  EXPECT_EQ(card.overdue_amount().amount_minor(), 400);
  EXPECT_EQ(card.days_overdue(), 3);
  EXPECT_EQ(card.as_of_date().day(), 3);
  EXPECT_EQ(card.first_purchase_time().seconds(), 1700000000);
  EXPECT_EQ(card.last_purchase_time().seconds(), 1760000000);
  EXPECT_EQ(card.segment(), report::v1::CUSTOMER_SEGMENT_UNSPECIFIED);
  EXPECT_EQ(stub_.stats_calls, 1);
}

TEST_F(CustomerProfileTest, ReportServiceDownFallsBackToTheLedger) {
  cards_.result = absl::UnavailableError("report-svc unreachable");
  *stub_.stats_response.mutable_stats() = FullStats();
  auto profile = Get();
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->summary_card().source(), v1::CARD_SOURCE_LEDGER);
  EXPECT_TRUE(Available(profile->summary_card().status()));
}

TEST_F(CustomerProfileTest, CardDeadlineFallsBackOnlyWhileTimeRemains) {
  cards_.result = absl::DeadlineExceededError("report-svc too slow");
  *stub_.stats_response.mutable_stats() = FullStats();
  auto early = Get();
  ASSERT_TRUE(early.ok()) << early.status();
  EXPECT_EQ(early->summary_card().source(), v1::CARD_SOURCE_LEDGER);
  EXPECT_EQ(stub_.stats_calls, 1);

  cards_.delay = absl::Milliseconds(400);  // past the parts' deadline
  auto late = Get(absl::Milliseconds(300));
  ASSERT_TRUE(late.ok()) << late.status();
  ExpectDeadlineExceeded(late->summary_card().status(), "report-svc");
  EXPECT_EQ(stub_.stats_calls, 1);
}

TEST_F(CustomerProfileTest, BothCardPathsFailingReportsTheCardError) {
  cards_.result = errors::Error(absl::StatusCode::kUnavailable, "PROJECTION_LAGGING", "behind");
  stub_.stats.status = grpc::Status(grpc::StatusCode::UNAVAILABLE, "ledger down");
  auto profile = Get();
  ASSERT_TRUE(profile.ok()) << profile.status();
  const v1::SummaryCardPart& part = profile->summary_card();
  EXPECT_EQ(part.status().availability(), v1::AVAILABILITY_UNAVAILABLE);
  EXPECT_FALSE(part.has_card());
  EXPECT_EQ(part.source(), v1::CARD_SOURCE_UNSPECIFIED);
  EXPECT_EQ(part.status().error().reason(), "PROJECTION_LAGGING");
  EXPECT_EQ(part.status().error().backend(), "report-svc");
  EXPECT_EQ(stub_.stats_calls, 1);
}

TEST_F(CustomerProfileTest, OtherCardErrorsDoNotAskTheLedger) {
  cards_.result = absl::PermissionDeniedError("no");
  auto profile = Get();
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->summary_card().status().availability(), v1::AVAILABILITY_UNAVAILABLE);
  EXPECT_EQ(profile->summary_card().status().error().code(), 7);
  EXPECT_EQ(stub_.stats_calls, 0);
}

TEST_F(CustomerProfileTest, CustomerNotFoundFailsTheCallWithCustomerSvcsError) {
  stub_.customer.status =
      WireError(absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND", "customer.kelola.id");
  auto profile = Get();
  ASSERT_EQ(profile.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(errors::Reason(profile.status()), "CUSTOMER_NOT_FOUND");
  // The gateway's boundary keeps customer-svc's domain.
  const grpc::Status wire = errors::ToGrpcStatus(profile.status(), "gateway.kelola.id");
  google::rpc::Status details;
  ASSERT_TRUE(details.ParseFromString(wire.error_details()));
  google::rpc::ErrorInfo info;
  ASSERT_TRUE(details.details(0).UnpackTo(&info));
  EXPECT_EQ(info.domain(), "customer.kelola.id");
}

TEST_F(CustomerProfileTest, AllPartsDownIsAllPartsUnavailable) {
  const grpc::Status down(grpc::StatusCode::UNAVAILABLE, "down");
  stub_.customer.status = stub_.sales.status = stub_.payments.status = stub_.stats.status = down;
  cards_.result = absl::UnavailableError("down");
  auto profile = Get();
  EXPECT_EQ(profile.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(errors::Reason(profile.status()), "ALL_PARTS_UNAVAILABLE");
}

TEST_F(CustomerProfileTest, InvalidArgumentsAreAllNamed) {
  request_.set_customer_id("");
  request_.set_recent_sales_limit(-1);
  request_.set_recent_payments_limit(51);
  auto profile = Get();
  ASSERT_EQ(profile.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(errors::Reason(profile.status()), "INVALID_ARGUMENT");
  std::vector<std::string> fields;
  for (const auto& v : errors::Violations(profile.status())) fields.push_back(v.field);
  EXPECT_EQ(fields, (std::vector<std::string>{"customer_id", "recent_sales_limit",
                                              "recent_payments_limit"}));
  EXPECT_EQ(cards_.min_version_seen, -1);  // nothing was fetched
}

TEST_F(CustomerProfileTest, MergedCustomerIsReturnedAsItIs) {
  customer::v1::Customer& c = *stub_.customer_response.mutable_customer();
  c.set_state(customer::v1::CUSTOMER_STATE_MERGED);
  c.set_merged_into_customer_id("c-9");
  auto profile = Get();
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->customer().customer().state(), customer::v1::CUSTOMER_STATE_MERGED);
  EXPECT_EQ(profile->customer().customer().merged_into_customer_id(), "c-9");
}

TEST_F(CustomerProfileTest, LoggingStubPassesCallsThrough) {
  stub_.payments.status =
      WireError(absl::StatusCode::kUnavailable, "STORE_UNAVAILABLE", "ledger.kelola.id");
  LoggingSuiteStub logged(std::shared_ptr<SuiteStub>(&stub_, [](SuiteStub*) {}));
  BackendCallPreparer preparer(signer_, absl::Seconds(5), absl::Minutes(1));
  CustomerProfiles profiles(logged, cards_, preparer);
  grpc::ServerContext incoming;
  auto profile = profiles.Get(incoming, principal_, request_);
  ASSERT_TRUE(profile.ok()) << profile.status();
  EXPECT_EQ(profile->recent_sales().sales_size(), 2);
  EXPECT_EQ(profile->recent_payments().status().error().reason(), "STORE_UNAVAILABLE");
}

}  // namespace
}  // namespace kelola::gateway
