// GrpcCustomerDirectory against real gRPC servers: customer-svc's generated base
// (UNIMPLEMENTED, as an older customer-svc would answer), a scripted implementation, and no
// server at all.

#include "ledger-svc/api/grpc_customer_directory.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/errors/errors.h"
#include "libs/testing/free_port.h"

namespace kelola::ledger {
namespace {

namespace cv1 = customer::v1;

class ScriptedCustomers final : public cv1::CustomerInternalService::Service {
 public:
  grpc::Status CheckCustomerForSale(grpc::ServerContext* context,
                                    const cv1::CheckCustomerForSaleRequest* request,
                                    cv1::CheckCustomerForSaleResponse* response) override {
    auto tenant = context->client_metadata().find("x-kelola-tenant");
    if (tenant == context->client_metadata().end() || tenant->second != "t1") {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no tenant");
    }
    const std::string& id = request->customer_id();
    if (id == "missing") return grpc::Status(grpc::StatusCode::NOT_FOUND, "no such customer");
    if (id == "active") {
      response->set_allowed(true);
      response->set_state(cv1::CUSTOMER_STATE_ACTIVE);
      response->set_category_id("vip");
    } else if (id == "archived") {
      response->set_state(cv1::CUSTOMER_STATE_ARCHIVED);
    } else if (id == "merged") {
      response->set_state(cv1::CUSTOMER_STATE_MERGED);
      response->set_merged_into_customer_id("survivor");
    } else if (id == "liar") {
      response->set_allowed(true);  // allowed but not ACTIVE: never trusted
      response->set_state(cv1::CUSTOMER_STATE_MERGING);
    }
    return grpc::Status::OK;
  }
};

struct Server {
  std::unique_ptr<grpc::Server> server;
  int port = 0;
};

Server Start(grpc::Service* service) {
  Server s;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &s.port);
  builder.RegisterService(service);
  s.server = builder.BuildAndStart();
  return s;
}

std::shared_ptr<grpc::Channel> ChannelTo(int port) {
  return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
}

TEST(GrpcCustomerDirectoryTest, UnimplementedCustomerServiceIsUnavailableNeverAllowed) {
  cv1::CustomerInternalService::Service base;  // answers UNIMPLEMENTED
  Server server = Start(&base);
  GrpcCustomerDirectory directory(ChannelTo(server.port));
  auto check = directory.CheckForSale("t1", "anyone");
  EXPECT_EQ(check.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(errors::Reason(check.status()), "CUSTOMER_SERVICE_UNAVAILABLE");
  server.server->Shutdown();
}

TEST(GrpcCustomerDirectoryTest, NoServerIsUnavailable) {
  auto port = testing::PickFreePort();
  ASSERT_TRUE(port.ok());
  GrpcCustomerDirectory directory(ChannelTo(*port), absl::Milliseconds(300));
  auto check = directory.CheckForSale("t1", "anyone");
  EXPECT_EQ(check.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(errors::Reason(check.status()), "CUSTOMER_SERVICE_UNAVAILABLE");
}

TEST(GrpcCustomerDirectoryTest, MapsCustomerStates) {
  ScriptedCustomers customers;
  Server server = Start(&customers);
  GrpcCustomerDirectory directory(ChannelTo(server.port));
  auto active = directory.CheckForSale("t1", "active");
  ASSERT_TRUE(active.ok()) << active.status();
  EXPECT_EQ(active->category_id, "vip");
  auto missing = directory.CheckForSale("t1", "missing");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(errors::Reason(missing.status()), "CUSTOMER_NOT_FOUND");
  auto archived = directory.CheckForSale("t1", "archived");
  EXPECT_EQ(archived.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(errors::Reason(archived.status()), "CUSTOMER_ARCHIVED");
  auto merged = directory.CheckForSale("t1", "merged");
  EXPECT_EQ(errors::Reason(merged.status()), "CUSTOMER_MERGED");
  EXPECT_EQ(errors::GetMetadata(merged.status())["merged_into_customer_id"], "survivor");
  EXPECT_FALSE(directory.CheckForSale("t1", "liar").ok());
  // The tenant is forwarded: another tenant is refused by customer-svc, and the ledger
  // treats anything unexpected as unavailable.
  EXPECT_EQ(directory.CheckForSale("t2", "active").status().code(), absl::StatusCode::kUnavailable);
  server.server->Shutdown();
}

}  // namespace
}  // namespace kelola::ledger
