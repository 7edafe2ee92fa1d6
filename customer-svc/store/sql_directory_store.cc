// The SQL implementation of DirectoryStore over libs/db (SQLite and PostgreSQL): the same
// statements on both, `?` placeholders, dialect-specific only for row locks.

#include <algorithm>
#include <cstring>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "customer-svc/domain/tenant_rules.h"
#include "customer-svc/store/customer_rows.h"
#include "customer-svc/store/directory_store.h"
#include "customer-svc/store/planner_statistics.h"
#include "customer-svc/store/query_sql.h"
#include "customer-svc/store/remembered_keys.h"
#include "kelola/customer/v1/events.pb.h"
#include "libs/db/row_values.h"
#include "libs/errors/errors.h"
#include "libs/idempotency/idempotency.h"
#include "libs/phone/phone_normalizer.h"
#include "libs/text/collation.h"
#include "libs/text/normalize.h"
#include "libs/time/time.h"

namespace kelola::customer::store {
namespace {

std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

int64_t Micros(const google::protobuf::Timestamp& t) { return time::ToUnixMicros(t); }

db::Value TextOrNull(const std::string& s) {
  if (s.empty()) return db::Null();
  return s;
}

using db::Placeholders;

// The phones of a customer with the request field path each came from.
struct PhoneRef {
  std::string e164;
  std::string national;
  std::string field;
};

std::vector<PhoneRef> PhonesOf(const v1::Customer& c) {
  std::vector<PhoneRef> out;
  // The national significant number (no country code, no trunk 0), which quick search
  // matches partial digits against.
  auto national = [](const std::string& e164) { return phone::SearchableNationalNumber(e164); };
  if (c.has_phone() && !c.phone().e164().empty()) {
    out.push_back({c.phone().e164(), national(c.phone().e164()), "customer.phone"});
  }
  for (int i = 0; i < c.additional_phones_size(); ++i) {
    const auto& p = c.additional_phones(i);
    if (p.e164().empty()) continue;
    out.push_back(
        {p.e164(), national(p.e164()), absl::StrCat("customer.additional_phones[", i, "]")});
  }
  return out;
}

bool CountsForDuplicates(const CustomerRecord& r) {
  return r.customer.state() == v1::CUSTOMER_STATE_ACTIVE && !r.duplicate_allowed;
}

// Finds another counted customer holding one of the phones or the email.
absl::Status FindConflict(db::Transaction& tx, const std::string& tenant,
                          const v1::Customer& customer) {
  const auto phones = PhonesOf(customer);
  if (!phones.empty()) {
    std::vector<db::Value> params = {tenant, customer.customer_id()};
    for (const auto& p : phones) params.push_back(p.e164);
    // At most one row per phone (e164_dedupe is unique). Not "ORDER BY customer_id LIMIT
    // 1": PostgreSQL would walk the primary key in customer_id order looking for a match,
    // through every phone of the tenant when there is none (the usual case).
    auto rows =
        tx.Query(absl::StrCat("SELECT p.customer_id, p.e164, c.display_name FROM customer_phones p "
                              "JOIN customers c ON c.tenant_id = p.tenant_id AND c.customer_id = "
                              "p.customer_id WHERE p.tenant_id = ? AND p.customer_id <> ? AND "
                              "p.e164_dedupe IN (",
                              Placeholders(phones.size()), ")"),
                 params);
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) {
      // The same customer whichever order the database returns them in: the lowest id.
      std::sort(rows->begin(), rows->end(),
                [](const db::Row& a, const db::Row& b) { return a.GetText(0) < b.GetText(0); });
      const std::string e164 = (*rows)[0].GetText(1);
      std::string field = "customer.phone";
      for (const auto& p : phones) {
        if (p.e164 == e164) {
          field = p.field;
          break;
        }
      }
      return errors::Error(
          absl::StatusCode::kAlreadyExists, "CUSTOMER_DUPLICATE",
          absl::StrCat("customer already exists: ", (*rows)[0].GetText(0), " has the phone ", e164),
          {{"existing_customer_id", (*rows)[0].GetText(0)},
           {"existing_display_name", (*rows)[0].GetText(2)},
           {"field", field},
           {"value", e164}});
    }
  }
  if (!customer.email().empty()) {
    auto rows = tx.Query(
        "SELECT customer_id, display_name FROM customers WHERE tenant_id = ? AND "
        "email_dedupe = ? AND customer_id <> ? LIMIT 1",
        {tenant, customer.email(), customer.customer_id()});
    if (!rows.ok()) return rows.status();
    if (!rows->empty()) {
      return errors::Error(absl::StatusCode::kAlreadyExists, "CUSTOMER_DUPLICATE",
                           absl::StrCat("customer already exists: ", (*rows)[0].GetText(0),
                                        " has the e-mail ", customer.email()),
                           {{"existing_customer_id", (*rows)[0].GetText(0)},
                            {"existing_display_name", (*rows)[0].GetText(1)},
                            {"field", "customer.email"},
                            {"value", customer.email()}});
    }
  }
  return absl::OkStatus();
}

// Multi-row inserts (db::InsertRows) of a customer's row, phones and key subjects.
constexpr char kInsertCustomers[] =
    "INSERT INTO customers (tenant_id, customer_id, state, display_name, name_folded, "
    "name_sort_key, email_normalized, email_dedupe, category_id, consent_granted, "
    "consent_state, birthday_month, birthday_day, merged_into, create_time_micros, "
    "update_time_micros, version, data, duplicate_allowed)";
constexpr size_t kCustomerColumns = 19;
constexpr char kInsertPhones[] =
    "INSERT INTO customer_phones (tenant_id, customer_id, position, e164, national_number, "
    "e164_dedupe)";
constexpr size_t kPhoneColumns = 6;

// Who writes in a read transaction: nobody.
const std::string& Nobody() {
  static const std::string* const kNobody = new std::string();
  return *kNobody;
}

class SqlDirectoryTx final : public DirectoryTx {
 public:
  SqlDirectoryTx(db::Transaction& tx, std::string tenant, absl::Time now,
                 const events::Outbox& outbox, const WriteOptions* options,
                 std::optional<v1::Customer>* probe, const DirectoryStoreOptions* store_options)
      : store_options_(store_options),
        tx_(tx),
        tenant_(std::move(tenant)),
        now_(now),
        outbox_(outbox),
        options_(options),
        probe_(probe) {}

