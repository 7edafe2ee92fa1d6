#include "libs/paging/page_token.h"

#include <fstream>
#include <initializer_list>
#include <sstream>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "libs/crypto/hmac.h"
#include "libs/errors/errors.h"
#include "libs/utf8/utf8.h"

namespace kelola::paging {
namespace {

constexpr char kVersion = '\x01';
constexpr size_t kDigestBytes = 8;
constexpr size_t kTagBytes = 16;
constexpr char kKeyLabel[] = "kelola page token key v1";
constexpr char kDevelopmentSecret[] =
    "kelola development page-token secret: never use it in production";

void AppendVarint(std::string* out, uint64_t n) {
  while (n >= 0x80) {
    out->push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  out->push_back(static_cast<char>(n));
}

bool ReadVarint(absl::string_view* in, uint64_t* n) {
  *n = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const auto byte = static_cast<unsigned char>(in->front());
    in->remove_prefix(1);
    *n |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) return true;
  }
  return false;
}

// Every part length-prefixed, so that no two different inputs sign the same bytes.
std::string Framed(std::initializer_list<absl::string_view> parts) {
  std::string out;
  for (absl::string_view part : parts) {
    AppendVarint(&out, part.size());
    out.append(part.data(), part.size());
  }
  return out;
}

std::string BindingDigest(absl::string_view key, absl::string_view binding) {
  return crypto::HmacSha256(key, Framed({"binding", binding})).substr(0, kDigestBytes);
}

std::string Tag(absl::string_view key, absl::string_view kind, absl::string_view scope,
                absl::string_view digest, absl::string_view payload) {
  return crypto::HmacSha256(key, Framed({"token", kind, scope, digest, payload}))
      .substr(0, kTagBytes);
}

absl::Status Invalid() { return InvalidPageTokenError(); }

absl::Status Mismatch() {
  return errors::Error(absl::StatusCode::kInvalidArgument, kReasonPageTokenMismatch,
                       "page_token was issued for a request with other listing parameters "
                       "(filter, order_by or others); restart from the first page",
                       {}, {{"page_token", "issued for other listing parameters"}});
}

struct ProcessState {
  absl::Mutex mu;
  std::shared_ptr<const PageTokenCodec> codec ABSL_GUARDED_BY(mu);
};

ProcessState& State() {
  static ProcessState* const state = new ProcessState;  // never destroyed
  return *state;
}

}  // namespace

bool IsTokenValue(absl::string_view value) {
  if (value.size() > kMaxTokenValueBytes) return false;
  while (!value.empty()) {
    const size_t length = utf8::SequenceLength(value);
    if (length == 0) return false;
    value.remove_prefix(length);
  }
  return true;
}

absl::Status InvalidPageTokenError() {
  return errors::Error(absl::StatusCode::kInvalidArgument, kReasonPageTokenInvalid,
                       "page_token was not issued for this list (altered, truncated, or from "
                       "another call or tenant); restart from the first page",
                       {}, {{"page_token", "not a page token of this list"}});
}

absl::StatusOr<PageTokenCodec> PageTokenCodec::Create(const std::vector<std::string>& secrets) {
  if (secrets.empty()) return absl::InvalidArgumentError("no page-token secret");
  std::vector<std::string> keys;
  for (const std::string& secret : secrets) {
    if (secret.size() < kMinSecretBytes) {
      return absl::InvalidArgumentError(absl::StrCat("a page-token secret must have at least ",
                                                     kMinSecretBytes, " bytes, not ", secret.size(),
                                                     " (e.g. `openssl rand -hex 32`)"));
    }
    keys.push_back(crypto::HmacSha256(secret, kKeyLabel));
  }
  return PageTokenCodec(std::move(keys));
}

PageTokenCodec PageTokenCodec::Development() { return *Create({kDevelopmentSecret}); }

std::string PageTokenCodec::Encode(absl::string_view kind, absl::string_view scope,
                                   absl::string_view binding,
                                   const std::vector<std::string>& values) const {
  std::string payload;
  for (const std::string& value : values) {
    AppendVarint(&payload, value.size());
    payload += value;
  }
  const std::string digest = BindingDigest(keys_[0], binding);
  std::string raw(1, kVersion);
  absl::StrAppend(&raw, digest, payload, Tag(keys_[0], kind, scope, digest, payload));
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::vector<std::string>> PageTokenCodec::Decode(absl::string_view token,
                                                                absl::string_view kind,
                                                                absl::string_view scope,
                                                                absl::string_view binding) const {
  std::string raw;
  if (token.size() > kMaxTokenChars || !absl::WebSafeBase64Unescape(token, &raw) ||
      raw.size() < 1 + kDigestBytes + kTagBytes || raw[0] != kVersion) {
    return Invalid();
  }
  const absl::string_view all(raw);
  const absl::string_view digest = all.substr(1, kDigestBytes);
  absl::string_view payload =
      all.substr(1 + kDigestBytes, all.size() - 1 - kDigestBytes - kTagBytes);
  const absl::string_view tag = all.substr(all.size() - kTagBytes);
  const std::string* key = nullptr;
  for (const std::string& k : keys_) {
    if (crypto::ConstantTimeEquals(tag, Tag(k, kind, scope, digest, payload))) {
      key = &k;
      break;
    }
  }
  if (key == nullptr) return Invalid();
  if (!crypto::ConstantTimeEquals(digest, BindingDigest(*key, binding))) return Mismatch();
  std::vector<std::string> values;
  while (!payload.empty()) {
    uint64_t length = 0;
    if (!ReadVarint(&payload, &length) || length > payload.size()) return Invalid();
    // Even a genuine token (e.g. signed by another build with the same key) must not hand
    // a caller bytes it cannot use as text.
    if (!IsTokenValue(payload.substr(0, length))) return Invalid();
    values.emplace_back(payload.substr(0, length));
    payload.remove_prefix(length);
  }
  return values;
}

absl::StatusOr<std::vector<std::string>> ReadSecretsFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  std::vector<std::string> secrets;
  for (absl::string_view line : absl::StrSplit(text.str(), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line.front() == '#') continue;
    secrets.emplace_back(line);
  }
  if (secrets.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, " holds no secret"));
  }
  return secrets;
}

std::shared_ptr<const PageTokenCodec> ProcessCodec() {
  ProcessState& state = State();
  absl::MutexLock lock(&state.mu);
  if (state.codec == nullptr) {
    state.codec = std::make_shared<const PageTokenCodec>(PageTokenCodec::Development());
  }
  return state.codec;
}

void InstallCodec(PageTokenCodec codec) {
  ProcessState& state = State();
  auto installed = std::make_shared<const PageTokenCodec>(std::move(codec));
  absl::MutexLock lock(&state.mu);
  state.codec = std::move(installed);
}

std::string EncodeToken(absl::string_view kind, absl::string_view scope, absl::string_view binding,
                        const std::vector<std::string>& values) {
  return ProcessCodec()->Encode(kind, scope, binding, values);
}

absl::StatusOr<std::vector<std::string>> DecodeToken(absl::string_view token,
                                                     absl::string_view kind,
                                                     absl::string_view scope,
                                                     absl::string_view binding) {
  return ProcessCodec()->Decode(token, kind, scope, binding);
}

}  // namespace kelola::paging
