// Times stored before the Timestamp range was enforced (a consent time below 0001-01-01,
// nanos -1 or 1e9) are clamped when read back: GetCustomer and ExportCustomerData (a legal
// access request) keep working, on SQLite and PostgreSQL.

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/time/time.h"
#include "tests/customer-svc/api/api_fixture.h"

namespace kelola::customer::testing_support {
namespace {

using StoredTimeTest = DirectoryApiTest;

bool InRange(const google::protobuf::Timestamp& ts) {
  return time::ValidateTimestamp(ts, "t").ok();
}

// Writes `consent` into the stored customer row, its consent history and its events, as a
// release that did not check the range did.
void StoreConsentTime(db::Database& db, const std::string& id,
                      const google::protobuf::Timestamp& consent) {
  absl::Status status = db.InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto rows = tx.Query("SELECT data FROM customers WHERE tenant_id = ? AND customer_id = ?",
                         {std::string("t1"), id});
    if (!rows.ok()) return rows.status();
    v1::Customer customer;
    if (rows->size() != 1 || !customer.ParseFromString((*rows)[0].GetBytes(0))) {
      return absl::InternalError("no customer row");
    }
    *customer.mutable_marketing_consent()->mutable_consent_time() = consent;
    auto updated =
        tx.Execute("UPDATE customers SET data = ? WHERE tenant_id = ? AND customer_id = ?",
                   {db::Bytes{customer.SerializeAsString()}, std::string("t1"), id});
    if (!updated.ok()) return updated.status();
    auto history = tx.Execute(
        "UPDATE consent_history SET consent_time_micros = ?, record_time_micros = ? WHERE "
        "tenant_id = ? AND customer_id = ?",
        {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
         std::string("t1"), id});
    if (!history.ok()) return history.status();
    v1::CustomerMarketingConsentChanged changed;
    changed.set_customer_id(id);
    *changed.mutable_marketing_consent() = customer.marketing_consent();
    return tx
        .Execute(
            "UPDATE events SET payload = ? WHERE tenant_id = ? AND aggregate_id = ? AND type = ?",
            {db::Bytes{changed.SerializeAsString()}, std::string("t1"), id,
             v1::CustomerMarketingConsentChanged::descriptor()->full_name()})
        .status();
  });
  ASSERT_TRUE(status.ok()) << status;
}

void ExpectReadable(v1::CustomerService::Stub& customers,
                    std::unique_ptr<grpc::ClientContext> get_ctx,
                    std::unique_ptr<grpc::ClientContext> export_ctx, const std::string& id) {
  v1::GetCustomerRequest get;
  get.set_customer_id(id);
  v1::GetCustomerResponse got;
  grpc::Status read = customers.GetCustomer(get_ctx.get(), get, &got);
  ASSERT_TRUE(read.ok()) << Decode(read);
  EXPECT_TRUE(InRange(got.customer().marketing_consent().consent_time()))
      << got.customer().marketing_consent().consent_time().DebugString();
  std::string json;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(got.customer(), &json).ok());

  v1::ExportCustomerDataRequest request;
  request.set_customer_id(id);
  v1::ExportCustomerDataResponse exported;
  grpc::Status status = customers.ExportCustomerData(export_ctx.get(), request, &exported);
  ASSERT_TRUE(status.ok()) << Decode(status);
  google::protobuf::Struct document;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(exported.data(), &document).ok())
      << exported.data();
  EXPECT_EQ(document.fields().at("consent_history").list_value().values_size(), 1);
}

TEST_P(StoredTimeTest, OutOfRangeStoredConsentTimeStillReadsAndExports) {
  struct Case {
    int64_t seconds;
    int32_t nanos;
  };
  for (const Case& c : {Case{time::kMinTimestampSeconds - 86400, 0}, Case{1700000000, -1},
                        Case{1700000000, 1000000000}, Case{time::kMaxTimestampSeconds + 1, 5}}) {
    SCOPED_TRACE(absl::StrCat(c.seconds, "s ", c.nanos, "ns"));
    const v1::Customer customer = MustCreate(absl::StrCat("Siti ", c.seconds, " ", c.nanos));
    v1::SetMarketingConsentRequest consent;
    consent.set_customer_id(customer.customer_id());
    consent.set_state(v1::MARKETING_CONSENT_STATE_GRANTED);
    consent.set_source("in_store_form");
    v1::SetMarketingConsentResponse consented;
    grpc::Status set = customers_->SetMarketingConsent(Ctx().get(), consent, &consented);
    ASSERT_TRUE(set.ok()) << Decode(set);

    google::protobuf::Timestamp bad;
    bad.set_seconds(c.seconds);
    bad.set_nanos(c.nanos);
    StoreConsentTime(*db_, customer.customer_id(), bad);
    ExpectReadable(*customers_, Ctx(), Ctx(), customer.customer_id());
  }
}

INSTANTIATE_TEST_SUITE_P(Drivers, StoredTimeTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace kelola::customer::testing_support
