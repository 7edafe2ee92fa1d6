#include "report-svc/store/card_feed.h"

#include <utility>

#include "report-svc/store/summary_cards.h"

namespace kelola::report::store {
namespace {

events::ConsumerOptions ConsumerOptionsOf(const CardFeedOptions& options) {
  events::ConsumerOptions out;
  out.consumer = kCardConsumer;
  out.producer = kLedgerProducer;
  out.max_batch = options.max_batch;
  out.max_queued = options.max_queued;
  out.max_wait = options.max_wait;
  out.min_backoff = options.min_backoff;
  out.max_backoff = options.max_backoff;
  out.internal_key = options.internal_key;
  return out;
}

}  // namespace

CardFeed::CardFeed(db::Database& db, std::shared_ptr<grpc::Channel> ledger, CardFeedOptions options)
    : consumer_(db, std::move(ledger), ConsumerOptionsOf(options),
                events::BatchHandler(ApplyLedgerBatch)) {}

}  // namespace kelola::report::store
