// report-svc: summary cards and customer reports, a read model fed by events. main()
// only assembles the object graph.

#include "absl/flags/flag.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/server/startup.h"
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
  (void)ledger;    // the read model will follow its event stream
  (void)customer;  // the read model will follow its event stream

  kelola::metrics::Registry registry;
  // The reports: answered UNIMPLEMENTED by the generated base until they land.
  kelola::report::v1::ReportService::Service report_service;

  return kelola::server::ServeUntilSignal(options, &registry, {&report_service},
                                          [&] { return db->Ping(); });
}
