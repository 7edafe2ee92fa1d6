#include "customer-svc/store/customer_operations.h"

#include "libs/time/time.h"

namespace kelola::customer::store {
namespace {

constexpr int64_t kPending = v1::MERGE_OPERATION_STATE_PENDING;
constexpr int64_t kLedgerMoved = v1::MERGE_OPERATION_STATE_LEDGER_MOVED;

absl::StatusOr<MergeOperationRecord> RecordFromRow(const db::Row& row) {
  MergeOperationRecord r;
  if (!r.operation.ParseFromString(row.GetBytes(0))) {
    return absl::InternalError("corrupt merge operation row");
  }
  time::ClampStoredTimestamps(&r.operation);
  r.previous_source_state = static_cast<v1::CustomerState>(row.GetInt(1));
  return r;
}

}  // namespace

OperationRecords::OperationRecords(DirectoryTx& tx)
    : tx_(tx.transaction()), tenant_(tx.tenant_id()) {}

absl::Status OperationRecords::InsertMerge(const MergeOperationRecord& r) {
  const v1::MergeOperation& op = r.operation;
  return tx_
      .Execute(
          "INSERT INTO merge_operations (tenant_id, merge_operation_id, source_customer_id, "
          "target_customer_id, state, previous_source_state, create_time_micros, "
          "update_time_micros, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
          {tenant_, op.merge_operation_id(), op.source_customer_id(), op.target_customer_id(),
           static_cast<int64_t>(op.state()), static_cast<int64_t>(r.previous_source_state),
           time::ToUnixMicros(op.create_time()), time::ToUnixMicros(op.update_time()),
           db::Bytes{op.SerializeAsString()}})
      .status();
}

absl::StatusOr<std::optional<MergeOperationRecord>> OperationRecords::FindMerge(
    const std::string& id) {
  auto rows = tx_.Query(
      "SELECT record, previous_source_state FROM merge_operations WHERE tenant_id = ? AND "
      "merge_operation_id = ?",
      {tenant_, id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<MergeOperationRecord>();
  auto r = RecordFromRow((*rows)[0]);
  if (!r.ok()) return r.status();
  return std::optional<MergeOperationRecord>(*std::move(r));
}

absl::StatusOr<bool> OperationRecords::AdvanceMerge(v1::MergeOperationState from,
                                                    const v1::MergeOperation& op) {
  auto n = tx_.Execute(
      "UPDATE merge_operations SET state = ?, update_time_micros = ?, record = ? WHERE "
      "tenant_id = ? AND merge_operation_id = ? AND state = ?",
      {static_cast<int64_t>(op.state()), time::ToUnixMicros(op.update_time()),
       db::Bytes{op.SerializeAsString()}, tenant_, op.merge_operation_id(),
       static_cast<int64_t>(from)});
  if (!n.ok()) return n.status();
  return *n == 1;
}

absl::StatusOr<bool> OperationRecords::HasOpenMergeInto(const std::string& customer_id) {
  auto rows = tx_.Query(
      "SELECT 1 FROM merge_operations WHERE tenant_id = ? AND target_customer_id = ? AND state "
      "IN (?, ?) LIMIT 1",
      {tenant_, customer_id, kPending, kLedgerMoved});
  if (!rows.ok()) return rows.status();
  return !rows->empty();
}

absl::StatusOr<std::vector<v1::MergeOperation>> OperationRecords::MergesOf(
    const std::string& customer_id) {
  auto rows = tx_.Query(
      "SELECT record, previous_source_state FROM merge_operations WHERE tenant_id = ? AND "
      "(source_customer_id = ? OR target_customer_id = ?) ORDER BY create_time_micros, "
      "merge_operation_id",
      {tenant_, customer_id, customer_id});
  if (!rows.ok()) return rows.status();
  std::vector<v1::MergeOperation> out;
  for (const auto& row : *rows) {
    auto r = RecordFromRow(row);
    if (!r.ok()) return r.status();
    out.push_back(std::move(r->operation));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> OperationRecords::CustomersMergedInto(
    const std::string& customer_id) {
  auto rows = tx_.Query(
      "SELECT customer_id FROM customers WHERE tenant_id = ? AND merged_into = ? AND state = ? "
      "ORDER BY customer_id",
      {tenant_, customer_id, static_cast<int64_t>(v1::CUSTOMER_STATE_MERGED)});
  if (!rows.ok()) return rows.status();
  std::vector<std::string> out;
  for (const auto& row : *rows) out.push_back(row.GetText(0));
  return out;
}

absl::StatusOr<std::optional<std::string>> OperationRecords::PendingDeleteSeal(
    const std::string& customer_id) {
  auto rows =
      tx_.Query("SELECT seal_id FROM pending_deletes WHERE tenant_id = ? AND customer_id = ?",
                {tenant_, customer_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<std::string>();
  return std::optional<std::string>((*rows)[0].GetText(0));
}

absl::Status OperationRecords::PutPendingDelete(const std::string& customer_id,
                                                const std::string& seal_id, absl::Time now) {
  return tx_
      .Execute(
          "INSERT INTO pending_deletes (tenant_id, customer_id, seal_id, create_time_micros) "
          "VALUES (?, ?, ?, ?)",
          {tenant_, customer_id, seal_id, absl::ToUnixMicros(now)})
      .status();
}

absl::StatusOr<bool> OperationRecords::RemovePendingDelete(const std::string& customer_id,
                                                           const std::string& seal_id) {
  auto n = tx_.Execute(
      "DELETE FROM pending_deletes WHERE tenant_id = ? AND customer_id = ? AND seal_id = ?",
      {tenant_, customer_id, seal_id});
  if (!n.ok()) return n.status();
  return *n > 0;
}

absl::StatusOr<std::vector<OpenOperation>> OperationRecords::OpenMerges(int limit) {
  auto rows = tx_.Query(
      "SELECT tenant_id, merge_operation_id FROM merge_operations WHERE state IN (?, ?) ORDER BY "
      "update_time_micros LIMIT ?",
      {kPending, kLedgerMoved, static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<OpenOperation> out;
  for (const auto& row : *rows) out.push_back({row.GetText(0), row.GetText(1), ""});
  return out;
}

absl::StatusOr<std::vector<OpenOperation>> OperationRecords::StalePendingDeletes(
    absl::Time created_before, int limit) {
  auto rows = tx_.Query(
      "SELECT tenant_id, seal_id, customer_id FROM pending_deletes WHERE create_time_micros < ? "
      "ORDER BY create_time_micros LIMIT ?",
      {absl::ToUnixMicros(created_before), static_cast<int64_t>(limit)});
  if (!rows.ok()) return rows.status();
  std::vector<OpenOperation> out;
  for (const auto& row : *rows) out.push_back({row.GetText(0), row.GetText(1), row.GetText(2)});
  return out;
}

absl::StatusOr<OpenOperationCounts> OperationRecords::CountOpen(absl::Time now) {
  auto merges = tx_.QueryOne(
      "SELECT COUNT(*), COALESCE(MIN(create_time_micros), 0) FROM merge_operations WHERE state "
      "IN (?, ?)",
      {kPending, kLedgerMoved});
  if (!merges.ok()) return merges.status();
  auto deletes = tx_.QueryOne(
      "SELECT COUNT(*), COALESCE(MIN(create_time_micros), 0) FROM pending_deletes", {});
  if (!deletes.ok()) return deletes.status();
  OpenOperationCounts out;
  out.open_merges = merges->GetInt(0);
  out.pending_deletes = deletes->GetInt(0);
  int64_t oldest = 0;
  for (const db::Row* row : {&*merges, &*deletes}) {
    if (row->GetInt(0) > 0 && (oldest == 0 || row->GetInt(1) < oldest)) oldest = row->GetInt(1);
  }
  if (oldest > 0) out.oldest_age = now - absl::FromUnixMicros(oldest);
  return out;
}

}  // namespace kelola::customer::store
