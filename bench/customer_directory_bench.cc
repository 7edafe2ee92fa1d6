// customer-svc at scale, through gRPC on loopback: search as the user types, lists with a
// filter and a stats sort, creates with the duplicate check, CSV import and export, on
// SQLite and PostgreSQL, with one client and with 16 concurrent clients.
//
//   scripts/bench customer_directory                       (100,000 customers)
//   build/bench/customer_directory_bench --customers=1000000 --root=.
//
// Customers come from bench/harness/customer_data (realistic Indonesian and Thai names,
// phones typed in several ways, emails; deterministic seed). They are loaded through
// ImportCustomers. Their ledger stats are written straight into customer-svc's projection
// table (the ledger feeds it in production), as the only setup that bypasses the API.

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <functional>
#include <iterator>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "bench/harness/calls.h"
#include "bench/harness/closed_loop.h"
#include "bench/harness/customer_data.h"
#include "bench/harness/latency.h"
#include "bench/harness/process_cpu.h"
#include "bench/harness/report.h"
#include "customer-svc/store/customer_query.h"
#include "grpcpp/grpcpp.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "libs/csv/writer.h"
#include "libs/db/database.h"
#include "libs/errors/errors.h"
#include "libs/testing/postgres_server.h"
#include "libs/testing/service_process.h"
#include "libs/testing/temp_dir.h"

ABSL_FLAG(std::string, root, ".", "repository root (results and docs are written there)");
ABSL_FLAG(int64_t, customers, 100000, "customers loaded before measuring");
ABSL_FLAG(std::string, drivers, "sqlite,postgres", "storage drivers to measure");
ABSL_FLAG(int, queries, 1000, "queries per search kind and client setting");
ABSL_FLAG(int, creates, 4000, "customers created in the create measurement");
ABSL_FLAG(uint64_t, seed, 20261124, "data set seed");
// What is measured after the load, in this order (Bench::Run).
static constexpr const char* kPhases[] = {"search", "list",   "duplicates",
                                          "create", "import", "export"};
ABSL_FLAG(std::vector<std::string>, phases,
          std::vector<std::string>(std::begin(kPhases), std::end(kPhases)),
          "what is measured after the load (a subset is for experiments: the report then says "
          "which)");
ABSL_FLAG(std::string, client, "callback",
          "load client: callback (a closed loop on gRPC's callback API: as many calls in flight "
          "as clients) or threads (one blocking call per client thread)");
ABSL_FLAG(std::vector<std::string>, service_flags, {},
          "extra flags for customer-svc, e.g. --service_flags=--import_batch_rows=20000");

namespace kelola::bench {
namespace {

namespace v1 = kelola::customer::v1;
constexpr char kTenant[] = "bench";
constexpr int kImportBatch = 50000;

std::unique_ptr<grpc::ClientContext> Ctx() { return BenchContext(kTenant, absl::Seconds(600)); }

absl::Status FromGrpc(const grpc::Status& s) { return errors::FromGrpcStatus(s); }

// Peak and current resident set of a process, in KiB.
std::pair<int64_t, int64_t> Memory(pid_t pid) {
  const ProcessMemory m = MemoryOf(pid);
  return {m.peak_kib, m.resident_kib};
}

class Bench {
 public:
  Bench(std::string driver, std::string db_url, std::string log_dir, Report& report)
      : driver_(std::move(driver)),
        db_url_(std::move(db_url)),
        log_dir_(std::move(log_dir)),
        report_(report),
        data_(absl::GetFlag(FLAGS_seed)) {}

