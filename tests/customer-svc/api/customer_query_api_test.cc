// ListCustomers, SearchCustomers and FindDuplicates through gRPC, wired as customer-svc
// wires them (searches read the tenants' indexes in memory), on SQLite and PostgreSQL. The query
// rules themselves are covered in depth by tests/customer-svc/store/customer_query_test.cc;
// this suite proves the served API: requests, responses, stats, errors, tenancy.

#include <atomic>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/ledger_stats_feed.h"
#include "kelola/ledger/v1/events.pb.h"
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

// More first searches of a tenant at once than the database has connections: each waits for
// the index before taking a connection, so the load gets one and every search is answered.
TEST_P(CustomerQueryApiTest, MoreFirstSearchesThanConnectionsAreAllAnswered) {
  MustCreate("Budi Santoso", "0812-3456-7890");
  constexpr int kSearches = 64;  // the pool holds 8
  std::vector<std::thread> threads;
  std::atomic<int> answered{0};
  for (int i = 0; i < kSearches; ++i) {
    threads.emplace_back([&] {
      v1::SearchCustomersRequest request;
      request.set_query("budi");
      v1::SearchCustomersResponse response;
      grpc::Status status = customers_->SearchCustomers(Ctx().get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (status.ok() && response.results_size() == 1) ++answered;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(answered.load(), kSearches);
  EXPECT_EQ(indexes_->stats().loads, 1);
}

// The background follower keeps a loaded index current without any search asking: it
// reads the new customers in a read transaction and puts them into the index after it.
TEST_P(CustomerQueryApiTest, TheFollowerPutsNewCustomersIntoALoadedIndex) {
  MustCreate("Budi Santoso", "0812-3456-7890");
  ASSERT_EQ(Search("budi").size(), 1u);  // loads the tenant's index
  ASSERT_EQ(indexes_->stats().customers, 1u);
  const int64_t applied = indexes_->stats().applied;
  MustCreate("Agus Salim", "0813-1111-2222");
  MustCreate("Citra Dewi", "", "citra@example.com");
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (indexes_->stats().customers < 3 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(indexes_->stats().customers, 3u);
  EXPECT_GT(indexes_->stats().applied, applied);
  EXPECT_EQ(Search("citra").size(), 1u);
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

// --- Stats (C2, C12): every read of a customer carries the ledger's projected statistics ---

// A ledger event as ledger-svc's stream delivers it to the stats feed.
type::v1::Event LedgerEvent(const google::protobuf::Message& payload) {
  type::v1::Event e;
  e.set_tenant_id("t1");
  e.set_type(payload.GetDescriptor()->full_name());
  e.mutable_payload()->PackFrom(payload);
  return e;
}

// RecordPayment of 5.000 with keep_excess_as_credit and no sale: nothing is owed, 5.000 is
// held as credit (CustomerLedgerStats.balance 0, credit 5000).
ledger::v1::PaymentRecorded CreditOnlyPayment(const std::string& customer_id) {
  ledger::v1::PaymentRecorded paid;
  paid.set_customer_id(customer_id);
  paid.set_ledger_version(1);
  ledger::v1::CustomerLedgerStats* st = paid.mutable_stats();
  st->set_customer_id(customer_id);
  st->set_ledger_version(1);
  st->mutable_balance()->set_amount_minor(0);
  st->mutable_credit()->set_amount_minor(5000);
  st->mutable_total_paid()->set_amount_minor(5000);
  st->set_payment_count(1);
  st->mutable_last_activity_time()->set_seconds(1767225600);
  st->set_has_history(true);
  return paid;
}

class CustomerStatsApiTest : public CustomerQueryApiTest {
 protected:
  void Apply(const google::protobuf::Message& payload) {
    absl::Status s = db_->InTransaction(
        [&](db::Transaction& tx) { return store::ApplyLedgerEvent(tx, LedgerEvent(payload)); });
    ASSERT_TRUE(s.ok()) << s;
  }
};

TEST_P(CustomerStatsApiTest, GetAndBatchGetCarryTheProjectedStats) {
  const v1::Customer budi = MustCreate("Budi Santoso");
  const v1::Customer ani = MustCreate("Ani");  // nothing from the ledger yet
  ledger::v1::SaleRecorded sale;
  sale.set_customer_id(budi.customer_id());
  sale.set_ledger_version(2);
  ledger::v1::CustomerLedgerStats* st = sale.mutable_stats();
  st->mutable_total_spent()->set_amount_minor(150000);
  st->set_transaction_count(1);
  st->mutable_balance()->set_amount_minor(100000);
  st->mutable_first_purchase_time()->set_seconds(1767225600);
  st->mutable_last_purchase_time()->set_seconds(1767225600);
  st->mutable_last_activity_time()->set_seconds(1767229200);
  Apply(sale);

  v1::GetCustomerRequest get;
  get.set_customer_id(budi.customer_id());
  v1::GetCustomerResponse got;
  ASSERT_TRUE(customers_->GetCustomer(Ctx().get(), get, &got).ok());
  ASSERT_TRUE(got.customer().has_stats());
  const v1::CustomerStats& stats = got.customer().stats();
  EXPECT_EQ(stats.total_spent().amount_minor(), 150000);
  EXPECT_EQ(stats.total_spent().currency_code(), "IDR");
  EXPECT_EQ(stats.transaction_count(), 1);
  EXPECT_EQ(stats.balance().amount_minor(), 100000);
  EXPECT_EQ(stats.balance().currency_code(), "IDR");
  EXPECT_EQ(stats.first_purchase_time().seconds(), 1767225600);
  EXPECT_EQ(stats.last_activity_time().seconds(), 1767229200);
  EXPECT_EQ(stats.ledger_version(), 2);

  v1::BatchGetCustomersRequest batch;
  batch.add_customer_ids(ani.customer_id());
  batch.add_customer_ids(budi.customer_id());
  batch.add_customer_ids(ani.customer_id());
  v1::BatchGetCustomersResponse many;
  ASSERT_TRUE(customers_->BatchGetCustomers(Ctx().get(), batch, &many).ok());
  ASSERT_EQ(many.customers_size(), 3);
  EXPECT_TRUE(many.customers(0).has_stats());
  EXPECT_EQ(many.customers(0).stats().transaction_count(), 0);
  EXPECT_EQ(many.customers(0).stats().balance().currency_code(), "IDR");
  EXPECT_EQ(many.customers(0).stats().ledger_version(), 0);
  EXPECT_EQ(many.customers(1).stats().balance().amount_minor(), 100000);
  EXPECT_EQ(many.customers(1).stats().ledger_version(), 2);
  EXPECT_TRUE(many.customers(2).has_stats());
}

// CustomerStats.balance is what the customer owes minus the credit the shop holds for them
// (balance.proto): a deposit kept as credit makes it negative, as ledger-svc's own
// GetCustomerBalance would show (balance 0, credit 5.000).
TEST_P(CustomerStatsApiTest, CreditKeptFromAPaymentMakesTheBalanceNegative) {
  const v1::Customer budi = MustCreate("Budi Santoso");
  const v1::Customer ani = MustCreate("Ani");
  Apply(CreditOnlyPayment(budi.customer_id()));

  v1::GetCustomerRequest get;
  get.set_customer_id(budi.customer_id());
  v1::GetCustomerResponse got;
  ASSERT_TRUE(customers_->GetCustomer(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.customer().stats().balance().amount_minor(), -5000);

  // Lists agree: sorted below a customer who owes nothing, and not a debtor.
  v1::ListCustomersRequest by_balance;
  by_balance.set_order_by("balance");
  v1::ListCustomersResponse listed;
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), by_balance, &listed).ok());
  ASSERT_EQ(listed.customers_size(), 2);
  EXPECT_EQ(listed.customers(0).customer_id(), budi.customer_id());
  EXPECT_EQ(listed.customers(0).stats().balance().amount_minor(), -5000);
  by_balance.set_filter("has_balance = true");
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), by_balance, &listed).ok());
  EXPECT_EQ(listed.customers_size(), 0);

  // A sale of 12.000 later: 12.000 owed, 5.000 still held (credit is applied only on
  // request) -> 7.000.
  ledger::v1::SaleRecorded sale;
  sale.set_customer_id(budi.customer_id());
  sale.set_ledger_version(2);
  *sale.mutable_stats() = CreditOnlyPayment(budi.customer_id()).stats();
  sale.mutable_stats()->set_ledger_version(2);
  sale.mutable_stats()->mutable_balance()->set_amount_minor(12000);
  sale.mutable_stats()->mutable_total_spent()->set_amount_minor(12000);
  sale.mutable_stats()->set_transaction_count(1);
  Apply(sale);
  ASSERT_TRUE(customers_->GetCustomer(Ctx().get(), get, &got).ok());
  EXPECT_EQ(got.customer().stats().balance().amount_minor(), 7000);
}

INSTANTIATE_TEST_SUITE_P(Drivers, CustomerStatsApiTest,
                         ::testing::Values("sqlite", "postgres", "sqlite_group_commit",
                                           "postgres_group_commit"),
                         [](const auto& info) { return info.param; });

// --- ListCustomers.total_size, SearchCustomers.order_by ---

TEST_P(CustomerQueryApiTest, ListTotalSizeCountsEveryMatchOnEveryPageWhenAsked) {
  for (const char* name : {"Citra", "Adi", "Budi", "Dewi", "Eka"}) MustCreate(name);
  v1::Customer archived = MustCreate("Fajar");
  v1::ArchiveCustomerRequest archive;
  archive.set_customer_id(archived.customer_id());
  v1::ArchiveCustomerResponse unused;
  ASSERT_TRUE(customers_->ArchiveCustomer(Ctx().get(), archive, &unused).ok());

  v1::ListCustomersRequest request;
  request.set_page_size(2);
  {
    v1::ListCustomersResponse uncounted;  // counted only when asked
    ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), request, &uncounted).ok());
    EXPECT_EQ(uncounted.total_size(), 0);
    EXPECT_EQ(uncounted.customers_size(), 2);
  }
  request.set_include_total_size(true);
  std::vector<int> totals;
  int listed = 0;
  do {
    v1::ListCustomersResponse page;
    ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), request, &page).ok());
    totals.push_back(page.total_size());
    listed += page.customers_size();
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  EXPECT_EQ(listed, 5);
  EXPECT_THAT(totals, ElementsAre(5, 5, 5));  // ACTIVE only, on every page

  v1::ListCustomersRequest all;
  all.set_include_total_size(true);
  all.set_show_archived(true);
  v1::ListCustomersResponse page;
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), all, &page).ok());
  EXPECT_EQ(page.total_size(), 6);
  all.set_filter("state = ARCHIVED");
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), all, &page).ok());
  EXPECT_EQ(page.total_size(), 1);
  all.set_filter("no_transactions = false");
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), all, &page).ok());
  EXPECT_EQ(page.total_size(), 0);
}

