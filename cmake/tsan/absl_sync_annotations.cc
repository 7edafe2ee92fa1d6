// ThreadSanitizer builds only (KELOLA_SANITIZE=thread). Debian's Abseil is a shared
// library built without ThreadSanitizer, so the happens-before edges of absl::Mutex,
// absl::CondVar and absl::Notification are invisible to it and every guarded member looks
// like a data race. The linker's --wrap (set up in CMakeLists.txt) sends our calls of
// those functions here; each wrapper calls the real one and tells ThreadSanitizer what it
// means: a release before a lock is given up, an acquire once it is held again.
//
// The symbol names are those of Debian 12's Abseil (inline namespace `debian3`); another
// Abseil makes the thread build fail at link time, never pass silently.

#include <cstdint>

#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

extern "C" {
void __tsan_acquire(void* addr);
void __tsan_release(void* addr);
void AnnotateIgnoreReadsBegin(const char* file, int line);
void AnnotateIgnoreReadsEnd(const char* file, int line);
}

namespace {
void Acquire(const void* addr) { __tsan_acquire(const_cast<void*>(addr)); }
void Release(const void* addr) { __tsan_release(const_cast<void*>(addr)); }

// Abseil evaluates the Conditions of waiters inside Unlock and Await, on whichever thread
// gives up the lock, after that thread's release was annotated: the reads of a Condition
// (guarded state, read with the lock held) are not checked. Conditions only read.
class ConditionReadsIgnored {
 public:
  ConditionReadsIgnored() { AnnotateIgnoreReadsBegin(__FILE__, __LINE__); }
  ~ConditionReadsIgnored() { AnnotateIgnoreReadsEnd(__FILE__, __LINE__); }
};
}  // namespace

using absl::Condition;
using absl::CondVar;
using absl::Duration;
using absl::Mutex;
using absl::Notification;
using absl::Time;

// KELOLA_WRAP(ret, symbol, params, args, before, after): declares __real_<symbol> and
// defines __wrap_<symbol> running `before`, the real function, then `after`.
#define KELOLA_WRAP(ret, symbol, params, args, before, after) \
  extern "C" ret __real_##symbol params;                      \
  extern "C" ret __wrap_##symbol params {                     \
    before;                                                   \
    ret result = __real_##symbol args;                        \
    after;                                                    \
    return result;                                            \
  }
#define KELOLA_WRAP_VOID(symbol, params, args, before, after) \
  extern "C" void __real_##symbol params;                     \
  extern "C" void __wrap_##symbol params {                    \
    before;                                                   \
    __real_##symbol args;                                     \
    after;                                                    \
  }

// Mutex: held after Lock / ReaderLock / LockWhen* (a timed LockWhen holds it whatever it
// returns), and across Await* (released while waiting, held again on return).
KELOLA_WRAP_VOID(_ZN4absl7debian35Mutex4LockEv, (Mutex * mu), (mu), , Acquire(mu))
KELOLA_WRAP_VOID(_ZN4absl7debian35Mutex10ReaderLockEv, (Mutex * mu), (mu), , Acquire(mu))
KELOLA_WRAP_VOID(_ZN4absl7debian35Mutex6UnlockEv, (Mutex * mu), (mu), Release(mu);
                 ConditionReadsIgnored ignored, )
KELOLA_WRAP_VOID(_ZN4absl7debian35Mutex12ReaderUnlockEv, (Mutex * mu), (mu), Release(mu);
                 ConditionReadsIgnored ignored, )
KELOLA_WRAP(bool, _ZN4absl7debian35Mutex7TryLockEv, (Mutex * mu), (mu), , if (result) Acquire(mu))
KELOLA_WRAP(bool, _ZN4absl7debian35Mutex13ReaderTryLockEv, (Mutex * mu), (mu), ,
            if (result) Acquire(mu))
