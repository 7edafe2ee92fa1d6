#pragma once

// DirectoryApiTest plus the import and export handlers on a server of their own, over a
// directory store that keeps the search/list index in step (as customer-svc/main.cc does).
// The `customers_` stub talks to that server.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "customer-svc/api/customer_export.h"
#include "customer-svc/api/customer_import.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/directory_store.h"
#include "tests/customer-svc/api/api_fixture.h"

namespace kelola::customer::testing_support {

struct ImportResult {
  grpc::Status status;
  v1::ImportCustomersResponse response;
};

struct ExportResult {
  grpc::Status status;
  std::string bytes;
  int messages = 0;
  int64_t row_count = -1;
  std::string content_type;
  std::string file_name;
};

// The importer's store: the fixture's, counting the writes by kind and the ends of runs of
// bulk writes that pass through it.
class CountingStore final : public store::DirectoryStore {
 public:
  explicit CountingStore(store::DirectoryStore& store) : store_(store) {}

  absl::Status Write(absl::string_view tenant_id, const store::WriteOptions& options,
                     const store::TxFn& fn, google::protobuf::Message* response) override {
    ++(options.bulk ? bulk_writes_ : other_writes_);
    return store_.Write(tenant_id, options, fn, response);
  }
  absl::Status Read(absl::string_view tenant_id, const store::TxFn& fn) override {
    return store_.Read(tenant_id, fn);
  }
  absl::Status BulkRead(absl::string_view tenant_id, const store::TxFn& fn) override {
    return store_.BulkRead(tenant_id, fn);
  }
  absl::StatusOr<bool> RefreshStatistics(int64_t rows_written) override {
    return store_.RefreshStatistics(rows_written);
  }
  void BulkWritesEnded() override {
    ++bulk_ends_;
    store_.BulkWritesEnded();
  }

  int bulk_writes() const { return bulk_writes_; }
  int other_writes() const { return other_writes_; }
  int bulk_ends() const { return bulk_ends_; }

 private:
  store::DirectoryStore& store_;
  std::atomic<int> bulk_writes_{0};
  std::atomic<int> other_writes_{0};
  std::atomic<int> bulk_ends_{0};
};

class ImportExportTest : public DirectoryApiTest {
 protected:
  void SetUp() override;
  void TearDown() override;
  // The importer's limits (small, so that the limit tests stay fast).
  virtual api::ImportLimits Limits() const;

  // Streams `csv` in chunks of `chunk_bytes` after `header`.
  ImportResult Import(const std::string& csv, v1::ImportCustomersHeader header = {},
                      size_t chunk_bytes = 1 << 16, const std::string& tenant = "t1");
  ExportResult Export(const v1::ExportCustomersRequest& request, const std::string& tenant = "t1");
  std::vector<v1::Customer> AllCustomers(const std::string& tenant = "t1");

  std::unique_ptr<store::DirectoryStore> indexed_store_;
  std::unique_ptr<CountingStore> import_store_;  // the importer's: indexed_store_, counted
  std::unique_ptr<store::CustomerQuery> io_query_;
  std::unique_ptr<api::CustomerImporter> importer_;
  std::unique_ptr<api::CustomerExporter> exporter_;
  std::unique_ptr<api::CustomerQueryHandlers> io_queries_;
  std::unique_ptr<api::CustomerService> io_service_;
  std::unique_ptr<grpc::Server> io_server_;
};

}  // namespace kelola::customer::testing_support
