#include "customer-svc/app/import_applier.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/cord.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "customer-svc/app/customer_writes.h"
#include "customer-svc/app/support.h"
#include "customer-svc/domain/customer_rules.h"
#include "customer-svc/store/category_records.h"
#include "customer-svc/store/remembered_keys.h"
#include "libs/db/database.h"
#include "libs/errors/errors.h"
#include "libs/log/log.h"
#include "libs/text/normalize.h"

namespace kelola::customer::app {
namespace {

using store::DirectoryTx;
using store::StoredCustomer;
using v1::Customer;
using v1::CustomerColumn;

// Fingerprints of imported rows (idempotency_keys scope): a row seen before finds the
// customer it created or matched, even without phone or e-mail.
constexpr char kRowScope[] = "ImportCustomers.row";

std::string_view Sv(absl::string_view s) { return std::string_view(s.data(), s.size()); }

absl::Status InvalidArgument(absl::string_view reason, absl::string_view message) {
  return errors::Error(absl::StatusCode::kInvalidArgument, reason, message);
}

// The values of `customer` that duplicate checks compare (C6): its phones' E.164 numbers,
// appended to `e164s`, and its e-mail, appended to `emails`.
void AppendContacts(const Customer& customer, std::vector<std::string>* e164s,
                    std::vector<std::string>* emails) {
  if (customer.has_phone() && !customer.phone().e164().empty()) {
    e164s->push_back(customer.phone().e164());
  }
  for (const auto& p : customer.additional_phones()) {
    if (!p.e164().empty()) e164s->push_back(p.e164());
  }
  if (!customer.email().empty()) emails->push_back(customer.email());
}

constexpr char kRowByRowPayload[] = "kelola.customer/import-row-by-row";

// A bare row (one without its savepoint) failed, or what it wrote did: the batch must run
// again with every row in its savepoint, where the failure is that row's alone.
absl::Status RowByRow(const absl::Status& cause) {
  if (cause.GetPayload(kRowByRowPayload).has_value()) return cause;
  absl::Status status = absl::AbortedError(
      absl::StrCat("a row written without its savepoint failed: ", cause.message()));
  status.SetPayload(kRowByRowPayload, absl::Cord("1"));
  return status;
}

// The outcome of one row.
enum class Outcome { kCreated, kUpdated, kSkipped, kUnchanged, kFailed };

// Applies rows inside one DirectoryTx. Lives for one batch attempt.
class RowApplier {
 public:
  RowApplier(DirectoryTx& tx, const Mapping& mapping, const v1::ImportCustomersHeader& options,
             ids::IdGenerator& ids, RowSavepoints savepoints, BatchResult& result)
      : tx_(tx),
        mapping_(mapping),
        options_(options),
        ids_(ids),
        savepoints_(savepoints),
        result_(result) {}

  // Reads what the batch needs before its first row: the settings, the plan count, and at
  // once for all `rows`, their recorded fingerprints and which of their phones and e-mails
  // some customer already holds.
  absl::Status Begin(const std::vector<PreparedRow>& rows) {
    auto settings = tx_.Settings();
    if (!settings.ok()) return settings.status();
    settings_ = settings->settings;
    // The default categories, before any row's savepoint (a failing row must not undo them).
    if (mapping_.first.contains(v1::CUSTOMER_COLUMN_CATEGORY)) {
      auto seeded = store::CategoryRecords(tx_).DefaultCategoriesSeeded();
      if (!seeded.ok()) return seeded.status();
      if (!*seeded) {
        if (auto s = store::CategoryRecords(tx_).EnsureDefaultCategories(); !s.ok()) return s;
      }
    }
    if (settings_.customer_limit() > 0) {
      auto count = tx_.CountLimitedCustomers(/*lock=*/true);
      if (!count.ok()) return count.status();
      limited_count_ = *count;
    }
    std::vector<std::string> keys, e164s, emails;
    for (const PreparedRow& row : rows) {
      if (!row.errors.empty()) continue;
      keys.push_back(row.fingerprint);
      AppendContacts(row.normalized, &e164s, &emails);
    }
    auto subjects = store::RememberedKeys(tx_).SubjectsOf(kRowScope, keys);
    if (!subjects.ok()) return subjects.status();
    stored_subjects_ = *std::move(subjects);
    auto held = tx_.HeldContacts(e164s, emails);
    if (!held.ok()) return held.status();
    held_contacts_ = *std::move(held);
    return absl::OkStatus();
  }

