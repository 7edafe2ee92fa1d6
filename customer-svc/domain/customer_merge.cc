#include "customer-svc/domain/customer_merge.h"

#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "customer-svc/domain/customer_rules.h"
#include "libs/time/time.h"

namespace kelola::customer::domain {
namespace {

// The first `max_chars` Unicode characters of UTF-8 `text` (never splitting a character).
std::string Utf8Prefix(const std::string& text, size_t max_chars) {
  size_t chars = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) {
      if (chars == max_chars) return text.substr(0, i);
      ++chars;
    }
  }
  return text;
}

size_t Utf8Length(const std::string& text) {
  size_t chars = 0;
  for (unsigned char c : text) chars += (c & 0xC0) != 0x80 ? 1 : 0;
  return chars;
}

std::string PhoneText(const v1::Phone& p) {
  const std::string& shown = p.raw().empty() ? p.e164() : p.raw();
  return p.label().empty() ? shown : absl::StrCat(shown, " (", p.label(), ")");
}

}  // namespace

v1::Customer MergeCustomerData(const v1::Customer& target, const v1::Customer& source,
                               const TakenContacts& taken) {
  v1::Customer out = target;

  // Phones.
  std::set<std::string> held;
  if (out.has_phone() && !out.phone().e164().empty()) held.insert(out.phone().e164());
  for (const auto& p : out.additional_phones()) held.insert(p.e164());
  std::vector<v1::Phone> incoming;
  if (source.has_phone() && !source.phone().e164().empty()) incoming.push_back(source.phone());
  for (const auto& p : source.additional_phones()) incoming.push_back(p);
  std::vector<std::string> to_notes;
  for (const v1::Phone& p : incoming) {
    if (p.e164().empty() || !held.insert(p.e164()).second) continue;
    if (!out.has_phone() || out.phone().e164().empty()) {
      if (!taken.phone(p.e164())) {
        *out.mutable_phone() = p;
        continue;
      }
    } else if (out.additional_phones_size() < kMaxAdditionalPhones && !taken.phone(p.e164())) {
      *out.add_additional_phones() = p;
      continue;
    }
    to_notes.push_back(PhoneText(p));
  }

  // Fields taken where the target's is empty.
  if (out.email().empty() && !source.email().empty()) {
    if (taken.email(source.email())) {
      to_notes.push_back(source.email());
    } else {
      out.set_email(source.email());
    }
  }
  if (!out.has_address() ||
      (out.address().text().empty() && out.address().city().empty() &&
       out.address().province().empty() && out.address().postal_code().empty())) {
    if (source.has_address()) *out.mutable_address() = source.address();
  }
  if (out.company_name().empty()) out.set_company_name(source.company_name());
  if (out.category_id().empty()) out.set_category_id(source.category_id());
  if ((!out.has_birthday() || out.birthday().month() == 0) && source.has_birthday() &&
      source.birthday().month() != 0) {
    *out.mutable_birthday() = source.birthday();
  }
  v1::Preferences* prefs = out.mutable_preferences();
  if (prefs->special_needs().empty()) {
    prefs->set_special_needs(source.preferences().special_needs());
  }
  if (prefs->preferred_channel() == v1::CONTACT_CHANNEL_UNSPECIFIED) {
    prefs->set_preferred_channel(source.preferences().preferred_channel());
  }
  std::set<std::string> favourites(prefs->favourite_products().begin(),
                                   prefs->favourite_products().end());
  for (const auto& product : source.preferences().favourite_products()) {
    if (prefs->favourite_products_size() >= kMaxFavouriteProducts) {
      to_notes.push_back(product);
    } else if (favourites.insert(product).second) {
      prefs->add_favourite_products(product);
    }
  }
  if (prefs->favourite_products_size() == 0 && prefs->special_needs().empty() &&
      prefs->preferred_channel() == v1::CONTACT_CHANNEL_UNSPECIFIED) {
    out.clear_preferences();
  }

  // Consent: the later decision wins.
  const auto& a = out.marketing_consent();
  const auto& b = source.marketing_consent();
  if (b.state() != v1::MARKETING_CONSENT_STATE_UNSPECIFIED &&
      (a.state() == v1::MARKETING_CONSENT_STATE_UNSPECIFIED ||
       time::ToUnixMicros(b.consent_time()) > time::ToUnixMicros(a.consent_time()))) {
    *out.mutable_marketing_consent() = b;
  }

  // Notes: the source's notes, and whatever did not fit elsewhere, under a line naming it.
  std::vector<std::string> block;
  if (!source.notes().empty()) block.push_back(source.notes());
  if (!to_notes.empty()) block.push_back(absl::StrCat("+ ", absl::StrJoin(to_notes, ", ")));
  if (!block.empty()) {
    std::string notes = out.notes();
    if (!notes.empty()) notes += "\n";
    absl::StrAppend(&notes, "--- merged from ", source.display_name(), " (", source.customer_id(),
                    ") ---\n", absl::StrJoin(block, "\n"));
    if (Utf8Length(notes) > kMaxNotesChars) notes = Utf8Prefix(notes, kMaxNotesChars - 1) + "…";
    out.set_notes(notes);
  }
  return out;
}

}  // namespace kelola::customer::domain
