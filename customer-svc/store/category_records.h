#pragma once

// A tenant's categories (C9) and their price lists (C10), in a directory transaction: a
// repository over DirectoryTx, as OperationRecords (customer_operations.h) is for the
// cross-service operations.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/category.pb.h"
#include "libs/db/database.h"

namespace kelola::customer::store {

class CategoryRecords {
 public:
  explicit CategoryRecords(DirectoryTx& tx);

  // Categories (C9). EnsureDefaultCategories creates the default set once per tenant.
  absl::StatusOr<bool> DefaultCategoriesSeeded();
  absl::Status EnsureDefaultCategories();
  absl::StatusOr<std::optional<StoredCategory>> FindCategory(absl::string_view id);
  absl::StatusOr<std::optional<StoredCategory>> FindCategoryByName(absl::string_view name_folded);
  absl::StatusOr<std::vector<StoredCategory>> ListCategories();
  absl::Status InsertCategory(const StoredCategory& category);
  absl::Status UpdateCategory(const StoredCategory& category);
  // Deletes the category and its price list.
  absl::Status DeleteCategory(absl::string_view id);
  // Customers (any state but MERGED/ERASED) assigned to the category.
  absl::StatusOr<std::vector<StoredCustomer>> CustomersInCategory(absl::string_view id);
  absl::StatusOr<int64_t> CountCustomersInCategory(absl::string_view id);

  // Price lists (C10).
  absl::Status PutPriceEntry(absl::string_view category_id, const v1::PriceListEntry& entry);
  absl::StatusOr<int64_t> DeletePriceEntries(absl::string_view category_id,
                                             const std::vector<std::string>& skus);
  absl::StatusOr<std::vector<v1::PriceListEntry>> PriceEntries(absl::string_view category_id);
  absl::StatusOr<std::optional<v1::PriceListEntry>> FindPriceEntry(absl::string_view category_id,
                                                                   absl::string_view sku);
  absl::StatusOr<int64_t> CountPriceEntries(absl::string_view category_id);
  absl::StatusOr<int64_t> CountAllPriceEntries();

 private:
  // The tenant, the category and the states counted as its members (any but MERGED and
  // ERASED), the values of CustomersInCategory and CountCustomersInCategory.
  std::vector<db::Value> MemberParams(absl::string_view category_id) const;
  std::vector<db::Value> CategoryParams(const StoredCategory& c);
  absl::StatusOr<std::optional<StoredCategory>> OneCategory(const char* column,
                                                            const std::string& value);
  static v1::PriceListEntry EntryFromRow(const db::Row& row);

  db::Transaction& tx_;
  const std::string tenant_;
  const absl::Time now_;
};

}  // namespace kelola::customer::store
