#include "customer-svc/api/customer_export.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "customer-svc/api/handler_support.h"
#include "customer-svc/app/customer_columns.h"
#include "libs/errors/errors.h"
#include "libs/server/request_context.h"

namespace kelola::customer::api {
namespace {

// Hands the file to the client: metadata on the first message, the row count on the last.
class ChunkSink final : public app::ExportSink {
 public:
  ChunkSink(grpc::ServerContext* context, grpc::ServerWriter<v1::ExportCustomersResponse>* writer)
      : context_(context), writer_(writer) {}

  absl::Status Open(absl::string_view content_type, absl::string_view file_name) override {
    content_type_ = std::string(content_type);
    file_name_ = std::string(file_name);
    return absl::OkStatus();
  }

  absl::Status Write(absl::string_view chunk) override {
    v1::ExportCustomersResponse message;
    message.set_chunk(std::string(chunk));
    if (first_) {
      message.set_content_type(content_type_);
      message.set_file_name(file_name_);
      first_ = false;
    }
    if (!writer_->Write(message)) return absl::CancelledError("the client went away");
    return absl::OkStatus();
  }

  absl::Status Close(int64_t rows) override {
    v1::ExportCustomersResponse message;
    if (first_) {
      message.set_content_type(content_type_);
      message.set_file_name(file_name_);
    }
    message.set_row_count(rows);
    if (!writer_->Write(message)) return absl::CancelledError("the client went away");
    return absl::OkStatus();
  }

  bool Cancelled() override { return context_->IsCancelled(); }

 private:
  grpc::ServerContext* context_;
  grpc::ServerWriter<v1::ExportCustomersResponse>* writer_;
  std::string content_type_;
  std::string file_name_;
  bool first_ = true;
};

}  // namespace

grpc::Status CustomerExporter::Export(grpc::ServerContext* context,
                                      const v1::ExportCustomersRequest* request,
                                      grpc::ServerWriter<v1::ExportCustomersResponse>* writer) {
  if (absl::Status denied =
          server::Authorize(*context, "/kelola.customer.v1.CustomerService/ExportCustomers");
      !denied.ok()) {
    return ToGrpc(denied);
  }
  auto rc = server::ReadRequestContext(*context);
  if (!rc.ok()) return ToGrpc(rc.status());

  // The request.
  errors::FieldErrors bad;
  if (request->format() != v1::EXPORT_FORMAT_CSV && request->format() != v1::EXPORT_FORMAT_PDF) {
    bad.Add("format", "CSV or PDF");
  }
  std::vector<v1::CustomerColumn> columns;
  for (int c : request->columns()) columns.push_back(static_cast<v1::CustomerColumn>(c));
  absl::flat_hash_set<int> seen;
  for (size_t i = 0; i < columns.size(); ++i) {
    if (app::FindColumn(columns[i]) == nullptr) {
      bad.Add(absl::StrCat("columns[", i, "]"), "not an exportable column");
    } else if (!seen.insert(columns[i]).second) {
      bad.Add(absl::StrCat("columns[", i, "]"), "repeats an earlier column");
    }
  }
  const std::string& lang = request->language_code();
  if (!lang.empty() && lang != "id" && lang != "th" && lang != "en") {
    bad.Add("language_code", "\"id\", \"th\" or \"en\"");
  }
  if (!bad.empty()) return ToGrpc(bad.ToStatus());

  app::ExportCommand command;
  command.format = request->format();
  command.columns = std::move(columns);
  command.language = lang;
  command.filter = request->filter();
  command.order_by = request->order_by();
  command.show_archived = request->show_archived();
  command.consenting_only = request->consenting_only();
  command.plain_amounts = request->plain_amounts();
  ChunkSink sink(context, writer);
  return ToGrpc(export_.Run(rc->tenant_id, command, sink));
}

}  // namespace kelola::customer::api
