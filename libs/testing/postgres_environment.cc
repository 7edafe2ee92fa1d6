#include "libs/testing/postgres_environment.h"

#include "gtest/gtest.h"

namespace kelola::testing {
namespace {

PostgresServer* shared = nullptr;

class PostgresEnvironment final : public ::testing::Environment {
 public:
  void SetUp() override {
    auto server = PostgresServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    shared = server_.get();
  }
  void TearDown() override {
    shared = nullptr;
    server_.reset();
  }

 private:
  std::unique_ptr<PostgresServer> server_;
};

// Registered when this file is linked, which SharedPostgres() makes sure of.
const auto* const kEnvironment = ::testing::AddGlobalTestEnvironment(new PostgresEnvironment);

}  // namespace

PostgresServer* SharedPostgres() { return shared; }

}  // namespace kelola::testing
