// The gateway as an adversary would try it (G1, G4), through real processes: credentials,
// tenancy, roles, the backends' refusal of anyone but the gateway, and forwarding of every
// kind of RPC. Calls are made as raw bytes from JSON requests, so one helper reaches every
// method of every service the way any client could.

#include <openssl/evp.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/dynamic_message.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/error_details.pb.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/category_service.grpc.pb.h"
#include "kelola/customer/v1/customer_internal_service.grpc.pb.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/customer/v1/tenant_service.grpc.pb.h"
#include "kelola/events/v1/event_service.grpc.pb.h"
#include "kelola/gateway/v1/gateway_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_internal_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/auth/principal.h"
#include "libs/testing/cluster.h"
#include "tests/libs/auth/test_keys.h"

namespace kelola::testing {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::MethodDescriptor;

constexpr char kIssuer[] = "https://id.kelola.test";
constexpr char kAudience[] = "kelola-gateway";
constexpr char kOwnerA[] = "owner-a-0123456789";
constexpr char kCashierA[] = "cashier-a-0123456789";
constexpr char kOwnerB[] = "owner-b-0123456789";

// What a call came back with: its status, the ErrorInfo reason and domain, the responses
// as JSON.
struct Outcome {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  std::string reason;
  std::string domain;
  std::vector<std::string> responses;
};

// Names one message of each contract file, so that its descriptors are linked in and found
// by name.
void LinkContracts() {
  (void)customer::v1::CreateCustomerRequest::descriptor();
  (void)customer::v1::CreateCategoryRequest::descriptor();
  (void)customer::v1::GetTenantSettingsRequest::descriptor();
  (void)customer::v1::CheckCustomerForSaleRequest::descriptor();
  (void)ledger::v1::RecordSaleRequest::descriptor();
  (void)ledger::v1::SealCustomerRequest::descriptor();
  (void)report::v1::GetSummaryCardRequest::descriptor();
  (void)gateway::v1::WhoAmIRequest::descriptor();
  (void)events::v1::WatchEventsRequest::descriptor();
}

const MethodDescriptor& Method(const std::string& full_name) {
  const MethodDescriptor* method = DescriptorPool::generated_pool()->FindMethodByName(full_name);
  if (method == nullptr) ADD_FAILURE() << "no method " << full_name;
  return *method;
}

Outcome Finish(const grpc::Status& status) {
  Outcome out;
  out.code = status.error_code();
  out.message = status.error_message();
  google::rpc::Status details;
  if (!status.error_details().empty() && details.ParseFromString(status.error_details())) {
    for (const auto& any : details.details()) {
      google::rpc::ErrorInfo info;
      if (any.UnpackTo(&info)) {
        out.reason = info.reason();
        out.domain = info.domain();
      }
    }
  }
  return out;
}

// Calls `full_name` ("pkg.Service.Method") on `channel` with the requests `jsons` (sent in
// order, then the stream is closed), with `metadata`; every kind of RPC is a stream on the
// wire.
Outcome Call(const std::shared_ptr<grpc::Channel>& channel, const std::string& full_name,
             const std::vector<std::string>& jsons,
             const std::multimap<std::string, std::string>& metadata) {
  const MethodDescriptor& method = Method(full_name);
  google::protobuf::DynamicMessageFactory factory;
  std::vector<std::string> requests;
  for (const std::string& json : jsons) {
    std::unique_ptr<google::protobuf::Message> request(
        factory.GetPrototype(method.input_type())->New());
    auto parsed = google::protobuf::util::JsonStringToMessage(json, request.get());
    EXPECT_TRUE(parsed.ok()) << full_name << ": " << parsed.ToString();
    requests.push_back(request->SerializeAsString());
  }

  grpc::ClientContext context;
  // Deliberately none when the test says so (the gateway's default then applies).
  if (metadata.find("x-test-no-deadline") == metadata.end()) {
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(15)));
  }
  for (const auto& [key, value] : metadata) {
    if (key != "x-test-no-deadline") context.AddMetadata(key, value);
  }
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue queue;
  const std::string path = absl::StrCat("/", method.service()->full_name(), "/", method.name());
  auto call = stub.PrepareCall(&context, path, &queue);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](int id) {
    EXPECT_TRUE(queue.Next(&tag, &ok));
    EXPECT_EQ(tag, reinterpret_cast<void*>(id));
    return ok;
  };
  call->StartCall(reinterpret_cast<void*>(1));
  std::vector<std::string> responses;
  if (step(1)) {
    bool sent = true;
    for (const std::string& bytes : requests) {
      grpc::Slice slice(bytes);
      grpc::ByteBuffer buffer(&slice, 1);
      call->Write(buffer, reinterpret_cast<void*>(2));
      if (!(sent = step(2))) break;
    }
    if (sent) {
      call->WritesDone(reinterpret_cast<void*>(3));
      step(3);
    }
    grpc::ByteBuffer received;
    for (;;) {
      call->Read(&received, reinterpret_cast<void*>(4));
      if (!step(4)) break;
      std::vector<grpc::Slice> slices;
      (void)received.Dump(&slices);
      std::string raw;
      for (const grpc::Slice& s : slices)
        raw.append(reinterpret_cast<const char*>(s.begin()), s.size());
      std::unique_ptr<google::protobuf::Message> response(
          factory.GetPrototype(method.output_type())->New());
      response->ParseFromString(raw);
      std::string text;
      (void)google::protobuf::util::MessageToJsonString(*response, &text);
      responses.push_back(text);
    }
  }
  grpc::Status status;
  call->Finish(&status, reinterpret_cast<void*>(5));
  step(5);
  Outcome out = Finish(status);
  out.responses = std::move(responses);
  return out;
}

