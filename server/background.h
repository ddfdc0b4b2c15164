// Background: runs long work (schedules, pair suggestions) off the gRPC callback threads, and
// waits for all of it at shutdown.
#ifndef ATABLE_SERVER_BACKGROUND_H_
#define ATABLE_SERVER_BACKGROUND_H_

#include <functional>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace atable {

class Background {
 public:
  Background() = default;
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;
  // Waits for every task.
  ~Background() { Drain(); }

  // Runs `task` on a thread of its own.
  void Run(std::function<void()> task) {
    {
      absl::MutexLock lock(&mu_);
      ++running_;
    }
    std::thread([this, task = std::move(task)] {
      task();
      absl::MutexLock lock(&mu_);
      --running_;
    }).detach();
  }

  // Returns when no task is running.
  void Drain() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(+[](int* n) { return *n == 0; }, &running_));
  }

 private:
  absl::Mutex mu_;
  int running_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace atable

#endif  // ATABLE_SERVER_BACKGROUND_H_
