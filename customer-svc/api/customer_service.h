#pragma once

// The complete kelola.customer.v1.CustomerService as served: the directory handlers of
// CustomerServiceImpl plus the query side (lists, search, duplicates), CSV import and
// CSV/PDF export, each delegated to its own class.

#include "customer-svc/api/customer_export.h"
#include "customer-svc/api/customer_import.h"
#include "customer-svc/api/customer_query_handlers.h"
#include "customer-svc/api/customer_service_impl.h"

namespace kelola::customer::api {

class CustomerService final : public CustomerServiceImpl {
 public:
  CustomerService(store::DirectoryStore& store, const Clock& clock, ids::IdGenerator& ids,
                  const phone::PhoneNormalizer& phones, const CustomerQueryHandlers& queries,
                  CustomerImporter& importer, CustomerExporter& exporter)
      : CustomerServiceImpl(store, clock, ids, phones),
        queries_(queries),
        importer_(importer),
        exporter_(exporter) {}

  grpc::Status ListCustomers(grpc::ServerContext* context, const v1::ListCustomersRequest* request,
                             v1::ListCustomersResponse* response) override {
    return queries_.List(context, request, response);
  }
  grpc::Status SearchCustomers(grpc::ServerContext* context,
                               const v1::SearchCustomersRequest* request,
                               v1::SearchCustomersResponse* response) override {
    return queries_.Search(context, request, response);
  }
  grpc::Status FindDuplicates(grpc::ServerContext* context,
                              const v1::FindDuplicatesRequest* request,
                              v1::FindDuplicatesResponse* response) override {
    return queries_.FindDuplicates(context, request, response);
  }
  grpc::Status ImportCustomers(grpc::ServerContext* context,
                               grpc::ServerReader<v1::ImportCustomersRequest>* reader,
                               v1::ImportCustomersResponse* response) override {
    return importer_.Import(context, reader, response);
  }
  grpc::Status ExportCustomers(grpc::ServerContext* context,
                               const v1::ExportCustomersRequest* request,
                               grpc::ServerWriter<v1::ExportCustomersResponse>* writer) override {
    return exporter_.Export(context, request, writer);
  }

 private:
  const CustomerQueryHandlers& queries_;
  CustomerImporter& importer_;
  CustomerExporter& exporter_;
};

}  // namespace kelola::customer::api
