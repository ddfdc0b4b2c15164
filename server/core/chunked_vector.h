// ChunkedVector<T>: a sequence that grows at its end in fixed blocks of 2^kShift elements, for
// arrays that reach hundreds of megabytes (the index's versions).
//
// Unlike std::vector it never moves what it holds: growing allocates one more block, where a
// vector would allocate twice its size, move every element and free the old array. At a million
// versions that doubling writes about as many fresh pages again as the array holds, and a fresh
// page is one of the dearest things a thread can touch (the kernel zeroes it on first write).
// Elements keep their address for as long as they are held. Blocks of a megabyte or more are
// mapped in huge pages (large_memory.h). Not thread-safe.
#ifndef ATABLE_SERVER_CORE_CHUNKED_VECTOR_H_
#define ATABLE_SERVER_CORE_CHUNKED_VECTOR_H_

#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include "server/core/large_memory.h"

namespace atable {

template <typename T, int kShift = 16>
class ChunkedVector {
 public:
  static constexpr size_t kBlockSize = size_t{1} << kShift;

  ChunkedVector() = default;
  ChunkedVector(const ChunkedVector&) = delete;
  ChunkedVector& operator=(const ChunkedVector&) = delete;
  ChunkedVector(ChunkedVector&& other) noexcept
      : blocks_(std::move(other.blocks_)), size_(std::exchange(other.size_, 0)) {}
  ChunkedVector& operator=(ChunkedVector&& other) noexcept {
    if (this != &other) {
      clear();
      blocks_ = std::move(other.blocks_);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  ~ChunkedVector() { clear(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  T& operator[](size_t i) { return blocks_[i >> kShift][i & (kBlockSize - 1)]; }
  const T& operator[](size_t i) const { return blocks_[i >> kShift][i & (kBlockSize - 1)]; }

  // Appends an element made of `args` and returns it in place.
  template <typename... Args>
  T& emplace_back(Args&&... args) {
    if ((size_ & (kBlockSize - 1)) == 0 && (size_ >> kShift) == blocks_.size()) {
      // Raw storage: elements are constructed one by one as they are appended, so the pages of
      // a block are written only as the block fills.
      blocks_.emplace_back(static_cast<T*>(AllocateLarge(kBlockSize * sizeof(T), alignof(T))));
    }
    T* slot = &blocks_[size_ >> kShift][size_ & (kBlockSize - 1)];
    new (slot) T(std::forward<Args>(args)...);
    ++size_;
    return *slot;
  }

  // Destroys every element and frees every block.
  void clear() {
    for (size_t i = 0; i < size_; ++i) (*this)[i].~T();
    size_ = 0;
    blocks_.clear();
  }

  // Bytes of the blocks allocated (whether their pages were written or not).
  size_t allocated_bytes() const { return blocks_.size() * kBlockSize * sizeof(T); }

 private:
  struct FreeBlock {
    void operator()(T* block) const { FreeLarge(block, kBlockSize * sizeof(T), alignof(T)); }
  };
  std::vector<std::unique_ptr<T[], FreeBlock>> blocks_;
  size_t size_ = 0;
};

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_CHUNKED_VECTOR_H_
