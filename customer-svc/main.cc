// customer-svc: the customer directory. main() only assembles the object graph.

#include "absl/flags/flag.h"
#include "customer-svc/api/category_service_impl.h"
#include "customer-svc/api/customer_internal_service_impl.h"
#include "customer-svc/api/customer_query_handlers.h"
#include "customer-svc/api/customer_service.h"
#include "customer-svc/api/grpc_ledger_protocol.h"
#include "customer-svc/api/tenant_service_impl.h"
#include "customer-svc/app/operations_resumer.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/directory_store.h"
#include "customer-svc/store/ledger_stats_feed.h"
#include "customer-svc/store/migrations.h"
#include "customer-svc/store/planner_statistics.h"
#include "customer-svc/store/search_index_cache.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/clock/clock.h"
#include "libs/config/config.h"
#include "libs/db/group_commit.h"
#include "libs/events/event_consumer.h"
#include "libs/events/event_service.h"
#include "libs/events/outbox_sequencer.h"
#include "libs/ids/ids.h"
#include "libs/log/log.h"
#include "libs/phone/phone_normalizer.h"
#include "libs/server/periodic_task.h"
#include "libs/server/startup.h"

ABSL_FLAG(std::string, db, "", "database URL: sqlite:PATH, sqlite::memory: or postgres://...");
ABSL_FLAG(std::string, ledger, "", "ledger-svc address (HOST:PORT, dns:///..., ipv4:...)");
ABSL_FLAG(std::string, group_commit, "auto",
          "share one durable commit among concurrent writes (never acknowledged before it): "
          "on, off, or auto (on for SQLite, off for PostgreSQL)");
ABSL_FLAG(int, group_commit_max_batch, 128, "most writes in one shared commit");
ABSL_FLAG(int64_t, search_index_memory_mb, 2048,
          "memory for the tenants' quick-search indexes; above it the coldest tenants' indexes "
          "are dropped (loaded again on their next search)");
ABSL_FLAG(absl::Duration, search_index_load_wait, absl::Seconds(10),
          "how long a search or duplicate check waits for its tenant's index to load before it "
          "is refused with UNAVAILABLE (SEARCH_INDEX_LOADING); the load goes on");
ABSL_FLAG(int, import_batch_rows, 5000,
          "rows an import writes per transaction (1 to 100000): larger batches import faster "
          "into a large directory, but other writes wait for each batch's commit (SQLite has "
          "one writer)");
ABSL_FLAG(absl::Duration, resume_interval, absl::Seconds(2),
          "how often unfinished merges and abandoned deletes are resumed");
ABSL_FLAG(absl::Duration, abandoned_delete_after, absl::Minutes(2),
          "age after which a delete stuck between the ledger seal and the row removal is undone");

