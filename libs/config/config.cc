#include "libs/config/config.h"

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace kelola::config {
namespace {

std::string program_name = "kelola";

absl::StatusOr<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::InvalidArgumentError(absl::StrCat("cannot read file ", path));
  std::stringstream content;
  content << in.rdbuf();
  // A trailing newline is an artefact of how secret files are written, not data.
  std::string value = content.str();
  while (!value.empty() && (value.back() == '\n' || value.back() == '\r')) value.pop_back();
  return value;
}

}  // namespace

std::string EnvName(absl::string_view flag_name) {
  return absl::StrCat("KELOLA_", absl::AsciiStrToUpper(flag_name));
}

absl::Status ApplyEnvironment(const EnvLookup& lookup) {
  for (const auto& [name, flag] : absl::GetAllFlags()) {
    if (absl::StrContains(flag->Filename(), "absl/")) continue;
    const std::string env = EnvName(name);
    std::string value;
    std::string source = env;
    if (const char* direct = lookup(env.c_str()); direct != nullptr) {
      value = direct;
    } else if (const char* file = lookup((env + "_FILE").c_str()); file != nullptr) {
      auto secret = ReadSecretFile(file);
      if (!secret.ok()) {
        return absl::InvalidArgumentError(absl::StrCat(env, "_FILE: ", secret.status().message()));
      }
      value = *std::move(secret);
      source = env + "_FILE";
    } else {
      continue;
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": ", error));
    }
  }
  return absl::OkStatus();
}

std::vector<char*> ParseFlags(int argc, char** argv, absl::string_view usage) {
  if (argc > 0) {
    absl::string_view name = argv[0];
    if (auto slash = name.rfind('/'); slash != absl::string_view::npos)
      name.remove_prefix(slash + 1);
    program_name = std::string(name);
  }
  absl::SetProgramUsageMessage(usage);
  if (absl::Status status = ApplyEnvironment(std::getenv); !status.ok()) {
    std::fprintf(stderr, "%s: invalid environment: %s\n", program_name.c_str(),
                 std::string(status.message()).c_str());
    std::exit(2);
  }
  return absl::ParseCommandLine(argc, argv);
}

void Die(absl::string_view setting, const absl::Status& status) {
  // One line, whatever the message (libpq's, for one, spans several).
  std::string message(status.message());
  for (char& c : message) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
  }
  message = std::string(absl::StripAsciiWhitespace(message));
  std::fprintf(stderr, "%s: %s: %s\n", program_name.c_str(), std::string(setting).c_str(),
               message.c_str());
  std::fflush(stderr);
  std::exit(2);
}

std::string HostPort::ToString() const { return absl::StrCat(host, ":", port); }

absl::StatusOr<HostPort> ParseHostPort(absl::string_view text) {
  const size_t colon = text.rfind(':');
  if (colon == absl::string_view::npos || colon == 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not HOST:PORT"));
  }
  HostPort out;
  out.host = std::string(text.substr(0, colon));
  int port = 0;
  if (!absl::SimpleAtoi(text.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' has no valid port (0..65535 expected)"));
  }
  out.port = port;
  return out;
}

}  // namespace kelola::config
