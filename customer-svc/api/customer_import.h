#pragma once

// CustomerService.ImportCustomers (C14): a client-streaming CSV import. See the RPC's
// comment in customer_service.proto and docs/decisions/customer-import-export.md.
//
// Rows are read as they arrive and applied in batches of `batch_rows`, one transaction per
// batch and one SAVEPOINT per row, so that a bad row rolls back alone and the good rows of
// the batch commit together (one fsync per batch, not per row). Each batch is read and
// checked without the database (import_rows.h) while the previous one is applied
// (import_applier.h) on a thread of its own (BatchWriter, customer_import.cc). A dry run reads the
// whole file (bounded by the limits) and applies it in one transaction that is rolled back.

#include <cstdint>

#include "customer-svc/store/directory_store.h"
#include "grpcpp/grpcpp.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "libs/clock/clock.h"
#include "libs/ids/ids.h"
#include "libs/phone/phone_normalizer.h"

namespace kelola::customer::api {

struct ImportLimits {
  int64_t max_bytes = 20 * 1024 * 1024;  // the file, BOM included
  int64_t max_rows = 100000;             // data rows, header not counted
  int batch_rows = 5000;                 // rows per transaction (see the decision record)
  int max_row_errors = 1000;             // reported in the response
};

class CustomerImporter {
 public:
  CustomerImporter(store::DirectoryStore& store, ids::IdGenerator& ids,
                   const phone::PhoneNormalizer& phones, const Clock& clock,
                   ImportLimits limits = {})
      : store_(store), ids_(ids), phones_(phones), clock_(clock), limits_(limits) {}

  grpc::Status Import(grpc::ServerContext* context,
                      grpc::ServerReader<v1::ImportCustomersRequest>* reader,
                      v1::ImportCustomersResponse* response);

 private:
  store::DirectoryStore& store_;
  ids::IdGenerator& ids_;
  const phone::PhoneNormalizer& phones_;
  const Clock& clock_;
  const ImportLimits limits_;
};

}  // namespace kelola::customer::api
