#pragma once

// app::LedgerProtocol over gRPC: calls ledger-svc's LedgerInternalService with the tenant in
// the metadata and a deadline per call.

#include <memory>

#include "absl/time/time.h"
#include "customer-svc/app/ledger_protocol.h"
#include "grpcpp/channel.h"
#include "kelola/ledger/v1/ledger_internal_service.grpc.pb.h"

namespace kelola::customer::api {

class GrpcLedgerProtocol final : public app::LedgerProtocol {
 public:
  explicit GrpcLedgerProtocol(std::shared_ptr<grpc::Channel> channel,
                              absl::Duration timeout = absl::Seconds(5));

  absl::Status Seal(const app::LedgerTenant& tenant, const std::string& seal_id,
                    const std::string& customer_id) override;
  absl::StatusOr<bool> Unseal(const app::LedgerTenant& tenant, const std::string& seal_id,
                              const std::string& customer_id) override;
  absl::Status Reassign(const app::LedgerTenant& tenant, const std::string& operation_id,
                        const std::string& source_customer_id,
                        const std::string& target_customer_id) override;

 private:
  std::unique_ptr<grpc::ClientContext> Context(const app::LedgerTenant& tenant) const;

  std::unique_ptr<ledger::v1::LedgerInternalService::Stub> stub_;
  absl::Duration timeout_;
};

}  // namespace kelola::customer::api
