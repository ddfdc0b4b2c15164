// Names the calling thread, as `top`, `perf` and /proc/<pid>/task/*/comm show it (at most 15
// characters are kept), so that a server's threads can be told apart when measuring it.
#ifndef ATABLE_SERVER_CORE_THREAD_NAME_H_
#define ATABLE_SERVER_CORE_THREAD_NAME_H_

#include <pthread.h>

namespace atable {

inline void NameThisThread(const char* name) { pthread_setname_np(pthread_self(), name); }

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_THREAD_NAME_H_
