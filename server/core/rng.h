// A small seeded random generator (splitmix64) whose sequence is the same on every platform and
// standard library, so that seeded catalogs and schedules are reproducible everywhere.
#ifndef ATABLE_SERVER_CORE_RNG_H_
#define ATABLE_SERVER_CORE_RNG_H_

#include <cstdint>
#include <vector>

namespace atable {

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform integer in [0, n), n > 0.
  int Below(int n) { return static_cast<int>(Next() % static_cast<uint64_t>(n)); }
  // Uniform integer in [lo, hi].
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  // Uniform in [0, 1).
  double Unit() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  // True with probability `p`.
  bool Chance(double p) { return Unit() < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) {
    return v[Next() % v.size()];
  }
  // A random set bit of the non-zero `mask`.
  int BitOf(uint64_t mask) {
    int k = Below(__builtin_popcountll(mask));
    while (k-- > 0) mask &= mask - 1;
    return __builtin_ctzll(mask);
  }

 private:
  uint64_t state_;
};

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_RNG_H_
