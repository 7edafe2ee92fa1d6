#pragma once

// What the survivor of a merge (C7) receives from the merged-away customer, as the
// MergeCustomers contract states (protos/kelola/customer/v1/customer_service.proto):
// - phones: the source's primary and additional phones join the target's additional
//   phones, without duplicates; a phone that does not fit (beyond kMaxAdditionalPhones) or
//   that another active customer already holds (the unique duplicate index would refuse it)
//   is written into the notes instead, so that nothing is lost (the same for an e-mail);
// - notes: the source's notes are appended under a line naming the source;
// - email, address, company_name, category_id, birthday and each preferences field: taken
//   from the source only where the target's is empty; favourite products are united;
// - marketing consent: the decision with the later consent_time wins.
// Pure logic: no storage, no clock.

#include <functional>
#include <string>

#include "kelola/customer/v1/customer.pb.h"

namespace kelola::customer::domain {

// Whether another customer (not the target) already holds a phone (E.164) or an e-mail
// for duplicate checks.
struct TakenContacts {
  std::function<bool(const std::string& e164)> phone;
  std::function<bool(const std::string& email)> email;
};

// The target after receiving `source`'s data. Output-only fields (state, times, etag) are
// the target's; the caller stamps the new version.
v1::Customer MergeCustomerData(const v1::Customer& target, const v1::Customer& source,
                               const TakenContacts& taken);

}  // namespace kelola::customer::domain