Outcome Call(const std::shared_ptr<grpc::Channel>& channel, const std::string& full_name,
             const std::string& json, const std::multimap<std::string, std::string>& metadata) {
  return Call(channel, full_name, std::vector<std::string>{json}, metadata);
}

std::string Describe(const Outcome& o) {
  return absl::StrCat(o.code, " ", o.reason, " ", o.domain, " ", o.message);
}

class GatewayAuthTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    LinkContracts();
    ClusterOptions options;
    options.dir_prefix = "kelola-gateway-auth";
    options.api_keys = {{kOwnerA, "owner-a", "toko-a", {"owner"}, {}},
                        {kCashierA, "cashier-a", "toko-a", {"cashier"}, {"store-1"}},
                        {kOwnerB, "owner-b", "toko-b", {"owner"}, {}}};
    options.jwks_json =
        auth::test_keys::JwksOf({auth::test_keys::RsaJwk(auth::test_keys::SharedRsaKey(), "k1")});
    options.jwt_issuer = kIssuer;
    options.jwt_audience = kAudience;
    auto cluster = Cluster::Start(options);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
    gateway_ = cluster_->Channel(*cluster_->gateways[0]);
    SeedTenantA();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }

  static std::multimap<std::string, std::string> Key(const std::string& key) {
    return {{"x-api-key", key}};
  }
  static Outcome Gateway(const std::string& method, const std::string& json,
                         const std::multimap<std::string, std::string>& metadata) {
    return Call(gateway_, method, json, metadata);
  }
  static std::string Field(const std::string& json, const std::string& name) {
    const std::string marker = absl::StrCat("\"", name, "\":\"");
    const size_t at = json.find(marker);
    if (at == std::string::npos) return "";
    const size_t start = at + marker.size();
    return json.substr(start, json.find('"', start) - start);
  }

  // Tenant A's data, made through the gateway by its owner: the ids tenant B will try.
  static void SeedTenantA() {
    auto created =
        Gateway("kelola.customer.v1.CustomerService.CreateCustomer",
                R"({"customer": {"displayName": "Ani"}, "requestId": "seed-1"})", Key(kOwnerA));
    ASSERT_EQ(created.code, grpc::StatusCode::OK) << Describe(created);
    ids_["$CUSTOMER"] = Field(created.responses[0], "customerId");
    auto second =
        Gateway("kelola.customer.v1.CustomerService.CreateCustomer",
                R"({"customer": {"displayName": "Budi"}, "requestId": "seed-2"})", Key(kOwnerA));
    ASSERT_EQ(second.code, grpc::StatusCode::OK) << Describe(second);
    ids_["$OTHER"] = Field(second.responses[0], "customerId");
    auto category =
        Gateway("kelola.customer.v1.CategoryService.CreateCategory",
                R"({"category": {"displayName": "Grosir"}, "requestId": "seed-3"})", Key(kOwnerA));
    ASSERT_EQ(category.code, grpc::StatusCode::OK) << Describe(category);
    ids_["$CATEGORY"] = Field(category.responses[0], "categoryId");
    auto sale = Gateway("kelola.ledger.v1.LedgerService.RecordSale", Fill(R"({
        "requestId": "seed-4", "customerId": "$CUSTOMER", "storeId": "store-1",
        "items": [{"sku": "BERAS", "name": "Beras", "quantityMilli": "1000",
                   "unitPrice": {"amountMinor": "50000", "currencyCode": "IDR"}}],
        "total": {"amountMinor": "50000", "currencyCode": "IDR"},
        "amountPaidNow": {"amountMinor": "10000", "currencyCode": "IDR"},
        "paymentMethod": "PAYMENT_METHOD_CASH"})"),
                        Key(kOwnerA));
    ASSERT_EQ(sale.code, grpc::StatusCode::OK) << Describe(sale);
    ids_["$SALE"] = Field(sale.responses[0], "saleId");
    auto payment = Gateway("kelola.ledger.v1.LedgerService.RecordPayment", Fill(R"({
        "requestId": "seed-5", "customerId": "$CUSTOMER", "storeId": "store-1",
        "amount": {"amountMinor": "5000", "currencyCode": "IDR"},
        "method": "PAYMENT_METHOD_CASH"})"),
                           Key(kOwnerA));
    ASSERT_EQ(payment.code, grpc::StatusCode::OK) << Describe(payment);
    ids_["$PAYMENT"] = Field(payment.responses[0], "paymentId");
    for (const auto& [name, id] : ids_) ASSERT_FALSE(id.empty()) << name;
  }

  // `json` with tenant A's ids in place of $CUSTOMER, $SALE, ...
  static std::string Fill(const std::string& json) { return absl::StrReplaceAll(json, ids_); }
  // `json` with ids nobody has (and request ids of their own: they are per tenant and RPC).
  static std::string Unknown(const std::string& json) {
    return absl::StrReplaceAll(json, {{R"("requestId": "b-)", R"("requestId": "u-)"},
                                      {"$CUSTOMER", "0190f7a4-3c1e-7b5a-9d2e-1f0a2b3c4d5e"},
                                      {"$OTHER", "0190f7a4-3c1e-7b5a-9d2e-1f0a2b3c4d5f"},
                                      {"$CATEGORY", "0190f7a4-3c1e-7b5a-9d2e-1f0a2b3c4d60"},
                                      {"$SALE", "0190f7a4-3c1e-7b5a-9d2e-1f0a2b3c4d61"},
                                      {"$PAYMENT", "0190f7a4-3c1e-7b5a-9d2e-1f0a2b3c4d62"}});
  }

  static std::string Token(const std::string& payload, EVP_PKEY* key = nullptr,
                           const std::string& kid = "k1") {
    return auth::test_keys::SignToken(
        absl::StrCat(R"({"alg":"RS256","typ":"JWT","kid":")", kid, R"("})"), payload,
        key ? key : auth::test_keys::SharedRsaKey());
  }
  static std::string Claims(int64_t expires_in_s, const std::string& aud = kAudience,
                            const std::string& iss = kIssuer) {
    return absl::StrCat(R"({"sub":"user-7","name":"Siti","tenant":"toko-a","roles":["manager"],)",
                        R"("iss":")", iss, R"(","aud":")", aud, R"(","exp":)",
                        absl::ToUnixSeconds(absl::Now()) + expires_in_s, "}");
  }

  static Cluster* cluster_;
  static std::shared_ptr<grpc::Channel> gateway_;
  static std::map<std::string, std::string> ids_;
};