int main(int argc, char** argv) {
  kelola::server::BlockTerminationSignals();
  const auto options = kelola::server::InitService(argc, argv, "customer-svc",
                                                   "customer-svc --db=URL --ledger=ADDR [flags]");
  // SQLite: the write-ahead log is copied into the database every 40,000 pages instead of
  // 10,000, as in ledger-svc. An import into a large directory dirties pages all over its
  // indexes, and fewer, longer checkpoint rounds should copy each of them fewer times:
  // imports at a million customers ran 17-23 % faster in two alternating pairs, the
  // creates' p99 was lower in both; measured with the index change of the same day, three
  // more pairs were mixed for the imports (-4 to +26 %) and halved the creates' p99
  // (docs/benchmarks.md). The log file grows to about 180 MiB.
  // An import's batches are bulk writes, after which the log is copied every 120,000 pages:
  // most of a batch's pages are index leaves the batches before dirtied too, copied once
  // for several batches instead of about every second one. In two alternating pairs at a
  // million, imports into the loaded million ran 16 % and 6 % faster, into the empty
  // directory 12 % and 11 %; the log file reached 671 and 925 MiB during them, and is cut
  // back to 330 MB afterwards (docs/decisions/storage-driver-details.md, "Bulk writes";
  // docs/operations.md).
  kelola::db::DatabaseOptions db_options;
  db_options.sqlite_wal_autocheckpoint_pages = 40000;
  db_options.sqlite_bulk_wal_autocheckpoint_pages = 120000;
  auto db = kelola::server::OpenDatabaseOrDie("--db", absl::GetFlag(FLAGS_db),
                                              kelola::customer::Migrations(), db_options);
  auto ledger = kelola::server::PeerChannelOrDie("--ledger", absl::GetFlag(FLAGS_ledger));

  const kelola::Clock& clock = kelola::RealClock::Get();
  const auto seed = kelola::ids::IdGenerator::OsSeed();
  kelola::ids::IdGenerator ids(clock, seed);
  kelola::phone::PhoneNormalizer phones;
  kelola::metrics::Registry registry;
  kelola::events::EventNotifier notifier;
  kelola::events::Outbox outbox(clock, &notifier);
  // PostgreSQL: numbers the events writers stage (outbox_sequencer.h).
  kelola::events::OutboxSequencer sequencer(*db, &notifier);
  sequencer.Start();
  const std::string internal_key = kelola::server::InternalKeyOrDie();
  kelola::events::WatchOptions watch_options;
  watch_options.internal_key = internal_key;
  kelola::events::EventServiceImpl event_service(
      *db, notifier,
      kelola::events::EventTypesOf(kelola::customer::v1::CustomerCreated::descriptor()->file()),
      watch_options);
  // Every write of a customer keeps its stats row (which lists join) in the same transaction.
  kelola::customer::store::DirectoryStoreOptions directory_options;
  directory_options.on_customer_written = kelola::customer::store::KeepStatsRow;
  directory_options.on_customers_inserted = kelola::customer::store::KeepStatsRows;
  kelola::db::GroupCommitOptions batching;
  batching.max_batch = absl::GetFlag(FLAGS_group_commit_max_batch);
  if (absl::Status valid = batching.Validate(); !valid.ok()) {
    kelola::config::Die("--group_commit_max_batch", valid);
  }
  kelola::db::GroupCommitter group_commit(*db, batching);
  auto grouped = kelola::db::GroupCommitWanted(absl::GetFlag(FLAGS_group_commit), db->dialect());
  if (!grouped.ok()) kelola::config::Die("--group_commit", grouped.status());
  if (*grouped) directory_options.writer = &group_commit;
  auto directory =
      kelola::customer::store::NewSqlDirectoryStore(*db, clock, outbox, directory_options);
  // Quick search from memory: each tenant's index is loaded on its first search and follows
  // the directory's own events (search_index_cache.h).
  const kelola::customer::store::CustomerQueryOptions query_options;
  kelola::customer::store::SearchIndexCacheOptions index_options;
  // The same relevance settings for searches and duplicate checks.
  index_options.index.name_similarity_threshold = query_options.name_similarity_threshold;
  index_options.index.search_candidates = query_options.search_candidates;
  const int64_t index_mb = absl::GetFlag(FLAGS_search_index_memory_mb);
  if (index_mb < 1 || index_mb > (int64_t{1} << 30)) {
    kelola::config::Die("--search_index_memory_mb",
                        absl::InvalidArgumentError("must be between 1 and 2^30"));
  }
  index_options.memory_budget_bytes = static_cast<size_t>(index_mb) << 20;
  index_options.load_wait = absl::GetFlag(FLAGS_search_index_load_wait);
  if (index_options.load_wait < absl::ZeroDuration()) {
    kelola::config::Die("--search_index_load_wait",
                        absl::InvalidArgumentError("must not be negative"));
  }
  kelola::customer::store::SearchIndexCache search_indexes(*db, clock, index_options);
  // Built at start for the tenants active lately (in the background; the budget applies).
  if (absl::Status queued = search_indexes.QueueRecentlyActive(100000, 64); !queued.ok()) {
    kelola::log::Warn("search index: could not find the recently active tenants",
                      {{"error", queued.ToString()}});
  }
  search_indexes.Start();
  registry.DeclareGauge("kelola_customer_search_index_tenants",
                        "tenants whose quick-search index is in memory");
  registry.DeclareGauge("kelola_customer_search_index_bytes",
                        "bytes of the quick-search indexes in memory (measured at load)");
  registry.DeclareGauge("kelola_customer_search_index_customers",
                        "customers in the quick-search indexes in memory");
  registry.DeclareGauge("kelola_customer_search_index_evictions",
                        "indexes dropped for --search_index_memory_mb since start");
  kelola::server::PeriodicTask index_gauges("index-gauges", absl::Seconds(5), [&] {
    const auto stats = search_indexes.stats();
    registry.Set("kelola_customer_search_index_tenants", {}, static_cast<double>(stats.tenants));
    registry.Set("kelola_customer_search_index_bytes", {}, static_cast<double>(stats.bytes));
    registry.Set("kelola_customer_search_index_customers", {},
                 static_cast<double>(stats.customers));
    registry.Set("kelola_customer_search_index_evictions", {},
                 static_cast<double>(stats.evictions));
  });
  index_gauges.Start();
  kelola::customer::store::CustomerQuery query(clock, search_indexes, query_options);
  kelola::customer::api::CustomerQueryHandlers queries(*directory, query);

  kelola::customer::api::ImportLimits import_limits;
  import_limits.batch_rows = absl::GetFlag(FLAGS_import_batch_rows);
  if (import_limits.batch_rows < 1 || import_limits.batch_rows > 100000) {
    kelola::config::Die("--import_batch_rows",
                        absl::InvalidArgumentError("must be between 1 and 100000"));
  }
  kelola::customer::api::CustomerImporter importer(*directory, ids, phones, clock, import_limits);
  kelola::customer::api::CustomerExporter exporter(query, *directory, clock);
  // Delete (C4) and merge (C7) run their protocols with ledger-svc; what a crash or an
  // unreachable ledger leaves unfinished is resumed in the background.
  kelola::customer::api::GrpcLedgerProtocol ledger_protocol(ledger);
  kelola::customer::app::CustomerDeletionOptions deletion_options;
  deletion_options.stale_after = absl::GetFlag(FLAGS_abandoned_delete_after);
  kelola::customer::app::CustomerDeletion deletion(*directory, ledger_protocol, ids, clock,
                                                   deletion_options);
  kelola::customer::app::CustomerMergeSaga merges(*directory, ledger_protocol, ids, clock);
  kelola::customer::app::OperationsResumer operations(merges, deletion, *directory, registry,
                                                      clock);
  kelola::server::PeriodicTask resumer("op-resumer", absl::GetFlag(FLAGS_resume_interval),
                                       [&] { operations.RunOnce(); });
  resumer.Start();
  kelola::customer::api::CustomerService customer_service(*directory, clock, ids, phones, queries,
                                                          importer, exporter, deletion, merges);
  kelola::customer::api::CategoryServiceImpl category_service(*directory, ids);
  kelola::customer::api::TenantServiceImpl tenant_service(*directory);
  kelola::customer::api::CustomerInternalServiceImpl internal_service(*directory);

  // The stats feed: ledger events keep the customer_stats projection (filters, sorts),
  // applied in batches.
  kelola::events::ConsumerOptions feed_options;
  feed_options.consumer = kelola::customer::store::kLedgerStatsConsumer;
  feed_options.producer = kelola::customer::store::kLedgerProducer;
  feed_options.internal_key = internal_key;
  feed_options.max_batch = 512;  // events per transaction (one commit for a burst of sales)
  feed_options.max_wait = absl::Milliseconds(2);
  kelola::events::EventConsumer stats_feed(
      *db, ledger, feed_options,
      kelola::events::BatchHandler(kelola::customer::store::ApplyLedgerEvents));
  stats_feed.Start();
  // PostgreSQL plans lists from statistics: a burst of the feed's updates (a backfill after
  // an import, the first sales of many customers) is analyzed within a second or two rather
  // than at autovacuum's next round (planner_statistics.h).
  kelola::server::PeriodicTask stats_planner("stats-planner", absl::Seconds(1), [&] {
    auto refreshed = kelola::customer::store::RefreshIfStale(
        *db, kelola::customer::store::StatsProjectionRule());
    if (!refreshed.ok()) {
      kelola::log::Warn("planner statistics of customer_stats not refreshed",
                        {{"error", std::string(refreshed.status().message())}});
    }
  });
  if (db->dialect() == kelola::db::Dialect::kPostgres) stats_planner.Start();

  const int code = kelola::server::ServeUntilSignal(
      options, &registry,
      {&customer_service, &category_service, &tenant_service, &internal_service, &event_service},
      [&] { return db->Ping(); },
      {[&] { notifier.Shutdown(); }, [&] { stats_feed.Stop(); }, [&] { stats_planner.Stop(); },
       [&] { resumer.Stop(); }, [&] { index_gauges.Stop(); }, [&] { search_indexes.Stop(); }});
  // After the server has finished its calls: events of writes that were still committing
  // are numbered too, not left staged until the next start.
  sequencer.Stop();
  return code;
}
