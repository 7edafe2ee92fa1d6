#pragma once

// customer-svc, ledger-svc and report-svc started as real processes for report-svc's
// integration tests, with a stub for each API; and the comparison of a summary card with
// ledger-svc's statistics of the same version.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"
#include "kelola/customer/v1/category_service.grpc.pb.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/customer/v1/tenant_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/testing/cluster.h"
#include "libs/testing/service_process.h"
#include "libs/testing/temp_dir.h"

namespace kelola::testing {

struct ReportCluster {
  std::unique_ptr<Cluster> processes;  // logs and SQLite files in processes->dir
  ServiceProcess* customer = nullptr;
  ServiceProcess* ledger = nullptr;
  ServiceProcess* report = nullptr;
  std::unique_ptr<customer::v1::CustomerService::Stub> customers;
  std::unique_ptr<customer::v1::CategoryService::Stub> categories;
  std::unique_ptr<customer::v1::TenantService::Stub> tenants;
  std::unique_ptr<ledger::v1::LedgerService::Stub> ledger_stub;
  std::unique_ptr<report::v1::ReportService::Stub> reports;
};

// The three services on `driver` ("sqlite" or "postgres"), each with a database of its own,
// report-svc following the other two.
absl::StatusOr<std::unique_ptr<ReportCluster>> StartReportCluster(const std::string& driver,
                                                                  const std::string& dir_prefix);

// Reads `customer_id`'s card demanding `ledger_version` (read-your-writes), asking again
// while report-svc answers UNAVAILABLE (each ask waits up to 5 s; a restart takes longer).
grpc::Status ReadCardAtVersion(report::v1::ReportService::Stub& reports, const std::string& tenant,
                               const std::string& customer_id, int64_t ledger_version,
                               report::v1::SummaryCard* card);

// ledger-svc's statistics of `customer_id` now.
absl::StatusOr<ledger::v1::CustomerLedgerStats> ReadLedgerStats(
    ledger::v1::LedgerService::Stub& ledger, const std::string& tenant,
    const std::string& customer_id);

// Every field of the card that is the ledger's own figure equals `truth` (gtest checks).
void ExpectCardEqualsLedger(const report::v1::SummaryCard& card,
                            const ledger::v1::CustomerLedgerStats& truth);

}  // namespace kelola::testing
