// The outbox, the WatchEvents stream and the consumer, against real databases (SQLite
// file and PostgreSQL) and a real gRPC server on a loopback port.

#include <algorithm>
#include <atomic>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/types/span.h"
#include "google/protobuf/wrappers.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/events.pb.h"
#include "kelola/ledger/v1/events.pb.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/errors/errors.h"
#include "libs/events/event_consumer.h"
#include "libs/events/event_service.h"
#include "libs/events/outbox.h"
#include "libs/events/outbox_sequencer.h"
#include "libs/testing/postgres_environment.h"
#include "libs/testing/temp_dir.h"
#include "libs/threads/thread_name.h"

namespace kelola::events {
namespace {

using kelola::events::v1::WatchEventsRequest;
using kelola::events::v1::WatchEventsResponse;
using Metadata = std::vector<std::pair<std::string, std::string>>;

// The metadata of a call for one tenant, as the gateway or a peer service sends it.
Metadata Tenant(const std::string& tenant) { return {{"x-kelola-tenant", tenant}}; }
// The metadata of the internal all-tenants form, as events::EventConsumer sends it.
const Metadata kAllTenants = {{"x-kelola-event-scope", "all-tenants"}};

// What a stream sent before its first heartbeat, and how it ended if it did.
struct Watched {
  std::vector<int64_t> sequences;    // events, in order
  std::vector<std::string> tenants;  // their tenants
  int64_t head = -1;                 // the first heartbeat's head_sequence; -1 if none
  grpc::Status status;               // OK when a heartbeat came (the stream was cancelled)
};

db::Migration AppliedTable(int version) {
  db::Migration m;
  m.version = version;
  m.name = "applied events";
  m.sqlite =
      "CREATE TABLE applied (sequence BIGINT PRIMARY KEY, tenant_id TEXT NOT NULL, "
      "payload TEXT NOT NULL)";
  return m;
}

// Rows whose lock orders the writers of one aggregate, as a producer's own rows do.
db::Migration AggregatesTable(int version) {
  db::Migration m;
  m.version = version;
  m.name = "aggregates";
  m.sqlite = "CREATE TABLE aggregates (id TEXT PRIMARY KEY, version BIGINT NOT NULL)";
  return m;
}

class EventsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("kelola-events");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    producer_db_ =
        OpenDb("producer", {OutboxMigration(1), OutboxStagingMigration(2), AggregatesTable(3)});
    consumer_db_ =
        OpenDb("consumer", {CursorMigration(1), AppliedTable(2), CursorLeaseMigration(3)});
    ASSERT_NE(producer_db_, nullptr);
    ASSERT_NE(consumer_db_, nullptr);
    sequencer_ = std::make_unique<OutboxSequencer>(*producer_db_, &notifier_, kSequencerOptions);
    sequencer_->Start();
    StartServer(0);
  }

  void TearDown() override {
    StopServer();
    if (sequencer_ != nullptr) sequencer_->Stop();
    notifier_.Shutdown();
  }

  // Numbers what is staged (PostgreSQL) without waiting for the background run, so that
  // reads right after a commit see its events.
  void Number() {
    auto numbered = sequencer_->RunOnce();
    ASSERT_TRUE(numbered.ok()) << numbered.status();
  }

  // Every event in the producer's `events`, oldest first.
  std::vector<type::v1::Event> AllEvents() {
    std::vector<type::v1::Event> out;
    absl::Status status = producer_db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto events = ReadEvents(tx, 0, 1000000);
      if (!events.ok()) return events.status();
      out = *std::move(events);
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return out;
  }

  std::unique_ptr<db::Database> OpenDb(const std::string& name,
                                       const std::vector<db::Migration>& migrations) {
    std::string url;
    if (GetParam() == "sqlite") {
      url = absl::StrCat("sqlite:", dir_->path(), "/", name, ".db");
    } else {
      auto created = testing::SharedPostgres()->CreateUniqueDatabase(name);
      EXPECT_TRUE(created.ok()) << created.status();
      if (!created.ok()) return nullptr;
      url = *created;
    }
    if (name == "producer") producer_url_ = url;
    auto db = db::Open(url);
    EXPECT_TRUE(db.ok()) << db.status();
    if (!db.ok()) return nullptr;
    EXPECT_TRUE(db::ApplyMigrations(**db, migrations).ok());
    return *std::move(db);
  }

  void StartServer(int port) {
    service_ = std::make_unique<EventServiceImpl>(
        *producer_db_, notifier_,
        std::vector<std::string>{"google.protobuf.StringValue", "google.protobuf.Int64Value"},
        watch_options_);
    grpc::ServerBuilder builder;
    builder.AddListeningPort(absl::StrCat("127.0.0.1:", port), grpc::InsecureServerCredentials(),
                             &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
  }

  // Ends every open stream (as a crash of the producer would) and stops the server.
  void StopServer() {
    if (server_ == nullptr) return;
    server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(100));
    server_->Wait();
    server_.reset();
  }

