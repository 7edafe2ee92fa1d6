// ListCustomers, SearchCustomers and FindDuplicates through gRPC, wired as customer-svc
// wires them (writes keep the search index in step), on SQLite and PostgreSQL. The query
// rules themselves are covered in depth by tests/customer-svc/store/customer_query_test.cc;
// this suite proves the served API: requests, responses, stats, errors, tenancy.

#include "customer-svc/store/customer_query.h"
#include "tests/customer-svc/api/api_fixture.h"

namespace kelola::customer::testing_support {
namespace {

using ::testing::ElementsAre;

class CustomerQueryApiTest : public DirectoryApiTest {
 protected:
  std::vector<std::string> Search(const std::string& query, const std::string& tenant = "t1") {
    v1::SearchCustomersRequest request;
    request.set_query(query);
    v1::SearchCustomersResponse response;
    grpc::Status status = customers_->SearchCustomers(Ctx(tenant).get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    std::vector<std::string> names;
    for (const auto& result : response.results()) names.push_back(result.customer().display_name());
    return names;
  }
};

TEST_P(CustomerQueryApiTest, SearchFindsPhonesTypedAnyWayNamesWithTyposAndThai) {
  MustCreate("Budi Santoso", "0812-3456-7890", "budi@example.co.id");
  MustCreate("Siti Nurhaliza", "+62 813 1111 2222");
  MustCreate("สมชาย ใจดี", "+66 89 765 4321");
  for (const char* typed : {"0812-3456-7890", "+62 812 3456 7890", "6281234567890", "3456-78"}) {
    EXPECT_THAT(Search(typed), ElementsAre("Budi Santoso")) << typed;
  }
  EXPECT_THAT(Search("Budi Santosa"), ::testing::Contains("Budi Santoso"));
  EXPECT_THAT(Search("BUDI"), ElementsAre("Budi Santoso"));
  EXPECT_THAT(Search("budi@example"), ElementsAre("Budi Santoso"));
  EXPECT_THAT(Search("ใจดี"), ElementsAre("สมชาย ใจดี"));
  EXPECT_THAT(Search("+66 89 765"), ElementsAre("สมชาย ใจดี"));
  EXPECT_THAT(Search("089-765-4321"), ElementsAre("สมชาย ใจดี"));  // typed the Thai way
  EXPECT_THAT(Search("Budi", "t2"), ::testing::IsEmpty());        // another tenant sees nothing
}

TEST_P(CustomerQueryApiTest, ArchivedCustomersLeaveSearchAndListsUnlessAsked) {
  v1::Customer budi = MustCreate("Budi Santoso", "0812-3456-7890");
  MustCreate("Agus Salim");
  v1::ArchiveCustomerRequest archive;
  archive.set_customer_id(budi.customer_id());
  v1::ArchiveCustomerResponse archived;
  ASSERT_TRUE(customers_->ArchiveCustomer(Ctx().get(), archive, &archived).ok());
  EXPECT_THAT(Search("Budi"), ::testing::IsEmpty());

  v1::ListCustomersRequest list;
  v1::ListCustomersResponse listed;
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), list, &listed).ok());
  ASSERT_EQ(listed.customers_size(), 1);
  EXPECT_EQ(listed.customers(0).display_name(), "Agus Salim");
  list.set_show_archived(true);
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), list, &listed).ok());
  EXPECT_EQ(listed.customers_size(), 2);
}

TEST_P(CustomerQueryApiTest, ListsSortFilterPageAndCarryStats) {
  std::vector<std::string> ids;
  for (const char* name : {"Citra", "adi", "Ádi", "Budi", "agus", "Dewi"}) {
    ids.push_back(MustCreate(name).customer_id());
  }
  // Ledger stats as the projection holds them (the ledger feeds it in production).
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
                   store::CustomerStatsRecord stats;
                   stats.total_spent_minor = 5000000;
                   stats.balance_minor = 125000;
                   stats.transaction_count = 3;
                   stats.ledger_version = 3;
                   return store::UpsertStats(tx, "t1", ids[3], stats).status();  // Budi
                 })
                  .ok());

  v1::ListCustomersRequest request;
  request.set_order_by("display_name");
  request.set_page_size(4);
  v1::ListCustomersResponse first;
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), request, &first).ok());
  std::vector<std::string> names;
  for (const auto& c : first.customers()) names.push_back(c.display_name());
  EXPECT_THAT(names, ElementsAre("adi", "Ádi", "agus", "Budi"));  // Unicode-aware A–Z
  ASSERT_FALSE(first.next_page_token().empty());
  EXPECT_EQ(first.customers(3).stats().balance().amount_minor(), 125000);
  EXPECT_EQ(first.customers(3).stats().balance().currency_code(), "IDR");
  EXPECT_EQ(first.customers(3).stats().transaction_count(), 3);

  request.set_page_token(first.next_page_token());
  v1::ListCustomersResponse second;
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), request, &second).ok());
  names.clear();
  for (const auto& c : second.customers()) names.push_back(c.display_name());
  EXPECT_THAT(names, ElementsAre("Citra", "Dewi"));

  v1::ListCustomersRequest owing;
  owing.set_filter("has_balance = true");
  owing.set_order_by("balance desc");
  v1::ListCustomersResponse debtors;
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), owing, &debtors).ok());
  ASSERT_EQ(debtors.customers_size(), 1);
  EXPECT_EQ(debtors.customers(0).display_name(), "Budi");

  // The token is bound to its query; filters and sorts are checked.
  owing.set_page_token(first.next_page_token());
  grpc::Status mismatch = customers_->ListCustomers(Ctx().get(), owing, &debtors);
  EXPECT_EQ(mismatch.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(errors::Reason(Decode(mismatch)), "PAGE_TOKEN_MISMATCH");
  v1::ListCustomersRequest bad;
  bad.set_filter("balance >>> 3");
  grpc::Status malformed = customers_->ListCustomers(Ctx().get(), bad, &debtors);
  EXPECT_EQ(malformed.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(errors::Reason(Decode(malformed)), "INVALID_FILTER");
  bad.set_filter("");
  bad.set_order_by("shoe_size");
  EXPECT_EQ(customers_->ListCustomers(Ctx().get(), bad, &debtors).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_P(CustomerQueryApiTest, FindDuplicatesPairsSamePhoneAndSimilarNames) {
  v1::CreateCustomerRequest twin;
  twin.mutable_customer()->set_display_name("Budi Santoso");
  twin.mutable_customer()->mutable_phone()->set_raw("0812-3456-7890");
  ASSERT_TRUE(Create(twin).ok());
  twin.mutable_customer()->set_display_name("Budi Santosa");
  twin.set_allow_duplicate(true);  // the cashier insisted: a duplicate to clean up later
  ASSERT_TRUE(Create(twin).ok());
  MustCreate("Wayan Sudarma");

  v1::FindDuplicatesRequest request;
  v1::FindDuplicatesResponse response;
  ASSERT_TRUE(customers_->FindDuplicates(Ctx().get(), request, &response).ok());
  ASSERT_EQ(response.pairs_size(), 1);
  const v1::DuplicatePair& pair = response.pairs(0);
  EXPECT_EQ(pair.first().display_name(), "Budi Santoso");
  EXPECT_EQ(pair.second().display_name(), "Budi Santosa");
  EXPECT_GT(pair.score(), 0.5);
  EXPECT_THAT(pair.reasons(), ::testing::Contains(v1::DUPLICATE_REASON_SAME_PHONE));
}

INSTANTIATE_TEST_SUITE_P(Drivers, CustomerQueryApiTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::customer::testing_support
