#pragma once

// ExportReport (R4): one of the tenant-wide reports rendered as a CSV or PDF file and handed
// out as a stream of ExportReportResponse messages. The figures come from the Reports port,
// i.e. exactly what the RPCs answer; paginated reports are read whole, one page of 500 rows
// at a time, so memory stays bounded by a page plus the writer's 64 KiB buffer.
//
// The stream: the first message carries content_type, file_name and data_as_of_time; every
// message's chunk is at most 64 KiB; concatenating the chunks gives the file; the last
// message has an empty chunk and row_count (data rows: customers, buckets, figures; never
// the header or a totals row).
//
// Errors: INVALID_ARGUMENT (reason INVALID_ARGUMENT, a BadRequest naming every field) for no
// report, an unspecified format, an unsupported language_code, or a page_size/page_token
// set in an embedded paginated request; RESOURCE_EXHAUSTED EXPORT_LIMIT_REACHED (metadata
// max_concurrent) when the tenant already runs max_concurrent_per_tenant exports; the
// port's errors as they are; DEADLINE_EXCEEDED between pages once `deadline` has passed;
// and the first non-OK status of `write` (e.g. CANCELLED when the client went away), which
// stops the export. Port errors of the first page come before any message is written.

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "kelola/report/v1/report_service.pb.h"
#include "libs/clock/clock.h"
#include "report-svc/app/reports.h"

namespace kelola::report::app {

// What the export needs to know about the tenant (customer-svc TenantSettings).
struct ExportContext {
  // ISO 4217 code of the tenant's currency; used for amounts that carry none.
  std::string currency = "IDR";
  absl::TimeZone time_zone;
  // IANA name of time_zone, e.g. "Asia/Jakarta", as the PDF states it.
  std::string time_zone_name = "Asia/Jakarta";
  // The tenant's language ("id", "th" or "en"), used when the request names none.
  std::string language_code = "id";
};

struct ReportExportOptions {
  // Exports running at once per tenant; more are refused with EXPORT_LIMIT_REACHED.
  int max_concurrent_per_tenant = 2;
  // Rows asked of the port per page of a paginated report (the contract's maximum).
  int page_size = 500;
  // Bytes per message chunk; at most 64 KiB (the contract's limit).
  size_t chunk_bytes = 64 * 1024;
};

class ReportExporter {
 public:
  using WriteFn = std::function<absl::Status(const v1::ExportReportResponse&)>;

  // `reports` and `clock` must outlive the exporter.
  ReportExporter(Reports& reports, const Clock& clock, ReportExportOptions options = {});

  // Exports `request` for `tenant_id`, handing each message to `write` in order (from the
  // calling thread). Thread-safe: several exports may run at once.
  absl::Status Export(const std::string& tenant_id, const ExportContext& ctx,
                      const v1::ExportReportRequest& request, absl::Time deadline,
                      const WriteFn& write);

 private:
  // Per-tenant count of running exports.
  class Slots {
   public:
    explicit Slots(int max) : max_(max) {}
    bool TryAcquire(const std::string& tenant_id);
    void Release(const std::string& tenant_id);

   private:
    const int max_;
    absl::Mutex mu_;
    absl::flat_hash_map<std::string, int> running_ ABSL_GUARDED_BY(mu_);
  };

  Reports& reports_;
  const Clock& clock_;
  const ReportExportOptions options_;
  Slots slots_;
};

}  // namespace kelola::report::app