  std::shared_ptr<grpc::Channel> Channel() {
    return grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_),
                               grpc::InsecureChannelCredentials());
  }

  // Opens a stream and reads until its first heartbeat or its end.
  Watched Watch(const WatchEventsRequest& request, const Metadata& metadata) {
    auto stub = kelola::events::v1::EventService::NewStub(Channel());
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    for (const auto& [key, value] : metadata) context.AddMetadata(key, value);
    auto reader = stub->WatchEvents(&context, request);
    Watched out;
    WatchEventsResponse response;
    while (reader->Read(&response)) {
      if (response.has_heartbeat()) {
        out.head = response.heartbeat().head_sequence();
        context.TryCancel();
        reader->Finish();
        return out;
      }
      out.sequences.push_back(response.event().sequence());
      out.tenants.push_back(response.event().tenant_id());
    }
    out.status = reader->Finish();
    return out;
  }

  // Appends one event per transaction, in the producer database.
  void Produce(int count, const std::string& tenant = "t1") {
    for (int i = 0; i < count; ++i) {
      google::protobuf::StringValue payload;
      payload.set_value(absl::StrCat("item-", produced_.fetch_add(1)));
      absl::Status status = producer_db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
        return outbox_.Append(tx, {tenant, "item", payload.value(), 1, &payload, "req", "tester"});
      });
      ASSERT_TRUE(status.ok()) << status;
    }
    Number();
  }

  std::unique_ptr<EventConsumer> Consumer(const std::string& internal_key = "",
                                          const std::string& holder = "") {
    ConsumerOptions options;
    options.internal_key = internal_key;
    options.holder = holder;
    options.lease = kLease;
    options.clock = &lease_clock_;
    options.consumer = "test-consumer";
    options.producer = "test-producer";
    options.min_backoff = absl::Milliseconds(20);
    options.max_backoff = absl::Milliseconds(200);
    options.max_batch = 16;
    options.on_applied = [this](const type::v1::Event&) { on_applied_calls_.fetch_add(1); };
    return std::make_unique<EventConsumer>(
        *consumer_db_, Channel(), options,
        [this](db::Transaction& tx, const type::v1::Event& event) -> absl::Status {
          google::protobuf::StringValue payload;
          if (!event.payload().UnpackTo(&payload)) return absl::InternalError("bad payload");
          {
            absl::MutexLock lock(&seen_mu_);
            seen_.push_back(event.sequence());
          }
          return tx
              .Execute("INSERT INTO applied (sequence, tenant_id, payload) VALUES (?, ?, ?)",
                       {event.sequence(), event.tenant_id(), payload.value()})
              .status();
        });
  }

  // A consumer with a batch handler that records each transaction's events and inserts them
  // all, then fails while `fail(batch)` says so (after its inserts, which must roll back).
  std::unique_ptr<EventConsumer> BatchConsumer(
      std::function<bool(absl::Span<const type::v1::Event>)> fail = nullptr,
      int64_t max_queued_bytes = 64 << 20) {
    ConsumerOptions options;
    options.consumer = "test-consumer";
    options.producer = "test-producer";
    options.min_backoff = absl::Milliseconds(20);
    options.max_backoff = absl::Milliseconds(100);
    options.max_batch = 64;
    options.max_queued_bytes = max_queued_bytes;
    options.lease = kLease;
    options.clock = &lease_clock_;
    options.on_applied = [this](const type::v1::Event&) { on_applied_calls_.fetch_add(1); };
    options.on_batch = [this](int size) {
      absl::MutexLock lock(&seen_mu_);
      committed_batches_.push_back(size);
    };
    return std::make_unique<EventConsumer>(
        *consumer_db_, Channel(), options,
        BatchHandler([this, fail](db::Transaction& tx,
                                  absl::Span<const type::v1::Event> events) -> absl::Status {
          EXPECT_FALSE(events.empty());
          for (const type::v1::Event& event : events) {
            {
              absl::MutexLock lock(&seen_mu_);
              seen_.push_back(event.sequence());
            }
            auto inserted = InsertApplied(tx, event);
            if (!inserted.ok()) return inserted;
          }
          if (fail && fail(events)) return absl::UnavailableError("apply failed");
          return absl::OkStatus();
        }));
  }

  static absl::Status InsertApplied(db::Transaction& tx, const type::v1::Event& event) {
    google::protobuf::StringValue payload;
    if (!event.payload().UnpackTo(&payload)) return absl::InternalError("bad payload");
    return tx
        .Execute("INSERT INTO applied (sequence, tenant_id, payload) VALUES (?, ?, ?)",
                 {event.sequence(), event.tenant_id(), payload.value()})
        .status();
  }

  static type::v1::Event MakeEvent(int64_t sequence) {
    type::v1::Event event;
    event.set_sequence(sequence);
    event.set_tenant_id("t1");
    google::protobuf::StringValue payload;
    payload.set_value(absl::StrCat("item-", sequence));
    event.mutable_payload()->PackFrom(payload);
    return event;
  }

  // Sets the consumer's lease row as another (crashed or partitioned) replica would leave it.
  void LeaseTo(const std::string& holder, absl::Time until) {
    absl::Status status = consumer_db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto ensured = tx.Execute(
          "INSERT INTO consumer_cursors (consumer, producer, sequence) VALUES "
          "('test-consumer', 'test-producer', 0) ON CONFLICT (consumer, producer) DO NOTHING");
      if (!ensured.ok()) return ensured.status();
      return tx
          .Execute(
              "UPDATE consumer_cursors SET holder = ?, lease_until_us = ? "
              "WHERE consumer = 'test-consumer' AND producer = 'test-producer'",
              {holder, absl::ToUnixMicros(until)})
          .status();
    });
    ASSERT_TRUE(status.ok()) << status;
  }

  // The integer `sql` reads (one row, one column) from `db`; -1 when it cannot be read.
  static int64_t ReadInt(db::Database& db, const std::string& sql) {
    int64_t value = -1;
    absl::Status status = db.InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto row = tx.QueryOne(sql);
      if (!row.ok()) return row.status();
      value = row->GetInt(0);
      return absl::OkStatus();
    });
    EXPECT_TRUE(status.ok()) << status;
    return value;
  }

  int64_t CountApplied() { return ReadInt(*consumer_db_, "SELECT COUNT(*) FROM applied"); }

  // Every sequence 1..n applied exactly once (the primary key refuses a second apply).
  void ExpectAppliedExactlyOnce(int64_t n) {
    absl::Status status = consumer_db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      auto rows = tx.Query("SELECT sequence FROM applied ORDER BY sequence");
      if (!rows.ok()) return rows.status();
      EXPECT_EQ(static_cast<int64_t>(rows->size()), n);
      for (size_t i = 0; i < rows->size(); ++i) {
        EXPECT_EQ((*rows)[i].GetInt(0), static_cast<int64_t>(i + 1));
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(status.ok()) << status;
    auto cursor = EventConsumer::LoadCursor(*consumer_db_, "test-consumer", "test-producer");
    ASSERT_TRUE(cursor.ok());
    EXPECT_EQ(*cursor, n);
  }

  std::unique_ptr<testing::TempDir> dir_;
  FakeClock clock_;
  // The clock of consumer leases: a lease lapses only when the test moves it.
  static constexpr absl::Duration kLease = absl::Milliseconds(500);
  FakeClock lease_clock_;
  EventNotifier notifier_;
  static constexpr SequencerOptions kSequencerOptions{absl::Milliseconds(200), 10000,
                                                      absl::Milliseconds(10)};
  std::unique_ptr<OutboxSequencer> sequencer_;
  WatchOptions watch_options_{absl::Milliseconds(100), absl::Milliseconds(50), 16, ""};
  Outbox outbox_{clock_, &notifier_};
  std::string producer_url_;
  std::unique_ptr<db::Database> producer_db_;
  std::unique_ptr<db::Database> consumer_db_;
  std::unique_ptr<EventServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<int> produced_{0};
  std::atomic<int> on_applied_calls_{0};
  absl::Mutex seen_mu_;
  std::vector<int64_t> seen_ ABSL_GUARDED_BY(seen_mu_);
  std::vector<int> committed_batches_ ABSL_GUARDED_BY(seen_mu_);  // events per commit
};

TEST_P(EventsTest, SequencesAreGapFreeAndSkipRolledBackTransactions) {
  google::protobuf::StringValue payload;
  payload.set_value("lost");
  absl::Status rolled_back = producer_db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    EXPECT_TRUE(outbox_.Append(tx, {"t1", "item", "x", 1, &payload, "", ""}).ok());
    return absl::AbortedError("caller changed its mind");
  });
  EXPECT_EQ(rolled_back.code(), absl::StatusCode::kAborted);
  Produce(3);
  absl::Status status = producer_db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto events = ReadEvents(tx, 0, 10);
    if (!events.ok()) return events.status();
    EXPECT_EQ(events->size(), 3u);
    for (size_t i = 0; i < events->size(); ++i) {
      EXPECT_EQ((*events)[i].sequence(), static_cast<int64_t>(i + 1));
      EXPECT_EQ((*events)[i].type(), "google.protobuf.StringValue");
      EXPECT_EQ((*events)[i].occur_time().seconds(), absl::ToUnixSeconds(clock_.Now()));
    }
    return absl::OkStatus();
  });
  ASSERT_TRUE(status.ok()) << status;
}

