// LocalCustomerDirectory over a real DirectoryProjection (SQLite and PostgreSQL), fed with
// customer-svc's event payloads, and a fake customer-svc that counts the calls it answers.

#include "ledger-svc/app/local_customer_directory.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/events.pb.h"
#include "ledger-svc/domain/sale_eligibility.h"
#include "ledger-svc/store/migrations.h"
#include "libs/db/migrations.h"
#include "libs/errors/errors.h"
#include "libs/testing/postgres_environment.h"
#include "libs/testing/temp_dir.h"

namespace kelola::ledger {
namespace {

namespace cv1 = customer::v1;
constexpr char kTenant[] = "t1";

// customer-svc: every known customer may buy, with its category and version.
class FakeRemote : public CustomerDirectory {
 public:
  absl::StatusOr<CustomerCheck> CheckForSale(absl::string_view, absl::string_view customer_id,
                                             absl::Time) override {
    ++calls;
    if (!available) return absl::UnavailableError("customer-svc down");
    if (customer_id == "ghost") {
      return errors::Error(absl::StatusCode::kNotFound, "CUSTOMER_NOT_FOUND", "not found");
    }
    return CustomerCheck{"cat-remote", version};
  }
  absl::StatusOr<TenantSettings> GetTenantSettings(absl::string_view, absl::Time) override {
    return TenantSettings{"IDR", "Asia/Jakarta"};
  }
  int calls = 0;
  bool available = true;
  int64_t version = 1;
};

template <typename Payload>
type::v1::Event EventOf(const std::string& customer, int64_t version, const Payload& payload) {
  type::v1::Event event;
  event.set_tenant_id(kTenant);
  event.set_aggregate_type("customer");
  event.set_aggregate_id(customer);
  event.set_aggregate_version(version);
  event.mutable_payload()->PackFrom(payload);
  return event;
}

type::v1::Event Created(const std::string& customer, int64_t version, const std::string& category) {
  cv1::CustomerCreated created;
  created.mutable_customer()->set_customer_id(customer);
  created.mutable_customer()->set_category_id(category);
  created.mutable_customer()->set_state(cv1::CUSTOMER_STATE_ACTIVE);
  return EventOf(customer, version, created);
}

class LocalCustomerDirectoryTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string url;
    if (GetParam() == "sqlite") {
      auto dir = testing::TempDir::Create("kelola-ledger-directory");
      ASSERT_TRUE(dir.ok()) << dir.status();
      dir_ = *std::move(dir);
      url = absl::StrCat("sqlite:", dir_->path(), "/ledger.db");
    } else {
      ASSERT_NE(testing::SharedPostgres(), nullptr);
      auto created = testing::SharedPostgres()->CreateUniqueDatabase("ledger_directory");
      ASSERT_TRUE(created.ok()) << created.status();
      url = *created;
    }
    auto db = db::Open(url);
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = *std::move(db);
    ASSERT_TRUE(db::ApplyMigrations(*db_, Migrations()).ok());
    projection_ = std::make_unique<DirectoryProjection>(*db_);
    local_ = std::make_unique<LocalCustomerDirectory>(*projection_, remote_);
  }

  void Apply(const std::vector<type::v1::Event>& events) {
    ASSERT_TRUE(db_->InTransaction([&](db::Transaction& tx) {
                     return ApplyDirectoryEvents(tx, events);
                   }).ok());
  }

  absl::StatusOr<CustomerCheck> Check(const std::string& customer) {
    return local_->CheckForSale(kTenant, customer, absl::InfiniteFuture());
  }

  std::unique_ptr<testing::TempDir> dir_;
  std::unique_ptr<db::Database> db_;
  FakeRemote remote_;
  std::unique_ptr<DirectoryProjection> projection_;
  std::unique_ptr<LocalCustomerDirectory> local_;
};

TEST_P(LocalCustomerDirectoryTest, AProjectedCustomerIsAnsweredWithoutCustomerSvc) {
  Apply({Created("c1", 1, "cat-a")});
  remote_.available = false;
  auto check = Check("c1");
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->category_id, "cat-a");
  EXPECT_EQ(remote_.calls, 0);
}

