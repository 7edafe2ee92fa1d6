#include "libs/customer_stream/customer_reducer.h"

#include <utility>

#include "absl/status/status.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/time/time.h"

namespace kelola::customer_stream {
namespace {

namespace cv1 = customer::v1;

template <typename T>
absl::StatusOr<T> Unpack(const google::protobuf::Any& any) {
  T payload;
  if (!any.UnpackTo(&payload)) {
    return absl::InvalidArgumentError("unreadable customer event payload: " +
                                      T::descriptor()->full_name());
  }
  return payload;
}

CustomerState StateOf(cv1::CustomerState state) {
  switch (state) {
    case cv1::CUSTOMER_STATE_ARCHIVED:
      return CustomerState::kArchived;
    case cv1::CUSTOMER_STATE_MERGED:
      return CustomerState::kMerged;
    case cv1::CUSTOMER_STATE_ERASED:
      return CustomerState::kErased;
    default:  // ACTIVE, and MERGING (a merge in progress: still the customer it was)
      return CustomerState::kActive;
  }
}

// The row from a whole customer snapshot (CustomerCreated, CustomerUpdated).
CustomerRow FromSnapshot(const cv1::Customer& c, CustomerRow row) {
  row.display_name = c.display_name();
  row.phone_e164 = c.phone().e164();
  row.category_id = c.category_id();
  row.marketing_consent = c.marketing_consent().state() == cv1::MARKETING_CONSENT_STATE_GRANTED;
  if (c.has_create_time()) row.created = time::ToTime(c.create_time());
  row.state = StateOf(c.state());
  row.merged_into_customer_id = c.merged_into_customer_id();
  if (row.state == CustomerState::kErased) {
    row.display_name.clear();
    row.phone_e164.clear();
  }
  return row;
}

// Applies the payload of `any` when it is a T; false when it is not.
template <typename T, typename Apply>
absl::StatusOr<bool> On(const google::protobuf::Any& any, CustomerRow& row, Apply apply) {
  if (!any.Is<T>()) return false;
  absl::StatusOr<T> payload = Unpack<T>(any);
  if (!payload.ok()) return payload.status();
  apply(*payload, row);
  return true;
}

absl::StatusOr<bool> Apply(const google::protobuf::Any& any, CustomerRow& row) {
  absl::StatusOr<bool> done = false;
  auto try_one = [&](absl::StatusOr<bool> r) {
    done = std::move(r);
    return !done.ok() || *done;
  };
  try_one(On<cv1::CustomerCreated>(
      any, row,
      [](const auto& p, CustomerRow& r) { r = FromSnapshot(p.customer(), std::move(r)); })) ||
      try_one(On<cv1::CustomerUpdated>(
          any, row,
          [](const auto& p, CustomerRow& r) { r = FromSnapshot(p.customer(), std::move(r)); })) ||
      try_one(On<cv1::CustomerArchived>(
          any, row, [](const auto&, CustomerRow& r) { r.state = CustomerState::kArchived; })) ||
      try_one(On<cv1::CustomerRestored>(
          any, row, [](const auto&, CustomerRow& r) { r.state = CustomerState::kActive; })) ||
      try_one(On<cv1::CustomerCategoryChanged>(
          any, row, [](const auto& p, CustomerRow& r) { r.category_id = p.new_category_id(); })) ||
      try_one(On<cv1::CustomerMarketingConsentChanged>(any, row,
                                                       [](const auto& p, CustomerRow& r) {
                                                         r.marketing_consent =
                                                             p.marketing_consent().state() ==
                                                             cv1::MARKETING_CONSENT_STATE_GRANTED;
                                                       })) ||
      try_one(On<cv1::CustomerMerged>(any, row,
                                      [](const auto& p, CustomerRow& r) {
                                        r.state = CustomerState::kMerged;
                                        r.merged_into_customer_id = p.target_customer_id();
                                      })) ||
      try_one(On<cv1::CustomerErased>(any, row,
                                      [](const auto&, CustomerRow& r) {
                                        r.state = CustomerState::kErased;
                                        r.display_name.clear();
                                        r.phone_e164.clear();
                                      })) ||
      try_one(On<cv1::CustomerDeleted>(
          any, row, [](const auto&, CustomerRow& r) { r.state = CustomerState::kDeleted; }));
  return done;
}

}  // namespace

std::optional<std::string> CustomerOf(const type::v1::Event& event) {
  const google::protobuf::Any& any = event.payload();
  // Every customer event's aggregate is the customer (the source, for CustomerMerged).
  if (any.Is<cv1::CustomerCreated>() || any.Is<cv1::CustomerUpdated>() ||
      any.Is<cv1::CustomerArchived>() || any.Is<cv1::CustomerRestored>() ||
      any.Is<cv1::CustomerCategoryChanged>() || any.Is<cv1::CustomerMarketingConsentChanged>() ||
      any.Is<cv1::CustomerErased>() || any.Is<cv1::CustomerDeleted>() ||
      any.Is<cv1::CustomerMerged>()) {
    return event.aggregate_id();
  }
  return std::nullopt;
}

absl::StatusOr<CustomerRow> ReduceCustomer(const type::v1::Event& event, const CustomerRow& row) {
  if (event.aggregate_version() < row.version) return row;  // older than what is stored
  CustomerRow next = row;
  absl::StatusOr<bool> applied = Apply(event.payload(), next);
  if (!applied.ok()) return applied.status();
  if (!*applied) return row;
  next.version = event.aggregate_version();
  return next;
}

}  // namespace kelola::customer_stream
