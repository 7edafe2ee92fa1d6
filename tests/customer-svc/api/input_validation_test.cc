// Request fields that reach the database or the JSON export must be refused at the door
// when malformed: Timestamps outside protobuf's range, request_ids that are not printable
// ASCII, and page tokens the service did not issue. Every refusal is INVALID_ARGUMENT
// naming the field, never INTERNAL, on SQLite and PostgreSQL.

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "tests/customer-svc/api/api_fixture.h"

namespace kelola::customer::testing_support {
namespace {

using ::testing::ElementsAre;

class InputValidationTest : public DirectoryApiTest {
 protected:
  grpc::Status SetConsent(const std::string& customer_id, int64_t seconds, int32_t nanos) {
    v1::SetMarketingConsentRequest request;
    request.set_customer_id(customer_id);
    request.set_state(v1::MARKETING_CONSENT_STATE_GRANTED);
    request.set_source("in_store_form");
    request.mutable_consent_time()->set_seconds(seconds);
    request.mutable_consent_time()->set_nanos(nanos);
    v1::SetMarketingConsentResponse response;
    return customers_->SetMarketingConsent(Ctx().get(), request, &response);
  }

  grpc::Status Export(const std::string& customer_id) {
    v1::ExportCustomerDataRequest request;
    request.set_customer_id(customer_id);
    v1::ExportCustomerDataResponse response;
    return customers_->ExportCustomerData(Ctx().get(), request, &response);
  }
};

// A token the service issued, with `value` (which it carries in the clear) replaced by
// bytes of the same length that no well-behaved client would send.
std::string Tamper(const std::string& token, const std::string& value) {
  std::string raw;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(token, &raw));
  std::string garbage(value.size(), 'x');
  garbage[0] = '\xff';
  if (garbage.size() > 1) garbage[1] = '\0';
  const size_t at = raw.rfind(value);
  EXPECT_NE(at, std::string::npos) << "the token does not carry " << value;
  if (at != std::string::npos) raw.replace(at, value.size(), garbage);
  return absl::WebSafeBase64Escape(raw);
}

void ExpectTokenRefused(const grpc::Status& status) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_EQ(errors::Reason(Decode(status)), "PAGE_TOKEN_INVALID");
  EXPECT_THAT(ViolationFields(status), ElementsAre("page_token"));
}

TEST_P(InputValidationTest, ConsentTimeOutsideTheTimestampRangeIsRefused) {
  const v1::Customer siti = MustCreate("Siti Rahayu", "0812-3456-7890");
  for (const auto& [seconds, nanos] :
       std::vector<std::pair<int64_t, int32_t>>{{1767225600, -1},
                                                {1767225600, 1000000000},
                                                {-62135596801, 0},
                                                {253402300800, 0},
                                                {INT64_MIN, 0}}) {
    const grpc::Status refused = SetConsent(siti.customer_id(), seconds, nanos);
    EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << seconds << "." << nanos << ": " << refused.error_message();
    EXPECT_EQ(errors::Reason(Decode(refused)), "INVALID_ARGUMENT");
    EXPECT_THAT(ViolationFields(refused), ElementsAre("consent_time"));
  }
  // The limits themselves are valid (if not in the future).
  EXPECT_TRUE(SetConsent(siti.customer_id(), -62135596800, 0).ok());
  // The customer can still be exported.
  const grpc::Status exported = Export(siti.customer_id());
  EXPECT_TRUE(exported.ok()) << exported.error_message();
}

TEST_P(InputValidationTest, InitialConsentTimeOutsideTheRangeIsRefused) {
  v1::CreateCustomerRequest request;
  request.mutable_customer()->set_display_name("Budi");
  auto* consent = request.mutable_customer()->mutable_marketing_consent();
  consent->set_state(v1::MARKETING_CONSENT_STATE_GRANTED);
  consent->set_source("in_store_form");
  consent->mutable_consent_time()->set_seconds(1767225600);
  consent->mutable_consent_time()->set_nanos(-1);
  const grpc::Status refused = Create(request);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << refused.error_message();
  EXPECT_THAT(ViolationFields(refused), ElementsAre("customer.marketing_consent.consent_time"));
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM customers"), 0);
}

