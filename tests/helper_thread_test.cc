#include "server/core/helper_thread.h"

#include <atomic>
#include <thread>
#include <vector>

#include "absl/synchronization/notification.h"
#include "gtest/gtest.h"

namespace atable {
namespace {

TEST(HelperThreadTest, RunsEachTaskOnAnotherThreadBeforeWaitReturns) {
  HelperThread helper;
  const std::thread::id caller = std::this_thread::get_id();
  for (int i = 0; i < 100; ++i) {
    std::thread::id ran_on;
    int value = 0;
    ASSERT_TRUE(helper.TryStart([&] {
      ran_on = std::this_thread::get_id();
      value = i + 1;
    }));
    helper.Wait();
    EXPECT_EQ(i + 1, value);
    EXPECT_NE(caller, ran_on);
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
