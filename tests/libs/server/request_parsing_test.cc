#include "libs/server/request_parsing.h"

#include "gtest/gtest.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "kelola/ledger/v1/ledger_service.pb.h"

namespace kelola::server {
namespace {

TEST(RequestFieldPathTest, NamesTheFieldByItsRequestPath) {
  // Linked in, as in the services that serve them.
  ASSERT_NE(customer::v1::CreateCustomerRequest::descriptor(), nullptr);
  ASSERT_NE(ledger::v1::RecordSaleRequest::descriptor(), nullptr);
  EXPECT_EQ(RequestFieldPath("/kelola.customer.v1.CustomerService/CreateCustomer",
                             "kelola.customer.v1.Customer.display_name"),
            "customer.display_name");
  EXPECT_EQ(RequestFieldPath("/kelola.customer.v1.CustomerService/CreateCustomer",
                             "kelola.customer.v1.CreateCustomerRequest.request_id"),
            "request_id");
  // Repeated fields are named without an index.
  EXPECT_EQ(RequestFieldPath("/kelola.ledger.v1.LedgerService/RecordSale",
                             "kelola.ledger.v1.SaleItem.name"),
            "items.name");
}

TEST(RequestFieldPathTest, FallsBackToTheQualifiedName) {
  EXPECT_EQ(RequestFieldPath("/kelola.customer.v1.CustomerService/CreateCustomer",
                             "kelola.ledger.v1.SaleItem.name"),
            "kelola.ledger.v1.SaleItem.name");
  EXPECT_EQ(RequestFieldPath("/no.such.Service/Method", "a.B.c"), "a.B.c");
  EXPECT_EQ(RequestFieldPath("garbage", "a.B.c"), "a.B.c");
}

TEST(ErrorDomainTest, FollowsTheServiceName) {
  EXPECT_EQ(ErrorDomainOf("customer-svc"), "customer.kelola.id");
  EXPECT_EQ(ErrorDomainOf("ledger-svc"), "ledger.kelola.id");
  EXPECT_EQ(ErrorDomainOf("gateway"), "gateway.kelola.id");
  EXPECT_EQ(ErrorDomainOf(""), "kelola.id");
}

}  // namespace
}  // namespace kelola::server
