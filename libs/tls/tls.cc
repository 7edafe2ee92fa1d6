#include "libs/tls/tls.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"
#include "libs/crypto/openssl_ptr.h"

namespace kelola::tls {
namespace {

constexpr char kCertFlag[] = "--tls_cert_file";
constexpr char kKeyFlag[] = "--tls_key_file";
constexpr char kCaFlag[] = "--tls_ca_file";

using Bio = crypto::OpenSslPtr<BIO, BIO_free_all>;
using Certificate = crypto::OpenSslPtr<X509, X509_free>;
using PrivateKey = crypto::OpenSslPtr<EVP_PKEY, EVP_PKEY_free>;

absl::Status FileError(const char* flag, const std::string& path, absl::string_view what) {
  ERR_clear_error();
  return absl::InvalidArgumentError(absl::StrCat(flag, " ", path, ": ", what));
}

absl::StatusOr<std::string> ReadFile(const char* flag, const std::string& path) {
  if (path.empty()) return FileError(flag, path, "required");
  std::ifstream in(path, std::ios::binary);
  if (!in) return FileError(flag, path, "cannot be read");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Bio MemoryBio(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

// The first certificate of a PEM file (a chain's leaf, a bundle's first CA).
absl::StatusOr<Certificate> FirstCertificate(const char* flag, const std::string& path) {
  auto text = ReadFile(flag, path);
  if (!text.ok()) return text.status();
  Bio bio = MemoryBio(*text);
  Certificate cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) return FileError(flag, path, "holds no PEM certificate");
  return cert;
}

absl::Status CheckKeyPair(const TlsFiles& files) {
  auto cert = FirstCertificate(kCertFlag, files.cert);
  if (!cert.ok()) return cert.status();
  auto text = ReadFile(kKeyFlag, files.key);
  if (!text.ok()) return text.status();
  Bio bio = MemoryBio(*text);
  PrivateKey key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) return FileError(kKeyFlag, files.key, "holds no unencrypted PEM key");
  if (X509_check_private_key(cert->get(), key.get()) != 1) {
    return FileError(kKeyFlag, files.key,
                     absl::StrCat("is not the key of the certificate in ", files.cert));
  }
  return absl::OkStatus();
}

absl::Status CheckCa(const TlsFiles& files) { return FirstCertificate(kCaFlag, files.ca).status(); }

}  // namespace

absl::Status CheckFiles(const TlsFiles& files) {
  if (absl::Status s = CheckKeyPair(files); !s.ok()) return s;
  return CheckCa(files);
}

CertificateWatcher WatchFiles(const TlsFiles& files) {
  const auto seconds =
      static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(files.reload_interval)));
  return std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(files.key, files.cert,
                                                                              files.ca, seconds);
}

std::shared_ptr<grpc::ServerCredentials> ServerCredentials(const CertificateWatcher& files,
                                                           ClientCertificates clients) {
  const bool require = clients == ClientCertificates::kRequire;
  grpc::experimental::TlsServerCredentialsOptions options(files);
  options.watch_identity_key_cert_pairs();
  if (require) {
    options.watch_root_certs();
    options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  } else {
    options.set_cert_request_type(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);
  }
  return grpc::experimental::TlsServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const CertificateWatcher& files) {
  grpc::experimental::TlsChannelCredentialsOptions options;
  options.set_certificate_provider(files);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_verify_server_certs(true);
  options.set_certificate_verifier(
      std::make_shared<grpc::experimental::HostNameCertificateVerifier>());
  return grpc::experimental::TlsCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> ChannelCredentials(const TlsFiles& files) {
  return ChannelCredentials(WatchFiles(files));
}

}  // namespace kelola::tls