  // Applies one prepared row: in its own savepoint, without one, or queued (RowSavepoints,
  // Queue); a row problem is recorded, not returned. `row` is left as it is (a retried
  // batch applies it again).
  absl::Status Apply(const PreparedRow& row) {
    const bool bare = savepoints_ == RowSavepoints::kAllButPlainNewRows && IsPlainNewRow(row);
    // A bare row without consent to record is queued and written with the rows queued next
    // to it (InsertNewCustomers); every other row first lets the queue go, in row order.
    const bool queued =
        bare && !row.sets_consent &&
        row.normalized.marketing_consent().state() == v1::MARKETING_CONSENT_STATE_UNSPECIFIED;
    if (!queued) {
      if (absl::Status s = WriteQueue(); !s.ok()) return s;
    }
    if (savepoints_ == RowSavepoints::kAllButPlainNewRows && !bare) {
      // What the bare rows before it wrote, checked before this row's own statements (an
      // error reported now would otherwise be taken for this row's).
      if (absl::Status s = tx_.Sync(); !s.ok()) return db::IsConflict(s) ? s : RowByRow(s);
    }
    row_errors_ = row.errors;
    row_subject_.reset();
    row_contacts_.clear();
    Customer normalized = row.normalized;
    Outcome outcome = Outcome::kFailed;
    std::string existing_id;
    absl::Status status = ResolveCategory(row, normalized);
    const bool category_unknown = status.ok() && !row_errors_.empty();
    if (category_unknown) {
      status = InvalidArgument("INVALID_ROW", "the row is invalid");
    } else if (status.ok() && queued) {
      Queue(row, std::move(normalized));
      outcome = Outcome::kCreated;
      if (queue_.size() >= kQueueRows) status = WriteQueue();
    } else if (status.ok() && bare) {
      status = ApplyRow(row, std::move(normalized), outcome, existing_id);
    } else if (status.ok()) {
      status = tx_.InSavepoint([&]() -> absl::Status {
        return ApplyRow(row, std::move(normalized), outcome, existing_id);
      });
    }
    if (!status.ok()) {
      // A bare row's statements cannot be undone alone: the batch runs again with savepoints.
      if (bare && !category_unknown) return db::IsConflict(status) ? status : RowByRow(status);
      if (!IsRowProblem(status)) return status;
      if (row_errors_.empty()) AddStoreError(status);
      outcome = Outcome::kFailed;
    } else {
      // What the row wrote, for the rows after it (their savepoints see it too).
      if (row_subject_) batch_subjects_[row.fingerprint] = *row_subject_;
      batch_contacts_.insert(row_contacts_.begin(), row_contacts_.end());
      if (outcome == Outcome::kCreated && settings_.customer_limit() > 0) ++limited_count_;
    }
    switch (outcome) {
      case Outcome::kCreated:
        ++result_.created;
        break;
      case Outcome::kUpdated:
        ++result_.updated;
        break;
      case Outcome::kUnchanged:
        ++result_.unchanged;
        break;
      case Outcome::kSkipped: {
        ++result_.skipped;
        v1::ImportRowError e;
        e.set_reason("CUSTOMER_DUPLICATE");
        e.set_message("the row matches an existing customer with other data; left as it is");
        e.set_outcome(v1::IMPORT_ROW_OUTCOME_SKIPPED);
        e.set_existing_customer_id(existing_id);
        row_errors_.push_back(std::move(e));
        break;
      }
      case Outcome::kFailed:
        ++result_.failed;
        break;
    }
    for (auto& e : row_errors_) {
      e.set_line(row.line);
      if (e.outcome() == v1::IMPORT_ROW_OUTCOME_UNSPECIFIED) {
        e.set_outcome(v1::IMPORT_ROW_OUTCOME_FAILED);
      }
      result_.errors.push_back(std::move(e));
    }
    return absl::OkStatus();
  }

