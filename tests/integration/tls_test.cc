// TLS of the suite (P5) through real processes: the gateway's public port speaks TLS to
// clients without certificates; every call between the processes is mutual TLS, so a
// backend turns away plaintext, a caller without a certificate and a certificate from
// another CA; certificates rotate without a restart; bad TLS files stop a process at start
// with the file named.

#include "libs/tls/tls.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "kelola/customer/v1/customer_service.grpc.pb.h"
#include "kelola/gateway/v1/gateway_service.grpc.pb.h"
#include "kelola/ledger/v1/ledger_service.grpc.pb.h"
#include "kelola/report/v1/report_service.grpc.pb.h"
#include "libs/testing/cluster.h"
#include "libs/testing/suite.h"
#include "libs/testing/test_certificates.h"

namespace kelola::testing {
namespace {

namespace cv1 = kelola::customer::v1;
namespace gv1 = kelola::gateway::v1;
namespace lv1 = kelola::ledger::v1;
namespace rv1 = kelola::report::v1;
using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;

constexpr char kTenant[] = "tenant-tls";
constexpr char kOwnerKey[] = "owner-tls-0123456789";

// A channel of its own (no connection shared with earlier channels), so that it makes a
// new handshake.
std::shared_ptr<grpc::Channel> FreshChannel(const std::string& address,
                                            std::shared_ptr<grpc::ChannelCredentials> creds) {
  static std::atomic<int> n{0};
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("kelola.test.channel", n.fetch_add(1));
  return grpc::CreateCustomChannel(address, std::move(creds), args);
}

// What a mobile app or a script has: the CA, no certificate of its own.
std::shared_ptr<grpc::ChannelCredentials> ServerOnlyTls(const std::string& ca_file) {
  grpc::SslCredentialsOptions options;
  std::ifstream in(ca_file);
  options.pem_root_certs.assign(std::istreambuf_iterator<char>(in), {});
  return grpc::SslCredentials(options);
}

grpc::Status Health(const std::shared_ptr<grpc::Channel>& channel) {
  HealthCheckResponse response;
  return Health::NewStub(channel)->Check(ApiKeyContext("").get(), HealthCheckRequest(), &response);
}

// The serial number of the certificate the server showed on `context`'s call.
int64_t PeerSerial(const grpc::ClientContext& context) {
  auto auth = context.auth_context();
  if (auth == nullptr) return -1;
  auto pems = auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pems.empty()) return -1;
  const std::string pem(pems.front().data(), pems.front().size());
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return -1;
  const int64_t serial = ASN1_INTEGER_get(X509_get_serialNumber(cert));
  X509_free(cert);
  return serial;
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ClusterOptions options;
    options.dir_prefix = "kelola-tls";
    options.tls = true;
    options.api_keys = {{kOwnerKey, "tls-owner", kTenant, {"owner"}, {}}};
    auto cluster = Cluster::Start(std::move(options));
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    cluster_ = cluster->release();
  }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override { ASSERT_NE(cluster_, nullptr); }

  const std::string& ca_file() const { return cluster_->tls_files.ca; }
  std::string gateway() const { return cluster_->gateways[0]->address(); }

  static Cluster* cluster_;
};

Cluster* TlsTest::cluster_ = nullptr;

