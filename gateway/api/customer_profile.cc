#include "gateway/api/customer_profile.h"

#include <algorithm>
#include <memory>
#include <string>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gateway/proxy/proxy_call.h"
#include "google/rpc/error_details.pb.h"
#include "kelola/gateway/v1/error_reason.pb.h"
#include "libs/errors/errors.h"

namespace kelola::gateway {
namespace {

constexpr int32_t kDefaultLimit = 10;
constexpr int32_t kMaxLimit = 50;

std::string ReasonName(v1::ErrorReason reason) {
  return std::string(absl::StripPrefix(v1::ErrorReason_Name(reason), "ERROR_REASON_"));
}

google::rpc::ErrorInfo ErrorInfoOf(const absl::Status& status) {
  google::rpc::ErrorInfo info;
  const std::string url =
      absl::StrCat("type.googleapis.com/", google::rpc::ErrorInfo::descriptor()->full_name());
  if (auto payload = status.GetPayload(url); payload.has_value()) {
    info.ParseFromString(std::string(*payload));
  }
  return info;
}

// The part error of a failed fetch. A status without ErrorInfo comes from the transport
// (or the gateway gave up waiting), so the gateway names it.
v1::PartError PartErrorOf(const absl::Status& status, const char* backend) {
  v1::PartError error;
  error.set_code(static_cast<int32_t>(status.code()));
  error.set_message(std::string(status.message()));
  error.set_backend(backend);
  const google::rpc::ErrorInfo info = ErrorInfoOf(status);
  error.set_domain(info.domain().empty() ? kGatewayDomain : info.domain());
  if (!info.reason().empty()) {
    error.set_reason(info.reason());
  } else if (status.code() == absl::StatusCode::kUnavailable) {
    error.set_reason(ReasonName(v1::ERROR_REASON_BACKEND_UNAVAILABLE));
  } else {
    error.set_reason(errors::Reason(status));
  }
  return error;
}

void SetAvailable(v1::PartStatus* status) { status->set_availability(v1::AVAILABILITY_AVAILABLE); }

void SetUnavailable(v1::PartStatus* status, v1::PartError error) {
  status->set_availability(v1::AVAILABILITY_UNAVAILABLE);
  *status->mutable_error() = std::move(error);
}

absl::Status Validate(const v1::GetCustomerProfileRequest& request) {
  errors::FieldErrors errors;
  if (request.customer_id().empty()) errors.Add("customer_id", "required");
  auto check_limit = [&](const char* field, int32_t limit) {
    if (limit < 0 || limit > kMaxLimit) {
      errors.Add(field, absl::StrCat("must be between 0 and ", kMaxLimit, " (0 means ",
                                     kDefaultLimit, "), got ", limit));
    }
  };
  check_limit("recent_sales_limit", request.recent_sales_limit());
  check_limit("recent_payments_limit", request.recent_payments_limit());
  return errors.ToStatus(ReasonName(v1::ERROR_REASON_INVALID_ARGUMENT));
}

int32_t LimitOf(int32_t requested) { return requested == 0 ? kDefaultLimit : requested; }

// One backend call: what it sends, receives and how it ended.
template <typename Request, typename Response>
struct Call {
  grpc::ClientContext context;
  Request request;
  Response response;
  bool started = false;  // set before the call starts; read by the waiting thread only
  bool done = false;     // guarded by Fetch::mu
  grpc::Status status;   // guarded by Fetch::mu
};

// Everything the calls touch. Their callbacks share it, so a call the gateway stopped
// waiting for can still finish into it after Get() returned.
struct Fetch {
  absl::Mutex mu;
  int pending ABSL_GUARDED_BY(mu) = 0;
  Call<customer::v1::GetCustomerRequest, customer::v1::GetCustomerResponse> customer;
  Call<ledger::v1::ListSalesRequest, ledger::v1::ListSalesResponse> sales;
  Call<ledger::v1::ListPaymentsRequest, ledger::v1::ListPaymentsResponse> payments;
  Call<ledger::v1::GetCustomerLedgerStatsRequest, ledger::v1::GetCustomerLedgerStatsResponse> stats;
};

template <typename Request, typename Response>
using Method = void (SuiteStub::*)(grpc::ClientContext*, const Request&, Response*,
                                   SuiteStub::Done);

template <typename Request, typename Response>
void Start(SuiteStub& stub, Method<Request, Response> method, const std::shared_ptr<Fetch>& fetch,
           Call<Request, Response>& call) {
  {
    absl::MutexLock lock(&fetch->mu);
    ++fetch->pending;
  }
  call.started = true;
  (stub.*method)(&call.context, call.request, &call.response, [fetch, &call](grpc::Status status) {
    absl::MutexLock lock(&fetch->mu);
    call.status = std::move(status);
    call.done = true;
    --fetch->pending;
  });
}

// How a call ended, as the gateway decided: its status if it answered by the deadline,
// else DEADLINE_EXCEEDED.
struct Outcomes {
  absl::Status customer, sales, payments, stats;
};

// Waits until every started call answered or `deadline` passed, then cancels the rest.
Outcomes AwaitCalls(Fetch& fetch, absl::Time deadline) {
  Outcomes out;
  std::vector<grpc::ClientContext*> stragglers;
  fetch.mu.LockWhenWithDeadline(absl::Condition(
                                    +[](int* pending) { return *pending == 0; }, &fetch.pending),
                                deadline);
  auto outcome = [&](auto& call, const char* backend) {
    if (!call.started) return absl::OkStatus();
    if (call.done) return errors::FromGrpcStatus(call.status);
    stragglers.push_back(&call.context);
    return absl::DeadlineExceededError(
        absl::StrCat(backend, " did not answer before the deadline"));
  };
  out.customer = outcome(fetch.customer, kCustomerBackend);
  out.sales = outcome(fetch.sales, kLedgerBackend);
  out.payments = outcome(fetch.payments, kLedgerBackend);
  out.stats = outcome(fetch.stats, kLedgerBackend);
  fetch.mu.Unlock();
  // Outside the lock: a cancelled call's callback may run inline.
  for (grpc::ClientContext* context : stragglers) context->TryCancel();
  return out;
}

// Whether the ledger should stand in for report-svc: it is down or behind, and there is
// time left to ask.
bool WantsLedgerCard(const absl::Status& card_error, absl::Time deadline) {
  if (absl::Now() >= deadline) return false;
  return card_error.code() == absl::StatusCode::kUnavailable ||
         card_error.code() == absl::StatusCode::kDeadlineExceeded ||
         errors::Reason(card_error) == "PROJECTION_LAGGING";
}

// The card as report-svc would show it, from the ledger's own statistics of the same
// version. Not filled: the segment (report-svc computes it) and days_since_last_purchase
// (it needs the tenant's time zone, which the statistics do not carry).
report::v1::SummaryCard CardFromStats(const ledger::v1::CustomerLedgerStats& stats,
                                      const std::string& customer_id) {
  report::v1::SummaryCard card;
  card.set_customer_id(stats.customer_id().empty() ? customer_id : stats.customer_id());
  card.set_ledger_version(stats.ledger_version());
  *card.mutable_total_spent() = stats.total_spent();
  card.set_transaction_count(stats.transaction_count());
  // The ledger rounds it as report-svc shows it (half up); report-svc copies it too.
  *card.mutable_average_order() = stats.average_order();
  *card.mutable_balance() = stats.balance();
  *card.mutable_credit() = stats.credit();
  if (stats.has_first_purchase_time()) {
    *card.mutable_first_purchase_time() = stats.first_purchase_time();
  }
  if (stats.has_last_purchase_time()) {
    *card.mutable_last_purchase_time() = stats.last_purchase_time();
  }
  *card.mutable_overdue_amount() = stats.overdue_amount();
  card.set_days_overdue(stats.days_overdue());
  if (stats.has_as_of_date()) *card.mutable_as_of_date() = stats.as_of_date();
  card.set_merged_into_customer_id(stats.merged_into_customer_id());
  return card;
}

void FillCard(const absl::StatusOr<SourcedCard>& card, const absl::Status& stats_outcome,
              const Fetch& fetch, const std::string& customer_id, v1::SummaryCardPart* part) {
  if (card.ok()) {
    SetAvailable(part->mutable_status());
    *part->mutable_card() = card->card;
    part->set_source(card->source);
  } else if (fetch.stats.started && stats_outcome.ok()) {
    SetAvailable(part->mutable_status());
    *part->mutable_card() = CardFromStats(fetch.stats.response.stats(), customer_id);
    part->set_source(v1::CARD_SOURCE_LEDGER);
  } else {
    // The ledger was only a stand-in: report-svc's error says why there is no card.
    SetUnavailable(part->mutable_status(), PartErrorOf(card.status(), kReportBackend));
  }
}

// A ledger page (sales or payments) moved into its part, or the part's error.
template <typename Part, typename Rows>
void FillPage(const absl::Status& outcome, Rows* fetched, const std::string& next_page_token,
              Part& part, Rows* rows) {
  if (!outcome.ok()) {
    SetUnavailable(part.mutable_status(), PartErrorOf(outcome, kLedgerBackend));
    return;
  }
  SetAvailable(part.mutable_status());
  rows->Swap(fetched);
  part.set_next_page_token(next_page_token);
}

// The profile from the calls' outcomes; the responses read are those of calls that ended
// before the deadline, which nothing writes any more.
absl::StatusOr<v1::GetCustomerProfileResponse> Assemble(Fetch& fetch, const Outcomes& outcomes,
                                                        const absl::StatusOr<SourcedCard>& card,
                                                        const std::string& customer_id) {
  if (outcomes.customer.code() == absl::StatusCode::kNotFound) return outcomes.customer;
  v1::GetCustomerProfileResponse out;
  if (outcomes.customer.ok()) {
    SetAvailable(out.mutable_customer()->mutable_status());
    *out.mutable_customer()->mutable_customer() =
        std::move(*fetch.customer.response.mutable_customer());
  } else {
    SetUnavailable(out.mutable_customer()->mutable_status(),
                   PartErrorOf(outcomes.customer, kCustomerBackend));
  }
  FillPage(outcomes.sales, fetch.sales.response.mutable_sales(),
           fetch.sales.response.next_page_token(), *out.mutable_recent_sales(),
           out.mutable_recent_sales()->mutable_sales());
  FillPage(outcomes.payments, fetch.payments.response.mutable_payments(),
           fetch.payments.response.next_page_token(), *out.mutable_recent_payments(),
           out.mutable_recent_payments()->mutable_payments());
  FillCard(card, outcomes.stats, fetch, customer_id, out.mutable_summary_card());
  if (!outcomes.customer.ok() && !outcomes.sales.ok() && !outcomes.payments.ok() &&
      out.summary_card().status().availability() != v1::AVAILABILITY_AVAILABLE) {
    return errors::Error(absl::StatusCode::kUnavailable,
                         ReasonName(v1::ERROR_REASON_ALL_PARTS_UNAVAILABLE),
                         "no part of the customer profile could be fetched; retry with backoff");
  }
  return out;
}

}  // namespace

absl::StatusOr<v1::GetCustomerProfileResponse> CustomerProfiles::Get(
    const grpc::ServerContextBase& incoming, const auth::Principal& principal,
    const v1::GetCustomerProfileRequest& request) {
  if (absl::Status invalid = Validate(request); !invalid.ok()) return invalid;
  const std::string& id = request.customer_id();
  const absl::Time deadline =
      std::max(preparer_.DeadlineOf(incoming) - options_.reply_margin, absl::Now());
  auto prepare = [&](grpc::ClientContext& context) {
    preparer_.Prepare(context, incoming, principal);
    context.set_deadline(absl::ToChronoTime(deadline));
  };
  auto fetch = std::make_shared<Fetch>();
  fetch->customer.request.set_customer_id(id);
  fetch->sales.request.set_customer_id(id);
  fetch->sales.request.set_page_size(LimitOf(request.recent_sales_limit()));
  fetch->sales.request.set_view(ledger::v1::SALE_VIEW_BASIC);
  fetch->payments.request.set_customer_id(id);
  fetch->payments.request.set_page_size(LimitOf(request.recent_payments_limit()));
  // order_by stays empty: both lists default to newest first, and next_page_token then
  // continues the listing the contract names (default filter and order).
  prepare(fetch->customer.context);
  prepare(fetch->sales.context);
  prepare(fetch->payments.context);
  Start(stub_, &SuiteStub::GetCustomer, fetch, fetch->customer);
  Start(stub_, &SuiteStub::ListSales, fetch, fetch->sales);
  Start(stub_, &SuiteStub::ListPayments, fetch, fetch->payments);

  // Blocking, so on this thread while the others are in flight.
  absl::StatusOr<SourcedCard> card =
      cards_.Get(incoming, principal, id, request.min_ledger_version());
  if (!card.ok() && WantsLedgerCard(card.status(), deadline)) {
    fetch->stats.request.set_customer_id(id);
    prepare(fetch->stats.context);
    Start(stub_, &SuiteStub::GetCustomerLedgerStats, fetch, fetch->stats);
  }
  const Outcomes outcomes = AwaitCalls(*fetch, deadline);
  return Assemble(*fetch, outcomes, card, id);
}

}  // namespace kelola::gateway
