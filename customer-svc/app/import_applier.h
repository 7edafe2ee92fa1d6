#pragma once

// An import's prepared rows meet the database (C14): each row creates a
// customer, updates the one it matches (by id, by an earlier import of the same row, or as a
// duplicate by phone or e-mail), or is reported as skipped or failed.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "customer-svc/app/import_rows.h"
#include "customer-svc/store/directory_store.h"
#include "kelola/customer/v1/customer_service.pb.h"
#include "libs/ids/ids.h"

namespace kelola::customer::app {

// What one batch did.
struct BatchResult {
  int created = 0, updated = 0, skipped = 0, unchanged = 0, failed = 0;
  std::vector<v1::ImportRowError> errors;
};

// Which rows get a savepoint of their own. A savepoint is what lets a row fail alone, but on
// SQLite it also copies every page the row touches into the statement journal: an import of
// new customers ran 1.18x as fast without it (docs/decisions/customer-import-export.md).
enum class RowSavepoints {
  // Every row: any row's problem is recorded and the batch goes on.
  kEveryRow,
  // All rows but those that create a plain new customer (no id of their own, no recorded
  // fingerprint, no phone or e-mail anyone may hold, room under the plan limit), whose
  // checks all run before their first statement. Should one of them fail all the same, or
  // a statement of theirs (a unique index under a concurrent writer, the database), the batch
  // returns an error for which NeedsRowByRow holds; run it again with kEveryRow.
  kAllButPlainNewRows,
};

// Applies `rows` in `tx`, in order. A row's problem is a row error in `result`; other errors
// are returned (the caller's transaction then rolls back). `rows` are left as they are, so a
// retried transaction applies them again into a cleared `result`.
absl::Status ApplyBatch(store::DirectoryTx& tx, const Mapping& mapping,
                        const v1::ImportCustomersHeader& options, ids::IdGenerator& ids,
                        RowSavepoints savepoints, const std::vector<PreparedRow>& rows,
                        BatchResult& result);

// Whether ApplyBatch failed because a row without its savepoint did: the batch's transaction
// must roll back and the batch run again with RowSavepoints::kEveryRow.
bool NeedsRowByRow(const absl::Status& status);

// The tenant's settings, which an import's rows are checked against (phone region, time
// zone), as the import starts. NOT_FOUND CATEGORY_NOT_FOUND when the header names a default
// category that does not exist.
absl::StatusOr<v1::TenantSettings> SettingsForImport(store::DirectoryStore& store,
                                                     absl::string_view tenant,
                                                     const v1::ImportCustomersHeader& options);

// Writes one import's batches, each in a transaction of its own (rolled back for a dry run):
// ApplyBatch without savepoints for plain new rows, again row by row when one of those
// failed; then, when rows were written, fresh planner statistics.
class ImportBatches {
 public:
  // `options.bulk` is set: a batch does not share its commit, and commits as a bulk write.
  ImportBatches(store::DirectoryStore& store, ids::IdGenerator& ids, absl::string_view tenant,
                store::WriteOptions options, const v1::ImportCustomersHeader& header);
  // Ends the run of bulk writes if a batch was written (DirectoryStore::BulkWritesEnded),
  // however the import ended.
  ~ImportBatches();
  ImportBatches(const ImportBatches&) = delete;
  ImportBatches& operator=(const ImportBatches&) = delete;

  // Applies `rows` (`result` cleared by the caller). Returns what ApplyBatch returns beyond
  // row errors; OK for a dry run that would have written.
  absl::Status Write(const Mapping& mapping, const std::vector<PreparedRow>& rows,
                     BatchResult& result);

 private:
  store::DirectoryStore& store_;
  ids::IdGenerator& ids_;
  const std::string tenant_;
  store::WriteOptions options_;
  const v1::ImportCustomersHeader& header_;
  int64_t written_since_refresh_ = 0;  // rows written since the import last analyzed
  bool wrote_ = false;                 // a batch committed rows
};

}  // namespace kelola::customer::app
