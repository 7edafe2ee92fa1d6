#include "libs/threads/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

namespace kelola::threads {

std::thread Start(std::string name, std::function<void()> body) {
  name.resize(std::min(name.size(), kMaxNameBytes));
  return std::thread([name = std::move(name), body = std::move(body)] {
    // Fails only for a name over the limit, which the cut rules out.
    pthread_setname_np(pthread_self(), name.c_str());
    body();
  });
}

std::string ThisThreadName() {
  char name[kMaxNameBytes + 1] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0) return "";
  return name;
}

}  // namespace kelola::threads
