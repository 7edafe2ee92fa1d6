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
  auto db = kelola::server::OpenDatabaseOrDie("--db", absl::GetFlag(FLAGS_db),
                                              kelola::report::Migrations());
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
  kelola::report::store::FactIndex facts(*db);
  kelola::report::app::Segments segments(*db, facts);
  kelola::report::SummaryCardReader cards(*db, clock, tenant_settings, {}, &segments);
  kelola::report::app::ReportQueries reports(*db, facts, clock, tenant_settings);
  kelola::report::app::ReportExporter exporter(reports, clock);
  kelola::report::ReportService report_service(cards, reports, exporter, tenant_settings);

  return kelola::server::ServeUntilSignal(options, &registry, {&report_service},
                                          [&] { return db->Ping(); }, {[&] {
                                            card_feed.Stop();
                                            customer_feed.Stop();
                                          }});
}