// Create, sell, read the card: the gateway reaches customer-svc, ledger-svc and report-svc,
// ledger-svc checks the customer with customer-svc, and report-svc follows the ledger's
// stream, every hop over mutual TLS; the client itself shows no certificate.
TEST_F(TlsTest, ClientWithoutCertificateWorksThroughTheGateway) {
  auto channel = FreshChannel(gateway(), ServerOnlyTls(ca_file()));
  gv1::WhoAmIResponse who;
  auto context = ApiKeyContext(kOwnerKey);
  grpc::Status status =
      gv1::GatewayService::NewStub(channel)->WhoAmI(context.get(), gv1::WhoAmIRequest(), &who);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(who.principal().tenant_id(), kTenant);
  EXPECT_EQ(PeerSerial(*context), 1);

  cv1::CreateCustomerRequest create;
  create.set_request_id("tls-create-1");
  create.mutable_customer()->set_display_name("Siti Aminah");
  cv1::CreateCustomerResponse created;
  status = cv1::CustomerService::NewStub(channel)->CreateCustomer(ApiKeyContext(kOwnerKey).get(),
                                                                  create, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string customer = created.customer().customer_id();

  lv1::RecordSaleRequest sale;
  sale.set_request_id("tls-sale-1");
  sale.set_customer_id(customer);
  sale.set_store_id("toko-1");
  lv1::SaleItem* item = sale.add_items();
  item->set_sku("BERAS-5KG");
  item->set_name("Beras 5 kg");
  item->set_quantity_milli(1000);
  *item->mutable_unit_price() = Idr(7500000);
  *sale.mutable_total() = Idr(7500000);
  lv1::RecordSaleResponse sold;
  status =
      lv1::LedgerService::NewStub(channel)->RecordSale(ApiKeyContext(kOwnerKey).get(), sale, &sold);
  ASSERT_TRUE(status.ok()) << status.error_message();

  rv1::GetSummaryCardRequest card_request;
  card_request.set_customer_id(customer);
  card_request.set_min_ledger_version(sold.customer_stats().ledger_version());
  rv1::GetSummaryCardResponse card;
  status = rv1::ReportService::NewStub(channel)->GetSummaryCard(ApiKeyContext(kOwnerKey).get(),
                                                                card_request, &card);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(card.card().total_spent().amount_minor(), 7500000);
  EXPECT_EQ(card.card().transaction_count(), 1);
}

TEST_F(TlsTest, PlaintextIsRefusedEverywhere) {
  for (const ServiceProcess* process : {cluster_->gateways[0].get(), cluster_->customer.get(),
                                        cluster_->ledger.get(), cluster_->report.get()}) {
    grpc::Status status =
        Health(FreshChannel(process->address(), grpc::InsecureChannelCredentials()));
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << process->address();
  }
}

TEST_F(TlsTest, ServicesRequireACertificateFromTheCa) {
  auto other_ca = TestCertificateAuthority::Create(cluster_->dir->path(), "other");
  ASSERT_TRUE(other_ca.ok()) << other_ca.status();
  auto stranger = other_ca->Issue("stranger", 7);
  ASSERT_TRUE(stranger.ok()) << stranger.status();
  // A stranger's certificate, trusting the suite's CA (so only the server side can object).
  tls::TlsFiles foreign = *stranger;
  foreign.ca = ca_file();
  for (const ServiceProcess* process :
       {cluster_->customer.get(), cluster_->ledger.get(), cluster_->report.get()}) {
    EXPECT_EQ(Health(FreshChannel(process->address(), ServerOnlyTls(ca_file()))).error_code(),
              grpc::StatusCode::UNAVAILABLE)
        << "no client certificate: " << process->address();
    EXPECT_EQ(
        Health(FreshChannel(process->address(), tls::ChannelCredentials(foreign))).error_code(),
        grpc::StatusCode::UNAVAILABLE)
        << "certificate of another CA: " << process->address();
    EXPECT_TRUE(Health(cluster_->Channel(*process)).ok()) << process->address();
  }
  // And a client that trusts only another CA does not accept the suite's servers.
  EXPECT_EQ(Health(FreshChannel(gateway(), ServerOnlyTls(other_ca->ca_file()))).error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

// The files are replaced (as cert-manager renews a Secret): new connections get the new
// certificate within the reload interval (1 s here), with no restart, and the processes
// still reach each other.
TEST_F(TlsTest, RotatedCertificatesTakeEffectWithoutARestart) {
  auto rotated = cluster_->tls_ca->Issue("suite", 2);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  // Each process re-reads on its own clock: wait for each to show serial 2.
  for (const ServiceProcess* process : {cluster_->gateways[0].get(), cluster_->customer.get(),
                                        cluster_->ledger.get(), cluster_->report.get()}) {
    int64_t serial = -1;
    const absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline && serial != 2) {
      auto context = ApiKeyContext("");
      HealthCheckResponse response;
      grpc::Status status =
          Health::NewStub(FreshChannel(process->address(), process->client_credentials()))
              ->Check(context.get(), HealthCheckRequest(), &response);
      if (status.ok()) serial = PeerSerial(*context);
      if (serial != 2) absl::SleepFor(absl::Milliseconds(200));
    }
    EXPECT_EQ(serial, 2) << process->address() << " still shows the old certificate";
  }
  // The processes reach each other with the new certificates: a new customer, a sale.
  auto channel = FreshChannel(gateway(), ServerOnlyTls(ca_file()));
  cv1::CreateCustomerRequest create;
  create.set_request_id("tls-create-rotated");
  create.mutable_customer()->set_display_name("Budi Santoso");
  cv1::CreateCustomerResponse created;
  grpc::Status status = cv1::CustomerService::NewStub(channel)->CreateCustomer(
      ApiKeyContext(kOwnerKey).get(), create, &created);
  ASSERT_TRUE(status.ok()) << status.error_message();
  gv1::WhoAmIResponse who;
  status = gv1::GatewayService::NewStub(channel)->WhoAmI(ApiKeyContext(kOwnerKey).get(),
                                                         gv1::WhoAmIRequest(), &who);
  EXPECT_TRUE(status.ok()) << status.error_message();
}

// Bad TLS settings stop a process at start (exit 2) with the file or flag named.
TEST(TlsStartupTest, BadFilesStopTheProcessWithTheFileNamed) {
  auto dir = TempDir::Create("kelola-tls-start");
  ASSERT_TRUE(dir.ok()) << dir.status();
  auto ca = TestCertificateAuthority::Create((*dir)->path());
  ASSERT_TRUE(ca.ok()) << ca.status();
  auto one = ca->Issue("one", 1);
  auto two = ca->Issue("two", 2);
  ASSERT_TRUE(one.ok() && two.ok());
  struct Case {
    std::vector<std::string> flags;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"--tls_cert_file=" + one->cert}, "--tls_key_file"},
      {{"--tls_cert_file=" + one->cert, "--tls_key_file=" + two->key, "--tls_ca_file=" + one->ca},
       "is not the key of the certificate"},
      {{"--tls_cert_file=" + one->cert, "--tls_key_file=" + one->key,
        "--tls_ca_file=" + (*dir)->Join("missing.pem")},
       "--tls_ca_file"},
      {{"--tls_cert_file=" + one->key, "--tls_key_file=" + one->key, "--tls_ca_file=" + one->ca},
       "holds no PEM certificate"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"--db=sqlite:" + (*dir)->Join("c.db"), "--ledger=127.0.0.1:1",
                                     "--trust_tenant_header"};
    args.insert(args.end(), c.flags.begin(), c.flags.end());
    auto started = ServiceProcess::Start({"customer-svc", args, (*dir)->path()});
    ASSERT_FALSE(started.ok()) << c.expected;
    EXPECT_NE(started.status().message().find(c.expected), std::string::npos)
        << started.status().message();
  }
}

}  // namespace
}  // namespace kelola::testing
