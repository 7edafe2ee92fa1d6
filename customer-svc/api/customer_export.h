#pragma once

// CustomerService.ExportCustomers (C15) over gRPC: checks the request's shape and streams
// the file the use case writes (app/export_customers.h) in chunks of at most 64 KiB, the
// file's type and name on the first message and the row count on the last. See
// customer_service.proto and docs/decisions/customer-import-export.md.

#include "customer-svc/app/export_customers.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/directory_store.h"
#include "grpcpp/grpcpp.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "libs/clock/clock.h"

namespace kelola::customer::api {

class CustomerExporter {
 public:
  CustomerExporter(const store::CustomerQuery& query, store::DirectoryStore& store,
                   const Clock& clock, app::ExportLimits limits = {})
      : export_(store, query, clock, limits) {}

  grpc::Status Export(grpc::ServerContext* context, const v1::ExportCustomersRequest* request,
                      grpc::ServerWriter<v1::ExportCustomersResponse>* writer);

 private:
  const app::ExportCustomers export_;
};

}  // namespace kelola::customer::api