  absl::Status Run() {
    std::vector<std::string> service_args = {"--db=" + db_url_, "--ledger=127.0.0.1:1"};
    for (const std::string& flag : absl::GetFlag(FLAGS_service_flags)) {
      service_args.push_back(flag);
    }
    auto service = testing::ServiceProcess::Start({"customer-svc", service_args, log_dir_});
    if (!service.ok()) return service.status();
    service_ = *std::move(service);
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(64 << 20);
    channel_ =
        grpc::CreateCustomChannel(service_->address(), grpc::InsecureChannelCredentials(), args);
    stub_ = v1::CustomerService::NewStub(channel_);
    if (auto s = Load(); !s.ok()) return s;
    if (auto s = SeedStats(); !s.ok()) return s;
    if (auto s = LoadSearchIndex(); !s.ok()) return s;
    absl::Status (Bench::*const measures[])() = {
        &Bench::MeasureSearch,           &Bench::MeasureList,
        &Bench::MeasureDuplicates,       &Bench::MeasureCreate,
        &Bench::MeasureImportIntoLoaded, &Bench::MeasureExport};
    static_assert(std::size(measures) == std::size(kPhases));
    const std::vector<std::string> wanted = absl::GetFlag(FLAGS_phases);
    for (size_t i = 0; i < std::size(kPhases); ++i) {
      if (std::find(wanted.begin(), wanted.end(), kPhases[i]) == wanted.end()) continue;
      if (auto s = (this->*measures[i])(); !s.ok()) return s;
    }
    return service_->Stop();
  }

 private:
  // Loads the customers through ImportCustomers into an empty directory.
  absl::Status Load() {
    const int64_t n = absl::GetFlag(FLAGS_customers);
    const absl::Time start = absl::Now();
    if (auto s = Import(0, n, "bench-load-"); !s.ok()) return s;
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    AddRow({absl::StrCat(driver_, ": import ", n, " rows"),
            {{"measure", "rows/s"},
             {"p50 ms", "-"},
             {"p99 ms", "-"},
             {"value", Fixed(n / seconds, 0)}}});
    return absl::OkStatus();
  }

  // New customers imported into the loaded directory (a tenth of it, at most 100,000), with
  // its search index loaded and following the writes, as in a running service.
  absl::Status MeasureImportIntoLoaded() {
    const int64_t held = absl::GetFlag(FLAGS_customers);
    const int64_t first = held + 2000000;  // creates use held + 1,000,000 on
    const int64_t n = std::min<int64_t>(100000, std::max<int64_t>(1, held / 10));
    const absl::Time start = absl::Now();
    if (auto s = Import(first, first + n, "bench-grow-"); !s.ok()) return s;
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    AddRow({absl::StrCat(driver_, ": import ", n, " rows into ", held, " customers"),
            {{"measure", "rows/s"},
             {"p50 ms", "-"},
             {"p99 ms", "-"},
             {"value", Fixed(n / seconds, 0)}}});
    return absl::OkStatus();
  }

  // Imports the synthetic customers [first, last) in files of kImportBatch rows; a failed
  // row is an error (rows skipped as duplicates count towards the rate).
  absl::Status Import(int64_t first_row, int64_t last_row, absl::string_view request_prefix) {
    for (int64_t first = first_row; first < last_row; first += kImportBatch) {
      std::string csv;
      auto writer = csv::Writer::Create({}, [&](absl::string_view bytes) {
        csv.append(bytes.data(), bytes.size());
        return absl::OkStatus();
      });
      if (!writer.ok()) return writer.status();
      if (auto s = (*writer)->WriteRow({"Name", "Phone", "Email"}); !s.ok()) return s;
      for (int64_t i = first; i < std::min(last_row, first + kImportBatch); ++i) {
        SyntheticCustomer c = data_.Make(i);
        if (auto s = (*writer)->WriteRow({c.display_name, c.phone, c.email}); !s.ok()) return s;
      }
      if (auto s = (*writer)->Finish(); !s.ok()) return s;
      v1::ImportCustomersResponse response;
      auto context = Ctx();
      auto stream = stub_->ImportCustomers(context.get(), &response);
      v1::ImportCustomersRequest header;
      header.mutable_header()->set_request_id(absl::StrCat(request_prefix, first));
      header.mutable_header()->set_on_duplicate(v1::IMPORT_DUPLICATE_POLICY_SKIP);
      stream->Write(header);
      for (size_t at = 0; at < csv.size(); at += 1 << 20) {
        v1::ImportCustomersRequest chunk;
        chunk.set_chunk(csv.substr(at, 1 << 20));
        if (!stream->Write(chunk)) break;
      }
      stream->WritesDone();
      if (auto s = FromGrpc(stream->Finish()); !s.ok()) return s;
      if (response.failed_count() > 0) {
        return absl::InternalError(
            absl::StrCat("import refused ", response.failed_count(),
                         " rows, first: ", response.row_errors(0).DebugString()));
      }
    }
    return absl::OkStatus();
  }

