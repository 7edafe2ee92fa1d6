#include "gateway/api/ledger_writes.h"

#include "absl/strings/str_cat.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "kelola/ledger/v1/ledger_service.pb.h"
#include "libs/log/log.h"

namespace kelola::gateway {
namespace {

// Notes the version a write response of type `Response` reports.
template <typename Response>
Route::ResponseObserver NoteVersionOf(CardCache& cache) {
  return [&cache](const auth::Principal& principal, const grpc::ByteBuffer& bytes) {
    grpc::ByteBuffer copy(bytes);  // shares the slices; parsing consumes its own view
    grpc::ProtoBufferReader reader(&copy);
    Response response;
    if (!response.ParseFromZeroCopyStream(&reader)) return;
    const auto& stats = response.customer_stats();
    if (stats.customer_id().empty() || stats.ledger_version() <= 0) return;
    absl::Status noted =
        cache.NoteWritten(principal.tenant_id, stats.customer_id(), stats.ledger_version());
    if (!noted.ok()) {
      log::Warn(
          "a written ledger version could not be noted in Redis; other gateway replicas "
          "may serve an older card until the event stream invalidates it",
          {{"error", std::string(noted.message())}});
    }
  };
}

}  // namespace

void ObserveLedgerWrites(ForwardingService& ledger, CardCache& cache) {
  const std::string service = "/kelola.ledger.v1.LedgerService/";
  auto observe = [&](const char* method, Route::ResponseObserver observer) {
    if (Route* route = ledger.MutableRoute(absl::StrCat(service, method))) {
      route->on_response = std::move(observer);
    }
  };
  observe("RecordSale", NoteVersionOf<ledger::v1::RecordSaleResponse>(cache));
  observe("VoidSale", NoteVersionOf<ledger::v1::VoidSaleResponse>(cache));
  observe("RefundSale", NoteVersionOf<ledger::v1::RefundSaleResponse>(cache));
  observe("RecordPayment", NoteVersionOf<ledger::v1::RecordPaymentResponse>(cache));
  observe("VoidPayment", NoteVersionOf<ledger::v1::VoidPaymentResponse>(cache));
  observe("ApplyCredit", NoteVersionOf<ledger::v1::ApplyCreditResponse>(cache));
}

}  // namespace kelola::gateway
