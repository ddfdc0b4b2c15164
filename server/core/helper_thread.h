// A thread that takes a share of a caller's work when it has nothing else to do. A search that
// checks tens of thousands of candidates lets it take some of them, so that a query alone on the
// server uses both cores; under load the helper is mostly busy with another caller's share and
// each caller does its work alone, paying only a failed TryStart.
#ifndef ATABLE_SERVER_CORE_HELPER_THREAD_H_
#define ATABLE_SERVER_CORE_HELPER_THREAD_H_

#include <functional>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace atable {

class HelperThread {
 public:
  HelperThread() = default;
  HelperThread(const HelperThread&) = delete;
  HelperThread& operator=(const HelperThread&) = delete;
  // Waits for the task in hand, then stops the thread.
  ~HelperThread();

  // Starts `task` on the helper thread (started at the first call) and returns true, or returns
  // false at once if the helper is taken by another caller (or its thread cannot be started). A
  // caller that got true must call Wait() before it starts another task or lets go of what the
  // task reads.
  bool TryStart(std::function<void()> task);
  // Returns once the task of this caller's last successful TryStart has run, and frees the
  // helper. A task the helper thread has not taken up yet runs on the calling thread instead.
  void Wait();

 private:
  void Run();
  bool Idle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !task_ && !running_; }

  absl::Mutex mu_;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
  std::function<void()> task_ ABSL_GUARDED_BY(mu_);  // started, not yet taken up by the thread
  bool running_ ABSL_GUARDED_BY(mu_) = false;        // the thread is running a task
  bool taken_ ABSL_GUARDED_BY(mu_) = false;          // between a TryStart and its Wait
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_HELPER_THREAD_H_
