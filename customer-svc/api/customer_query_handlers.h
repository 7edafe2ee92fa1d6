#pragma once

// The query side of kelola.customer.v1.CustomerService: ListCustomers (C12/C13),
// SearchCustomers (C11) and FindDuplicates (C7). CustomerService delegates to it; it maps
// the requests to their use cases (app/query_customers.h).

#include "customer-svc/app/query_customers.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/directory_store.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/status.h"
#include "kelola/customer/v1/customer_service.pb.h"

namespace kelola::customer::api {

class CustomerQueryHandlers {
 public:
  CustomerQueryHandlers(store::DirectoryStore& store, const store::CustomerQuery& query)
      : queries_(store, query) {}

  grpc::Status List(grpc::ServerContext* context, const v1::ListCustomersRequest* request,
                    v1::ListCustomersResponse* response) const;
  grpc::Status Search(grpc::ServerContext* context, const v1::SearchCustomersRequest* request,
                      v1::SearchCustomersResponse* response) const;
  grpc::Status FindDuplicates(grpc::ServerContext* context,
                              const v1::FindDuplicatesRequest* request,
                              v1::FindDuplicatesResponse* response) const;

 private:
  const app::QueryCustomers queries_;
};

}  // namespace kelola::customer::api
