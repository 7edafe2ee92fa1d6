#pragma once

// A certificate authority for TLS tests, made with the `openssl` command in a test's
// temporary folder: a CA and certificates it signs for localhost and 127.0.0.1, usable by
// servers and clients alike (serverAuth and clientAuth), EC P-256, valid for two days.

#include <string>

#include "absl/status/statusor.h"
#include "libs/tls/tls.h"

namespace kelola::testing {

class TestCertificateAuthority {
 public:
  // Makes `<dir>/<name>-ca.pem` and its key.
  static absl::StatusOr<TestCertificateAuthority> Create(const std::string& dir,
                                                         const std::string& name = "test");

  // Writes `<dir>/<name>.pem` and `<dir>/<name>.key` (replacing them, each file renamed into
  // place whole, as a rotation does) with `serial` as the certificate's serial number;
  // returns the files with this CA as `ca`.
  absl::StatusOr<tls::TlsFiles> Issue(const std::string& name, int serial) const;

  const std::string& ca_file() const { return ca_file_; }

 private:
  TestCertificateAuthority(std::string dir, std::string ca_file, std::string ca_key)
      : dir_(std::move(dir)), ca_file_(std::move(ca_file)), ca_key_(std::move(ca_key)) {}

  std::string dir_;
  std::string ca_file_;
  std::string ca_key_;
};

}  // namespace kelola::testing