  // The end of the batch: the queue written, and in kAllButPlainNewRows, every deferred
  // statement's outcome known.
  absl::Status Finish() {
    if (absl::Status s = WriteQueue(); !s.ok()) return s;
    if (savepoints_ != RowSavepoints::kAllButPlainNewRows) return absl::OkStatus();
    absl::Status s = tx_.Sync();
    return s.ok() || db::IsConflict(s) ? s : RowByRow(s);
  }

 private:
  // Writes the queued new customers (a failure among them is the batch's: RowByRow).
  absl::Status WriteQueue() {
    if (queue_.empty()) return absl::OkStatus();
    absl::Status s = tx_.InsertNewCustomers(kRowScope, queue_);
    queue_.clear();
    if (s.ok() || db::IsConflict(s)) return s;
    return RowByRow(s);
  }

  // Rows queued at most before they are written.
  static constexpr size_t kQueueRows = 1024;

  // A new customer without a category gets the import's default one.
  void DefaultCategory(Customer& customer) const {
    if (customer.category_id().empty()) customer.set_category_id(options_.default_category_id());
  }

  // A plain new customer, as InsertNewCustomer would create it, queued for WriteQueue.
  void Queue(const PreparedRow& row, Customer normalized) {
    DefaultCategory(normalized);
    normalized.set_customer_id(ids_.NewId());
    StampNewCustomer(normalized, tx_.now());
    AppendContacts(normalized, &row_contacts_, &row_contacts_);
    row_subject_ = normalized.customer_id();
    store::NewCustomerWrite& write = queue_.emplace_back();
    *write.event.mutable_customer() = normalized;
    write.record = RecordFor(std::move(normalized), 1, /*allow_duplicate=*/false, settings_);
    write.key = row.fingerprint;
  }

  // Whether `row` creates a new customer that nothing can stop once its first statement ran:
  // no id of its own, no recorded fingerprint, no phone or e-mail anyone may hold, and room
  // under the plan limit. Its checks all run before its first write.
  bool IsPlainNewRow(const PreparedRow& row) const {
    if (!row.errors.empty() || !row.given_id.empty()) return false;
    if (RecordedSubject(row.fingerprint).has_value() || MayBeHeld(row.normalized)) return false;
    return settings_.customer_limit() <= 0 || limited_count_ < settings_.customer_limit();
  }

  static bool IsRowProblem(const absl::Status& s) {
    switch (s.code()) {
      case absl::StatusCode::kInvalidArgument:
      case absl::StatusCode::kAlreadyExists:
      case absl::StatusCode::kResourceExhausted:
      case absl::StatusCode::kFailedPrecondition:
      case absl::StatusCode::kNotFound:
        return true;
      default:
        return false;
    }
  }

  void AddError(CustomerColumn field, std::string reason, std::string message) {
    row_errors_.push_back(RowError(mapping_, field, std::move(reason), std::move(message)));
  }

  void AddStoreError(const absl::Status& s) {
    std::string reason = errors::Reason(s);
    const auto metadata = errors::GetMetadata(s);
    CustomerColumn field = v1::CUSTOMER_COLUMN_UNSPECIFIED;
    if (reason == "CUSTOMER_DUPLICATE" || s.code() == absl::StatusCode::kAlreadyExists) {
      reason = "CUSTOMER_DUPLICATE";
      if (auto it = metadata.find("field"); it != metadata.end()) {
        field = absl::StrContains(it->second, "email") ? v1::CUSTOMER_COLUMN_EMAIL
                                                       : v1::CUSTOMER_COLUMN_PHONE;
      }
    }
    AddError(field, reason, std::string(s.message()));
    if (auto it = metadata.find("existing_customer_id"); it != metadata.end()) {
      row_errors_.back().set_existing_customer_id(it->second);
    }
  }

