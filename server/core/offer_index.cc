#include "server/core/offer_index.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <iterator>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/core/offer_index_keys.h"
#include "server/core/text.h"

namespace atable {
namespace {

using enum PostingType;

constexpr uint64_t kAlive = std::numeric_limits<uint64_t>::max();
constexpr double kEarthRadiusKm = 6371.0088;

std::string Departement(absl::string_view insee, absl::string_view postcode) {
  absl::string_view code = !insee.empty() ? insee : postcode;
  if (code.size() < 2) return "";
  if (absl::StartsWith(code, "97") && code.size() >= 3) return std::string(code.substr(0, 3));
  return std::string(code.substr(0, 2));
}

// A word of at most three bytes as one number (its bytes in order from the lowest), for a switch.
constexpr uint32_t ShortWord(absl::string_view w) {
  uint32_t packed = 0;
  for (size_t i = 0; i < w.size(); ++i)
    packed |= static_cast<uint32_t>(static_cast<uint8_t>(w[i])) << (8 * i);
  return packed;
}

bool IsStopWord(absl::string_view w) {
  if (w.empty() || w.size() > 3) return false;
  switch (ShortWord(w)) {  // words hold no zero byte, so each size packs apart
    case ShortWord("a"):
    case ShortWord("au"):
    case ShortWord("aux"):
    case ShortWord("d"):
    case ShortWord("de"):
    case ShortWord("des"):
    case ShortWord("du"):
    case ShortWord("en"):
    case ShortWord("et"):
    case ShortWord("l"):
    case ShortWord("la"):
    case ShortWord("le"):
    case ShortWord("les"):
    case ShortWord("un"):
    case ShortWord("une"):
    case ShortWord("the"):
    case ShortWord("of"):
    case ShortWord("and"):
      return true;
    default:
      return false;
  }
}

// Letters, digits and bytes of other scripts (>= 0x80) make words; any other byte parts them.
constexpr std::array<bool, 256> kWordBytes = [] {
  std::array<bool, 256> word{};
  for (int c = 0; c < 256; ++c)
    word[c] = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c >= 0x80;
  return word;
}();
bool InWord(char c) { return kWordBytes[static_cast<unsigned char>(c)]; }

// Calls `emit(at, size)` for each word of `folded` (accent-free lower case text), stop words left
// out; `at` counts from `offset`.
template <typename Emit>
void ForEachWord(absl::string_view folded, size_t offset, Emit emit) {
  size_t i = 0;
  while (i < folded.size()) {
    while (i < folded.size() && !InWord(folded[i])) ++i;
    size_t start = i;
    while (i < folded.size() && InWord(folded[i])) ++i;
    absl::string_view w(folded.data() + start, i - start);
    if (!w.empty() && !IsStopWord(w)) emit(offset + start, w.size());
  }
}

}  // namespace

void AppendTextWords(absl::string_view text, std::vector<std::string>* words) {
  const std::string folded = FoldAccentsLower(text);
  words->reserve(words->size() + folded.size() / 6 + 1);  // words average 5-6 letters and a space
  ForEachWord(folded, 0,
              [&](size_t at, size_t size) { words->emplace_back(folded.data() + at, size); });
}

std::vector<std::string> TextWords(absl::string_view text) {
  std::vector<std::string> words;
  AppendTextWords(text, &words);
  return words;
}

OfferText PrepareOfferText(const v1::Offer& offer) {
  OfferText text;
  PrepareOfferText(offer, &text);
  return text;
}

void PrepareOfferText(const v1::Offer& offer, OfferText* text) {
  text->folded.clear();
  text->tags.clear();
  text->title_words.clear();
  text->body_words.clear();
  std::string& folded = text->folded;
  // Each text is folded onto the end of `folded` and its words found there (in it alone).
  auto fold = [&](absl::string_view s) {
    const size_t at = folded.size();
    AppendFoldedLower(s, &folded);
    return at;
  };
  auto words_into = [&](size_t at, std::vector<OfferText::Piece>* out) {
    ForEachWord(absl::string_view(folded).substr(at), at, [&](size_t start, size_t size) {
      out->push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(size)});
    });
  };
  for (const std::string& t : offer.tags()) {
    const size_t at = fold(t);
    text->tags.push_back({static_cast<uint32_t>(at), static_cast<uint32_t>(folded.size() - at)});
  }
  words_into(fold(offer.title()), &text->title_words);
  for (const auto& [lang, description] : offer.descriptions()) {
    words_into(fold(description), &text->body_words);
  }
}

