#include "libs/threads/thread_name.h"

#include <pthread.h>

namespace kelola::threads {

void NameThisThread(std::string_view name) {
  const std::string cut(name.substr(0, kMaxNameBytes));
  // Fails only for a name over the limit, which the cut rules out.
  pthread_setname_np(pthread_self(), cut.c_str());
}

std::string ThisThreadName() {
  char name[kMaxNameBytes + 1] = {};
  if (pthread_getname_np(pthread_self(), name, sizeof(name)) != 0) return "";
  return name;
}

}  // namespace kelola::threads