TEST_P(LocalCustomerDirectoryTest, AnUnseenCustomerIsAskedOnceAndRemembered) {
  remote_.version = 3;
  for (int i = 0; i < 3; ++i) {
    auto check = Check("fresh");
    ASSERT_TRUE(check.ok()) << check.status();
    EXPECT_EQ(check->category_id, "cat-remote");
  }
  EXPECT_EQ(remote_.calls, 1);
  // The stream's older events of that customer do not undo the newer answer.
  Apply({Created("fresh", 2, "cat-old")});
  EXPECT_EQ(Check("fresh")->category_id, "cat-remote");
  // A newer one replaces it.
  cv1::CustomerCategoryChanged moved;
  moved.set_customer_id("fresh");
  moved.set_new_category_id("cat-new");
  Apply({EventOf("fresh", 4, moved)});
  EXPECT_EQ(Check("fresh")->category_id, "cat-new");
  EXPECT_EQ(remote_.calls, 1);
}

TEST_P(LocalCustomerDirectoryTest, RefusalsFollowTheStream) {
  cv1::CustomerArchived archived;
  archived.set_customer_id("c1");
  cv1::CustomerMerged merged;
  merged.set_source_customer_id("c2");
  merged.set_target_customer_id("c3");
  cv1::CustomerDeleted deleted;
  deleted.set_customer_id("c4");
  cv1::CustomerErased erased;
  erased.set_customer_id("c5");
  // One batch: each customer's events reduced in order and written once.
  Apply({Created("c1", 1, ""), EventOf("c1", 2, archived), Created("c2", 1, ""),
         EventOf("c2", 2, merged), Created("c4", 1, ""), EventOf("c4", 2, deleted),
         Created("c5", 1, ""), EventOf("c5", 2, erased)});
  remote_.available = false;  // every answer below comes from the projection
  auto c1 = Check("c1");
  EXPECT_EQ(c1.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(errors::Reason(c1.status()), "CUSTOMER_ARCHIVED");
  auto c2 = Check("c2");
  EXPECT_EQ(errors::Reason(c2.status()), "CUSTOMER_MERGED");
  EXPECT_EQ(errors::GetMetadata(c2.status())["merged_into_customer_id"], "c3");
  EXPECT_EQ(errors::Reason(Check("c4").status()), "CUSTOMER_NOT_FOUND");
  EXPECT_EQ(errors::Reason(Check("c5").status()), "CUSTOMER_ARCHIVED");
  EXPECT_EQ(remote_.calls, 0);
  // Restored: may buy again.
  cv1::CustomerRestored restored;
  restored.set_customer_id("c1");
  Apply({EventOf("c1", 3, restored)});
  EXPECT_TRUE(Check("c1").ok());
}

TEST_P(LocalCustomerDirectoryTest, WhatCustomerSvcRefusesOrCannotAnswerIsNotRemembered) {
  EXPECT_EQ(errors::Reason(Check("ghost").status()), "CUSTOMER_NOT_FOUND");
  EXPECT_EQ(errors::Reason(Check("ghost").status()), "CUSTOMER_NOT_FOUND");
  EXPECT_EQ(remote_.calls, 2);
  remote_.available = false;
  EXPECT_EQ(Check("later").status().code(), absl::StatusCode::kUnavailable);
  remote_.available = true;
  EXPECT_TRUE(Check("later").ok());
  EXPECT_EQ(remote_.calls, 4);
}

TEST_P(LocalCustomerDirectoryTest, EventsOfOtherAggregatesAndTenantsAreKeptApart) {
  cv1::CategoryChanged category;
  category.mutable_category()->set_category_id("cat-a");
  type::v1::Event other_tenant = Created("c1", 1, "cat-b");
  other_tenant.set_tenant_id("t2");
  Apply({EventOf("cat-a", 1, category), other_tenant});
  auto mine = projection_->Find(kTenant, "c1");
  ASSERT_TRUE(mine.ok());
  EXPECT_FALSE(mine->has_value());
  auto theirs = projection_->Find("t2", "c1");
  ASSERT_TRUE(theirs.ok());
  ASSERT_TRUE(theirs->has_value());
  EXPECT_EQ((*theirs)->category_id, "cat-b");
}

INSTANTIATE_TEST_SUITE_P(Drivers, LocalCustomerDirectoryTest,
                         ::testing::Values("sqlite", "postgres"));

TEST(SaleEligibilityTest, OnlyActiveCustomersBuy) {
  customer_stream::CustomerRow row;
  row.customer_id = "c";
  row.version = 1;
  row.category_id = "k";
  EXPECT_EQ(SaleEligibility(row)->category_id, "k");
  EXPECT_EQ(SaleEligibility(row)->version, 1);
  row.state = customer_stream::CustomerState::kArchived;
  EXPECT_EQ(errors::Reason(SaleEligibility(row).status()), "CUSTOMER_ARCHIVED");
  row.state = customer_stream::CustomerState::kDeleted;
  EXPECT_EQ(SaleEligibility(row).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace kelola::ledger
