#include "customer-svc/api/customer_import.h"

#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "customer-svc/api/customer_writes.h"
#include "customer-svc/api/handler_support.h"
#include "customer-svc/api/import_applier.h"
#include "customer-svc/api/import_rows.h"
#include "customer-svc/domain/customer_rules.h"
#include "libs/csv/reader.h"
#include "libs/errors/errors.h"
#include "libs/log/log.h"
#include "libs/server/request_context.h"
#include "libs/server/request_parsing.h"

namespace kelola::customer::api {
namespace {

using store::DirectoryTx;

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
  using WriteFn = std::function<absl::Status(const std::vector<PreparedRow>&, BatchResult&)>;

  explicit BatchWriter(WriteFn write) : write_(std::move(write)) {}
  ~BatchWriter() {
    if (thread_.joinable()) thread_.join();
  }
  BatchWriter(const BatchWriter&) = delete;
  BatchWriter& operator=(const BatchWriter&) = delete;

  // Waits for the batch being written; its status, and its result in `out`.
  absl::Status Collect(BatchResult& out) {
    if (!thread_.joinable()) return absl::OkStatus();
    thread_.join();
    out = std::move(result_);
    return status_;
  }

  // Starts writing `rows` (after Collect).
  void Start(std::vector<PreparedRow> rows) {
    rows_ = std::move(rows);
    thread_ = std::thread([this] { status_ = write_(rows_, result_); });
  }