Cluster* GatewayAuthTest::cluster_ = nullptr;
std::shared_ptr<grpc::Channel> GatewayAuthTest::gateway_;
std::map<std::string, std::string> GatewayAuthTest::ids_;

TEST_F(GatewayAuthTest, ApiKeysAndTokensSayWhoCalls) {
  auto me = Gateway("kelola.gateway.v1.GatewayService.WhoAmI", "{}", Key(kCashierA));
  ASSERT_EQ(me.code, grpc::StatusCode::OK) << Describe(me);
  EXPECT_TRUE(absl::StrContains(me.responses[0], R"("principalId":"cashier-a")"))
      << me.responses[0];
  EXPECT_TRUE(absl::StrContains(me.responses[0], R"("roles":["ROLE_CASHIER"])"));
  EXPECT_TRUE(absl::StrContains(me.responses[0], R"("storeIds":["store-1"])"));

  auto user = Gateway("kelola.gateway.v1.GatewayService.WhoAmI", "{}",
                      {{"authorization", "Bearer " + Token(Claims(600))}});
  ASSERT_EQ(user.code, grpc::StatusCode::OK) << Describe(user);
  EXPECT_TRUE(absl::StrContains(user.responses[0], R"("principalId":"user-7")"));
  EXPECT_TRUE(absl::StrContains(user.responses[0], R"("kind":"PRINCIPAL_KIND_USER")"));
  EXPECT_TRUE(absl::StrContains(user.responses[0], R"("tenantId":"toko-a")"));
  EXPECT_TRUE(absl::StrContains(user.responses[0], "expireTime"));
}

