// ledger-svc: sales on credit, payments and receivables. main() only assembles the
// object graph.

#include "absl/flags/flag.h"
#include "kelola/ledger/v1/ledger_internal_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "ledger-svc/store/migrations.h"
#include "libs/events/event_service.h"
#include "libs/server/startup.h"

ABSL_FLAG(std::string, db, "", "database URL: sqlite:PATH, sqlite::memory: or postgres://...");
ABSL_FLAG(std::string, customer, "", "customer-svc address (HOST:PORT, dns:///..., ipv4:...)");

int main(int argc, char** argv) {
  kelola::server::BlockTerminationSignals();
  const auto options = kelola::server::InitService(argc, argv, "ledger-svc",
                                                   "ledger-svc --db=URL --customer=ADDR [flags]");
  auto db = kelola::server::OpenDatabaseOrDie("--db", absl::GetFlag(FLAGS_db),
                                              kelola::ledger::Migrations());
  auto customer = kelola::server::PeerChannelOrDie("--customer", absl::GetFlag(FLAGS_customer));
  (void)customer;  // the sale check will call it

  kelola::metrics::Registry registry;
  kelola::events::EventNotifier notifier;
  kelola::events::EventServiceImpl event_service(*db, notifier);
  // The ledger's RPCs: answered UNIMPLEMENTED by the generated bases until they land.
  kelola::ledger::v1::LedgerService::Service ledger_service;
  kelola::ledger::v1::LedgerInternalService::Service internal_service;

  return kelola::server::ServeUntilSignal(
      options, &registry, {&ledger_service, &internal_service, &event_service},
      [&] { return db->Ping(); }, {[&] { notifier.Shutdown(); }});
}