TEST_P(CustomerQueryApiTest, SearchHonoursAndValidatesOrderBy) {
  MustCreate("Budiman Hartono");
  MustCreate("Budi");
  MustCreate("Budi Santoso");
  auto names = [&](const std::string& order_by, int page_size = 0) {
    v1::SearchCustomersRequest request;
    request.set_query("budi");
    request.set_order_by(order_by);
    request.set_page_size(page_size);
    std::vector<std::string> out;
    do {
      v1::SearchCustomersResponse response;
      grpc::Status status = customers_->SearchCustomers(Ctx().get(), request, &response);
      EXPECT_TRUE(status.ok()) << order_by << ": " << Decode(status);
      if (!status.ok()) break;
      for (const auto& r : response.results()) out.push_back(r.customer().display_name());
      request.set_page_token(response.next_page_token());
    } while (!request.page_token().empty());
    return out;
  };
  EXPECT_EQ(names("").front(), "Budi");  // relevance: the exact name first
  EXPECT_THAT(names("display_name"), ElementsAre("Budi", "Budi Santoso", "Budiman Hartono"));
  EXPECT_THAT(names("display_name desc", 1),
              ElementsAre("Budiman Hartono", "Budi Santoso", "Budi"));

  for (const char* bad : {"score", "relevance", "display_name sideways", "total_spent, balance"}) {
    v1::SearchCustomersRequest request;
    request.set_query("budi");
    request.set_order_by(bad);
    v1::SearchCustomersResponse response;
    grpc::Status status = customers_->SearchCustomers(Ctx().get(), request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << bad;
    EXPECT_EQ(errors::Reason(Decode(status)), "INVALID_ORDER_BY") << bad;
    EXPECT_THAT(ViolationFields(status), ElementsAre("order_by")) << bad;
  }
}

// --- Pages that fit the 4 MiB message limit ---

// Customers with every long text near its maximum, in Thai (3 bytes a character): about
// 52 KB each, so that 100 of them (5 MB) cannot travel in one gRPC message.
class LargePagesApiTest : public CustomerQueryApiTest {
 protected:
  void SetUp() override {
    CustomerQueryApiTest::SetUp();
    if (HasFatalFailure()) return;
    auto thai = [](int chars) {
      std::string out;
      for (int i = 0; i < chars; ++i) out += "ก";
      return out;
    };
    v1::CreateCustomerRequest request;
    v1::Customer* c = request.mutable_customer();
    c->set_notes(thai(3990));
    c->mutable_address()->set_text(thai(990));
    c->mutable_address()->set_city(thai(190));
    c->mutable_preferences()->set_special_needs(thai(1990));
    for (int i = 0; i < 50; ++i) c->mutable_preferences()->add_favourite_products(thai(190));
    c->mutable_birthday()->set_month(1);  // within a week of the fixture's clock (2026-01-01)
    c->mutable_birthday()->set_day(3);
    for (int i = 0; i < kCustomers; ++i) {
      c->set_display_name(absl::StrCat("Pelanggan Besar ", 1000 + i));
      v1::Customer created;
      grpc::Status status = Create(request, &created);
      ASSERT_TRUE(status.ok()) << Decode(status);
      ids_.insert(created.customer_id());
    }
  }

  static constexpr int kCustomers = 100;
  std::set<std::string> ids_;
};

TEST_P(LargePagesApiTest, ListPagesAreCutShortAndContinueAfterTheLastCustomer) {
  for (const char* order_by : {"", "display_name desc", "balance", "create_time desc"}) {
    SCOPED_TRACE(order_by);
    v1::ListCustomersRequest request;
    request.set_page_size(500);
    request.set_order_by(order_by);
    request.set_include_total_size(true);
    std::map<std::string, int> seen;
    int pages = 0;
    do {
      v1::ListCustomersResponse page;
      grpc::Status status = customers_->ListCustomers(Ctx().get(), request, &page);
      ASSERT_TRUE(status.ok()) << status.error_message();
      ASSERT_GT(page.customers_size(), 0);
      EXPECT_LT(page.ByteSizeLong(), 4u * 1024 * 1024);
      EXPECT_EQ(page.total_size(), kCustomers);
      for (const auto& c : page.customers()) ++seen[c.customer_id()];
      request.set_page_token(page.next_page_token());
      ++pages;
    } while (!request.page_token().empty() && pages < 10);
    EXPECT_GE(pages, 2);
    EXPECT_EQ(seen.size(), ids_.size());
    for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  }
}

TEST_P(LargePagesApiTest, SearchPagesAreCutShortAndContinueAfterTheLastResult) {
  for (const char* order_by : {"", "display_name"}) {
    SCOPED_TRACE(order_by);
    v1::SearchCustomersRequest request;
    request.set_query("Pelanggan Besar");
    request.set_page_size(100);
    request.set_order_by(order_by);
    std::map<std::string, int> seen;
    int pages = 0;
    do {
      v1::SearchCustomersResponse page;
      grpc::Status status = customers_->SearchCustomers(Ctx().get(), request, &page);
      ASSERT_TRUE(status.ok()) << status.error_message();
      ASSERT_GT(page.results_size(), 0);
      EXPECT_LT(page.ByteSizeLong(), 4u * 1024 * 1024);
      for (const auto& r : page.results()) ++seen[r.customer().customer_id()];
      request.set_page_token(page.next_page_token());
      ++pages;
    } while (!request.page_token().empty() && pages < 10);
    EXPECT_GE(pages, 2);
    EXPECT_EQ(seen.size(), ids_.size());
    for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
  }
}

TEST_P(LargePagesApiTest, BirthdayPagesAreCutShortAndContinueAfterTheLastCustomer) {
  v1::ListUpcomingBirthdaysRequest request;
  request.set_page_size(500);
  std::map<std::string, int> seen;
  int pages = 0;
  do {
    v1::ListUpcomingBirthdaysResponse page;
    grpc::Status status = customers_->ListUpcomingBirthdays(Ctx().get(), request, &page);
    ASSERT_TRUE(status.ok()) << status.error_message();
    ASSERT_GT(page.birthdays_size(), 0);
    EXPECT_LT(page.ByteSizeLong(), 4u * 1024 * 1024);
    EXPECT_EQ(page.total_size(), kCustomers);
    for (const auto& b : page.birthdays()) ++seen[b.customer().customer_id()];
    request.set_page_token(page.next_page_token());
    ++pages;
  } while (!request.page_token().empty() && pages < 10);
  EXPECT_GE(pages, 2);
  EXPECT_EQ(seen.size(), ids_.size());
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id;
}

TEST_P(LargePagesApiTest, BatchGetThatCannotFitSaysHowManyWould) {
  v1::BatchGetCustomersRequest request;
  for (const auto& id : ids_) request.add_customer_ids(id);
  v1::BatchGetCustomersResponse response;
  grpc::Status status = customers_->BatchGetCustomers(Ctx().get(), request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  const absl::Status decoded = Decode(status);
  EXPECT_EQ(errors::Reason(decoded), "RESPONSE_TOO_LARGE");
  int max_items = 0;
  ASSERT_TRUE(absl::SimpleAtoi(errors::GetMetadata(decoded)["max_items"], &max_items));
  EXPECT_GT(max_items, 0);
  EXPECT_LT(max_items, kCustomers);
  request.mutable_customer_ids()->DeleteSubrange(max_items, kCustomers - max_items);
  status = customers_->BatchGetCustomers(Ctx().get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.customers_size(), max_items);
}

INSTANTIATE_TEST_SUITE_P(Drivers, LargePagesApiTest,
                         ::testing::Values("sqlite", "postgres", "sqlite_group_commit",
                                           "postgres_group_commit"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Drivers, CustomerQueryApiTest,
                         ::testing::Values("sqlite", "postgres", "sqlite_group_commit",
                                           "postgres_group_commit"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::customer::testing_support
