#pragma once

// The complete kelola.customer.v1.CustomerService as served: the directory handlers of
// CustomerServiceImpl plus the query side (lists, search, duplicates), CSV import,
// CSV/PDF export, delete (C4) and merge (C7), each delegated to its own class.

#include "customer-svc/api/customer_export.h"
#include "customer-svc/api/customer_import.h"
#include "customer-svc/api/customer_query_handlers.h"
#include "customer-svc/api/customer_service_impl.h"
#include "customer-svc/api/handler_support.h"
#include "customer-svc/app/customer_deletion.h"
#include "customer-svc/app/customer_merge_saga.h"
#include "libs/server/request_context.h"

namespace kelola::customer::api {

class CustomerService final : public CustomerServiceImpl {
 public:
  CustomerService(store::DirectoryStore& store, const Clock& clock, ids::IdGenerator& ids,
                  const phone::PhoneNormalizer& phones, const CustomerQueryHandlers& queries,
                  CustomerImporter& importer, CustomerExporter& exporter,
                  app::CustomerDeletion& deletion, app::CustomerMergeSaga& merges)
      : CustomerServiceImpl(store, clock, ids, phones),
        queries_(queries),
        importer_(importer),
        exporter_(exporter),
        deletion_(deletion),
        merges_(merges) {}

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
  grpc::Status DeleteCustomer(grpc::ServerContext* context,
                              const v1::DeleteCustomerRequest* request,
                              v1::DeleteCustomerResponse* /*response*/) override {
    if (absl::Status denied =
            server::Authorize(*context, "/kelola.customer.v1.CustomerService/DeleteCustomer");
        !denied.ok()) {
      return ToGrpc(denied);
    }
    auto rc = server::ReadRequestContext(*context);
    if (!rc.ok()) return ToGrpc(rc.status());
    return ToGrpc(deletion_.Delete(*rc, *request));
  }
  grpc::Status MergeCustomers(grpc::ServerContext* context,
                              const v1::MergeCustomersRequest* request,
                              v1::MergeCustomersResponse* response) override {
    if (absl::Status denied =
            server::Authorize(*context, "/kelola.customer.v1.CustomerService/MergeCustomers");
        !denied.ok()) {
      return ToGrpc(denied);
    }
    auto rc = server::ReadRequestContext(*context);
    if (!rc.ok()) return ToGrpc(rc.status());
    auto op = merges_.Merge(*rc, *request);
    if (!op.ok()) return ToGrpc(op.status());
    *response->mutable_merge_operation() = *std::move(op);
    return grpc::Status::OK;
  }
  grpc::Status GetMergeOperation(grpc::ServerContext* context,
                                 const v1::GetMergeOperationRequest* request,
                                 v1::GetMergeOperationResponse* response) override {
    auto rc = server::ReadRequestContext(*context);
    if (!rc.ok()) return ToGrpc(rc.status());
    auto op = merges_.Get(*rc, request->merge_operation_id());
    if (!op.ok()) return ToGrpc(op.status());
    *response->mutable_merge_operation() = *std::move(op);
    return grpc::Status::OK;
  }

 private:
  const CustomerQueryHandlers& queries_;
  CustomerImporter& importer_;
  CustomerExporter& exporter_;
  app::CustomerDeletion& deletion_;
  app::CustomerMergeSaga& merges_;
};

}  // namespace kelola::customer::api
