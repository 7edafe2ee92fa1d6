#pragma once

// Where the gateway gets a customer's summary card: the Redis card cache in front of
// report-svc (G3). GetSummaryCard, BatchGetSummaryCards and GetCustomerProfile all read
// cards through this port.

#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"
#include "kelola/gateway/v1/gateway_service.pb.h"
#include "kelola/report/v1/summary_card.pb.h"
#include "libs/auth/principal.h"

namespace kelola::gateway {

struct SourcedCard {
  report::v1::SummaryCard card;
  v1::CardSource source = v1::CARD_SOURCE_UNSPECIFIED;
};

class CardSource {
 public:
  virtual ~CardSource() = default;
  // The card of `customer_id`, at least `min_ledger_version` new (0: any, though the
  // gateway still applies the last version it saw written), read under the incoming
  // call's deadline. report-svc's errors come back as they are (e.g. FAILED_PRECONDITION
  // PROJECTION_LAGGING, UNAVAILABLE).
  virtual absl::StatusOr<SourcedCard> Get(const grpc::ServerContextBase& incoming,
                                          const auth::Principal& principal,
                                          const std::string& customer_id,
                                          int64_t min_ledger_version) = 0;
};

}  // namespace kelola::gateway
