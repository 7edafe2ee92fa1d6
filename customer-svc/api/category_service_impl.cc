#include "customer-svc/api/category_service_impl.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "customer-svc/api/handler_support.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/domain/paging.h"
#include "customer-svc/domain/tenant_rules.h"
#include "customer-svc/store/category_records.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/idempotency/idempotency.h"
#include "libs/server/request_context.h"
#include "libs/text/normalize.h"

namespace kelola::customer::api {
namespace {

using store::DirectoryTx;
using store::StoredCategory;

constexpr size_t kMaxCategoryNameChars = 100;
constexpr size_t kMaxDescriptionChars = 500;
constexpr int kMaxPriceEntriesPerCall = 1000;

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

store::WriteOptions Options(const server::RequestContext& rc, absl::string_view scope,
                            google::protobuf::Message& copy, absl::string_view request_id) {
  const auto* field = copy.GetDescriptor()->FindFieldByName("request_id");
  if (field != nullptr) copy.GetReflection()->ClearField(&copy, field);
  store::WriteOptions o;
  o.principal = rc.principal;
  o.request_id = request_id.empty() ? rc.request_id : std::string(request_id);
  o.scope = std::string(scope);
  o.idempotency_key = std::string(request_id);
  o.request_hash = idempotency::Fingerprint(copy);
  return o;
}

}  // namespace

absl::Status CategoryServiceImpl::EnsureDefaults(const std::string& tenant_id) {
  bool seeded = false;
  absl::Status s = store_.Read(tenant_id, [&](DirectoryTx& tx) -> absl::Status {
    auto r = store::CategoryRecords(tx).DefaultCategoriesSeeded();
    if (!r.ok()) return r.status();
    seeded = *r;
    return absl::OkStatus();
  });
  if (!s.ok() || seeded) return s;
  return store_.Write(
      tenant_id, {},
      [](DirectoryTx& tx) { return store::CategoryRecords(tx).EnsureDefaultCategories(); },
      nullptr);
}

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
  v1::CreateCategoryRequest copy = *request;
  absl::Status status = store_.Write(
      rc->tenant_id, Options(*rc, "CreateCategory", copy, request->request_id()),
      [&](DirectoryTx& tx) -> absl::Status {
        if (auto s = store::CategoryRecords(tx).EnsureDefaultCategories(); !s.ok()) return s;
        v1::Category c = category;
        c.set_category_id(request->category_id().empty() ? ids_.NewId() : request->category_id());
        auto existing = store::CategoryRecords(tx).FindCategory(c.category_id());
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
        if (auto s = store::CategoryRecords(tx).InsertCategory({c, 1}); !s.ok()) return s;
        v1::CategoryChanged event;
        *event.mutable_category() = c;
        if (auto s = tx.Emit("category", c.category_id(), 1, event); !s.ok()) return s;
        *response->mutable_category() = c;
        return absl::OkStatus();
      },
      response);
  return ToGrpc(status);
}