  const std::string& tenant_id() const override { return tenant_; }
  db::Transaction& transaction() override { return tx_; }
  absl::Time now() const override { return now_; }
  const std::string& principal() const override {
    return options_ != nullptr ? options_->principal : Nobody();
  }
  const std::string& request_id() const override {
    return options_ != nullptr ? options_->request_id : Nobody();
  }

  absl::StatusOr<StoredSettings> Settings() override {
    auto rows =
        tx_.Query("SELECT settings, version FROM tenant_settings WHERE tenant_id = ?", {tenant_});
    if (!rows.ok()) return rows.status();
    StoredSettings out;
    if (rows->empty()) {
      out.settings.set_tenant_id(tenant_);
      out.settings.set_default_phone_region("ID");
      out.settings.set_currency_code("IDR");
      out.settings.set_time_zone("Asia/Jakarta");
      out.settings.set_language_code("id");
      return out;
    }
    if (!out.settings.ParseFromString((*rows)[0].GetBytes(0))) {
      return absl::InternalError("corrupt tenant settings");
    }
    out.version = (*rows)[0].GetInt(1);
    return out;
  }

  absl::Status PutSettings(const v1::TenantSettings& settings, int64_t version) override {
    auto n = tx_.Execute(
        "INSERT INTO tenant_settings (tenant_id, settings, version, update_time_micros) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (tenant_id) DO UPDATE SET settings = "
        "excluded.settings, version = excluded.version, update_time_micros = "
        "excluded.update_time_micros",
        {tenant_, db::Bytes{settings.SerializeAsString()}, version, absl::ToUnixMicros(now_)});
    return n.status();
  }

  absl::StatusOr<std::optional<StoredCustomer>> FindCustomer(absl::string_view id) override {
    auto rows = tx_.Query(
        "SELECT data, version, duplicate_allowed FROM customers WHERE tenant_id = ? AND "
        "customer_id = ?",
        {tenant_, std::string(id)});
    if (!rows.ok()) return rows.status();
    if (rows->empty()) return std::optional<StoredCustomer>();
    auto out = StoredCustomerFromRow((*rows)[0]);
    if (!out.ok()) return out.status();
    return std::optional<StoredCustomer>(*std::move(out));
  }

  absl::Status CheckDuplicates(const v1::Customer& customer) override {
    return FindConflict(tx_, tenant_, customer);
  }

  absl::Status InsertCustomer(const CustomerRecord& r) override {
    if (probe_ != nullptr && CountsForDuplicates(r)) *probe_ = r.customer;
    if (absl::Status s = db::InsertRows(tx_, kInsertCustomers, kCustomerColumns, RowParams(r));
        !s.ok()) {
      return s;
    }
    return WritePhones(r);
  }

