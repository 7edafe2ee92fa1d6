#pragma once

// A tenant's categories (C9) and their price lists (C10) as use cases: each read or write in
// one transaction, every tenant starting with the default set (seeded on first use), changes
// announced as events (CategoryChanged, CategoryDeleted, CustomerCategoryChanged,
// PriceListChanged). The commands carry values whose shape the handlers checked.

#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "customer-svc/store/directory_store.h"
#include "google/protobuf/message.h"
#include "kelola/customer/v1/category_service.pb.h"
#include "libs/ids/ids.h"

namespace kelola::customer::app {

struct NewCategory {
  v1::Category category;    // display_name, description, member_discount_basis_points checked
  std::string category_id;  // empty: a new id
};

struct CategoryChange {
  std::string category_id;
  std::string etag;    // empty: no check
  v1::Category patch;  // the fields below, checked
  bool display_name = false;
  bool description = false;
  bool member_discount = false;
};

struct CategoryRemoval {
  std::string category_id;
  std::string etag;
  std::string reassign_to;  // the category its customers move to; empty: none may use it
};

// A page of a listing whose order is fixed: its size (checked) and the token of the page
// before it.
struct PageRequest {
  int page_size = 50;
  std::string page_token;
};

class ManageCategories {
 public:
  ManageCategories(store::DirectoryStore& store, ids::IdGenerator& ids)
      : store_(store), ids_(ids) {}

  // ALREADY_EXISTS CATEGORY_EXISTS (the id or the name is taken).
  absl::Status Create(absl::string_view tenant, const store::WriteOptions& options,
                      const NewCategory& command, v1::CreateCategoryResponse& response);
  // The category with its customer and price counts. NOT_FOUND CATEGORY_NOT_FOUND.
  absl::Status Get(absl::string_view tenant, absl::string_view category_id, v1::Category& out);
  // By name, with counts. `order_by` is "" or "display_name". PAGE_TOKEN_*.
  absl::Status List(absl::string_view tenant, absl::string_view order_by, const PageRequest& page,
                    v1::ListCategoriesResponse& response);
  // NOT_FOUND CATEGORY_NOT_FOUND, ABORTED ETAG_MISMATCH, ALREADY_EXISTS CATEGORY_EXISTS (name).
  // A change that changes nothing answers the category as it is and stores nothing.
  absl::Status Update(absl::string_view tenant, const store::WriteOptions& options,
                      const CategoryChange& command, v1::UpdateCategoryResponse& response);
  // Deletes the category and its price list, moving its customers to `reassign_to` (each a
  // CustomerCategoryChanged). FAILED_PRECONDITION CATEGORY_IN_USE when customers use it and
  // no target is given; NOT_FOUND CATEGORY_NOT_FOUND (either category); ABORTED ETAG_MISMATCH.
  absl::Status Delete(absl::string_view tenant, const store::WriteOptions& options,
                      const CategoryRemoval& command, v1::DeleteCategoryResponse& response);

  // Sets price list entries (distinct SKUs, checked). INVALID_ARGUMENT CURRENCY_MISMATCH
  // naming every entry not in the tenant's currency; NOT_FOUND CATEGORY_NOT_FOUND.
  absl::Status SetPrices(absl::string_view tenant, const store::WriteOptions& options,
                         absl::string_view category_id,
                         const std::vector<v1::PriceListEntry>& entries,
                         v1::SetPriceListEntriesResponse& response);
  // Deletes the entries of `skus` that exist. NOT_FOUND CATEGORY_NOT_FOUND.
  absl::Status DeletePrices(absl::string_view tenant, const store::WriteOptions& options,
                            absl::string_view category_id, const std::vector<std::string>& skus,
                            v1::DeletePriceListEntriesResponse& response);
  // The category's entries by SKU, only those of `skus` when not empty. PAGE_TOKEN_*,
  // NOT_FOUND CATEGORY_NOT_FOUND.
  absl::Status ListPrices(absl::string_view tenant, absl::string_view category_id,
                          const std::vector<std::string>& skus, const PageRequest& page,
                          v1::ListPriceListEntriesResponse& response);

 private:
  // Seeds the tenant's default categories once (a read first: the usual case writes nothing).
  absl::Status EnsureDefaults(absl::string_view tenant);
  // The step every change of an existing category shares: the defaults seeded, then in one
  // write the category found (NOT_FOUND CATEGORY_NOT_FOUND) and `change` run on it.
  absl::Status WriteCategory(
      absl::string_view tenant, const store::WriteOptions& options, absl::string_view category_id,
      absl::FunctionRef<absl::Status(store::DirectoryTx&, const store::StoredCategory&)> change,
      google::protobuf::Message& response);

  store::DirectoryStore& store_;
  ids::IdGenerator& ids_;
};

}  // namespace kelola::customer::app
