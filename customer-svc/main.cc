// customer-svc: the customer directory. main() only assembles the object graph.

#include "absl/flags/flag.h"
#include "customer-svc/store/migrations.h"
#include "kelola/customer/v1/category_service.grpc.pb.h"
#include "kelola/customer/v1/customer_internal_service.grpc.pb.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/customer/v1/tenant_service.grpc.pb.h"
#include "libs/events/event_service.h"
#include "libs/server/startup.h"

ABSL_FLAG(std::string, db, "", "database URL: sqlite:PATH, sqlite::memory: or postgres://...");
ABSL_FLAG(std::string, ledger, "", "ledger-svc address (HOST:PORT, dns:///..., ipv4:...)");

int main(int argc, char** argv) {
  kelola::server::BlockTerminationSignals();
  const auto options = kelola::server::InitService(argc, argv, "customer-svc",
                                                   "customer-svc --db=URL --ledger=ADDR [flags]");
  auto db = kelola::server::OpenDatabaseOrDie("--db", absl::GetFlag(FLAGS_db),
                                              kelola::customer::Migrations());
  auto ledger = kelola::server::PeerChannelOrDie("--ledger", absl::GetFlag(FLAGS_ledger));
  (void)ledger;  // the stats feed and the delete and merge protocols will call it

  kelola::metrics::Registry registry;
  kelola::events::EventNotifier notifier;
  kelola::events::EventServiceImpl event_service(*db, notifier);
  // The directory's RPCs: answered UNIMPLEMENTED by the generated bases until they land.
  kelola::customer::v1::CustomerService::Service customer_service;
  kelola::customer::v1::CategoryService::Service category_service;
  kelola::customer::v1::TenantService::Service tenant_service;
  kelola::customer::v1::CustomerInternalService::Service internal_service;

  return kelola::server::ServeUntilSignal(
      options, &registry,
      {&customer_service, &category_service, &tenant_service, &internal_service, &event_service},
      [&] { return db->Ping(); }, {[&] { notifier.Shutdown(); }});
}
