#include "libs/idempotency/idempotency.h"

#include <cstdint>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace kelola::idempotency {
namespace {

constexpr char kBytesPrefix[] = "bytes:";

std::string DeterministicBytes(const google::protobuf::Message& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  return bytes;
}

std::string HashOf(const std::string& bytes) {
  // Two 64-bit FNV-1a hashes with different offsets: 128 bits, stable across builds.
  // (customer-svc's stored hashes are of this form: changing it would refuse their replays.)
  uint64_t a = 14695981039346656037ULL, b = 0x84222325cbf29ce4ULL;
  for (unsigned char c : bytes) {
    a = (a ^ c) * 1099511628211ULL;
    b = (b ^ c) * 0x100000001b3ULL;
    b ^= b >> 29;
  }
  return absl::StrCat(absl::Hex(a, absl::kZeroPad16), absl::Hex(b, absl::kZeroPad16),
                      absl::Hex(bytes.size()));
}

}  // namespace

std::string CreateTableSql() {
  return R"sql(
CREATE TABLE idempotency_keys (
  tenant_id TEXT NOT NULL,
  scope TEXT NOT NULL,
  request_id TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response BLOB NOT NULL,
  create_time_micros BIGINT NOT NULL,
  subject_id TEXT,
  PRIMARY KEY (tenant_id, scope, request_id));
CREATE INDEX idempotency_keys_by_subject ON idempotency_keys (tenant_id, subject_id);
)sql";
}

std::string SubjectIndexWhereSetSql() {
  return R"sql(
DROP INDEX idempotency_keys_by_subject;
CREATE INDEX idempotency_keys_by_subject ON idempotency_keys (tenant_id, subject_id)
  WHERE subject_id IS NOT NULL;
)sql";
}

std::string Fingerprint(const google::protobuf::Message& request) {
  return HashOf(DeterministicBytes(request));
}

Print::Print(const google::protobuf::Message& request)
    : bytes_(DeterministicBytes(request)), hash_(HashOf(bytes_)) {}

bool Print::Matches(absl::string_view stored) const {
  if (stored == hash_) return true;
  if (!absl::StartsWith(stored, kBytesPrefix)) return false;
  return stored.substr(sizeof(kBytesPrefix) - 1) == absl::BytesToHexString(bytes_);
}

absl::StatusOr<std::optional<Stored>> Lookup(db::Transaction& tx, const Key& key) {
  auto rows = tx.Query(
      "SELECT request_hash, response FROM idempotency_keys WHERE tenant_id = ? AND scope = ? "
      "AND request_id = ?",
      {key.tenant_id, key.scope, key.request_id});
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return std::optional<Stored>();
  return std::optional<Stored>(Stored{(*rows)[0].GetText(0), (*rows)[0].GetBytes(1)});
}

absl::Status Claim(db::Transaction& tx, const Key& key, const Print& print, absl::Time now) {
  return tx.ExecuteDeferred(
      "INSERT INTO idempotency_keys (tenant_id, scope, request_id, request_hash, response, "
      "create_time_micros) VALUES (?, ?, ?, ?, ?, ?)",
      {key.tenant_id, key.scope, key.request_id, print.hash(), db::Bytes{std::string()},
       absl::ToUnixMicros(now)});
}

absl::Status Remember(db::Transaction& tx, const Key& key, const std::string& response) {
  return tx.ExecuteDeferred(
      "UPDATE idempotency_keys SET response = ? WHERE tenant_id = ? AND scope = ? AND "
      "request_id = ?",
      {db::Bytes{response}, key.tenant_id, key.scope, key.request_id});
}

absl::Status Record(db::Transaction& tx, const Key& key, absl::string_view request_hash,
                    const std::string& response, absl::Time now, absl::string_view subject_id) {
  return tx.ExecuteDeferred(
      "INSERT INTO idempotency_keys (tenant_id, scope, request_id, request_hash, response, "
      "create_time_micros, subject_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
      {key.tenant_id, key.scope, key.request_id, std::string(request_hash), db::Bytes{response},
       absl::ToUnixMicros(now),
       subject_id.empty() ? db::Null() : db::Value(std::string(subject_id))});
}

bool IsClaimTaken(const absl::Status& status) {
  return status.code() == absl::StatusCode::kAlreadyExists &&
         absl::StrContains(status.message(), "idempotency_keys");
}

}  // namespace kelola::idempotency
