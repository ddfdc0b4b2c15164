#include "server/core/block_pool.h"

#include <cstdint>
#include <cstring>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace atable {
namespace {

TEST(BlockPoolTest, BlocksAreAlignedDisjointAndKeepWhatIsWrittenInThem) {
  BlockPool pool;
  std::vector<std::pair<std::byte*, size_t>> blocks;
  for (size_t i = 0; i < 6000; ++i) {
    const size_t bytes = 1 + (i * 7919) % 9000;  // every size class below 9 KiB, in turn
    std::byte* b = pool.Allocate(bytes);
    ASSERT_EQ(0u, reinterpret_cast<uintptr_t>(b) % BlockPool::kAlignment);
    std::memset(b, static_cast<int>(i % 251), bytes);
    blocks.emplace_back(b, bytes);
  }
  for (size_t i = 0; i < blocks.size(); ++i) {
    const auto [b, bytes] = blocks[i];
    for (size_t k = 0; k < bytes; k += 61) ASSERT_EQ(static_cast<std::byte>(i % 251), b[k]) << i;
    ASSERT_EQ(static_cast<std::byte>(i % 251), b[bytes - 1]) << i;
  }
  for (const auto& [b, bytes] : blocks) pool.Free(b, bytes);
}

TEST(BlockPoolTest, AGivenBackBlockServesTheNextRequestOfItsSizeClass) {
  BlockPool pool;
  std::byte* a = pool.Allocate(300);
  std::byte* b = pool.Allocate(300);
  pool.Free(a, 300);
  EXPECT_NE(a, pool.Allocate(400));  // another class
  EXPECT_EQ(a, pool.Allocate(290));  // 290 and 300 share the class of 304 bytes
  pool.Free(b, 300);
  pool.Free(a, 290);
  EXPECT_EQ(a, pool.Allocate(300));  // the last given back first
  EXPECT_EQ(b, pool.Allocate(300));
}

TEST(BlockPoolTest, TakesAChunkAtATimeAndServesLargeRequestsApart) {
  BlockPool pool;
  EXPECT_EQ(0u, pool.chunk_bytes());
  std::byte* first = pool.Allocate(1024);
  EXPECT_EQ(BlockPool::kChunkBytes, pool.chunk_bytes());
  for (size_t i = 1; i < BlockPool::kChunkBytes / 1024; ++i)
    EXPECT_EQ(first + i * 1024, pool.Allocate(1024));
  EXPECT_EQ(BlockPool::kChunkBytes, pool.chunk_bytes());
  pool.Allocate(1024);
  EXPECT_EQ(2 * BlockPool::kChunkBytes, pool.chunk_bytes());

  const size_t large = BlockPool::kMaxPooledBytes + 1;
  std::byte* big = pool.Allocate(large);
  std::memset(big, 1, large);
  EXPECT_EQ(2 * BlockPool::kChunkBytes, pool.chunk_bytes());
  pool.Free(big, large);
}

}  // namespace
}  // namespace atable
