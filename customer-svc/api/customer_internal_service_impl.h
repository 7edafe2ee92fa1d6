#pragma once

// gRPC handlers of kelola.customer.v1.CustomerInternalService: questions other services
// of the suite ask the directory (never exposed by the gateway).

#include "customer-svc/app/read_customers.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer_internal_service.grpc.pb.h"

namespace kelola::customer::api {

class CustomerInternalServiceImpl : public v1::CustomerInternalService::Service {
 public:
  explicit CustomerInternalServiceImpl(store::DirectoryStore& store) : reads_(store) {}

  // May a sale be recorded for this customer? Only ACTIVE customers may buy; a merged
  // customer names its survivor. NOT_FOUND for an unknown customer (or another tenant's).
  grpc::Status CheckCustomerForSale(grpc::ServerContext* context,
                                    const v1::CheckCustomerForSaleRequest* request,
                                    v1::CheckCustomerForSaleResponse* response) override;

 private:
  const app::ReadCustomers reads_;
};

}  // namespace kelola::customer::api
