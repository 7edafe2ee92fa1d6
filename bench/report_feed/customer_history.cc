#include "bench/report_feed/customer_history.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/time/time.h"

namespace kelola::bench {
namespace {

namespace cv1 = kelola::customer::v1;

constexpr const char* kCategoryNames[HistoryPlan::kCategories] = {
    "Pelanggan Umum", "Member Silver", "Member Gold", "Reseller", "Grosir", "Karyawan"};

void Envelope(const HistoryPlan& plan, int64_t sequence, const char* aggregate_type,
              const std::string& aggregate_id, absl::Time when,
              const google::protobuf::Message& payload, type::v1::Event& out) {
  out.Clear();
  out.set_sequence(sequence);
  out.set_tenant_id(plan.tenant_id);
  out.set_type(payload.GetDescriptor()->full_name());
  out.set_aggregate_type(aggregate_type);
  out.set_aggregate_id(aggregate_id);
  out.set_aggregate_version(1);
  *out.mutable_occur_time() = time::ToTimestamp(when);
  out.mutable_payload()->PackFrom(payload);
  out.set_request_id(absl::StrCat("bench-", aggregate_type, "-", sequence));
  out.set_principal("bench");
}

}  // namespace

bool CustomerHistory::Next(type::v1::Event* out) {
  if (next_ >= Size(plan_)) return false;
  const int64_t index = next_++;
  if (out == nullptr) return true;
  if (index < HistoryPlan::kCategories) {
    FillCategory(static_cast<int>(index), *out);
  } else {
    FillCustomer(index - HistoryPlan::kCategories, *out);
  }
  return true;
}

void CustomerHistory::FillCategory(int k, type::v1::Event& out) const {
  cv1::CategoryChanged payload;
  cv1::Category& category = *payload.mutable_category();
  category.set_category_id(plan_.CategoryId(k));
  category.set_display_name(kCategoryNames[k]);
  category.set_member_discount_basis_points(k * 100);
  *category.mutable_create_time() = time::ToTimestamp(plan_.start());
  *category.mutable_update_time() = time::ToTimestamp(plan_.start());
  category.set_etag("1");
  Envelope(plan_, k + 1, "category", category.category_id(), plan_.start(), payload, out);
}

void CustomerHistory::FillCustomer(int64_t c, type::v1::Event& out) const {
  const SyntheticCustomer person = names_.Make(c);
  const absl::Time created = plan_.CustomerCreated(c);
  cv1::CustomerCreated payload;
  cv1::Customer& customer = *payload.mutable_customer();
  customer.set_customer_id(plan_.CustomerId(c));
  customer.set_display_name(person.display_name);
  // A phone of its own per customer (unique, parseable), typed as shops type them.
  const int64_t number = 10000000 + c;
  customer.mutable_phone()->set_raw(
      absl::StrFormat("0812-%04d-%04d", number / 10000 % 10000, number % 10000));
  customer.mutable_phone()->set_e164(absl::StrFormat("+62812%08d", number % 100000000));
  customer.set_email(person.email);
  // One in five customers is in no category.
  const uint64_t pick = Mix(plan_.seed, c, 0xCA7E) % (HistoryPlan::kCategories + 2);
  if (pick < HistoryPlan::kCategories) {
    customer.set_category_id(plan_.CategoryId(static_cast<int>(pick)));
  }
  if (Mix(plan_.seed, c, 0xC0) % 3 == 0) {
    customer.mutable_marketing_consent()->set_state(cv1::MARKETING_CONSENT_STATE_GRANTED);
    *customer.mutable_marketing_consent()->mutable_consent_time() = time::ToTimestamp(created);
    customer.mutable_marketing_consent()->set_source("in_store");
  }
  customer.set_state(cv1::CUSTOMER_STATE_ACTIVE);
  *customer.mutable_create_time() = time::ToTimestamp(created);
  *customer.mutable_update_time() = time::ToTimestamp(created);
  customer.set_etag("1");
  Envelope(plan_, HistoryPlan::kCategories + c + 1, "customer", customer.customer_id(), created,
           payload, out);
}

}  // namespace kelola::bench
