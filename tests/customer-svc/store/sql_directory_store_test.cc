// The SQL directory store on SQLite and PostgreSQL: the unique indexes are the last line of
// duplicate prevention (C6), and their violations come back as CUSTOMER_DUPLICATE naming
// the existing customer, even when the code-level check was skipped (as a racing writer
// effectively does).

#include <atomic>
#include <thread>

#include "customer-svc/store/directory_store.h"
#include "tests/customer-svc/api/api_fixture.h"

namespace kelola::customer::testing_support {
namespace {

class SqlDirectoryStoreTest : public DirectoryApiTest {
 protected:
  // Inserts a customer without the duplicate check.
  absl::Status InsertUnchecked(const std::string& id, const std::string& e164,
                               const std::string& email) {
    return store_->Write(
        "t1", {},
        [&](store::DirectoryTx& tx) -> absl::Status {
          store::CustomerRecord r;
          r.customer.set_customer_id(id);
          r.customer.set_display_name("Racer");
          r.customer.set_state(v1::CUSTOMER_STATE_ACTIVE);
          if (!e164.empty()) r.customer.add_additional_phones()->set_e164(e164);
          r.customer.set_email(email);
          r.version = 1;
          return tx.InsertCustomer(r);
        },
        nullptr);
  }
};

TEST_P(SqlDirectoryStoreTest, UniqueViolationsBecomeCustomerDuplicate) {
  v1::Customer budi = MustCreate("Budi", "0812-3456-789", "budi@example.com");
  absl::Status phone = InsertUnchecked("racer-1", "+628123456789", "");
  ASSERT_EQ(phone.code(), absl::StatusCode::kAlreadyExists) << phone;
  EXPECT_EQ(errors::Reason(phone), "CUSTOMER_DUPLICATE");
  EXPECT_EQ(errors::GetMetadata(phone)["existing_customer_id"], budi.customer_id());
  EXPECT_EQ(errors::GetMetadata(phone)["field"], "customer.additional_phones[0]");

  absl::Status email = InsertUnchecked("racer-2", "", "budi@example.com");
  ASSERT_EQ(email.code(), absl::StatusCode::kAlreadyExists) << email;
  EXPECT_EQ(errors::Reason(email), "CUSTOMER_DUPLICATE");
  EXPECT_EQ(errors::GetMetadata(email)["field"], "customer.email");
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers"), 1);

  EXPECT_TRUE(InsertUnchecked("racer-3", "+628999999999", "other@example.com").ok());
}

TEST_P(SqlDirectoryStoreTest, IdempotencyRecordsAreScopedByTenant) {
  v1::CreateCustomerRequest request;
  request.set_request_id("same-key");
  request.mutable_customer()->set_display_name("A");
  v1::Customer t1, t2;
  ASSERT_TRUE(Create(request, &t1, "t1").ok());
  request.mutable_customer()->set_display_name("B");
  ASSERT_TRUE(Create(request, &t2, "t2").ok());
  EXPECT_NE(t1.customer_id(), t2.customer_id());
  EXPECT_EQ(t2.display_name(), "B");
}

TEST_P(SqlDirectoryStoreTest, ConcurrentRetriesOfOneRequestCreateOnce) {
  v1::CreateCustomerRequest request;
  request.set_request_id("flaky-network");
  request.mutable_customer()->set_display_name("Retry");
  std::vector<v1::Customer> results(6);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] {
      grpc::Status s = Create(request, &results[i]);
      if (!s.ok()) {
        failures++;
        ADD_FAILURE() << Decode(s);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  for (const auto& r : results) EXPECT_EQ(r.customer_id(), results[0].customer_id());
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers"), 1);
  EXPECT_EQ(CountEvents("CustomerCreated"), 1);
}

TEST_P(SqlDirectoryStoreTest, WrittenHookRunsInTheWritingTransaction) {
  std::vector<std::string> written;
  store::DirectoryStoreOptions options;
  options.on_customer_written = [&](db::Transaction& tx, absl::string_view tenant,
                                    absl::string_view id,
                                    const v1::Customer* saved) -> absl::Status {
    if (saved == nullptr || saved->customer_id() != id) {
      return absl::InternalError("hook without the written customer");
    }
    auto row = tx.QueryOne("SELECT COUNT(*) FROM customers WHERE tenant_id = ? AND customer_id = ?",
                           {std::string(tenant), std::string(id)});
    if (!row.ok()) return row.status();
    if (row->GetInt(0) != 1) return absl::InternalError("row not visible to the hook");
    written.push_back(std::string(id));
    return id == "refused" ? absl::FailedPreconditionError("hook says no") : absl::OkStatus();
  };
  auto hooked = store::NewSqlDirectoryStore(*db_, clock_, *outbox_, options);
  auto insert = [&](const std::string& id) {
    return hooked->Write(
        "t1", {},
        [&](store::DirectoryTx& tx) -> absl::Status {
          store::CustomerRecord r;
          r.customer.set_customer_id(id);
          r.customer.set_display_name("Hooked");
          r.customer.set_state(v1::CUSTOMER_STATE_ACTIVE);
          return tx.InsertCustomer(r);
        },
        nullptr);
  };
  EXPECT_TRUE(insert("accepted").ok());
  EXPECT_EQ(insert("refused").code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(written, (std::vector<std::string>{"accepted", "refused"}));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers"), 1);
}

INSTANTIATE_TEST_SUITE_P(Drivers, SqlDirectoryStoreTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace kelola::customer::testing_support
