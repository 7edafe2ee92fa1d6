// report-svc: summary cards and customer reports, a read model fed by events. main()
// only assembles the object graph.

#include "absl/flags/flag.h"
#include "libs/clock/clock.h"
#include "libs/server/startup.h"
#include "report-svc/api/report_service.h"
#include "report-svc/api/summary_card_reader.h"
#include "report-svc/api/tenant_settings.h"
#include "report-svc/app/report_export.h"
#include "report-svc/app/report_queries.h"
#include "report-svc/app/segments.h"
#include "report-svc/store/card_feed.h"
#include "report-svc/store/customer_dimension.h"
#include "report-svc/store/fact_index.h"
#include "report-svc/store/migrations.h"

ABSL_FLAG(std::string, db, "", "database URL: sqlite:PATH, sqlite::memory: or postgres://...");
ABSL_FLAG(std::string, ledger, "", "ledger-svc address (HOST:PORT, dns:///..., ipv4:...)");
ABSL_FLAG(std::string, customer, "", "customer-svc address (HOST:PORT, dns:///..., ipv4:...)");

int main(int argc, char** argv) {
  kelola::server::BlockTerminationSignals();
  const auto options = kelola::server::InitService(
      argc, argv, "report-svc", "report-svc --db=URL --ledger=ADDR --customer=ADDR [flags]");
  // A projection: the cursor commits with the data, so a commit lost to a power cut is
  // simply read again from the stream; NORMAL spares an fsync per batch.
  kelola::db::DatabaseOptions db_options;
  db_options.sqlite_synchronous = "NORMAL";
  // Catch-ups write much: a larger WAL between checkpoints copies a page rewritten by many
  // batches once, and a larger cache keeps the tables' recent pages.
  db_options.sqlite_wal_autocheckpoint_pages = 50000;
  db_options.sqlite_writer_cache_mib = 512;
  auto db = kelola::server::OpenDatabaseOrDie("--db", absl::GetFlag(FLAGS_db),
                                              kelola::report::Migrations(), db_options);
  auto ledger = kelola::server::PeerChannelOrDie("--ledger", absl::GetFlag(FLAGS_ledger));
  auto customer = kelola::server::PeerChannelOrDie("--customer", absl::GetFlag(FLAGS_customer));
  const kelola::Clock& clock = kelola::RealClock::Get();

  // The summary cards follow the ledger's event stream, many events per transaction.
  kelola::report::store::CardFeedOptions feed_options;
  feed_options.internal_key = kelola::server::InternalKeyOrDie();
  kelola::report::store::CardFeed card_feed(*db, ledger, feed_options);
  card_feed.Start();
  // The customer dimension follows customer-svc's event stream the same way.
  kelola::events::ConsumerOptions customer_feed_options;
  customer_feed_options.consumer = kelola::report::store::kCustomerConsumer;
  customer_feed_options.producer = kelola::report::store::kCustomerProducer;
  customer_feed_options.internal_key = feed_options.internal_key;
  kelola::events::EventConsumer customer_feed(
      *db, customer, customer_feed_options,
      kelola::events::EventHandler(kelola::report::store::ApplyCustomerEvent));
  customer_feed.Start();

  kelola::metrics::Registry registry;
  kelola::report::GrpcTenantSettings tenant_settings(customer, clock);
  // The tenant-wide reports read the facts from memory, kept up to date from the database.
  // Loaded before report-svc reports ready, so that no card or report waits for it.
  kelola::report::store::FactIndex facts(*db);
  facts.StartLoading();
  kelola::report::app::Segments segments(facts);
  kelola::report::SummaryCardReader cards(*db, facts, clock, tenant_settings, {}, &segments);
  kelola::report::app::ReportQueries reports(*db, facts, clock, tenant_settings);
  kelola::report::app::ReportExporter exporter(reports, clock);
  kelola::report::ReportService report_service(cards, reports, exporter, tenant_settings);

  return kelola::server::ServeUntilSignal(options, &registry, {&report_service},
                                          [&]() -> absl::Status {
                                            if (absl::Status s = facts.Ready(); !s.ok()) return s;
                                            return db->Ping();
                                          },
                                          {[&] {
                                            card_feed.Stop();
                                            customer_feed.Stop();
                                          }});
}