TEST_P(InputValidationTest, PriceListWritesCheckTheRequestId) {
  for (const std::string& request_id :
       {std::string(1 << 20, 'r'), std::string("abc\0def", 7), std::string("beli-\xF0\x9F\x98\x80"),
        std::string(101, 'a'), std::string("a b")}) {
    v1::SetPriceListEntriesRequest set;
    set.set_category_id("wholesale");
    set.set_request_id(request_id);
    auto* e = set.add_entries();
    e->set_sku("BERAS-5KG");
    e->mutable_price()->set_amount_minor(6500000);
    e->mutable_price()->set_currency_code("IDR");
    v1::SetPriceListEntriesResponse set_response;
    const grpc::Status set_status =
        categories_->SetPriceListEntries(Ctx().get(), set, &set_response);
    EXPECT_EQ(set_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << request_id.size() << " " << set_status.error_message();
    EXPECT_THAT(ViolationFields(set_status), ElementsAre("request_id"));

    v1::DeletePriceListEntriesRequest del;
    del.set_category_id("wholesale");
    del.add_skus("BERAS-5KG");
    del.set_request_id(request_id);
    v1::DeletePriceListEntriesResponse deleted;
    const grpc::Status del_status = categories_->DeletePriceListEntries(Ctx().get(), del, &deleted);
    EXPECT_EQ(del_status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << del_status.error_message();
    EXPECT_THAT(ViolationFields(del_status), ElementsAre("request_id"));
  }
  EXPECT_EQ(CountRows("SELECT COUNT(*) FROM price_list_entries"), 0);

  // What the contract allows: UUIDs and other printable ASCII up to 100 characters.
  v1::SetPriceListEntriesRequest ok;
  ok.set_category_id("wholesale");
  ok.set_request_id("3f2b8c1e-2d7a-4e0b-9c55-0c1f2a3b4c5d");
  auto* e = ok.add_entries();
  e->set_sku("GULA-1KG");
  e->mutable_price()->set_amount_minor(1400000);
  e->mutable_price()->set_currency_code("IDR");
  v1::SetPriceListEntriesResponse response;
  EXPECT_TRUE(categories_->SetPriceListEntries(Ctx().get(), ok, &response).ok());
  ok.set_request_id(std::string(100, 'z'));
  EXPECT_TRUE(categories_->SetPriceListEntries(Ctx().get(), ok, &response).ok());
}

TEST_P(InputValidationTest, ForgedCustomerListTokensAreRefused) {
  for (const char* name : {"Ani", "Budi", "Citra"}) MustCreate(name);
  v1::ListCustomersRequest request;
  request.set_order_by("display_name");
  request.set_page_size(2);
  v1::ListCustomersResponse first;
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), request, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  const std::string token = first.next_page_token();
  v1::ListCustomersResponse page;

  request.set_page_token(Tamper(token, first.customers(1).customer_id()));
  ExpectTokenRefused(customers_->ListCustomers(Ctx().get(), request, &page));
  request.set_page_token(token.substr(0, token.size() / 2));  // truncated
  ExpectTokenRefused(customers_->ListCustomers(Ctx().get(), request, &page));
  request.set_page_token(token + "AAAA");  // extended
  ExpectTokenRefused(customers_->ListCustomers(Ctx().get(), request, &page));
  request.set_page_token(token);
  ExpectTokenRefused(customers_->ListCustomers(Ctx("t2").get(), request, &page));  // foreign
  ASSERT_TRUE(customers_->ListCustomers(Ctx().get(), request, &page).ok());
  EXPECT_EQ(page.customers_size(), 1);
}

TEST_P(InputValidationTest, ForgedOffsetTokensAreRefused) {
  v1::ListCategoriesRequest request;
  request.set_page_size(1);
  v1::ListCategoriesResponse first;
  ASSERT_TRUE(categories_->ListCategories(Ctx().get(), request, &first).ok());
  ASSERT_FALSE(first.next_page_token().empty());
  // The token carries the offset of the next page ("1") in the clear: make it 0.
  std::string raw;
  ASSERT_TRUE(absl::WebSafeBase64Unescape(first.next_page_token(), &raw));
  const size_t at = raw.rfind('1');
  ASSERT_NE(at, std::string::npos);
  raw[at] = '0';
  request.set_page_token(absl::WebSafeBase64Escape(raw));
  v1::ListCategoriesResponse page;
  ExpectTokenRefused(categories_->ListCategories(Ctx().get(), request, &page));
  request.set_page_token("bm90IGEgdG9rZW4");
  ExpectTokenRefused(categories_->ListCategories(Ctx().get(), request, &page));
}

INSTANTIATE_TEST_SUITE_P(Drivers, InputValidationTest, ::testing::Values("sqlite", "postgres"));

}  // namespace
}  // namespace kelola::customer::testing_support
