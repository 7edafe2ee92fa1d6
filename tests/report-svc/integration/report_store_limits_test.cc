// The store limit of report-svc (report_service.proto, "Roles (G4)") through real processes
// that require the signed internal credential: a principal limited to some stores must name
// one of them in store_id for each tenant-wide report, else PERMISSION_DENIED
// (STORE_NOT_ALLOWED); summary cards are not limited, nor is a principal without a limit.

#include <memory>
#include <string>
#include <vector>

#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/auth/principal.h"
#include "libs/testing/cluster.h"

namespace kelola::testing {
namespace {

namespace rv1 = report::v1;

auth::Principal Manager(std::vector<std::string> stores) {
  auth::Principal p;
  p.id = "manager";
  p.tenant_id = "toko-a";
  p.roles = {auth::Role::kManager};
  p.stores = std::move(stores);
  return p;
}

// The ErrorInfo reason of a failed call ("" when none).
std::string Reason(const grpc::Status& status) {
  google::rpc::Status details;
  if (!details.ParseFromString(status.error_details())) return "";
  for (const auto& any : details.details()) {
    google::rpc::ErrorInfo info;
    if (any.UnpackTo(&info)) return info.reason();
  }
  return "";
}

void SetRange(type::v1::Date* start, type::v1::Date* end) {
  start->set_year(2026);
  start->set_month(1);
  start->set_day(1);
  end->set_year(2026);
  end->set_month(3);
  end->set_day(31);
}

class ReportStoreLimitsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ClusterOptions options;
    options.gateways = 0;
    options.dir_prefix = "kelola-report-stores";
    auto cluster = Cluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = std::move(cluster).value().release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    ASSERT_NE(cluster_, nullptr);
    reports_ = rv1::ReportService::NewStub(cluster_->Channel(*cluster_->report));
  }

  // Each tenant-wide report for `store` ("" = none named), as `who`: the statuses in the
  // order customer report, receivables, insights, series, export.
  std::vector<grpc::Status> AllReports(const auth::Principal& who, const std::string& store) {
    std::vector<grpc::Status> out;
    rv1::GetCustomerReportRequest customer;
    SetRange(customer.mutable_start_date(), customer.mutable_end_date());
    customer.set_store_id(store);
    rv1::GetCustomerReportResponse customer_resp;
    out.push_back(
        reports_->GetCustomerReport(cluster_->SignedContext(who).get(), customer, &customer_resp));
    rv1::GetReceivablesReportRequest receivables;
    receivables.set_store_id(store);
    rv1::GetReceivablesReportResponse receivables_resp;
    out.push_back(reports_->GetReceivablesReport(cluster_->SignedContext(who).get(), receivables,
                                                 &receivables_resp));
    rv1::ListCustomerInsightsRequest insights;
    insights.set_kind(rv1::INSIGHT_KIND_PAYMENT_REMINDER);
    if (!store.empty()) insights.set_filter("has_phone = true AND store_id = \"" + store + "\"");
    rv1::ListCustomerInsightsResponse insights_resp;
    out.push_back(reports_->ListCustomerInsights(cluster_->SignedContext(who).get(), insights,
                                                 &insights_resp));
    rv1::GetSeriesRequest series;
    series.set_metric(rv1::SERIES_METRIC_SALES);
    series.set_granularity(rv1::GRANULARITY_MONTH);
    SetRange(series.mutable_start_date(), series.mutable_end_date());
    series.set_store_id(store);
    rv1::GetSeriesResponse series_resp;
    out.push_back(reports_->GetSeries(cluster_->SignedContext(who).get(), series, &series_resp));
    rv1::ExportReportRequest export_request;
    *export_request.mutable_receivables_report() = receivables;
    export_request.set_format(rv1::EXPORT_FORMAT_CSV);
    auto ctx = cluster_->SignedContext(who);
    auto reader = reports_->ExportReport(ctx.get(), export_request);
    rv1::ExportReportResponse chunk;
    while (reader->Read(&chunk)) {
    }
    out.push_back(reader->Finish());
    return out;
  }

  static Cluster* cluster_;
  std::unique_ptr<rv1::ReportService::Stub> reports_;
};

Cluster* ReportStoreLimitsTest::cluster_ = nullptr;

TEST_F(ReportStoreLimitsTest, LimitedPrincipalMustNameOneOfItsStores) {
  const auth::Principal limited = Manager({"store-1", "store-2"});
  for (const std::string& store : {std::string(), std::string("store-3")}) {
    SCOPED_TRACE(store);
    for (const grpc::Status& status : AllReports(limited, store)) {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED) << status.error_message();
      EXPECT_EQ(Reason(status), "STORE_NOT_ALLOWED");
    }
  }
  for (const char* store : {"store-1", "store-2"}) {
    SCOPED_TRACE(store);
    for (const grpc::Status& status : AllReports(limited, store)) {
      EXPECT_TRUE(status.ok()) << status.error_message();
    }
  }
}

TEST_F(ReportStoreLimitsTest, InsightsFilterNamesTheStore) {
  const auth::Principal limited = Manager({"store-1"});
  auto list = [&](const std::string& filter) {
    rv1::ListCustomerInsightsRequest req;
    req.set_kind(rv1::INSIGHT_KIND_BEST);
    req.set_filter(filter);
    rv1::ListCustomerInsightsResponse resp;
    return reports_->ListCustomerInsights(cluster_->SignedContext(limited).get(), req, &resp);
  };
  EXPECT_EQ(Reason(list("marketing_consent = true")), "STORE_NOT_ALLOWED");
  EXPECT_EQ(Reason(list("store_id != \"store-1\"")), "STORE_NOT_ALLOWED");
  EXPECT_EQ(Reason(list("store_id = \"store-1\" AND store_id = \"store-9\"")), "STORE_NOT_ALLOWED");
  EXPECT_TRUE(list("store_id = \"store-1\"").ok());
  // A filter that cannot be read is refused as such, whoever asks.
  EXPECT_EQ(Reason(list("store_id = ")), "INVALID_FILTER");
}

TEST_F(ReportStoreLimitsTest, CardsAndUnlimitedPrincipalsAreNotLimited) {
  for (const grpc::Status& status : AllReports(Manager({}), "")) {
    EXPECT_TRUE(status.ok()) << status.error_message();
  }
  rv1::GetSummaryCardRequest req;
  req.set_customer_id("c-1");
  rv1::GetSummaryCardResponse resp;
  const grpc::Status status =
      reports_->GetSummaryCard(cluster_->SignedContext(Manager({"store-1"})).get(), req, &resp);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

}  // namespace
}  // namespace kelola::testing
