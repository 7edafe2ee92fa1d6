#include "libs/idempotency/idempotency.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "customer-svc/store/migrations.h"
#include "google/protobuf/wrappers.pb.h"
#include "gtest/gtest.h"
#include "ledger-svc/store/migrations.h"
#include "libs/db/migrations.h"
#include "libs/testing/postgres_environment.h"
#include "libs/testing/temp_dir.h"

namespace kelola::idempotency {
namespace {

google::protobuf::StringValue Request(const std::string& text) {
  google::protobuf::StringValue request;
  request.set_value(text);
  return request;
}

TEST(FingerprintTest, IsStableAcrossBuildsAndTellsRequestsApart) {
  // Stored hashes depend on this exact value: a change would refuse every replay.
  EXPECT_EQ(Fingerprint(Request("beras 5 kg")), "2e71914147544cc5ba7ba132f3440ccdc");
  EXPECT_NE(Fingerprint(Request("beras 5 kg")), Fingerprint(Request("beras 5 kh")));
  EXPECT_EQ(Print(Request("x")).hash(), Fingerprint(Request("x")));
}

TEST(FingerprintTest, RowsOfTheOldLedgerFormStillMatchTheirRequest) {
  const Print print(Request("beras 5 kg"));
  EXPECT_TRUE(print.Matches(print.hash()));
  const std::string bytes = Request("beras 5 kg").SerializeAsString();
  EXPECT_TRUE(print.Matches(absl::StrCat("bytes:", absl::BytesToHexString(bytes))));
  EXPECT_FALSE(print.Matches(
      absl::StrCat("bytes:", absl::BytesToHexString(Request("beras 5 kh").SerializeAsString()))));
  EXPECT_FALSE(print.Matches(Fingerprint(Request("beras 5 kh"))));
  EXPECT_FALSE(print.Matches(""));
}

// --- The table, on both drivers --------------------------------------------------------

class IdempotencyTableTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::unique_ptr<db::Database> OpenDatabase(const std::string& name) {
    std::string url;
    if (GetParam() == "sqlite") {
      if (dir_ == nullptr) {
        auto dir = testing::TempDir::Create("kelola-idem");
        EXPECT_TRUE(dir.ok());
        dir_ = *std::move(dir);
      }
      url = absl::StrCat("sqlite:", dir_->path(), "/", name, ".db");
    } else {
      auto created = testing::SharedPostgres()->CreateUniqueDatabase(name);
      EXPECT_TRUE(created.ok()) << created.status();
      url = *created;
    }
    auto db = db::Open(url);
    EXPECT_TRUE(db.ok()) << db.status();
    return *std::move(db);
  }

  // (name, type, not null) of every column of idempotency_keys, in order.
  static std::vector<std::string> Columns(db::Database& db) {
    std::vector<std::string> out;
    absl::Status read = db.InTransaction([&](db::Transaction& tx) -> absl::Status {
      out.clear();
      const bool pg = tx.dialect() == db::Dialect::kPostgres;
      auto rows = tx.Query(
          pg ? "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
               "WHERE table_name = 'idempotency_keys' ORDER BY ordinal_position"
             : "SELECT name, type, \"notnull\" FROM pragma_table_info('idempotency_keys')");
      if (!rows.ok()) return rows.status();
      for (const db::Row& r : *rows) {
        out.push_back(absl::StrCat(r.GetText(0), " ", r.GetText(1), " ",
                                   pg ? r.GetText(2) : absl::StrCat(r.GetInt(2))));
      }
      return absl::OkStatus();
    });
    EXPECT_TRUE(read.ok()) << read;
    return out;
  }