 private:
  WriteFn write_;
  std::vector<PreparedRow> rows_;
  BatchResult result_;
  absl::Status status_;
  std::thread thread_;
};

// Adds a batch's counts and row errors to the response (row errors up to `max_row_errors`).
void AddToResponse(BatchResult& result, int max_row_errors, v1::ImportCustomersResponse* response) {
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

  v1::ImportCustomersRequest message;
  if (!reader->Read(&message)) {
    if (auto s = server::TakeReadParseFailure(*context); !s.ok()) return ToGrpc(s);
  }
  if (!message.has_header()) {
    return ToGrpc(InvalidArgument("IMPORT_HEADER_MISSING",
                                  "the first message of the stream must carry the header"));
  }
  const v1::ImportCustomersHeader options = message.header();
  {
    errors::FieldErrors bad;
    if (auto s = domain::ValidateRequestId(options.request_id()); !s.ok()) {
      bad.Add("header.request_id", std::string(s.message()));
    }
    if (!v1::ImportDuplicatePolicy_IsValid(options.on_duplicate())) {
      bad.Add("header.on_duplicate", "unknown policy");
    }
    if (!bad.empty()) return ToGrpc(bad.ToStatus());
  }
  // The tenant's settings, which rows are checked against (phone region, time zone), as
  // the import starts; the default category must exist.
  v1::TenantSettings settings;
  {
    absl::Status s = store_.Read(rc->tenant_id, [&](DirectoryTx& tx) -> absl::Status {
      auto read = tx.Settings();
      if (!read.ok()) return read.status();
      settings = read->settings;
      if (options.default_category_id().empty()) return absl::OkStatus();
      auto found = tx.FindCategory(options.default_category_id());
      if (!found.ok()) return found.status();
      if (!found->has_value()) {
        return NotFound("CATEGORY_NOT_FOUND", "category", "category_id",
                        options.default_category_id());
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return ToGrpc(s);
  }
  auto tz = TenantZone(settings);
  if (!tz.ok()) return ToGrpc(tz.status());

  csv::ReaderOptions reader_options;
  reader_options.detect_delimiter = true;
  reader_options.max_input_bytes = limits_.max_bytes;
  reader_options.max_records = limits_.max_rows + 1;
  auto csv = csv::Reader::Create(reader_options);
  if (!csv.ok()) return ToGrpc(csv.status());

  store::WriteOptions write_options;
  write_options.principal = rc->principal;
  write_options.request_id = options.request_id().empty() ? rc->request_id : options.request_id();
  write_options.own_transaction = true;  // a batch of rows: its own commit

  response->Clear();
  response->set_dry_run(options.dry_run());
  std::optional<Mapping> mapping;
  std::vector<Row> batch;
  size_t batch_size = 0;  // rows in `batch` in use (their vectors are reused)
  csv::Record record;

  std::optional<RowPreparer> preparer;  // once the header row is mapped
  int64_t written_since_refresh = 0;    // rows this import wrote since it last analyzed
  // One batch: its own transaction (rolled back for a dry run), then, when it wrote rows,
  // fresh planner statistics. Runs on the writer's thread.
  BatchWriter writer([&](const std::vector<PreparedRow>& rows, BatchResult& result) {
    absl::Status status = store_.Write(
        rc->tenant_id, write_options,
        [&](DirectoryTx& tx) -> absl::Status {
          if (auto s = ApplyBatch(tx, *mapping, options, ids_, rows, result); !s.ok()) return s;
          if (options.dry_run()) return absl::CancelledError("dry run: rolled back");
          return absl::OkStatus();
        },
        nullptr);
    if (options.dry_run() && absl::IsCancelled(status)) status = absl::OkStatus();
    if (!status.ok() || options.dry_run()) return status;
    written_since_refresh += result.created + result.updated;
    auto refreshed = store_.RefreshStatistics(written_since_refresh);
    if (!refreshed.ok()) {
      log::Warn("import: planner statistics not refreshed",
                {{"error", std::string(refreshed.status().message())}});
    } else if (*refreshed) {
      written_since_refresh = 0;
    }
    return absl::OkStatus();
  });
  // Waits for the batch being written and adds what it did to the response.
  auto collect = [&]() -> absl::Status {
    BatchResult result;
    if (absl::Status s = writer.Collect(result); !s.ok()) return s;
    AddToResponse(result, limits_.max_row_errors, response);
    return absl::OkStatus();
  };
  // Prepares the batch read so far and hands it to the writer once the previous one is done.
  auto flush = [&]() -> absl::Status {
    if (batch_size == 0) return collect();
    std::vector<PreparedRow> prepared;
    prepared.reserve(batch_size);
    const absl::Time now = clock_.Now();
    for (size_t i = 0; i < batch_size; ++i) prepared.push_back(preparer->Prepare(batch[i], now));
    batch_size = 0;
    if (absl::Status s = collect(); !s.ok()) return s;
    writer.Start(std::move(prepared));
    return absl::OkStatus();
  };

  auto drain = [&]() -> absl::Status {
    while (true) {
      absl::StatusOr<bool> next = (*csv)->Next(&record);
      if (!next.ok()) return ReaderError(next.status(), limits_);
      if (!*next) return absl::OkStatus();
      if (!mapping.has_value()) {
        auto mapped = MapColumns(record.fields, options);
        if (!mapped.ok()) return mapped.status();
        mapping = *std::move(mapped);
        preparer.emplace(*mapping, settings, *tz, phones_);
        for (size_t i = 0; i < mapping->fields.size(); ++i) {
          auto* m = response->add_applied_column_mappings();
          m->set_column(mapping->headers[i]);
          m->set_field(mapping->fields[i]);
        }
        continue;
      }
      if (record.IsBlank()) continue;
      response->set_row_count(response->row_count() + 1);
      if (batch.size() <= batch_size) batch.emplace_back();
      batch[batch_size].line = record.line;
      batch[batch_size].fields.swap(record.fields);
      ++batch_size;
      if (!options.dry_run() && batch_size >= static_cast<size_t>(limits_.batch_rows)) {
        if (auto s = flush(); !s.ok()) return s;
      }
    }
  };

  bool cut = false;
  while (reader->Read(&message)) {
    if (context->IsCancelled()) {
      cut = true;
      break;
    }
    if (message.has_header()) {
      return ToGrpc(InvalidArgument("INVALID_ARGUMENT",
                                    "only the first message of the stream carries a header"));
    }
    if (auto s = (*csv)->Feed(message.chunk()); !s.ok()) return ToGrpc(ReaderError(s, limits_));
    if (auto s = drain(); !s.ok()) return ToGrpc(s);
  }
  // Read() returned false: the client half-closed (the file is complete), a message failed
  // to parse (protobuf refused its UTF-8), or the call was cancelled, timed out, lost its
  // connection or was ended by a shutdown. A stream that did not end normally may hold a
  // truncated record after its last line end ("Budi,0812-3456-78" of "Budi,0812-3456-7890"):
  // only the records that ended with a line end are complete, so the reader is not finished.
  absl::Status unparsable = server::TakeReadParseFailure(*context);
  if (!unparsable.ok() || cut || StreamWasCut(*context, **csv)) {
    // The complete rows read are applied, as a cut between two batches would leave them.
    const bool dropped_tail = (*csv)->has_partial_record();
    absl::Status applied = mapping.has_value() && !options.dry_run() ? flush() : absl::OkStatus();
    if (applied.ok()) applied = collect();
    log::Info(unparsable.ok() ? "import: stream cut before its end"
                              : "import: stream ended by an unparsable message",
              {{"rows_read", absl::StrCat(response->row_count())},
               {"unterminated_record_dropped", dropped_tail ? "true" : "false"},
               {"applied", applied.ok() ? "true" : std::string(applied.message())}});
    if (!applied.ok()) return ToGrpc(applied);
    if (!unparsable.ok()) return ToGrpc(unparsable);
    return grpc::Status(grpc::StatusCode::CANCELLED,
                        "the stream was cut: its complete rows were applied, an unterminated "
                        "last record was not");
  }
  (*csv)->Finish();
  if (auto s = drain(); !s.ok()) return ToGrpc(s);
  if (!mapping.has_value()) {
    return ToGrpc(InvalidArgument("IMPORT_FILE_INVALID", "the file has no header row"));
  }
  if (auto s = flush(); !s.ok()) return ToGrpc(s);
  if (auto s = collect(); !s.ok()) return ToGrpc(s);
  return grpc::Status::OK;
}

}  // namespace kelola::customer::api
