#include "libs/db/sqlite_log_buffer.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <new>
#include <string>

#include "absl/container/flat_hash_map.h"

namespace kelola::db {
namespace {

constexpr char kVfsName[] = "kelola-log-buffer";
// At most this much is gathered; a larger commit is written in several parts.
constexpr size_t kMaxBuffered = size_t{8} << 20;
// The default VFS writes at most 128 KiB - 1 per call (its write keeps 17 bits of the size),
// so the gathered bytes go out in parts of 64 KiB.
constexpr size_t kWritePart = size_t{64} << 10;
// The shared-memory lock SQLite holds while it writes the log (WAL_WRITE_LOCK).
constexpr int kWriteLock = 0;

// What SQLite allocates for each open file: this header, then the default VFS's file.
struct LogFile {
  sqlite3_file base;   // pMethods: this VFS's methods
  sqlite3_file* real;  // the default VFS's file, right after this header
  // A write-ahead log whose appends are gathered: the bytes not written yet (keeps its
  // capacity); null for every other file.
  std::string* pending;
  sqlite3_int64 pending_at;
  const char* name;   // a main database file: the name SQLite opened it with
  LogFile* log;       // a main database file: its connection's gathering log, if open
  LogFile* database;  // a gathering log: its connection's main database file
};

// SQLite aligns what it allocates to 8 bytes; the default VFS's file starts on 16.
constexpr size_t kHeaderSize = (sizeof(LogFile) + 15) & ~size_t{15};

sqlite3_vfs* Base() {
  static sqlite3_vfs* const base = sqlite3_vfs_find(nullptr);
  return base;
}

LogFile* Of(sqlite3_file* file) { return reinterpret_cast<LogFile*>(file); }
sqlite3_file* Real(sqlite3_file* file) { return Of(file)->real; }

// This VFS's main database files by the name SQLite opened them with. SQLite opens a
// connection's log with a name from which sqlite3_filename_database() gives back that very
// pointer, so a log finds its connection's database file here (each connection has a name
// buffer of its own). Guarded by a plain std::mutex, not an absl::Mutex: it is taken from
// inside SQLite's file callbacks, and tests run Abseil's lock-order checking, whose graph
// (in Debian's uninstrumented library) ThreadSanitizer reports as a race when new mutexes
// are first locked on several threads at once.
std::mutex& DatabasesMutex() {
  static std::mutex mu;
  return mu;
}
absl::flat_hash_map<const char*, LogFile*>& Databases() {  // under DatabasesMutex()
  static auto* databases = new absl::flat_hash_map<const char*, LogFile*>();
  return *databases;
}

// Writes what is gathered, at its place in the file. After a failed write the bytes not
// written stay gathered and the error is returned: the next sync, read or write tries again,
// so nothing SQLite may still count on is dropped.
int Flush(LogFile* f) {
  if (f->pending == nullptr || f->pending->empty()) return SQLITE_OK;
  std::string& pending = *f->pending;
  size_t at = 0;
  int rc = SQLITE_OK;
  while (at < pending.size()) {
    const size_t part = std::min(kWritePart, pending.size() - at);
    rc = f->real->pMethods->xWrite(f->real, pending.data() + at, static_cast<int>(part),
                                   f->pending_at + static_cast<sqlite3_int64>(at));
    if (rc != SQLITE_OK) break;
    at += part;
  }
  pending.erase(0, at);
  f->pending_at += static_cast<sqlite3_int64>(at);
  return rc;
}

int Close(sqlite3_file* file) {
  LogFile* f = Of(file);
  const int flushed = Flush(f);
  if (f->database != nullptr) f->database->log = nullptr;
  if (f->log != nullptr) f->log->database = nullptr;
  if (f->name != nullptr) {
    std::lock_guard<std::mutex> lock(DatabasesMutex());
    Databases().erase(f->name);
  }
  const int rc = f->real->pMethods->xClose(f->real);
  delete f->pending;
  f->pending = nullptr;
  return flushed != SQLITE_OK ? flushed : rc;
}

int Read(sqlite3_file* file, void* out, int amount, sqlite3_int64 offset) {
  if (const int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xRead(Real(file), out, amount, offset);
}

int Write(sqlite3_file* file, const void* data, int amount, sqlite3_int64 offset) {
  LogFile* f = Of(file);
  if (f->pending == nullptr) return f->real->pMethods->xWrite(f->real, data, amount, offset);
  std::string& pending = *f->pending;
  const auto size = static_cast<size_t>(amount);
  // Anywhere but at the end of what is gathered (SQLite rewriting a frame of the same
  // transaction, or starting the log again), or too much: the gathered bytes go first, so
  // the file sees every write in SQLite's order.
  if (!pending.empty() && (offset != f->pending_at + static_cast<sqlite3_int64>(pending.size()) ||
                           pending.size() + size > kMaxBuffered)) {
    if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
  }
  if (pending.empty()) f->pending_at = offset;
  try {
    pending.append(static_cast<const char*>(data), size);
  } catch (const std::bad_alloc&) {
    // No memory for it: what is gathered, then this write, straight to the file.
    if (const int rc = Flush(f); rc != SQLITE_OK) return rc;
    return f->real->pMethods->xWrite(f->real, data, amount, offset);
  }
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  if (const int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xTruncate(Real(file), size);
}

int Sync(sqlite3_file* file, int flags) {
  if (const int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xSync(Real(file), flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  if (const int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFileSize(Real(file), size);
}

int Lock(sqlite3_file* file, int level) { return Real(file)->pMethods->xLock(Real(file), level); }
int Unlock(sqlite3_file* file, int level) {
  return Real(file)->pMethods->xUnlock(Real(file), level);
}
int CheckReservedLock(sqlite3_file* file, int* out) {
  return Real(file)->pMethods->xCheckReservedLock(Real(file), out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  if (const int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFileControl(Real(file), op, arg);
}

int SectorSize(sqlite3_file* file) { return Real(file)->pMethods->xSectorSize(Real(file)); }
int DeviceCharacteristics(sqlite3_file* file) {
  return Real(file)->pMethods->xDeviceCharacteristics(Real(file));
}

int ShmMap(sqlite3_file* file, int region, int size, int extend, void volatile** out) {
  return Real(file)->pMethods->xShmMap(Real(file), region, size, extend, out);
}
// (Called on the main database file.) When SQLite gives up the log's write lock, whatever is
// still gathered belongs to no commit (a commit's sync wrote its frames): frames of a
// transaction that spilled and rolled back. They are written while the lock is still held,
// as SQLite itself would have written them, and then let go, so that nothing of this
// connection reaches the log after another writer may have written there.
int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  LogFile* f = Of(file);
  if (f->log != nullptr && offset <= kWriteLock && kWriteLock < offset + n &&
      flags == (SQLITE_SHM_UNLOCK | SQLITE_SHM_EXCLUSIVE)) {
    (void)Flush(f->log);  // beyond the log's last commit: harmless if it fails
    f->log->pending->clear();
  }
  return f->real->pMethods->xShmLock(f->real, offset, n, flags);
}
// Before SQLite publishes a commit in the shared index: a backstop, the commit's sync has
// written its frames already (see the header).
void ShmBarrier(sqlite3_file* file) {
  LogFile* f = Of(file);
  if (f->log != nullptr) (void)Flush(f->log);
  f->real->pMethods->xShmBarrier(f->real);
}
int ShmUnmap(sqlite3_file* file, int remove) {
  return Real(file)->pMethods->xShmUnmap(Real(file), remove);
}
int Fetch(sqlite3_file* file, sqlite3_int64 offset, int amount, void** out) {
  if (const int rc = Flush(Of(file)); rc != SQLITE_OK) return rc;
  return Real(file)->pMethods->xFetch(Real(file), offset, amount, out);
}
int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* page) {
  return Real(file)->pMethods->xUnfetch(Real(file), offset, page);
}

// This VFS's methods for a file whose default-VFS methods are of `version`: the
// shared-memory methods exist from version 2, the memory-map ones from 3.
sqlite3_io_methods MethodsOfVersion(int version) {
  sqlite3_io_methods m{};
  m.iVersion = version;
  m.xClose = Close;
  m.xRead = Read;
  m.xWrite = Write;
  m.xTruncate = Truncate;
  m.xSync = Sync;
  m.xFileSize = FileSize;
  m.xLock = Lock;
  m.xUnlock = Unlock;
  m.xCheckReservedLock = CheckReservedLock;
  m.xFileControl = FileControl;
  m.xSectorSize = SectorSize;
  m.xDeviceCharacteristics = DeviceCharacteristics;
  if (m.iVersion >= 2) {
    m.xShmMap = ShmMap;
    m.xShmLock = ShmLock;
    m.xShmBarrier = ShmBarrier;
    m.xShmUnmap = ShmUnmap;
  }
  if (m.iVersion >= 3) {
    m.xFetch = Fetch;
    m.xUnfetch = Unfetch;
  }
  return m;
}

int Open(sqlite3_vfs*, const char* name, sqlite3_file* file, int flags, int* out_flags) {
  LogFile* f = Of(file);
  std::memset(f, 0, sizeof(LogFile));
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kHeaderSize);
  std::memset(f->real, 0, static_cast<size_t>(Base()->szOsFile));
  const int rc = Base()->xOpen(Base(), name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) {
    // SQLite calls no method of a file whose pMethods stays null; the default VFS's own
    // file may need closing all the same.
    if (f->real->pMethods != nullptr) f->real->pMethods->xClose(f->real);
    return rc;
  }
  static const sqlite3_io_methods kByVersion[] = {MethodsOfVersion(1), MethodsOfVersion(2),
                                                  MethodsOfVersion(3)};
  const int version = f->real->pMethods->iVersion;
  f->base.pMethods = &kByVersion[version < 1 ? 0 : version > 3 ? 2 : version - 1];
  if ((flags & SQLITE_OPEN_MAIN_DB) != 0 && name != nullptr) {
    f->name = name;
    std::lock_guard<std::mutex> lock(DatabasesMutex());
    Databases()[name] = f;
    return SQLITE_OK;
  }
  if ((flags & SQLITE_OPEN_WAL) == 0 || name == nullptr) return SQLITE_OK;
  // Gathered only where SQLite writes no frame after a commit's sync: without powersafe
  // overwrite it pads a commit to a sector with frames written after the sync, which the
  // commit then publishes.
  const int characteristics = f->real->pMethods->xDeviceCharacteristics(f->real);
  if ((characteristics & SQLITE_IOCAP_POWERSAFE_OVERWRITE) == 0) return SQLITE_OK;
  {
    std::lock_guard<std::mutex> lock(DatabasesMutex());
    auto it = Databases().find(sqlite3_filename_database(name));
    if (it == Databases().end() || it->second->log != nullptr) return SQLITE_OK;
    f->pending = new (std::nothrow) std::string();
    if (f->pending == nullptr) return SQLITE_OK;  // no memory: written as it comes
    f->database = it->second;
    it->second->log = f;
  }
  return SQLITE_OK;
}

// The rest of the VFS is the default one's, called with the default VFS.
int Delete(sqlite3_vfs*, const char* name, int sync_dir) {
  return Base()->xDelete(Base(), name, sync_dir);
}
int Access(sqlite3_vfs*, const char* name, int flags, int* out) {
  return Base()->xAccess(Base(), name, flags, out);
}
int FullPathname(sqlite3_vfs*, const char* name, int size, char* out) {
  return Base()->xFullPathname(Base(), name, size, out);
}
void* DlOpen(sqlite3_vfs*, const char* name) { return Base()->xDlOpen(Base(), name); }
void DlError(sqlite3_vfs*, int size, char* out) { Base()->xDlError(Base(), size, out); }
void (*DlSym(sqlite3_vfs*, void* handle, const char* symbol))(void) {
  return Base()->xDlSym(Base(), handle, symbol);
}
void DlClose(sqlite3_vfs*, void* handle) { Base()->xDlClose(Base(), handle); }
int Randomness(sqlite3_vfs*, int size, char* out) { return Base()->xRandomness(Base(), size, out); }
int Sleep(sqlite3_vfs*, int micros) { return Base()->xSleep(Base(), micros); }
int CurrentTime(sqlite3_vfs*, double* out) { return Base()->xCurrentTime(Base(), out); }
int GetLastError(sqlite3_vfs*, int size, char* out) {
  return Base()->xGetLastError(Base(), size, out);
}
int CurrentTimeInt64(sqlite3_vfs*, sqlite3_int64* out) {
  return Base()->xCurrentTimeInt64(Base(), out);
}

sqlite3_vfs* Register() {
  sqlite3_vfs* base = Base();
  if (base == nullptr || base->iVersion < 2) return nullptr;
  static sqlite3_vfs vfs = [base] {
    sqlite3_vfs v{};
    v.iVersion = 2;  // version 3 adds only the system-call overrides of SQLite's own tests
    v.szOsFile = static_cast<int>(kHeaderSize) + base->szOsFile;
    v.mxPathname = base->mxPathname;
    v.zName = kVfsName;
    v.xOpen = Open;
    v.xDelete = Delete;
    v.xAccess = Access;
    v.xFullPathname = FullPathname;
    v.xDlOpen = DlOpen;
    v.xDlError = DlError;
    v.xDlSym = DlSym;
    v.xDlClose = DlClose;
    v.xRandomness = Randomness;
    v.xSleep = Sleep;
    v.xCurrentTime = CurrentTime;
    v.xGetLastError = GetLastError;
    v.xCurrentTimeInt64 = CurrentTimeInt64;
    return v;
  }();
  if (sqlite3_vfs_register(&vfs, /*makeDflt=*/0) != SQLITE_OK) return nullptr;
  return &vfs;
}

}  // namespace

const char* BufferedLogVfs() {
  static sqlite3_vfs* const vfs = Register();
  return vfs == nullptr ? nullptr : vfs->zName;
}

}  // namespace kelola::db
