#pragma once

// A SQLite VFS that gathers a connection's appends to its write-ahead log in memory and
// writes them, in parts of 64 KiB, when the log is synced (every commit, with
// synchronous=FULL), read, sized, truncated or closed, instead of with two system calls per
// page (SQLite writes a frame's 24-byte header and its page apart).
//
// Why: in ledger-svc's group-committed sales on SQLite, pwrite took a fifth of the writer
// thread's time, about 500 calls a commit (docs/benchmarks.md). The bytes are the same; the
// calls are fewer.
//
// Safe because the buffer holds only frames no one may read yet: a commit's frames become
// visible to other connections only after its sync (which writes the buffer first), and
// SQLite's own reads of the log through this connection write the buffer first too. A
// write anywhere but at the buffer's end writes the buffer first, so the file sees every
// write in SQLite's order. A process that dies with frames in the buffer dies before the
// commit they belong to was synced, so before it was acknowledged. Files other than a
// write-ahead log are passed through untouched. Only for connections whose commits sync
// the log (synchronous=FULL or EXTRA): with NORMAL a commit becomes visible without a
// sync. Guards besides, from SQLite's source (wal.c): a log without powersafe overwrite
// (SQLite then pads a commit with frames written after its sync) is not gathered; the
// buffer is written before SQLite publishes a commit in the shared index (xShmBarrier);
// and when SQLite gives up the log's write lock, what is left (frames of a transaction
// that spilled and rolled back) is written while the lock is still held and let go, so
// that nothing of this connection reaches the log after another writer may have written
// there. A failed write keeps the bytes not written and returns the error.

namespace kelola::db {

// The VFS's name for sqlite3_open_v2, registered on first use over the default VFS.
// nullptr when it cannot be registered (the caller then opens with the default).
const char* BufferedLogVfs();

}  // namespace kelola::db
