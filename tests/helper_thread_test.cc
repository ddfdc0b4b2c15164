#include "server/core/helper_thread.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace atable {
namespace {

TEST(HelperThreadTest, RunsATaskOnItsThreadOnceItHasTakenItUp) {
  HelperThread helper;
  const std::thread::id caller = std::this_thread::get_id();
  for (int i = 0; i < 20; ++i) {
    std::atomic<bool> started{false};
    std::thread::id ran_on;
    ASSERT_TRUE(helper.TryStart([&] {
      ran_on = std::this_thread::get_id();
      started = true;
    }));
    while (!started) std::this_thread::yield();
    helper.Wait();
    EXPECT_NE(caller, ran_on);
  }
}

TEST(HelperThreadTest, RunsEachTaskExactlyOnceBeforeWaitReturns) {
  HelperThread helper;
  // Waited for at once: some run on the helper thread, some (not yet taken up) on this one.
  for (int i = 0; i < 2000; ++i) {
    std::atomic<int> runs{0};
    ASSERT_TRUE(helper.TryStart([&] { ++runs; }));
    helper.Wait();
    ASSERT_EQ(1, runs.load()) << i;
  }
}

TEST(HelperThreadTest, IsRefusedToOthersUntilItsCallerHasWaited) {
  HelperThread helper;
  absl::Notification release;
  ASSERT_TRUE(helper.TryStart([&] { release.WaitForNotification(); }));
  EXPECT_FALSE(helper.TryStart([] {}));  // running
  release.Notify();
  // Done running, but not yet waited for: still this caller's.
  for (int i = 0; i < 50; ++i) EXPECT_FALSE(helper.TryStart([] {}));
  helper.Wait();
  EXPECT_TRUE(helper.TryStart([] {}));
  helper.Wait();
}

TEST(HelperThreadTest, CallersRacingForItEachGetTheirOwnWorkDone) {
  HelperThread helper;
  std::atomic<int> shared{0}, alone{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 4; ++c) {
    callers.emplace_back([&] {
      for (int i = 0; i < 500; ++i) {
        int mine = 0;
        if (helper.TryStart([&] { mine = 1; })) {
          helper.Wait();
          ASSERT_EQ(1, mine);
          ++shared;
        } else {
          ++alone;
        }
      }
    });
  }
  for (auto& t : callers) t.join();
  EXPECT_EQ(2000, shared + alone);
  EXPECT_GT(shared, 0);
}

TEST(HelperThreadTest, StopsItsThreadWhenDestroyed) {
  for (int i = 0; i < 20; ++i) {
    HelperThread helper;
    ASSERT_TRUE(helper.TryStart([] {}));
    helper.Wait();
  }  // each joined: a thread left running would outlive its helper
  HelperThread never_used;  // destroyed without a thread
}

}  // namespace
}  // namespace atable