  absl::Status InsertNewCustomers(absl::string_view key_scope,
                                  const std::vector<NewCustomerWrite>& customers) override {
    std::vector<db::Value> rows, phones, keys;
    std::vector<events::NewEvent> events;
    std::vector<std::string> ids;
    rows.reserve(customers.size() * kCustomerColumns);
    events.reserve(customers.size());
    ids.reserve(customers.size());
    for (const NewCustomerWrite& c : customers) {
      const CustomerRecord& r = c.record;
      const std::string& id = r.customer.customer_id();
      if (probe_ != nullptr && CountsForDuplicates(r)) *probe_ = r.customer;
      std::vector<db::Value> row = RowParams(r);
      rows.insert(rows.end(), std::make_move_iterator(row.begin()),
                  std::make_move_iterator(row.end()));
      AppendPhoneRows(r, &phones);
      events.push_back(EventFor(id, 1, c.event));
      AppendKeySubjectRow(tenant_, key_scope, c.key, id, now_, &keys);
      ids.push_back(id);
    }
    if (absl::Status s = db::InsertRows(tx_, kInsertCustomers, kCustomerColumns, std::move(rows));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = db::InsertRows(tx_, kInsertPhones, kPhoneColumns, std::move(phones));
        !s.ok()) {
      return s;
    }
    if (store_options_ != nullptr && store_options_->on_customers_inserted) {
      if (absl::Status s = store_options_->on_customers_inserted(tx_, tenant_, ids); !s.ok()) {
        return s;
      }
    } else if (store_options_ != nullptr && store_options_->on_customer_written) {
      for (const NewCustomerWrite& c : customers) {
        const v1::Customer& customer = c.record.customer;
        if (absl::Status s = store_options_->on_customer_written(tx_, tenant_,
                                                                 customer.customer_id(), &customer);
            !s.ok()) {
          return s;
        }
      }
    }
    if (absl::Status s = outbox_.AppendMany(tx_, events); !s.ok()) return s;
    return PutKeySubjectRows(tx_, std::move(keys));
  }

  absl::Status UpdateCustomer(const CustomerRecord& r) override {
    if (probe_ != nullptr && CountsForDuplicates(r)) *probe_ = r.customer;
    // Phones first: old rows go before new ones take their dedupe values.
    absl::Status deleted =
        tx_.ExecuteDeferred("DELETE FROM customer_phones WHERE tenant_id = ? AND customer_id = ?",
                            {tenant_, r.customer.customer_id()});
    if (!deleted.ok()) return deleted;
    auto n = tx_.Execute(
        "UPDATE customers SET state = ?, display_name = ?, name_folded = ?, name_sort_key = ?, "
        "email_normalized = ?, email_dedupe = ?, category_id = ?, consent_granted = ?, "
        "consent_state = ?, birthday_month = ?, birthday_day = ?, merged_into = ?, "
        "create_time_micros = ?, "
        "update_time_micros = ?, version = ?, data = ?, duplicate_allowed = ? WHERE tenant_id "
        "= ? AND customer_id = ?",
        db::KeyLast(RowParams(r), 2));
    if (!n.ok()) return n.status();
    if (*n != 1) return absl::NotFoundError("customer row vanished");
    return WritePhones(r);
  }

  absl::Status DeleteCustomer(absl::string_view id_view) override {
    const std::string id(id_view);
    for (const char* table : {"customer_phones", "consent_history", "customers"}) {
      auto n = tx_.Execute(
          absl::StrCat("DELETE FROM ", table, " WHERE tenant_id = ? AND customer_id = ?"),
          {tenant_, id});
      if (!n.ok()) return n.status();
    }
    auto n = tx_.Execute(
        "INSERT INTO deleted_customers (tenant_id, customer_id, delete_time_micros, principal, "
        "request_id) VALUES (?, ?, ?, ?, ?)",
        {tenant_, id, absl::ToUnixMicros(now_), principal(), request_id()});
    if (!n.ok()) return n.status();
    if (store_options_ == nullptr || !store_options_->on_customer_written) return absl::OkStatus();
    return store_options_->on_customer_written(tx_, tenant_, id, nullptr);
  }

  absl::StatusOr<bool> IsDeleted(absl::string_view id) override {
    auto rows = tx_.Query("SELECT 1 FROM deleted_customers WHERE tenant_id = ? AND customer_id = ?",
                          {tenant_, std::string(id)});
    if (!rows.ok()) return rows.status();
    return !rows->empty();
  }