  // Ledger stats for every customer, written straight into the projection table.
  absl::Status SeedStats() {
    auto db = db::Open(db_url_);
    if (!db.ok()) return db.status();
    std::mt19937_64 random(7);
    const absl::Time now = absl::Now();
    std::vector<std::string> ids;
    int64_t owing = 0;  // customers seeded with a balance
    absl::Status status = (*db)->InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto rows = tx.Query("SELECT customer_id FROM customers WHERE tenant_id = ?", {kTenant});
      if (!rows.ok()) return rows.status();
      for (const auto& row : *rows) ids.push_back(row.GetText(0));
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    for (size_t first = 0; first < ids.size(); first += 10000) {
      status = (*db)->InTransaction([&](db::Transaction& tx) -> absl::Status {
        for (size_t i = first; i < std::min(ids.size(), first + 10000); ++i) {
          customer::store::CustomerStatsRecord stats;
          stats.transaction_count = static_cast<int64_t>(random() % 40);
          if (stats.transaction_count == 0) continue;
          stats.total_spent_minor = static_cast<int64_t>(random() % 50000000) + 100000;
          stats.balance_minor = random() % 10 < 3 ? static_cast<int64_t>(random() % 2000000) : 0;
          if (stats.balance_minor > 0) ++owing;
          stats.first_purchase_time = now - absl::Hours(24 * (400 + random() % 400));
          stats.last_purchase_time = now - absl::Hours(24 * (random() % 400));
          stats.last_activity_time = stats.last_purchase_time;
          stats.ledger_version = stats.transaction_count;
          auto upserted = customer::store::UpsertStats(tx, kTenant, ids[i], stats);
          if (!upserted.ok()) return upserted.status();
        }
        return absl::OkStatus();
      });
      if (!status.ok()) return status;
    }
    if ((*db)->dialect() != db::Dialect::kPostgres) return absl::OkStatus();
    // customer-svc refreshes PostgreSQL's statistics of the projection after such a backfill
    // (store/planner_statistics.h); until it has, lists plan from the rows as they were at
    // import (all zeros). Measured here: how long after the backfill the planner's estimate
    // of the customers who owe reaches half of them (bounded).
    const absl::Time seeded = absl::Now();
    bool current = false;
    while (!current && absl::Now() < seeded + absl::Seconds(30)) {
      status = (*db)->InTransaction([&](db::Transaction& tx) -> absl::Status {
        auto plan = tx.Query(
            "EXPLAIN SELECT customer_id FROM customer_stats WHERE tenant_id = 'bench' AND "
            "balance_minor > 0");
        if (!plan.ok()) return plan.status();
        const std::string line = plan->empty() ? "" : (*plan)[0].GetText(0);
        const size_t at = line.find(" rows=");
        int64_t estimate = 0;
        if (at != std::string::npos &&
            absl::SimpleAtoi(line.substr(at + 6, line.find(' ', at + 6) - at - 6), &estimate)) {
          current = estimate * 2 >= owing;
        }
        return absl::OkStatus();
      });
      if (!status.ok()) return status;
      if (!current) absl::SleepFor(absl::Milliseconds(100));
    }
    AddRow({absl::StrCat(driver_,
                         ": planner's estimate of the debtors right after the stats backfill"),
            {{"measure", "s"},
             {"p50 ms", "-"},
             {"p99 ms", "-"},
             {"value", current ? Fixed(absl::ToDoubleSeconds(absl::Now() - seeded), 1)
                               : std::string("> 30")}}});
    return absl::OkStatus();
  }

