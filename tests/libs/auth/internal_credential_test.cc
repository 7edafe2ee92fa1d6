#include "libs/auth/internal_credential.h"

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "libs/auth/access_policy.h"
#include "libs/errors/errors.h"

namespace kelola::auth {
namespace {

constexpr char kKey[] = "0123456789abcdef0123456789abcdef-internal";

Principal Cashier() {
  Principal p;
  p.id = "user-7";
  p.kind = PrincipalKind::kUser;
  p.display_name = "Siti";
  p.tenant_id = "toko-a";
  p.roles = {Role::kCashier};
  p.stores = {"store-1", "store-2"};
  return p;
}

TEST(InternalCredentialTest, RoundTripsThePrincipal) {
  FakeClock clock;
  CredentialSigner signer(kKey, "gateway", clock);
  CredentialVerifier verifier(kKey, clock);
  auto call = verifier.Verify(signer.Sign(Cashier()));
  ASSERT_TRUE(call.ok()) << call.status();
  EXPECT_EQ(call->caller, "gateway");
  EXPECT_EQ(call->principal.id, "user-7");
  EXPECT_EQ(call->principal.display_name, "Siti");
  EXPECT_EQ(call->principal.tenant_id, "toko-a");
  EXPECT_EQ(call->principal.roles, std::vector<Role>{Role::kCashier});
  EXPECT_EQ(call->principal.stores, (std::vector<std::string>{"store-1", "store-2"}));
  EXPECT_TRUE(call->principal.MayUseStore("store-2"));
  EXPECT_FALSE(call->principal.MayUseStore("store-3"));
}

TEST(InternalCredentialTest, RefusesOtherKeysTamperingAndAge) {
  FakeClock clock;
  CredentialSigner signer(kKey, "gateway", clock);
  CredentialVerifier verifier(kKey, clock);
  const std::string good = signer.Sign(Cashier());

  CredentialVerifier other("another key of at least thirty-two bytes!!", clock);
  EXPECT_EQ(errors::Reason(other.Verify(good).status()), "CREDENTIAL_INVALID");

  // Any byte changed in the payload or the tag breaks the signature.
  for (size_t i = 3; i < good.size(); i += 7) {
    std::string bad = good;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    auto verified = verifier.Verify(bad);
    EXPECT_FALSE(verified.ok()) << "byte " << i;
    EXPECT_EQ(verified.status().code(), absl::StatusCode::kUnauthenticated);
  }
  for (const std::string& junk : {std::string(), std::string("k1."), std::string("k1.."),
                                  std::string("x1.abc.def"), std::string(9000, 'k')}) {
    EXPECT_EQ(errors::Reason(verifier.Verify(junk).status()), "CREDENTIAL_INVALID") << junk;
  }

  clock.Advance(kCredentialLifetime + absl::Seconds(1));
  EXPECT_EQ(errors::Reason(verifier.Verify(good).status()), "CREDENTIAL_EXPIRED");
}

TEST(InternalCredentialTest, UsersNeedATenantServicesDoNot) {
  FakeClock clock;
  CredentialSigner signer(kKey, "report-svc", clock);
  CredentialVerifier verifier(kKey, clock);
  Principal tenantless = Cashier();
  tenantless.tenant_id.clear();
  EXPECT_FALSE(verifier.Verify(signer.Sign(tenantless)).ok());
  auto service = verifier.Verify(signer.Sign(ServicePrincipal("report-svc", "")));
  ASSERT_TRUE(service.ok()) << service.status();
  EXPECT_EQ(service->principal.kind, PrincipalKind::kService);
  EXPECT_TRUE(service->principal.HasRole(Role::kOwner));
}

TEST(AccessPolicyTest, CashiersAreKeptFromTheContractsRestrictedRpcs) {
  Principal cashier = Cashier();
  Principal manager = Cashier();
  manager.roles = {Role::kManager};
  Principal admin = Cashier();
  admin.roles = {Role::kPlatformAdmin};
  for (const char* method :
       {"/kelola.customer.v1.CustomerService/DeleteCustomer",
        "/kelola.customer.v1.CustomerService/MergeCustomers",
        "/kelola.customer.v1.CustomerService/EraseCustomer",
        "/kelola.customer.v1.CustomerService/ExportCustomers",
        "/kelola.customer.v1.CategoryService/DeleteCategory",
        "/kelola.ledger.v1.LedgerService/VoidSale", "/kelola.ledger.v1.LedgerService/RefundSale",
        "/kelola.ledger.v1.LedgerService/SetCreditLimit",
        "/kelola.report.v1.ReportService/ExportReport"}) {
    absl::Status denied = Authorize(cashier, method);
    EXPECT_EQ(denied.code(), absl::StatusCode::kPermissionDenied) << method;
    EXPECT_EQ(errors::Reason(denied), "PERMISSION_DENIED");
    EXPECT_EQ(errors::GetMetadata(denied)["required_role"], "owner|manager|platform_admin");
    EXPECT_TRUE(Authorize(manager, method).ok()) << method;
    EXPECT_TRUE(Authorize(admin, method).ok()) << method;
  }
  for (const char* method : {"/kelola.customer.v1.CustomerService/CreateCustomer",
                             "/kelola.customer.v1.CustomerService/SearchCustomers",
                             "/kelola.ledger.v1.LedgerService/RecordSale",
                             "/kelola.ledger.v1.LedgerService/RecordPayment",
                             "/kelola.report.v1.ReportService/GetSummaryCard"}) {
    EXPECT_TRUE(Authorize(cashier, method).ok()) << method;
  }
  // Tenant settings are the owner's, not a manager's.
  EXPECT_FALSE(Authorize(manager, "/kelola.customer.v1.TenantService/UpdateTenantSettings").ok());
  EXPECT_EQ(errors::Reason(RequireStore(cashier, "store-9")), "STORE_NOT_ALLOWED");
  EXPECT_TRUE(RequireStore(cashier, "store-1").ok());
}

}  // namespace
}  // namespace kelola::auth
