#include "gateway/cache/card_cache.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "gateway/cache/redis_keys.h"
#include "kelola/report/v1/summary_card.pb.h"

namespace kelola::gateway {
namespace {

using cache::RedisReply;

// Every script takes KEYS = {card, minv} and ARGV[1] = a ledger version, and starts by
// reading the minimum and the stored card's version (-1: none).
constexpr char kPrelude[] = R"lua(
local version = tonumber(ARGV[1])
local minv = tonumber(redis.call('GET', KEYS[2]) or '0')
local stored = tonumber(redis.call('HGET', KEYS[1], 'v') or '-1')
)lua";

struct Scripts {
  // ARGV[1]: the request's min_version.
  // -> {floor} on a miss, {floor, v, d} on a hit; floor = max(min_version, minv).
  cache::RedisScript lookup{absl::StrCat(kPrelude, R"lua(
local floor = math.max(version, minv)
if stored >= floor then
  local card = redis.call('HGET', KEYS[1], 'd')
  if card then return {floor, stored, card} end
end
return {floor}
)lua")};
  // ARGV: version, bytes, card TTL in ms. -> 1 stored, 0 refused.
  cache::RedisScript fill{absl::StrCat(kPrelude, R"lua(
if version < minv or stored >= version then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'd', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
)lua")};
  // ARGV: version, minv TTL in ms. -> 1 when a card was dropped.
  cache::RedisScript note_written{absl::StrCat(kPrelude, R"lua(
if version > minv then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
else
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
if stored >= 0 and stored < version then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
)lua")};
};

const Scripts& GetScripts() {
  static const Scripts* scripts = new Scripts();
  return *scripts;
}

absl::Status CheckIds(absl::string_view tenant, absl::string_view customer, int64_t version) {
  if (tenant.empty() || customer.empty()) {
    return absl::InvalidArgumentError("card cache: empty tenant or customer id");
  }
  if (version < 0) return absl::InvalidArgumentError("card cache: negative ledger version");
  return absl::OkStatus();
}

// The Lookup script's reply -> CardLookup; a malformed reply is a bypass.
CardLookup ToLookup(absl::StatusOr<RedisReply> reply, int64_t min_version) {
  CardLookup out;
  out.min_version = min_version;
  if (!reply.ok()) {
    out.bypass = reply.status();
    return out;
  }
  std::vector<RedisReply>& fields = reply->elements;
  if (reply->type != RedisReply::Type::kArray || fields.empty() ||
      fields[0].type != RedisReply::Type::kInteger) {
    out.bypass =
        absl::InternalError(absl::StrCat("card cache: unexpected lookup reply ", reply->text));
    return out;
  }
  out.min_version = std::max(min_version, static_cast<int64_t>(fields[0].integer));
  if (fields.size() == 3) {
    out.card = CachedCard{std::move(fields[2].text), fields[1].integer};
  }
  return out;
}

// A customer's two keys, built in one allocation.
class CardKeys {
 public:
  CardKeys(absl::string_view tenant, absl::string_view customer) {
    buffer_.reserve(2 * (tenant.size() + customer.size() + 20));
    AppendCustomerKey(&buffer_, "card", tenant, customer);
    const size_t card_size = buffer_.size();
    AppendCustomerKey(&buffer_, "minv", tenant, customer);
    keys_[0] = absl::string_view(buffer_).substr(0, card_size);
    keys_[1] = absl::string_view(buffer_).substr(card_size);
  }
  CardKeys(const CardKeys&) = delete;
  CardKeys& operator=(const CardKeys&) = delete;

  // {card, minv}, the order every script takes them in.
  cache::RedisArgs keys() const { return keys_; }

 private:
  std::string buffer_;
  absl::string_view keys_[2];
};

}  // namespace

CachedCard ToCachedCard(const report::v1::SummaryCard& card) {
  return CachedCard{card.SerializeAsString(), card.ledger_version()};
}

CardCache::CardCache(cache::RedisPool& redis, CardCacheOptions options)
    : redis_(redis),
      card_ttl_ms_(absl::StrCat(absl::ToInt64Milliseconds(options.card_ttl))),
      min_version_ttl_ms_(absl::StrCat(absl::ToInt64Milliseconds(options.min_version_ttl))) {}

absl::StatusOr<CardLookup> CardCache::Lookup(absl::string_view tenant, absl::string_view customer,
                                             int64_t min_version) {
  if (absl::Status valid = CheckIds(tenant, customer, min_version); !valid.ok()) return valid;
  const CardKeys keys(tenant, customer);
  const absl::AlphaNum floor(min_version);
  return ToLookup(redis_.EvalScriptShared(GetScripts().lookup, keys.keys(), {floor.Piece()}),
                  min_version);
}

absl::StatusOr<std::vector<CardLookup>> CardCache::BatchLookup(
    absl::string_view tenant, absl::Span<const std::string> customers, int64_t min_version) {
  // Every key in one buffer; key_views[2i], [2i+1] are customer i's card and minv.
  std::string buffer;
  std::vector<size_t> ends;
  ends.reserve(2 * customers.size());
  for (const std::string& customer : customers) {
    if (absl::Status valid = CheckIds(tenant, customer, min_version); !valid.ok()) return valid;
    AppendCustomerKey(&buffer, "card", tenant, customer);
    ends.push_back(buffer.size());
    AppendCustomerKey(&buffer, "minv", tenant, customer);
    ends.push_back(buffer.size());
  }
  std::vector<absl::string_view> key_views(ends.size());
  for (size_t i = 0, begin = 0; i < ends.size(); begin = ends[i++]) {
    key_views[i] = absl::string_view(buffer).substr(begin, ends[i] - begin);
  }
  const absl::AlphaNum floor(min_version);
  const absl::string_view args[] = {floor.Piece()};
  std::vector<cache::ScriptCall> calls(customers.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    calls[i] = {cache::RedisArgs(&key_views[2 * i], 2), args};
  }
  absl::StatusOr<std::vector<RedisReply>> replies =
      redis_.EvalScriptBatch(GetScripts().lookup, calls);
  std::vector<CardLookup> out;
  out.reserve(customers.size());
  for (size_t i = 0; i < customers.size(); ++i) {
    if (!replies.ok()) {
      out.push_back(ToLookup(replies.status(), min_version));
    } else if ((*replies)[i].type == RedisReply::Type::kError) {
      out.push_back(ToLookup(absl::FailedPreconditionError((*replies)[i].text), min_version));
    } else {
      out.push_back(ToLookup(std::move((*replies)[i]), min_version));
    }
  }
  return out;
}

absl::StatusOr<bool> CardCache::Fill(absl::string_view tenant, absl::string_view customer,
                                     int64_t version, absl::string_view bytes) {
  if (absl::Status valid = CheckIds(tenant, customer, version); !valid.ok()) return valid;
  const CardKeys keys(tenant, customer);
  const absl::AlphaNum v(version);
  absl::StatusOr<RedisReply> reply =
      redis_.EvalScript(GetScripts().fill, keys.keys(), {v.Piece(), bytes, card_ttl_ms_});
  if (!reply.ok()) return reply.status();
  return reply->integer == 1;
}

absl::Status CardCache::NoteWritten(absl::string_view tenant, absl::string_view customer,
                                    int64_t version) {
  if (absl::Status valid = CheckIds(tenant, customer, version); !valid.ok()) return valid;
  const CardKeys keys(tenant, customer);
  const absl::AlphaNum v(version);
  return redis_.EvalScript(GetScripts().note_written, keys.keys(), {v.Piece(), min_version_ttl_ms_})
      .status();
}

absl::StatusOr<CardCache::Read> CardCache::Get(absl::string_view tenant, absl::string_view customer,
                                               int64_t min_version, absl::Time deadline,
                                               const Fetcher& fetch) {
  absl::StatusOr<CardLookup> lookup = Lookup(tenant, customer, min_version);
  if (!lookup.ok()) return lookup.status();
  if (lookup->card.has_value()) return Read{*std::move(lookup->card), Source::kCache, {}};
  const int64_t floor = lookup->min_version;
  absl::Status cache_status = lookup->bypass;
  const std::string flight = CustomerKey("card", tenant, customer);  // the single-flight key
  for (;;) {
    absl::Status fill_status;
    FillGate::Outcome outcome = gate_.Do(flight, deadline, [&]() -> absl::StatusOr<CachedCard> {
      absl::StatusOr<CachedCard> card = fetch(floor);
      // Filled before the waiters wake, so requests arriving later hit the cache.
      if (card.ok()) {
        fill_status = Fill(tenant, customer, card->ledger_version, card->bytes).status();
      }
      return card;
    });
    if (!outcome.result.ok()) return outcome.result.status();
    if (outcome.led) {
      if (cache_status.ok()) cache_status = fill_status;
      return Read{*std::move(outcome.result), Source::kFetched, cache_status};
    }
    if (outcome.result->ledger_version >= floor) {
      return Read{*std::move(outcome.result), Source::kSharedFetch, cache_status};
    }
    // The fetch we waited for was for an older minimum than ours: go again.
  }
}

}  // namespace kelola::gateway
