// The SQL directory store on SQLite and PostgreSQL: the unique indexes are the last line of
// duplicate prevention (C6), and their violations come back as CUSTOMER_DUPLICATE naming
// the existing customer, even when the code-level check was skipped (as a racing writer
// effectively does).

#include <atomic>
#include <filesystem>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "customer-svc/store/directory_store.h"
#include "customer-svc/store/migrations.h"
#include "customer-svc/store/remembered_keys.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
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

// InsertNewCustomers writes what InsertCustomer, Emit and RememberedKeys::Put would for each
// customer, in multi-row statements: 300 customers are statements of 256, 32, 8 and 4 rows.
// Without a hook for many, the hook for one runs for each customer, in order.
TEST_P(SqlDirectoryStoreTest, NewCustomersAreWrittenAtOnceAsEachWouldBe) {
  std::vector<std::string> written;
  store::DirectoryStoreOptions options;
  options.on_customer_written = [&](db::Transaction&, absl::string_view, absl::string_view id,
                                    const v1::Customer* saved) -> absl::Status {
    if (saved == nullptr || saved->customer_id() != id) return absl::InternalError("no customer");
    written.push_back(std::string(id));
    return absl::OkStatus();
  };
  auto hooked = store::NewSqlDirectoryStore(*db_, clock_, *outbox_, options);
  std::vector<store::NewCustomerWrite> writes(300);
  std::vector<std::string> ids, keys;
  for (size_t i = 0; i < writes.size(); ++i) {
    v1::Customer& c = writes[i].record.customer;
    c.set_customer_id(absl::StrCat("bulk-", absl::Dec(i, absl::kZeroPad3)));
    c.set_display_name(absl::StrCat("Pelanggan ", i));
    c.set_state(v1::CUSTOMER_STATE_ACTIVE);
    c.mutable_phone()->set_e164(absl::StrCat("+62813", absl::Dec(i, absl::kZeroPad7)));
    if (i % 3 == 0) {
      c.add_additional_phones()->set_e164(absl::StrCat("+62814", absl::Dec(i, absl::kZeroPad7)));
    }
    writes[i].record.version = 1;
    *writes[i].event.mutable_customer() = c;
    writes[i].key = absl::StrCat("row-", i);
    ids.push_back(c.customer_id());
    keys.push_back(writes[i].key);
  }
  absl::flat_hash_map<std::string, std::string> subjects;
  std::string repointed;
  bool other_scope_found = true;
  absl::Status status = hooked->Write(
      "t1", {},
      [&](store::DirectoryTx& tx) -> absl::Status {
        if (absl::Status s = tx.InsertNewCustomers("bulk.scope", writes); !s.ok()) return s;
        store::RememberedKeys remembered(tx);
        auto found = remembered.SubjectsOf("bulk.scope", keys);  // sees them in the transaction
        if (!found.ok()) return found.status();
        subjects = *std::move(found);
        // Put re-points a key; SubjectOf reads one; a key of another scope is not found.
        if (absl::Status s = remembered.Put("bulk.scope", "row-1", "bulk-000"); !s.ok()) return s;
        auto one = remembered.SubjectOf("bulk.scope", "row-1");
        if (!one.ok()) return one.status();
        repointed = one->value_or("");
        auto other = remembered.SubjectOf("other.scope", "row-1");
        if (!other.ok()) return other.status();
        other_scope_found = other->has_value();
        return absl::OkStatus();
      },
      nullptr);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(written, ids);
  ASSERT_EQ(subjects.size(), 300u);
  EXPECT_EQ(subjects["row-0"], "bulk-000");
  EXPECT_EQ(subjects["row-299"], "bulk-299");
  EXPECT_EQ(repointed, "bulk-000");
  EXPECT_FALSE(other_scope_found);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers WHERE tenant_id = 't1'"), 300);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_phones WHERE tenant_id = 't1'"), 400);
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customer_phones WHERE customer_id = 'bulk-297' AND "
                      "position = 1 AND e164 = '+628140000297' AND e164_dedupe = e164"),
            1);
  ASSERT_EQ(CountEvents("CustomerCreated"), 300);
  std::vector<std::string> order;
  ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
                   auto rows = tx.Query(
                       "SELECT aggregate_id, aggregate_version FROM events WHERE type = ? "
                       "ORDER BY sequence",
                       {std::string("kelola.customer.v1.CustomerCreated")});
                   if (!rows.ok()) return rows.status();
                   for (const auto& r : *rows) {
                     if (r.GetInt(1) != 1) return absl::InternalError("version is not 1");
                     order.push_back(r.GetText(0));
                   }
                   return absl::OkStatus();
                 })
                  .ok());
  EXPECT_EQ(order, ids);
  // The stored customer is the one given.
  std::optional<store::StoredCustomer> stored;
  ASSERT_TRUE(hooked
                  ->Read("t1",
                         [&](store::DirectoryTx& tx) -> absl::Status {
                           auto found = tx.FindCustomer("bulk-150");
                           if (!found.ok()) return found.status();
                           stored = *std::move(found);
                           return absl::OkStatus();
                         })
                  .ok());
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->customer.display_name(), "Pelanggan 150");
  EXPECT_EQ(stored->customer.phone().e164(), "+628130000150");
  EXPECT_EQ(stored->version, 1);
}