  absl::StatusOr<int64_t> CountLimitedCustomers(bool lock) override {
    if (lock && tx_.dialect() == db::Dialect::kPostgres) {
      auto locked = tx_.Query("SELECT version FROM tenant_settings WHERE tenant_id = ? FOR UPDATE",
                              {tenant_});
      if (!locked.ok()) return locked.status();
    }
    auto row =
        tx_.QueryOne("SELECT COUNT(*) FROM customers WHERE tenant_id = ? AND state IN (?, ?, ?)",
                     {tenant_, static_cast<int64_t>(v1::CUSTOMER_STATE_ACTIVE),
                      static_cast<int64_t>(v1::CUSTOMER_STATE_ARCHIVED),
                      static_cast<int64_t>(v1::CUSTOMER_STATE_MERGING)});
    if (!row.ok()) return row.status();
    return row->GetInt(0);
  }

  absl::StatusOr<std::vector<v1::Customer>> BirthdayCandidates(
      const std::vector<std::pair<int, int>>& month_days) override {
    std::vector<v1::Customer> out;
    if (month_days.empty()) return out;
    std::vector<int64_t> months;
    for (const auto& [m, d] : month_days) {
      if (months.empty() || months.back() != m) months.push_back(m);
    }
    std::vector<db::Value> params = {tenant_, static_cast<int64_t>(v1::CUSTOMER_STATE_ACTIVE)};
    for (int64_t m : months) params.push_back(m);
    auto rows = tx_.Query(
        absl::StrCat("SELECT data, birthday_month, birthday_day FROM customers WHERE tenant_id "
                     "= ? AND state = ? AND birthday_month IN (",
                     Placeholders(months.size()), ")"),
        params);
    if (!rows.ok()) return rows.status();
    for (const auto& row : *rows) {
      const std::pair<int, int> md(static_cast<int>(row.GetInt(1)),
                                   static_cast<int>(row.GetInt(2)));
      if (!std::binary_search(month_days.begin(), month_days.end(), md)) continue;
      v1::Customer c;
      if (!c.ParseFromString(row.GetBytes(0))) return absl::InternalError("corrupt customer row");
      time::ClampStoredTimestamps(&c);
      out.push_back(std::move(c));
    }
    return out;
  }

  void SetIdempotencySubject(absl::string_view customer_id) override {
    subject_ = std::string(customer_id);
  }
  const std::string& subject() const { return subject_; }

  absl::Status InSavepoint(const std::function<absl::Status()>& fn) override {
    // One fixed name per nesting depth, so that the statements stay in the driver's cache
    // of prepared statements (a new name per row would fill it).
    const std::string name = absl::StrCat("dir_sp", savepoint_depth_);
    if (auto s = tx_.ExecuteDeferred(absl::StrCat("SAVEPOINT ", name)); !s.ok()) return s;
    ++savepoint_depth_;
    absl::Status status = fn();
    --savepoint_depth_;
    // The deferred statements of `fn` belong to the savepoint: their errors are its.
    absl::Status deferred = tx_.Sync();
    if (db::IsConflict(deferred)) return deferred;  // the whole transaction runs again
    if (status.ok()) status = deferred;
    if (!status.ok()) {
      if (auto s = tx_.Execute(absl::StrCat("ROLLBACK TO SAVEPOINT ", name)).status(); !s.ok()) {
        return s;
      }
    }
    if (auto s = tx_.ExecuteDeferred(absl::StrCat("RELEASE SAVEPOINT ", name)); !s.ok()) {
      return s;
    }
    return status;
  }

  absl::Status Sync() override { return tx_.Sync(); }

  absl::StatusOr<absl::flat_hash_set<std::string>> HeldContacts(
      const std::vector<std::string>& e164s, const std::vector<std::string>& emails) override {
    absl::flat_hash_set<std::string> out;
    for (const auto& column :
         {std::pair{&e164s,
                    "SELECT e164_dedupe FROM customer_phones WHERE tenant_id = ? AND "
                    "e164_dedupe IN ("},
          std::pair{&emails,
                    "SELECT email_dedupe FROM customers WHERE tenant_id = ? AND "
                    "email_dedupe IN ("}}) {
      const char* const sql = column.second;
      const std::vector<std::string>& values = *column.first;
      absl::Status read =
          query_sql::ForEachInListChunk(values.size(), [&](size_t begin, size_t end) {
            std::vector<db::Value> params = {tenant_};
            params.insert(params.end(), values.begin() + begin, values.begin() + end);
            auto rows = tx_.Query(absl::StrCat(sql, Placeholders(end - begin), ")"), params);
            if (!rows.ok()) return rows.status();
            for (const auto& r : *rows) out.insert(r.GetText(0));
            return absl::OkStatus();
          });
      if (!read.ok()) return read;
    }
    return out;
  }

