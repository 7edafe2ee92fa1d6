#pragma once

// A configuration file the gateway re-reads when it changes (API keys, JWKS), without a
// restart: Current() looks at the file's modification time at most once per `interval`
// and loads it again when it moved. A file that no longer loads keeps the last good
// contents in force (and is logged), so a half-written edit never locks everyone out.

#include <sys/stat.h>

#include <functional>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "libs/clock/clock.h"
#include "libs/log/log.h"

namespace kelola::gateway {

template <typename T>
class WatchedFile {
 public:
  using Loader = std::function<absl::StatusOr<std::shared_ptr<const T>>(const std::string&)>;

  // Loads the file once; its error when that fails (the gateway then refuses to start).
  static absl::StatusOr<std::unique_ptr<WatchedFile>> Open(std::string path, Loader loader,
                                                           const Clock& clock,
                                                           absl::Duration interval) {
    auto first = loader(path);
    if (!first.ok()) return first.status();
    auto file = std::unique_ptr<WatchedFile>(
        new WatchedFile(std::move(path), std::move(loader), clock, interval));
    {
      absl::MutexLock lock(&file->mu_);
      file->current_ = *std::move(first);
      file->mtime_ = file->ModificationTime();
      file->checked_ = clock.Now();
    }
    return file;
  }

  std::shared_ptr<const T> Current() {
    const absl::Time now = clock_.Now();
    {
      absl::ReaderMutexLock lock(&mu_);
      if (now < checked_ + interval_) return current_;
    }
    absl::MutexLock lock(&mu_);
    if (now < checked_ + interval_) return current_;
    checked_ = now;
    const std::string mtime = ModificationTime();
    if (mtime == mtime_) return current_;
    auto next = loader_(path_);
    if (!next.ok()) {
      log::Warn("a changed configuration file does not load; keeping the previous contents",
                {{"path", path_}, {"error", std::string(next.status().message())}});
      mtime_ = mtime;  // tried once; the next edit is tried again
      return current_;
    }
    log::Info("configuration file reloaded", {{"path", path_}});
    mtime_ = mtime;
    current_ = *std::move(next);
    return current_;
  }

 private:
  WatchedFile(std::string path, Loader loader, const Clock& clock, absl::Duration interval)
      : path_(std::move(path)), loader_(std::move(loader)), clock_(clock), interval_(interval) {}

  // What changes when the file is edited or replaced (an atomic rename gives a new inode).
  std::string ModificationTime() const {
    struct stat info {};
    if (stat(path_.c_str(), &info) != 0) return "missing";
    return absl::StrCat(info.st_mtim.tv_sec, ".", info.st_mtim.tv_nsec, "/", info.st_size, "/",
                        info.st_ino);
  }

  const std::string path_;
  const Loader loader_;
  const Clock& clock_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  std::shared_ptr<const T> current_ ABSL_GUARDED_BY(mu_);
  std::string mtime_ ABSL_GUARDED_BY(mu_);
  absl::Time checked_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::gateway