TEST_F(GatewayAuthTest, BadCredentialsAreRefusedWithTheirReason) {
  const std::string who = "kelola.gateway.v1.GatewayService.WhoAmI";
  const std::string good = Token(Claims(600));
  std::string tampered = good;
  tampered[tampered.find('.') + 5] ^= 1;
  const std::string none = absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"none","typ":"JWT"})"),
                                        ".", absl::WebSafeBase64Escape(Claims(600)), ".");
  const std::string hs256_with_public_key =
      absl::StrCat(absl::WebSafeBase64Escape(R"({"alg":"HS256","typ":"JWT","kid":"k1"})"), ".",
                   absl::WebSafeBase64Escape(Claims(600)), ".signature");
  struct Case {
    std::string name;
    std::multimap<std::string, std::string> metadata;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {"nothing", {}, "CREDENTIALS_MISSING"},
      {"unknown key", Key("no-such-key"), "API_KEY_INVALID"},
      {"key and token",
       {{"x-api-key", kOwnerA}, {"authorization", "Bearer " + good}},
       "CREDENTIALS_AMBIGUOUS"},
      {"two keys", {{"x-api-key", kOwnerA}, {"x-api-key", kOwnerB}}, "CREDENTIALS_AMBIGUOUS"},
      {"not bearer", {{"authorization", "Basic abc"}}, "TOKEN_INVALID"},
      {"tampered", {{"authorization", "Bearer " + tampered}}, "TOKEN_INVALID"},
      {"expired", {{"authorization", "Bearer " + Token(Claims(-3600))}}, "TOKEN_EXPIRED"},
      {"wrong audience",
       {{"authorization", "Bearer " + Token(Claims(600, "someone-else"))}},
       "TOKEN_INVALID"},
      {"wrong issuer",
       {{"authorization", "Bearer " + Token(Claims(600, kAudience, "https://evil.test"))}},
       "TOKEN_INVALID"},
      {"alg none", {{"authorization", "Bearer " + none}}, "TOKEN_INVALID"},
      {"hs256", {{"authorization", "Bearer " + hs256_with_public_key}}, "TOKEN_INVALID"},
      {"unknown signer",
       {{"authorization",
         "Bearer " + Token(Claims(600), auth::test_keys::SharedOtherRsaKey(), "k1")}},
       "TOKEN_INVALID"},
  };
  for (const Case& c : cases) {
    auto out = Gateway(who, "{}", c.metadata);
    EXPECT_EQ(out.code, grpc::StatusCode::UNAUTHENTICATED) << c.name << ": " << Describe(out);
    EXPECT_EQ(out.reason, c.reason) << c.name;
    EXPECT_EQ(out.domain, "gateway.kelola.id") << c.name;
    EXPECT_TRUE(out.responses.empty()) << c.name;
  }
  // Naming another tenant than the credential's.
  auto mismatch = Gateway(who, "{}", {{"x-api-key", kOwnerA}, {"x-kelola-tenant", "toko-b"}});
  EXPECT_EQ(mismatch.code, grpc::StatusCode::PERMISSION_DENIED) << Describe(mismatch);
  EXPECT_EQ(mismatch.reason, "TENANT_MISMATCH");
  auto same = Gateway(who, "{}", {{"x-api-key", kOwnerA}, {"x-kelola-tenant", "toko-a"}});
  EXPECT_EQ(same.code, grpc::StatusCode::OK) << Describe(same);
}

