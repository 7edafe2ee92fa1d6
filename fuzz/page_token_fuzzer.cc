// Fuzzes page tokens (libs/paging), which clients send back on every list of every service.
//
// Arbitrary text must be refused with INVALID_ARGUMENT PAGE_TOKEN_INVALID or
// PAGE_TOKEN_MISMATCH, never crash. A token the service made must give back exactly what
// it was made from (or be refused when a value is not UTF-8 text), only for its own call, tenant
// and parameters, also after a key rotation; an altered token is refused or reads the same. Input:
// the token to read, and, split at '\n', the values of a token to make.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "fuzz/fuzz_check.h"
#include "libs/errors/errors.h"
#include "libs/paging/page_token.h"

namespace {

using kelola::paging::PageTokenCodec;

bool IsRefusal(const absl::Status& status, absl::string_view reason) {
  return status.code() == absl::StatusCode::kInvalidArgument &&
         kelola::errors::Reason(status) == reason;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const PageTokenCodec codec = PageTokenCodec::Development();
  static const PageTokenCodec old_key = *PageTokenCodec::Create({std::string(32, 'o')});
  static const PageTokenCodec rotated =
      *PageTokenCodec::Create({std::string(32, 'n'), std::string(32, 'o')});
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  // A token as sent by a client.
  if (auto values = codec.Decode(text, "list", "toko-ani", "b"); !values.ok()) {
    FUZZ_CHECK(IsRefusal(values.status(), kelola::paging::kReasonPageTokenInvalid) ||
               IsRefusal(values.status(), kelola::paging::kReasonPageTokenMismatch));
  }

  // A token as made by a service, read back.
  const std::vector<std::string> values = absl::StrSplit(text, '\n');
  const std::string token = codec.Encode("list", "toko-ani", "b", values);
  if (token.size() > kelola::paging::kMaxTokenChars) return 0;
  auto read = codec.Decode(token, "list", "toko-ani", "b");
  // Values that are not text (invalid UTF-8, too long) are refused even in a genuine token.
  if (!std::all_of(values.begin(), values.end(), kelola::paging::IsTokenValue)) {
    FUZZ_CHECK(IsRefusal(read.status(), kelola::paging::kReasonPageTokenInvalid));
    return 0;
  }
  FUZZ_CHECK(read.ok() && *read == values);
  FUZZ_CHECK(IsRefusal(codec.Decode(token, "list", "toko-budi", "b").status(),
                       kelola::paging::kReasonPageTokenInvalid));
  FUZZ_CHECK(IsRefusal(codec.Decode(token, "search", "toko-ani", "b").status(),
                       kelola::paging::kReasonPageTokenInvalid));
  FUZZ_CHECK(IsRefusal(codec.Decode(token, "list", "toko-ani", "c").status(),
                       kelola::paging::kReasonPageTokenMismatch));
  FUZZ_CHECK(IsRefusal(old_key.Decode(token, "list", "toko-ani", "b").status(),
                       kelola::paging::kReasonPageTokenInvalid));

  // One character changed: refused, or (unused low bits of the last base64 character) the
  // same values.
  std::string altered = token;
  char& c = altered[size % altered.size()];
  c = c == 'A' ? 'B' : 'A';
  auto tampered = codec.Decode(altered, "list", "toko-ani", "b");
  FUZZ_CHECK(!tampered.ok() || *tampered == values);

  // Tokens signed with a retired key still read while it is listed.
  auto kept =
      rotated.Decode(old_key.Encode("list", "toko-ani", "b", values), "list", "toko-ani", "b");
  FUZZ_CHECK(kept.ok() && *kept == values);
  return 0;
}
