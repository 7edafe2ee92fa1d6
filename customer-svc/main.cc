// customer-svc: the customer directory. main() only assembles the object graph.

#include "absl/flags/flag.h"
#include "customer-svc/api/category_service_impl.h"
#include "customer-svc/api/customer_internal_service_impl.h"
#include "customer-svc/api/customer_service_impl.h"
#include "customer-svc/api/tenant_service_impl.h"
#include "customer-svc/store/directory_store.h"
#include "customer-svc/store/migrations.h"
#include "libs/clock/clock.h"
#include "libs/events/event_service.h"
#include "libs/ids/ids.h"
#include "libs/phone/phone_normalizer.h"
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

  const kelola::Clock& clock = kelola::RealClock::Get();
  const auto seed = kelola::ids::IdGenerator::OsSeed();
  kelola::ids::IdGenerator ids(clock, seed);
  kelola::phone::PhoneNormalizer phones;
  kelola::metrics::Registry registry;
  kelola::events::EventNotifier notifier;
  kelola::events::Outbox outbox(clock, &notifier);
  kelola::events::EventServiceImpl event_service(*db, notifier);
  auto directory = kelola::customer::store::NewSqlDirectoryStore(*db, clock, outbox);

  // The directory's RPCs. Lists, search, duplicates, import/export, delete and merge are
  // still answered UNIMPLEMENTED by the generated base of CustomerServiceImpl.
  kelola::customer::api::CustomerServiceImpl customer_service(*directory, clock, ids, phones);
  kelola::customer::api::CategoryServiceImpl category_service(*directory, ids);
  kelola::customer::api::TenantServiceImpl tenant_service(*directory);
  kelola::customer::api::CustomerInternalServiceImpl internal_service(*directory);

  return kelola::server::ServeUntilSignal(
      options, &registry,
      {&customer_service, &category_service, &tenant_service, &internal_service, &event_service},
      [&] { return db->Ping(); }, {[&] { notifier.Shutdown(); }});
}
