// The outbox, the WatchEvents stream and the consumer, against real databases (SQLite
// file and PostgreSQL) and a real gRPC server on a loopback port.

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/wrappers.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "libs/clock/clock.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "libs/events/event_consumer.h"
#include "libs/events/event_service.h"
#include "libs/events/outbox.h"
#include "libs/testing/postgres_environment.h"
#include "libs/testing/temp_dir.h"

namespace kelola::events {
namespace {

using kelola::events::v1::WatchEventsRequest;
using kelola::events::v1::WatchEventsResponse;

db::Migration AppliedTable(int version) {
  db::Migration m;
  m.version = version;
  m.name = "applied events";
  m.sqlite =
      "CREATE TABLE applied (sequence BIGINT PRIMARY KEY, tenant_id TEXT NOT NULL, "
      "payload TEXT NOT NULL)";
  return m;
}

class EventsTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto dir = testing::TempDir::Create("kelola-events");
    ASSERT_TRUE(dir.ok()) << dir.status();
    dir_ = *std::move(dir);
    producer_db_ = OpenDb("producer", {OutboxMigration(1)});
    consumer_db_ = OpenDb("consumer", {CursorMigration(1), AppliedTable(2)});
    ASSERT_NE(producer_db_, nullptr);
    ASSERT_NE(consumer_db_, nullptr);
    StartServer(0);
  }

  void TearDown() override {
    StopServer();
    notifier_.Shutdown();
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
    auto db = db::Open(url);
    EXPECT_TRUE(db.ok()) << db.status();
    if (!db.ok()) return nullptr;
    EXPECT_TRUE(db::ApplyMigrations(**db, migrations).ok());
    return *std::move(db);
  }

  void StartServer(int port) {
    service_ = std::make_unique<EventServiceImpl>(*producer_db_, notifier_, watch_options_);
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

  // Appends one event per transaction, in the producer database.
  void Produce(int count, const std::string& tenant = "t1") {
    for (int i = 0; i < count; ++i) {
      google::protobuf::StringValue payload;
      payload.set_value(absl::StrCat("item-", produced_.fetch_add(1)));
      absl::Status status = producer_db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
        return outbox_.Append(tx, {tenant, "item", payload.value(), 1, &payload, "req", "tester"})
            .status();
      });
      ASSERT_TRUE(status.ok()) << status;
    }
  }

  std::unique_ptr<EventConsumer> Consumer() {
    ConsumerOptions options;
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
  EventNotifier notifier_;
  WatchOptions watch_options_{absl::Milliseconds(100), absl::Milliseconds(50), 16};
  Outbox outbox_{clock_, &notifier_};
  std::unique_ptr<db::Database> producer_db_;
  std::unique_ptr<db::Database> consumer_db_;
  std::unique_ptr<EventServiceImpl> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<int> produced_{0};
  std::atomic<int> on_applied_calls_{0};
  absl::Mutex seen_mu_;
  std::vector<int64_t> seen_ ABSL_GUARDED_BY(seen_mu_);
};

TEST_P(EventsTest, SequencesAreGapFreeAndSkipRolledBackTransactions) {
  google::protobuf::StringValue payload;
  payload.set_value("lost");
  absl::Status rolled_back = producer_db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto appended = outbox_.Append(tx, {"t1", "item", "x", 1, &payload, "", ""});
    EXPECT_TRUE(appended.ok());
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
  a->Stop();
  b->Stop();
  ExpectAppliedExactlyOnce(60);
}

TEST_P(EventsTest, IdleStreamsGetHeartbeatsAndFiltersApply) {
  Produce(2, "t1");
  Produce(1, "t2");
  auto stub = kelola::events::v1::EventService::NewStub(Channel());
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  WatchEventsRequest request;
  request.set_tenant_id("t2");
  auto reader = stub->WatchEvents(&context, request);
  WatchEventsResponse response;
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_TRUE(response.has_event());
  EXPECT_EQ(response.event().sequence(), 3);
  EXPECT_EQ(response.event().tenant_id(), "t2");
  ASSERT_TRUE(reader->Read(&response));
  ASSERT_TRUE(response.has_heartbeat());
  EXPECT_EQ(response.heartbeat().head_sequence(), 3);
  context.TryCancel();
  reader->Finish();
}

TEST_P(EventsTest, NegativePositionIsInvalid) {
  auto stub = kelola::events::v1::EventService::NewStub(Channel());
  grpc::ClientContext context;
  WatchEventsRequest request;
  request.set_after_sequence(-1);
  auto reader = stub->WatchEvents(&context, request);
  WatchEventsResponse response;
  EXPECT_FALSE(reader->Read(&response));
  grpc::Status status = reader->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("after_sequence"), std::string::npos);
}

TEST_P(EventsTest, ShutdownEndsStreamsWithUnavailable) {
  auto stub = kelola::events::v1::EventService::NewStub(Channel());
  grpc::ClientContext context;
  auto reader = stub->WatchEvents(&context, WatchEventsRequest());
  WatchEventsResponse response;
  ASSERT_TRUE(reader->Read(&response));  // a heartbeat: the stream is open
  notifier_.Shutdown();
  while (reader->Read(&response)) {
  }
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNAVAILABLE);
}

INSTANTIATE_TEST_SUITE_P(Drivers, EventsTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kelola::events
