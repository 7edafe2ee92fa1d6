// A NUL character (U+0000) in a string field is valid UTF-8, but PostgreSQL refuses it in
// text (an INTERNAL error before) and no field means anything by it. The real service
// binaries refuse it before the handler works: INVALID_ARGUMENT, reason INVALID_CHARACTER,
// the field named by its path — customer-svc's CreateCustomer and ledger-svc's RecordSale,
// on SQLite and PostgreSQL. Nothing is stored.

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "libs/errors/errors.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/service_process.h"
#include "libs/testing/suite.h"
#include "libs/testing/temp_dir.h"

namespace kelola::testing {
namespace {

using namespace std::string_literals;  // NOLINT: "...\0..."s keeps the NUL

std::unique_ptr<grpc::ClientContext> Ctx() {
  auto ctx = TenantContext("toko-ani");
  ctx->AddMetadata("x-kelola-principal", "ani");
  return ctx;
}

void ExpectRefused(const grpc::Status& status, const std::string& field) {
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  const absl::Status decoded = errors::FromGrpcStatus(status);
  EXPECT_EQ(errors::Reason(decoded), "INVALID_CHARACTER") << decoded;
  const auto violations = errors::Violations(decoded);
  ASSERT_EQ(violations.size(), 1u) << decoded;
  EXPECT_EQ(violations[0].field, field);
}

TEST(NulCharacterTest, RefusedWithTheFieldNamedOnSqliteAndPostgres) {
  auto dir = TempDir::Create("kelola-nul");
  ASSERT_TRUE(dir.ok()) << dir.status();
  const std::string d = (*dir)->path();
  auto postgres = PostgresServer::Start();
  ASSERT_TRUE(postgres.ok()) << postgres.status();
  auto customer_pg = (*postgres)->CreateUniqueDatabase("customer");
  ASSERT_TRUE(customer_pg.ok()) << customer_pg.status();
  auto ledger_pg = (*postgres)->CreateUniqueDatabase("ledger");
  ASSERT_TRUE(ledger_pg.ok()) << ledger_pg.status();

  struct Case {
    std::string customer_db, ledger_db;
  };
  for (const Case& c :
       {Case{"sqlite:" + d + "/c.db", "sqlite:" + d + "/l.db"}, Case{*customer_pg, *ledger_pg}}) {
    SCOPED_TRACE(c.customer_db);
    auto customer = ServiceProcess::Start(
        {"customer-svc", {"--db=" + c.customer_db, "--ledger=127.0.0.1:1"}, d});
    ASSERT_TRUE(customer.ok()) << customer.status();
    auto ledger = ServiceProcess::Start(
        {"ledger-svc", {"--db=" + c.ledger_db, "--customer=" + (*customer)->address()}, d});
    ASSERT_TRUE(ledger.ok()) << ledger.status();
    auto customers = customer::v1::CustomerService::NewStub(
        grpc::CreateChannel((*customer)->address(), grpc::InsecureChannelCredentials()));
    auto sales = ledger::v1::LedgerService::NewStub(
        grpc::CreateChannel((*ledger)->address(), grpc::InsecureChannelCredentials()));

    customer::v1::CreateCustomerRequest create;
    create.set_request_id("create-nul");
    create.mutable_customer()->set_display_name("Bu\0Ani"s);
    customer::v1::CreateCustomerResponse created;
    ExpectRefused(customers->CreateCustomer(Ctx().get(), create, &created),
                  "customer.display_name");
    customer::v1::ListCustomersRequest list;
    customer::v1::ListCustomersResponse listed;
    ASSERT_TRUE(customers->ListCustomers(Ctx().get(), list, &listed).ok());
    EXPECT_EQ(listed.customers_size(), 0);  // nothing stored

    // A sale that would be recorded but for the NUL in its item's SKU.
    create.set_request_id("create-ani");
    create.mutable_customer()->set_display_name("Bu Ani");
    grpc::Status made = customers->CreateCustomer(Ctx().get(), create, &created);
    ASSERT_TRUE(made.ok()) << made.error_message();
    ledger::v1::RecordSaleRequest sale;
    sale.set_request_id("sale-nul");
    sale.set_customer_id(created.customer().customer_id());
    sale.set_store_id("toko-1");
    auto* item = sale.add_items();
    item->set_name("Beras 5kg");
    item->set_sku("BRS\0-5"s);
    item->set_quantity_milli(1000);
    item->mutable_unit_price()->set_amount_minor(75000);
    item->mutable_unit_price()->set_currency_code("IDR");
    *sale.mutable_total() = item->unit_price();
    ledger::v1::RecordSaleResponse recorded;
    ExpectRefused(sales->RecordSale(Ctx().get(), sale, &recorded), "items.sku");
    item->set_sku("BRS-5");  // the same sale without the NUL is recorded
    grpc::Status clean = sales->RecordSale(Ctx().get(), sale, &recorded);
    EXPECT_TRUE(clean.ok()) << clean.error_message();

    EXPECT_TRUE((*ledger)->Stop().ok()) << (*ledger)->LogTail();
    EXPECT_TRUE((*customer)->Stop().ok()) << (*customer)->LogTail();
  }
}

}  // namespace
}  // namespace kelola::testing
