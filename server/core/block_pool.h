// BlockPool: memory for many small blocks that live long and are given back one by one (the
// index's versions: an offer's lists and bytes, a few hundred bytes each), carved from chunks in
// huge pages (large_memory.h) rather than from malloc's arenas, whose memory comes in 4 KiB pages
// each faulted on first write. A given-back block waits in the list of its size class for the
// next request of that class; chunks are released only with the pool. Requests over
// kMaxPooledBytes go to operator new. Not thread-safe.
#ifndef ATABLE_SERVER_CORE_BLOCK_POOL_H_
#define ATABLE_SERVER_CORE_BLOCK_POOL_H_

#include <cstddef>
#include <vector>

namespace atable {

class BlockPool {
 public:
  static constexpr size_t kAlignment = 16;
  static constexpr size_t kMaxPooledBytes = size_t{64} << 10;
  static constexpr size_t kChunkBytes = size_t{8} << 20;

  BlockPool();
  ~BlockPool();
  BlockPool(const BlockPool&) = delete;
  BlockPool& operator=(const BlockPool&) = delete;

  // A block of at least `bytes` (0 is served as 1), aligned on kAlignment.
  std::byte* Allocate(size_t bytes);
  // Gives back a block that Allocate(bytes) returned.
  void Free(std::byte* block, size_t bytes);

  // Bytes of the chunks the pool holds.
  size_t chunk_bytes() const { return chunks_.size() * kChunkBytes; }

 private:
  // Size classes: multiples of 16 bytes up to 1 KiB, of 128 up to 8 KiB, of 1 KiB up to 64 KiB.
  static size_t ClassOf(size_t bytes);
  static size_t BytesOfClass(size_t size_class);

  std::vector<std::byte*> free_;  // by size class: a list linked through its blocks' first bytes
  std::vector<std::byte*> chunks_;
  std::byte* next_ = nullptr;  // the unused rest of the last chunk
  std::byte* end_ = nullptr;
};

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_BLOCK_POOL_H_