grpc::Status CategoryServiceImpl::GetCategory(grpc::ServerContext* context,
                                              const v1::GetCategoryRequest* request,
                                              v1::GetCategoryResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  if (request->category_id().empty()) return ToGrpc(InvalidField("category_id", "required"));
  if (auto s = EnsureDefaults(rc->tenant_id); !s.ok()) return ToGrpc(s);
  return ToGrpc(store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
    auto c = MustFindCategory(tx, request->category_id());
    if (!c.ok()) return c.status();
    auto d = Decorated(tx, *c);
    if (!d.ok()) return d.status();
    *response->mutable_category() = *d;
    return absl::OkStatus();
  }));
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
  auto offset = domain::DecodePageToken(request->page_token(), "categories", request->order_by());
  if (!offset.ok()) return ToGrpc(offset.status());
  if (auto s = EnsureDefaults(rc->tenant_id); !s.ok()) return ToGrpc(s);
  return ToGrpc(store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
    response->Clear();
    auto all = store::CategoryRecords(tx).ListCategories();
    if (!all.ok()) return all.status();
    response->set_total_size(static_cast<int32_t>(all->size()));
    const size_t begin = std::min<size_t>(*offset, all->size());
    const size_t end = std::min<size_t>(begin + *page_size, all->size());
    for (size_t i = begin; i < end; ++i) {
      auto d = Decorated(tx, (*all)[i]);
      if (!d.ok()) return d.status();
      *response->add_categories() = *d;
    }
    if (end < all->size()) {
      response->set_next_page_token(
          domain::EncodePageToken("categories", request->order_by(), end));
    }
    return absl::OkStatus();
  }));
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
  if (auto s = EnsureDefaults(rc->tenant_id); !s.ok()) return ToGrpc(s);
  v1::UpdateCategoryRequest copy = *request;
  absl::Status status = store_.Write(
      rc->tenant_id, Options(*rc, "UpdateCategory", copy, request->request_id()),
      [&](DirectoryTx& tx) -> absl::Status {
        auto current = MustFindCategory(tx, request->category().category_id());
        if (!current.ok()) return current.status();
        if (auto s = domain::CheckEtag(request->category().etag(), current->version); !s.ok()) {
          return s;
        }
        v1::Category c = current->category;
        if (name) c.set_display_name(patch.display_name());
        if (description) c.set_description(patch.description());
        if (discount) c.set_member_discount_basis_points(patch.member_discount_basis_points());
        if (c.display_name() == current->category.display_name() &&
            c.description() == current->category.description() &&
            c.member_discount_basis_points() == current->category.member_discount_basis_points()) {
          auto d = Decorated(tx, *current);
          if (!d.ok()) return d.status();
          *response->mutable_category() = *d;
          return absl::OkStatus();
        }
        if (auto s = CheckNameFree(tx, c.display_name(), c.category_id()); !s.ok()) return s;
        const int64_t version = current->version + 1;
        c.set_etag(domain::EtagFor(version));
        *c.mutable_update_time() = ToProto(tx.now());
        if (auto s = store::CategoryRecords(tx).UpdateCategory({c, version}); !s.ok()) return s;
        v1::CategoryChanged event;
        *event.mutable_category() = c;
        if (auto s = tx.Emit("category", c.category_id(), version, event); !s.ok()) return s;
        auto d = Decorated(tx, {c, version});
        if (!d.ok()) return d.status();
        *response->mutable_category() = *d;
        return absl::OkStatus();
      },
      response);
  return ToGrpc(status);
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
  if (auto s = EnsureDefaults(rc->tenant_id); !s.ok()) return ToGrpc(s);
  v1::DeleteCategoryRequest copy = *request;
  absl::Status status = store_.Write(
      rc->tenant_id, Options(*rc, "DeleteCategory", copy, request->request_id()),
      [&](DirectoryTx& tx) -> absl::Status {
        auto current = MustFindCategory(tx, request->category_id());
        if (!current.ok()) return current.status();
        if (auto s = domain::CheckEtag(request->etag(), current->version); !s.ok()) return s;
        const std::string& target = request->reassign_to_category_id();
        if (!target.empty()) {
          auto t = MustFindCategory(tx, target);
          if (!t.ok()) return t.status();
        }
        auto users = store::CategoryRecords(tx).CustomersInCategory(request->category_id());
        if (!users.ok()) return users.status();
        if (!users->empty() && target.empty()) {
          return errors::Error(
              absl::StatusCode::kFailedPrecondition, "CATEGORY_IN_USE",
              absl::StrCat(users->size(),
                           " customers use this category: reassign them to another category"),
              {{"category_id", request->category_id()},
               {"customer_count", absl::StrCat(users->size())}});
        }
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        for (auto& u : *users) {
          v1::Customer c = u.customer;
          c.set_category_id(target);
          const int64_t version = u.version + 1;
          c.set_etag(domain::EtagFor(version));
          *c.mutable_update_time() = ToProto(tx.now());
          store::CustomerRecord r;
          r.customer = c;
          r.version = version;
          r.duplicate_allowed = u.duplicate_allowed;
          r.collation_locale = domain::CollationLocale(settings->settings.default_phone_region());
          if (auto s = tx.UpdateCustomer(r); !s.ok()) return s;
          v1::CustomerCategoryChanged e;
          e.set_customer_id(c.customer_id());
          e.set_old_category_id(request->category_id());
          e.set_new_category_id(target);
          if (auto s = tx.Emit("customer", c.customer_id(), version, e); !s.ok()) return s;
        }
        if (auto s = store::CategoryRecords(tx).DeleteCategory(request->category_id()); !s.ok())
          return s;
        v1::CategoryDeleted event;
        event.set_category_id(request->category_id());
        event.set_reassign_to_category_id(target);
        if (auto s = tx.Emit("category", request->category_id(), current->version + 1, event);
            !s.ok()) {
          return s;
        }
        response->set_reassigned_customer_count(static_cast<int64_t>(users->size()));
        return absl::OkStatus();
      },
      response);
  return ToGrpc(status);
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
  if (auto s = EnsureDefaults(rc->tenant_id); !s.ok()) return ToGrpc(s);
  v1::SetPriceListEntriesRequest copy = *request;
  absl::Status status = store_.Write(
      rc->tenant_id, Options(*rc, "SetPriceListEntries", copy, request->request_id()),
      [&](DirectoryTx& tx) -> absl::Status {
        auto category = MustFindCategory(tx, request->category_id());
        if (!category.ok()) return category.status();
        auto settings = tx.Settings();
        if (!settings.ok()) return settings.status();
        const std::string& currency = settings->settings.currency_code();
        errors::FieldErrors mismatch;
        for (int i = 0; i < request->entries_size(); ++i) {
          if (request->entries(i).price().currency_code() != currency) {
            mismatch.Add(absl::StrCat("entries[", i, "].price.currency_code"),
                         absl::StrCat("must be the tenant's currency ", currency));
          }
        }
        if (!mismatch.empty()) return mismatch.ToStatus("CURRENCY_MISMATCH");
        v1::PriceListChanged event;
        event.set_category_id(request->category_id());
        for (const auto& in : request->entries()) {
          v1::PriceListEntry e;
          e.set_sku(in.sku());
          *e.mutable_price() = in.price();
          *e.mutable_update_time() = ToProto(tx.now());
          if (auto s = store::CategoryRecords(tx).PutPriceEntry(request->category_id(), e); !s.ok())
            return s;
          *event.add_set_entries() = e;
          *response->add_entries() = e;
        }
        return tx.Emit("category", request->category_id(), category->version, event);
      },
      response);
  return ToGrpc(status);
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
  if (auto s = EnsureDefaults(rc->tenant_id); !s.ok()) return ToGrpc(s);
  v1::DeletePriceListEntriesRequest copy = *request;
  absl::Status status = store_.Write(
      rc->tenant_id, Options(*rc, "DeletePriceListEntries", copy, request->request_id()),
      [&](DirectoryTx& tx) -> absl::Status {
        auto category = MustFindCategory(tx, request->category_id());
        if (!category.ok()) return category.status();
        const std::vector<std::string> skus(request->skus().begin(), request->skus().end());
        auto n = store::CategoryRecords(tx).DeletePriceEntries(request->category_id(), skus);
        if (!n.ok()) return n.status();
        response->set_deleted_count(static_cast<int32_t>(*n));
        if (*n == 0) return absl::OkStatus();
        v1::PriceListChanged event;
        event.set_category_id(request->category_id());
        for (const auto& s : skus) event.add_deleted_skus(s);
        return tx.Emit("category", request->category_id(), category->version, event);
      },
      response);
  return ToGrpc(status);
}

