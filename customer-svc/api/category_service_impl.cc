#include "customer-svc/api/category_service_impl.h"

#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "customer-svc/api/handler_support.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/domain/paging.h"
#include "customer-svc/domain/tenant_rules.h"
#include "libs/server/request_context.h"
#include "libs/text/normalize.h"

namespace kelola::customer::api {
namespace {

constexpr size_t kMaxCategoryNameChars = 100;
constexpr size_t kMaxDescriptionChars = 500;
constexpr int kMaxPriceEntriesPerCall = 1000;

void ValidateCategoryFields(const v1::Category& in, v1::Category& out, errors::FieldErrors& errors,
                            bool name, bool description, bool discount) {
  if (name) {
    auto n = text::TrimmedName(in.display_name(), kMaxCategoryNameChars);
    if (!n.ok()) {
      errors.Add("category.display_name", std::string(n.status().message()));
    } else {
      out.set_display_name(*n);
    }
  }
  if (description) {
    auto d = domain::FreeText(in.description(), kMaxDescriptionChars);
    if (!d.ok()) {
      errors.Add("category.description", std::string(d.status().message()));
    } else {
      out.set_description(*d);
    }
  }
  if (discount) {
    if (in.member_discount_basis_points() < 0 || in.member_discount_basis_points() > 10000) {
      errors.Add("category.member_discount_basis_points", "0-10000 basis points");
    } else {
      out.set_member_discount_basis_points(in.member_discount_basis_points());
    }
  }
}

}  // namespace

grpc::Status CategoryServiceImpl::CreateCategory(grpc::ServerContext* context,
                                                 const v1::CreateCategoryRequest* request,
                                                 v1::CreateCategoryResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CategoryService/CreateCategory");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  errors::FieldErrors errors;
  v1::Category category;
  ValidateCategoryFields(request->category(), category, errors, true, true, true);
  if (!request->category_id().empty() && !domain::IsValidCategoryId(request->category_id())) {
    errors.Add("category_id", "1-64 characters of A-Z a-z 0-9 _ -");
  }
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    errors.Add("request_id", std::string(s.message()));
  }
  if (!errors.empty()) return ToGrpc(errors.ToStatus());
  return ToGrpc(categories_.Create(rc->tenant_id, WriteKey(*rc, "CreateCategory", *request),
                                   {category, request->category_id()}, *response));
}

grpc::Status CategoryServiceImpl::GetCategory(grpc::ServerContext* context,
                                              const v1::GetCategoryRequest* request,
                                              v1::GetCategoryResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  if (request->category_id().empty()) return ToGrpc(InvalidField("category_id", "required"));
  return ToGrpc(
      categories_.Get(rc->tenant_id, request->category_id(), *response->mutable_category()));
}

grpc::Status CategoryServiceImpl::ListCategories(grpc::ServerContext* context,
                                                 const v1::ListCategoriesRequest* request,
                                                 v1::ListCategoriesResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  auto page_size = domain::EffectivePageSize(request->page_size(), 50, 200);
  if (!page_size.ok()) return ToGrpc(page_size.status());
  if (!request->order_by().empty() && request->order_by() != "display_name") {
    return ToGrpc(errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_ORDER_BY",
                                "categories are ordered by display_name", {},
                                {{"order_by", "only \"display_name\" is supported"}}));
  }
  return ToGrpc(categories_.List(rc->tenant_id, request->order_by(),
                                 {*page_size, request->page_token()}, *response));
}

grpc::Status CategoryServiceImpl::UpdateCategory(grpc::ServerContext* context,
                                                 const v1::UpdateCategoryRequest* request,
                                                 v1::UpdateCategoryResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CategoryService/UpdateCategory");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  bool name = false, description = false, discount = false;
  errors::FieldErrors errors;
  std::vector<std::string> paths(request->update_mask().paths().begin(),
                                 request->update_mask().paths().end());
  if (paths.empty() || (paths.size() == 1 && paths[0] == "*")) {
    name = description = discount = true;
  } else {
    for (size_t i = 0; i < paths.size(); ++i) {
      if (paths[i] == "display_name") {
        name = true;
      } else if (paths[i] == "description") {
        description = true;
      } else if (paths[i] == "member_discount_basis_points") {
        discount = true;
      } else {
        errors.Add(absl::StrCat("update_mask.paths[", i, "]"),
                   absl::StrCat("\"", paths[i], "\" is not an updatable field"));
      }
    }
    if (!errors.empty()) return ToGrpc(errors.ToStatus("INVALID_UPDATE_MASK"));
  }
  if (request->category().category_id().empty()) errors.Add("category.category_id", "required");
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    errors.Add("request_id", std::string(s.message()));
  }
  v1::Category patch;
  ValidateCategoryFields(request->category(), patch, errors, name, description, discount);
  if (!errors.empty()) return ToGrpc(errors.ToStatus());
  app::CategoryChange change{request->category().category_id(),
                             request->category().etag(),
                             patch,
                             name,
                             description,
                             discount};
  return ToGrpc(categories_.Update(rc->tenant_id, WriteKey(*rc, "UpdateCategory", *request), change,
                                   *response));
}