void PrepareProviderText(const v1::Provider& provider, ProviderText* text) {
  std::string& folded = text->folded;
  folded.clear();
  text->name_words.clear();
  // What TextWords(name + " " + commune) finds: folding reads a character at a time.
  AppendFoldedLower(provider.name(), &folded);
  folded.push_back(' ');
  AppendFoldedLower(provider.address().commune(), &folded);
  ForEachWord(folded, 0, [&](size_t at, size_t size) {
    text->name_words.push_back({static_cast<uint32_t>(at), static_cast<uint32_t>(size)});
  });
  const std::string commune = NormalizePlaceName(provider.address().commune());
  text->commune = {static_cast<uint32_t>(folded.size()), static_cast<uint32_t>(commune.size())};
  folded += commune;
}

double DistanceKm(double lat1, double lon1, double lat2, double lon2) {
  return DistancesFrom(lat1, lon1).Km(lat2, lon2);
}

namespace {
constexpr double kRadiansPerDegree = M_PI / 180.0;
}  // namespace

DistancesFrom::DistancesFrom(double lat, double lon)
    : lat_(lat), lon_(lon), cos_lat_(std::cos(lat * kRadiansPerDegree)) {}

double DistancesFrom::Km(double lat, double lon) const {
  // Haversine; each sine is taken once (the library's sin may set errno, so the compiler does
  // not merge two calls of it).
  const double half_dlat = std::sin((lat - lat_) * kRadiansPerDegree / 2);
  const double half_dlon = std::sin((lon - lon_) * kRadiansPerDegree / 2);
  const double a =
      half_dlat * half_dlat + cos_lat_ * std::cos(lat * kRadiansPerDegree) * half_dlon * half_dlon;
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}

double DistancesFrom::NearestKm(double south, double west, double north, double east) const {
  // The haversine of the gaps in latitude and longitude (around the globe either way) between
  // the point and the box, with the cosine of the box's latitude farthest from the equator: each
  // term is at most what any point of the box gives, and the haversine grows with the distance.
  const double dlat = lat_ < south ? south - lat_ : lat_ > north ? lat_ - north : 0;
  double dlon = 0;
  if (lon_ < west || lon_ > east) {
    const auto around = [](double d) {
      d = std::fmod(std::abs(d), 360.0);
      return std::min(d, 360.0 - d);
    };
    dlon = std::min(around(lon_ - west), around(lon_ - east));
  }
  const double half_dlat = std::sin(dlat * kRadiansPerDegree / 2);
  const double half_dlon = std::sin(dlon * kRadiansPerDegree / 2);
  const double cos_box =
      std::min(std::cos(south * kRadiansPerDegree), std::cos(north * kRadiansPerDegree));
  const double a =
      half_dlat * half_dlat + cos_lat_ * std::max(0.0, cos_box) * half_dlon * half_dlon;
  const double km = 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
  return km * (1 - 1e-12) - 1e-9;  // below Km's own rounding
}

double DistancesFrom::FarthestKm(double south, double west, double north, double east) const {
  // Within a quarter of the globe in longitude, the distance has no maximum inside a meridian's
  // segment and grows along a parallel with the gap in longitude: the box's farthest point is a
  // corner.
  for (double lon : {west, east}) {
    double gap = std::fmod(std::abs(lon - lon_), 360.0);
    if (std::min(gap, 360.0 - gap) >= 90.0) return std::numeric_limits<double>::infinity();
  }
  const double km = std::max(std::max(Km(south, west), Km(south, east)),
                             std::max(Km(north, west), Km(north, east)));
  return km * (1 + 1e-12) + 1e-9;  // above Km's own rounding
}

