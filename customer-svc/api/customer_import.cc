#include "customer-svc/api/customer_import.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "customer-svc/api/handler_support.h"
#include "customer-svc/app/customer_writes.h"
#include "customer-svc/app/import_applier.h"
#include "customer-svc/app/import_rows.h"
#include "customer-svc/domain/customer_rules.h"
#include "libs/csv/reader.h"
#include "libs/errors/errors.h"
#include "libs/log/log.h"
#include "libs/server/request_context.h"
#include "libs/server/request_parsing.h"
#include "libs/threads/thread_name.h"

namespace kelola::customer::api {
namespace {

absl::Status InvalidArgument(absl::string_view reason, absl::string_view message) {
  return errors::Error(absl::StatusCode::kInvalidArgument, reason, message);
}

absl::Status ReaderError(const absl::Status& s, const ImportLimits& limits) {
  auto metadata = errors::GetMetadata(s);
  if (s.code() == absl::StatusCode::kResourceExhausted) {
    const bool rows = errors::Reason(s) == csv::kReasonCsvTooManyRecords;
    return errors::Error(absl::StatusCode::kResourceExhausted, "IMPORT_TOO_LARGE",
                         rows ? absl::StrCat("the file has more than ", limits.max_rows,
                                             " data rows (max_rows); split it")
                              : absl::StrCat("the file is larger than ", limits.max_bytes,
                                             " bytes (max_bytes); split it"),
                         {{"max_bytes", absl::StrCat(limits.max_bytes)},
                          {"max_rows", absl::StrCat(limits.max_rows)},
                          {"limit", rows ? "max_rows" : "max_bytes"},
                          {"line", metadata["line"]}});
  }
  metadata["csv_reason"] = errors::Reason(s);
  return errors::Error(absl::StatusCode::kInvalidArgument, "IMPORT_FILE_INVALID",
                       absl::StrCat("the file is not readable CSV: ", s.message()), metadata);
}

// After Read() returned false without a parse failure: whether the stream was cut rather
// than ended by the client. gRPC does not promise that a cancelled call already reads as
// cancelled when its failed Read() returns, so a stream whose bytes end inside a record (the
// one case where the answer changes what is imported) is watched a little longer.
bool StreamWasCut(const grpc::ServerContext& context, const csv::Reader& csv) {
  if (context.IsCancelled()) return true;
  if (!csv.has_partial_record()) return false;
  const absl::Time deadline = absl::Now() + absl::Milliseconds(250);
  while (absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
    if (context.IsCancelled()) return true;
  }
  return false;
}

// Writes an import's batches one at a time on a thread of its own, so that the caller reads
// and prepares the next batch meanwhile. The caller collects each batch's result before
// handing over the next; the destructor waits for a batch still being written.
class BatchWriter {
 public:
  using WriteFn =
      std::function<absl::Status(const std::vector<app::PreparedRow>&, app::BatchResult&)>;

  explicit BatchWriter(WriteFn write) : write_(std::move(write)) {}
  ~BatchWriter() {
    if (thread_.joinable()) thread_.join();
  }
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Waits for the batch being written; its status, and its result in `out`.
  absl::Status Collect(app::BatchResult& out) {
    if (!thread_.joinable()) return absl::OkStatus();
    thread_.join();
    out = std::move(result_);
    return status_;
  }

  // Starts writing `rows` (after Collect).
  void Start(std::vector<app::PreparedRow> rows) {
    rows_ = std::move(rows);
    thread_ = threads::Start("import-writer", [this] { status_ = write_(rows_, result_); });
  }