  // Sets the category of the row's customer from its cell; an unknown one is a row problem.
  absl::Status ResolveCategory(const PreparedRow& row, Customer& normalized) {
    if (row.category_cell.empty()) return absl::OkStatus();
    auto category = CategoryOf(row.category_cell);
    if (!category.ok()) return category.status();
    if (category->has_value()) {
      normalized.set_category_id(**category);
      return absl::OkStatus();
    }
    row_errors_.insert(row_errors_.begin() + std::min(row.category_error_at, row_errors_.size()),
                       RowError(mapping_, v1::CUSTOMER_COLUMN_CATEGORY, "UNKNOWN_CATEGORY",
                                absl::StrCat("no category named '", row.category_cell, "'")));
    return absl::OkStatus();
  }

  // The category of a cell: a name (folded) or an id.
  absl::StatusOr<std::optional<std::string>> CategoryOf(const std::string& text) {
    const std::string folded = text::FoldForMatch(Sv(text));
    if (auto it = categories_.find(folded); it != categories_.end()) return it->second;
    std::optional<std::string> id;
    auto by_name = store::CategoryRecords(tx_).FindCategoryByName(folded);
    if (!by_name.ok()) return by_name.status();
    if (by_name->has_value()) {
      id = (*by_name)->category.category_id();
    } else {
      auto by_id = store::CategoryRecords(tx_).FindCategory(text);
      if (!by_id.ok()) return by_id.status();
      if (by_id->has_value()) id = (*by_id)->category.category_id();
    }
    categories_[folded] = id;
    return id;
  }

  // Which stored customer a row is about, if any (step 3 of a row).
  struct RowMatch {
    std::optional<StoredCustomer> customer;
    std::string id_for_create;       // the row's own customer id, when it names one
    bool fingerprint_known = false;  // found through the row's recorded fingerprint
  };

  // The row, checked and prepared, inside its savepoint; `normalized` is its customer.
  absl::Status ApplyRow(const PreparedRow& row, Customer normalized, Outcome& outcome,
                        std::string& existing_id) {
    outcome = Outcome::kFailed;
    if (row.sets_consent) {
      *normalized.mutable_marketing_consent()->mutable_consent_time() = ToProto(tx_.now());
    }
    auto match = MatchRow(row, normalized);
    if (!match.ok()) return match.status();
    if (!match->customer.has_value()) {
      return CreateFromRow(row, std::move(normalized), match->id_for_create, outcome);
    }
    return UpdateFromRow(row, normalized, *match, outcome, existing_id);
  }

  // 3. Which customer the row is about: the one it names by id, else the one its
  // fingerprint was recorded for (a re-import), else the holder of one of its contacts.
  absl::StatusOr<RowMatch> MatchRow(const PreparedRow& row, const Customer& normalized) {
    RowMatch match;
    if (!row.given_id.empty()) {
      auto id = domain::NormalizeCustomerId(row.given_id);
      if (!id.ok()) {
        AddError(v1::CUSTOMER_COLUMN_CUSTOMER_ID, "INVALID_VALUE",
                 absl::StrCat("customer id '", row.given_id, "' is not a UUID"));
        return InvalidArgument("INVALID_ROW", "the row is invalid");
      }
      auto found = tx_.FindCustomer(*id);
      if (!found.ok()) return found.status();
      if (found->has_value()) match.customer = **found;
      match.id_for_create = *id;
    }
    if (!match.customer.has_value()) {
      const std::optional<std::string> subject = RecordedSubject(row.fingerprint);
      if (subject.has_value() && !subject->empty()) {
        auto found = tx_.FindCustomer(*subject);
        if (!found.ok()) return found.status();
        if (found->has_value() && (*found)->customer.state() != v1::CUSTOMER_STATE_MERGED &&
            (*found)->customer.state() != v1::CUSTOMER_STATE_ERASED) {
          match.customer = **found;
          match.fingerprint_known = true;
        }
      }
    }
    if (!match.customer.has_value() && match.id_for_create.empty() && MayBeHeld(normalized)) {
      absl::Status dup = tx_.CheckDuplicates(normalized);
      if (!dup.ok()) {
        if (errors::Reason(dup) != "CUSTOMER_DUPLICATE") return dup;
        const auto metadata = errors::GetMetadata(dup);
        auto it = metadata.find("existing_customer_id");
        if (it == metadata.end()) return dup;
        auto found = tx_.FindCustomer(it->second);
        if (!found.ok()) return found.status();
        if (!found->has_value()) return dup;
        match.customer = **found;
      }
    }
    return match;
  }