  absl::Status Emit(absl::string_view aggregate_type, absl::string_view aggregate_id,
                    int64_t aggregate_version, const google::protobuf::Message& payload) override {
    events::NewEvent e = EventFor(aggregate_id, aggregate_version, payload);
    e.aggregate_type = std::string(aggregate_type);
    return outbox_.Append(tx_, e);
  }

 private:
  std::vector<db::Value> RowParams(const CustomerRecord& r) {
    const v1::Customer& c = r.customer;
    const bool counted = CountsForDuplicates(r);
    const bool has_birthday = c.has_birthday() && c.birthday().month() != 0;
    return {
        tenant_,
        c.customer_id(),
        static_cast<int64_t>(c.state()),
        c.display_name(),
        text::FoldForMatch(Sv(c.display_name())),
        text::CollationKey(Sv(c.display_name()), Sv(r.collation_locale)),
        TextOrNull(c.email()),
        counted ? TextOrNull(c.email()) : db::Null(),
        TextOrNull(c.category_id()),
        static_cast<int64_t>(c.marketing_consent().state() == v1::MARKETING_CONSENT_STATE_GRANTED),
        static_cast<int64_t>(c.marketing_consent().state()),
        has_birthday ? db::Value(static_cast<int64_t>(c.birthday().month())) : db::Null(),
        has_birthday ? db::Value(static_cast<int64_t>(c.birthday().day())) : db::Null(),
        TextOrNull(c.merged_into_customer_id()),
        Micros(c.create_time()),
        Micros(c.update_time()),
        r.version,
        db::Bytes{c.SerializeAsString()},
        static_cast<int64_t>(r.duplicate_allowed)};
  }

  absl::Status WritePhones(const CustomerRecord& r) {
    absl::Status written = InsertPhones(r);
    if (!written.ok() || store_options_ == nullptr || !store_options_->on_customer_written) {
      return written;
    }
    return store_options_->on_customer_written(tx_, tenant_, r.customer.customer_id(), &r.customer);
  }

  absl::Status InsertPhones(const CustomerRecord& r) {
    std::vector<db::Value> phones;
    AppendPhoneRows(r, &phones);
    return db::InsertRows(tx_, kInsertPhones, kPhoneColumns, std::move(phones));
  }

  // The customer_phones rows of `r` (kPhoneColumns values each), appended to `out`.
  void AppendPhoneRows(const CustomerRecord& r, std::vector<db::Value>* out) {
    const bool counted = CountsForDuplicates(r);
    int64_t position = 0;
    for (const auto& p : PhonesOf(r.customer)) {
      out->insert(out->end(), {tenant_, r.customer.customer_id(), position++, p.e164, p.national,
                               counted ? db::Value(p.e164) : db::Null()});
    }
  }

  // An event of this write about the customer `aggregate_id`.
  events::NewEvent EventFor(absl::string_view aggregate_id, int64_t aggregate_version,
                            const google::protobuf::Message& payload) const {
    events::NewEvent e;
    e.tenant_id = tenant_;
    e.aggregate_type = "customer";
    e.aggregate_id = std::string(aggregate_id);
    e.aggregate_version = aggregate_version;
    e.payload = &payload;
    e.request_id = request_id();
    e.principal = principal();
    return e;
  }

  const DirectoryStoreOptions* store_options_;
  db::Transaction& tx_;
  std::string tenant_;
  absl::Time now_;
  const events::Outbox& outbox_;
  const WriteOptions* options_;
  std::optional<v1::Customer>* probe_;
  std::string subject_;
  int savepoint_depth_ = 0;
};

class SqlDirectoryStore final : public DirectoryStore {
 public:
  SqlDirectoryStore(db::Database& db, const Clock& clock, const events::Outbox& outbox,
                    DirectoryStoreOptions options)
      : db_(db), clock_(clock), outbox_(outbox), options_(std::move(options)) {}