grpc::Status CategoryServiceImpl::DeleteCategory(grpc::ServerContext* context,
                                                 const v1::DeleteCategoryRequest* request,
                                                 v1::DeleteCategoryResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CategoryService/DeleteCategory");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  errors::FieldErrors errors;
  if (request->category_id().empty()) errors.Add("category_id", "required");
  if (!request->reassign_to_category_id().empty() &&
      request->reassign_to_category_id() == request->category_id()) {
    errors.Add("reassign_to_category_id", "must differ from the category being deleted");
  }
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    errors.Add("request_id", std::string(s.message()));
  }
  if (!errors.empty()) return ToGrpc(errors.ToStatus());
  const app::CategoryRemoval removal{request->category_id(), request->etag(),
                                     request->reassign_to_category_id()};
  return ToGrpc(categories_.Delete(rc->tenant_id, WriteKey(*rc, "DeleteCategory", *request),
                                   removal, *response));
}

grpc::Status CategoryServiceImpl::SetPriceListEntries(grpc::ServerContext* context,
                                                      const v1::SetPriceListEntriesRequest* request,
                                                      v1::SetPriceListEntriesResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CategoryService/SetPriceListEntries");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  errors::FieldErrors errors;
  if (request->category_id().empty()) errors.Add("category_id", "required");
  if (request->entries_size() == 0) errors.Add("entries", "at least one entry");
  if (request->entries_size() > kMaxPriceEntriesPerCall) {
    errors.Add("entries", absl::StrCat("at most ", kMaxPriceEntriesPerCall, " entries per call"));
  }
  std::set<std::string> skus;
  for (int i = 0; i < request->entries_size(); ++i) {
    const auto& e = request->entries(i);
    const std::string f = absl::StrCat("entries[", i, "]");
    if (e.sku().empty() || e.sku().size() > 100) {
      errors.Add(f + ".sku", "1-100 characters");
    } else if (!skus.insert(e.sku()).second) {
      errors.Add(f + ".sku", "repeated in this request");
    }
    if (!e.has_price()) {
      errors.Add(f + ".price", "required");
    } else if (e.price().amount_minor() < 0) {
      errors.Add(f + ".price.amount_minor", "must not be negative");
    }
  }
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    errors.Add("request_id", std::string(s.message()));
  }
  if (!errors.empty()) return ToGrpc(errors.ToStatus());
  const std::vector<v1::PriceListEntry> entries(request->entries().begin(),
                                                request->entries().end());
  return ToGrpc(categories_.SetPrices(rc->tenant_id, WriteKey(*rc, "SetPriceListEntries", *request),
                                      request->category_id(), entries, *response));
}

grpc::Status CategoryServiceImpl::DeletePriceListEntries(
    grpc::ServerContext* context, const v1::DeletePriceListEntriesRequest* request,
    v1::DeletePriceListEntriesResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CategoryService/DeletePriceListEntries");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  errors::FieldErrors errors;
  if (request->category_id().empty()) errors.Add("category_id", "required");
  if (request->skus_size() == 0) errors.Add("skus", "at least one sku");
  for (int i = 0; i < request->skus_size(); ++i) {
    if (request->skus(i).empty()) errors.Add(absl::StrCat("skus[", i, "]"), "empty sku");
  }
  if (auto s = domain::ValidateRequestId(request->request_id()); !s.ok()) {
    errors.Add("request_id", std::string(s.message()));
  }
  if (!errors.empty()) return ToGrpc(errors.ToStatus());
  const std::vector<std::string> skus(request->skus().begin(), request->skus().end());
  return ToGrpc(categories_.DeletePrices(rc->tenant_id,
                                         WriteKey(*rc, "DeletePriceListEntries", *request),
                                         request->category_id(), skus, *response));
}

grpc::Status CategoryServiceImpl::ListPriceListEntries(
    grpc::ServerContext* context, const v1::ListPriceListEntriesRequest* request,
    v1::ListPriceListEntriesResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  if (request->category_id().empty()) return ToGrpc(InvalidField("category_id", "required"));
  auto page_size = domain::EffectivePageSize(request->page_size(), 100, 1000);
  if (!page_size.ok()) return ToGrpc(page_size.status());
  const std::vector<std::string> skus(request->skus().begin(), request->skus().end());
  return ToGrpc(categories_.ListPrices(rc->tenant_id, request->category_id(), skus,
                                       {*page_size, request->page_token()}, *response));
}

}  // namespace kelola::customer::api
