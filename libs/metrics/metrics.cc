#include "libs/metrics/metrics.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kelola::metrics {
namespace {

std::string EscapeLabel(absl::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string FormatLabels(const Labels& labels, absl::string_view extra_key = "",
                         absl::string_view extra_value = "") {
  std::vector<std::string> parts;
  for (const auto& [k, v] : labels) parts.push_back(absl::StrCat(k, "=\"", EscapeLabel(v), "\""));
  if (!extra_key.empty()) parts.push_back(absl::StrCat(extra_key, "=\"", extra_value, "\""));
  if (parts.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < parts.size(); ++i) absl::StrAppend(&out, i ? "," : "", parts[i]);
  return out + "}";
}

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.9g", v);
}

}  // namespace

const std::vector<double>& Registry::DefaultBuckets() {
  static const std::vector<double>* buckets = new std::vector<double>{
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  return *buckets;
}

void Registry::DeclareCounter(absl::string_view name, absl::string_view help) {
  absl::MutexLock lock(&mu_);
  auto& family = families_[std::string(name)];
  family.type = Type::kCounter;
  family.help = std::string(help);
}

void Registry::DeclareGauge(absl::string_view name, absl::string_view help) {
  absl::MutexLock lock(&mu_);
  auto& family = families_[std::string(name)];
  family.type = Type::kGauge;
  family.help = std::string(help);
}

void Registry::DeclareHistogram(absl::string_view name, absl::string_view help,
                                std::vector<double> buckets) {
  absl::MutexLock lock(&mu_);
  auto& family = families_[std::string(name)];
  family.type = Type::kHistogram;
  family.help = std::string(help);
  std::sort(buckets.begin(), buckets.end());
  family.bounds = std::move(buckets);
}

Registry::Family* Registry::FindLocked(absl::string_view name) {
  auto it = families_.find(name);
  return it == families_.end() ? nullptr : &it->second;
}

const Registry::Family* Registry::FindLocked(absl::string_view name) const {
  auto it = families_.find(name);
  return it == families_.end() ? nullptr : &it->second;
}

void Registry::Increment(absl::string_view name, const Labels& labels, double by) {
  absl::MutexLock lock(&mu_);
  if (Family* family = FindLocked(name)) family->series[labels].value += by;
}

void Registry::Set(absl::string_view name, const Labels& labels, double value) {
  absl::MutexLock lock(&mu_);
  if (Family* family = FindLocked(name)) family->series[labels].value = value;
}

void Registry::Observe(absl::string_view name, const Labels& labels, double value) {
  absl::MutexLock lock(&mu_);
  Family* family = FindLocked(name);
  if (family == nullptr || family->type != Type::kHistogram) return;
  Series& series = family->series[labels];
  if (series.buckets.empty()) series.buckets.assign(family->bounds.size(), 0);
  for (size_t i = 0; i < family->bounds.size(); ++i) {
    if (value <= family->bounds[i]) ++series.buckets[i];
  }
  ++series.count;
  series.sum += value;
}

double Registry::Value(absl::string_view name, const Labels& labels) const {
  absl::MutexLock lock(&mu_);
  const Family* family = FindLocked(name);
  if (family == nullptr) return 0;
  auto it = family->series.find(labels);
  return it == family->series.end() ? 0 : it->second.value;
}

uint64_t Registry::Count(absl::string_view name, const Labels& labels) const {
  absl::MutexLock lock(&mu_);
  const Family* family = FindLocked(name);
  if (family == nullptr) return 0;
  auto it = family->series.find(labels);
  return it == family->series.end() ? 0 : it->second.count;
}

std::string Registry::Render() const {
  absl::MutexLock lock(&mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    const char* type = family.type == Type::kCounter ? "counter"
                       : family.type == Type::kGauge ? "gauge"
                                                     : "histogram";
    absl::StrAppend(&out, "# HELP ", name, " ", family.help, "\n# TYPE ", name, " ", type, "\n");
    for (const auto& [labels, series] : family.series) {
      if (family.type != Type::kHistogram) {
        absl::StrAppend(&out, name, FormatLabels(labels), " ", FormatNumber(series.value), "\n");
        continue;
      }
      for (size_t i = 0; i < family.bounds.size(); ++i) {
        absl::StrAppend(&out, name, "_bucket",
                        FormatLabels(labels, "le", FormatNumber(family.bounds[i])), " ",
                        series.buckets[i], "\n");
      }
      absl::StrAppend(&out, name, "_bucket", FormatLabels(labels, "le", "+Inf"), " ", series.count,
                      "\n");
      absl::StrAppend(&out, name, "_sum", FormatLabels(labels), " ", FormatNumber(series.sum),
                      "\n");
      absl::StrAppend(&out, name, "_count", FormatLabels(labels), " ", series.count, "\n");
    }
  }
  return out;
}

}  // namespace kelola::metrics
