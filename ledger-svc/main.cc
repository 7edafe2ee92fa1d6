// ledger-svc: sales on credit, payments and receivables. main() only assembles the
// object graph.

#include "absl/flags/flag.h"
#include "kelola/ledger/v1/events.pb.h"
#include "ledger-svc/api/grpc_customer_directory.h"
#include "ledger-svc/api/ledger_internal_service.h"
#include "ledger-svc/api/ledger_service.h"
#include "ledger-svc/api/tenant_settings_cache.h"
#include "ledger-svc/app/ledger_app.h"
#include "ledger-svc/store/directory_projection.h"
#include "ledger-svc/store/migrations.h"
#include "libs/clock/clock.h"
#include "libs/config/config.h"
#include "libs/db/group_commit.h"
#include "libs/events/event_consumer.h"
#include "libs/events/event_service.h"
#include "libs/events/outbox_sequencer.h"
#include "libs/ids/ids.h"
#include "libs/server/startup.h"

ABSL_FLAG(std::string, db, "", "database URL: sqlite:PATH, sqlite::memory: or postgres://...");
ABSL_FLAG(std::string, customer, "", "customer-svc address (HOST:PORT, dns:///..., ipv4:...)");
ABSL_FLAG(std::string, group_commit, "auto",
          "share one durable commit among concurrent writes (never acknowledged before it): "
          "on, off, or auto (on for SQLite, whose one writer commits one transaction at a "
          "time; off for PostgreSQL, which runs writes concurrently and groups their WAL "
          "flushes itself)");
ABSL_FLAG(int, group_commit_max_batch, 128, "most writes in one shared commit");

int main(int argc, char** argv) {
  kelola::server::BlockTerminationSignals();
  const auto options = kelola::server::InitService(argc, argv, "ledger-svc",
                                                   "ledger-svc --db=URL --customer=ADDR [flags]");
  // SQLite: a writer page cache of 32 MiB rather than the 256 MiB bulk imports want. The
  // ledger's writes touch few pages each, and the writer's cache is walked bucket by bucket
  // on its transactions' ends: with 256 MiB that walk was the top SQLite entry of a sale's
  // profile (docs/benchmarks.md, about 4 % of sales/s at 64 clients).
  // A checkpoint every 40,000 log pages rather than 10,000: after each one the group-commit
  // writer copies what the checkpoint thread's passes left and syncs the file before the log
  // can start again, a pause in which no write commits (18-21 ms every 0.5-0.7 s at 10,000
  // pages; 38-52 ms every 1.4-1.5 s at 40,000). Fewer, longer pauses took the sales' p99 at
  // 64 clients from 45-51 to 30-43 ms in five alternating pairs (docs/benchmarks.md); the
  // log file grows to about 180 MiB instead of 40 (docs/operations.md).
  kelola::db::DatabaseOptions db_options;
  db_options.sqlite_writer_cache_mib = 32;
  db_options.sqlite_wal_autocheckpoint_pages = 40000;
  auto db = kelola::server::OpenDatabaseOrDie("--db", absl::GetFlag(FLAGS_db),
                                              kelola::ledger::Migrations(), db_options);
  auto customer = kelola::server::PeerChannelOrDie("--customer", absl::GetFlag(FLAGS_customer));

  const kelola::Clock& clock = kelola::RealClock::Get();
  const auto seed = kelola::ids::IdGenerator::OsSeed();
  kelola::ids::IdGenerator ids(clock, seed);
  kelola::metrics::Registry registry;
  kelola::events::EventNotifier notifier;
  // PostgreSQL: numbers the events writers stage (outbox_sequencer.h).
  kelola::events::OutboxSequencer sequencer(*db, &notifier);
  sequencer.Start();
  kelola::events::WatchOptions watch_options;
  watch_options.internal_key = kelola::server::InternalKeyOrDie();
  kelola::events::EventServiceImpl event_service(
      *db, notifier,
      kelola::events::EventTypesOf(kelola::ledger::v1::SaleRecorded::descriptor()->file()),
      watch_options);
  kelola::ledger::GrpcCustomerDirectory directory(customer);
  // Whether a customer may buy comes from the ledger's projection of customer-svc's
  // directory (store/directory_projection.h), which customer-svc's event stream keeps
  // current: no call to customer-svc per sale.
  kelola::events::ConsumerOptions directory_feed_options;
  directory_feed_options.consumer = kelola::ledger::kDirectoryConsumer;
  directory_feed_options.producer = kelola::ledger::kDirectoryProducer;
  directory_feed_options.internal_key = watch_options.internal_key;
  kelola::events::EventConsumer directory_feed(
      *db, customer, directory_feed_options,
      kelola::events::BatchHandler(kelola::ledger::ApplyDirectoryEvents));
  directory_feed.Start();
  kelola::db::GroupCommitOptions batching;
  batching.max_batch = absl::GetFlag(FLAGS_group_commit_max_batch);
  if (absl::Status valid = batching.Validate(); !valid.ok()) {
    kelola::config::Die("--group_commit_max_batch", valid);
  }
  kelola::db::GroupCommitter group_commit(*db, batching);
  auto grouped = kelola::db::GroupCommitWanted(absl::GetFlag(FLAGS_group_commit), db->dialect());
  if (!grouped.ok()) kelola::config::Die("--group_commit", grouped.status());
  kelola::ledger::LedgerCore ledger(*db, clock, ids, &notifier, *grouped ? &group_commit : nullptr);
  kelola::ledger::TenantSettingsCache tenants(directory, clock, &ledger.store);
  kelola::ledger::LedgerServiceImpl ledger_service(ledger.store, ledger.app, directory, tenants,
                                                   clock);
  kelola::ledger::LedgerInternalServiceImpl internal_service(ledger.app.customer_protocols,
                                                             tenants);

  const int code = kelola::server::ServeUntilSignal(
      options, &registry, {&ledger_service, &internal_service, &event_service},
      [&] { return db->Ping(); }, {[&] { notifier.Shutdown(); }, [&] { directory_feed.Stop(); }});
  // After the server has finished its calls: events of writes that were still committing
  // are numbered too, not left staged until the next start.
  sequencer.Stop();
  return code;
}
