#include "bench/harness/report.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "libs/log/log.h"

namespace kelola::bench {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

}  // namespace

std::string Fixed(double value, int decimals) { return absl::StrFormat("%.*f", decimals, value); }

Report::Report(std::string name, std::string title, std::string command)
    : name_(std::move(name)),
      title_(std::move(title)),
      command_(std::move(command)),
      date_(absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone())) {}

std::string Report::MachineDescription() {
  std::string cpu = "unknown CPU";
  std::istringstream cpuinfo(ReadFile("/proc/cpuinfo"));
  for (std::string line; std::getline(cpuinfo, line);) {
    if (absl::StartsWith(line, "model name")) {
      cpu = std::string(absl::StripAsciiWhitespace(line.substr(line.find(':') + 1)));
      break;
    }
  }
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  const double gib = static_cast<double>(pages) * page_size / (1024.0 * 1024 * 1024);
  utsname uts{};
  uname(&uts);
  return absl::StrFormat("%ld cores, %s, %.0f GiB RAM, %s %s", sysconf(_SC_NPROCESSORS_ONLN), cpu,
                         gib, uts.sysname, uts.release);
}

std::string Report::Markdown() const {
  std::string out = absl::StrCat("## ", title_, "\n\n", "Machine: ", MachineDescription(),
                                 ". Date: ", date_, ". Command: `", command_, "`.\n\n");
  if (!rows_.empty()) {
    out += "| run |";
    for (const auto& [column, value] : rows_.front().values)
      absl::StrAppend(&out, " ", column, " |");
    out += "\n|---|";
    for (size_t i = 0; i < rows_.front().values.size(); ++i) out += "---:|";
    out += "\n";
    for (const auto& row : rows_) {
      absl::StrAppend(&out, "| ", row.label, " |");
      for (const auto& [column, value] : row.values) absl::StrAppend(&out, " ", value, " |");
      out += "\n";
    }
  }
  for (const auto& note : notes_) absl::StrAppend(&out, "\n", note, "\n");
  return out;
}

absl::Status Report::Write(const std::string& root) const {
  const std::string markdown = Markdown();
  std::cout << markdown << std::flush;

  // JSON: one object per run, values kept as the formatted strings shown in the docs.
  std::string json = absl::StrCat(
      "{\n  \"benchmark\": ", log::JsonQuote(name_), ",\n  \"date\": ", log::JsonQuote(date_),
      ",\n  \"machine\": ", log::JsonQuote(MachineDescription()),
      ",\n  \"command\": ", log::JsonQuote(command_), ",\n  \"runs\": [");
  for (size_t r = 0; r < rows_.size(); ++r) {
    absl::StrAppend(&json, r ? "," : "", "\n    {\"run\": ", log::JsonQuote(rows_[r].label));
    for (const auto& [column, value] : rows_[r].values) {
      absl::StrAppend(&json, ", ", log::JsonQuote(column), ": ", log::JsonQuote(value));
    }
    json += "}";
  }
  json += "\n  ]\n}\n";
  std::ofstream(absl::StrCat(root, "/bench/results/", name_, ".json")) << json;

  // docs/benchmarks.md: replace this benchmark's section, or append it.
  const std::string path = absl::StrCat(root, "/docs/benchmarks.md");
  std::string doc = ReadFile(path);
  if (doc.empty()) {
    doc =
        "# Benchmarks\n\nFigures written by the benchmarks themselves (`scripts/bench`); each "
        "section says the machine, the date and the command. Medians and tails of real runs "
        "through gRPC on loopback; this machine is shared and noisy, so compare ratios "
        "within one run rather than absolute numbers across runs.\n";
  }
  const std::string begin = absl::StrCat("<!-- bench:", name_, " begin -->\n");
  const std::string end = absl::StrCat("<!-- bench:", name_, " end -->\n");
  const std::string section = absl::StrCat(begin, markdown, end);
  const size_t at = doc.find(begin);
  const size_t stop = doc.find(end);
  if (at != std::string::npos && stop != std::string::npos && stop > at) {
    doc.replace(at, stop + end.size() - at, section);
  } else {
    absl::StrAppend(&doc, "\n", section);
  }
  std::ofstream out(path);
  out << doc;
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

}  // namespace kelola::bench
