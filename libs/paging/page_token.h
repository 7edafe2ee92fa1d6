#pragma once

// Page tokens (AIP-158) for every list of every service: opaque to clients, and readable
// only by the replicas that share the signing key, so a client can neither read nor forge
// what a token carries (sort keys, offsets, values fixed on the first page).
//
// Wire form: web-safe base64 (no padding) of
//   0x01 | binding digest (8 bytes) | payload | tag (16 bytes)
// payload = each value as <varint length><bytes>;
// binding digest = HMAC-SHA256(key, "binding" | binding), first 8 bytes;
// tag = HMAC-SHA256(key, "token" | kind | scope | binding digest | payload), first 16 bytes.
// `kind` names the RPC, `scope` the tenant, `binding` every other listing parameter; none
// travels in the clear. Decode answers INVALID_ARGUMENT naming `page_token`:
//   PAGE_TOKEN_INVALID  altered, truncated, not base64, signed with an unknown key,
//                       issued by another RPC or for another tenant, or carrying a value
//                       that is not well-formed UTF-8 or longer than kMaxTokenValueBytes
//                       (checked even for a genuine token, so callers may use every value
//                       as text, e.g. an SQL parameter);
//   PAGE_TOKEN_MISMATCH genuine, but issued for other listing parameters.
// Keys: each key is derived from a configured secret; the first key signs, every key
// verifies, so that a secret can be rotated without breaking the tokens clients hold.
// See docs/decisions/input-validation-and-errors.md.

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kelola::paging {

inline constexpr char kReasonPageTokenInvalid[] = "PAGE_TOKEN_INVALID";
inline constexpr char kReasonPageTokenMismatch[] = "PAGE_TOKEN_MISMATCH";
inline constexpr size_t kMinSecretBytes = 32;
inline constexpr size_t kMaxTokenChars = 4096;
// The longest value a token may carry: what a token of kMaxTokenChars can hold at all
// (ids, numbers, hex collation keys of names stay below it); Decode refuses a longer one.
inline constexpr size_t kMaxTokenValueBytes = kMaxTokenChars / 4 * 3;

class PageTokenCodec {
 public:
  // `secrets`: at least one; each at least kMinSecretBytes. INVALID_ARGUMENT otherwise.
  static absl::StatusOr<PageTokenCodec> Create(const std::vector<std::string>& secrets);
  // A codec keyed with the fixed development secret: for tests and local runs only.
  static PageTokenCodec Development();

  std::string Encode(absl::string_view kind, absl::string_view scope, absl::string_view binding,
                     const std::vector<std::string>& values) const;
  absl::StatusOr<std::vector<std::string>> Decode(absl::string_view token, absl::string_view kind,
                                                  absl::string_view scope,
                                                  absl::string_view binding) const;

 private:
  explicit PageTokenCodec(std::vector<std::string> keys) : keys_(std::move(keys)) {}
  std::vector<std::string> keys_;  // 32-byte HMAC keys; keys_[0] signs
};

// True when `value` may travel in a token: well-formed UTF-8 of at most kMaxTokenValueBytes
// bytes. Decode refuses (PAGE_TOKEN_INVALID) any token carrying another value.
bool IsTokenValue(absl::string_view value);

// The PAGE_TOKEN_INVALID error Decode returns, for callers that find a genuine token's
// values unusable.
absl::Status InvalidPageTokenError();

// The secrets of a key file: one per line (blank lines and lines starting with '#'
// ignored, surrounding whitespace trimmed); the first signs. INVALID_ARGUMENT or NOT_FOUND
// naming the file.
absl::StatusOr<std::vector<std::string>> ReadSecretsFile(const std::string& path);

// The codec of this process, used by every list. The development codec until
// InstallCodec() is called (by server::InitService, from --page_token_key_file).
std::shared_ptr<const PageTokenCodec> ProcessCodec();
void InstallCodec(PageTokenCodec codec);

// ProcessCodec()->Encode / Decode.
std::string EncodeToken(absl::string_view kind, absl::string_view scope, absl::string_view binding,
                        const std::vector<std::string>& values);
absl::StatusOr<std::vector<std::string>> DecodeToken(absl::string_view token,
                                                     absl::string_view kind,
                                                     absl::string_view scope,
                                                     absl::string_view binding);

}  // namespace kelola::paging