grpc::Status CategoryServiceImpl::ListPriceListEntries(
    grpc::ServerContext* context, const v1::ListPriceListEntriesRequest* request,
    v1::ListPriceListEntriesResponse* response) {
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  if (request->category_id().empty()) return ToGrpc(InvalidField("category_id", "required"));
  auto page_size = domain::EffectivePageSize(request->page_size(), 100, 1000);
  if (!page_size.ok()) return ToGrpc(page_size.status());
  const std::string binding =
      absl::StrCat(request->category_id(), "|", absl::StrJoin(request->skus(), ","));
  auto offset = domain::DecodePageToken(request->page_token(), "prices", binding);
  if (!offset.ok()) return ToGrpc(offset.status());
  if (auto s = EnsureDefaults(rc->tenant_id); !s.ok()) return ToGrpc(s);
  return ToGrpc(store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
    response->Clear();
    auto category = MustFindCategory(tx, request->category_id());
    if (!category.ok()) return category.status();
    auto all = store::CategoryRecords(tx).PriceEntries(request->category_id());
    if (!all.ok()) return all.status();
    std::vector<v1::PriceListEntry> entries;
    const std::set<std::string> wanted(request->skus().begin(), request->skus().end());
    for (auto& e : *all) {
      if (wanted.empty() || wanted.count(e.sku()) > 0) entries.push_back(std::move(e));
    }
    response->set_total_size(static_cast<int32_t>(entries.size()));
    const size_t begin = std::min<size_t>(*offset, entries.size());
    const size_t end = std::min<size_t>(begin + *page_size, entries.size());
    for (size_t i = begin; i < end; ++i) *response->add_entries() = entries[i];
    if (end < entries.size()) {
      response->set_next_page_token(domain::EncodePageToken("prices", binding, end));
    }
    return absl::OkStatus();
  }));
}

}  // namespace kelola::customer::api