  std::unique_ptr<testing::TempDir> dir_;
};

TEST_P(IdempotencyTableTest, AKeyIsClaimedOnceAndItsResponseRemembered) {
  auto db = OpenDatabase("claims");
  ASSERT_TRUE(db::ApplyMigrations(*db, {{1, "keys", CreateTableSql(), ""}}).ok());
  const Key key{"toko-1", "RecordSale", "req-1"};
  const Print print(Request("sale"));
  absl::Status first = db->InTransaction([&](db::Transaction& tx) -> absl::Status {
    if (auto s = Claim(tx, key, print, absl::FromUnixSeconds(1767225600)); !s.ok()) return s;
    return Remember(tx, key, "response-1");
  });
  ASSERT_TRUE(first.ok()) << first;
  absl::Status second = db->InTransaction([&](db::Transaction& tx) -> absl::Status {
    if (auto s = Claim(tx, key, print, absl::FromUnixSeconds(1767225601)); !s.ok()) return s;
    return Remember(tx, key, "response-2");
  });
  EXPECT_TRUE(IsClaimTaken(second)) << second;
  absl::Status looked = db->InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto stored = Lookup(tx, key);
    if (!stored.ok()) return stored.status();
    EXPECT_TRUE(stored->has_value());
    if (stored->has_value()) {
      EXPECT_EQ((*stored)->response, "response-1");
      EXPECT_TRUE(print.Matches((*stored)->request_hash));
    }
    auto other = Lookup(tx, {"toko-2", "RecordSale", "req-1"});  // another tenant's key
    if (!other.ok()) return other.status();
    EXPECT_FALSE(other->has_value());
    return absl::OkStatus();
  });
  ASSERT_TRUE(looked.ok()) << looked;
  // Record: the claim and the response in one statement, with the subject.
  absl::Status recorded = db->InTransaction([&](db::Transaction& tx) -> absl::Status {
    return Record(tx, {"toko-1", "CreateCustomer", "req-1"}, print.hash(), "r", absl::Now(),
                  "customer-9");
  });
  ASSERT_TRUE(recorded.ok()) << recorded;
}

TEST_P(IdempotencyTableTest, BothServicesKeepTheSameTableAndOldLedgerRowsStillReplay) {
  // ledger-svc as it was before the shared table (migrations up to 11), with a sale
  // recorded then, its key holding the request's bytes.
  auto ledger = OpenDatabase("ledger");
  std::vector<db::Migration> before;
  for (db::Migration& m : ledger::Migrations()) {
    if (m.version <= 11) before.push_back(std::move(m));
  }
  ASSERT_TRUE(db::ApplyMigrations(*ledger, before).ok());
  const auto old_request = Request("a sale recorded before the upgrade");
  absl::Status stored = ledger->InTransaction([&](db::Transaction& tx) -> absl::Status {
    return tx
        .Execute(
            "INSERT INTO idempotency_keys (tenant_id, rpc, request_id, request, response, "
            "create_time_micros) VALUES (?, ?, ?, ?, ?, ?)",
            {"toko-1", "RecordSale", "offline-7", db::Bytes{old_request.SerializeAsString()},
             db::Bytes{"the stored response"}, int64_t{1767225600000000}})
        .status();
  });
  ASSERT_TRUE(stored.ok()) << stored;
  ASSERT_TRUE(db::ApplyMigrations(*ledger, ledger::Migrations()).ok());

  absl::Status replay = ledger->InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto found = Lookup(tx, {"toko-1", "RecordSale", "offline-7"});
    if (!found.ok()) return found.status();
    EXPECT_TRUE(found->has_value());
    if (!found->has_value()) return absl::OkStatus();
    EXPECT_EQ((*found)->response, "the stored response");
    EXPECT_TRUE(Print(old_request).Matches((*found)->request_hash));
    EXPECT_FALSE(Print(Request("another sale")).Matches((*found)->request_hash));
    return absl::OkStatus();
  });
  ASSERT_TRUE(replay.ok()) << replay;

  auto customers = OpenDatabase("customers");
  ASSERT_TRUE(db::ApplyMigrations(*customers, customer::Migrations()).ok());
  const std::vector<std::string> columns = Columns(*ledger);
  EXPECT_EQ(columns.size(), 7u);
  EXPECT_EQ(columns, Columns(*customers));
}

INSTANTIATE_TEST_SUITE_P(Drivers, IdempotencyTableTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::idempotency
