// The keys of OfferIndex's lists, shared by the code that fills them (offer_index.cc) and the
// code that reads them (offer_search.cc). Internal to the index: include it nowhere else.
#ifndef ATABLE_SERVER_CORE_OFFER_INDEX_KEYS_H_
#define ATABLE_SERVER_CORE_OFFER_INDEX_KEYS_H_

#include <cmath>
#include <cstdint>

#include "atable/v1/catalog.pb.h"

namespace atable {

// Posting list keys: a type in the top byte, a value below. A word is in the title list of its
// id if the offer's title holds it, else in its body list (descriptions, the provider's name).
enum class PostingType : uint64_t {
  kKind = 1, kSubKind, kTag, kLabel, kInsee, kPostcode, kDepartement, kProvider, kCell, kTitleWord,
  kCommune, kBodyWord,
  // Pairs that partners' queries combine, so a search can start from their intersection.
  kKindCell, kSubKindCell, kKindDepartement, kSubKindDepartement,
};

inline uint64_t Key(PostingType type, uint64_t value) { return (static_cast<uint64_t>(type) << 56) | value; }
inline uint64_t PairKey(PostingType type, uint64_t a, uint64_t b) { return Key(type, (a << 40) | b); }

// Map cells of 0.1 degree.
inline uint64_t CellOf(double lat, double lon) {
  auto la = static_cast<uint64_t>(std::floor((lat + 90.0) * 10));
  auto lo = static_cast<uint64_t>(std::floor((lon + 180.0) * 10));
  return la * 4000 + lo;
}

// The south-west corner of a map cell (cells are 0.1 degree squares).
inline void CellCorner(uint64_t cell, double* south, double* west) {
  *south = static_cast<double>(cell / 4000) / 10 - 90.0;
  *west = static_cast<double>(cell % 4000) / 10 - 180.0;
}

// Key of an ordered list: sub-kind, map cell, and for the price lists the price unit (0: any), for
// the id lists a classification level (0: every offer).
inline uint64_t OrderedKey(int sub_kind, int unit_or_level, uint64_t cell) {
  return (static_cast<uint64_t>(sub_kind) << 40) | (static_cast<uint64_t>(unit_or_level) << 32) | cell;
}

inline constexpr int kTopLevel = 5;  // classification levels are 1-5

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): opening
// periods are kept as day numbers.
inline int32_t DayNumber(const v1::Date& d) {
  int y = d.year() - (d.month() <= 2 ? 1 : 0);
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int m = d.month();
  int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d.day() - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_OFFER_INDEX_KEYS_H_
