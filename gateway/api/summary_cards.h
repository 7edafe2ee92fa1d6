#pragma once

// Summary cards through the Redis card cache (G3): ReportService.GetSummaryCard and
// BatchGetSummaryCards as the gateway serves them, and the CardSource of the profile.
//
// A read looks the card up in Redis (one round trip); a hit is served when its
// ledger_version is at least the request's min_ledger_version and the last version any
// gateway saw written (read-your-writes across replicas). A miss asks report-svc for a
// card of at least that version (one fetch per card at a time in this process) and fills
// the cache. Redis down or slow: the cache is bypassed (circuit breaker), report-svc
// answers, only latency rises. report-svc's errors pass through as they are.

#include <memory>
#include <string>

#include "gateway/api/card_source.h"
#include "gateway/auth/gatekeeper.h"
#include "gateway/backends/backend_call.h"
#include "gateway/backends/suite_stub.h"
#include "gateway/cache/card_cache.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/metrics/metrics.h"

namespace kelola::gateway {

class CachedCards final : public CardSource {
 public:
  CachedCards(CardCache& cache, SuiteStub& stub, const BackendCallPreparer& preparer,
              metrics::Registry& registry);

  absl::StatusOr<SourcedCard> Get(const grpc::ServerContextBase& incoming,
                                  const auth::Principal& principal, const std::string& customer_id,
                                  int64_t min_ledger_version) override;

  absl::StatusOr<report::v1::BatchGetSummaryCardsResponse> BatchGet(
      const grpc::ServerContextBase& incoming, const auth::Principal& principal,
      const report::v1::BatchGetSummaryCardsRequest& request);

 private:
  // report-svc's cards of `request`, blocking until they come or the deadline passes.
  absl::StatusOr<report::v1::BatchGetSummaryCardsResponse> FetchBatch(
      const grpc::ServerContextBase& incoming, const auth::Principal& principal,
      const report::v1::BatchGetSummaryCardsRequest& request);
  void Count(const char* outcome);

  CardCache& cache_;
  SuiteStub& stub_;
  const BackendCallPreparer& preparer_;
  metrics::Registry& registry_;
};

// The two card methods of ReportService as the gateway's own handlers (the rest of the
// service is forwarded): admission, then CachedCards.
class SummaryCardHandlers {
 public:
  SummaryCardHandlers(Gatekeeper& gatekeeper, CachedCards& cards)
      : gatekeeper_(gatekeeper), cards_(cards) {}

  grpc::Status GetSummaryCard(grpc::ServerContext* context,
                              const report::v1::GetSummaryCardRequest* request,
                              report::v1::GetSummaryCardResponse* response);
  grpc::Status BatchGetSummaryCards(grpc::ServerContext* context,
                                    const report::v1::BatchGetSummaryCardsRequest* request,
                                    report::v1::BatchGetSummaryCardsResponse* response);

  // gRPC method handlers for ForwardingService's `local` map (owned by the service).
  grpc::internal::MethodHandler* NewGetSummaryCardHandler();
  grpc::internal::MethodHandler* NewBatchGetSummaryCardsHandler();

 private:
  Gatekeeper& gatekeeper_;
  CachedCards& cards_;
};

}  // namespace kelola::gateway
