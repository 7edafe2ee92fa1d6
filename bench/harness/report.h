#pragma once

// Writes a benchmark's figures where people read them: a JSON file under bench/results/
// and a section of docs/benchmarks.md (replaced on each run, between markers), both with
// the machine, the date (UTC) and the command that produced them.

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace kelola::bench {

struct ResultRow {
  std::string label;                                        // e.g. "sqlite, 16 clients"
  std::vector<std::pair<std::string, std::string>> values;  // column -> formatted value
};

class Report {
 public:
  // `name` identifies the benchmark (file and section name); `command` is how to rerun it.
  Report(std::string name, std::string title, std::string command);

  void AddRow(ResultRow row) { rows_.push_back(std::move(row)); }
  // Free text under the table: targets, what the numbers mean, why a target is missed.
  void AddNote(std::string note) { notes_.push_back(std::move(note)); }

  // Writes bench/results/<name>.json and the docs/benchmarks.md section under the
  // repository root `root`; also prints the table to stdout.
  absl::Status Write(const std::string& root) const;

  // "2 cores, Intel(R) Xeon(R) ..., 23 GiB RAM, Linux 6.x".
  static std::string MachineDescription();

 private:
  std::string Markdown() const;

  std::string name_;
  std::string title_;
  std::string command_;
  std::string date_;
  std::vector<ResultRow> rows_;
  std::vector<std::string> notes_;
};

// printf-style helpers for table cells.
std::string Fixed(double value, int decimals);

}  // namespace kelola::bench
