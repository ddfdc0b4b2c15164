#include "server/core/helper_thread.h"

#include <system_error>
#include <utility>

#include "server/core/thread_name.h"

namespace atable {

HelperThread::~HelperThread() {
  std::thread thread;
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &HelperThread::Idle));
    stopping_ = true;
    thread = std::move(thread_);
  }
  if (thread.joinable()) thread.join();
}

bool HelperThread::TryStart(std::function<void()> task) {
  absl::MutexLock lock(&mu_);
  if (taken_ || stopping_) return false;
  if (!thread_.joinable()) {
    try {
      thread_ = std::thread([this] {
        NameThisThread("search-helper");
        Run();
      });
    } catch (const std::system_error&) {  // out of threads: the caller does the work itself
      return false;
    }
  }
  taken_ = true;
  task_ = std::move(task);
  return true;
}

void HelperThread::Wait() {
  std::function<void()> not_taken_up;
  {
    absl::MutexLock lock(&mu_);
    not_taken_up = std::move(task_);
    task_ = nullptr;
    mu_.Await(absl::Condition(this, &HelperThread::Idle));
  }
  if (not_taken_up) not_taken_up();
  absl::MutexLock lock(&mu_);
  taken_ = false;
}

void HelperThread::Run() {
  absl::MutexLock lock(&mu_);
  while (true) {
    mu_.Await(absl::Condition(
        +[](HelperThread* h) ABSL_EXCLUSIVE_LOCKS_REQUIRED(h->mu_) { return h->stopping_ || bool(h->task_); },
        this));
    if (!task_) return;  // stopping
    std::function<void()> task = std::move(task_);
    task_ = nullptr;
    running_ = true;
    mu_.Unlock();
    task();
    mu_.Lock();
    running_ = false;
  }
}

}  // namespace atable
