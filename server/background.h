// Background: runs long work (schedules, pair suggestions) off the gRPC callback threads, at most
// a given number at once, and waits for all of it at shutdown.
#ifndef ATABLE_SERVER_BACKGROUND_H_
#define ATABLE_SERVER_BACKGROUND_H_

#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace atable {

class Background {
 public:
  // At most `max_running` tasks at once (0: no limit).
  explicit Background(int max_running = 0) : max_running_(max_running) {}
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  // Waits for every task.
  ~Background() { Drain(); }

  // Runs `task` on a thread of its own and returns true; or, when `max_running` tasks are
  // running already, returns false and does nothing (the caller refuses the work).
  bool TryRun(std::function<void()> task) {
    {
      absl::MutexLock lock(&mu_);
      if (max_running_ > 0 && running_ >= max_running_) return false;
      ++running_;
    }
    std::thread([this, task = std::move(task)] {
      task();
      absl::MutexLock lock(&mu_);
      --running_;
    }).detach();
    return true;
  }

  // Returns when no task is running.
  void Drain() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(+[](int* n) { return *n == 0; }, &running_));
  }

 private:
  const int max_running_;
  absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

// The status given to long calls refused because the server runs as many as it may.
inline constexpr char kBusyMessage[] =
    "the server is running as many schedule builds and pair suggestions as it may; retry later";

}  // namespace atable

#endif  // ATABLE_SERVER_BACKGROUND_H_