 private:
  WriteFn write_;
  std::vector<app::PreparedRow> rows_;
  app::BatchResult result_;
  absl::Status status_;
  std::thread thread_;
};

// Adds a batch's counts and row errors to the response (row errors up to `max_row_errors`).
void AddToResponse(app::BatchResult& result, int max_row_errors,
                   v1::ImportCustomersResponse* response) {
  response->set_created_count(response->created_count() + result.created);
  response->set_updated_count(response->updated_count() + result.updated);
  response->set_skipped_count(response->skipped_count() + result.skipped);
  response->set_unchanged_count(response->unchanged_count() + result.unchanged);
  response->set_failed_count(response->failed_count() + result.failed);
  for (auto& e : result.errors) {
    if (response->row_errors_size() >= max_row_errors) {
      response->set_row_errors_truncated(true);
      break;
    }
    *response->add_row_errors() = std::move(e);
  }
}

// The stream's first message: its header, checked.
absl::StatusOr<v1::ImportCustomersHeader> ReadHeader(
    grpc::ServerContext& context, grpc::ServerReader<v1::ImportCustomersRequest>& reader) {
  v1::ImportCustomersRequest message;
  if (!reader.Read(&message)) {
    if (auto s = server::TakeReadParseFailure(context); !s.ok()) return s;
  }
  if (!message.has_header()) {
    return InvalidArgument("IMPORT_HEADER_MISSING",
                           "the first message of the stream must carry the header");
  }
  errors::FieldErrors bad;
  if (auto s = domain::ValidateRequestId(message.header().request_id()); !s.ok()) {
    bad.Add("header.request_id", std::string(s.message()));
  }
  if (!v1::ImportDuplicatePolicy_IsValid(message.header().on_duplicate())) {
    bad.Add("header.on_duplicate", "unknown policy");
  }
  if (!bad.empty()) return bad.ToStatus();
  return message.header();
}

// Who writes an import's batches. No idempotency key: a row finds what an earlier import of
// it wrote by its fingerprint (a replayed import updates nothing twice).
store::WriteOptions BatchWriteOptions(const server::RequestContext& rc,
                                      const v1::ImportCustomersHeader& options) {
  store::WriteOptions o;
  o.principal = rc.principal;
  o.request_id = options.request_id().empty() ? rc.request_id : options.request_id();
  return o;
}

// What an import call works with besides its own state.
struct ImportDeps {
  store::DirectoryStore& store;
  ids::IdGenerator& ids;
  const phone::PhoneNormalizer& phones;
  const Clock& clock;
  const ImportLimits& limits;
};

// One import call after its header: records read from the stream's chunks into batches,
// each prepared while the previous one is written (BatchWriter), and the response.
class ImportCall {
 public:
  ImportCall(const ImportDeps& deps, const server::RequestContext& rc,
             const v1::ImportCustomersHeader& options, v1::TenantSettings settings,
             absl::TimeZone tz, std::unique_ptr<csv::Reader> csv,
             v1::ImportCustomersResponse* response)
      : deps_(deps),
        options_(options),
        settings_(std::move(settings)),
        tz_(tz),
        csv_(std::move(csv)),
        response_(response),
        batches_(deps.store, deps.ids, rc.tenant_id, BatchWriteOptions(rc, options), options_),
        writer_([this](const std::vector<app::PreparedRow>& rows, app::BatchResult& result) {
          return batches_.Write(*mapping_, rows, result);
        }) {
    response_->Clear();
    response_->set_dry_run(options.dry_run());
  }

  // Reads the rest of the stream and applies its rows.
  absl::Status Run(grpc::ServerContext& context,
                   grpc::ServerReader<v1::ImportCustomersRequest>& reader) {
    v1::ImportCustomersRequest message;
    bool cut = false;
    while (reader.Read(&message)) {
      if (context.IsCancelled()) {
        cut = true;
        break;
      }
      if (message.has_header()) {
        return InvalidArgument("INVALID_ARGUMENT",
                               "only the first message of the stream carries a header");
      }
      if (auto s = csv_->Feed(message.chunk()); !s.ok()) return ReaderError(s, deps_.limits);
      if (auto s = Drain(); !s.ok()) return s;
    }
    // Read() returned false: the client half-closed (the file is complete), a message failed
    // to parse (protobuf refused its UTF-8), or the call was cancelled, timed out, lost its
    // connection or was ended by a shutdown. A stream that did not end normally may hold a
    // truncated record after its last line end ("Budi,0812-3456-78" of
    // "Budi,0812-3456-7890"): only the records that ended with a line end are complete, so
    // the reader is not finished.
    absl::Status unparsable = server::TakeReadParseFailure(context);
    if (!unparsable.ok() || cut || StreamWasCut(context, *csv_)) return EndCut(unparsable);
    csv_->Finish();
    if (auto s = Drain(); !s.ok()) return s;
    if (!mapping_.has_value()) {
      return InvalidArgument("IMPORT_FILE_INVALID", "the file has no header row");
    }
    if (auto s = Flush(); !s.ok()) return s;
    return Collect();
  }

 private:
  // A stream that did not end normally: the complete rows read are applied, as a cut between
  // two batches would leave them; then the call fails.
  absl::Status EndCut(const absl::Status& unparsable) {
    const bool dropped_tail = csv_->has_partial_record();
    absl::Status applied = mapping_.has_value() && !options_.dry_run() ? Flush() : absl::OkStatus();
    if (applied.ok()) applied = Collect();
    log::Info(unparsable.ok() ? "import: stream cut before its end"
                              : "import: stream ended by an unparsable message",
              {{"rows_read", absl::StrCat(response_->row_count())},
               {"unterminated_record_dropped", dropped_tail ? "true" : "false"},
               {"applied", applied.ok() ? "true" : std::string(applied.message())}});
    if (!applied.ok()) return applied;
    if (!unparsable.ok()) return unparsable;
    return absl::CancelledError(
        "the stream was cut: its complete rows were applied, an unterminated last record was "
        "not");
  }

