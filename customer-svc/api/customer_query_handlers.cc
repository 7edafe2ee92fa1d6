#include "customer-svc/api/customer_query_handlers.h"

#include "customer-svc/api/handler_support.h"
#include "customer-svc/app/customer_stats.h"
#include "libs/server/request_context.h"
#include "libs/time/time.h"

namespace kelola::customer::api {
namespace {

// A stored customer with its ledger stats, in the tenant's currency.
absl::Status ToCustomer(const std::string& data, const store::CustomerStatsRecord& stats,
                        const std::string& currency, v1::Customer* out) {
  if (!out->ParseFromString(data)) return absl::InternalError("unreadable stored customer");
  time::ClampStoredTimestamps(out);
  app::SetStats(stats, currency, out);
  return absl::OkStatus();
}

}  // namespace

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
  absl::Status status = store_.Read(caller->tenant_id, [&](store::DirectoryTx& tx) -> absl::Status {
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    auto page = query_.List(tx.transaction(), caller->tenant_id, spec);
    if (!page.ok()) return page.status();
    for (const store::ListItem& item : page->items) {
      if (auto s = ToCustomer(item.data, item.stats, settings->settings.currency_code(),
                              response->add_customers());
          !s.ok()) {
        return s;
      }
    }
    response->set_next_page_token(page->next_page_token);
    response->set_total_size(static_cast<int32_t>(page->total_size.value_or(0)));
    return absl::OkStatus();
  });
  if (!status.ok()) response->Clear();
  return ToGrpc(status);
}

grpc::Status CustomerQueryHandlers::Search(grpc::ServerContext* context,
                                           const v1::SearchCustomersRequest* request,
                                           v1::SearchCustomersResponse* response) const {
  auto caller = server::ReadRequestContext(*context);
  if (!caller.ok()) return ToGrpc(caller.status());
  // Waits for the tenant's index before taking a connection, which its load may need.
  if (absl::Status ready = query_.AwaitSearchIndex(caller->tenant_id); !ready.ok()) {
    return ToGrpc(ready);
  }
  absl::Status status = store_.Read(caller->tenant_id, [&](store::DirectoryTx& tx) -> absl::Status {
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    store::SearchOptions options;
    options.query = request->query();
    options.page_size = request->page_size();
    options.page_token = request->page_token();
    options.filter = request->filter();
    options.order_by = request->order_by();
    options.show_archived = request->show_archived();
    options.phone_region = settings->settings.default_phone_region();
    auto page = query_.Search(tx.transaction(), caller->tenant_id, options);
    if (!page.ok()) return page.status();
    for (const store::SearchHit& hit : page->hits) {
      v1::CustomerSearchResult* result = response->add_results();
      if (auto s = ToCustomer(hit.data, hit.stats, settings->settings.currency_code(),
                              result->mutable_customer());
          !s.ok()) {
        return s;
      }
      result->set_score(hit.score);
      for (const store::SearchMatchInfo& match : hit.matches) {
        v1::SearchMatch* m = result->add_matches();
        m->set_field(match.field);
        m->set_value(match.value);
        m->set_exact(match.exact);
      }
    }
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
  if (!status.ok()) response->Clear();
  return ToGrpc(status);
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
  if (absl::Status ready = query_.AwaitSearchIndex(caller->tenant_id); !ready.ok()) {
    return ToGrpc(ready);
  }
  absl::Status status = store_.Read(caller->tenant_id, [&](store::DirectoryTx& tx) -> absl::Status {
    auto page = query_.FindDuplicates(tx.transaction(), caller->tenant_id, options);
    if (!page.ok()) return page.status();
    for (const store::DuplicatePairInfo& info : page->pairs) {
      v1::DuplicatePair* pair = response->add_pairs();
      if (!pair->mutable_first()->ParseFromString(info.first_data) ||
          !pair->mutable_second()->ParseFromString(info.second_data)) {
        return absl::InternalError("unreadable stored customer");
      }
      pair->set_score(info.score);
      for (v1::DuplicateReason reason : info.reasons) pair->add_reasons(reason);
    }
    response->set_next_page_token(page->next_page_token);
    return absl::OkStatus();
  });
  if (!status.ok()) response->Clear();
  return ToGrpc(status);
}

}  // namespace kelola::customer::api