KELOLA_WRAP_VOID(_ZN4absl7debian35Mutex8LockWhenERKNS0_9ConditionE,
                 (Mutex * mu, const Condition& c), (mu, c), ConditionReadsIgnored ignored,
                 Acquire(mu))
KELOLA_WRAP_VOID(_ZN4absl7debian35Mutex14ReaderLockWhenERKNS0_9ConditionE,
                 (Mutex * mu, const Condition& c), (mu, c), ConditionReadsIgnored ignored,
                 Acquire(mu))
KELOLA_WRAP(bool, _ZN4absl7debian35Mutex19LockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE,
            (Mutex * mu, const Condition& c, Duration d), (mu, c, d), ConditionReadsIgnored ignored,
            Acquire(mu))
KELOLA_WRAP(bool, _ZN4absl7debian35Mutex20LockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE,
            (Mutex * mu, const Condition& c, Time t), (mu, c, t), ConditionReadsIgnored ignored,
            Acquire(mu))
KELOLA_WRAP(bool, _ZN4absl7debian35Mutex25ReaderLockWhenWithTimeoutERKNS0_9ConditionENS0_8DurationE,
            (Mutex * mu, const Condition& c, Duration d), (mu, c, d), ConditionReadsIgnored ignored,
            Acquire(mu))
KELOLA_WRAP(bool, _ZN4absl7debian35Mutex26ReaderLockWhenWithDeadlineERKNS0_9ConditionENS0_4TimeE,
            (Mutex * mu, const Condition& c, Time t), (mu, c, t), ConditionReadsIgnored ignored,
            Acquire(mu))
KELOLA_WRAP_VOID(_ZN4absl7debian35Mutex5AwaitERKNS0_9ConditionE, (Mutex * mu, const Condition& c),
                 (mu, c), Release(mu);
                 ConditionReadsIgnored ignored, Acquire(mu))
KELOLA_WRAP(bool, _ZN4absl7debian35Mutex16AwaitWithTimeoutERKNS0_9ConditionENS0_8DurationE,
            (Mutex * mu, const Condition& c, Duration d), (mu, c, d), Release(mu);
            ConditionReadsIgnored ignored, Acquire(mu))
KELOLA_WRAP(bool, _ZN4absl7debian35Mutex17AwaitWithDeadlineERKNS0_9ConditionENS0_4TimeE,
            (Mutex * mu, const Condition& c, Time t), (mu, c, t), Release(mu);
            ConditionReadsIgnored ignored, Acquire(mu))

// CondVar: the mutex is released while waiting and held again on return.
KELOLA_WRAP_VOID(_ZN4absl7debian37CondVar4WaitEPNS0_5MutexE, (CondVar * cv, Mutex* mu), (cv, mu),
                 Release(mu), Acquire(mu))
KELOLA_WRAP(bool, _ZN4absl7debian37CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE,
            (CondVar * cv, Mutex* mu, Duration d), (cv, mu, d), Release(mu), Acquire(mu))
KELOLA_WRAP(bool, _ZN4absl7debian37CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE,
            (CondVar * cv, Mutex* mu, Time t), (cv, mu, t), Release(mu), Acquire(mu))

// Notification: what happened before Notify happens before a wait that saw it.
KELOLA_WRAP_VOID(_ZN4absl7debian312Notification6NotifyEv, (Notification * n), (n), Release(n), )
KELOLA_WRAP_VOID(_ZNK4absl7debian312Notification19WaitForNotificationEv, (const Notification* n),
                 (n), , Acquire(n))
KELOLA_WRAP(bool, _ZNK4absl7debian312Notification30WaitForNotificationWithTimeoutENS0_8DurationE,
            (const Notification* n, Duration d), (n, d), , if (result) Acquire(n))
KELOLA_WRAP(bool, _ZNK4absl7debian312Notification31WaitForNotificationWithDeadlineENS0_4TimeE,
            (const Notification* n, Time t), (n, t), , if (result) Acquire(n))
