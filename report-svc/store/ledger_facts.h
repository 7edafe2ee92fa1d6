#pragma once

// The ledger facts of the tenant-wide reports (R2, R3, R5, R6): every customer sale as it
// stands (report_sales), every payment (report_payments) and every change of a sale's
// outstanding amount dated when it took effect (report_receivable_changes, for receivables
// over time). Written by the summary card projection inside the same transaction and under
// the same per-customer version guard (store/summary_cards.cc), so cards and reports move
// together and replays change nothing.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "libs/db/database.h"
#include "libs/db/migrations.h"
#include "report-svc/domain/summary_card.h"

namespace kelola::report::store {

// Creates the fact tables, retires card_open_sales (open sales are the report_sales rows
// with an outstanding amount) and re-reads the ledger's stream from the start so that the
// facts of existing history are filled in.
db::Migration LedgerFactsMigration(int version);

// The next row numbers of the fact tables within one transaction: each counter is read
// from report_row_counters once per tenant and table, counted on in memory, and written back
// by Save() before the transaction commits (batches are applied one at a time).
class RowNumbers {
 public:
  absl::StatusOr<int64_t> Next(db::Transaction& tx, const std::string& table,
                               const std::string& tenant_id);
  absl::Status Save(db::Transaction& tx);

 private:
  std::map<std::pair<std::string, std::string>, int64_t> next_;
};

// The sales a batch touches (row number and outstanding amount), read once up front and
// kept up to date as the batch writes them.
class SaleOutstanding {
 public:
  struct Known {
    int64_t row_no = 0;
    int64_t outstanding = 0;
  };
  // Reads every stored sale the changes name.
  absl::Status Load(db::Transaction& tx, const std::string& tenant_id,
                    const std::vector<const domain::CardChange*>& changes);
  // The stored sale; nullopt when the sale is not stored (yet).
  std::optional<Known> Get(const std::string& tenant_id, const std::string& sale_id) const;
  void Set(const std::string& tenant_id, const std::string& sale_id, Known known);

 private:
  std::map<std::pair<std::string, std::string>, Known> known_;
};

// Stores what `change` (already known to be newer than the card) says of sales and payments.
// Every row written carries `change_no` (the event's sequence), and new sales and payments a
// row number dense per tenant, so that store/fact_index.h can follow the tables.
absl::Status SaveLedgerFacts(db::Transaction& tx, const std::string& tenant_id,
                             const domain::CardChange& change, int64_t change_no,
                             RowNumbers& numbers, SaleOutstanding& sales);

}  // namespace kelola::report::store
