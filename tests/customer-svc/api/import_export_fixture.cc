#include "tests/customer-svc/api/import_export_fixture.h"

#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/server/request_parsing.h"

namespace kelola::customer::testing_support {

void ImportExportTest::SetUp() {
  DirectoryApiTest::SetUp();
  if (HasFatalFailure()) return;
  store::DirectoryStoreOptions options;
  options.on_customer_written = store::KeepStatsRow;
  options.on_customers_inserted = store::KeepStatsRows;
  options.writer = group_commit_.get();  // as customer-svc's directory, for "..._group_commit"
  indexed_store_ = store::NewSqlDirectoryStore(*db_, clock_, *outbox_, options);
  io_query_ = std::make_unique<store::CustomerQuery>(clock_, *indexes_);
  import_store_ = std::make_unique<CountingStore>(*indexed_store_);
  importer_ =
      std::make_unique<api::CustomerImporter>(*import_store_, *ids_, phones_, clock_, Limits());
  exporter_ = std::make_unique<api::CustomerExporter>(*io_query_, *indexed_store_, clock_);
  io_queries_ = std::make_unique<api::CustomerQueryHandlers>(*indexed_store_, *io_query_);
  io_service_ =
      std::make_unique<api::CustomerService>(*indexed_store_, clock_, *ids_, phones_, *io_queries_,
                                             *importer_, *exporter_, *deletion_, *merges_);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(io_service_.get());
  // As customer-svc's ServiceHost: unparsable requests are the caller's fault.
  server::InstallRequestParseLogHandler();
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(server::NewRequestParseInterceptorFactory("customer.kelola.id"));
  builder.experimental().SetInterceptorCreators(std::move(factories));
  io_server_ = builder.BuildAndStart();
  ASSERT_NE(io_server_, nullptr);
  auto channel =
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials());
  customers_ = v1::CustomerService::NewStub(channel);
}

api::ImportLimits ImportExportTest::Limits() const {
  api::ImportLimits limits;
  limits.max_rows = 5000;
  limits.max_bytes = 1 << 20;
  limits.batch_rows = 50;
  return limits;
}

void ImportExportTest::TearDown() {
  if (io_server_ != nullptr) {
    io_server_->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
    io_server_->Wait();
  }
  DirectoryApiTest::TearDown();
}

ImportResult ImportExportTest::Import(const std::string& csv, v1::ImportCustomersHeader header,
                                      size_t chunk_bytes, const std::string& tenant) {
  ImportResult result;
  auto ctx = Ctx(tenant);
  auto stream = customers_->ImportCustomers(ctx.get(), &result.response);
  v1::ImportCustomersRequest message;
  *message.mutable_header() = std::move(header);
  bool open = stream->Write(message);
  for (size_t i = 0; open && i < csv.size(); i += chunk_bytes) {
    message.set_chunk(csv.substr(i, chunk_bytes));
    open = stream->Write(message);
  }
  stream->WritesDone();
  result.status = stream->Finish();
  return result;
}

ExportResult ImportExportTest::Export(const v1::ExportCustomersRequest& request,
                                      const std::string& tenant) {
  ExportResult result;
  auto ctx = Ctx(tenant);
  auto stream = customers_->ExportCustomers(ctx.get(), request);
  v1::ExportCustomersResponse message;
  while (stream->Read(&message)) {
    if (result.messages == 0) {
      result.content_type = message.content_type();
      result.file_name = message.file_name();
    }
    ++result.messages;
    result.bytes += message.chunk();
    if (message.chunk().empty()) result.row_count = message.row_count();
  }
  result.status = stream->Finish();
  return result;
}

std::vector<v1::Customer> ImportExportTest::AllCustomers(const std::string& tenant) {
  std::vector<v1::Customer> out;
  absl::Status status = db_->InTransaction([&](db::Transaction& tx) -> absl::Status {
    auto rows = tx.Query(
        "SELECT data FROM customers WHERE tenant_id = ? ORDER BY create_time_micros, customer_id",
        {tenant});
    if (!rows.ok()) return rows.status();
    for (const auto& row : *rows) {
      v1::Customer c;
      c.ParseFromString(row.GetBytes(0));
      out.push_back(std::move(c));
    }
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

}  // namespace kelola::customer::testing_support
