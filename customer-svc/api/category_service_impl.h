#pragma once

// gRPC handlers of kelola.customer.v1.CategoryService (C9, C10): categories with their
// default set per tenant, member discounts and price lists. Each checks the request's shape
// and hands a command to its use case (app/manage_categories.h).

#include "customer-svc/app/manage_categories.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/category_service.grpc.pb.h"
#include "libs/clock/clock.h"
#include "libs/ids/ids.h"

namespace kelola::customer::api {

class CategoryServiceImpl : public v1::CategoryService::Service {
 public:
  CategoryServiceImpl(store::DirectoryStore& store, ids::IdGenerator& ids)
      : categories_(store, ids) {}

  grpc::Status CreateCategory(grpc::ServerContext* context,
                              const v1::CreateCategoryRequest* request,
                              v1::CreateCategoryResponse* response) override;
  grpc::Status GetCategory(grpc::ServerContext* context, const v1::GetCategoryRequest* request,
                           v1::GetCategoryResponse* response) override;
  grpc::Status ListCategories(grpc::ServerContext* context,
                              const v1::ListCategoriesRequest* request,
                              v1::ListCategoriesResponse* response) override;
  grpc::Status UpdateCategory(grpc::ServerContext* context,
                              const v1::UpdateCategoryRequest* request,
                              v1::UpdateCategoryResponse* response) override;
  grpc::Status DeleteCategory(grpc::ServerContext* context,
                              const v1::DeleteCategoryRequest* request,
                              v1::DeleteCategoryResponse* response) override;
  grpc::Status SetPriceListEntries(grpc::ServerContext* context,
                                   const v1::SetPriceListEntriesRequest* request,
                                   v1::SetPriceListEntriesResponse* response) override;
  grpc::Status DeletePriceListEntries(grpc::ServerContext* context,
                                      const v1::DeletePriceListEntriesRequest* request,
                                      v1::DeletePriceListEntriesResponse* response) override;
  grpc::Status ListPriceListEntries(grpc::ServerContext* context,
                                    const v1::ListPriceListEntriesRequest* request,
                                    v1::ListPriceListEntriesResponse* response) override;

 private:
  app::ManageCategories categories_;
};

}  // namespace kelola::customer::api
