#include "customer-svc/app/read_customers.h"

#include <algorithm>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "customer-svc/app/customer_stats.h"
#include "customer-svc/app/customer_writes.h"
#include "customer-svc/app/support.h"
#include "customer-svc/domain/birthdays.h"
#include "customer-svc/domain/paging.h"
#include "customer-svc/store/customer_operations.h"
#include "customer-svc/store/customer_query.h"
#include "customer-svc/store/privacy_records.h"
#include "google/protobuf/util/json_util.h"
#include "libs/errors/errors.h"
#include "libs/log/log.h"
#include "libs/text/normalize.h"

namespace kelola::customer::app {
namespace {

using store::DirectoryTx;
using v1::Customer;

// A message as JSON with its proto field names, as the data export writes it.
absl::StatusOr<std::string> ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string out;
  if (auto s = google::protobuf::util::MessageToJsonString(message, &out, options); !s.ok()) {
    return absl::InternalError(std::string(s.message()));
  }
  return out;
}

template <typename Messages>
absl::StatusOr<std::vector<std::string>> ToJsonEach(const Messages& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) {
    auto json = ToJson(m);
    if (!json.ok()) return json.status();
    out.push_back(*std::move(json));
  }
  return out;
}

struct BirthdayFilter {
  std::string category_id;
  bool has_consent = false;
  v1::MarketingConsentState consent = v1::MARKETING_CONSENT_STATE_UNSPECIFIED;
};

// `category_id = "x"` and `consent = GRANTED|WITHDRAWN|UNSPECIFIED`, joined by AND.
absl::StatusOr<BirthdayFilter> ParseBirthdayFilter(absl::string_view filter) {
  BirthdayFilter out;
  if (absl::StripAsciiWhitespace(filter).empty()) return out;
  auto invalid = [](absl::string_view detail) {
    return errors::Error(absl::StatusCode::kInvalidArgument, "INVALID_FILTER",
                         absl::StrCat("invalid filter: ", detail),
                         {{"detail", std::string(detail)}}, {{"filter", std::string(detail)}});
  };
  for (absl::string_view term : absl::StrSplit(filter, " AND ")) {
    std::vector<std::string> kv = absl::StrSplit(term, absl::MaxSplits('=', 1));
    if (kv.size() != 2) return invalid(absl::StrCat("expected `field = value` in \"", term, "\""));
    std::string key(absl::StripAsciiWhitespace(kv[0]));
    std::string value(absl::StripAsciiWhitespace(kv[1]));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (key == "category_id") {
      out.category_id = value;
    } else if (key == "consent") {
      out.has_consent = true;
      if (value == "GRANTED") {
        out.consent = v1::MARKETING_CONSENT_STATE_GRANTED;
      } else if (value == "WITHDRAWN") {
        out.consent = v1::MARKETING_CONSENT_STATE_WITHDRAWN;
      } else if (value == "UNSPECIFIED") {
        out.consent = v1::MARKETING_CONSENT_STATE_UNSPECIFIED;
      } else {
        return invalid(absl::StrCat("unknown consent value \"", value, "\""));
      }
    } else {
      return invalid(absl::StrCat("unknown field \"", key, "\" (category_id, consent)"));
    }
  }
  return out;
}

}  // namespace

absl::Status ReadCustomers::Get(absl::string_view tenant, absl::string_view customer_id,
                                v1::Customer& out) const {
  return store_.Read(tenant, [&](DirectoryTx& tx) -> absl::Status {
    auto found = MustFind(tx, customer_id);
    if (!found.ok()) return found.status();
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    out = found->customer;
    return AttachStats(tx, settings->settings.currency_code(), {&out});
  });
}

absl::Status ReadCustomers::BatchGet(absl::string_view tenant, const std::vector<std::string>& ids,
                                     bool allow_missing,
                                     v1::BatchGetCustomersResponse& response) const {
  absl::Status status = store_.Read(tenant, [&](DirectoryTx& tx) -> absl::Status {
    response.Clear();
    for (const std::string& raw : ids) {
      auto found = tx.FindCustomer(CanonicalId(raw));
      if (!found.ok()) return found.status();
      if (!found->has_value()) {
        if (!allow_missing) return NotFound("CUSTOMER_NOT_FOUND", "customer", "customer_id", raw);
        response.add_missing_customer_ids(raw);
        continue;
      }
      *response.add_customers() = (*found)->customer;
    }
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    std::vector<Customer*> customers;
    for (Customer& c : *response.mutable_customers()) customers.push_back(&c);
    return AttachStats(tx, settings->settings.currency_code(), customers);
  });
  if (!status.ok()) response.Clear();
  return status;
}