  // 4a. A new customer, with the row's id when it names one.
  absl::Status CreateFromRow(const PreparedRow& row, Customer normalized,
                             const std::string& id_for_create, Outcome& outcome) {
    DefaultCategory(normalized);
    const std::string id = id_for_create.empty() ? ids_.NewId() : id_for_create;
    AppendContacts(normalized, &row_contacts_, &row_contacts_);
    KnownAboutNewCustomer known;
    known.id_is_new = id_for_create.empty();
    known.duplicates_checked = id_for_create.empty();  // checked by MatchRow, in this transaction
    auto created = InsertNewCustomer(
        tx_, settings_, std::move(normalized), id,
        /*allow_duplicate=*/false,
        settings_.customer_limit() > 0 ? std::optional<int64_t>(limited_count_) : std::nullopt,
        known);
    if (!created.ok()) return created.status();
    if (auto s = store::RememberedKeys(tx_).Put(kRowScope, row.fingerprint, id); !s.ok()) return s;
    row_subject_ = id;
    outcome = Outcome::kCreated;
    return absl::OkStatus();
  }

  // 4b. An existing customer: the row's non-empty cells merged into it.
  absl::Status UpdateFromRow(const PreparedRow& row, const Customer& normalized,
                             const RowMatch& match, Outcome& outcome, std::string& existing_id) {
    const Customer& before = match.customer->customer;
    existing_id = before.customer_id();
    if (absl::Status refused = RefuseUnchangeable(before); !refused.ok()) return refused;
    Customer next = Merge(before, normalized);
    if (next.additional_phones_size() > domain::kMaxAdditionalPhones) {
      AddError(v1::CUSTOMER_COLUMN_ADDITIONAL_PHONES, "TOO_MANY_PHONES",
               absl::StrCat("the customer would have more than ", domain::kMaxAdditionalPhones,
                            " additional phones"));
      return InvalidArgument("INVALID_ROW", "too many phones");
    }
    const bool changed = !domain::ChangedPaths(before, next).empty();
    if (changed && options_.on_duplicate() == v1::IMPORT_DUPLICATE_POLICY_UPDATE) {
      AppendContacts(next, &row_contacts_, &row_contacts_);
      auto saved = SaveCustomerChanges(tx_, settings_, *match.customer, std::move(next),
                                       /*allow_duplicate=*/false);
      if (!saved.ok()) return saved.status();
      outcome = Outcome::kUpdated;
    } else {
      outcome = changed ? Outcome::kSkipped : Outcome::kUnchanged;
    }
    if (!match.fingerprint_known && outcome != Outcome::kSkipped) {
      if (auto s = store::RememberedKeys(tx_).Put(kRowScope, row.fingerprint, existing_id); !s.ok())
        return s;
      row_subject_ = existing_id;
    }
    return absl::OkStatus();
  }