  // Takes the complete records read so far: the header row maps the columns, data rows fill
  // the batch, and a full batch is handed over (a dry run keeps one batch to the end).
  absl::Status Drain() {
    while (true) {
      absl::StatusOr<bool> next = csv_->Next(&record_);
      if (!next.ok()) return ReaderError(next.status(), deps_.limits);
      if (!*next) return absl::OkStatus();
      if (!mapping_.has_value()) {
        auto mapped = app::MapColumns(record_.fields, options_);
        if (!mapped.ok()) return mapped.status();
        mapping_ = *std::move(mapped);
        preparer_.emplace(*mapping_, settings_, tz_, deps_.phones);
        for (size_t i = 0; i < mapping_->fields.size(); ++i) {
          auto* m = response_->add_applied_column_mappings();
          m->set_column(mapping_->headers[i]);
          m->set_field(mapping_->fields[i]);
        }
        continue;
      }
      if (record_.IsBlank()) continue;
      response_->set_row_count(response_->row_count() + 1);
      if (batch_.size() <= batch_size_) batch_.emplace_back();
      batch_[batch_size_].line = record_.line;
      batch_[batch_size_].fields.swap(record_.fields);
      ++batch_size_;
      if (!options_.dry_run() && batch_size_ >= static_cast<size_t>(deps_.limits.batch_rows)) {
        if (auto s = Flush(); !s.ok()) return s;
      }
    }
  }

  // Prepares the batch read so far and hands it to the writer once the previous one is done.
  absl::Status Flush() {
    if (batch_size_ == 0) return Collect();
    std::vector<app::PreparedRow> prepared;
    prepared.reserve(batch_size_);
    const absl::Time now = deps_.clock.Now();
    for (size_t i = 0; i < batch_size_; ++i) {
      prepared.push_back(preparer_->Prepare(batch_[i], now));
    }
    batch_size_ = 0;
    if (absl::Status s = Collect(); !s.ok()) return s;
    writer_.Start(std::move(prepared));
    return absl::OkStatus();
  }

  // Waits for the batch being written and adds what it did to the response.
  absl::Status Collect() {
    app::BatchResult result;
    if (absl::Status s = writer_.Collect(result); !s.ok()) return s;
    AddToResponse(result, deps_.limits.max_row_errors, response_);
    return absl::OkStatus();
  }

  const ImportDeps deps_;
  const v1::ImportCustomersHeader options_;
  const v1::TenantSettings settings_;
  const absl::TimeZone tz_;
  std::unique_ptr<csv::Reader> csv_;
  v1::ImportCustomersResponse* response_;
  csv::Record record_;
  std::optional<app::Mapping> mapping_;       // once the header row is read
  std::optional<app::RowPreparer> preparer_;  // once the header row is mapped
  std::vector<app::Row> batch_;
  size_t batch_size_ = 0;  // rows in `batch_` in use (their vectors are reused)
  app::ImportBatches batches_;
  // Last: destroyed first, so that a batch still being written finishes while the state it
  // reads (the mapping, the options) is alive.
  BatchWriter writer_;
};

}  // namespace

grpc::Status CustomerImporter::Import(grpc::ServerContext* context,
                                      grpc::ServerReader<v1::ImportCustomersRequest>* reader,
                                      v1::ImportCustomersResponse* response) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CustomerService/ImportCustomers");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());
  auto options = ReadHeader(*context, *reader);
  if (!options.ok()) return ToGrpc(options.status());
  auto settings = app::SettingsForImport(store_, rc->tenant_id, *options);
  if (!settings.ok()) return ToGrpc(settings.status());
  auto tz = app::TenantZone(*settings);
  if (!tz.ok()) return ToGrpc(tz.status());
  csv::ReaderOptions reader_options;
  reader_options.detect_delimiter = true;
  reader_options.max_input_bytes = limits_.max_bytes;
  reader_options.max_records = limits_.max_rows + 1;
  auto csv = csv::Reader::Create(reader_options);
  if (!csv.ok()) return ToGrpc(csv.status());

  ImportCall call(ImportDeps{store_, ids_, phones_, clock_, limits_}, *rc, *options,
                  *std::move(settings), *tz, *std::move(csv), response);
  return ToGrpc(call.Run(*context, *reader));
}

}  // namespace kelola::customer::api