// Tenant B with tenant A's ids learns nothing: every answer is the one an id nobody has gets.
TEST_F(GatewayAuthTest, AnotherTenantsIdsAreIndistinguishableFromUnknownOnes) {
  const std::vector<std::pair<std::string, std::string>> probes = {
      {"kelola.customer.v1.CustomerService.GetCustomer", R"({"customerId": "$CUSTOMER"})"},
      {"kelola.customer.v1.CustomerService.BatchGetCustomers", R"({"customerIds": ["$CUSTOMER"]})"},
      {"kelola.customer.v1.CustomerService.UpdateCustomer",
       R"({"customer": {"customerId": "$CUSTOMER", "displayName": "X"},
           "updateMask": "displayName", "requestId": "b-1"})"},
      {"kelola.customer.v1.CustomerService.DeleteCustomer",
       R"({"customerId": "$CUSTOMER", "requestId": "b-2"})"},
      {"kelola.customer.v1.CustomerService.ArchiveCustomer",
       R"({"customerId": "$CUSTOMER", "requestId": "b-3"})"},
      {"kelola.customer.v1.CustomerService.RestoreCustomer",
       R"({"customerId": "$CUSTOMER", "requestId": "b-4"})"},
      {"kelola.customer.v1.CustomerService.MergeCustomers",
       R"({"sourceCustomerId": "$CUSTOMER", "targetCustomerId": "$OTHER", "requestId": "b-5"})"},
      {"kelola.customer.v1.CustomerService.EraseCustomer",
       R"({"customerId": "$CUSTOMER", "requestId": "b-6"})"},
      {"kelola.customer.v1.CustomerService.ExportCustomerData", R"({"customerId": "$CUSTOMER"})"},
      {"kelola.customer.v1.CustomerService.SetMarketingConsent",
       R"({"customerId": "$CUSTOMER", "requestId": "b-7"})"},
      {"kelola.customer.v1.CustomerService.QuotePrice",
       R"({"customerId": "$CUSTOMER", "sku": "BERAS"})"},
      {"kelola.customer.v1.CategoryService.GetCategory", R"({"categoryId": "$CATEGORY"})"},
      {"kelola.customer.v1.CategoryService.UpdateCategory",
       R"({"category": {"categoryId": "$CATEGORY", "displayName": "X"},
           "updateMask": "displayName", "requestId": "b-8"})"},
      {"kelola.customer.v1.CategoryService.DeleteCategory",
       R"({"categoryId": "$CATEGORY", "requestId": "b-9"})"},
      {"kelola.customer.v1.CategoryService.ListPriceListEntries", R"({"categoryId": "$CATEGORY"})"},
      {"kelola.ledger.v1.LedgerService.GetSale", R"({"saleId": "$SALE"})"},
      {"kelola.ledger.v1.LedgerService.VoidSale",
       R"({"saleId": "$SALE", "requestId": "b-10", "reason": "x"})"},
      {"kelola.ledger.v1.LedgerService.RefundSale",
       R"({"saleId": "$SALE", "requestId": "b-11",
           "amount": {"amountMinor": "1000", "currencyCode": "IDR"}})"},
      {"kelola.ledger.v1.LedgerService.GetPayment", R"({"paymentId": "$PAYMENT"})"},
      {"kelola.ledger.v1.LedgerService.VoidPayment",
       R"({"paymentId": "$PAYMENT", "requestId": "b-12", "reason": "x"})"},
      {"kelola.ledger.v1.LedgerService.ListSales", R"({"customerId": "$CUSTOMER"})"},
      {"kelola.ledger.v1.LedgerService.ListPayments", R"({"customerId": "$CUSTOMER"})"},
      {"kelola.ledger.v1.LedgerService.GetBalance", R"({"customerId": "$CUSTOMER"})"},
      {"kelola.ledger.v1.LedgerService.BatchGetBalances", R"({"customerIds": ["$CUSTOMER"]})"},
      {"kelola.ledger.v1.LedgerService.GetCustomerLedgerStats", R"({"customerId": "$CUSTOMER"})"},
      {"kelola.ledger.v1.LedgerService.GetCreditLimit", R"({"customerId": "$CUSTOMER"})"},
      {"kelola.ledger.v1.LedgerService.SetCreditLimit",
       R"({"requestId": "b-13", "creditLimit": {"customerId": "$CUSTOMER",
           "limit": {"amountMinor": "1000", "currencyCode": "IDR"}}})"},
      {"kelola.ledger.v1.LedgerService.DeleteCreditLimit",
       R"({"customerId": "$CUSTOMER", "requestId": "b-14"})"},
      {"kelola.ledger.v1.LedgerService.RecordSale",
       R"({"requestId": "b-15", "customerId": "$CUSTOMER", "storeId": "store-1",
           "total": {"amountMinor": "100", "currencyCode": "IDR"},
           "paymentMethod": "PAYMENT_METHOD_CASH"})"},
      {"kelola.ledger.v1.LedgerService.RecordPayment",
       R"({"requestId": "b-16", "customerId": "$CUSTOMER", "storeId": "store-1",
           "amount": {"amountMinor": "100", "currencyCode": "IDR"},
           "method": "PAYMENT_METHOD_CASH"})"},
      {"kelola.report.v1.ReportService.GetSummaryCard", R"({"customerId": "$CUSTOMER"})"},
      {"kelola.report.v1.ReportService.BatchGetSummaryCards", R"({"customerIds": ["$CUSTOMER"]})"},
      {"kelola.gateway.v1.GatewayService.GetCustomerProfile", R"({"customerId": "$CUSTOMER"})"},
  };
  int not_found = 0;
  for (const auto& [method, json] : probes) {
    SCOPED_TRACE(method);
    // Unknown first: a write that succeeds for an unknown id must not change what the
    // probe with A's id then sees.
    const Outcome unknown = Gateway(method, Unknown(json), Key(kOwnerB));
    const Outcome foreign = Gateway(method, Fill(json), Key(kOwnerB));
    EXPECT_EQ(foreign.code, unknown.code) << Describe(foreign) << " vs " << Describe(unknown);
    EXPECT_EQ(foreign.reason, unknown.reason);
    ASSERT_EQ(foreign.responses.size(), unknown.responses.size());
    for (size_t i = 0; i < foreign.responses.size(); ++i) {
      // Only the id differs; nothing of tenant A's comes back.
      EXPECT_EQ(
          Unknown(absl::StrReplaceAll(foreign.responses[i], {{ids_["$CUSTOMER"], "$CUSTOMER"},
                                                             {ids_["$OTHER"], "$OTHER"},
                                                             {ids_["$CATEGORY"], "$CATEGORY"},
                                                             {ids_["$SALE"], "$SALE"},
                                                             {ids_["$PAYMENT"], "$PAYMENT"}})),
          unknown.responses[i]);
      EXPECT_FALSE(absl::StrContains(foreign.responses[i], "Ani"));
      EXPECT_FALSE(absl::StrContains(foreign.responses[i], "50000"));
    }
    if (foreign.code == grpc::StatusCode::NOT_FOUND) ++not_found;
  }
  EXPECT_GE(not_found, 15);
  // And tenant A still sees its own data unchanged.
  auto own = Gateway("kelola.customer.v1.CustomerService.GetCustomer",
                     Fill(R"({"customerId": "$CUSTOMER"})"), Key(kOwnerA));
  ASSERT_EQ(own.code, grpc::StatusCode::OK) << Describe(own);
  EXPECT_TRUE(absl::StrContains(own.responses[0], "Ani"));
}