OfferIndex::ReadLock::ReadLock(const OfferIndex* index) : mu_(&index->mu_) {
  index->readers_waiting_.fetch_add(1, std::memory_order_relaxed);
  mu_->ReaderLock();
  index->readers_waiting_.fetch_sub(1, std::memory_order_release);
}

OfferIndex::ReadLock::~ReadLock() { mu_->ReaderUnlock(); }

OfferIndex::WriteLock::WriteLock(OfferIndex* index) : mu_(&index->mu_) {
  if (index->readers_waiting_.load(std::memory_order_acquire) > 0) {
    // At most once a millisecond, so that readers that keep coming cannot hold writers back by
    // more than a fifth of their time.
    const int64_t now = absl::GetCurrentTimeNanos();
    int64_t last = index->readers_let_in_.load(std::memory_order_relaxed);
    if (now - last >= 1000000 &&
        index->readers_let_in_.compare_exchange_strong(last, now, std::memory_order_relaxed)) {
      const int64_t give_up = now + 200000;
      while (index->readers_waiting_.load(std::memory_order_acquire) > 0 &&
             absl::GetCurrentTimeNanos() < give_up) {
        std::this_thread::yield();
      }
    }
  }
  mu_->Lock();
}

OfferIndex::WriteLock::~WriteLock() { mu_->Unlock(); }

uint32_t OfferIndex::InternIn(KeyedSet<std::string>* set, absl::string_view s) {
  if (s.empty()) return 0;
  auto it = set->find(s);
  if (it != set->end()) return *it;
  if (names_.empty()) names_.emplace_back();  // id 0 is the empty string
  auto id = static_cast<uint32_t>(names_.size());
  names_.emplace_back(s);
  set->insert(id);
  return id;
}

uint32_t OfferIndex::LookupIn(const KeyedSet<std::string>& set, absl::string_view s) {
  if (s.empty()) return 0;
  auto it = set.find(s);
  return it == set.end() ? std::numeric_limits<uint32_t>::max() : *it;
}

uint32_t OfferIndex::InternWord(absl::string_view w) {
  uint32_t id = Intern(w);
  if (id >= is_word_.size()) is_word_.resize(id + 1, false);
  if (!is_word_[id]) {  // first time as a word (it may be known as a tag already)
    is_word_[id] = true;
    words_.emplace(w);
  }
  return id;
}

const OfferIndex::Provider* OfferIndex::FindProvider(absl::string_view id) const {
  uint32_t interned = LookupProvider(id);
  if (interned >= provider_slots_.size() || provider_slots_[interned] == 0) return nullptr;
  const Provider& p = providers_[provider_slots_[interned] - 1];
  return p.present ? &p : nullptr;
}

void OfferIndex::PostOrdered(const Version& v, uint32_t ordinal) {
  if (!v.has_location) {
    if (v.departement) ++unlocated_[v.departement];
    return;
  }
  uint64_t cell = CellOf(v.lat, v.lon);
  if (v.departement) departement_cells_[v.departement].insert(cell);
  kind_sub_kinds_[v.kind].insert(v.sub_kind);
  const absl::string_view id = v.id();
  const uint64_t prefix = IdPrefix(id);
  auto file_by_id = [&](int level) {
    std::vector<ById>& ids = by_id_[OrderedKey(v.sub_kind, level, cell)];
    auto place =
        std::upper_bound(ids.begin(), ids.end(), id, [&](absl::string_view x, const ById& e) {
          return IdBefore(prefix, x, e.id_prefix, e.ordinal);
        });
    ids.insert(place, ById{prefix, ordinal});
  };
  file_by_id(0);
  if (v.class_level >= 1 && v.class_level <= kTopLevel) file_by_id(v.class_level);
  std::vector<std::pair<int, int64_t>> lowest;  // (unit, lowest price), unit 0 for any
  auto lower = [&](int unit, int64_t price) {
    for (auto& [u, p] : lowest) {
      if (u == unit) {
        p = std::min(p, price);
        return;
      }
    }
    lowest.emplace_back(unit, price);
  };
  for (const auto& p : v.prices()) {
    lower(p.unit, p.min);
    if (p.unit != 0) lower(0, p.min);
  }
  for (const auto& [unit, price] : lowest) {
    std::vector<Priced>& list = priced_[OrderedKey(v.sub_kind, unit, cell)];
    // By price, then id (the order of a page), so that a search stops at the last offer of a
    // page among those of the same price.
    auto at = std::upper_bound(
        list.begin(), list.end(), static_cast<double>(price), [&](double x, const Priced& e) {
          return x < e.price || (x == e.price && IdBefore(prefix, id, e.id_prefix, e.ordinal));
        });
    list.insert(at, Priced{static_cast<double>(price), ordinal, v.max_persons, prefix});
  }
}

