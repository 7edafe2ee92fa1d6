// CategoryService through gRPC against SQLite and PostgreSQL: default categories, CRUD with
// etags, delete with reassignment, price lists.

#include <atomic>
#include <thread>

#include "tests/customer-svc/api/api_fixture.h"

namespace kelola::customer::testing_support {
namespace {

using ::testing::ElementsAre;
using ::testing::UnorderedElementsAre;

class CategoryServiceTest : public DirectoryApiTest {
 protected:
  std::vector<std::string> Names(const std::string& tenant = "t1") {
    v1::ListCategoriesRequest request;
    v1::ListCategoriesResponse response;
    grpc::Status s = categories_->ListCategories(Ctx(tenant).get(), request, &response);
    EXPECT_TRUE(s.ok()) << Decode(s);
    std::vector<std::string> out;
    for (const auto& c : response.categories()) out.push_back(c.display_name());
    return out;
  }
};

TEST_P(CategoryServiceTest, DefaultCategoriesAreCreatedOncePerTenant) {
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { Names(); });
  for (auto& t : threads) t.join();
  EXPECT_THAT(Names(), ElementsAre("Corporate", "Member", "Retail", "VIP", "Wholesale"));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM categories WHERE tenant_id = 't1'"), 5);

  // A deleted default stays deleted.
  v1::DeleteCategoryRequest del;
  del.set_category_id("vip");
  v1::DeleteCategoryResponse deleted;
  ASSERT_TRUE(categories_->DeleteCategory(Ctx().get(), del, &deleted).ok());
  EXPECT_THAT(Names(), ElementsAre("Corporate", "Member", "Retail", "Wholesale"));
  // Another tenant has its own set.
  EXPECT_EQ(Names("t2").size(), 5u);
}

TEST_P(CategoryServiceTest, CreateRenameWithEtagAndNameConflicts) {
  v1::CreateCategoryRequest create;
  create.mutable_category()->set_display_name("  Reseller ");
  create.mutable_category()->set_member_discount_basis_points(250);
  v1::CreateCategoryResponse created;
  ASSERT_TRUE(categories_->CreateCategory(Ctx().get(), create, &created).ok());
  EXPECT_EQ(created.category().display_name(), "Reseller");
  EXPECT_EQ(created.category().etag(), "v1");

  create.mutable_category()->set_display_name("vip");  // case-insensitive clash
  grpc::Status clash = categories_->CreateCategory(Ctx().get(), create, &created);
  EXPECT_EQ(clash.error_code(), grpc::StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(errors::Reason(Decode(clash)), "CATEGORY_EXISTS");

  v1::CreateCategoryRequest invalid;
  invalid.set_category_id("bad id!");
  invalid.mutable_category()->set_member_discount_basis_points(10001);
  EXPECT_THAT(ViolationFields(categories_->CreateCategory(Ctx().get(), invalid, &created)),
              UnorderedElementsAre("category.display_name", "category.member_discount_basis_points",
                                   "category_id"));

  v1::UpdateCategoryRequest rename;
  rename.mutable_category()->set_category_id("wholesale");
  rename.mutable_category()->set_display_name("Grosir");
  rename.mutable_category()->set_etag("v1");
  rename.mutable_update_mask()->add_paths("display_name");
  v1::UpdateCategoryResponse renamed;
  ASSERT_TRUE(categories_->UpdateCategory(Ctx().get(), rename, &renamed).ok());
  EXPECT_EQ(renamed.category().display_name(), "Grosir");
  EXPECT_EQ(renamed.category().etag(), "v2");
  rename.mutable_category()->set_display_name("Grosir 2");
  grpc::Status stale = categories_->UpdateCategory(Ctx().get(), rename, &renamed);
  EXPECT_EQ(stale.error_code(), grpc::StatusCode::ABORTED);
  EXPECT_EQ(errors::Reason(Decode(stale)), "ETAG_MISMATCH");
  rename.mutable_update_mask()->add_paths("customer_count");
  EXPECT_EQ(errors::Reason(Decode(categories_->UpdateCategory(Ctx().get(), rename, &renamed))),
            "INVALID_UPDATE_MASK");

  v1::GetCategoryRequest get;
  get.set_category_id("wholesale");
  v1::GetCategoryResponse got;
  ASSERT_TRUE(categories_->GetCategory(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.category().display_name(), "Grosir");
  get.set_category_id("nope");
  EXPECT_EQ(categories_->GetCategory(Ctx().get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  EXPECT_GE(CountEvents("CategoryChanged"), 2);
}

TEST_P(CategoryServiceTest, DeleteIsRefusedWhileInUseUnlessReassigned) {
  v1::CreateCustomerRequest r;
  r.mutable_customer()->set_display_name("Toko Maju");
  r.mutable_customer()->set_category_id("wholesale");
  v1::Customer a, b;
  ASSERT_TRUE(Create(r, &a).ok());
  r.mutable_customer()->set_display_name("Toko Jaya");
  ASSERT_TRUE(Create(r, &b).ok());

  v1::DeleteCategoryRequest del;
  del.set_category_id("wholesale");
  v1::DeleteCategoryResponse deleted;
  grpc::Status in_use = categories_->DeleteCategory(Ctx().get(), del, &deleted);
  ASSERT_EQ(in_use.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(errors::Reason(Decode(in_use)), "CATEGORY_IN_USE");
  EXPECT_EQ(errors::GetMetadata(Decode(in_use))["customer_count"], "2");

  del.set_reassign_to_category_id("nope");
  EXPECT_EQ(categories_->DeleteCategory(Ctx().get(), del, &deleted).error_code(),
            grpc::StatusCode::NOT_FOUND);
  del.set_reassign_to_category_id("wholesale");
  EXPECT_THAT(ViolationFields(categories_->DeleteCategory(Ctx().get(), del, &deleted)),
              ElementsAre("reassign_to_category_id"));

  del.set_reassign_to_category_id("retail");
  ASSERT_TRUE(categories_->DeleteCategory(Ctx().get(), del, &deleted).ok());
  EXPECT_EQ(deleted.reassigned_customer_count(), 2);
  v1::GetCustomerRequest get;
  get.set_customer_id(a.customer_id());
  v1::GetCustomerResponse got;
  ASSERT_TRUE(customers_->GetCustomer(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.customer().category_id(), "retail");
  EXPECT_EQ(got.customer().etag(), "v2");
  EXPECT_EQ(CountEvents("CustomerCategoryChanged"), 2);
  EXPECT_EQ(CountEvents("CategoryDeleted"), 1);
}

TEST_P(CategoryServiceTest, PriceListEntries) {
  v1::SetPriceListEntriesRequest set;
  set.set_category_id("wholesale");
  for (const auto& [sku, price] : std::vector<std::pair<std::string, int64_t>>{
           {"BERAS-5KG", 6500000}, {"GULA-1KG", 1400000}, {"MINYAK-2L", 3500000}}) {
    auto* e = set.add_entries();
    e->set_sku(sku);
    e->mutable_price()->set_amount_minor(price);
    e->mutable_price()->set_currency_code("IDR");
  }
  v1::SetPriceListEntriesResponse set_response;
  ASSERT_TRUE(categories_->SetPriceListEntries(Ctx().get(), set, &set_response).ok());
  // Setting again replaces by SKU.
  set.mutable_entries(0)->mutable_price()->set_amount_minor(6400000);
  ASSERT_TRUE(categories_->SetPriceListEntries(Ctx().get(), set, &set_response).ok());

  v1::ListPriceListEntriesRequest list;
  list.set_category_id("wholesale");
  list.set_page_size(2);
  v1::ListPriceListEntriesResponse page;
  ASSERT_TRUE(categories_->ListPriceListEntries(Ctx().get(), list, &page).ok());
  EXPECT_EQ(page.total_size(), 3);
  ASSERT_EQ(page.entries_size(), 2);
  EXPECT_EQ(page.entries(0).sku(), "BERAS-5KG");
  EXPECT_EQ(page.entries(0).price().amount_minor(), 6400000);
  list.set_page_token(page.next_page_token());
  ASSERT_TRUE(categories_->ListPriceListEntries(Ctx().get(), list, &page).ok());
  ASSERT_EQ(page.entries_size(), 1);
  EXPECT_TRUE(page.next_page_token().empty());

  v1::DeletePriceListEntriesRequest del;
  del.set_category_id("wholesale");
  del.add_skus("GULA-1KG");
  del.add_skus("UNKNOWN");
  v1::DeletePriceListEntriesResponse deleted;
  ASSERT_TRUE(categories_->DeletePriceListEntries(Ctx().get(), del, &deleted).ok());
  EXPECT_EQ(deleted.deleted_count(), 1);

  // Bad input: every entry named, nothing written.
  v1::SetPriceListEntriesRequest bad;
  bad.set_category_id("wholesale");
  bad.add_entries()->set_sku("A");  // no price
  auto* negative = bad.add_entries();
  negative->set_sku("B");
  negative->mutable_price()->set_amount_minor(-1);
  auto* repeated = bad.add_entries();
  repeated->set_sku("B");
  repeated->mutable_price()->set_amount_minor(1);
  EXPECT_THAT(
      ViolationFields(categories_->SetPriceListEntries(Ctx().get(), bad, &set_response)),
      UnorderedElementsAre("entries[0].price", "entries[1].price.amount_minor", "entries[2].sku"));
  v1::SetPriceListEntriesRequest thb;
  thb.set_category_id("wholesale");
  auto* t = thb.add_entries();
  t->set_sku("X");
  t->mutable_price()->set_amount_minor(100);
  t->mutable_price()->set_currency_code("THB");
  grpc::Status mismatch = categories_->SetPriceListEntries(Ctx().get(), thb, &set_response);
  EXPECT_EQ(errors::Reason(Decode(mismatch)), "CURRENCY_MISMATCH");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM price_list_entries"), 2);

  // The currency is locked while prices exist.
  v1::UpdateTenantSettingsRequest currency;
  currency.mutable_settings()->set_currency_code("THB");
  currency.mutable_update_mask()->add_paths("currency_code");
  v1::UpdateTenantSettingsResponse updated;
  grpc::Status locked = tenants_->UpdateTenantSettings(Ctx().get(), currency, &updated);
  EXPECT_EQ(locked.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_EQ(errors::Reason(Decode(locked)), "CURRENCY_LOCKED");
}

TEST_P(CategoryServiceTest, CategoriesAreTenantScoped) {
  v1::CreateCategoryRequest create;
  create.set_category_id("langganan");
  create.mutable_category()->set_display_name("Langganan");
  v1::CreateCategoryResponse created;
  ASSERT_TRUE(categories_->CreateCategory(Ctx("t1").get(), create, &created).ok());
  v1::GetCategoryRequest get;
  get.set_category_id("langganan");
  v1::GetCategoryResponse got;
  EXPECT_EQ(categories_->GetCategory(Ctx("t2").get(), get, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::CreateCustomerRequest r;
  r.mutable_customer()->set_display_name("Tamu");
  r.mutable_customer()->set_category_id("langganan");
  EXPECT_THAT(ViolationFields(Create(r, nullptr, "t2")), ElementsAre("customer.category_id"));
  EXPECT_TRUE(Create(r, nullptr, "t1").ok());
  ASSERT_TRUE(categories_->GetCategory(Ctx("t1").get(), get, &got).ok());
  EXPECT_EQ(got.category().customer_count(), 1);
}

INSTANTIATE_TEST_SUITE_P(Drivers, CategoryServiceTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace kelola::customer::testing_support