TEST_F(GatewayAuthTest, CashiersAreRefusedWhatTheirRoleDoesNotAllow) {
  const std::vector<std::pair<std::string, std::string>> forbidden = {
      {"kelola.customer.v1.CustomerService.DeleteCustomer",
       R"({"customerId": "$CUSTOMER", "requestId": "c-1"})"},
      {"kelola.customer.v1.CustomerService.MergeCustomers",
       R"({"sourceCustomerId": "$CUSTOMER", "targetCustomerId": "$OTHER", "requestId": "c-2"})"},
      {"kelola.customer.v1.CustomerService.EraseCustomer",
       R"({"customerId": "$CUSTOMER", "requestId": "c-3"})"},
      {"kelola.customer.v1.CustomerService.ExportCustomers", R"({"format": "EXPORT_FORMAT_CSV"})"},
      {"kelola.customer.v1.CategoryService.DeleteCategory",
       R"({"categoryId": "$CATEGORY", "requestId": "c-4"})"},
      {"kelola.customer.v1.TenantService.UpdateTenantSettings",
       R"({"settings": {"timeZone": "Asia/Jakarta"}, "updateMask": "timeZone"})"},
      {"kelola.ledger.v1.LedgerService.VoidSale",
       R"({"saleId": "$SALE", "requestId": "c-5", "reason": "x"})"},
      {"kelola.ledger.v1.LedgerService.RefundSale",
       R"({"saleId": "$SALE", "requestId": "c-6",
           "amount": {"amountMinor": "1000", "currencyCode": "IDR"}})"},
      {"kelola.ledger.v1.LedgerService.SetCreditLimit",
       R"({"requestId": "c-7", "creditLimit": {"customerId": "$CUSTOMER",
           "limit": {"amountMinor": "1000", "currencyCode": "IDR"}}})"},
      {"kelola.report.v1.ReportService.ExportReport", R"({})"},
  };
  auth::Principal cashier;
  cashier.id = "cashier-a";
  cashier.kind = auth::PrincipalKind::kApiKey;
  cashier.tenant_id = "toko-a";
  cashier.roles = {auth::Role::kCashier};
  for (const auto& [method, json] : forbidden) {
    SCOPED_TRACE(method);
    const Outcome out = Gateway(method, Fill(json), Key(kCashierA));
    EXPECT_EQ(out.code, grpc::StatusCode::PERMISSION_DENIED) << Describe(out);
    EXPECT_EQ(out.reason, "PERMISSION_DENIED");
    EXPECT_EQ(out.domain, "gateway.kelola.id");
    // The backend re-checks: a cashier's credential signed as the gateway would is refused
    // there too.
    const std::string service = Method(method).service()->full_name();
    const ServiceProcess& backend =
        absl::StartsWith(service, "kelola.customer") ? *cluster_->customer
        : absl::StartsWith(service, "kelola.ledger") ? *cluster_->ledger
                                                     : *cluster_->report;
    const Outcome direct = Call(cluster_->Channel(backend), method, Fill(json),
                                {{"x-kelola-credential", cluster_->SignedCredential(cashier)}});
    EXPECT_EQ(direct.code, grpc::StatusCode::PERMISSION_DENIED) << Describe(direct);
  }
  // What a cashier may do still works.
  auto created =
      Gateway("kelola.customer.v1.CustomerService.CreateCustomer",
              R"({"customer": {"displayName": "Citra"}, "requestId": "c-8"})", Key(kCashierA));
  EXPECT_EQ(created.code, grpc::StatusCode::OK) << Describe(created);
}