void OfferIndex::PostVersion(const Version& v, uint32_t ordinal) {
  PostOrdered(v, ordinal);
  std::vector<uint64_t>& keys = scratch_.keys;
  keys.clear();
  keys.push_back(Key(kKind, static_cast<uint64_t>(v.kind)));
  keys.push_back(Key(kSubKind, static_cast<uint64_t>(v.sub_kind)));
  for (uint32_t t : v.tags()) keys.push_back(Key(kTag, t));
  for (uint32_t l : v.labels()) keys.push_back(Key(kLabel, l));
  if (v.insee) keys.push_back(Key(kInsee, v.insee));
  if (v.postcode) keys.push_back(Key(kPostcode, v.postcode));
  if (v.departement) keys.push_back(Key(kDepartement, v.departement));
  if (v.commune) keys.push_back(Key(kCommune, v.commune));
  keys.push_back(Key(kProvider, v.provider));
  if (v.has_location) {
    uint64_t cell = CellOf(v.lat, v.lon);
    keys.push_back(Key(kCell, cell));
    keys.push_back(PairKey(kKindCell, static_cast<uint64_t>(v.kind), cell));
    keys.push_back(PairKey(kSubKindCell, static_cast<uint64_t>(v.sub_kind), cell));
  }
  if (v.departement) {
    keys.push_back(PairKey(kKindDepartement, static_cast<uint64_t>(v.kind), v.departement));
    keys.push_back(PairKey(kSubKindDepartement, static_cast<uint64_t>(v.sub_kind), v.departement));
  }
  // A word is posted once: in its title list if the title has it, else in its body list (both
  // lists of words are sorted and unique), so that a search can read the title's first.
  for (uint32_t w : v.title_words()) keys.push_back(Key(kTitleWord, w));
  std::vector<uint32_t>& words = scratch_.words;
  words.clear();
  std::set_difference(v.body_words().begin(), v.body_words().end(), v.title_words().begin(),
                      v.title_words().end(), std::back_inserter(words));
  for (uint32_t w : words) keys.push_back(Key(kBodyWord, w));
  // Each key is two or three cache misses away (the map's slot, then the end of a list kept
  // outside it): each step is asked for every key before the next step reads any, so that the
  // misses overlap instead of following one another. Room for the new keys is made first, so the
  // lists found stay where they are while the others are found.
  for (uint64_t key : keys) postings_.prefetch(key);
  postings_.reserve(postings_.size() + keys.size());
  std::vector<PostingList*>& lists = scratch_.lists;
  lists.clear();
  for (uint64_t key : keys) {
    PostingList& list = postings_[key];
    __builtin_prefetch(list.data() + list.size(), 1);
    lists.push_back(&list);
  }
  for (PostingList* list : lists) list->push_back(ordinal);
}

uint64_t OfferIndex::TagBits(absl::Span<const uint32_t> tags) const {
  uint64_t bits = 0;
  for (uint32_t t : tags) {
    auto it = tag_bits_.find(t);
    if (it != tag_bits_.end()) bits |= uint64_t{1} << it->second;
  }
  return bits;
}

void OfferIndex::AssignTagBits(absl::Span<const uint32_t> tags) {
  for (uint32_t t : tags) {
    if (tag_bits_.size() == tag_of_bit_.size()) return;
    const int bit = static_cast<int>(tag_bits_.size());
    if (tag_bits_.try_emplace(t, bit).second) tag_of_bit_[static_cast<size_t>(bit)] = t;
  }
}

