#include "server/core/block_pool.h"

#include <cstring>
#include <new>

#include "server/core/large_memory.h"

namespace atable {
namespace {

constexpr size_t kSmallClasses = 1024 / 16;              // 16, 32 ... 1024
constexpr size_t kMediumClasses = (8192 - 1024) / 128;   // 1152 ... 8192
constexpr size_t kLargeClasses = (65536 - 8192) / 1024;  // 9216 ... 65536

}  // namespace

BlockPool::BlockPool() : free_(kSmallClasses + kMediumClasses + kLargeClasses, nullptr) {}

BlockPool::~BlockPool() {
  for (std::byte* chunk : chunks_) FreeLarge(chunk, kChunkBytes, kAlignment);
}

size_t BlockPool::ClassOf(size_t bytes) {
  if (bytes <= 1024) return (bytes + 15) / 16 - 1;
  if (bytes <= 8192) return kSmallClasses + (bytes - 1024 + 127) / 128 - 1;
  return kSmallClasses + kMediumClasses + (bytes - 8192 + 1023) / 1024 - 1;
}

size_t BlockPool::BytesOfClass(size_t size_class) {
  if (size_class < kSmallClasses) return (size_class + 1) * 16;
  size_class -= kSmallClasses;
  if (size_class < kMediumClasses) return 1024 + (size_class + 1) * 128;
  return 8192 + (size_class - kMediumClasses + 1) * 1024;
}

std::byte* BlockPool::Allocate(size_t bytes) {
  if (bytes > kMaxPooledBytes)
    return static_cast<std::byte*>(::operator new (bytes, std::align_val_t{kAlignment}));
  const size_t size_class = ClassOf(bytes == 0 ? 1 : bytes);
  if (std::byte* block = free_[size_class]) {
    std::memcpy(&free_[size_class], block, sizeof(std::byte*));
    return block;
  }
  const size_t size = BytesOfClass(size_class);
  if (static_cast<size_t>(end_ - next_) < size) {
    // The last chunk's rest (less than one block of this class) stays unused.
    chunks_.push_back(static_cast<std::byte*>(AllocateLarge(kChunkBytes, kAlignment)));
    next_ = chunks_.back();
    end_ = next_ + kChunkBytes;
  }
  std::byte* block = next_;
  next_ += size;
  return block;
}

void BlockPool::Free(std::byte* block, size_t bytes) {
  if (block == nullptr) return;
  if (bytes > kMaxPooledBytes) {
    ::operator delete (block, std::align_val_t{kAlignment});
    return;
  }
  const size_t size_class = ClassOf(bytes == 0 ? 1 : bytes);
  std::memcpy(block, &free_[size_class], sizeof(std::byte*));
  free_[size_class] = block;
}

}  // namespace atable