  // A row error (and INVALID_ROW) when the matched customer was merged, erased or is being
  // merged: its data no longer takes changes.
  absl::Status RefuseUnchangeable(const Customer& before) {
    const char* reason = nullptr;
    std::string message;
    switch (before.state()) {
      case v1::CUSTOMER_STATE_MERGED:
        reason = "CUSTOMER_MERGED";
        message = absl::StrCat("the customer was merged into ", before.merged_into_customer_id());
        break;
      case v1::CUSTOMER_STATE_ERASED:
        reason = "CUSTOMER_ERASED";
        message = "the customer's personal data was erased";
        break;
      case v1::CUSTOMER_STATE_MERGING:
        reason = "CUSTOMER_MERGED";
        message = "the customer is being merged";
        break;
      default:
        return absl::OkStatus();
    }
    AddError(v1::CUSTOMER_COLUMN_UNSPECIFIED, reason, message);
    row_errors_.back().set_existing_customer_id(before.customer_id());
    return InvalidArgument("INVALID_ROW", message);
  }

  // The customer a row fingerprint was recorded for: by an earlier row of this batch, else
  // as stored when the batch began.
  std::optional<std::string> RecordedSubject(const std::string& fingerprint) const {
    if (auto it = batch_subjects_.find(fingerprint); it != batch_subjects_.end()) {
      return it->second;
    }
    if (auto it = stored_subjects_.find(fingerprint); it != stored_subjects_.end()) {
      return it->second;
    }
    return std::nullopt;
  }

  // Whether a phone or the e-mail of `customer` may belong to another customer: held when
  // the batch began or written by an earlier row of it. Only then is the duplicate check
  // (CheckDuplicates) run; a value held by nobody cannot conflict.
  bool MayBeHeld(const Customer& customer) const {
    std::vector<std::string> contacts;
    AppendContacts(customer, &contacts, &contacts);
    for (const std::string& c : contacts) {
      if (held_contacts_.contains(c) || batch_contacts_.contains(c)) return true;
    }
    return false;
  }

  // `before` with the row's non-empty values; phones are added, not replaced.
  static Customer Merge(const Customer& before, const Customer& row) {
    Customer next = before;
    next.set_display_name(row.display_name());
    auto has_phone = [&](const std::string& e164) {
      if (next.has_phone() && next.phone().e164() == e164) return true;
      for (const auto& p : next.additional_phones()) {
        if (p.e164() == e164) return true;
      }
      return false;
    };
    auto add_phone = [&](const v1::Phone& p) {
      if (p.e164().empty() || has_phone(p.e164())) return;
      if (!next.has_phone() || next.phone().e164().empty()) {
        *next.mutable_phone() = p;
      } else {
        *next.add_additional_phones() = p;
      }
    };
    if (row.has_phone()) add_phone(row.phone());
    for (const auto& p : row.additional_phones()) add_phone(p);
    if (!row.email().empty()) next.set_email(row.email());
    const auto& a = row.address();
    if (!a.text().empty()) next.mutable_address()->set_text(a.text());
    if (!a.city().empty()) next.mutable_address()->set_city(a.city());
    if (!a.province().empty()) next.mutable_address()->set_province(a.province());
    if (!a.postal_code().empty()) next.mutable_address()->set_postal_code(a.postal_code());
    if (!row.company_name().empty()) next.set_company_name(row.company_name());
    if (!row.category_id().empty()) next.set_category_id(row.category_id());
    if (!row.notes().empty()) next.set_notes(row.notes());
    if (row.has_birthday() && row.birthday().month() != 0) {
      *next.mutable_birthday() = row.birthday();
    }
    const auto& p = row.preferences();
    if (p.favourite_products_size() > 0) {
      *next.mutable_preferences()->mutable_favourite_products() = p.favourite_products();
    }
    if (!p.special_needs().empty())
      next.mutable_preferences()->set_special_needs(p.special_needs());
    if (p.preferred_channel() != v1::CONTACT_CHANNEL_UNSPECIFIED) {
      next.mutable_preferences()->set_preferred_channel(p.preferred_channel());
    }
    return next;
  }

