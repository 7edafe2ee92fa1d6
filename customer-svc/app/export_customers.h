#pragma once

// ExportCustomers (C15) as a use case: the customers of a ListCustomers query written as a
// CSV file for Excel or a PDF table, in the tenant's language, time zone and currency. The
// list is read in pages (QueryCustomers::ExportPage: one short bulk read per page) and each
// page is written out before the next is read, so memory stays bounded by one page and the
// writer's buffer whatever the number of customers. See docs/decisions/customer-import-export.md.

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "customer-svc/app/query_customers.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "libs/clock/clock.h"

namespace kelola::customer::app {

struct ExportLimits {
  int page_size = 500;            // customers per read transaction (List's maximum)
  size_t chunk_bytes = 64 << 10;  // bytes per chunk handed to the sink
};

// Where the file goes, chunk by chunk.
class ExportSink {
 public:
  virtual ~ExportSink() = default;
  // Once, before the first chunk: what the file is.
  virtual absl::Status Open(absl::string_view content_type, absl::string_view file_name) = 0;
  virtual absl::Status Write(absl::string_view chunk) = 0;
  // Once, after the last chunk, with the number of customers written.
  virtual absl::Status Close(int64_t rows) = 0;
  // Whether the reader has gone: the export stops between pages (CANCELLED).
  virtual bool Cancelled() = 0;
};

// The request, its shape already checked (format CSV or PDF, known columns without repeats,
// language empty, "id", "th" or "en").
struct ExportCommand {
  v1::ExportFormat format = v1::EXPORT_FORMAT_CSV;
  std::vector<v1::CustomerColumn> columns;  // empty: DefaultExportColumns()
  std::string language;                     // empty: the tenant's
  std::string filter;
  std::string order_by;
  bool show_archived = false;
  bool consenting_only = false;
  bool plain_amounts = false;  // CSV only: amounts as 1234567.00 rather than formatted
};

// The columns of an export that names none.
const std::vector<v1::CustomerColumn>& DefaultExportColumns();

class ExportCustomers {
 public:
  ExportCustomers(store::DirectoryStore& store, const store::CustomerQuery& query,
                  const Clock& clock, ExportLimits limits = {})
      : queries_(store, query), store_(store), clock_(clock), limits_(limits) {}

  // Errors: INVALID_FILTER, INVALID_ORDER_BY, CANCELLED, and the sink's.
  absl::Status Run(absl::string_view tenant, const ExportCommand& command, ExportSink& sink) const;

 private:
  const QueryCustomers queries_;
  store::DirectoryStore& store_;
  const Clock& clock_;
  const ExportLimits limits_;
};

}  // namespace kelola::customer::app
