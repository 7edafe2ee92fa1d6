#pragma once

// Pure rules of the customer directory (C1, C3, C8, C17, C18, I1, I2): validation and
// normalization of a customer as written by a client, application of an update mask,
// etags. No gRPC, no SQL.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/field_mask.pb.h"
#include "kelola/customer/v1/customer.pb.h"
#include "libs/errors/errors.h"
#include "libs/phone/phone_normalizer.h"

namespace kelola::customer::domain {

inline constexpr size_t kMaxDisplayNameChars = 200;
inline constexpr size_t kMaxCompanyNameChars = 200;
inline constexpr size_t kMaxNotesChars = 4000;
inline constexpr size_t kMaxPhoneRawChars = 40;
inline constexpr size_t kMaxPhoneLabelChars = 40;
inline constexpr int kMaxAdditionalPhones = 10;
inline constexpr size_t kMaxEmailChars = 254;
inline constexpr size_t kMaxAddressTextChars = 1000;
inline constexpr size_t kMaxAddressPartChars = 200;
inline constexpr size_t kMaxPostalCodeChars = 20;
inline constexpr int kMaxFavouriteProducts = 50;
inline constexpr size_t kMaxFavouriteProductChars = 200;
inline constexpr size_t kMaxSpecialNeedsChars = 2000;
inline constexpr size_t kMaxConsentSourceChars = 200;
inline constexpr size_t kMaxRequestIdChars = 100;
inline constexpr size_t kMaxEraseReasonChars = 500;

// What validation needs to know about the tenant and the moment.
struct ValidationContext {
  std::string phone_region;  // "ID" or "TH"
  absl::Time now;
  absl::TimeZone time_zone;  // the tenant's, for "birthday not in the future"
};

// Which parts of a customer to (re)normalize. Phones that an update does not touch keep
// their stored E.164 even if the tenant's region changed since.
struct ValidationScope {
  bool phones = true;
  bool marketing_consent = false;  // only on create
};

// Validates `input` (the client's values; output-only fields are ignored) and returns the
// customer as stored: names trimmed and NFC, phones with E.164 and raw, e-mail normalized.
// Every invalid field is recorded in `errors` under `prefix` (e.g. "customer"); the returned
// value is meaningful only when `errors` stayed empty.
v1::Customer NormalizeCustomer(const v1::Customer& input, const ValidationContext& context,
                               const phone::PhoneNormalizer& phones, const ValidationScope& scope,
                               absl::string_view prefix, errors::FieldErrors& errors);

// INVALID_ARGUMENT with reason INVALID_PHONE when every violation is about a phone, else
// INVALID_ARGUMENT; OK when `errors` is empty.
absl::Status ToValidationStatus(const errors::FieldErrors& errors);

// The customer's data fields that UpdateCustomer may change (AIP-134 paths).
const std::vector<std::string>& UpdatablePaths();

// Returns `current` with the fields named in `mask` taken from `patch` (empty mask or "*":
// every updatable field). Unknown or output-only paths: INVALID_ARGUMENT INVALID_UPDATE_MASK
// naming update_mask.paths.
absl::StatusOr<v1::Customer> ApplyUpdateMask(const v1::Customer& current, const v1::Customer& patch,
                                             const google::protobuf::FieldMask& mask);

// Whether the mask touches phones (so that they must be re-normalized).
bool MaskTouchesPhones(const google::protobuf::FieldMask& mask);

// Top-level paths whose values differ between `before` and `after` (data fields only).
std::vector<std::string> ChangedPaths(const v1::Customer& before, const v1::Customer& after);

// The customer with every personal field removed (C17 erasure): id, category, state, times
// remain.
v1::Customer Anonymized(const v1::Customer& customer);

// Opaque etag for a version ("v3"); and its check: empty `given` always matches.
std::string EtagFor(int64_t version);
absl::Status CheckEtag(absl::string_view given, int64_t current_version);

// Canonical id forms.
// Customer ids are UUIDs (libs/ids); returns the lower-case form or records the violation.
absl::StatusOr<std::string> NormalizeCustomerId(absl::string_view id);
// request_id: optional; else libs/request_id's rule (1-100 visible ASCII characters).
absl::Status ValidateRequestId(absl::string_view request_id);

// Free text (notes, address lines): valid UTF-8, NFC, trimmed at both ends, line breaks and
// tabs allowed, no other control characters, at most `max_chars` code points. Empty is fine.
absl::StatusOr<std::string> FreeText(absl::string_view text, size_t max_chars);
// Single-line optional text (company, city): like text::TrimmedName but empty is fine.
absl::StatusOr<std::string> OptionalName(absl::string_view text, size_t max_chars);

}  // namespace kelola::customer::domain