  DirectoryTx& tx_;
  const Mapping& mapping_;
  const v1::ImportCustomersHeader& options_;
  ids::IdGenerator& ids_;
  const RowSavepoints savepoints_;
  BatchResult& result_;
  v1::TenantSettings settings_;
  int64_t limited_count_ = 0;
  absl::flat_hash_map<std::string, std::optional<std::string>> categories_;
  std::vector<v1::ImportRowError> row_errors_;
  // Read when the batch began (Begin), then what its rows wrote.
  absl::flat_hash_map<std::string, std::string> stored_subjects_, batch_subjects_;
  absl::flat_hash_set<std::string> held_contacts_, batch_contacts_;
  // What the row being applied wrote, kept once its savepoint is released.
  std::optional<std::string> row_subject_;
  std::vector<std::string> row_contacts_;
  std::vector<store::NewCustomerWrite> queue_;  // bare rows not written yet (Queue)
};

}  // namespace

absl::Status ApplyBatch(DirectoryTx& tx, const Mapping& mapping,
                        const v1::ImportCustomersHeader& options, ids::IdGenerator& ids,
                        RowSavepoints savepoints, const std::vector<PreparedRow>& rows,
                        BatchResult& result) {
  result = BatchResult();
  RowApplier applier(tx, mapping, options, ids, savepoints, result);
  if (absl::Status s = applier.Begin(rows); !s.ok()) return s;
  for (const PreparedRow& row : rows) {
    if (absl::Status s = applier.Apply(row); !s.ok()) return s;
  }
  return applier.Finish();
}

bool NeedsRowByRow(const absl::Status& status) {
  return status.GetPayload(kRowByRowPayload).has_value();
}

absl::StatusOr<v1::TenantSettings> SettingsForImport(store::DirectoryStore& store,
                                                     absl::string_view tenant,
                                                     const v1::ImportCustomersHeader& options) {
  v1::TenantSettings settings;
  absl::Status s = store.Read(tenant, [&](store::DirectoryTx& tx) -> absl::Status {
    auto read = tx.Settings();
    if (!read.ok()) return read.status();
    settings = read->settings;
    if (options.default_category_id().empty()) return absl::OkStatus();
    auto found = store::CategoryRecords(tx).FindCategory(options.default_category_id());
    if (!found.ok()) return found.status();
    if (!found->has_value()) {
      return NotFound("CATEGORY_NOT_FOUND", "category", "category_id",
                      options.default_category_id());
    }
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return settings;
}

ImportBatches::ImportBatches(store::DirectoryStore& store, ids::IdGenerator& ids,
                             absl::string_view tenant, store::WriteOptions options,
                             const v1::ImportCustomersHeader& header)
    : store_(store), ids_(ids), tenant_(tenant), options_(std::move(options)), header_(header) {
  options_.bulk = true;
}

ImportBatches::~ImportBatches() {
  if (wrote_) store_.BulkWritesEnded();
}

absl::Status ImportBatches::Write(const Mapping& mapping, const std::vector<PreparedRow>& rows,
                                  BatchResult& result) {
  auto attempt = [&](RowSavepoints savepoints) {
    return store_.Write(
        tenant_, options_,
        [&](store::DirectoryTx& tx) -> absl::Status {
          if (auto s = ApplyBatch(tx, mapping, header_, ids_, savepoints, rows, result); !s.ok()) {
            return s;
          }
          if (header_.dry_run()) return absl::CancelledError("dry run: rolled back");
          return absl::OkStatus();
        },
        nullptr);
  };
  absl::Status status = attempt(RowSavepoints::kAllButPlainNewRows);
  if (NeedsRowByRow(status)) status = attempt(RowSavepoints::kEveryRow);
  if (header_.dry_run() && absl::IsCancelled(status)) status = absl::OkStatus();
  if (!status.ok() || header_.dry_run()) return status;
  written_since_refresh_ += result.created + result.updated;
  wrote_ = wrote_ || result.created + result.updated > 0;
  auto refreshed = store_.RefreshStatistics(written_since_refresh_);
  if (!refreshed.ok()) {
    log::Warn("import: planner statistics not refreshed",
              {{"error", std::string(refreshed.status().message())}});
  } else if (*refreshed) {
    written_since_refresh_ = 0;
  }
  return absl::OkStatus();
}

}  // namespace kelola::customer::app