// An import's batches are bulk writes: on a SQLite file their commits leave the log to
// grow towards the bulk threshold, until their end has it copied
// (libs/db/sqlite_checkpointer.h).
class SqliteDirectoryStoreTest : public SqlDirectoryStoreTest {};

TEST_P(SqliteDirectoryStoreTest, BulkWritesLeaveTheSqliteLogLongUntilTheyEnd) {
  db::DatabaseOptions db_options;
  db_options.sqlite_wal_autocheckpoint_pages = 16;
  db_options.sqlite_bulk_wal_autocheckpoint_pages = 1000000;
  const std::string path = absl::StrCat(dir_->path(), "/bulk.db");
  auto db = db::Open(absl::StrCat("sqlite:", path), db_options);
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE(db::ApplyMigrations(**db, Migrations()).ok());
  auto store = store::NewSqlDirectoryStore(**db, clock_, *outbox_, {});
  auto bytes = [&](const std::string& file) {
    std::error_code error;
    const auto size = std::filesystem::file_size(file, error);
    return error ? int64_t{0} : static_cast<int64_t>(size);
  };
  auto log_bytes = [&] { return bytes(path + "-wal"); };
  int written = 0;
  auto write = [&](bool bulk) {
    store::WriteOptions options;
    options.bulk = bulk;
    const std::string id =
        absl::StrCat("00000000-0000-7000-8000-", absl::Dec(++written, absl::kZeroPad12));
    absl::Status s = store->Write(
        "t1", options,
        [&](store::DirectoryTx& tx) -> absl::Status {
          store::CustomerRecord r;
          r.customer.set_customer_id(id);
          r.customer.set_display_name(std::string(3000, 'b'));
          r.customer.set_state(v1::CUSTOMER_STATE_ACTIVE);
          r.version = 1;
          return tx.InsertCustomer(r);
        },
        nullptr);
    ASSERT_TRUE(s.ok()) << s;
  };
  // Ordinary writes: the log is copied every 16 pages and started again.
  for (int i = 0; i < 300; ++i) write(false);
  absl::SleepFor(absl::Milliseconds(300));
  EXPECT_LT(log_bytes(), 1 << 20);
  // Bulk writes of as many pages again: the log holds them all.
  for (int i = 0; i < 300; ++i) write(true);
  EXPECT_GT(log_bytes(), 2 << 20);
  // Their end has the log copied into the file, without another write.
  auto file_bytes = [&] { return bytes(path); };
  const int64_t before = file_bytes();
  store->BulkWritesEnded();
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (file_bytes() < before + (1 << 20) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_GE(file_bytes(), before + (1 << 20)) << "the bulk writes' log was not copied";
}

INSTANTIATE_TEST_SUITE_P(Drivers, SqlDirectoryStoreTest, ::testing::Values("sqlite", "postgres"));
// The log of a SQLite file: that driver alone.
INSTANTIATE_TEST_SUITE_P(Sqlite, SqliteDirectoryStoreTest, ::testing::Values("sqlite"));

}  // namespace
}  // namespace kelola::customer::testing_support
