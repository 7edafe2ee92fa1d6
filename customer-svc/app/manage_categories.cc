#include "customer-svc/app/manage_categories.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "customer-svc/app/customer_writes.h"
#include "customer-svc/app/support.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/domain/paging.h"
#include "customer-svc/domain/tenant_rules.h"
#include "customer-svc/store/category_records.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/errors/errors.h"
#include "libs/text/normalize.h"

namespace kelola::customer::app {
namespace {

using store::DirectoryTx;
using store::StoredCategory;

absl::StatusOr<StoredCategory> MustFindCategory(DirectoryTx& tx, absl::string_view id) {
  auto found = store::CategoryRecords(tx).FindCategory(id);
  if (!found.ok()) return found.status();
  if (!found->has_value()) return NotFound("CATEGORY_NOT_FOUND", "category", "category_id", id);
  return **found;
}

// The category with its output-only counts.
absl::StatusOr<v1::Category> Decorated(DirectoryTx& tx, const StoredCategory& stored) {
  v1::Category out = stored.category;
  store::CategoryRecords categories(tx);
  auto customers = categories.CountCustomersInCategory(out.category_id());
  if (!customers.ok()) return customers.status();
  auto entries = categories.CountPriceEntries(out.category_id());
  if (!entries.ok()) return entries.status();
  out.set_customer_count(*customers);
  out.set_price_list_entry_count(*entries);
  return out;
}

absl::Status CheckNameFree(DirectoryTx& tx, const std::string& name, absl::string_view self_id) {
  auto other = store::CategoryRecords(tx).FindCategoryByName(text::FoldForMatch(name));
  if (!other.ok()) return other.status();
  if (other->has_value() && (*other)->category.category_id() != self_id) {
    return errors::Error(
        absl::StatusCode::kAlreadyExists, "CATEGORY_EXISTS",
        absl::StrCat("a category named \"", (*other)->category.display_name(), "\" already exists"),
        {{"existing_category_id", (*other)->category.category_id()},
         {"field", "category.display_name"}});
  }
  return absl::OkStatus();
}

// The items [begin, end) of `total` from `offset` on (a decoded page token), and the token
// of the page after them.
struct PageBounds {
  size_t begin = 0;
  size_t end = 0;
  std::string next_page_token;
};

PageBounds Bounds(int64_t offset, int page_size, absl::string_view kind, absl::string_view binding,
                  size_t total) {
  PageBounds out;
  out.begin = std::min<size_t>(static_cast<size_t>(offset), total);
  out.end = std::min<size_t>(out.begin + static_cast<size_t>(page_size), total);
  if (out.end < total) out.next_page_token = domain::EncodePageToken(kind, binding, out.end);
  return out;
}

}  // namespace

absl::Status ManageCategories::EnsureDefaults(absl::string_view tenant) {
  bool seeded = false;
  absl::Status s = store_.Read(tenant, [&](DirectoryTx& tx) -> absl::Status {
    auto r = store::CategoryRecords(tx).DefaultCategoriesSeeded();
    if (!r.ok()) return r.status();
    seeded = *r;
    return absl::OkStatus();
  });
  if (!s.ok() || seeded) return s;
  return store_.Write(
      tenant, {},
      [](DirectoryTx& tx) { return store::CategoryRecords(tx).EnsureDefaultCategories(); },
      nullptr);
}

absl::Status ManageCategories::WriteCategory(
    absl::string_view tenant, const store::WriteOptions& options, absl::string_view category_id,
    absl::FunctionRef<absl::Status(DirectoryTx&, const StoredCategory&)> change,
    google::protobuf::Message& response) {
  if (auto s = EnsureDefaults(tenant); !s.ok()) return s;
  return store_.Write(
      tenant, options,
      [&](DirectoryTx& tx) -> absl::Status {
        auto current = MustFindCategory(tx, category_id);
        if (!current.ok()) return current.status();
        return change(tx, *current);
      },
      &response);
}

absl::Status ManageCategories::Create(absl::string_view tenant, const store::WriteOptions& options,
                                      const NewCategory& command,
                                      v1::CreateCategoryResponse& response) {
  return store_.Write(
      tenant, options,
      [&](DirectoryTx& tx) -> absl::Status {
        store::CategoryRecords categories(tx);
        if (auto s = categories.EnsureDefaultCategories(); !s.ok()) return s;
        v1::Category c = command.category;
        c.set_category_id(command.category_id.empty() ? ids_.NewId() : command.category_id);
        auto existing = categories.FindCategory(c.category_id());
        if (!existing.ok()) return existing.status();
        if (existing->has_value()) {
          return errors::Error(
              absl::StatusCode::kAlreadyExists, "CATEGORY_EXISTS",
              "a category with this id already exists",
              {{"existing_category_id", c.category_id()}, {"field", "category_id"}});
        }
        if (auto s = CheckNameFree(tx, c.display_name(), ""); !s.ok()) return s;
        *c.mutable_create_time() = ToProto(tx.now());
        *c.mutable_update_time() = c.create_time();
        c.set_etag(domain::EtagFor(1));
        if (auto s = categories.InsertCategory({c, 1}); !s.ok()) return s;
        v1::CategoryChanged event;
        *event.mutable_category() = c;
        if (auto s = tx.Emit("category", c.category_id(), 1, event); !s.ok()) return s;
        *response.mutable_category() = c;
        return absl::OkStatus();
      },
      &response);
}

absl::Status ManageCategories::Get(absl::string_view tenant, absl::string_view category_id,
                                   v1::Category& out) {
  if (auto s = EnsureDefaults(tenant); !s.ok()) return s;
  return store_.Read(tenant, [&](DirectoryTx& tx) -> absl::Status {
    auto c = MustFindCategory(tx, category_id);
    if (!c.ok()) return c.status();
    auto d = Decorated(tx, *c);
    if (!d.ok()) return d.status();
    out = *std::move(d);
    return absl::OkStatus();
  });
}

absl::Status ManageCategories::List(absl::string_view tenant, absl::string_view order_by,
                                    const PageRequest& page, v1::ListCategoriesResponse& response) {
  auto offset = domain::DecodePageToken(page.page_token, "categories", order_by);
  if (!offset.ok()) return offset.status();
  if (auto s = EnsureDefaults(tenant); !s.ok()) return s;
  return store_.Read(tenant, [&](DirectoryTx& tx) -> absl::Status {
    response.Clear();
    auto all = store::CategoryRecords(tx).ListCategories();
    if (!all.ok()) return all.status();
    const PageBounds bounds = Bounds(*offset, page.page_size, "categories", order_by, all->size());
    response.set_total_size(static_cast<int32_t>(all->size()));
    for (size_t i = bounds.begin; i < bounds.end; ++i) {
      auto d = Decorated(tx, (*all)[i]);
      if (!d.ok()) return d.status();
      *response.add_categories() = *std::move(d);
    }
    response.set_next_page_token(bounds.next_page_token);
    return absl::OkStatus();
  });
}

absl::Status ManageCategories::Update(absl::string_view tenant, const store::WriteOptions& options,
                                      const CategoryChange& command,
                                      v1::UpdateCategoryResponse& response) {
  return WriteCategory(
      tenant, options, command.category_id,
      [&](DirectoryTx& tx, const StoredCategory& current) -> absl::Status {
        if (auto s = domain::CheckEtag(command.etag, current.version); !s.ok()) return s;
        v1::Category c = current.category;
        if (command.display_name) c.set_display_name(command.patch.display_name());
        if (command.description) c.set_description(command.patch.description());
        if (command.member_discount) {
          c.set_member_discount_basis_points(command.patch.member_discount_basis_points());
        }
        if (c.display_name() == current.category.display_name() &&
            c.description() == current.category.description() &&
            c.member_discount_basis_points() == current.category.member_discount_basis_points()) {
          auto d = Decorated(tx, current);
          if (!d.ok()) return d.status();
          *response.mutable_category() = *std::move(d);
          return absl::OkStatus();
        }
        if (auto s = CheckNameFree(tx, c.display_name(), c.category_id()); !s.ok()) return s;
        const int64_t version = current.version + 1;
        c.set_etag(domain::EtagFor(version));
        *c.mutable_update_time() = ToProto(tx.now());
        if (auto s = store::CategoryRecords(tx).UpdateCategory({c, version}); !s.ok()) return s;
        v1::CategoryChanged event;
        *event.mutable_category() = c;
        if (auto s = tx.Emit("category", c.category_id(), version, event); !s.ok()) return s;
        auto d = Decorated(tx, {c, version});
        if (!d.ok()) return d.status();
        *response.mutable_category() = *std::move(d);
        return absl::OkStatus();
      },
      response);
}

absl::Status ManageCategories::Delete(absl::string_view tenant, const store::WriteOptions& options,
                                      const CategoryRemoval& command,
                                      v1::DeleteCategoryResponse& response) {
  return WriteCategory(
      tenant, options, command.category_id,
      [&](DirectoryTx& tx, const StoredCategory& current) -> absl::Status {
        const std::string& id = command.category_id;
        if (auto s = domain::CheckEtag(command.etag, current.version); !s.ok()) return s;
        const std::string& target = command.reassign_to;
        if (!target.empty()) {
          auto t = MustFindCategory(tx, target);
          if (!t.ok()) return t.status();
        }
        store::CategoryRecords categories(tx);
        auto users = categories.CustomersInCategory(id);
        if (!users.ok()) return users.status();
        if (!users->empty() && target.empty()) {
          return errors::Error(
              absl::StatusCode::kFailedPrecondition, "CATEGORY_IN_USE",
              absl::StrCat(users->size(),
                           " customers use this category: reassign them to another category"),
              {{"category_id", id}, {"customer_count", absl::StrCat(users->size())}});
        }
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        for (auto& u : *users) {
          v1::Customer c = u.customer;
          c.set_category_id(target);
          const int64_t version = u.version + 1;
          if (auto s = StoreVersion(tx, settings->settings, c, version, u.duplicate_allowed);
              !s.ok()) {
            return s;
          }
          v1::CustomerCategoryChanged e;
          e.set_customer_id(c.customer_id());
          e.set_old_category_id(id);
          e.set_new_category_id(target);
          if (auto s = tx.Emit("customer", c.customer_id(), version, e); !s.ok()) return s;
        }
        if (auto s = categories.DeleteCategory(id); !s.ok()) return s;
        v1::CategoryDeleted event;
        event.set_category_id(id);
        event.set_reassign_to_category_id(target);
        if (auto s = tx.Emit("category", id, current.version + 1, event); !s.ok()) return s;
        response.set_reassigned_customer_count(static_cast<int64_t>(users->size()));
        return absl::OkStatus();
      },
      response);
}

absl::Status ManageCategories::SetPrices(absl::string_view tenant,
                                         const store::WriteOptions& options,
                                         absl::string_view category_id,
                                         const std::vector<v1::PriceListEntry>& entries,
                                         v1::SetPriceListEntriesResponse& response) {
  return WriteCategory(
      tenant, options, category_id,
      [&](DirectoryTx& tx, const StoredCategory& category) -> absl::Status {
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        const std::string& currency = settings->settings.currency_code();
        errors::FieldErrors mismatch;
        for (size_t i = 0; i < entries.size(); ++i) {
          if (entries[i].price().currency_code() != currency) {
            mismatch.Add(absl::StrCat("entries[", i, "].price.currency_code"),
                         absl::StrCat("must be the tenant's currency ", currency));
          }
        }
        if (!mismatch.empty()) return mismatch.ToStatus("CURRENCY_MISMATCH");
        store::CategoryRecords categories(tx);
        v1::PriceListChanged event;
        event.set_category_id(std::string(category_id));
        for (const auto& in : entries) {
          v1::PriceListEntry e;
          e.set_sku(in.sku());
          *e.mutable_price() = in.price();
          *e.mutable_update_time() = ToProto(tx.now());
          if (auto s = categories.PutPriceEntry(category_id, e); !s.ok()) return s;
          *event.add_set_entries() = e;
          *response.add_entries() = e;
        }
        return tx.Emit("category", category_id, category.version, event);
      },
      response);
}

absl::Status ManageCategories::DeletePrices(absl::string_view tenant,
                                            const store::WriteOptions& options,
                                            absl::string_view category_id,
                                            const std::vector<std::string>& skus,
                                            v1::DeletePriceListEntriesResponse& response) {
  return WriteCategory(
      tenant, options, category_id,
      [&](DirectoryTx& tx, const StoredCategory& category) -> absl::Status {
        auto n = store::CategoryRecords(tx).DeletePriceEntries(category_id, skus);
        if (!n.ok()) return n.status();
        response.set_deleted_count(static_cast<int32_t>(*n));
        if (*n == 0) return absl::OkStatus();
        v1::PriceListChanged event;
        event.set_category_id(std::string(category_id));
        for (const auto& s : skus) event.add_deleted_skus(s);
        return tx.Emit("category", category_id, category.version, event);
      },
      response);
}

absl::Status ManageCategories::ListPrices(absl::string_view tenant, absl::string_view category_id,
                                          const std::vector<std::string>& skus,
                                          const PageRequest& page,
                                          v1::ListPriceListEntriesResponse& response) {
  const std::string binding = absl::StrCat(category_id, "|", absl::StrJoin(skus, ","));
  auto offset = domain::DecodePageToken(page.page_token, "prices", binding);
  if (!offset.ok()) return offset.status();
  if (auto s = EnsureDefaults(tenant); !s.ok()) return s;
  return store_.Read(tenant, [&](DirectoryTx& tx) -> absl::Status {
    response.Clear();
    auto category = MustFindCategory(tx, category_id);
    if (!category.ok()) return category.status();
    auto all = store::CategoryRecords(tx).PriceEntries(category_id);
    if (!all.ok()) return all.status();
    std::vector<v1::PriceListEntry> entries;
    const std::set<std::string> wanted(skus.begin(), skus.end());
    for (auto& e : *all) {
      if (wanted.empty() || wanted.count(e.sku()) > 0) entries.push_back(std::move(e));
    }
    const PageBounds bounds = Bounds(*offset, page.page_size, "prices", binding, entries.size());
    response.set_total_size(static_cast<int32_t>(entries.size()));
    for (size_t i = bounds.begin; i < bounds.end; ++i) *response.add_entries() = entries[i];
    response.set_next_page_token(bounds.next_page_token);
    return absl::OkStatus();
  });
}

}  // namespace kelola::customer::app
