#include "libs/db/migrations.h"

#include <cctype>
#include <cstdint>
#include <string>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kelola::db {
namespace {

// Key of the PostgreSQL advisory lock that serializes migrations ("kelola" in ASCII).
constexpr int64_t kMigrationLockKey = 0x6b656c6f6c61;

constexpr char kCreateTable[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version BIGINT PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " applied_at TEXT NOT NULL)";

// PostgreSQL: one migrator at a time per database, until the transaction ends. SQLite
// needs nothing: write transactions already hold the database's single write lock.
absl::Status LockMigrations(Transaction& tx) {
  if (tx.dialect() != Dialect::kPostgres) return absl::OkStatus();
  return tx.Query("SELECT pg_advisory_xact_lock(?)", {kMigrationLockKey}).status();
}

// PostgreSQL spelling of a script written for SQLite: the only type name that differs
// in our schemas is BLOB (bytea).
std::string PostgresSpelling(const std::string& sqlite) {
  std::string out;
  out.reserve(sqlite.size());
  for (size_t i = 0; i < sqlite.size();) {
    const bool word_start = i == 0 || !(std::isalnum(static_cast<unsigned char>(sqlite[i - 1])) ||
                                        sqlite[i - 1] == '_');
    const bool word_end =
        i + 4 >= sqlite.size() ||
        !(std::isalnum(static_cast<unsigned char>(sqlite[i + 4])) || sqlite[i + 4] == '_');
    if (word_start && word_end && sqlite.compare(i, 4, "BLOB") == 0) {
      out += "BYTEA";
      i += 4;
    } else {
      out += sqlite[i++];
    }
  }
  return out;
}

absl::Status CheckNotNewer(Transaction& tx, int64_t known) {
  absl::StatusOr<Row> row = tx.QueryOne("SELECT MAX(version) FROM schema_migrations");
  if (!row.ok()) return row.status();
  if (!row->IsNull(0) && row->GetInt(0) > known) {
    return absl::FailedPreconditionError(absl::StrCat(
        "database schema is at version ", row->GetInt(0),
        " but this binary knows migrations only up to ", known, "; run a newer release"));
  }
  return absl::OkStatus();
}

absl::Status Annotate(const absl::Status& s, const Migration& m) {
  return absl::Status(s.code(),
                      absl::StrCat("migration ", m.version, " (", m.name, "): ", s.message()));
}

}  // namespace

absl::Status ApplyMigrations(Database& db, const std::vector<Migration>& migrations) {
  int64_t previous = 0;
  for (const Migration& m : migrations) {
    if (m.version <= previous) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration versions must be positive and strictly increasing; got ",
                       m.version, " after ", previous));
    }
    if (m.name.empty() || m.sqlite.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("migration ", m.version, " needs a name and SQL"));
    }
    previous = m.version;
  }
  const int64_t known = previous;

  absl::flat_hash_set<int64_t> applied;
  absl::Status s = db.InTransaction([&](Transaction& tx) -> absl::Status {
    applied.clear();
    if (absl::Status s = LockMigrations(tx); !s.ok()) return s;
    if (absl::Status s = tx.ExecuteScript(kCreateTable); !s.ok()) return s;
    if (absl::Status s = CheckNotNewer(tx, known); !s.ok()) return s;
    absl::StatusOr<Rows> rows = tx.Query("SELECT version FROM schema_migrations");
    if (!rows.ok()) return rows.status();
    for (const Row& row : *rows) applied.insert(row.GetInt(0));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;

  for (const Migration& m : migrations) {
    if (applied.contains(m.version)) continue;
    s = db.InTransaction([&](Transaction& tx) -> absl::Status {
      if (absl::Status s = LockMigrations(tx); !s.ok()) return s;
      // Another replica may have got here first.
      if (absl::Status s = CheckNotNewer(tx, known); !s.ok()) return s;
      absl::StatusOr<Rows> done =
          tx.Query("SELECT 1 FROM schema_migrations WHERE version = ?", {int64_t{m.version}});
      if (!done.ok()) return done.status();
      if (!done->empty()) return absl::OkStatus();
      const std::string script = tx.dialect() != Dialect::kPostgres ? m.sqlite
                                 : m.postgres.empty()               ? PostgresSpelling(m.sqlite)
                                                                    : m.postgres;
      if (absl::Status s = tx.ExecuteScript(script); !s.ok()) return Annotate(s, m);
      absl::StatusOr<int64_t> inserted =
          tx.Execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                     {int64_t{m.version}, m.name,
                      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(), absl::UTCTimeZone())});
      return inserted.status();
    });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

}  // namespace kelola::db
