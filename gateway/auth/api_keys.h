#pragma once

// The gateway's API keys (--api_keys_file): one JSON object per line,
//   {"key_sha256": "<hex SHA-256 of the key>", "name": "...", "tenant": "...",
//    "roles": ["owner"|"manager"|"cashier"|"platform_admin"], "stores": ["..."]}
// (empty or absent stores = every store; blank lines and lines starting with '#' are
// skipped). Only hashes are stored, so the file leaks no key; clients send the key itself
// in `x-api-key`.

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "libs/auth/principal.h"

namespace kelola::gateway {

class ApiKeys {
 public:
  // INVALID_ARGUMENT naming the line and field of the first bad entry.
  static absl::StatusOr<std::shared_ptr<const ApiKeys>> Parse(absl::string_view text);
  static absl::StatusOr<std::shared_ptr<const ApiKeys>> Load(const std::string& path);

  // The principal of a presented key; nullptr when no entry has its hash.
  const auth::Principal* Find(absl::string_view key) const;
  size_t size() const { return by_hash_.size(); }

 private:
  absl::flat_hash_map<std::string, auth::Principal> by_hash_;
};

}  // namespace kelola::gateway
