#include "customer-svc/store/privacy_records.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/time/time.h"

namespace kelola::customer::store {
PrivacyRecords::PrivacyRecords(DirectoryTx& tx)
    : tx_(tx.transaction()),
      tenant_(tx.tenant_id()),
      now_(tx.now()),
      principal_(tx.principal()),
      request_id_(tx.request_id()) {}

absl::Status PrivacyRecords::AddConsent(absl::string_view customer_id,
                                        const v1::MarketingConsent& consent) {
  auto next = tx_.QueryOne(
      "SELECT COALESCE(MAX(position), 0) + 1 FROM consent_history WHERE tenant_id = ? AND "
      "customer_id = ?",
      {tenant_, std::string(customer_id)});
  if (!next.ok()) return next.status();
  return tx_.ExecuteDeferred(
      "INSERT INTO consent_history (tenant_id, customer_id, position, state, "
      "consent_time_micros, source, principal, record_time_micros) VALUES (?, ?, ?, ?, ?, ?, "
      "?, ?)",
      {tenant_, std::string(customer_id), next->GetInt(0), static_cast<int64_t>(consent.state()),
       time::ToUnixMicros(consent.consent_time()), consent.source(), principal_,
       absl::ToUnixMicros(now_)});
}

absl::StatusOr<std::vector<ConsentRecord>> PrivacyRecords::ConsentHistory(
    absl::string_view customer_id) {
  auto rows = tx_.Query(
      "SELECT state, consent_time_micros, source, principal, record_time_micros FROM "
      "consent_history WHERE tenant_id = ? AND customer_id = ? ORDER BY position",
      {tenant_, std::string(customer_id)});
  if (!rows.ok()) return rows.status();
  std::vector<ConsentRecord> out;
  for (const auto& row : *rows) {
    ConsentRecord r;
    r.consent.set_state(static_cast<v1::MarketingConsentState>(row.GetInt(0)));
    *r.consent.mutable_consent_time() = time::TimestampFromUnixMicros(row.GetInt(1));
    r.consent.set_source(row.GetText(2));
    r.principal = row.GetText(3);
    r.record_time = time::ToTime(time::TimestampFromUnixMicros(row.GetInt(4)));
    out.push_back(std::move(r));
  }
  return out;
}

absl::Status PrivacyRecords::EraseTraces(const v1::Customer& anonymized, absl::string_view reason) {
  const std::string id = anonymized.customer_id();
  // Remembered responses of earlier writes: every customer write response has the
  // customer in field 1, so one anonymized CreateCustomerResponse fits them all.
  v1::CustomerCreated scrubbed_response;  // field 1 = Customer, like the responses
  *scrubbed_response.mutable_customer() = anonymized;
  auto scrubbed =
      tx_.Execute("UPDATE idempotency_keys SET response = ? WHERE tenant_id = ? AND subject_id = ?",
                  {db::Bytes{scrubbed_response.SerializeAsString()}, tenant_, id});
  if (!scrubbed.ok()) return scrubbed.status();
  auto n = tx_.Execute("DELETE FROM consent_history WHERE tenant_id = ? AND customer_id = ?",
                       {tenant_, id});
  if (!n.ok()) return n.status();
  // Earlier events must not bring the personal data back on replay: those still staged
  // for numbering (PostgreSQL, outbox_sequencer.h) first, then the numbered ones, so that
  // an event the sequencer moves meanwhile is scrubbed in one table or the other.
  for (const auto& [table, key] : {std::pair<const char*, const char*>{"event_staging", "id"},
                                   std::pair<const char*, const char*>{"events", "sequence"}}) {
    if (absl::Status s = ScrubCustomerEvents(table, key, id); !s.ok()) return s;
  }
  auto audit = tx_.Execute(
      "INSERT INTO erasure_audit (tenant_id, customer_id, erase_time_micros, principal, "
      "reason, request_id) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, customer_id) DO "
      "NOTHING",
      {tenant_, id, absl::ToUnixMicros(now_), principal_, std::string(reason), request_id_});
  return audit.status();
}

absl::Status PrivacyRecords::ScrubCustomerEvents(const char* table, const char* key,
                                                 const std::string& id) {
  auto rows = tx_.Query(absl::StrCat("SELECT ", key, ", type FROM ", table,
                                     " WHERE tenant_id = ? AND aggregate_type = 'customer' "
                                     "AND aggregate_id = ?"),
                        {tenant_, id});
  if (!rows.ok()) return rows.status();
  for (const auto& row : *rows) {
    const std::string type = row.GetText(1);
    std::string payload;
    if (type == v1::CustomerCreated::descriptor()->full_name()) {
      v1::CustomerCreated e;
      e.mutable_customer()->set_customer_id(id);
      payload = e.SerializeAsString();
    } else if (type == v1::CustomerUpdated::descriptor()->full_name()) {
      v1::CustomerUpdated e;
      e.mutable_customer()->set_customer_id(id);
      payload = e.SerializeAsString();
    } else if (type == v1::CustomerMarketingConsentChanged::descriptor()->full_name()) {
      v1::CustomerMarketingConsentChanged e;
      e.set_customer_id(id);
      payload = e.SerializeAsString();
    } else {
      continue;  // the other customer events carry ids only
    }
    auto u = tx_.Execute(absl::StrCat("UPDATE ", table, " SET payload = ? WHERE ", key, " = ?"),
                         {db::Bytes{payload}, row.GetInt(0)});
    if (!u.ok()) return u.status();
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<type::v1::Event>> PrivacyRecords::CustomerEvents(
    absl::string_view customer_id) {
  auto rows = tx_.Query(
      "SELECT sequence, type, aggregate_version, occur_time_micros, payload, request_id, "
      "principal FROM events WHERE tenant_id = ? AND aggregate_type = 'customer' AND "
      "aggregate_id = ? ORDER BY sequence",
      {tenant_, std::string(customer_id)});
  if (!rows.ok()) return rows.status();
  std::vector<type::v1::Event> out;
  for (const auto& row : *rows) {
    type::v1::Event& e = out.emplace_back();
    e.set_sequence(row.GetInt(0));
    e.set_tenant_id(tenant_);
    e.set_type(row.GetText(1));
    e.set_aggregate_type("customer");
    e.set_aggregate_id(std::string(customer_id));
    e.set_aggregate_version(row.GetInt(2));
    *e.mutable_occur_time() = time::TimestampFromUnixMicros(row.GetInt(3));
    e.mutable_payload()->set_type_url(absl::StrCat("type.googleapis.com/", e.type()));
    e.mutable_payload()->set_value(row.GetBytes(4));
    e.set_request_id(row.GetText(5));
    e.set_principal(row.GetText(6));
    time::ClampStoredTimestamps(&e);  // the payload's times
  }
  return out;
}

}  // namespace kelola::customer::store
