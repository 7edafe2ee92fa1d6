#include "bench/harness/customer_data.h"

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "libs/phone/phone_normalizer.h"

namespace kelola::bench {
namespace {

TEST(CustomerDataTest, SameSeedSameCustomers) {
  CustomerData a(42), b(42), c(43);
  for (int64_t i : {0, 1, 999, 123456}) {
    EXPECT_EQ(a.Make(i).display_name, b.Make(i).display_name);
    EXPECT_EQ(a.Make(i).phone, b.Make(i).phone);
    EXPECT_EQ(a.Make(i).email, b.Make(i).email);
  }
  int differ = 0;
  for (int64_t i = 0; i < 100; ++i) differ += a.Make(i).phone != c.Make(i).phone;
  EXPECT_GT(differ, 90);
}

TEST(CustomerDataTest, PhonesAreValidAndUniqueEmailsUnique) {
  CustomerData data(7);
  phone::PhoneNormalizer normalizer;
  absl::flat_hash_set<std::string> phones, emails;
  int thai = 0, with_email = 0;
  const int n = 20000;
  for (int64_t i = 0; i < n; ++i) {
    SyntheticCustomer customer = data.Make(i);
    // Every phone is valid for an Indonesian tenant, Thai ones through their +66.
    auto normalized = normalizer.Normalize(customer.phone, "ID");
    ASSERT_TRUE(normalized.ok()) << customer.phone << ": " << normalized.status();
    EXPECT_TRUE(phones.insert(normalized->e164).second) << customer.phone;
    if (!customer.email.empty()) {
      ++with_email;
      EXPECT_TRUE(emails.insert(customer.email).second) << customer.email;
    }
    thai += customer.region == "TH";
    EXPECT_FALSE(customer.display_name.empty());
  }
  EXPECT_NEAR(thai, n * 0.3, n * 0.03);
  EXPECT_NEAR(with_email, n * 2 / 3, n * 0.03);
}

}  // namespace
}  // namespace kelola::bench