TEST_P(EventsTest, ReplaysThenFollowsLiveInOrder) {
  Produce(40);
  auto consumer = Consumer();
  consumer->Start();
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) writers.emplace_back([this] { Produce(15); });
  for (auto& t : writers) t.join();
  ASSERT_TRUE(consumer->WaitForApplied(100, absl::Seconds(30)));
  consumer->Stop();
  ExpectAppliedExactlyOnce(100);
  absl::MutexLock lock(&seen_mu_);
  for (size_t i = 1; i < seen_.size(); ++i) EXPECT_LT(seen_[i - 1], seen_[i]);
}

TEST_P(EventsTest, ConsumerRestartNeitherLosesNorRepeats) {
  Produce(30);
  auto first = Consumer();
  first->Start();
  ASSERT_TRUE(first->WaitForApplied(10, absl::Seconds(30)));
  first->Stop();  // stops somewhere after 10, mid-stream
  Produce(30);
  auto second = Consumer();
  second->Start();
  ASSERT_TRUE(second->WaitForApplied(60, absl::Seconds(30)));
  second->Stop();
  ExpectAppliedExactlyOnce(60);
  EXPECT_EQ(on_applied_calls_.load(), 60);  // once per applied event, never for skipped ones
}

TEST_P(EventsTest, ProducerRestartAndDroppedStreamsResume) {
  auto consumer = Consumer();
  consumer->Start();
  Produce(20);
  ASSERT_TRUE(consumer->WaitForApplied(20, absl::Seconds(30)));
  const int port = port_;
  for (int round = 0; round < 3; ++round) {
    StopServer();  // the stream drops
    Produce(20);   // the producer keeps committing while nobody serves
    StartServer(port);
  }
  ASSERT_TRUE(consumer->WaitForApplied(80, absl::Seconds(30)));
  consumer->Stop();
  ExpectAppliedExactlyOnce(80);
}

TEST_P(EventsTest, TwoReplicasOfAConsumerApplyEachEventOnce) {
  auto a = Consumer();
  auto b = Consumer();
  a->Start();
  b->Start();
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) writers.emplace_back([this] { Produce(30); });
  for (auto& t : writers) t.join();
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (std::max(a->applied(), b->applied()) < 60 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  // One replica streamed and applied; the other stood by.
  EXPECT_NE(a->active(), b->active());
  EXPECT_FALSE((a->active() ? b : a)->connected());
  a->Stop();
  b->Stop();
  ExpectAppliedExactlyOnce(60);
}

TEST_P(EventsTest, StandbyTakesOverAtOnceWhenTheActiveReplicaStops) {
  auto a = Consumer("", "replica-a");
  a->Start();
  Produce(20);
  ASSERT_TRUE(a->WaitForApplied(20, absl::Seconds(30)));
  auto b = Consumer("", "replica-b");
  b->Start();
  absl::SleepFor(absl::Milliseconds(300));  // b looks for the lease every kLease / 5
  EXPECT_TRUE(a->active());
  EXPECT_FALSE(b->active());
  a->Stop();  // releases the lease: b need not wait for it to lapse (the clock stands)
  Produce(20);
  ASSERT_TRUE(b->WaitForApplied(40, absl::Seconds(30)));
  EXPECT_TRUE(b->active());
  b->Stop();
  ExpectAppliedExactlyOnce(40);
}

TEST_P(EventsTest, ADeadHoldersLeaseIsWaitedOutThenTakenOver) {
  LeaseTo("crashed-replica", lease_clock_.Now() + kLease);
  auto consumer = Consumer("", "replica-b");
  consumer->Start();
  Produce(10);
  absl::SleepFor(absl::Milliseconds(400));
  EXPECT_FALSE(consumer->active());
  EXPECT_EQ(CountApplied(), 0) << "applied while another replica's lease ran";
  lease_clock_.Advance(kLease);  // the crashed holder never renewed: its lease lapses
  ASSERT_TRUE(consumer->WaitForApplied(10, absl::Seconds(30)));
  consumer->Stop();
  ExpectAppliedExactlyOnce(10);
}

TEST_P(EventsTest, ABatchLongerThanTheLeaseRenewsItFromItsEnd) {
  auto consumer = BatchConsumer([this](absl::Span<const type::v1::Event> events) {
    if (events.back().sequence() == 10) lease_clock_.Advance(3 * kLease);  // a slow batch
    return false;
  });
  consumer->Start();
  Produce(10);
  ASSERT_TRUE(consumer->WaitForApplied(10, absl::Seconds(30)));
  int64_t until = 0;
  absl::Status read = consumer_db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto rows = tx.Query("SELECT lease_until_us FROM consumer_cursors");
    if (!rows.ok()) return rows.status();
    until = rows->front().GetInt(0);
    return absl::OkStatus();
  });
  ASSERT_TRUE(read.ok()) << read;
  // Renewed as of the batch's end: a standby does not take over a replica that is busy.
  EXPECT_GT(until, absl::ToUnixMicros(lease_clock_.Now()));
  EXPECT_TRUE(consumer->active());
  consumer->Stop();
  ExpectAppliedExactlyOnce(10);
}

// A consumer's events are applied on a thread named after the consumer, as `top -H` shows
// it: "test-consumer" has no dot, so its whole name, cut so that "-apply" fits in 15 bytes.
TEST_P(EventsTest, EventsAreAppliedOnAThreadNamedForTheConsumer) {
  absl::Mutex mu;
  std::set<std::string> names;
  auto consumer = BatchConsumer([&](absl::Span<const type::v1::Event>) {
    absl::MutexLock lock(&mu);
    names.insert(threads::ThisThreadName());
    return false;
  });
  consumer->Start();
  Produce(3);
  ASSERT_TRUE(consumer->WaitForApplied(3, absl::Seconds(30)));
  consumer->Stop();
  absl::MutexLock lock(&mu);
  EXPECT_EQ(names, std::set<std::string>{"test-cons-apply"});
}

TEST_P(EventsTest, ALostLeaseStopsApplyingAndResumesFromTheCursorWithoutGaps) {
  auto consumer = Consumer("", "replica-a");
  consumer->Start();
  Produce(10);
  ASSERT_TRUE(consumer->WaitForApplied(10, absl::Seconds(30)));
  // Another replica took the lease (this one's clock was behind, or it was cut off).
  LeaseTo("replica-b", lease_clock_.Now() + 2 * kLease);
  Produce(10);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (consumer->active() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  ASSERT_FALSE(consumer->active()) << "the next batch must find the lease gone";
  EXPECT_EQ(CountApplied(), 10);
  Produce(10);
  lease_clock_.Advance(3 * kLease);  // replica-b's lease lapses; replica-a takes it back
  ASSERT_TRUE(consumer->WaitForApplied(30, absl::Seconds(30)));
  consumer->Stop();
  ExpectAppliedExactlyOnce(30);
  absl::MutexLock lock(&seen_mu_);
  for (size_t i = 1; i < seen_.size(); ++i) EXPECT_LT(seen_[i - 1], seen_[i]);
}

TEST_P(EventsTest, IdleStreamsGetHeartbeatsAndFiltersApply) {
  Produce(2, "t1");
  Produce(1, "t2");
  WatchEventsRequest request;
  request.set_tenant_id("t2");
  Watched watched = Watch(request, Tenant("t2"));
  ASSERT_TRUE(watched.status.ok()) << watched.status.error_message();
  EXPECT_EQ(watched.sequences, std::vector<int64_t>({3}));
  EXPECT_EQ(watched.tenants, std::vector<std::string>({"t2"}));
  EXPECT_EQ(watched.head, 3);
}

TEST_P(EventsTest, NegativePositionIsInvalid) {
  WatchEventsRequest request;
  request.set_after_sequence(-1);
  grpc::Status status = Watch(request, Tenant("t1")).status;
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("after_sequence"), std::string::npos);
}

