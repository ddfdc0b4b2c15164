#include "server/core/chunked_vector.h"

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace atable {
namespace {

TEST(ChunkedVectorTest, HoldsWhatIsAppendedInOrderAcrossBlocks) {
  ChunkedVector<std::string, 2> v;  // blocks of 4
  EXPECT_TRUE(v.empty());
  for (int i = 0; i < 19; ++i) EXPECT_EQ(std::to_string(i), v.emplace_back(std::to_string(i)));
  ASSERT_EQ(19u, v.size());
  for (int i = 0; i < 19; ++i) EXPECT_EQ(std::to_string(i), v[i]);
  EXPECT_EQ(5 * 4 * sizeof(std::string), v.allocated_bytes());
}

TEST(ChunkedVectorTest, NeverMovesAnElement) {
  ChunkedVector<std::string, 2> v;
  std::vector<const std::string*> addresses;
  for (int i = 0; i < 40; ++i)
    addresses.emplace_back(&v.emplace_back(std::string(30, 'a' + i % 26)));
  for (int i = 0; i < 40; ++i) EXPECT_EQ(addresses[i], &v[i]);
}

TEST(ChunkedVectorTest, ClearDestroysEveryElementAndMoveTransfersThem) {
  auto counted = std::make_shared<int>(0);
  {
    ChunkedVector<std::shared_ptr<int>, 3> v;
    for (int i = 0; i < 20; ++i) v.emplace_back(counted);
    EXPECT_EQ(21, counted.use_count());
    ChunkedVector<std::shared_ptr<int>, 3> w = std::move(v);
    EXPECT_EQ(0u, v.size());
    EXPECT_EQ(20u, w.size());
    EXPECT_EQ(21, counted.use_count());
    v.emplace_back(counted);  // a moved-from vector is empty and usable
    EXPECT_EQ(22, counted.use_count());
    w = std::move(v);  // frees what w held
    EXPECT_EQ(2, counted.use_count());
    w.clear();
    EXPECT_EQ(1, counted.use_count());
    EXPECT_EQ(0u, w.allocated_bytes());
    w.emplace_back(counted);
  }
  EXPECT_EQ(1, counted.use_count());  // the destructor released the last one
}

}  // namespace
}  // namespace atable