// Every method of every service of the three backends, called directly: refused without
// the gateway's credential, whatever headers are sent.
TEST_F(GatewayAuthTest, BackendsRefuseEveryCallWithoutTheInternalCredential) {
  const std::vector<std::pair<const ServiceProcess*, std::vector<std::string>>> backends = {
      {cluster_->customer.get(),
       {"kelola.customer.v1.CustomerService", "kelola.customer.v1.CategoryService",
        "kelola.customer.v1.TenantService", "kelola.customer.v1.CustomerInternalService"}},
      {cluster_->ledger.get(),
       {"kelola.ledger.v1.LedgerService", "kelola.ledger.v1.LedgerInternalService"}},
      {cluster_->report.get(), {"kelola.report.v1.ReportService"}},
  };
  auth::Principal owner;
  owner.id = "mallory";
  owner.tenant_id = "toko-a";
  owner.roles = {auth::Role::kOwner};
  int methods = 0;
  for (const auto& [backend, services] : backends) {
    auto channel = cluster_->Channel(*backend);
    for (const std::string& name : services) {
      const auto* service = DescriptorPool::generated_pool()->FindServiceByName(name);
      ASSERT_NE(service, nullptr) << name;
      for (int i = 0; i < service->method_count(); ++i) {
        const std::string method = service->method(i)->full_name();
        SCOPED_TRACE(method);
        ++methods;
        const Outcome bare = Call(channel, method, "{}", {});
        EXPECT_EQ(bare.code, grpc::StatusCode::UNAUTHENTICATED) << Describe(bare);
        const Outcome header_only =
            Call(channel, method, "{}",
                 {{"x-kelola-tenant", "toko-a"}, {"x-kelola-principal", "mallory"}});
        EXPECT_EQ(header_only.code, grpc::StatusCode::UNAUTHENTICATED) << Describe(header_only);
        // A credential signed with any other key is worthless.
        std::string forged = cluster_->SignedCredential(owner);
        forged[forged.size() - 3] = forged[forged.size() - 3] == 'A' ? 'B' : 'A';
        const Outcome bad = Call(channel, method, "{}", {{"x-kelola-credential", forged}});
        EXPECT_EQ(bad.code, grpc::StatusCode::UNAUTHENTICATED) << Describe(bad);
        EXPECT_EQ(bad.reason, "CREDENTIAL_INVALID");
      }
    }
  }
  EXPECT_GE(methods, 55);
}

TEST_F(GatewayAuthTest, InternalServicesAnswerOnlyTheirOneCaller) {
  auth::Principal owner;
  owner.id = "owner-a";
  owner.tenant_id = "toko-a";
  owner.roles = {auth::Role::kOwner};
  // The gateway's credential (an owner's) may not move or seal a customer's history.
  const Outcome reassign = Call(cluster_->Channel(*cluster_->ledger),
                                "kelola.ledger.v1.LedgerInternalService.ReassignCustomerHistory",
                                Fill(R"({"mergeOperationId": "m-1", "sourceCustomerId": "$CUSTOMER",
               "targetCustomerId": "$OTHER"})"),
                                {{"x-kelola-credential", cluster_->SignedCredential(owner)}});
  EXPECT_EQ(reassign.code, grpc::StatusCode::PERMISSION_DENIED) << Describe(reassign);
  const Outcome seal = Call(
      cluster_->Channel(*cluster_->ledger), "kelola.ledger.v1.LedgerInternalService.SealCustomer",
      Fill(R"({"sealId": "s-1", "customerId": "$CUSTOMER"})"),
      {{"x-kelola-credential", cluster_->SignedCredential(owner, "report-svc")}});
  EXPECT_EQ(seal.code, grpc::StatusCode::PERMISSION_DENIED) << Describe(seal);
  const Outcome check = Call(cluster_->Channel(*cluster_->customer),
                             "kelola.customer.v1.CustomerInternalService.CheckCustomerForSale",
                             Fill(R"({"customerId": "$CUSTOMER"})"),
                             {{"x-kelola-credential", cluster_->SignedCredential(owner)}});
  EXPECT_EQ(check.code, grpc::StatusCode::PERMISSION_DENIED) << Describe(check);

  // Through the gateway the internal services do not exist.
  for (const char* method : {"kelola.ledger.v1.LedgerInternalService.ReassignCustomerHistory",
                             "kelola.customer.v1.CustomerInternalService.CheckCustomerForSale",
                             "kelola.events.v1.EventService.WatchEvents"}) {
    const Outcome out = Gateway(method, "{}", Key(kOwnerA));
    EXPECT_EQ(out.code, grpc::StatusCode::UNIMPLEMENTED) << method << ": " << Describe(out);
    EXPECT_EQ(out.reason, "METHOD_NOT_EXPOSED") << method;
  }
}

