#include "customer-svc/api/customer_query_handlers.h"

#include "customer-svc/api/handler_support.h"
#include "libs/server/request_context.h"

namespace kelola::customer::api {

grpc::Status CustomerQueryHandlers::List(grpc::ServerContext* context,
                                         const v1::ListCustomersRequest* request,
                                         v1::ListCustomersResponse* response) const {
  auto caller = server::ReadRequestContext(*context);
  if (!caller.ok()) return ToGrpc(caller.status());
  store::ListSpec spec;
  spec.filter = request->filter();
  spec.order_by = request->order_by();
  spec.page_size = request->page_size();
  spec.page_token = request->page_token();
  spec.show_archived = request->show_archived();
  spec.want_total_size = request->include_total_size();
  return ToGrpc(queries_.List(caller->tenant_id, spec, *response));
}

grpc::Status CustomerQueryHandlers::Search(grpc::ServerContext* context,
                                           const v1::SearchCustomersRequest* request,
                                           v1::SearchCustomersResponse* response) const {
  auto caller = server::ReadRequestContext(*context);
  if (!caller.ok()) return ToGrpc(caller.status());
  store::SearchOptions options;
  options.query = request->query();
  options.page_size = request->page_size();
  options.page_token = request->page_token();
  options.filter = request->filter();
  options.order_by = request->order_by();
  options.show_archived = request->show_archived();
  return ToGrpc(queries_.Search(caller->tenant_id, options, *response));
}

grpc::Status CustomerQueryHandlers::FindDuplicates(grpc::ServerContext* context,
                                                   const v1::FindDuplicatesRequest* request,
                                                   v1::FindDuplicatesResponse* response) const {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CustomerService/FindDuplicates");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto caller = server::ReadRequestContext(*context);
  if (!caller.ok()) return ToGrpc(caller.status());
  store::DuplicateOptions options;
  options.customer_id = request->customer_id();
  options.min_score = request->min_score();
  options.show_archived = request->show_archived();
  options.page_size = request->page_size();
  options.page_token = request->page_token();
  return ToGrpc(queries_.FindDuplicates(caller->tenant_id, options, *response));
}

}  // namespace kelola::customer::api