absl::Status ReadCustomers::ExportData(absl::string_view tenant, absl::string_view customer_id,
                                       v1::ExportCustomerDataResponse& response) const {
  const std::string id(customer_id);
  absl::Status status = store_.Read(tenant, [&](DirectoryTx& tx) -> absl::Status {
    auto current = MustFind(tx, id);
    if (!current.ok()) return current.status();
    auto customer_json = ToJson(current->customer);
    if (!customer_json.ok()) return customer_json.status();
    auto history = store::PrivacyRecords(tx).ConsentHistory(id);
    if (!history.ok()) return history.status();
    std::vector<std::string> consents;
    for (const auto& r : *history) {
      auto decision = ToJson(r.consent);
      if (!decision.ok()) return decision.status();
      consents.push_back(absl::StrCat(
          "{\"decision\":", *decision, ",\"principal\":", log::JsonQuote(r.principal),
          ",\"record_time\":",
          log::JsonQuote(absl::FormatTime(absl::RFC3339_full, r.record_time, absl::UTCTimeZone())),
          "}"));
    }
    // Customers merged into this one (their pointers) and the merges it took part in.
    auto merged = store::OperationRecords(tx).CustomersMergedInto(id);
    if (!merged.ok()) return merged.status();
    std::vector<std::string> merged_json;
    for (const std::string& m : *merged) merged_json.push_back(log::JsonQuote(m));
    auto operations = store::OperationRecords(tx).MergesOf(id);
    if (!operations.ok()) return operations.status();
    auto operation_json = ToJsonEach(*operations);
    if (!operation_json.ok()) return operation_json.status();
    auto events = store::PrivacyRecords(tx).CustomerEvents(id);
    if (!events.ok()) return events.status();
    auto event_json = ToJsonEach(*events);
    if (!event_json.ok()) return event_json.status();
    const absl::Time now = tx.now();
    const std::string generated = absl::FormatTime(absl::RFC3339_full, now, absl::UTCTimeZone());
    response.set_data(absl::StrCat(
        "{\"customer\":", *customer_json, ",\"consent_history\":[", absl::StrJoin(consents, ","),
        "],\"merged_customers\":[", absl::StrJoin(merged_json, ","), "],\"merge_operations\":[",
        absl::StrJoin(*operation_json, ","), "],\"events\":[", absl::StrJoin(*event_json, ","),
        "],\"generate_time\":\"", generated, "\"}"));
    response.set_content_type("application/json");
    response.set_file_name(absl::StrCat("customer-", id, ".json"));
    *response.mutable_generate_time() = ToProto(now);
    return absl::OkStatus();
  });
  return status;
}

absl::Status ReadCustomers::CheckForSale(absl::string_view tenant, absl::string_view customer_id,
                                         v1::CheckCustomerForSaleResponse& response) const {
  return store_.Read(tenant, [&](DirectoryTx& tx) -> absl::Status {
    auto found = MustFind(tx, customer_id);
    if (!found.ok()) return found.status();
    const v1::Customer& customer = found->customer;
    response.set_state(customer.state());
    response.set_allowed(customer.state() == v1::CUSTOMER_STATE_ACTIVE);
    response.set_merged_into_customer_id(customer.merged_into_customer_id());
    response.set_category_id(customer.category_id());
    response.set_customer_version(found->version);
    return absl::OkStatus();
  });
}

absl::Status ReadCustomers::UpcomingBirthdays(absl::string_view tenant, const BirthdayQuery& query,
                                              v1::ListUpcomingBirthdaysResponse& response) const {
  auto filter = ParseBirthdayFilter(query.filter);
  if (!filter.ok()) return filter.status();
  const std::string binding = absl::StrCat(query.days, "|", query.filter);
  auto offset = domain::DecodePageToken(query.page_token, "birthdays", binding);
  if (!offset.ok()) return offset.status();
  const size_t page_size = static_cast<size_t>(query.page_size);
  absl::Status status = store_.Read(tenant, [&](DirectoryTx& tx) -> absl::Status {
    response.Clear();
    auto settings = tx.Settings();
    if (!settings.ok()) return settings.status();
    auto tz = TenantZone(settings->settings);
    if (!tz.ok()) return tz.status();
    const absl::CivilDay today = absl::ToCivilDay(tx.now(), *tz);
    auto candidates = tx.BirthdayCandidates(domain::WindowMonthDays(today, query.days));
    if (!candidates.ok()) return candidates.status();
    std::vector<domain::BirthdayInput> inputs;
    absl::flat_hash_map<std::string, const Customer*> by_id;
    for (const Customer& c : *candidates) {
      if (!filter->category_id.empty() && c.category_id() != filter->category_id) continue;
      if (filter->has_consent && c.marketing_consent().state() != filter->consent) continue;
      inputs.push_back({c.customer_id(), text::FoldForMatch(c.display_name()), c.birthday().year(),
                        c.birthday().month(), c.birthday().day()});
      by_id[c.customer_id()] = &c;
    }
    const auto hits = domain::UpcomingBirthdays(today, query.days, inputs);
    response.set_total_size(static_cast<int32_t>(hits.size()));
    const size_t begin = std::min<size_t>(*offset, hits.size());
    size_t end = std::min<size_t>(begin + page_size, hits.size());
    size_t bytes = 0;  // the page is cut short below the message limit (store::kMaxPageBytes)
    for (size_t i = begin; i < end; ++i) {
      bytes += by_id[hits[i].customer_id]->ByteSizeLong() + 64;
      if (bytes > store::kMaxPageBytes && i > begin) {
        end = i;
        break;
      }
      auto* out = response.add_birthdays();
      *out->mutable_customer() = *by_id[hits[i].customer_id];
      out->mutable_next_birthday()->set_year(static_cast<int32_t>(hits[i].next_birthday.year()));
      out->mutable_next_birthday()->set_month(hits[i].next_birthday.month());
      out->mutable_next_birthday()->set_day(hits[i].next_birthday.day());
      out->set_days_until(hits[i].days_until);
      out->set_turning_age(hits[i].turning_age);
    }
    if (end < hits.size()) {
      response.set_next_page_token(domain::EncodePageToken("birthdays", binding, end));
    }
    return absl::OkStatus();
  });
  return status;
}

}  // namespace kelola::customer::app
