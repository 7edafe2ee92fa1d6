#pragma once

// A private temporary directory for a test, removed with everything in it when the
// object is destroyed.

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kelola::testing {

class TempDir {
 public:
  // Creates a fresh directory (mode 0700) named `<prefix>.XXXXXX` under `parent`, or
  // under $TMPDIR (else /tmp) when `parent` is empty.
  static absl::StatusOr<std::unique_ptr<TempDir>> Create(absl::string_view prefix = "kelola",
                                                         absl::string_view parent = "");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // path() + "/" + name.
  std::string Join(absl::string_view name) const;
  // Leaves the directory on disk after destruction (for post-mortem debugging).
  void Keep() { keep_ = true; }

 private:
  explicit TempDir(std::string path) : path_(std::move(path)) {}

  std::string path_;
  bool keep_ = false;
};

// The directory temporary files go to: $TMPDIR when set and non-empty, else /tmp.
std::string TempRoot();

// Removes `path` and everything below it. NOT_FOUND is not an error.
absl::Status RemoveRecursively(const std::string& path);

}  // namespace kelola::testing