OfferIndex::Hot OfferIndex::HotOf(const Version& v) const {
  Hot h;
  h.born = v.born;
  h.died = v.died;
  h.lat = v.lat;
  h.lon = v.lon;
  h.min_persons = v.min_persons;
  h.max_persons = v.max_persons;
  h.insee = v.insee;
  h.postcode = v.postcode;
  h.departement = v.departement;
  h.commune = v.commune;
  h.kind = static_cast<uint8_t>(v.kind);
  h.sub_kind = static_cast<uint8_t>(v.sub_kind);
  h.class_level = static_cast<uint8_t>(v.class_level);
  h.class_scheme = static_cast<uint8_t>(v.class_scheme);
  h.has_location = v.has_location;
  h.provider = v.provider;
  h.update_micros = v.update_micros;
  h.tags = TagBits(v.tags());
  h.tags_in_bits =
      static_cast<size_t>(std::popcount(h.tags)) == v.tags().size();  // tags are unique
  // Prices are copied when there are few and each fits the copy's narrower fields.
  auto fits = [](const Version::PriceEntry& p) {
    return p.unit >= 0 && p.unit < kNotCopied && p.min >= 0 && p.max >= 0 &&
           p.max <= std::numeric_limits<int32_t>::max() &&
           p.min <= std::numeric_limits<int32_t>::max();
  };
  const auto prices = v.prices();
  if (prices.size() <= kHotPrices && std::all_of(prices.begin(), prices.end(), fits)) {
    h.n_prices = static_cast<uint8_t>(prices.size());
    for (size_t i = 0; i < prices.size(); ++i) {
      h.price_unit[i] = static_cast<uint8_t>(prices[i].unit);
      h.price_min[i] = static_cast<int32_t>(prices[i].min);
      h.price_max[i] = static_cast<int32_t>(prices[i].max);
    }
  } else {
    h.n_prices = kNotCopied;
  }
  const auto open = v.open();
  if (open.size() <= kHotOpen) {
    h.n_open = static_cast<uint8_t>(open.size());
    std::copy(open.begin(), open.end(), h.open);
  } else {
    h.n_open = kNotCopied;
  }
  return h;
}

void OfferIndex::AddVersion(Version v) {
  auto ordinal = static_cast<uint32_t>(versions_.size());
  auto it = live_.find(v.id());
  if (it != live_.end()) {
    versions_[*it].died = v.born;
    hot_[*it].died = v.born;
    ++dead_;
    live_.erase(it);
  }
  PostVersion(v, ordinal);
  hot_.push_back(HotOf(v));
  versions_.emplace_back(std::move(v));
  live_.insert(ordinal);
}

void OfferIndex::Version::Allocate(BlockPool* pool, uint32_t prices, uint32_t open, uint32_t facts,
                                   uint32_t bytes, uint16_t id) {
  n_prices = prices;
  n_open = open;
  n_facts = facts;
  n_bytes = bytes;
  n_id = id;
  data = pool->Allocate(DataBytes());  // aligned on 16 bytes: prices come first
}

