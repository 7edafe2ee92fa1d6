#include "libs/text/collation.h"

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "unicode/coll.h"
#include "unicode/locid.h"
#include "unicode/unistr.h"

namespace kelola::text {
namespace {

// More distinct locales than this in one thread means callers pass arbitrary strings; the
// per-thread cache is then cleared rather than allowed to grow.
constexpr size_t kMaxCachedLocales = 16;

icu::Locale ToIcuLocale(const std::string& name) {
  UErrorCode status = U_ZERO_ERROR;
  icu::Locale locale = icu::Locale::forLanguageTag(name, status);
  if (U_SUCCESS(status) && !locale.isBogus() && *locale.getLanguage() != '\0') return locale;
  locale = icu::Locale::createFromName(name.c_str());  // ICU ids such as "th_TH"
  if (locale.isBogus()) return icu::Locale::getRoot();
  return locale;
}

// Process-wide prototypes, one per locale, configured once and only ever cloned.
class CollatorPrototypes {
 public:
  std::unique_ptr<icu::Collator> Clone(const std::string& name) {
    absl::MutexLock lock(&mu_);
    auto it = prototypes_.find(name);
    if (it == prototypes_.end()) {
      if (prototypes_.size() >= kMaxCachedLocales * 4) prototypes_.clear();
      it = prototypes_.emplace(name, Create(name)).first;
    }
    if (it->second == nullptr) return nullptr;
    return std::unique_ptr<icu::Collator>(it->second->clone());
  }

 private:
  static std::unique_ptr<icu::Collator> Create(const std::string& name) {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Collator> collator(
        icu::Collator::createInstance(ToIcuLocale(name), status));
    if (U_FAILURE(status) || collator == nullptr) {
      status = U_ZERO_ERROR;
      collator.reset(icu::Collator::createInstance(icu::Locale::getRoot(), status));
      if (U_FAILURE(status)) return nullptr;
    }
    status = U_ZERO_ERROR;
    collator->setAttribute(UCOL_NORMALIZATION_MODE, UCOL_ON, status);
    collator->setAttribute(UCOL_STRENGTH, UCOL_TERTIARY, status);
    return collator;
  }

  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<icu::Collator>> prototypes_ ABSL_GUARDED_BY(mu_);
};

const icu::Collator* CollatorFor(std::string_view locale) {
  static CollatorPrototypes* prototypes = new CollatorPrototypes();
  thread_local absl::flat_hash_map<std::string, std::unique_ptr<icu::Collator>> cache;
  std::string name(locale);
  if (auto it = cache.find(name); it != cache.end()) return it->second.get();
  if (cache.size() >= kMaxCachedLocales) cache.clear();
  std::unique_ptr<icu::Collator> clone = prototypes->Clone(name);
  const icu::Collator* result = clone.get();
  if (result != nullptr) cache.emplace(std::move(name), std::move(clone));
  return result;
}

std::string Hex(const uint8_t* bytes, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[bytes[i] >> 4]);
    out.push_back(kDigits[bytes[i] & 0xF]);
  }
  return out;
}

}  // namespace

std::string CollationKey(std::string_view text, std::string_view locale) {
  const icu::Collator* collator = CollatorFor(locale);
  icu::UnicodeString source = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  if (collator == nullptr) {
    // No ICU collation data at all: code point order of the text itself.
    return Hex(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  }
  std::vector<uint8_t> key(64 + 4 * static_cast<size_t>(source.length()));
  int32_t needed = collator->getSortKey(source, key.data(), static_cast<int32_t>(key.size()));
  if (needed > static_cast<int32_t>(key.size())) {
    key.resize(static_cast<size_t>(needed));
    needed = collator->getSortKey(source, key.data(), static_cast<int32_t>(key.size()));
  }
  // The key ends with a 0 terminator (ICU keys contain no other 0 byte): dropping it keeps
  // the order, since a key that is a prefix of another still sorts first.
  size_t length = needed > 0 ? static_cast<size_t>(needed) : 0;
  if (length > 0 && key[length - 1] == 0) --length;
  return Hex(key.data(), length);
}

}  // namespace kelola::text
