#include "libs/testing/temp_dir.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace kelola::testing {

std::string TempRoot() {
  const char* env = std::getenv("TMPDIR");
  if (env != nullptr && env[0] != '\0') {
    return std::string(absl::StripSuffix(env, "/"));
  }
  return "/tmp";
}

absl::Status RemoveRecursively(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return absl::InternalError(absl::StrCat("cannot remove ", path, ": ", ec.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<TempDir>> TempDir::Create(absl::string_view prefix,
                                                         absl::string_view parent) {
  const std::string root = parent.empty() ? TempRoot() : std::string(parent);
  std::string tmpl = absl::StrCat(root, "/", prefix, ".XXXXXX");
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    const int err = errno;
    return absl::InternalError(absl::StrCat("mkdtemp(", tmpl, "): ", strerror(err)));
  }
  return std::unique_ptr<TempDir>(new TempDir(std::string(buf.data())));
}

TempDir::~TempDir() {
  if (!keep_) RemoveRecursively(path_).IgnoreError();
}

std::string TempDir::Join(absl::string_view name) const { return absl::StrCat(path_, "/", name); }

}  // namespace kelola::testing