  absl::Status Write(absl::string_view tenant_id, const WriteOptions& options, const TxFn& fn,
                     google::protobuf::Message* response) override {
    const std::string tenant(tenant_id);
    std::vector<std::pair<std::string, std::string>> keys;
    if (!options.idempotency_key.empty()) keys.emplace_back(options.scope, options.idempotency_key);
    for (const auto& k : options.extra_keys) keys.push_back(k);

    absl::Status status;
    for (int attempt = 0; attempt < 4; ++attempt) {
      std::optional<v1::Customer> probe;
      const bool shared = options_.writer != nullptr && !options.bulk;
      const db::TransactionFn attempt_fn = [&](db::Transaction& t) -> absl::Status {
        probe.reset();
        if (response != nullptr) response->Clear();
        // A replay of an earlier write?
        for (const auto& [scope, key] : keys) {
          auto stored = idempotency::Lookup(t, {tenant, scope, key});
          if (!stored.ok()) return stored.status();
          if (!stored->has_value()) continue;
          if ((*stored)->request_hash != options.request_hash) {
            const bool is_request_id = key == options.idempotency_key && scope == options.scope;
            return errors::Error(
                absl::StatusCode::kAlreadyExists, "REQUEST_ID_REUSED",
                is_request_id ? "this request_id was used for a different request"
                              : "this id was already used by a different request",
                {{"field", is_request_id ? "request_id" : scope.substr(scope.rfind('.') + 1)},
                 {"value", key}});
          }
          if (response != nullptr && !response->ParseFromString((*stored)->response)) {
            return absl::InternalError("corrupt idempotency record");
          }
          return absl::OkStatus();
        }
        SqlDirectoryTx tx(t, tenant, clock_.Now(), outbox_, &options, &probe, &options_);
        absl::Status s = fn(tx);
        if (!s.ok()) return s;
        const std::string stored_response =
            response != nullptr ? response->SerializeAsString() : std::string();
        for (const auto& [scope, key] : keys) {
          absl::Status n = idempotency::Record(t, {tenant, scope, key}, options.request_hash,
                                               stored_response, tx.now(), tx.subject());
          if (!n.ok()) return n;
        }
        return absl::OkStatus();
      };
      status = shared ? options_.writer->Run(attempt_fn)
                      : db_.InTransaction(attempt_fn, {.bulk_write = options.bulk});
      if (status.ok() || !absl::IsAlreadyExists(status) ||
          errors::Reason(status) != "ALREADY_EXISTS") {
        return status;
      }
      // A unique violation from the database: a concurrent writer won a race.
      const std::string message(status.message());
      if (absl::StrContains(message, "dedupe") && probe.has_value()) {
        absl::Status conflict = Read(
            tenant, [&](DirectoryTx& tx) -> absl::Status { return tx.CheckDuplicates(*probe); });
        if (!conflict.ok()) return conflict;
      }
      // Otherwise (idempotency key or id taken concurrently, or the conflicting writer has
      // gone again): run again; the checks inside now see the committed winner.
    }
    return errors::Error(absl::StatusCode::kAborted, "CONCURRENT_MODIFICATION",
                         "concurrent changes kept conflicting; retry");
  }

  absl::StatusOr<bool> RefreshStatistics(int64_t rows_written) override {
    return RefreshIfStale(db_, DirectoryGrowthRule(), rows_written);
  }

  void BulkWritesEnded() override { db_.BulkWritesEnded(); }

  absl::Status Read(absl::string_view tenant_id, const TxFn& fn) override {
    return ReadOnly(tenant_id, fn, {.read_only = true});
  }

  absl::Status BulkRead(absl::string_view tenant_id, const TxFn& fn) override {
    return ReadOnly(tenant_id, fn, {.read_only = true, .bulk_read = true});
  }

 private:
  absl::Status ReadOnly(absl::string_view tenant_id, const TxFn& fn,
                        const db::TransactionOptions& options) {
    return db_.InTransaction(
        [&](db::Transaction& t) -> absl::Status {
          SqlDirectoryTx tx(t, std::string(tenant_id), clock_.Now(), outbox_, nullptr, nullptr,
                            &options_);
          return fn(tx);
        },
        options);
  }

  db::Database& db_;
  const Clock& clock_;
  const events::Outbox& outbox_;
  DirectoryStoreOptions options_;
};

}  // namespace

std::unique_ptr<DirectoryStore> NewSqlDirectoryStore(db::Database& db, const Clock& clock,
                                                     const events::Outbox& outbox,
                                                     DirectoryStoreOptions options) {
  return std::make_unique<SqlDirectoryStore>(db, clock, outbox, std::move(options));
}

}  // namespace kelola::customer::store