OfferIndex::Version OfferIndex::MakeVersion(const v1::Offer& offer, const Provider& provider,
                                            uint64_t revision, const OfferText& text,
                                            absl::string_view bytes) {
  Version v;
  v.born = revision;
  v.provider = provider.interned;
  v.kind = offer.kind();
  v.sub_kind = offer.sub_kind();
  v.min_persons = offer.capacity().min_persons();
  v.max_persons = offer.capacity().max_persons();
  if (offer.has_classification()) {
    v.class_level = offer.classification().level();
    v.class_scheme = offer.classification().scheme();
  }
  if (offer.has_location()) {
    v.has_location = true;
    v.lat = offer.location().latitude();
    v.lon = offer.location().longitude();
  } else if (provider.has_location) {
    v.has_location = true;
    v.inherited_location = true;
    v.lat = provider.lat;
    v.lon = provider.lon;
  }
  v.update_micros = offer.update_time().seconds() * 1000000 + offer.update_time().nanos() / 1000;
  v.insee = provider.insee;
  v.postcode = provider.postcode;
  v.departement = provider.departement;
  v.commune = provider.commune;
  std::vector<uint32_t>& tags = scratch_.tags;
  std::vector<uint32_t>& labels = scratch_.labels;
  std::vector<uint32_t>& title_words = scratch_.title_words;
  std::vector<uint32_t>& body_words = scratch_.body_words;
  for (auto* list : {&tags, &labels, &title_words, &body_words}) list->clear();
  for (OfferText::Piece t : text.tags) tags.push_back(Intern(text[t]));
  AssignTagBits(tags);
  for (const std::string& l : offer.labels()) labels.push_back(Intern(l));
  for (OfferText::Piece w : text.title_words) title_words.push_back(InternWord(text[w]));
  for (OfferText::Piece w : text.body_words) body_words.push_back(InternWord(text[w]));
  body_words.insert(body_words.end(), provider.name_words.begin(), provider.name_words.end());
  for (auto* list : {&tags, &labels, &title_words, &body_words}) {
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  // Lists are capped by validation (50 tags, 50 labels); a title has far fewer than 65,536 words.
  v.n_tags = static_cast<uint16_t>(tags.size());
  v.n_labels = static_cast<uint16_t>(labels.size());
  v.n_title = static_cast<uint16_t>(std::min<size_t>(title_words.size(), 65535));
  title_words.resize(v.n_title);
  std::string serialized;
  if (bytes.empty()) bytes = serialized = offer.SerializeAsString();
  v.Allocate(
      &pool_, static_cast<uint32_t>(offer.prices_size()),
      static_cast<uint32_t>(offer.opening_periods_size()),
      static_cast<uint32_t>(tags.size() + labels.size() + title_words.size() + body_words.size()),
      static_cast<uint32_t>(bytes.size()),
      static_cast<uint16_t>(offer.id().size()));  // validation caps ids far below 65,536 bytes
  Version::PriceEntry* price = v.MutablePrices();
  for (const v1::Price& p : offer.prices()) {
    new (price++) Version::PriceEntry{p.unit(), p.min_amount_cents(), p.max_amount_cents()};
  }
  Version::Period* period = v.MutableOpen();
  for (const v1::DateRange& r : offer.opening_periods()) {
    new (period++) Version::Period(DayNumber(r.start()), DayNumber(r.end()));
  }
  uint32_t* fact = v.MutableFacts();
  for (auto* list : {&tags, &labels, &title_words, &body_words})
    fact = std::copy(list->begin(), list->end(), fact);
  std::memcpy(v.MutableBytes(), bytes.data(), bytes.size());
  std::memcpy(v.MutableId(), offer.id().data(), offer.id().size());
  return v;
}

void OfferIndex::UpsertProvider(const v1::Provider& provider, uint64_t revision,
                                const ProviderText* text) {
  ProviderText prepared;
  if (text == nullptr) {
    PrepareProviderText(provider, &prepared);
    text = &prepared;
  }
  WriteLock lock(this);
  Provider p;
  p.present = true;
  p.interned = InternIn(&provider_ids_, provider.id());
  // Text search also finds offers by the provider's commune ("salers", "chaudes aigues").
  p.name_words.reserve(text->name_words.size());
  for (ProviderText::Piece w : text->name_words) p.name_words.push_back(InternWord((*text)[w]));
  p.has_location = provider.has_location();
  p.lat = provider.location().latitude();
  p.lon = provider.location().longitude();
  p.insee = Intern(provider.address().insee_code());
  p.postcode = Intern(provider.address().postcode());
  p.departement = Intern(Departement(provider.address().insee_code(), provider.address().postcode()));
  p.commune = Intern((*text)[text->commune]);
  if (p.interned >= provider_slots_.size()) provider_slots_.resize(p.interned + 1, 0);
  uint32_t& slot = provider_slots_[p.interned];
  if (slot == 0) {
    providers_.emplace_back(std::move(p));
    slot = static_cast<uint32_t>(providers_.size());
    return;
  }
  Provider& stored = providers_[slot - 1];
  const bool changed = stored.present && !stored.SameFacts(p);
  stored = std::move(p);
  if (changed) {
    // New versions of its live offers, with the provider's new place and name.
    auto posting = postings_.find(Key(kProvider, stored.interned));
    if (posting != postings_.end()) {
      std::vector<uint32_t> ordinals(posting->second.begin(), posting->second.end());
      for (uint32_t o : ordinals) {
        if (versions_[o].died != kAlive) continue;
        v1::Offer offer;
        const absl::string_view bytes = versions_[o].bytes();
        offer.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
        AddVersion(MakeVersion(offer, stored, revision, PrepareOfferText(offer), bytes));
      }
    }
  }
}

void OfferIndex::RemoveProvider(absl::string_view id, uint64_t revision) {
  WriteLock lock(this);
  const Provider* p = FindProvider(id);
  if (p == nullptr) return;
  const uint32_t interned = p->interned;
  Provider& removed = providers_[provider_slots_[interned] - 1];
  removed = Provider();  // not present; its slot stays with its id
  removed.interned = interned;
}

void OfferIndex::UpsertOffer(const v1::Offer& offer, uint64_t revision, const OfferText* text,
                             absl::string_view bytes) {
  OfferText own;
  if (text == nullptr) {
    own = PrepareOfferText(offer);  // before taking the lock
    text = &own;
  }
  WriteLock lock(this);
  const Provider* provider = FindProvider(offer.provider_id());
  const Provider none;
  AddVersion(MakeVersion(offer, provider == nullptr ? none : *provider, revision, *text, bytes));
}

void OfferIndex::RemoveOffer(absl::string_view id, uint64_t revision) {
  WriteLock lock(this);
  auto it = live_.find(id);
  if (it == live_.end()) return;
  versions_[*it].died = revision;
  hot_[*it].died = revision;
  ++dead_;
  live_.erase(it);
}

void OfferIndex::SetRevision(uint64_t revision) {
  WriteLock lock(this);
  revision_ = std::max(revision_, revision);
}

bool OfferIndex::HasProvider(absl::string_view id) const {
  ReadLock lock(this);
  return FindProvider(id) != nullptr;
}

bool OfferIndex::HasOffer(absl::string_view id) const {
  ReadLock lock(this);
  return live_.contains(id);
}

void OfferIndex::LookUpIds(absl::flat_hash_map<absl::string_view, bool>* providers,
                           absl::flat_hash_map<absl::string_view, bool>* offers) const {
  ReadLock lock(this);
  for (auto& [id, known] : *providers) known = known || FindProvider(id) != nullptr;
  for (auto& [id, known] : *offers) known = known || live_.contains(id);
}

size_t OfferIndex::live_offers() const {
  ReadLock lock(this);
  return live_.size();
}

size_t OfferIndex::dead_versions() const {
  ReadLock lock(this);
  return dead_;
}

void OfferIndex::Compact(uint64_t horizon) {
  WriteLock lock(this);
  horizon = std::min(horizon, revision_);
  if (dead_ == 0) {
    horizon_ = std::max(horizon_, horizon);
    return;
  }
  ChunkedVector<Version> kept;
  size_t dead = 0;
  for (size_t o = 0; o < versions_.size(); ++o) {
    Version& v = versions_[o];
    if (v.died != kAlive && v.died <= horizon) {
      pool_.Free(v.data, v.DataBytes());
      continue;
    }
    if (v.died != kAlive) ++dead;
    kept.emplace_back(std::move(v));
  }
  versions_ = std::move(kept);
  dead_ = dead;
  postings_.clear();
  priced_.clear();
  by_id_.clear();
  kind_sub_kinds_.clear();
  departement_cells_.clear();
  unlocated_.clear();
  live_.clear();
  hot_.clear();
  for (uint32_t o = 0; o < versions_.size(); ++o) {
    hot_.push_back(HotOf(versions_[o]));
    PostVersion(versions_[o], o);
    if (versions_[o].died == kAlive) live_.insert(o);
  }
  horizon_ = std::max(horizon_, horizon);
}

}  // namespace atable
