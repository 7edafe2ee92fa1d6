#include "gateway/auth/api_keys.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "libs/crypto/hmac.h"

namespace kelola::gateway {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

absl::Status Bad(size_t line, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", why));
}

bool IsHex64(absl::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(c)) return false;
  }
  return true;
}

bool IsTenantId(absl::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!absl::ascii_isalnum(c) && c != '.' && c != '_' && c != '-') return false;
  }
  return true;
}

// The strings of a list field; an error naming the field when it is not one.
absl::StatusOr<std::vector<std::string>> Strings(const Struct& entry, const std::string& field) {
  std::vector<std::string> out;
  auto it = entry.fields().find(field);
  if (it == entry.fields().end() || it->second.has_null_value()) return out;
  if (!it->second.has_list_value()) return absl::InvalidArgumentError(field + " must be a list");
  for (const Value& v : it->second.list_value().values()) {
    if (!v.has_string_value() || v.string_value().empty()) {
      return absl::InvalidArgumentError(field + " must hold non-empty strings");
    }
    out.push_back(v.string_value());
  }
  return out;
}

std::string Text(const Struct& entry, const std::string& field) {
  auto it = entry.fields().find(field);
  return it != entry.fields().end() && it->second.has_string_value() ? it->second.string_value()
                                                                     : "";
}

absl::StatusOr<std::pair<std::string, auth::Principal>> ParseEntry(absl::string_view json,
                                                                   size_t line) {
  Struct entry;
  if (!google::protobuf::util::JsonStringToMessage(std::string(json), &entry).ok()) {
    return Bad(line, "not a JSON object");
  }
  const std::string hash = absl::AsciiStrToLower(Text(entry, "key_sha256"));
  if (!IsHex64(hash)) return Bad(line, "key_sha256 must be 64 hex digits (SHA-256 of the key)");
  auth::Principal principal;
  principal.kind = auth::PrincipalKind::kApiKey;
  principal.id = Text(entry, "name");
  principal.display_name = principal.id;
  if (principal.id.empty() || principal.id.size() > 200) {
    return Bad(line, "name must be 1-200 characters");
  }
  principal.tenant_id = Text(entry, "tenant");
  if (!IsTenantId(principal.tenant_id)) {
    return Bad(line, "tenant must be 1-64 characters of [A-Za-z0-9._-]");
  }
  auto roles = Strings(entry, "roles");
  if (!roles.ok()) return Bad(line, roles.status().message());
  if (roles->empty()) return Bad(line, "roles must name at least one role");
  for (const std::string& name : *roles) {
    const auto role = auth::ParseRole(name);
    if (!role) {
      return Bad(line, absl::StrCat("unknown role \"", name,
                                    "\" (owner, manager, cashier, platform_admin)"));
    }
    principal.roles.push_back(*role);
  }
  auto stores = Strings(entry, "stores");
  if (!stores.ok()) return Bad(line, stores.status().message());
  principal.stores = *std::move(stores);
  return std::make_pair(hash, std::move(principal));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const ApiKeys>> ApiKeys::Parse(absl::string_view text) {
  auto keys = std::make_shared<ApiKeys>();
  size_t line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    auto entry = ParseEntry(line, line_no);
    if (!entry.ok()) return entry.status();
    if (!keys->by_hash_.emplace(entry->first, std::move(entry->second)).second) {
      return Bad(line_no, "the same key_sha256 appears twice");
    }
  }
  return std::shared_ptr<const ApiKeys>(std::move(keys));
}

absl::StatusOr<std::shared_ptr<const ApiKeys>> ApiKeys::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  auto keys = Parse(text.str());
  if (!keys.ok())
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", keys.status().message()));
  return keys;
}

const auth::Principal* ApiKeys::Find(absl::string_view key) const {
  auto it = by_hash_.find(crypto::Sha256Hex(key));
  return it == by_hash_.end() ? nullptr : &it->second;
}

}  // namespace kelola::gateway