// Streams in both directions pass through the gateway unchanged.
TEST_F(GatewayAuthTest, StreamsAreForwardedBothWays) {
  const std::string csv = "name,phone\nDewi,+6281234567890\nEko,081298765432\n";
  const Outcome imported = Call(gateway_, "kelola.customer.v1.CustomerService.ImportCustomers",
                                {R"({"header": {"requestId": "import-1"}})",
                                 absl::StrCat(R"({"chunk": ")", absl::Base64Escape(csv), R"("})")},
                                Key(kOwnerA));
  ASSERT_EQ(imported.code, grpc::StatusCode::OK) << Describe(imported);
  ASSERT_EQ(imported.responses.size(), 1u);
  const Outcome exported = Gateway("kelola.customer.v1.CustomerService.ExportCustomers",
                                   R"({"format": "EXPORT_FORMAT_CSV"})", Key(kOwnerA));
  ASSERT_EQ(exported.code, grpc::StatusCode::OK) << Describe(exported);
  ASSERT_FALSE(exported.responses.empty());
  std::string all;
  for (const std::string& chunk : exported.responses) all += chunk;
  // The export is CSV in base64 chunks: the imported names are in it.
  std::string csv_out;
  for (const std::string& chunk : exported.responses) {
    std::string decoded;
    const std::string data = Field(chunk, "chunk");
    if (absl::Base64Unescape(data, &decoded)) csv_out += decoded;
  }
  EXPECT_TRUE(absl::StrContains(csv_out, "Dewi")) << all.substr(0, 300);
}

// The principal the gateway authenticated is who the ledger records; a JWT user likewise.
TEST_F(GatewayAuthTest, TheLedgerRecordsThePrincipalTheGatewayAuthenticated) {
  const Outcome by_key = Gateway("kelola.ledger.v1.LedgerService.GetSale",
                                 Fill(R"({"saleId": "$SALE"})"), Key(kOwnerA));
  ASSERT_EQ(by_key.code, grpc::StatusCode::OK) << Describe(by_key);
  EXPECT_EQ(Field(by_key.responses[0], "recordedBy"), "owner-a");
  const Outcome by_token = Gateway("kelola.ledger.v1.LedgerService.RecordPayment", Fill(R"({
        "requestId": "jwt-1", "customerId": "$CUSTOMER", "storeId": "store-1",
        "amount": {"amountMinor": "1000", "currencyCode": "IDR"},
        "method": "PAYMENT_METHOD_CASH"})"),
                                   {{"authorization", "Bearer " + Token(Claims(600))}});
  ASSERT_EQ(by_token.code, grpc::StatusCode::OK) << Describe(by_token);
  EXPECT_EQ(Field(by_token.responses[0], "recordedBy"), "user-7");
  // A caller-chosen principal header changes nothing.
  const Outcome spoofed =
      Gateway("kelola.ledger.v1.LedgerService.RecordPayment", Fill(R"({
        "requestId": "spoof-1", "customerId": "$CUSTOMER", "storeId": "store-1",
        "amount": {"amountMinor": "1000", "currencyCode": "IDR"},
        "method": "PAYMENT_METHOD_CASH"})"),
              {{"x-api-key", kOwnerA}, {"x-kelola-principal", "somebody-else"}});
  ASSERT_EQ(spoofed.code, grpc::StatusCode::OK) << Describe(spoofed);
  EXPECT_EQ(Field(spoofed.responses[0], "recordedBy"), "owner-a");
}

// A call without a deadline gets the gateway's default on its backend call: report-svc,
// asked for a card version that never comes, would otherwise wait its own 5 s.
TEST(GatewayDeadlineTest, ACallWithoutDeadlineGetsTheGatewaysDefault) {
  LinkContracts();
  ClusterOptions options;
  options.dir_prefix = "kelola-gateway-deadline";
  options.api_keys = {{kOwnerA, "owner-a", "toko-a", {"owner"}, {}}};
  options.gateway_args = {"--default_deadline=400ms"};
  auto cluster = Cluster::Start(options);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const absl::Time start = absl::Now();
  const Outcome out = Call((*cluster)->Channel(*(*cluster)->gateways[0]),
                           "kelola.report.v1.ReportService.GetSummaryCard",
                           R"({"customerId": "0190f7a4-3c1e-7b5a-9d2e-1f0a2b3c4d5e",
                               "minLedgerVersion": "1000000"})",
                           {{"x-api-key", kOwnerA}, {"x-test-no-deadline", ""}});
  const absl::Duration took = absl::Now() - start;
  EXPECT_NE(out.code, grpc::StatusCode::OK) << Describe(out);
  EXPECT_LT(took, absl::Seconds(3)) << Describe(out);
  EXPECT_GE(took, absl::Milliseconds(300)) << Describe(out);
}

TEST_F(GatewayAuthTest, OversizedRequestsAreRefused) {
  const std::string huge(5 * 1024 * 1024, 'x');
  const Outcome out =
      Gateway("kelola.customer.v1.CustomerService.CreateCustomer",
              absl::StrCat(R"({"customer": {"displayName": ")", huge, R"("}})"), Key(kOwnerA));
  EXPECT_EQ(out.code, grpc::StatusCode::RESOURCE_EXHAUSTED) << Describe(out);
  EXPECT_EQ(out.reason, "MESSAGE_TOO_LARGE") << Describe(out);
}

}  // namespace
}  // namespace kelola::testing
