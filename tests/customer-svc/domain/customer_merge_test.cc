// What the survivor of a merge receives (C7), as pure logic.

#include "customer-svc/domain/customer_merge.h"

#include "customer-svc/domain/customer_rules.h"
#include "gtest/gtest.h"

namespace kelola::customer::domain {
namespace {

v1::Phone Phone(const std::string& e164, const std::string& raw = "") {
  v1::Phone p;
  p.set_e164(e164);
  p.set_raw(raw.empty() ? e164 : raw);
  return p;
}

TakenContacts NothingTaken() {
  TakenContacts t;
  t.phone = [](const std::string&) { return false; };
  t.email = [](const std::string&) { return false; };
  return t;
}

v1::Customer Target() {
  v1::Customer c;
  c.set_customer_id("target");
  c.set_display_name("Budi Santoso");
  *c.mutable_phone() = Phone("+6281234567890");
  c.set_notes("Langganan sejak 2020");
  c.mutable_preferences()->add_favourite_products("Beras 5kg");
  return c;
}

v1::Customer Source() {
  v1::Customer c;
  c.set_customer_id("source");
  c.set_display_name("Pak Budi");
  *c.mutable_phone() = Phone("+6281299990000", "0812-9999-0000");
  *c.add_additional_phones() = Phone("+6281234567890");  // the target's own phone
  c.set_email("budi@example.co.id");
  c.set_company_name("Toko Budi");
  c.set_category_id("wholesale");
  c.mutable_birthday()->set_month(8);
  c.mutable_birthday()->set_day(17);
  c.set_notes("Suka bayar di akhir bulan");
  c.mutable_preferences()->add_favourite_products("Beras 5kg");
  c.mutable_preferences()->add_favourite_products("Minyak 2L");
  c.mutable_preferences()->set_preferred_channel(v1::CONTACT_CHANNEL_WHATSAPP);
  return c;
}

TEST(CustomerMergeTest, TargetReceivesWhatItLacks) {
  const v1::Customer merged = MergeCustomerData(Target(), Source(), NothingTaken());
  EXPECT_EQ(merged.customer_id(), "target");
  EXPECT_EQ(merged.display_name(), "Budi Santoso");
  EXPECT_EQ(merged.phone().e164(), "+6281234567890");
  ASSERT_EQ(merged.additional_phones_size(), 1);  // the shared phone is not repeated
  EXPECT_EQ(merged.additional_phones(0).e164(), "+6281299990000");
  EXPECT_EQ(merged.additional_phones(0).raw(), "0812-9999-0000");
  EXPECT_EQ(merged.email(), "budi@example.co.id");
  EXPECT_EQ(merged.company_name(), "Toko Budi");
  EXPECT_EQ(merged.category_id(), "wholesale");
  EXPECT_EQ(merged.birthday().month(), 8);
  ASSERT_EQ(merged.preferences().favourite_products_size(), 2);
  EXPECT_EQ(merged.preferences().favourite_products(1), "Minyak 2L");
  EXPECT_EQ(merged.preferences().preferred_channel(), v1::CONTACT_CHANNEL_WHATSAPP);
  EXPECT_EQ(merged.notes(),
            "Langganan sejak 2020\n--- merged from Pak Budi (source) ---\nSuka bayar di akhir "
            "bulan");
}

TEST(CustomerMergeTest, TargetFieldsWin) {
  v1::Customer target = Target();
  target.set_email("budi.s@example.com");
  target.set_category_id("vip");
  target.mutable_preferences()->set_preferred_channel(v1::CONTACT_CHANNEL_LINE);
  const v1::Customer merged = MergeCustomerData(target, Source(), NothingTaken());
  EXPECT_EQ(merged.email(), "budi.s@example.com");
  EXPECT_EQ(merged.category_id(), "vip");
  EXPECT_EQ(merged.preferences().preferred_channel(), v1::CONTACT_CHANNEL_LINE);
}

TEST(CustomerMergeTest, LaterConsentDecisionWins) {
  v1::Customer target = Target();
  target.mutable_marketing_consent()->set_state(v1::MARKETING_CONSENT_STATE_GRANTED);
  target.mutable_marketing_consent()->mutable_consent_time()->set_seconds(1000);
  v1::Customer source = Source();
  source.mutable_marketing_consent()->set_state(v1::MARKETING_CONSENT_STATE_WITHDRAWN);
  source.mutable_marketing_consent()->mutable_consent_time()->set_seconds(2000);
  EXPECT_EQ(MergeCustomerData(target, source, NothingTaken()).marketing_consent().state(),
            v1::MARKETING_CONSENT_STATE_WITHDRAWN);
  source.mutable_marketing_consent()->mutable_consent_time()->set_seconds(500);
  EXPECT_EQ(MergeCustomerData(target, source, NothingTaken()).marketing_consent().state(),
            v1::MARKETING_CONSENT_STATE_GRANTED);
}

TEST(CustomerMergeTest, TakenAndOverflowingContactsGoToTheNotes) {
  v1::Customer target = Target();
  for (int i = 0; i < kMaxAdditionalPhones; ++i) {
    *target.add_additional_phones() = Phone("+62812000000" + std::to_string(10 + i));
  }
  v1::Customer source = Source();
  source.clear_additional_phones();
  TakenContacts taken = NothingTaken();
  taken.email = [](const std::string& e) { return e == "budi@example.co.id"; };
  const v1::Customer merged = MergeCustomerData(target, source, taken);
  EXPECT_EQ(merged.additional_phones_size(), kMaxAdditionalPhones);
  EXPECT_EQ(merged.email(), "");
  EXPECT_NE(merged.notes().find("+ 0812-9999-0000, budi@example.co.id"), std::string::npos)
      << merged.notes();

  v1::Customer no_phone = Target();
  no_phone.clear_phone();
  TakenContacts phone_taken = NothingTaken();
  phone_taken.phone = [](const std::string& e) { return e == "+6281299990000"; };
  const v1::Customer m2 = MergeCustomerData(no_phone, Source(), phone_taken);
  EXPECT_EQ(m2.phone().e164(), "+6281234567890");  // the next free phone becomes primary
  EXPECT_NE(m2.notes().find("0812-9999-0000"), std::string::npos);
}

TEST(CustomerMergeTest, NotesStayWithinTheLimitWithoutSplittingCharacters) {
  v1::Customer target = Target();
  std::string thai;
  for (int i = 0; i < 1300; ++i) thai += "ก";  // 3 bytes each
  target.set_notes(thai);
  v1::Customer source = Source();
  source.set_notes(thai + thai + thai);
  const v1::Customer merged = MergeCustomerData(target, source, NothingTaken());
  size_t chars = 0;
  for (unsigned char c : merged.notes()) chars += (c & 0xC0) != 0x80 ? 1 : 0;
  EXPECT_EQ(chars, kMaxNotesChars);
  EXPECT_EQ(merged.notes().substr(merged.notes().size() - 3), "…");
}

}  // namespace
}  // namespace kelola::customer::domain
