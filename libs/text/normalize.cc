#include "libs/text/normalize.h"

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "libs/errors/errors.h"
#include "unicode/normalizer2.h"
#include "unicode/uchar.h"
#include "unicode/unistr.h"
#include "unicode/uscript.h"
#include "unicode/utf8.h"

namespace kelola::text {
namespace {

// ICU's normalizer singletons (immutable, thread-safe; owned by ICU).
struct Normalizers {
  const icu::Normalizer2* nfc = nullptr;
  const icu::Normalizer2* nfd = nullptr;
  const icu::Normalizer2* nfkc_cf = nullptr;
  bool ok = false;
};

const Normalizers& GetNormalizers() {
  static const Normalizers normalizers = [] {
    Normalizers n;
    UErrorCode status = U_ZERO_ERROR;
    n.nfc = icu::Normalizer2::getNFCInstance(status);
    n.nfd = icu::Normalizer2::getNFDInstance(status);
    n.nfkc_cf = icu::Normalizer2::getNFKCCasefoldInstance(status);
    n.ok = U_SUCCESS(status) && n.nfc != nullptr && n.nfd != nullptr && n.nfkc_cf != nullptr;
    return n;
  }();
  return normalizers;
}

icu::UnicodeString FromUtf8(std::string_view text) {
  return icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
}

std::string ToUtf8(const icu::UnicodeString& text) {
  std::string out;
  text.toUTF8String(out);
  return out;
}

// White space for trimming and collapsing: Unicode White_Space plus the BOM (U+FEFF), which
// spreadsheet exports leave at the start of cells.
bool IsSpace(UChar32 c) { return u_isUWhiteSpace(c) || c == 0xFEFF; }

}  // namespace

bool IsValidUtf8(std::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (c < 0) return false;
  }
  return true;
}

size_t CodePointCount(std::string_view text) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  int32_t i = 0;
  size_t count = 0;
  while (i < length) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    ++count;
  }
  return count;
}

std::string Nfc(std::string_view text) {
  const Normalizers& n = GetNormalizers();
  icu::UnicodeString source = FromUtf8(text);
  if (!n.ok) return ToUtf8(source);
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString result = n.nfc->normalize(source, status);
  return U_SUCCESS(status) ? ToUtf8(result) : ToUtf8(source);
}

std::string FoldForMatch(std::string_view text) {
  const Normalizers& n = GetNormalizers();
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString decomposed;
  if (n.ok) {
    icu::UnicodeString folded = n.nfkc_cf->normalize(FromUtf8(text), status);
    if (U_SUCCESS(status)) decomposed = n.nfd->normalize(folded, status);
  }
  if (!n.ok || U_FAILURE(status)) {
    // ICU data unavailable: degrade to ASCII lower-casing so that matching still works.
    decomposed = FromUtf8(absl::AsciiStrToLower(std::string(text)));
  }

  icu::UnicodeString stripped;
  bool pending_space = false;
  UScriptCode base_script = USCRIPT_COMMON;
  for (int32_t i = 0; i < decomposed.length();) {
    const UChar32 c = decomposed.char32At(i);
    i += U16_LENGTH(c);
    const int8_t type = u_charType(c);
    if (type == U_NON_SPACING_MARK && base_script == USCRIPT_LATIN) continue;  // accent
    if (IsSpace(c) || type == U_CONTROL_CHAR) {
      pending_space = !stripped.isEmpty();
      base_script = USCRIPT_COMMON;
      continue;
    }
    if (pending_space) {
      stripped.append(static_cast<UChar>(' '));
      pending_space = false;
    }
    stripped.append(c);
    if (type != U_NON_SPACING_MARK) {
      UErrorCode script_status = U_ZERO_ERROR;
      base_script = uscript_getScript(c, &script_status);
      if (U_FAILURE(script_status)) base_script = USCRIPT_COMMON;
    }
  }
  if (!n.ok) return ToUtf8(stripped);
  status = U_ZERO_ERROR;
  icu::UnicodeString composed = n.nfc->normalize(stripped, status);
  return ToUtf8(U_SUCCESS(status) ? composed : stripped);
}

absl::StatusOr<std::string> TrimmedName(std::string_view text, size_t max_chars) {
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const int32_t length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(s, i, length, c);
    if (c < 0) {
      return errors::Error(absl::StatusCode::kInvalidArgument, kReasonTextInvalidUtf8,
                           "text is not valid UTF-8");
    }
    if (u_charType(c) == U_CONTROL_CHAR && !IsSpace(c)) {
      return errors::Error(absl::StatusCode::kInvalidArgument, kReasonTextControlCharacter,
                           "text contains a control character");
    }
  }
  std::string normalized = Nfc(text);
  // Collapse and trim white space, counting code points of the result.
  icu::UnicodeString source = FromUtf8(normalized);
  icu::UnicodeString out;
  bool pending_space = false;
  size_t count = 0;
  for (int32_t i = 0; i < source.length();) {
    const UChar32 c = source.char32At(i);
    i += U16_LENGTH(c);
    if (IsSpace(c)) {
      pending_space = !out.isEmpty();
      continue;
    }
    if (pending_space) {
      out.append(static_cast<UChar>(' '));
      ++count;
      pending_space = false;
    }
    out.append(c);
    ++count;
  }
  if (count == 0) {
    return errors::Error(absl::StatusCode::kInvalidArgument, kReasonTextEmpty, "text is empty");
  }
  if (count > max_chars) {
    return errors::Error(
        absl::StatusCode::kInvalidArgument, kReasonTextTooLong,
        absl::StrCat("text has ", count, " characters; at most ", max_chars, " are allowed"),
        {{"max_chars", absl::StrCat(max_chars)}});
  }
  return ToUtf8(out);
}

}  // namespace kelola::text
