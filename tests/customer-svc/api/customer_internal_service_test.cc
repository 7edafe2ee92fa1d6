// CustomerInternalService.CheckCustomerForSale: what the ledger asks before a sale.

#include "tests/customer-svc/api/api_fixture.h"

namespace kelola::customer::testing_support {
namespace {

class CustomerInternalServiceTest : public DirectoryApiTest {
 protected:
  grpc::Status Check(const std::string& id, v1::CheckCustomerForSaleResponse* out,
                     const std::string& tenant = "t1") {
    v1::CheckCustomerForSaleRequest request;
    request.set_customer_id(id);
    return internal_->CheckCustomerForSale(Ctx(tenant).get(), request, out);
  }
};

TEST_P(CustomerInternalServiceTest, OnlyActiveCustomersMayBuy) {
  v1::Customer siti = MustCreate("Siti Nurhaliza", "0812-1111-2222");
  v1::CheckCustomerForSaleResponse answer;
  ASSERT_TRUE(Check(siti.customer_id(), &answer).ok());
  EXPECT_TRUE(answer.allowed());
  EXPECT_EQ(answer.state(), v1::CUSTOMER_STATE_ACTIVE);
  EXPECT_EQ(answer.customer_version(), 1);

  v1::ArchiveCustomerRequest archive;
  archive.set_customer_id(siti.customer_id());
  v1::ArchiveCustomerResponse archived;
  ASSERT_TRUE(customers_->ArchiveCustomer(Ctx().get(), archive, &archived).ok());
  ASSERT_TRUE(Check(siti.customer_id(), &answer).ok());
  EXPECT_FALSE(answer.allowed());
  EXPECT_EQ(answer.state(), v1::CUSTOMER_STATE_ARCHIVED);
  EXPECT_EQ(answer.customer_version(), 2);
}

TEST_P(CustomerInternalServiceTest, UnknownForeignAndMalformedIds) {
  v1::Customer budi = MustCreate("Budi Santoso");
  v1::CheckCustomerForSaleResponse answer;
  grpc::Status other_tenant = Check(budi.customer_id(), &answer, "t2");
  EXPECT_EQ(other_tenant.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(errors::Reason(Decode(other_tenant)), "CUSTOMER_NOT_FOUND");
  EXPECT_EQ(Check("0190f7a4-3c1e-7b5a-9d2e-1f0a2b3c4d5e", &answer).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::Status malformed = Check("budi", &answer);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(ViolationFields(malformed), ::testing::ElementsAre("customer_id"));

  grpc::ClientContext no_tenant;
  v1::CheckCustomerForSaleRequest request;
  request.set_customer_id(budi.customer_id());
  EXPECT_EQ(internal_->CheckCustomerForSale(&no_tenant, request, &answer).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

INSTANTIATE_TEST_SUITE_P(Drivers, CustomerInternalServiceTest,
                         ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::customer::testing_support
