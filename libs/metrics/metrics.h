#pragma once

// Prometheus metrics: counters, gauges and histograms with labels, rendered in the
// text exposition format by the metrics HTTP endpoint.

#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace kelola::metrics {

// Label pairs in a fixed order, e.g. {{"method", "/pkg.Svc/Get"}, {"code", "OK"}}.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  // Default latency buckets in seconds: 0.5 ms .. 10 s.
  static const std::vector<double>& DefaultBuckets();

  // Declares a metric family (help text and type). Declaring twice is harmless.
  void DeclareCounter(absl::string_view name, absl::string_view help);
  void DeclareGauge(absl::string_view name, absl::string_view help);
  void DeclareHistogram(absl::string_view name, absl::string_view help,
                        std::vector<double> buckets = DefaultBuckets());

  void Increment(absl::string_view name, const Labels& labels, double by = 1);
  void Set(absl::string_view name, const Labels& labels, double value);
  void Observe(absl::string_view name, const Labels& labels, double value);

  // Value of a counter or gauge series; 0 when absent. For tests.
  double Value(absl::string_view name, const Labels& labels) const;
  // Number of observations of a histogram series. For tests.
  uint64_t Count(absl::string_view name, const Labels& labels) const;

  // The Prometheus text exposition format (version 0.0.4).
  std::string Render() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;               // counter / gauge
    std::vector<uint64_t> buckets;  // histogram: cumulative counts per bound
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::vector<double> bounds;
    std::map<Labels, Series> series;
  };
  Family* FindLocked(absl::string_view name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  const Family* FindLocked(absl::string_view name) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, Family, std::less<>> families_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kelola::metrics
