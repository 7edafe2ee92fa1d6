#include "libs/testing/test_certificates.h"

#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/strings/str_cat.h"
#include "libs/testing/process.h"

namespace kelola::testing {
namespace {

// Each certificate's extensions; the CA's come from -addext.
constexpr char kLeafExtensions[] =
    "basicConstraints = critical, CA:FALSE\n"
    "keyUsage = critical, digitalSignature\n"
    "extendedKeyUsage = serverAuth, clientAuth\n"
    "subjectAltName = DNS:localhost, IP:127.0.0.1\n";

absl::Status OpenSsl(std::vector<std::string> args, const std::string& log_path) {
  const std::string command = args.empty() ? "" : args.front();
  args.insert(args.begin(), "openssl");
  ProcessOptions options;
  options.argv = std::move(args);
  options.log_path = log_path;
  auto exit = RunToCompletion(std::move(options), absl::Seconds(30));
  if (!exit.ok()) return exit.status();
  if (!exit->success()) {
    return absl::InternalError(
        absl::StrCat("openssl ", command, " failed (exit ", exit->exit_code, "); see ", log_path));
  }
  return absl::OkStatus();
}

std::vector<std::string> NewEcKey(const std::string& key_path) {
  return {"-newkey", "ec",      "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes",  "-keyout", key_path};
}

}  // namespace

absl::StatusOr<TestCertificateAuthority> TestCertificateAuthority::Create(const std::string& dir,
                                                                          const std::string& name) {
  const std::string ca_file = absl::StrCat(dir, "/", name, "-ca.pem");
  const std::string ca_key = absl::StrCat(dir, "/", name, "-ca.key");
  std::vector<std::string> args = {"req", "-x509"};
  for (std::string& a : NewEcKey(ca_key)) args.push_back(std::move(a));
  for (const char* a :
       {"-subj", "/CN=Kelola test CA", "-days", "2", "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-out"}) {
    args.emplace_back(a);
  }
  args.push_back(ca_file);
  if (absl::Status s = OpenSsl(std::move(args), absl::StrCat(dir, "/openssl.log")); !s.ok()) {
    return s;
  }
  return TestCertificateAuthority(dir, ca_file, ca_key);
}

absl::StatusOr<tls::TlsFiles> TestCertificateAuthority::Issue(const std::string& name,
                                                              int serial) const {
  const std::string base = absl::StrCat(dir_, "/", name);
  const std::string log = absl::StrCat(dir_, "/openssl.log");
  const std::string extensions = base + ".ext";
  {
    std::ofstream out(extensions);
    out << kLeafExtensions;
    if (!out) return absl::InternalError(absl::StrCat("cannot write ", extensions));
  }
  std::vector<std::string> request = {"req"};
  for (std::string& a : NewEcKey(base + ".key.new")) request.push_back(std::move(a));
  for (const std::string& a :
       {std::string("-subj"), absl::StrCat("/CN=", name), std::string("-out"), base + ".csr"}) {
    request.push_back(a);
  }
  if (absl::Status s = OpenSsl(std::move(request), log); !s.ok()) return s;
  if (absl::Status s = OpenSsl(
          {"x509", "-req", "-in", base + ".csr", "-CA", ca_file_, "-CAkey", ca_key_, "-set_serial",
           absl::StrCat(serial), "-days", "2", "-extfile", extensions, "-out", base + ".pem.new"},
          log);
      !s.ok()) {
    return s;
  }
  // The key first: a reader that sees the new certificate finds its key already there.
  if (std::rename((base + ".key.new").c_str(), (base + ".key").c_str()) != 0 ||
      std::rename((base + ".pem.new").c_str(), (base + ".pem").c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot move the new files into place at ", base));
  }
  tls::TlsFiles files;
  files.cert = base + ".pem";
  files.key = base + ".key";
  files.ca = ca_file_;
  return files;
}

}  // namespace kelola::testing