// A consumer whose cursor is beyond the log (pointed at a restored, older database) is
// told so with the real head, instead of waiting forever on a heartbeat that echoes its
// own cursor.
TEST_P(EventsTest, PositionBeyondTheNewestEventIsOutOfRange) {
  WatchEventsRequest request;
  request.set_after_sequence(1);
  Watched empty_log = Watch(request, Tenant("t1"));
  EXPECT_EQ(empty_log.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_EQ(errors::GetMetadata(errors::FromGrpcStatus(empty_log.status))["head_sequence"], "0");

  Produce(3);
  request.set_after_sequence(10);
  for (const Metadata& metadata : {Tenant("t1"), kAllTenants}) {
    Watched ahead = Watch(request, metadata);
    EXPECT_EQ(ahead.head, -1) << "no heartbeat with a made-up head";
    ASSERT_EQ(ahead.status.error_code(), grpc::StatusCode::OUT_OF_RANGE);
    const absl::Status decoded = errors::FromGrpcStatus(ahead.status);
    EXPECT_EQ(errors::Reason(decoded), "SEQUENCE_AHEAD");
    EXPECT_EQ(errors::GetMetadata(decoded)["head_sequence"], "3");
    EXPECT_NE(ahead.status.error_message().find("(3)"), std::string::npos)
        << ahead.status.error_message();
  }

  request.set_after_sequence(3);  // exactly the head: nothing to replay, a heartbeat
  Watched at_head = Watch(request, Tenant("t1"));
  ASSERT_TRUE(at_head.status.ok()) << at_head.status.error_message();
  EXPECT_TRUE(at_head.sequences.empty());
  EXPECT_EQ(at_head.head, 3);
}

TEST_P(EventsTest, UnknownEventTypesInTheFilterAreInvalid) {
  Produce(2);
  WatchEventsRequest request;
  request.add_types("google.protobuf.StringValue");
  request.add_types("kelola.ledger.v1.NoSuchEvent");
  request.add_types("StringValue");
  Watched refused = Watch(request, Tenant("t1"));
  ASSERT_EQ(refused.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  const absl::Status decoded = errors::FromGrpcStatus(refused.status);
  EXPECT_EQ(errors::Reason(decoded), "INVALID_ARGUMENT");
  std::vector<std::string> fields;
  for (const auto& violation : errors::Violations(decoded)) fields.push_back(violation.field);
  EXPECT_EQ(fields, std::vector<std::string>({"types[1]", "types[2]"}));

  request.clear_types();
  request.add_types("google.protobuf.Int64Value");  // known, none emitted yet
  Watched none = Watch(request, Tenant("t1"));
  ASSERT_TRUE(none.status.ok()) << none.status.error_message();
  EXPECT_TRUE(none.sequences.empty());
  EXPECT_EQ(none.head, 2);
  request.add_types("google.protobuf.StringValue");
  EXPECT_EQ(Watch(request, Tenant("t1")).sequences, std::vector<int64_t>({1, 2}));
}

// The types each service's main() passes: every payload of its events.proto, and no
// message that is only a part of payloads.
TEST(EventTypesOfTest, ListsThePayloadsOfAnEventsFile) {
  const auto customer = EventTypesOf(kelola::customer::v1::CustomerCreated::descriptor()->file());
  EXPECT_EQ(customer.size(), 13u);
  EXPECT_NE(std::find(customer.begin(), customer.end(), "kelola.customer.v1.CustomerErased"),
            customer.end());
  const auto ledger = EventTypesOf(kelola::ledger::v1::SaleRecorded::descriptor()->file());
  EXPECT_EQ(ledger, std::vector<std::string>({
                        "kelola.ledger.v1.SaleRecorded",
                        "kelola.ledger.v1.PaymentRecorded",
                        "kelola.ledger.v1.SaleVoided",
                        "kelola.ledger.v1.PaymentVoided",
                        "kelola.ledger.v1.SaleRefunded",
                        "kelola.ledger.v1.CreditApplied",
                        "kelola.ledger.v1.CustomerReassigned",
                        "kelola.ledger.v1.CustomerSealed",
                        "kelola.ledger.v1.CustomerUnsealed",
                        "kelola.ledger.v1.CreditLimitChanged",
                    }));
}

// A stream is the caller's tenant's stream: without a tenant_id it is still scoped to the
// x-kelola-tenant of the call, and a request naming another tenant is NOT_FOUND.
TEST_P(EventsTest, StreamsAreScopedToTheCallersTenant) {
  Produce(1, "t1");
  Produce(1, "t2");
  Produce(1, "t1");
  Watched own = Watch(WatchEventsRequest(), Tenant("t1"));
  ASSERT_TRUE(own.status.ok()) << own.status.error_message();
  EXPECT_EQ(own.sequences, std::vector<int64_t>({1, 3}));
  EXPECT_EQ(own.tenants, std::vector<std::string>({"t1", "t1"}));
  EXPECT_EQ(own.head, 3);

  WatchEventsRequest foreign;
  foreign.set_tenant_id("t2");
  Watched refused = Watch(foreign, Tenant("t1"));
  EXPECT_TRUE(refused.sequences.empty());
  ASSERT_EQ(refused.status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(errors::Reason(errors::FromGrpcStatus(refused.status)), "TENANT_NOT_FOUND");

  Watched anonymous = Watch(WatchEventsRequest(), {});
  EXPECT_TRUE(anonymous.sequences.empty());
  EXPECT_EQ(anonymous.status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
}

// Projections of every tenant use the internal all-tenants form, which cannot be mixed
// with a tenant's call.
TEST_P(EventsTest, TheInternalAllTenantsFormReadsEveryTenant) {
  Produce(1, "t1");
  Produce(1, "t2");
  Watched all = Watch(WatchEventsRequest(), kAllTenants);
  ASSERT_TRUE(all.status.ok()) << all.status.error_message();
  EXPECT_EQ(all.sequences, std::vector<int64_t>({1, 2}));
  WatchEventsRequest one;
  one.set_tenant_id("t2");
  EXPECT_EQ(Watch(one, kAllTenants).sequences, std::vector<int64_t>({2}));

  Metadata mixed = kAllTenants;
  mixed.emplace_back("x-kelola-tenant", "t1");
  Watched both = Watch(WatchEventsRequest(), mixed);
  EXPECT_TRUE(both.sequences.empty());
  EXPECT_EQ(both.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  Watched bad_scope = Watch(WatchEventsRequest(), {{"x-kelola-event-scope", "everything"}});
  EXPECT_TRUE(bad_scope.sequences.empty());
  EXPECT_EQ(bad_scope.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(bad_scope.status.error_message().find("x-kelola-event-scope"), std::string::npos);
}

// The all-tenants form is for internal callers only. The decision, as a pure function
// (a non-loopback peer cannot be faked through a real server in a test).
TEST(AllTenantsAllowedTest, WithoutAKeyOnlyLoopbackPeers) {
  EXPECT_TRUE(AllTenantsAllowed("", nullptr, "ipv4:127.0.0.1:50052"));
  EXPECT_TRUE(AllTenantsAllowed("", nullptr, "ipv4:127.3.4.5:1"));
  EXPECT_TRUE(AllTenantsAllowed("", nullptr, "ipv6:[::1]:50052"));
  const std::string any_key = "whatever";
  EXPECT_TRUE(AllTenantsAllowed("", &any_key, "ipv4:127.0.0.1:50052"));
  for (const char* peer :
       {"ipv4:10.0.0.5:50052", "ipv4:192.168.1.127:1", "ipv4:128.0.0.1:1",
        "ipv6:[2001:db8::1]:50052", "ipv6:[::2]:1", "unix:/tmp/socket", "", "127.0.0.1:5"}) {
    EXPECT_FALSE(AllTenantsAllowed("", nullptr, peer)) << peer;
    EXPECT_FALSE(AllTenantsAllowed("", &any_key, peer)) << peer;
  }
}

TEST(AllTenantsAllowedTest, WithAKeyOnlyThatKeyFromAnyPeer) {
  const std::string key(40, 'k');
  const std::string right = key;
  const std::string wrong = std::string(39, 'k') + "x";
  const std::string prefix(39, 'k');
  const std::string longer = key + "k";
  const std::string empty;
  for (const char* peer : {"ipv4:127.0.0.1:1", "ipv4:10.0.0.5:1", "ipv6:[2001:db8::1]:1"}) {
    EXPECT_TRUE(AllTenantsAllowed(key, &right, peer)) << peer;
    EXPECT_FALSE(AllTenantsAllowed(key, nullptr, peer)) << peer;
    for (const std::string* sent : {&wrong, &prefix, &longer, &empty}) {
      EXPECT_FALSE(AllTenantsAllowed(key, sent, peer)) << peer << " " << *sent;
    }
  }
}

// Through a real server: with an internal key configured, the all-tenants form without it
// or with another key is PERMISSION_DENIED (even from loopback); with it, it streams, and
// a consumer configured with the key follows every tenant. Tenants' own streams need no key.
TEST_P(EventsTest, WithAnInternalKeyTheAllTenantsFormRequiresIt) {
  const std::string key = "0123456789abcdef0123456789abcdef";
  StopServer();
  watch_options_.internal_key = key;
  StartServer(0);
  Produce(1, "t1");
  Produce(1, "t2");

  for (const Metadata& denied :
       {kAllTenants, Metadata{{"x-kelola-event-scope", "all-tenants"},
                              {"x-kelola-internal-key", "0123456789abcdef0123456789abcdeX"}}}) {
    Watched refused = Watch(WatchEventsRequest(), denied);
    EXPECT_TRUE(refused.sequences.empty());
    ASSERT_EQ(refused.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
        << refused.status.error_message();
    EXPECT_EQ(errors::Reason(errors::FromGrpcStatus(refused.status)), "EVENT_SCOPE_DENIED");
  }

  Watched all = Watch(WatchEventsRequest(),
                      {{"x-kelola-event-scope", "all-tenants"}, {"x-kelola-internal-key", key}});
  ASSERT_TRUE(all.status.ok()) << all.status.error_message();
  EXPECT_EQ(all.sequences, std::vector<int64_t>({1, 2}));
  EXPECT_EQ(Watch(WatchEventsRequest(), Tenant("t2")).sequences, std::vector<int64_t>({2}));

  auto consumer = Consumer(key);
  consumer->Start();
  ASSERT_TRUE(consumer->WaitForApplied(2, absl::Seconds(30)));
  consumer->Stop();
  ExpectAppliedExactlyOnce(2);
}

TEST_P(EventsTest, TheConsumerFollowsEveryTenant) {
  Produce(3, "t1");
  Produce(3, "t2");
  auto consumer = Consumer();
  consumer->Start();
  Produce(2, "t3");
  ASSERT_TRUE(consumer->WaitForApplied(8, absl::Seconds(30)));
  consumer->Stop();
  ExpectAppliedExactlyOnce(8);
}

TEST_P(EventsTest, ShutdownEndsStreamsWithUnavailable) {
  auto stub = kelola::events::v1::EventService::NewStub(Channel());
  grpc::ClientContext context;
  context.AddMetadata("x-kelola-tenant", "t1");
  auto reader = stub->WatchEvents(&context, WatchEventsRequest());
  WatchEventsResponse response;
  ASSERT_TRUE(reader->Read(&response));  // a heartbeat: the stream is open
  notifier_.Shutdown();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

// A burst of N events is applied in far fewer than N transactions, each moving the cursor
// to its last event.
TEST_P(EventsTest, ABurstIsAppliedInBatches) {
  constexpr int kEvents = 300;
  Produce(kEvents);
  auto consumer = BatchConsumer();
  consumer->Start();
  ASSERT_TRUE(consumer->WaitForApplied(kEvents, absl::Seconds(30)));
  consumer->Stop();
  ExpectAppliedExactlyOnce(kEvents);
  EXPECT_EQ(on_applied_calls_.load(), kEvents);
  absl::MutexLock lock(&seen_mu_);
  int total = 0;
  for (int size : committed_batches_) {
    EXPECT_LE(size, 64);
    total += size;
  }
  EXPECT_EQ(total, kEvents);
  EXPECT_LT(committed_batches_.size(), static_cast<size_t>(kEvents) / 4);
  EXPECT_GE(committed_batches_.size(), static_cast<size_t>(kEvents) / 64);
}

// Large events make smaller batches: the bytes read ahead and the bytes of one batch stay
// under max_queued_bytes (one event larger than the bound would still go, alone).
TEST_P(EventsTest, BatchesAndTheQueueAreBoundedInBytes) {
  constexpr int kEvents = 300;
  Produce(kEvents);
  const auto event_bytes = static_cast<int64_t>(MakeEvent(kEvents).ByteSizeLong());
  auto consumer = BatchConsumer(nullptr, 4 * event_bytes);
  consumer->Start();
  ASSERT_TRUE(consumer->WaitForApplied(kEvents, absl::Seconds(30)));
  consumer->Stop();
  ExpectAppliedExactlyOnce(kEvents);
  absl::MutexLock lock(&seen_mu_);
  int total = 0;
  for (int size : committed_batches_) {
    EXPECT_LE(size, 5);  // early events are a few bytes shorter than the last one
    total += size;
  }
  EXPECT_EQ(total, kEvents);
  // The bound is what limited them (max_batch is 64).
  EXPECT_GE(committed_batches_.size(), static_cast<size_t>(kEvents) / 4);
}

// Live events written one per transaction by concurrent writers also share transactions,
// and a lone event is applied promptly (the batch waits only max_wait for company).
TEST_P(EventsTest, LiveEventsAreBatchedAndALoneEventIsNotHeldBack) {
  auto consumer = BatchConsumer();
  consumer->Start();
  Produce(1);
  ASSERT_TRUE(consumer->WaitForApplied(1, absl::Seconds(30)));  // connected and caught up
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) writers.emplace_back([this] { Produce(50); });
  for (auto& t : writers) t.join();
  ASSERT_TRUE(consumer->WaitForApplied(201, absl::Seconds(30)));
  const absl::Time start = absl::Now();
  Produce(1);
  ASSERT_TRUE(consumer->WaitForApplied(202, absl::Seconds(30)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  consumer->Stop();
  ExpectAppliedExactlyOnce(202);
  absl::MutexLock lock(&seen_mu_);
  EXPECT_LT(committed_batches_.size(), 202u);
}

// A batch whose apply fails rolls back entirely, its cursor move included, and is retried:
// no event is lost and none is applied twice.
TEST_P(EventsTest, AFailedBatchRollsBackEntirelyAndIsRetried) {
  Produce(100);
  std::atomic<int> failures{0};
  auto consumer = BatchConsumer([&](absl::Span<const type::v1::Event> events) {
    const bool has_50 = events.front().sequence() <= 50 && events.back().sequence() >= 50;
    return has_50 && failures.fetch_add(1) < 3;  // the batch holding 50 fails three times
  });
  consumer->Start();
  ASSERT_TRUE(consumer->WaitForApplied(100, absl::Seconds(30)));
  consumer->Stop();
  EXPECT_EQ(failures.load(), 4);  // three failures, then the commit
  ExpectAppliedExactlyOnce(100);  // rows of failed attempts were rolled back
  EXPECT_EQ(on_applied_calls_.load(), 100);
  absl::MutexLock lock(&seen_mu_);
  EXPECT_EQ(std::count(seen_.begin(), seen_.end(), 50), 4);  // attempted four times
}

// The batch transaction itself: a failure leaves rows and cursor as they were; events at or
// below the cursor never reach the handler again.
TEST_P(EventsTest, ApplyBatchMovesTheCursorWithTheEventsOrNotAtAll) {
  std::vector<type::v1::Event> first;
  for (int64_t s = 1; s <= 5; ++s) first.push_back(MakeEvent(s));
  std::vector<int64_t> handled;
  auto insert_all = [&](db::Transaction& tx,
                        absl::Span<const type::v1::Event> events) -> absl::Status {
    for (const type::v1::Event& event : events) {
      handled.push_back(event.sequence());
      if (absl::Status s = InsertApplied(tx, event); !s.ok()) return s;
    }
    return absl::OkStatus();
  };
  auto failing = [&](db::Transaction& tx, absl::Span<const type::v1::Event> events) {
    EXPECT_TRUE(insert_all(tx, events).ok());
    return absl::UnavailableError("crash mid-batch");
  };
  auto failed =
      EventConsumer::ApplyBatch(*consumer_db_, "test-consumer", "test-producer", first, failing);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(CountApplied(), 0);
  EXPECT_EQ(*EventConsumer::LoadCursor(*consumer_db_, "test-consumer", "test-producer"), 0);

  handled.clear();
  auto applied =
      EventConsumer::ApplyBatch(*consumer_db_, "test-consumer", "test-producer", first, insert_all);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(applied->size(), 5u);
  EXPECT_EQ(CountApplied(), 5);
  EXPECT_EQ(*EventConsumer::LoadCursor(*consumer_db_, "test-consumer", "test-producer"), 5);

  std::vector<type::v1::Event> overlapping;
  for (int64_t s = 3; s <= 8; ++s) overlapping.push_back(MakeEvent(s));
  handled.clear();
  applied = EventConsumer::ApplyBatch(*consumer_db_, "test-consumer", "test-producer", overlapping,
                                      insert_all);
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(handled, (std::vector<int64_t>{6, 7, 8}));
  EXPECT_EQ(applied->size(), 3u);
  ExpectAppliedExactlyOnce(8);

  handled.clear();
  applied = EventConsumer::ApplyBatch(*consumer_db_, "test-consumer", "test-producer", overlapping,
                                      insert_all);  // a replay
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_TRUE(applied->empty());
  EXPECT_TRUE(handled.empty());
  ExpectAppliedExactlyOnce(8);
}

// Writers of the concurrency tests: each transaction takes its aggregate's row lock (the
// next version), as a producer's write does before it appends.
class ConcurrentEventsTest : public EventsTest {
 protected:
  void CreateAggregates(int count) {
    for (int a = 0; a < count; ++a) {
      absl::Status status = producer_db_->InTransaction([&](db::Transaction& tx) {
        return tx
            .Execute("INSERT INTO aggregates (id, version) VALUES (?, 0)", {absl::StrCat("a", a)})
            .status();
      });
      ASSERT_TRUE(status.ok()) << status;
    }
  }

  // One transaction of writer `tag` on `aggregate`: `count` events, then a commit or, when
  // `roll_back`, a rollback. Payloads are "aggregate/version/k/tag", unique per attempt.
  void Write(db::Database& db, const Outbox& outbox, const std::string& aggregate, int count,
             bool roll_back, const std::string& tag) {
    std::vector<std::string> payloads;
    absl::Status status = db.InTransaction([&](db::Transaction& tx) -> absl::Status {
      payloads.clear();
      auto row =
          tx.QueryOne("UPDATE aggregates SET version = version + 1 WHERE id = ? RETURNING version",
                      {aggregate});
      if (!row.ok()) return row.status();
      const int64_t version = row->GetInt(0);
      for (int k = 0; k < count; ++k) {
        google::protobuf::StringValue payload;
        payload.set_value(absl::StrCat(aggregate, "/", version, "/", k, "/", tag));
        absl::Status appended =
            outbox.Append(tx, {"t1", "aggregate", aggregate, version, &payload, "", ""});
        if (!appended.ok()) return appended;
        payloads.push_back(payload.value());
      }
      return roll_back ? absl::AbortedError("rolled back on purpose") : absl::OkStatus();
    });
    absl::MutexLock lock(&written_mu_);
    if (roll_back) {
      EXPECT_EQ(status.code(), absl::StatusCode::kAborted) << status;
      rolled_back_.insert(payloads.begin(), payloads.end());
    } else {
      EXPECT_TRUE(status.ok()) << status;
      committed_.insert(payloads.begin(), payloads.end());
    }
  }

  // `writers` threads of `transactions` each over 4 aggregates; every fifth rolls back.
  // Even writers use `db`/`outbox`, odd ones `other_db`/`other_outbox` (a second replica).
  void RunWriters(int writers, int transactions, db::Database& other_db,
                  const Outbox& other_outbox) {
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] {
        db::Database& db = w % 2 == 0 ? *producer_db_ : other_db;
        const Outbox& outbox = w % 2 == 0 ? outbox_ : other_outbox;
        for (int t = 0; t < transactions; ++t) {
          Write(db, outbox, absl::StrCat("a", (w + t) % 4), 1 + t % 3, t % 5 == 4,
                absl::StrCat(w, ".", t));
        }
      });
    }
    for (auto& t : threads) t.join();
  }

  // The stream is 1..N, holds each committed event once and no rolled-back one, and each
  // aggregate's events come in version order (append order within a version).
  void ExpectGaplessStream() {
    Number();
    std::vector<type::v1::Event> events = AllEvents();
    absl::MutexLock lock(&written_mu_);
    ASSERT_EQ(events.size(), committed_.size());
    std::set<std::string> seen;
    std::map<std::string, std::pair<int64_t, int64_t>> last;  // aggregate -> (version, k)
    for (size_t i = 0; i < events.size(); ++i) {
      const type::v1::Event& event = events[i];
      EXPECT_EQ(event.sequence(), static_cast<int64_t>(i + 1));
      google::protobuf::StringValue payload;
      ASSERT_TRUE(event.payload().UnpackTo(&payload));
      EXPECT_TRUE(committed_.count(payload.value())) << payload.value();
      EXPECT_FALSE(rolled_back_.count(payload.value())) << payload.value();
      EXPECT_TRUE(seen.insert(payload.value()).second) << "twice: " << payload.value();
      const std::vector<std::string> parts = absl::StrSplit(payload.value(), '/');
      ASSERT_EQ(parts.size(), 4u);
      const std::pair<int64_t, int64_t> at = {event.aggregate_version(), std::stoll(parts[2])};
      auto previous = last.find(event.aggregate_id());
      if (previous != last.end()) {
        EXPECT_LT(previous->second, at) << event.aggregate_id() << " at " << event.sequence();
      }
      last[event.aggregate_id()] = at;
    }
  }

  absl::Mutex written_mu_;
  std::set<std::string> committed_ ABSL_GUARDED_BY(written_mu_);
  std::set<std::string> rolled_back_ ABSL_GUARDED_BY(written_mu_);
};

// More writers than connections, in concurrent transactions, some rolling back, while the
// sequencer numbers behind them.
TEST_P(ConcurrentEventsTest, ConcurrentWritersMakeOneGaplessStreamInAggregateOrder) {
  CreateAggregates(4);
  RunWriters(16, 15, *producer_db_, outbox_);
  ExpectGaplessStream();
}

// The sequencer's own mechanics exist on PostgreSQL only (SQLite numbers events as they
// are appended): these suites run on that driver alone.
class ReplicaSequencersTest : public ConcurrentEventsTest {};
class SequencerTest : public EventsTest {
 protected:
  // Leaves `db`'s staging table to the sequencer's vacuums alone (autovacuum could give
  // its pages back meanwhile).
  static void NoAutovacuum(db::Database& db) {
    absl::Status status = db.InTransaction([](db::Transaction& tx) -> absl::Status {
      return tx.Execute("ALTER TABLE event_staging SET (autovacuum_enabled = off)").status();
    });
    ASSERT_TRUE(status.ok()) << status;
  }

  // Stages `count` events in one commit without waking the sequencer (as a replica that
  // died before numbering them would leave them).
  void StageInOneCommit(int count) {
    const Outbox silent{clock_, nullptr};
    absl::Status staged = producer_db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
      for (int i = 0; i < count; ++i) {
        google::protobuf::StringValue payload;
        payload.set_value(absl::StrCat("burst-", i));
        if (absl::Status s = silent.Append(tx, {"t1", "item", "x", 1, &payload, "", ""}); !s.ok()) {
          return s;
        }
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(staged.ok()) << staged;
  }

  // The producer's staging table's size on disk; -1 when it cannot be read.
  int64_t StagingBytes() {
    return ReadInt(*producer_db_, "SELECT pg_relation_size('event_staging')");
  }
};

// Two replicas of the producer, each with its sequencer, on one database; further runs
// forced from other threads meanwhile.
TEST_P(ReplicaSequencersTest, TwoSequencersAsReplicasKeepTheStreamGapless) {
  auto replica_db = db::Open(producer_url_);
  ASSERT_TRUE(replica_db.ok()) << replica_db.status();
  EventNotifier replica_notifier;
  Outbox replica_outbox{clock_, &replica_notifier};
  OutboxSequencer replica(**replica_db, &replica_notifier, kSequencerOptions);
  replica.Start();
  CreateAggregates(4);
  std::atomic<bool> writing{true};
  std::vector<std::thread> forced;
  for (OutboxSequencer* sequencer : {sequencer_.get(), &replica}) {
    forced.emplace_back([sequencer, &writing] {
      while (writing.load()) EXPECT_TRUE(sequencer->RunOnce().ok());
    });
  }
  RunWriters(12, 15, **replica_db, replica_outbox);
  writing = false;
  for (auto& t : forced) t.join();
  replica.Stop();
  replica_notifier.Shutdown();
  ExpectGaplessStream();
}

// Rows committed by a process that died before its sequencer ran (nobody was woken) are
// numbered by the poll, and watchers are woken then.
TEST_P(SequencerTest, StagedRowsOfADeadProcessAreNumberedByThePoll) {
  const Outbox silent{clock_, nullptr};
  google::protobuf::StringValue payload;
  payload.set_value("orphan");
  absl::Status status = producer_db_->InTransaction([&](db::Transaction& tx) {
    return silent.Append(tx, {"t1", "item", "x", 1, &payload, "", ""});
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(notifier_.WaitForNewerThan(0, absl::Seconds(10)));
  std::vector<type::v1::Event> events = AllEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].sequence(), 1);
}

// The staged rows a sequencer moves into `events` stay in the staging table, and are read
// by every later scan of it, until a vacuum: the sequencer vacuums the table itself, and
// once the writers pause (a run finds nothing new) the table holds no page at all.
TEST_P(SequencerTest, TheSequencerVacuumsTheStagingTableItEmptied) {
  NoAutovacuum(*producer_db_);
  Produce(300);
  ASSERT_EQ(AllEvents().size(), 300u);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (StagingBytes() != 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(50));
  EXPECT_EQ(StagingBytes(), 0);
  // And the table is still the staging table: the next writes are numbered as before.
  Produce(3);
  EXPECT_EQ(AllEvents().size(), 303u);
}

// A burst that ends exactly on the vacuum threshold: the threshold's vacuum (which keeps the
// pages) counts every numbered row, and the pages are still given back once writers pause.
TEST_P(SequencerTest, PagesLeftByTheThresholdVacuumAreGivenBackWhenQuiet) {
  sequencer_->Stop();
  NoAutovacuum(*producer_db_);
  ASSERT_NO_FATAL_FAILURE(StageInOneCommit(200));
  ASSERT_GT(StagingBytes(), 0);
  SequencerOptions options = kSequencerOptions;
  options.vacuum_after_rows = 200;  // the burst's first run reaches it exactly
  OutboxSequencer sequencer(*producer_db_, nullptr, options);
  sequencer.Start();
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while ((AllEvents().size() != 200u || StagingBytes() != 0) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  sequencer.Stop();
  EXPECT_EQ(AllEvents().size(), 200u);
  EXPECT_EQ(StagingBytes(), 0);
}

// A vacuum that gives pages back needs the staging table alone for a moment, and while a
// reader holds the table PostgreSQL keeps trying for up to five seconds: numbering goes on
// meanwhile, so that no event waits for the vacuum.
TEST_P(SequencerTest, NumberingGoesOnWhileAVacuumWaitsForTheTable) {
  NoAutovacuum(*producer_db_);
  auto holder_db = db::Open(producer_url_);
  ASSERT_TRUE(holder_db.ok()) << holder_db.status();
  absl::Notification held;
  absl::Notification release;
  std::thread holder([&] {
    absl::Status s = (*holder_db)->InTransaction([&](db::Transaction& tx) -> absl::Status {
      // What a reading transaction holds until it ends (and no snapshot, which would keep
      // the rows numbered from now on from being vacuumed).
      absl::Status read = tx.Execute("LOCK TABLE event_staging IN ACCESS SHARE MODE").status();
      if (!held.HasBeenNotified()) held.Notify();
      release.WaitForNotification();
      return read;
    });
    EXPECT_TRUE(s.ok()) << s;
  });
  absl::Cleanup end_hold = [&] {
    if (!release.HasBeenNotified()) release.Notify();
    holder.join();
  };
  ASSERT_TRUE(held.WaitForNotificationWithTimeout(absl::Seconds(20))) << "the table not held";
  // 300 events in one commit, numbered here; the background run then finds nothing new and
  // asks for the vacuum that gives the emptied pages back (one only: no pause in between).
  ASSERT_NO_FATAL_FAILURE(StageInOneCommit(300));
  Number();

  // The vacuum has reached its truncation and waits for the table.
  const std::string truncating =
      "SELECT COUNT(*) FROM pg_stat_progress_vacuum WHERE relid = 'event_staging'::regclass "
      "AND phase = 'truncating heap'";
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (ReadInt(*producer_db_, truncating) == 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(ReadInt(*producer_db_, truncating), 1) << "no vacuum waiting to truncate";

  // A commit now is numbered by the background run while the vacuum still waits.
  google::protobuf::StringValue payload;
  payload.set_value("during the vacuum");
  absl::Status status = producer_db_->InTransaction([&](db::Transaction& tx) {
    return outbox_.Append(tx, {"t1", "item", "y", 1, &payload, "", ""});
  });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(notifier_.WaitForNewerThan(300, absl::Seconds(3)))
      << "the event waited for the vacuum";
  EXPECT_EQ(ReadInt(*producer_db_, truncating), 1) << "the vacuum no longer waits";
  std::move(end_hold).Invoke();
  Number();
  EXPECT_EQ(AllEvents().size(), 301u);
}

// A producer that reads its staged aggregates on every read (customer-svc's searches) has
// the staging table indexed by aggregate type: after a burst whose pages are not given
// back yet (writers have not paused, or readers held the table), the read still goes by
// the index rather than over every empty page, and still finds what is staged.
TEST_P(SequencerTest, StagedAggregatesAreReadByTheirIndexAfterABurst) {
  std::unique_ptr<db::Database> reader = OpenDb(
      "reader", {OutboxMigration(1), OutboxStagingMigration(2), OutboxStagingByTypeMigration(3)});
  ASSERT_NE(reader, nullptr);
  NoAutovacuum(*reader);
  absl::Status burst = reader->InTransaction([](db::Transaction& tx) -> absl::Status {
    return tx
        .Execute(
            "INSERT INTO event_staging (tenant_id, type, aggregate_type, aggregate_id, "
            "aggregate_version, occur_time_micros, payload, request_id, principal) "
            "SELECT 't1', 'x', 'item', 'i' || n, 1, 0, '', '', '' FROM generate_series(1, 20000) n")
        .status();
  });
  ASSERT_TRUE(burst.ok()) << burst;
  burst = reader->InTransaction([](db::Transaction& tx) -> absl::Status {
    return tx.Execute("DELETE FROM event_staging").status();
  });
  ASSERT_TRUE(burst.ok()) << burst;
  ASSERT_TRUE(reader->Vacuum("event_staging", /*truncate=*/false).ok());
  const Outbox silent{clock_, nullptr};
  google::protobuf::StringValue payload;
  payload.set_value("new");
  ASSERT_TRUE(reader
                  ->InTransaction([&](db::Transaction& tx) {
                    return silent.Append(tx, {"t1", "customer", "c1", 1, &payload, "", ""});
                  })
                  .ok());

  // This backend's scans of the table so far (its counts not yet reported included).
  auto scans = [](db::Transaction& tx) -> absl::StatusOr<std::pair<int64_t, int64_t>> {
    auto row = tx.QueryOne(
        "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = "
        "'event_staging'");
    if (!row.ok()) return row.status();
    return std::make_pair(row->GetInt(0), row->GetInt(1));
  };
  absl::Status status = reader->InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto pages = tx.QueryOne("SELECT pg_relation_size('event_staging') / 8192");
    if (!pages.ok()) return pages.status();
    EXPECT_GT(pages->GetInt(0), 100) << "the burst's pages are still there";
    auto before = scans(tx);
    if (!before.ok()) return before.status();
    auto position = ReadOutboxPosition(tx, "customer");
    if (!position.ok()) return position.status();
    EXPECT_EQ(position->head, 0);
    EXPECT_EQ(position->staged.size(), 1u);
    auto after = scans(tx);
    if (!after.ok()) return after.status();
    EXPECT_EQ(after->first - before->first, 0) << "sequential scans of the staging table";
    EXPECT_EQ(after->second - before->second, 1) << "index scans of the staging table";
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
}

// A commit wakes the sequencer, which wakes watchers: long before its poll would.
TEST_P(EventsTest, WatchersWakeOnceTheirEventsAreNumbered) {
  sequencer_->Stop();
  sequencer_ = std::make_unique<OutboxSequencer>(
      *producer_db_, &notifier_,
      SequencerOptions{absl::Minutes(10), 10000, absl::Milliseconds(10)});
  sequencer_->Start();
  std::atomic<bool> woke{false};
  std::thread watcher([&] { woke = notifier_.WaitForNewerThan(0, absl::Seconds(30)); });
  google::protobuf::StringValue payload;
  payload.set_value("live");
  absl::Status status = producer_db_->InTransaction([&](db::Transaction& tx) {
    return outbox_.Append(tx, {"t1", "item", "x", 1, &payload, "", ""});
  });
  ASSERT_TRUE(status.ok()) << status;
  watcher.join();
  EXPECT_TRUE(woke.load());
  std::vector<type::v1::Event> events = AllEvents();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].sequence(), 1);
}

INSTANTIATE_TEST_SUITE_P(Drivers, ConcurrentEventsTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Drivers, EventsTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Postgres, ReplicaSequencersTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

INSTANTIATE_TEST_SUITE_P(Postgres, SequencerTest, ::testing::Values("postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::events
