#include "server/core/large_memory.h"

#include <cstdint>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"

namespace atable {
namespace {

// The VmFlags line of the mapping of /proc/self/smaps that holds `p` ("" when none does).
std::string VmFlagsOf(const void* p) {
  const auto address = reinterpret_cast<uintptr_t>(p);
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  bool inside = false;
  while (std::getline(smaps, line)) {
    std::vector<std::string> range = absl::StrSplit(line.substr(0, line.find(' ')), '-');
    uint64_t from = 0, to = 0;
    if (range.size() == 2 && absl::SimpleHexAtoi(range[0], &from) &&
        absl::SimpleHexAtoi(range[1], &to)) {
      inside = from <= address && address < to;
    } else if (inside && line.rfind("VmFlags:", 0) == 0) {
      return line;
    }
  }
  return "";
}

bool KernelOffersHugePages() {
  std::ifstream f("/sys/kernel/mm/transparent_hugepage/enabled");
  std::string mode;
  std::getline(f, mode);
  return !mode.empty() && mode.find("[never]") == std::string::npos;
}

TEST(LargeMemoryTest, SmallRequestsAreAlignedAndUsable) {
  for (size_t alignment : {alignof(std::max_align_t), size_t{64}, size_t{4096}}) {
    void* p = AllocateLarge(1000, alignment);
    EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(p) % alignment);
    std::memset(p, 0xab, 1000);
    FreeLarge(p, 1000, alignment);
  }
  FreeLarge(nullptr, 1000, 8);
}

TEST(LargeMemoryTest, LargeRequestsStartOnAHugePageAndAreAdvisedSo) {
  const size_t bytes = 5 * kHugePageBytes + 12345;  // a tail past the last whole huge page
  auto* p = static_cast<unsigned char*>(AllocateLarge(bytes, 64));
  EXPECT_EQ(0u, reinterpret_cast<uintptr_t>(p) % kHugePageBytes);
  for (size_t i = 0; i < bytes; i += 512) p[i] = static_cast<unsigned char>(i / 512);
  for (size_t i = 0; i < bytes; i += 512) ASSERT_EQ(static_cast<unsigned char>(i / 512), p[i]) << i;
  p[bytes - 1] = 7;
  if (KernelOffersHugePages()) {
    EXPECT_NE(std::string::npos, VmFlagsOf(p).find(" hg")) << VmFlagsOf(p);
  }
  FreeLarge(p, bytes, 64);
  EXPECT_EQ("", VmFlagsOf(p));  // given back to the kernel
}

TEST(LargeMemoryTest, AContainerGrowsThroughBothKindsOfMemory) {
  std::vector<uint64_t, LargeAllocator<uint64_t>> v;
  for (uint64_t i = 0; i < 1000000; ++i) v.push_back(i * 3);  // 8 MB: past kLargeBytes
  for (uint64_t i = 0; i < 1000000; ++i) ASSERT_EQ(i * 3, v[i]);
  v.resize(10);
  v.shrink_to_fit();
  EXPECT_EQ(27u, v[9]);
}

}  // namespace
}  // namespace atable
