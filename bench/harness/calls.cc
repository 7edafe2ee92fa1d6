#include "bench/harness/calls.h"

#include <fstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "libs/server/request_context.h"

namespace kelola::bench {

std::unique_ptr<grpc::ClientContext> BenchContext(const std::string& tenant,
                                                  absl::Duration timeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->AddMetadata(server::kTenantHeader, tenant);
  context->AddMetadata(server::kPrincipalHeader, "bench");
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

ProcessMemory MemoryOf(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  ProcessMemory memory;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> parts =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipWhitespace());
    if (parts.size() < 2) continue;
    if (parts[0] == "VmHWM:") (void)absl::SimpleAtoi(parts[1], &memory.peak_kib);
    if (parts[0] == "VmRSS:") (void)absl::SimpleAtoi(parts[1], &memory.resident_kib);
  }
  return memory;
}

bool ResetPeakMemory(pid_t pid) {
  std::ofstream out(absl::StrCat("/proc/", pid, "/clear_refs"));
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

}  // namespace kelola::bench