  // The first search of the tenant loads its quick-search index (it waits for the load, or is
  // refused with UNAVAILABLE SEARCH_INDEX_LOADING while a large one goes on); the searches are
  // measured once it is in memory. Records the load's time and the service's resident-set
  // growth.
  absl::Status LoadSearchIndex() {
    const auto [peak_before, rss_before] = Memory(service_->pid());
    (void)peak_before;
    const absl::Time start = absl::Now();
    v1::SearchCustomersRequest request;
    request.set_query("budi");
    v1::SearchCustomersResponse response;
    if (auto s = FromGrpc(stub_->SearchCustomers(Ctx().get(), request, &response));
        !s.ok() && s.code() != absl::StatusCode::kUnavailable) {
      return s;
    }
    const std::string log = absl::StrCat(log_dir_, "/customer-svc.log");
    while (true) {
      std::ifstream in(log);
      const std::string text((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      if (text.find("search index: loaded") != std::string::npos) break;
      if (absl::Now() - start > absl::Minutes(10)) {
        return absl::DeadlineExceededError("the search index did not load within 10 minutes");
      }
      absl::SleepFor(absl::Milliseconds(200));
    }
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    const auto [peak_after, rss_after] = Memory(service_->pid());
    (void)peak_after;
    AddRow({absl::StrCat(driver_, ": search index load (first search to ready)"),
            {{"measure", "s"}, {"p50 ms", "-"}, {"p99 ms", "-"}, {"value", Fixed(seconds, 1)}}});
    AddRow({absl::StrCat(driver_, ": search index RSS growth"),
            {{"measure", "MiB"},
             {"p50 ms", "-"},
             {"p99 ms", "-"},
             {"value", Fixed(std::max<int64_t>(0, rss_after - rss_before) / 1024.0, 0)}}});
    return absl::OkStatus();
  }

  // Every row has the same columns; customer-svc's and the client's CPU time per operation
  // are measured for the loads of calls only (RunWithCpu).
  void AddRow(ResultRow row, const std::string& service_cpu = "-",
              const std::string& client_cpu = "-") {
    row.values.emplace_back("customer-svc CPU µs/op", service_cpu);
    row.values.emplace_back("client CPU µs/op", client_cpu);
    report_.AddRow(std::move(row));
  }

  // A load of concurrent clients and customer-svc's CPU time over it. Each client has one
  // operation in flight at a time: a closed loop on gRPC's callback API (--client=callback)
  // or a thread making each call on the synchronous stub (--client=threads, Call).
  struct Measured {
    LoadResult load;
    double service_cpu_us_per_op = -1;  // -1: no operation ended
    double client_cpu_us_per_op = -1;   // this process's
  };
  Measured RunWithCpu(int clients, int64_t total_operations, const IndexedAsyncCall& op) {
    const double before = CpuSeconds(service_->pid());
    const double client_before = CpuSeconds(getpid());
    Measured m;
    if (blocking_clients_) {
      m.load = RunClients(clients, total_operations, absl::Minutes(5),
                          [&](int, int64_t i) { return CallAndWait(op, i); });
    } else {
      m.load = RunClosedLoopCount(clients, total_operations, absl::Minutes(5), op);
    }
    const double used = CpuSeconds(service_->pid()) - before;
    const double client_used = CpuSeconds(getpid()) - client_before;
    const int64_t operations = m.load.operations + m.load.errors;
    if (operations > 0) {
      m.service_cpu_us_per_op = used * 1e6 / static_cast<double>(operations);
      m.client_cpu_us_per_op = client_used * 1e6 / static_cast<double>(operations);
    }
    return m;
  }

  void AddLatencyRow(const std::string& what, const Measured& m) {
    const LoadResult& r = m.load;
    AddRow({absl::StrCat(driver_, ": ", what, ", ", r.clients,
                         r.clients == 1 ? " client" : " clients"),
            {{"measure", "ops/s"},
             {"p50 ms", Fixed(r.latency.p50_ms, 2)},
             {"p99 ms", Fixed(r.latency.p99_ms, 2)},
             {"value", Fixed(r.per_second, 0)}}},
           m.service_cpu_us_per_op < 0 ? "-" : Fixed(m.service_cpu_us_per_op, 0),
           m.client_cpu_us_per_op < 0 ? "-" : Fixed(m.client_cpu_us_per_op, 0));
    if (r.errors > 0)
      report_.AddNote(absl::StrCat(what, ": ", r.errors, " errors, first: ", r.first_error));
  }

  // One unary call of customer-svc with a fresh context; `done` gets its status and
  // response. --client=callback starts it on the callback API (`async` calls the stub's
  // async() method) and returns; --client=threads makes it on the synchronous stub
  // (`blocking`), the calling thread waiting for the answer, and calls `done` before
  // returning.
  template <typename Request, typename Response, typename Blocking, typename Async>
  void Call(const Blocking& blocking, const Async& async, Request request,
            std::function<void(absl::Status, const Response&)> done) const {
    if (blocking_clients_) {
      Response response;
      absl::Status status = FromGrpc(blocking(Ctx().get(), request, &response));
      done(std::move(status), response);
      return;
    }
    struct Pending {
      std::unique_ptr<grpc::ClientContext> context;
      Request request;
      Response response;
    };
    auto* pending = new Pending{Ctx(), std::move(request), {}};
    async(pending->context.get(), &pending->request, &pending->response,
          [pending, done = std::move(done)](grpc::Status status) {
            done(FromGrpc(status), pending->response);
            delete pending;
          });
  }
  void Search(v1::SearchCustomersRequest request,
              std::function<void(absl::Status, const v1::SearchCustomersResponse&)> done) {
    Call([this](auto* c, const auto& q, auto* r) { return stub_->SearchCustomers(c, q, r); },
         [this](auto* c, auto* q, auto* r, auto cb) {
           stub_->async()->SearchCustomers(c, q, r, std::move(cb));
         },
         std::move(request), std::move(done));
  }
  void List(v1::ListCustomersRequest request,
            std::function<void(absl::Status, const v1::ListCustomersResponse&)> done) {
    Call([this](auto* c, const auto& q, auto* r) { return stub_->ListCustomers(c, q, r); },
         [this](auto* c, auto* q, auto* r, auto cb) {
           stub_->async()->ListCustomers(c, q, r, std::move(cb));
         },
         std::move(request), std::move(done));
  }
  void FindDuplicates(v1::FindDuplicatesRequest request,
                      std::function<void(absl::Status, const v1::FindDuplicatesResponse&)> done) {
    Call([this](auto* c, const auto& q, auto* r) { return stub_->FindDuplicates(c, q, r); },
         [this](auto* c, auto* q, auto* r, auto cb) {
           stub_->async()->FindDuplicates(c, q, r, std::move(cb));
         },
         std::move(request), std::move(done));
  }
  void Create(v1::CreateCustomerRequest request,
              std::function<void(absl::Status, const v1::CreateCustomerResponse&)> done) {
    Call([this](auto* c, const auto& q, auto* r) { return stub_->CreateCustomer(c, q, r); },
         [this](auto* c, auto* q, auto* r, auto cb) {
           stub_->async()->CreateCustomer(c, q, r, std::move(cb));
         },
         std::move(request), std::move(done));
  }
  // `done` with the call's status only.
  template <typename Response>
  static std::function<void(absl::Status, const Response&)> StatusOnly(
      std::function<void(absl::Status)> done) {
    return [done = std::move(done)](absl::Status s, const Response&) { done(std::move(s)); };
  }

  // The queries a cashier types: a name fragment, phone digits typed with a dash, a name
  // with a one-letter typo, a Thai family-name fragment.
  std::vector<std::pair<std::string, std::vector<std::string>>> SearchQueries() {
    const int64_t n = absl::GetFlag(FLAGS_customers);
    const int count = absl::GetFlag(FLAGS_queries);
    std::mt19937_64 random(11);
    std::vector<std::string> name, phone, typo, thai;
    while (static_cast<int>(thai.size()) < count || static_cast<int>(name.size()) < count) {
      SyntheticCustomer c = data_.Make(static_cast<int64_t>(random() % n));
      const std::vector<std::string> words = absl::StrSplit(c.display_name, ' ');
      if (c.region == "TH") {
        if (static_cast<int>(thai.size()) < count) thai.push_back(words.back());
        continue;
      }
      if (static_cast<int>(name.size()) >= count) continue;
      name.push_back(absl::StrCat(words[0], " ", words[1].substr(0, 3)));
      std::string digits;
      for (char ch : c.phone) {
        if (ch >= '0' && ch <= '9') digits += ch;
      }
      const std::string tail = digits.substr(digits.size() - 7);
      phone.push_back(absl::StrCat(tail.substr(0, 3), "-", tail.substr(3)));
      std::string misspelt = c.display_name;
      const size_t at = 1 + random() % (misspelt.size() - 2);
      if (misspelt[at] != ' ') misspelt[at] = misspelt[at] == 'a' ? 'e' : 'a';
      typo.push_back(misspelt);
    }
    return {{"search name fragment", name},
            {"search phone digits", phone},
            {"search name with a typo", typo},
            {"search Thai fragment", thai}};
  }

  absl::Status MeasureSearch() {
    for (const auto& [what, queries] : SearchQueries()) {
      for (int clients : {1, 16}) {
        Measured r = RunWithCpu(clients, static_cast<int64_t>(queries.size()),
                                [&, &queries = queries](int64_t i, auto done) {
                                  v1::SearchCustomersRequest request;
                                  request.set_query(queries[i]);
                                  request.set_page_size(20);
                                  Search(std::move(request),
                                         StatusOnly<v1::SearchCustomersResponse>(std::move(done)));
                                });
        AddLatencyRow(what, r);
      }
    }
    // The floor under a search page on this machine: one call that reads a page of 20
    // customers with their stats from the database (the settings and one keyset query), as a
    // search's last step does, without the index, the catch-up or the scoring.
    const int count = absl::GetFlag(FLAGS_queries);
    for (int clients : {1, 16}) {
      Measured r = RunWithCpu(clients, count, [&](int64_t, auto done) {
        v1::ListCustomersRequest request;
        request.set_order_by("display_name");
        request.set_page_size(20);
        List(std::move(request), StatusOnly<v1::ListCustomersResponse>(std::move(done)));
      });
      AddLatencyRow("floor of a search: list of 20 by display_name, no index", r);
    }
    return absl::OkStatus();
  }

  absl::Status MeasureList() {
    const std::vector<std::pair<std::string, std::string>> lists = {
        {"has_balance = true", "total_spent desc"},
        {"active_within_days = 90", "last_activity_time desc"},
        {"", "balance desc"},
        // Customers the ledger never told of come first, at zero: read from customers.
        {"", "total_spent"}};
    const int count = absl::GetFlag(FLAGS_queries);
    for (const auto& [filter, order_by] : lists) {
      for (int clients : {1, 16}) {
        Measured r = RunWithCpu(
            clients, count, [&, &filter = filter, &order_by = order_by](int64_t i, auto done) {
              v1::ListCustomersRequest request;
              request.set_filter(filter);
              request.set_order_by(order_by);
              request.set_page_size(50);
              List(request, [this, i, request, done = std::move(done)](
                                absl::Status s, const v1::ListCustomersResponse& first) mutable {
                if (!s.ok() || i % 2 == 0 || first.next_page_token().empty()) {
                  done(std::move(s));
                  return;
                }
                // Every other call also reads the next page, as a scrolling user does.
                request.set_page_token(first.next_page_token());
                List(std::move(request), StatusOnly<v1::ListCustomersResponse>(std::move(done)));
              });
            });
        AddLatencyRow(absl::StrCat("list `", filter.empty() ? "all" : filter, "` by ", order_by,
                                   ", page of 50"),
                      r);
      }
    }
    return absl::OkStatus();
  }

  // The duplicate list (C7) of the whole directory at one client: a first page of 50, each
  // call with a minimum score of its own (0.6 and i millionths), so that each pairs and
  // scores the directory anew; then the second page, read again and again with one token,
  // from the list kept for the tenant (store/duplicate_lists.h). With the synthetic names,
  // pairs come from the whole names a small directory holds a few times each (at 10,000
  // customers about 8 customers a name); in larger ones every name and word is too common to
  // pair on, and the pairs come from shared contacts only.
  absl::Status MeasureDuplicates() {
    const int count = std::max(1, absl::GetFlag(FLAGS_queries) / 20);
    int64_t pairs = 0;
    Measured first = RunWithCpu(1, count, [&](int64_t i, auto done) {
      v1::FindDuplicatesRequest request;
      request.set_min_score(0.6 + static_cast<double>(i) * 1e-6);
      FindDuplicates(std::move(request), [&pairs, done = std::move(done)](
                                             absl::Status s, const v1::FindDuplicatesResponse& r) {
        pairs = r.pairs_size();
        done(std::move(s));
      });
    });
    AddLatencyRow(absl::StrCat("duplicates of the whole directory, first page of 50 (", pairs,
                               " pairs on it), list made anew"),
                  first);
    v1::FindDuplicatesRequest request;
    v1::FindDuplicatesResponse response;
    if (auto s = FromGrpc(stub_->FindDuplicates(Ctx().get(), request, &response)); !s.ok()) {
      return s;
    }
    if (response.next_page_token().empty()) return absl::OkStatus();
    request.set_page_token(response.next_page_token());
    Measured next = RunWithCpu(1, count * 10, [&](int64_t, auto done) {
      FindDuplicates(request, StatusOnly<v1::FindDuplicatesResponse>(std::move(done)));
    });
    AddLatencyRow("duplicates of the whole directory, second page of 50, list kept", next);
    return absl::OkStatus();
  }

  absl::Status MeasureCreate() {
    const int64_t base = absl::GetFlag(FLAGS_customers) + 1000000;
    const int64_t count = absl::GetFlag(FLAGS_creates);
    Measured r = RunWithCpu(16, count, [&](int64_t i, auto done) {
      SyntheticCustomer c = data_.Make(base + i);
      v1::CreateCustomerRequest request;
      request.set_request_id(absl::StrCat("bench-create-", base + i));
      request.mutable_customer()->set_display_name(c.display_name);
      request.mutable_customer()->mutable_phone()->set_raw(c.phone);
      request.mutable_customer()->set_email(c.email);
      Create(std::move(request), StatusOnly<v1::CreateCustomerResponse>(std::move(done)));
    });
    AddLatencyRow("create with duplicate check", r);
    return absl::OkStatus();
  }

  absl::Status MeasureExport() {
    // The peak of the export alone, not of what ran before it (the search index's load).
    if (!ResetPeakMemory(service_->pid())) {
      report_.AddNote(
          "export: the peak resident set could not be reset; its growth includes "
          "earlier phases");
    }
    const auto [hwm_before, rss_before] = Memory(service_->pid());
    const absl::Time start = absl::Now();
    v1::ExportCustomersRequest request;
    request.set_format(v1::EXPORT_FORMAT_CSV);
    auto context = Ctx();
    auto stream = stub_->ExportCustomers(context.get(), request);
    v1::ExportCustomersResponse chunk;
    int64_t rows = 0, bytes = 0;
    while (stream->Read(&chunk)) {
      bytes += static_cast<int64_t>(chunk.chunk().size());
      rows = std::max(rows, chunk.row_count());
    }
    if (auto s = FromGrpc(stream->Finish()); !s.ok()) return s;
    const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
    const auto [hwm_after, rss_after] = Memory(service_->pid());
    (void)hwm_before;
    (void)rss_after;
    AddRow({absl::StrCat(driver_, ": CSV export of ", rows, " rows (", bytes / (1 << 20), " MiB)"),
            {{"measure", "rows/s"},
             {"p50 ms", "-"},
             {"p99 ms", "-"},
             {"value", Fixed(rows / seconds, 0)}}});
    AddRow({absl::StrCat(driver_, ": export peak RSS growth"),
            {{"measure", "MiB"},
             {"p50 ms", "-"},
             {"p99 ms", "-"},
             {"value", Fixed(std::max<int64_t>(0, hwm_after - rss_before) / 1024.0, 1)}}});
    return absl::OkStatus();
  }

  std::string driver_;
  std::string db_url_;
  std::string log_dir_;
  Report& report_;
  CustomerData data_;
  std::unique_ptr<testing::ServiceProcess> service_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::CustomerService::Stub> stub_;
  const bool blocking_clients_ = absl::GetFlag(FLAGS_client) == "threads";  // read once
};

// " --phases=..." when only some phases run, so that the report says what it holds; an
// error for a phase that does not exist.
absl::StatusOr<std::string> PhasesArgument() {
  const std::vector<std::string> wanted = absl::GetFlag(FLAGS_phases);
  for (const std::string& name : wanted) {
    if (std::find(std::begin(kPhases), std::end(kPhases), name) == std::end(kPhases)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--phases: unknown phase '", name, "'; the phases: ", absl::StrJoin(kPhases, ",")));
    }
  }
  if (wanted == std::vector<std::string>(std::begin(kPhases), std::end(kPhases))) return "";
  return absl::StrCat(" --phases=", absl::StrJoin(wanted, ","));
}

int Main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  const absl::StatusOr<std::string> phases = PhasesArgument();
  if (!phases.ok()) {
    std::fprintf(stderr, "%s\n", phases.status().ToString().c_str());
    return 1;
  }
  auto dir = testing::TempDir::Create("kelola-bench-customers");
  if (!dir.ok()) return 1;
  const int64_t n = absl::GetFlag(FLAGS_customers);
  const std::string drivers = absl::GetFlag(FLAGS_drivers);
  std::string name = absl::StrCat("customer_directory_", drivers);
  for (char& c : name) {
    if (c == ',') c = '_';
  }
  const std::string client = absl::GetFlag(FLAGS_client);
  if (client != "callback" && client != "threads") {
    std::fprintf(stderr, "--client: callback or threads, not %s\n", client.c_str());
    return 1;
  }
  Report report(name, absl::StrCat("customer-svc with ", n, " customers (", drivers, ")"),
                absl::StrCat("build/bench/customer_directory_bench --customers=", n, " --drivers=",
                             drivers, *phases, client == "callback" ? "" : " --client=threads"));
  std::unique_ptr<testing::PostgresServer> postgres;
  for (const std::string& driver :
       std::vector<std::string>(absl::StrSplit(absl::GetFlag(FLAGS_drivers), ','))) {
    std::string url;
    if (driver == "sqlite") {
      url = absl::StrCat("sqlite:", (*dir)->path(), "/customers.db");
    } else {
      auto started = testing::PostgresServer::Start();
      if (!started.ok()) {
        std::fprintf(stderr, "%s\n", started.status().ToString().c_str());
        return 1;
      }
      postgres = *std::move(started);
      auto created = postgres->CreateUniqueDatabase("customers");
      if (!created.ok()) return 1;
      url = *created;
    }
    Bench bench(driver, url, (*dir)->path(), report);
    if (absl::Status s = bench.Run(); !s.ok()) {
      std::fprintf(stderr, "%s: %s\n", driver.c_str(), s.ToString().c_str());
      return 1;
    }
  }
  report.AddNote(
      "Targets (issue 13) at 1,000,000 customers on SQLite: search p50 ≤ 5 ms and p99 ≤ 20 "
      "ms at 16 clients; list with a filter and a stats sort, page of 50, p99 ≤ 20 ms at 16 "
      "clients; create with duplicate check ≥ 2,000/s; import ≥ 20,000 rows/s into an empty "
      "directory (the first import row, at --customers=100000) and ≥ 10,000 rows/s into one "
      "holding a million (the import into the loaded directory); CSV export ≥ 50,000 rows/s "
      "with peak RSS growth ≤ 64 MiB. On PostgreSQL: import ≥ 5,000 rows/s, creates ≥ "
      "1,000/s, searches as on SQLite. Each call is one gRPC round trip on loopback from the "
      "benchmark process to a customer-svc process; latencies include the client. A client "
      "has one operation in flight at a time; the clients are a closed loop on gRPC's "
      "callback API (--client=threads: one thread per client waiting for each call). "
      "customer-svc CPU µs/op: the CPU time customer-svc used during a load (/proc), over its "
      "operations (a search is one call, a list operation one or two); client CPU µs/op the "
      "same for this benchmark's process; on a machine of few cores a load at 16 clients is "
      "bound by the CPU all its processes use per call.");
  absl::Status written = report.Write(absl::GetFlag(FLAGS_root));
  return written.ok() ? 0 : 1;
}

}  // namespace
}  // namespace kelola::bench

int main(int argc, char** argv) { return kelola::bench::Main(argc, argv); }
