#pragma once

// CustomerService.ExportCustomers (C15): the customers of a ListCustomers query as a CSV
// file for Excel or a PDF table, streamed in chunks of at most 64 KiB. The list is read in
// pages through store::CustomerQuery::List (one short read transaction per page) and each
// page is written out before the next is read, so memory stays bounded by one page and the
// writer's buffer whatever the number of customers. See customer_service.proto and
// docs/decisions/customer-import-export.md.

#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/directory_store.h"
#include "grpcpp/grpcpp.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"

namespace kelola::customer::api {

struct ExportLimits {
  int page_size = 500;            // customers per read transaction (List's maximum)
  size_t chunk_bytes = 64 << 10;  // bytes per response message
};

class CustomerExporter {
 public:
  // `db` is the database `store` and `query` work on.
  CustomerExporter(db::Database& db, const store::CustomerQuery& query,
                   store::DirectoryStore& store, const Clock& clock, ExportLimits limits = {})
      : db_(db), query_(query), store_(store), clock_(clock), limits_(limits) {}

  grpc::Status Export(grpc::ServerContext* context, const v1::ExportCustomersRequest* request,
                      grpc::ServerWriter<v1::ExportCustomersResponse>* writer);

 private:
  db::Database& db_;
  const store::CustomerQuery& query_;
  store::DirectoryStore& store_;
  const Clock& clock_;
  const ExportLimits limits_;
};

}  // namespace kelola::customer::api
