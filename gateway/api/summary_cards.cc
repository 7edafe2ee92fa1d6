#include "gateway/api/summary_cards.h"

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gateway/proxy/proxy_call.h"
#include "grpcpp/support/method_handler.h"
#include "libs/errors/errors.h"

namespace kelola::gateway {
namespace {

constexpr char kGetMethod[] = "/kelola.report.v1.ReportService/GetSummaryCard";
constexpr char kBatchMethod[] = "/kelola.report.v1.ReportService/BatchGetSummaryCards";
constexpr int kMaxBatch = 100;  // report-svc's own limit; larger requests get its error

// Runs one asynchronous stub call and waits for it (the call's deadline bounds the wait).
template <typename Call>
grpc::Status Await(Call call) {
  absl::Notification done;
  grpc::Status status;
  call([&](grpc::Status s) {
    status = std::move(s);
    done.Notify();
  });
  done.WaitForNotification();
  return status;
}

}  // namespace

CachedCards::CachedCards(CardCache& cache, SuiteStub& stub, const BackendCallPreparer& preparer,
                         metrics::Registry& registry)
    : cache_(cache), stub_(stub), preparer_(preparer), registry_(registry) {
  registry_.DeclareCounter("kelola_gateway_card_reads_total",
                           "Summary cards read by the gateway, by where they came from.");
}

void CachedCards::Count(const char* outcome) {
  registry_.Increment("kelola_gateway_card_reads_total", {{"source", outcome}});
}

absl::StatusOr<SourcedCard> CachedCards::Get(const grpc::ServerContextBase& incoming,
                                             const auth::Principal& principal,
                                             const std::string& customer_id,
                                             int64_t min_ledger_version) {
  const absl::Time deadline = preparer_.DeadlineOf(incoming);
  auto fetch = [&](int64_t min_version) -> absl::StatusOr<CachedCard> {
    grpc::ClientContext context;
    preparer_.Prepare(context, incoming, principal);
    report::v1::GetSummaryCardRequest request;
    request.set_customer_id(customer_id);
    request.set_min_ledger_version(min_version);
    report::v1::GetSummaryCardResponse response;
    grpc::Status status = Await([&](SuiteStub::Done done) {
      stub_.GetSummaryCard(&context, request, &response, std::move(done));
    });
    if (!status.ok()) return errors::FromGrpcStatus(status);
    return ToCachedCard(response.card());
  };
  auto read = cache_.Get(principal.tenant_id, customer_id, min_ledger_version, deadline, fetch);
  if (!read.ok()) {
    Count("error");
    return read.status();
  }
  SourcedCard out;
  if (!out.card.ParseFromString(read->card.bytes)) {
    return errors::Error(absl::StatusCode::kInternal, "INTERNAL", "a cached card is unreadable");
  }
  const bool cached = read->source == CardCache::Source::kCache;
  out.source = cached ? v1::CARD_SOURCE_CACHE : v1::CARD_SOURCE_REPORT_SERVICE;
  Count(cached ? "cache" : read->cache_status.ok() ? "report_service" : "cache_bypassed");
  return out;
}

absl::StatusOr<report::v1::BatchGetSummaryCardsResponse> CachedCards::FetchBatch(
    const grpc::ServerContextBase& incoming, const auth::Principal& principal,
    const report::v1::BatchGetSummaryCardsRequest& request) {
  grpc::ClientContext context;
  preparer_.Prepare(context, incoming, principal);
  report::v1::BatchGetSummaryCardsResponse response;
  grpc::Status status = Await([&](SuiteStub::Done done) {
    stub_.BatchGetSummaryCards(&context, request, &response, std::move(done));
  });
  if (!status.ok()) return errors::FromGrpcStatus(status);
  return response;
}

absl::StatusOr<report::v1::BatchGetSummaryCardsResponse> CachedCards::BatchGet(
    const grpc::ServerContextBase& incoming, const auth::Principal& principal,
    const report::v1::BatchGetSummaryCardsRequest& request) {
  const int count = request.customer_ids_size();
  bool valid = count > 0 && count <= kMaxBatch;
  for (const std::string& id : request.customer_ids()) valid = valid && !id.empty();
  // report-svc words the errors of a bad request.
  if (!valid) return FetchBatch(incoming, principal, request);

  const std::vector<std::string> ids(request.customer_ids().begin(), request.customer_ids().end());
  auto looked = cache_.BatchLookup(principal.tenant_id, ids, 0);
  if (!looked.ok()) return looked.status();
  report::v1::BatchGetSummaryCardsResponse out;
  report::v1::BatchGetSummaryCardsRequest misses;
  std::vector<int> miss_positions;
  for (int i = 0; i < count; ++i) {
    const CardLookup& lookup = (*looked)[i];
    auto asked = request.min_ledger_versions().find(ids[i]);
    const int64_t wanted = std::max(
        lookup.min_version, asked == request.min_ledger_versions().end() ? 0 : asked->second);
    report::v1::SummaryCard* card = out.add_cards();
    if (lookup.card && lookup.card->ledger_version >= wanted &&
        card->ParseFromString(lookup.card->bytes)) {
      Count("cache");
      continue;
    }
    misses.add_customer_ids(ids[i]);
    if (wanted > 0) (*misses.mutable_min_ledger_versions())[ids[i]] = wanted;
    miss_positions.push_back(i);
  }
  if (miss_positions.empty()) return out;
  auto fetched = FetchBatch(incoming, principal, misses);
  if (!fetched.ok()) return fetched.status();
  for (size_t j = 0; j < miss_positions.size() && j < size_t(fetched->cards_size()); ++j) {
    const report::v1::SummaryCard& card = fetched->cards(j);
    *out.mutable_cards(miss_positions[j]) = card;
    const CachedCard entry = ToCachedCard(card);
    (void)cache_.Fill(principal.tenant_id, misses.customer_ids(j), entry.ledger_version,
                      entry.bytes);
    Count("report_service");
  }
  return out;
}

grpc::Status SummaryCardHandlers::GetSummaryCard(grpc::ServerContext* context,
                                                 const report::v1::GetSummaryCardRequest* request,
                                                 report::v1::GetSummaryCardResponse* response) {
  auto principal = gatekeeper_.Admit(*context, kGetMethod);
  if (!principal.ok()) return errors::ToGrpcStatus(principal.status(), kGatewayDomain);
  auto card =
      cards_.Get(*context, **principal, request->customer_id(), request->min_ledger_version());
  if (!card.ok()) return errors::ToGrpcStatus(card.status(), kGatewayDomain);
  *response->mutable_card() = std::move(card->card);
  return grpc::Status::OK;
}

grpc::Status SummaryCardHandlers::BatchGetSummaryCards(
    grpc::ServerContext* context, const report::v1::BatchGetSummaryCardsRequest* request,
    report::v1::BatchGetSummaryCardsResponse* response) {
  auto principal = gatekeeper_.Admit(*context, kBatchMethod);
  if (!principal.ok()) return errors::ToGrpcStatus(principal.status(), kGatewayDomain);
  auto cards = cards_.BatchGet(*context, **principal, *request);
  if (!cards.ok()) return errors::ToGrpcStatus(cards.status(), kGatewayDomain);
  *response = *std::move(cards);
  return grpc::Status::OK;
}

grpc::internal::MethodHandler* SummaryCardHandlers::NewGetSummaryCardHandler() {
  return new grpc::internal::RpcMethodHandler<
      SummaryCardHandlers, report::v1::GetSummaryCardRequest, report::v1::GetSummaryCardResponse,
      grpc::protobuf::MessageLite, grpc::protobuf::MessageLite>(
      &SummaryCardHandlers::GetSummaryCard, this);
}

grpc::internal::MethodHandler* SummaryCardHandlers::NewBatchGetSummaryCardsHandler() {
  return new grpc::internal::RpcMethodHandler<
      SummaryCardHandlers, report::v1::BatchGetSummaryCardsRequest,
      report::v1::BatchGetSummaryCardsResponse, grpc::protobuf::MessageLite,
      grpc::protobuf::MessageLite>(&SummaryCardHandlers::BatchGetSummaryCards, this);
}

}  // namespace kelola::gateway
