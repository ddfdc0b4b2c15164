// Memory for the index's large arrays and tables, in transparent huge pages where the kernel
// offers them (/sys/kernel/mm/transparent_hugepage/enabled: always or madvise).
//
// The index of a million offers is about a gigabyte, written for the first time while an import
// streams in. In 4 KiB pages each page costs a fault in which the kernel finds, zeroes and maps
// it; on this project's virtual machine that is 10-14 µs a page when pages are touched one after
// another, against 1.7-8.9 µs a page's worth in 2 MiB pages (bench/README.md). A request of at
// least kLargeBytes gets a mapping of its own, starting on a 2 MiB boundary and advised
// MADV_HUGEPAGE, so that its first touch brings 2 MiB at once; the tail past its last whole 2 MiB
// stays in 4 KiB pages, so a mapping holds no more memory than it was asked for. Smaller requests
// go to operator new. Thread-safe.
#ifndef ATABLE_SERVER_CORE_LARGE_MEMORY_H_
#define ATABLE_SERVER_CORE_LARGE_MEMORY_H_

#include <cstddef>

namespace atable {

inline constexpr size_t kLargeBytes = size_t{1} << 20;
inline constexpr size_t kHugePageBytes = size_t{2} << 20;

// `bytes` of memory aligned for `alignment` (a power of two); throws std::bad_alloc when there is
// none. Free it with FreeLarge, passing the same sizes.
void* AllocateLarge(size_t bytes, size_t alignment);
void FreeLarge(void* p, size_t bytes, size_t alignment) noexcept;

// A standard allocator over AllocateLarge, for containers that grow large (std::vector,
// Abseil's hash tables).
template <typename T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <typename U>
  LargeAllocator(const LargeAllocator<U>&) {}  // NOLINT: allocators convert implicitly
  T* allocate(size_t n) { return static_cast<T*>(AllocateLarge(n * sizeof(T), alignof(T))); }
  void deallocate(T* p, size_t n) noexcept { FreeLarge(p, n * sizeof(T), alignof(T)); }
  template <typename U>
  bool operator==(const LargeAllocator<U>&) const {
    return true;
  }
};

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_LARGE_MEMORY_H_
