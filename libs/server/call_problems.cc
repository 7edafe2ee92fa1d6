#include "libs/server/call_problems.h"

#include <utility>

namespace kelola::server {

void CallProblems::Record(const grpc::ServerContextBase& call, absl::Status problem) {
  absl::MutexLock lock(&mu_);
  problems_[&call] = std::move(problem);
}

absl::Status CallProblems::Find(const grpc::ServerContextBase& call) const {
  absl::MutexLock lock(&mu_);
  auto found = problems_.find(&call);
  return found == problems_.end() ? absl::OkStatus() : found->second;
}

absl::Status CallProblems::Take(const grpc::ServerContextBase& call) {
  absl::MutexLock lock(&mu_);
  auto found = problems_.find(&call);
  if (found == problems_.end()) return absl::OkStatus();
  absl::Status problem = std::move(found->second);
  problems_.erase(found);
  return problem;
}

bool CallProblems::Has(const grpc::ServerContextBase& call) const {
  absl::MutexLock lock(&mu_);
  return problems_.contains(&call);
}

void CallProblems::Forget(const grpc::ServerContextBase& call) {
  absl::MutexLock lock(&mu_);
  problems_.erase(&call);
}

}  // namespace kelola::server
