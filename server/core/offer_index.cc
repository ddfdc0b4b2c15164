#include "server/core/offer_index.h"

#include <algorithm>
#include <cmath>
#include <queue>

#include "absl/strings/escaping.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"
#include "server/core/text.h"
#include "server/core/wire.h"

namespace atable {
namespace {

constexpr uint64_t kAlive = std::numeric_limits<uint64_t>::max();
constexpr double kEarthRadiusKm = 6371.0088;

// Posting list keys: a type in the top byte, a value below.
enum KeyType : uint64_t {
  kKind = 1, kSubKind, kTag, kLabel, kInsee, kPostcode, kDepartement, kProvider, kCell, kWord,
  kCommune,
  // Pairs that partners' queries combine, so a search can start from their intersection.
  kKindCell, kSubKindCell, kKindDepartement, kSubKindDepartement,
};

uint64_t Key(KeyType type, uint64_t value) { return (static_cast<uint64_t>(type) << 56) | value; }
uint64_t PairKey(KeyType type, uint64_t a, uint64_t b) { return Key(type, (a << 40) | b); }

// Map cells of 0.1 degree.
uint64_t CellOf(double lat, double lon) {
  auto la = static_cast<uint64_t>(std::floor((lat + 90.0) * 10));
  auto lo = static_cast<uint64_t>(std::floor((lon + 180.0) * 10));
  return la * 4000 + lo;
}

// Key of an ordered list: sub-kind, map cell, and for the price lists the price unit (0: any), for
// the id lists a classification level (0: every offer).
uint64_t OrderedKey(int sub_kind, int unit_or_level, uint64_t cell) {
  return (static_cast<uint64_t>(sub_kind) << 40) | (static_cast<uint64_t>(unit_or_level) << 32) | cell;
}

constexpr int kTopLevel = 5;  // classification levels are 1-5

int32_t DayNumber(const v1::Date& d) {
  // Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
  int y = d.year() - (d.month() <= 2 ? 1 : 0);
  int era = (y >= 0 ? y : y - 399) / 400;
  int yoe = y - era * 400;
  int m = d.month();
  int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d.day() - 1;
  int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string Departement(absl::string_view insee, absl::string_view postcode) {
  absl::string_view code = !insee.empty() ? insee : postcode;
  if (code.size() < 2) return "";
  if (absl::StartsWith(code, "97") && code.size() >= 3) return std::string(code.substr(0, 3));
  return std::string(code.substr(0, 2));
}

bool IsStopWord(absl::string_view w) {
  static constexpr absl::string_view kStop[] = {"a",  "au", "aux", "d",  "de", "des", "du", "en",  "et",
                                                "l",  "la", "le",  "les", "un", "une", "the", "of", "and"};
  if (w.size() > 3) return false;
  for (absl::string_view s : kStop) {
    if (s == w) return true;
  }
  return false;
}

// FNV-1a, stable across runs (page tokens name the query they belong to).
uint64_t Fnv1a(absl::string_view s) {
  uint64_t h = 1469598103934665603ull;
  for (char c : s) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
  return h;
}

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

template <typename T>
bool SortedContains(absl::Span<const T> v, T x) {
  return std::binary_search(v.begin(), v.end(), x);
}

}  // namespace

std::vector<std::string> TextWords(absl::string_view text) {
  std::string folded = FoldAccentsLower(text);
  std::vector<std::string> words;
  std::string w;
  auto flush = [&] {
    if (!w.empty() && !IsStopWord(w)) words.push_back(w);
    w.clear();
  };
  for (char c : folded) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      w.push_back(c);
    } else if (static_cast<unsigned char>(c) >= 0x80) {
      w.push_back(c);  // a letter of another script: part of the word
    } else {
      flush();
    }
  }
  flush();
  return words;
}

OfferText PrepareOfferText(const v1::Offer& offer) {
  OfferText text;
  for (const std::string& t : offer.tags()) text.tags.push_back(FoldAccentsLower(t));
  text.title_words = TextWords(offer.title());
  for (const auto& [lang, description] : offer.descriptions()) {
    for (std::string& w : TextWords(description)) text.body_words.push_back(std::move(w));
  }
  return text;
}

double DistanceKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRad = M_PI / 180.0;
  double dlat = (lat2 - lat1) * kRad;
  double dlon = (lon2 - lon1) * kRad;
  double a = std::sin(dlat / 2) * std::sin(dlat / 2) +
             std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}


uint32_t OfferIndex::Intern(absl::string_view s) {
  if (s.empty()) return 0;
  auto it = strings_.find(s);
  if (it != strings_.end()) return it->second;
  if (names_.empty()) names_.emplace_back();  // id 0 is the empty string
  auto id = static_cast<uint32_t>(names_.size());
  strings_.emplace(std::string(s), id);
  names_.emplace_back(s);
  return id;
}

uint32_t OfferIndex::InternWord(const std::string& w) {
  uint32_t id = Intern(w);
  if (id >= is_word_.size()) is_word_.resize(id + 1, false);
  if (!is_word_[id]) {  // first time as a word (it may be known as a tag already)
    is_word_[id] = true;
    words_.insert(w);
  }
  return id;
}

uint32_t OfferIndex::Lookup(absl::string_view s) const {
  if (s.empty()) return 0;
  auto it = strings_.find(s);
  return it == strings_.end() ? std::numeric_limits<uint32_t>::max() : it->second;
}

void OfferIndex::Post(uint64_t key, uint32_t ordinal) { postings_[key].push_back(ordinal); }

void OfferIndex::PostOrdered(const Version& v, uint32_t ordinal) {
  if (!v.has_location) {
    if (v.departement) ++unlocated_[v.departement];
    return;
  }
  uint64_t cell = CellOf(v.lat, v.lon);
  if (v.departement) departement_cells_[v.departement].insert(cell);
  kind_sub_kinds_[v.kind].insert(v.sub_kind);
  auto file_by_id = [&](int level) {
    std::vector<uint32_t>& ids = by_id_[OrderedKey(v.sub_kind, level, cell)];
    auto place = std::upper_bound(ids.begin(), ids.end(), v.id,
                                  [&](const std::string& id, uint32_t o) { return id < versions_[o].id; });
    ids.insert(place, ordinal);
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
  for (const auto& p : v.prices) {
    lower(p.unit, p.min);
    if (p.unit != 0) lower(0, p.min);
  }
  for (const auto& [unit, price] : lowest) {
    std::vector<Priced>& list = priced_[OrderedKey(v.sub_kind, unit, cell)];
    auto at = std::upper_bound(list.begin(), list.end(), static_cast<double>(price),
                               [](double x, const Priced& e) { return x < e.price; });
    list.insert(at, Priced{static_cast<double>(price), ordinal});
  }
}

void OfferIndex::PostVersion(const Version& v, uint32_t ordinal) {
  PostOrdered(v, ordinal);
  Post(Key(kKind, static_cast<uint64_t>(v.kind)), ordinal);
  Post(Key(kSubKind, static_cast<uint64_t>(v.sub_kind)), ordinal);
  for (uint32_t t : v.tags()) Post(Key(kTag, t), ordinal);
  for (uint32_t l : v.labels()) Post(Key(kLabel, l), ordinal);
  if (v.insee) Post(Key(kInsee, v.insee), ordinal);
  if (v.postcode) Post(Key(kPostcode, v.postcode), ordinal);
  if (v.departement) Post(Key(kDepartement, v.departement), ordinal);
  if (v.commune) Post(Key(kCommune, v.commune), ordinal);
  Post(Key(kProvider, v.provider), ordinal);
  if (v.has_location) {
    uint64_t cell = CellOf(v.lat, v.lon);
    Post(Key(kCell, cell), ordinal);
    Post(PairKey(kKindCell, static_cast<uint64_t>(v.kind), cell), ordinal);
    Post(PairKey(kSubKindCell, static_cast<uint64_t>(v.sub_kind), cell), ordinal);
  }
  if (v.departement) {
    Post(PairKey(kKindDepartement, static_cast<uint64_t>(v.kind), v.departement), ordinal);
    Post(PairKey(kSubKindDepartement, static_cast<uint64_t>(v.sub_kind), v.departement), ordinal);
  }
  // A word in both title and body is posted once.
  std::vector<uint32_t> words(v.title_words().begin(), v.title_words().end());
  words.insert(words.end(), v.body_words().begin(), v.body_words().end());
  std::sort(words.begin(), words.end());
  words.erase(std::unique(words.begin(), words.end()), words.end());
  for (uint32_t w : words) Post(Key(kWord, w), ordinal);
}

OfferIndex::Hot OfferIndex::HotOf(const Version& v) {
  Hot h;
  h.born = v.born;
  h.died = v.died;
  h.lat = static_cast<float>(v.lat);
  h.lon = static_cast<float>(v.lon);
  h.min_persons = v.min_persons;
  h.max_persons = v.max_persons;
  h.provider = v.provider;
  h.insee = v.insee;
  h.postcode = v.postcode;
  h.departement = v.departement;
  h.commune = v.commune;
  h.kind = static_cast<uint8_t>(v.kind);
  h.sub_kind = static_cast<uint8_t>(v.sub_kind);
  h.class_level = static_cast<uint8_t>(v.class_level);
  h.class_scheme = static_cast<uint8_t>(v.class_scheme);
  h.has_location = v.has_location;
  return h;
}

void OfferIndex::AddVersion(Version v) {
  auto it = live_.find(v.id);
  if (it != live_.end()) {
    versions_[it->second].died = v.born;
    hot_[it->second].died = v.born;
    ++dead_;
  }
  auto ordinal = static_cast<uint32_t>(versions_.size());
  PostVersion(v, ordinal);
  live_[v.id] = ordinal;
  hot_.push_back(HotOf(v));
  versions_.push_back(std::move(v));
}

OfferIndex::Version OfferIndex::MakeVersion(const v1::Offer& offer, const Provider& provider,
                                            uint64_t revision, const OfferText& text, std::string bytes) {
  Version v;
  v.id = offer.id();
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
  std::vector<uint32_t> tags, labels, title_words, body_words;
  for (const std::string& t : text.tags) tags.push_back(Intern(t));
  for (const std::string& l : offer.labels()) labels.push_back(Intern(l));
  for (const v1::Price& p : offer.prices()) {
    v.prices.push_back({p.unit(), p.min_amount_cents(), p.max_amount_cents()});
  }
  for (const v1::DateRange& r : offer.opening_periods()) {
    v.open.emplace_back(DayNumber(r.start()), DayNumber(r.end()));
  }
  for (const std::string& w : text.title_words) title_words.push_back(InternWord(w));
  for (const std::string& w : text.body_words) body_words.push_back(InternWord(w));
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
  v.facts.reserve(tags.size() + labels.size() + title_words.size() + body_words.size());
  for (auto* list : {&tags, &labels, &title_words, &body_words}) v.facts.insert(v.facts.end(), list->begin(), list->end());
  v.prices.shrink_to_fit();
  v.open.shrink_to_fit();
  v.bytes = bytes.empty() ? offer.SerializeAsString() : std::move(bytes);
  return v;
}

void OfferIndex::UpsertProvider(const v1::Provider& provider, uint64_t revision) {
  absl::MutexLock lock(&mu_);
  Provider p;
  p.interned = Intern(provider.id());
  // Text search also finds offers by the provider's commune ("salers", "chaudes aigues").
  for (const std::string& w : TextWords(absl::StrCat(provider.name(), " ", provider.address().commune()))) {
    p.name_words.push_back(InternWord(w));
  }
  p.has_location = provider.has_location();
  p.lat = provider.location().latitude();
  p.lon = provider.location().longitude();
  p.insee = Intern(provider.address().insee_code());
  p.postcode = Intern(provider.address().postcode());
  p.departement = Intern(Departement(provider.address().insee_code(), provider.address().postcode()));
  p.commune = Intern(NormalizePlaceName(provider.address().commune()));
  auto it = providers_.find(provider.id());
  bool changed = it != providers_.end() && !it->second.SameFacts(p);
  providers_[provider.id()] = p;
  if (changed) {
    // New versions of its live offers, with the provider's new place and name.
    auto posting = postings_.find(Key(kProvider, p.interned));
    if (posting != postings_.end()) {
      std::vector<uint32_t> ordinals = posting->second;
      for (uint32_t o : ordinals) {
        if (versions_[o].died != kAlive) continue;
        v1::Offer offer;
        offer.ParseFromString(versions_[o].bytes);
        AddVersion(MakeVersion(offer, p, revision, PrepareOfferText(offer), versions_[o].bytes));
      }
    }
  }
}

void OfferIndex::RemoveProvider(absl::string_view id, uint64_t revision) {
  absl::MutexLock lock(&mu_);
  providers_.erase(std::string(id));
}

void OfferIndex::UpsertOffer(const v1::Offer& offer, uint64_t revision, const OfferText* text,
                             std::string bytes) {
  OfferText own;
  if (text == nullptr) {
    own = PrepareOfferText(offer);  // before taking the lock
    text = &own;
  }
  absl::MutexLock lock(&mu_);
  auto provider = providers_.find(offer.provider_id());
  Provider none;
  AddVersion(MakeVersion(offer, provider == providers_.end() ? none : provider->second, revision, *text,
                         std::move(bytes)));
}

void OfferIndex::RemoveOffer(absl::string_view id, uint64_t revision) {
  absl::MutexLock lock(&mu_);
  auto it = live_.find(id);
  if (it == live_.end()) return;
  versions_[it->second].died = revision;
  hot_[it->second].died = revision;
  ++dead_;
  live_.erase(it);
}

void OfferIndex::SetRevision(uint64_t revision) {
  absl::MutexLock lock(&mu_);
  revision_ = std::max(revision_, revision);
}

bool OfferIndex::HasProvider(absl::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  return providers_.contains(id);
}

bool OfferIndex::HasOffer(absl::string_view id) const {
  absl::ReaderMutexLock lock(&mu_);
  return live_.contains(id);
}

size_t OfferIndex::live_offers() const {
  absl::ReaderMutexLock lock(&mu_);
  return live_.size();
}

size_t OfferIndex::dead_versions() const {
  absl::ReaderMutexLock lock(&mu_);
  return dead_;
}

void OfferIndex::Compact(uint64_t horizon) {
  absl::MutexLock lock(&mu_);
  horizon = std::min(horizon, revision_);
  if (dead_ == 0) {
    horizon_ = std::max(horizon_, horizon);
    return;
  }
  std::vector<Version> kept;
  kept.reserve(versions_.size() - std::min(dead_, versions_.size()));
  size_t dead = 0;
  for (Version& v : versions_) {
    if (v.died != kAlive && v.died <= horizon) continue;
    if (v.died != kAlive) ++dead;
    kept.push_back(std::move(v));
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
    if (versions_[o].died == kAlive) live_[versions_[o].id] = o;
  }
  horizon_ = std::max(horizon_, horizon);
}

// The query in index terms.
struct OfferIndex::Query {
  static constexpr uint32_t kUnknown = std::numeric_limits<uint32_t>::max();
  std::vector<int> kinds, sub_kinds;
  std::vector<uint32_t> tags_all, tags_any, labels;
  bool has_price = false;
  int price_unit = 0;
  int64_t price_min = 0, price_max = std::numeric_limits<int64_t>::max();
  int32_t persons = 0;
  int min_class = 0, class_scheme = 0;
  uint32_t provider = 0, commune = 0, insee = 0, postcode = 0, departement = 0;
  bool has_near = false;
  double near_lat = 0, near_lon = 0, radius_km = 0;
  bool has_box = false;
  double south = 0, west = 0, north = 0, east = 0;
  bool has_open = false;
  int32_t open_from = 0, open_to = 0;
  std::vector<std::vector<uint32_t>> words;  // per query word: the word ids that satisfy it
  bool impossible = false;                    // a required value the index has never seen
};

namespace {

absl::Status CheckPoint(absl::string_view field, const v1::GeoPoint& p) {
  if (!(p.latitude() >= -90 && p.latitude() <= 90)) return Invalid(absl::StrCat(field, ".latitude"), "must be in [-90, 90]");
  if (!(p.longitude() >= -180 && p.longitude() <= 180)) return Invalid(absl::StrCat(field, ".longitude"), "must be in [-180, 180]");
  return absl::OkStatus();
}

absl::Status CheckDate(absl::string_view field, const v1::Date& d) {
  if (d.year() < 1900 || d.year() > 2200 || d.month() < 1 || d.month() > 12 || d.day() < 1 || d.day() > 31) {
    return Invalid(field, "is not a valid date");
  }
  return absl::OkStatus();
}

// Page tokens: "revision|query hash|sort key|offer id", base64.
struct Cursor {
  uint64_t revision = 0;
  uint64_t query_hash = 0;
  double key = 0;
  std::string id;
};

std::string EncodeCursor(const Cursor& c) {
  return absl::WebSafeBase64Escape(
      absl::StrCat(c.revision, "|", c.query_hash, "|", absl::StrFormat("%a", c.key), "|", c.id));
}

bool DecodeCursor(absl::string_view token, Cursor* c) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return false;
  std::vector<absl::string_view> parts = absl::StrSplit(raw, absl::MaxSplits('|', 3));
  if (parts.size() != 4) return false;
  if (!absl::SimpleAtoi(parts[0], &c->revision) || !absl::SimpleAtoi(parts[1], &c->query_hash)) return false;
  std::string key(parts[2]);
  char* end = nullptr;
  c->key = std::strtod(key.c_str(), &end);
  if (end == key.c_str() || *end != '\0') return false;
  c->id = std::string(parts[3]);
  return true;
}

// The Offer fields a read mask names (all for an empty mask or "*"); INVALID_ARGUMENT naming the
// path that is not an Offer field.
absl::StatusOr<FieldSet> OfferFieldsOf(const google::protobuf::FieldMask& mask) {
  if (mask.paths_size() == 0) return kAllFields;
  FieldSet fields = 0;
  for (int i = 0; i < mask.paths_size(); ++i) {
    const std::string& path = mask.paths(i);
    if (path == "*") return kAllFields;
    const google::protobuf::FieldDescriptor* field = v1::Offer::descriptor()->FindFieldByName(path);
    if (field == nullptr || field->number() >= 64) {
      return Invalid(absl::StrCat("read_mask.paths[", i, "]"),
                     absl::StrCat("\"", absl::CHexEscape(path.substr(0, 64)),
                                  "\" is not a field of Offer (top-level fields only, such as id, title, prices)"));
    }
    fields |= FieldSet{1} << field->number();
  }
  return fields;
}

uint64_t QueryHash(const v1::SearchOffersRequest& request) {
  v1::SearchOffersRequest q = request;
  q.clear_page_token();
  q.clear_page_size();
  q.clear_include_facets();
  q.clear_skip_total_count();
  q.clear_read_mask();  // a walk may change the fields it reads between pages
  std::string bytes;
  google::protobuf::io::StringOutputStream out(&bytes);
  google::protobuf::io::CodedOutputStream coded(&out);
  coded.SetSerializationDeterministic(true);
  q.SerializeToCodedStream(&coded);
  coded.Trim();
  return Fnv1a(bytes);
}

}  // namespace

// A match of a search: the version, its sort key, distance and relevance.
struct OfferIndex::Match {
  uint32_t ordinal;
  double key;
  double distance;
  double relevance;
};

bool OfferIndex::OrderedCells(const Query& q, const std::vector<uint64_t>& near_cells,
                              std::vector<uint64_t>* cells) const {
  cells->clear();
  if (q.has_near) {
    *cells = near_cells;  // empty when the circle is too wide for cells
  } else if (q.departement) {
    auto unlocated = unlocated_.find(q.departement);
    if (unlocated != unlocated_.end() && unlocated->second > 0) return false;  // the lists miss those
    auto it = departement_cells_.find(q.departement);
    if (it != departement_cells_.end()) cells->assign(it->second.begin(), it->second.end());
  }
  return !cells->empty();
}

template <typename Check>
bool OfferIndex::FirstPageByPrice(const Query& q, int page_size, const std::vector<uint64_t>& near_cells,
                                  const Check& check, std::vector<Match>* matches) const {
  std::vector<uint64_t> cells;
  if (q.sub_kinds.empty() || !OrderedCells(q, near_cells, &cells)) return false;
  // Every list of the query's sub-kinds, unit and cells, merged cheapest first. A version's key
  // for the query is never below its key in the list (a price range can only set aside its
  // cheapest prices), so once `page_size + 1` matches are found, a list key above the highest of
  // them ends the read.
  struct Head {
    double price;
    const Priced* at;
    const Priced* end;
  };
  auto later = [](const Head& a, const Head& b) { return a.price > b.price; };
  std::vector<Head> heads;
  for (int sub_kind : q.sub_kinds) {
    for (uint64_t cell : cells) {
      auto it = priced_.find(OrderedKey(sub_kind, q.price_unit, cell));
      if (it == priced_.end() || it->second.empty()) continue;
      heads.push_back({it->second.front().price, it->second.data(), it->second.data() + it->second.size()});
    }
  }
  std::make_heap(heads.begin(), heads.end(), later);
  const size_t wanted = static_cast<size_t>(page_size) + 1;
  std::priority_queue<double> lowest;  // the `wanted` lowest keys of the matches so far
  while (!heads.empty()) {
    std::pop_heap(heads.begin(), heads.end(), later);
    Head& head = heads.back();
    if (lowest.size() == wanted && head.price > lowest.top()) return true;
    size_t before = matches->size();
    check(head.at->ordinal);
    if (matches->size() > before) {
      lowest.push(matches->back().key);
      if (lowest.size() > wanted) lowest.pop();
    }
    if (++head.at == head.end) {
      heads.pop_back();
    } else {
      head.price = head.at->price;
      std::push_heap(heads.begin(), heads.end(), later);
    }
  }
  // Every list read: complete, unless offers without a price in the unit may match (they come last).
  return lowest.size() == wanted || q.has_price;
}

bool OfferIndex::IdListSources(const Query& q, const std::vector<uint64_t>& near_cells, std::vector<int>* sub_kinds,
                               std::vector<uint64_t>* cells) const {
  *sub_kinds = q.sub_kinds;
  if (sub_kinds->empty()) {  // the sub-kinds of the query's kinds (check() still filters by kind)
    if (q.kinds.empty()) return false;
    for (int kind : q.kinds) {
      auto it = kind_sub_kinds_.find(kind);
      if (it != kind_sub_kinds_.end()) sub_kinds->insert(sub_kinds->end(), it->second.begin(), it->second.end());
    }
  }
  return OrderedCells(q, near_cells, cells);
}

template <typename Check>
void OfferIndex::MergeIdLists(const std::vector<int>& sub_kinds, const std::vector<uint64_t>& cells, int level,
                              const std::string& after_id, size_t wanted, const Check& check,
                              std::vector<Match>* matches) const {
  struct Head {
    const std::string* id;
    const uint32_t* at;
    const uint32_t* end;
  };
  auto later = [](const Head& a, const Head& b) { return *a.id > *b.id; };
  std::vector<Head> heads;
  for (int sub_kind : sub_kinds) {
    for (uint64_t cell : cells) {
      auto it = by_id_.find(OrderedKey(sub_kind, level, cell));
      if (it == by_id_.end()) continue;
      const std::vector<uint32_t>& ids = it->second;
      auto from = after_id.empty() ? ids.begin()
                                   : std::upper_bound(ids.begin(), ids.end(), after_id, [&](const std::string& id, uint32_t o) {
                                       return id < versions_[o].id;
                                     });
      if (from == ids.end()) continue;
      heads.push_back({&versions_[*from].id, &*from, ids.data() + ids.size()});
    }
  }
  std::make_heap(heads.begin(), heads.end(), later);
  while (!heads.empty() && matches->size() < wanted) {
    std::pop_heap(heads.begin(), heads.end(), later);
    Head& head = heads.back();
    check(*head.at);
    if (++head.at == head.end) {
      heads.pop_back();
    } else {
      head.id = &versions_[*head.at].id;
      std::push_heap(heads.begin(), heads.end(), later);
    }
  }
}

template <typename Check>
bool OfferIndex::PageById(const Query& q, int page_size, const std::vector<uint64_t>& near_cells,
                          const std::string& after_id, const Check& check, std::vector<Match>* matches) const {
  std::vector<int> sub_kinds;
  std::vector<uint64_t> cells;
  if (!IdListSources(q, near_cells, &sub_kinds, &cells)) return false;
  // The first page_size + 1 matches are the page and tell whether there is a next one.
  MergeIdLists(sub_kinds, cells, /*level=*/0, after_id, static_cast<size_t>(page_size) + 1, check, matches);
  return true;
}

template <typename Check>
bool OfferIndex::PageByClassification(const Query& q, int page_size, const std::vector<uint64_t>& near_cells,
                                      int from_level, const std::string& after_id, const Check& check,
                                      std::vector<Match>* matches) const {
  std::vector<int> sub_kinds;
  std::vector<uint64_t> cells;
  if (!IdListSources(q, near_cells, &sub_kinds, &cells)) return false;
  // Best level first, each level in id order: the order of the classification sort.
  const size_t wanted = static_cast<size_t>(page_size) + 1;
  for (int level = from_level; level >= std::max(q.min_class, 1) && matches->size() < wanted; --level) {
    MergeIdLists(sub_kinds, cells, level, level == from_level ? after_id : std::string(), wanted, check, matches);
  }
  // Unclassified offers come after level 1 and are in no level's list.
  return matches->size() >= wanted || q.min_class >= 1;
}

absl::StatusOr<SearchOutcome> OfferIndex::Search(const v1::SearchOffersRequest& r) const {
  // Check the request before taking the lock.
  int page_size = r.page_size() == 0 ? kDefaultPageSize : r.page_size();
  if (page_size < 0 || page_size > kMaxPageSize) {
    return Invalid("page_size", absl::StrCat("must be in 0-", kMaxPageSize));
  }
  for (int i = 0; i < r.kinds_size(); ++i) {
    if (!v1::OfferKind_IsValid(r.kinds(i))) return Invalid(absl::StrCat("kinds[", i, "]"), "is not a known kind");
  }
  for (int i = 0; i < r.sub_kinds_size(); ++i) {
    if (!v1::OfferSubKind_IsValid(r.sub_kinds(i))) return Invalid(absl::StrCat("sub_kinds[", i, "]"), "is not a known sub-kind");
  }
  if (r.price().min_amount_cents() < 0) return Invalid("price.min_amount_cents", "must not be negative");
  if (r.price().max_amount_cents() < 0) return Invalid("price.max_amount_cents", "must not be negative");
  if (r.price().max_amount_cents() != 0 && r.price().max_amount_cents() < r.price().min_amount_cents()) {
    return Invalid("price.max_amount_cents", "is below min_amount_cents");
  }
  if (!v1::PriceUnit_IsValid(r.price().unit())) return Invalid("price.unit", "is not a known unit");
  if (r.persons() < 0) return Invalid("persons", "must not be negative");
  if (r.min_classification() < 0 || r.min_classification() > 5) return Invalid("min_classification", "must be in 0-5");
  if (r.has_near()) {
    if (auto s = CheckPoint("near.point", r.near().point()); !s.ok()) return s;
    if (!(r.near().radius_km() > 0 && r.near().radius_km() <= 1000)) return Invalid("near.radius_km", "must be in (0, 1000]");
  }
  if (r.has_within()) {
    if (auto s = CheckPoint("within.south_west", r.within().south_west()); !s.ok()) return s;
    if (auto s = CheckPoint("within.north_east", r.within().north_east()); !s.ok()) return s;
    if (r.within().north_east().latitude() < r.within().south_west().latitude()) {
      return Invalid("within.north_east.latitude", "is south of south_west");
    }
  }
  if (r.has_open()) {
    if (auto s = CheckDate("open.start", r.open().start()); !s.ok()) return s;
    if (auto s = CheckDate("open.end", r.open().end()); !s.ok()) return s;
    if (DayNumber(r.open().end()) < DayNumber(r.open().start())) return Invalid("open.end", "is before start");
  }
  if (r.sort() == v1::SORT_ORDER_DISTANCE && !r.has_near()) return Invalid("sort", "SORT_ORDER_DISTANCE needs near");
  if (!v1::SortOrder_IsValid(r.sort())) return Invalid("sort", "is not a known order");
  if (r.text().size() > 1000) return Invalid("text", "is longer than 1000 bytes");
  if (!IsValidUtf8(r.text())) return Invalid("text", "is not valid UTF-8");
  size_t list_items = r.tags_all_size() + r.tags_any_size() + r.labels_size() + r.kinds_size() + r.sub_kinds_size();
  if (list_items > 200) return Invalid("tags_all", "the query lists more than 200 values");
  absl::StatusOr<FieldSet> fields = OfferFieldsOf(r.read_mask());
  if (!fields.ok()) return fields.status();
  uint64_t query_hash = QueryHash(r);
  Cursor cursor;
  bool has_cursor = !r.page_token().empty();
  if (has_cursor && (!DecodeCursor(r.page_token(), &cursor) || cursor.query_hash != query_hash)) {
    return Invalid("page_token", "does not belong to this query (filters and sort must stay the same)");
  }

  absl::ReaderMutexLock lock(&mu_);
  uint64_t as_of = has_cursor ? cursor.revision : revision_;
  if (as_of < horizon_) {
    return absl::FailedPreconditionError(
        "page_token: the walk is too old and its snapshot is gone; start the search again");
  }
  if (as_of > revision_) return Invalid("page_token", "is from the future");

  // Resolve the query's values to interned ids.
  Query q;
  for (int k : r.kinds()) q.kinds.push_back(k);
  for (int k : r.sub_kinds()) q.sub_kinds.push_back(k);
  for (auto* list : {&q.kinds, &q.sub_kinds}) {  // a value given twice must not read its lists twice
    std::sort(list->begin(), list->end());
    list->erase(std::unique(list->begin(), list->end()), list->end());
  }
  for (const std::string& t : r.tags_all()) {
    uint32_t id = Lookup(FoldAccentsLower(t));
    if (id == Query::kUnknown) q.impossible = true;
    q.tags_all.push_back(id);
  }
  for (const std::string& t : r.tags_any()) {
    uint32_t id = Lookup(FoldAccentsLower(t));
    if (id != Query::kUnknown) q.tags_any.push_back(id);
  }
  if (r.tags_any_size() > 0 && q.tags_any.empty()) q.impossible = true;
  for (const std::string& l : r.labels()) {
    uint32_t id = Lookup(l);
    if (id == Query::kUnknown) q.impossible = true;
    q.labels.push_back(id);
  }
  std::sort(q.tags_all.begin(), q.tags_all.end());
  std::sort(q.tags_any.begin(), q.tags_any.end());
  auto exact = [&](const std::string& value, uint32_t* out) {
    if (value.empty()) return;
    *out = Lookup(value);
    if (*out == Query::kUnknown || *out == 0) q.impossible = true;
  };
  exact(r.provider_id(), &q.provider);
  exact(r.commune().empty() ? "" : NormalizePlaceName(r.commune()), &q.commune);
  exact(r.insee_code(), &q.insee);
  exact(r.postcode(), &q.postcode);
  exact(r.departement(), &q.departement);
  if (r.has_price()) {
    q.has_price = true;
    q.price_unit = r.price().unit();
    q.price_min = r.price().min_amount_cents();
    if (r.price().max_amount_cents() > 0) q.price_max = r.price().max_amount_cents();
  }
  q.persons = r.persons();
  q.min_class = r.min_classification();
  q.class_scheme = r.classification_scheme();
  if (r.has_near()) {
    q.has_near = true;
    q.near_lat = r.near().point().latitude();
    q.near_lon = r.near().point().longitude();
    q.radius_km = r.near().radius_km();
  }
  if (r.has_within()) {
    q.has_box = true;
    q.south = r.within().south_west().latitude();
    q.west = r.within().south_west().longitude();
    q.north = r.within().north_east().latitude();
    q.east = r.within().north_east().longitude();
  }
  if (r.has_open()) {
    q.has_open = true;
    q.open_from = DayNumber(r.open().start());
    q.open_to = DayNumber(r.open().end());
  }
  std::vector<std::string> text_words = TextWords(r.text());
  for (size_t i = 0; i < text_words.size(); ++i) {
    std::vector<uint32_t> ids;
    uint32_t id = Lookup(text_words[i]);
    if (id != Query::kUnknown) ids.push_back(id);
    if (i + 1 == text_words.size()) {  // the last word also as a prefix
      for (auto it = words_.lower_bound(text_words[i]);
           it != words_.end() && absl::StartsWith(*it, text_words[i]) && ids.size() < 500; ++it) {
        uint32_t w = Lookup(*it);
        if (w != id) ids.push_back(w);
      }
    }
    if (ids.empty()) q.impossible = true;
    std::sort(ids.begin(), ids.end());
    q.words.push_back(std::move(ids));
  }

  SearchOutcome out;
  out.revision = as_of;
  if (q.impossible) return out;

  // Plan: the candidate source with the fewest entries. A source is a union of posting lists;
  // `disjoint` says no version is in two of them (so no deduplication is needed).
  auto list_size = [&](uint64_t key) -> size_t {
    auto it = postings_.find(key);
    return it == postings_.end() ? 0 : it->second.size();
  };
  // The two smallest sources are kept: when the smallest is large, only the versions in both are
  // checked.
  std::vector<uint64_t> best_keys, second_keys;
  bool best_disjoint = true;
  size_t best = std::numeric_limits<size_t>::max(), second = std::numeric_limits<size_t>::max();
  auto consider = [&](std::vector<uint64_t> keys, bool disjoint) {
    size_t total = 0;
    for (uint64_t k : keys) total += list_size(k);
    if (total < best) {
      second = best;
      second_keys = std::move(best_keys);
      best = total;
      best_keys = std::move(keys);
      best_disjoint = disjoint;
    } else if (total < second) {
      second = total;
      second_keys = std::move(keys);
    }
  };
  auto keys_of = [](KeyType type, const auto& values) {
    std::vector<uint64_t> keys;
    for (auto v : values) keys.push_back(Key(type, static_cast<uint64_t>(v)));
    return keys;
  };
  // The kinds or sub-kinds the query allows, for the paired keys.
  std::vector<std::pair<KeyType, uint64_t>> kind_parts;  // (kKindCell or kSubKindCell, value)
  if (!q.sub_kinds.empty()) {
    for (int k : q.sub_kinds) kind_parts.emplace_back(kSubKindCell, static_cast<uint64_t>(k));
  } else {
    for (int k : q.kinds) kind_parts.emplace_back(kKindCell, static_cast<uint64_t>(k));
  }
  if (!q.kinds.empty()) consider(keys_of(kKind, q.kinds), true);
  if (!q.sub_kinds.empty()) consider(keys_of(kSubKind, q.sub_kinds), true);
  for (uint32_t t : q.tags_all) consider({Key(kTag, t)}, true);
  if (!q.tags_any.empty()) consider(keys_of(kTag, q.tags_any), q.tags_any.size() == 1);
  for (uint32_t l : q.labels) consider({Key(kLabel, l)}, true);
  if (q.provider) consider({Key(kProvider, q.provider)}, true);
  if (q.commune) consider({Key(kCommune, q.commune)}, true);
  if (q.insee) consider({Key(kInsee, q.insee)}, true);
  if (q.postcode) consider({Key(kPostcode, q.postcode)}, true);
  if (q.departement) {
    consider({Key(kDepartement, q.departement)}, true);
    if (!kind_parts.empty()) {
      std::vector<uint64_t> keys;
      for (const auto& [type, k] : kind_parts) {
        keys.push_back(PairKey(type == kSubKindCell ? kSubKindDepartement : kKindDepartement, k, q.departement));
      }
      consider(std::move(keys), true);
    }
  }
  for (const auto& ids : q.words) consider(keys_of(kWord, ids), ids.size() == 1);
  auto cells_of_box = [&](double s, double w, double n, double e) {
    std::vector<uint64_t> cells;
    double lat0 = std::floor(std::max(-90.0, s) * 10) / 10, lon0 = std::floor(std::max(-180.0, w) * 10) / 10;
    for (double lat = lat0; lat <= n + 1e-9 && cells.size() < 100000; lat += 0.1) {
      for (double lon = lon0; lon <= e + 1e-9 && cells.size() < 100000; lon += 0.1) {
        cells.push_back(CellOf(lat + 0.05, lon + 0.05));
      }
    }
    return cells;
  };
  auto consider_cells = [&](const std::vector<uint64_t>& cells) {
    consider(keys_of(kCell, cells), true);
    if (!kind_parts.empty()) {
      std::vector<uint64_t> keys;
      for (uint64_t cell : cells) {
        for (const auto& [type, k] : kind_parts) keys.push_back(PairKey(type, k, cell));
      }
      consider(std::move(keys), true);
    }
  };
  double near_dlat = 0, near_dlon = 0;
  std::vector<uint64_t> near_cells;  // the map cells covering the circle, when it is not too wide
  bool near_lon_box = false;  // whether a longitude band bounds the circle (not across +-180)
  if (q.has_near) {
    near_dlat = q.radius_km / 111.19;
    double coslat = std::max(0.01, std::cos(std::min(89.0, std::abs(q.near_lat) + near_dlat) * M_PI / 180));
    near_dlon = std::min(180.0, q.radius_km / (111.19 * coslat));
    near_lon_box = q.near_lon - near_dlon > -180 && q.near_lon + near_dlon < 180;
    if (q.near_lat + near_dlat < 90 && q.near_lat - near_dlat > -90 && q.near_lon - near_dlon > -180 &&
        q.near_lon + near_dlon < 180 && near_dlat * near_dlon < 400) {
      near_cells = cells_of_box(q.near_lat - near_dlat, q.near_lon - near_dlon, q.near_lat + near_dlat,
                                q.near_lon + near_dlon);
      consider_cells(near_cells);
    }
  }
  if (q.has_box && q.west <= q.east && (q.north - q.south) * (q.east - q.west) < 400) {
    consider_cells(cells_of_box(q.south, q.west, q.north, q.east));
  }

  // Check every filter on each candidate: the packed facts first, the rest of the version last.
  std::vector<Match> matches;
  // Each query word's ids (sorted) with their inverse document frequency, worked out once.
  const double n_docs = static_cast<double>(std::max<size_t>(1, live_.size()));
  std::vector<std::vector<std::pair<uint32_t, double>>> word_idf(q.words.size());
  for (size_t i = 0; i < q.words.size(); ++i) {
    for (uint32_t w : q.words[i]) {
      auto df = static_cast<double>(list_size(Key(kWord, w)));
      word_idf[i].emplace_back(w, std::log(1 + n_docs / (1 + df)));
    }
  }
  // The best weight of a query word in an offer's words: its idf, twice in the title.
  auto best_in = [](const std::vector<std::pair<uint32_t, double>>& ids, absl::Span<const uint32_t> words,
                    double weight, double best) {
    for (uint32_t w : words) {
      auto it = std::lower_bound(ids.begin(), ids.end(), w, [](const auto& e, uint32_t x) { return e.first < x; });
      if (it != ids.end() && it->first == w) best = std::max(best, weight * it->second);
    }
    return best;
  };
  auto check = [&](uint32_t o) {
    ++out.candidates;
    const Hot& h = hot_[o];
    if (h.born > as_of || as_of >= h.died) return;
    if (!q.sub_kinds.empty() && std::find(q.sub_kinds.begin(), q.sub_kinds.end(), h.sub_kind) == q.sub_kinds.end()) return;
    if (!q.kinds.empty() && std::find(q.kinds.begin(), q.kinds.end(), h.kind) == q.kinds.end()) return;
    if (q.persons > 0 && (h.max_persons == 0 || h.max_persons < q.persons || h.min_persons > q.persons)) return;
    if (q.min_class > 0 && (h.class_level < q.min_class || (q.class_scheme != 0 && h.class_scheme != q.class_scheme))) return;
    if (q.provider && h.provider != q.provider) return;
    if (q.commune && h.commune != q.commune) return;
    if (q.insee && h.insee != q.insee) return;
    if (q.postcode && h.postcode != q.postcode) return;
    if (q.departement && h.departement != q.departement) return;
    const Version& v = versions_[o];
    double distance = 0;
    if (q.has_near) {
      if (!h.has_location || std::abs(h.lat - q.near_lat) > near_dlat + 0.01) return;
      if (near_lon_box && std::abs(h.lon - q.near_lon) > near_dlon + 0.01) return;
      distance = DistanceKm(q.near_lat, q.near_lon, v.lat, v.lon);
      if (distance > q.radius_km) return;
    }
    if (q.has_box) {
      if (!h.has_location || v.lat < q.south || v.lat > q.north) return;
      bool inside = q.west <= q.east ? (v.lon >= q.west && v.lon <= q.east) : (v.lon >= q.west || v.lon <= q.east);
      if (!inside) return;
    }
    for (uint32_t t : q.tags_all) if (!SortedContains(v.tags(), t)) return;
    if (!q.tags_any.empty()) {
      bool any = false;
      for (uint32_t t : q.tags_any) any = any || SortedContains(v.tags(), t);
      if (!any) return;
    }
    for (uint32_t l : q.labels) if (!SortedContains(v.labels(), l)) return;
    int64_t best_price = std::numeric_limits<int64_t>::max();
    int64_t top_price = -1;
    for (const auto& p : v.prices) {
      if (q.price_unit != 0 && p.unit != q.price_unit) continue;
      if (q.has_price && (p.max < q.price_min || p.min > q.price_max)) continue;
      best_price = std::min(best_price, p.min);
      top_price = std::max(top_price, p.min);
    }
    if (q.has_price && top_price < 0) return;
    if (q.has_open && !v.open.empty()) {
      bool open = false;
      for (const auto& [s, e] : v.open) open = open || (s <= q.open_to && e >= q.open_from);
      if (!open) return;
    }
    double relevance = 0;
    for (const auto& ids : word_idf) {
      double best_word = best_in(ids, v.body_words(), 1.0, best_in(ids, v.title_words(), 2.0, 0.0));
      if (best_word == 0) return;
      relevance += best_word;
    }
    double key = 0;
    constexpr double kLast = std::numeric_limits<double>::infinity();
    switch (r.sort()) {
      case v1::SORT_ORDER_UNSPECIFIED:
      case v1::SORT_ORDER_RELEVANCE:
        key = q.words.empty() ? 0 : -relevance;
        break;
      case v1::SORT_ORDER_PRICE_ASCENDING:
        if (!q.has_price) {
          for (const auto& p : v.prices) {
            if (q.price_unit == 0 || p.unit == q.price_unit) best_price = std::min(best_price, p.min);
          }
        }
        key = best_price == std::numeric_limits<int64_t>::max() ? kLast : static_cast<double>(best_price);
        break;
      case v1::SORT_ORDER_PRICE_DESCENDING:
        if (!q.has_price) {
          for (const auto& p : v.prices) {
            if (q.price_unit == 0 || p.unit == q.price_unit) top_price = std::max(top_price, p.min);
          }
        }
        key = top_price < 0 ? kLast : -static_cast<double>(top_price);
        break;
      case v1::SORT_ORDER_DISTANCE:
        key = distance;
        break;
      case v1::SORT_ORDER_CLASSIFICATION:
        key = -h.class_level;
        break;
      case v1::SORT_ORDER_UPDATE_TIME:
        key = -static_cast<double>(v.update_micros);
        break;
      default:
        break;
    }
    matches.push_back({o, key, distance, relevance});
  };
  // Checks a list of candidates in turn. Checking is mostly waiting for memory (a candidate's
  // facts, its version, its words and prices, scattered over the index), so the facts of the
  // candidates a few places ahead are asked for first.
  auto check_in_turn = [&](const std::vector<uint32_t>& list) {
    constexpr size_t kAhead = 16, kNear = 6;
    const size_t n = list.size();
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) {
        const uint32_t o = list[i + kAhead];
        __builtin_prefetch(&hot_[o]);
        __builtin_prefetch(&versions_[o].lat);
        __builtin_prefetch(&versions_[o].facts);
      }
      if (i + kNear < n) {
        const Version& v = versions_[list[i + kNear]];
        __builtin_prefetch(v.facts.data());
        __builtin_prefetch(v.prices.data());
      }
      check(list[i]);
    }
  };
  // Without the total count, some pages are read in their order and stop once full.
  bool read = false;
  if (r.skip_total_count() && !r.include_facets()) {
    bool no_key = (r.sort() == v1::SORT_ORDER_UNSPECIFIED || r.sort() == v1::SORT_ORDER_RELEVANCE) && q.words.empty();
    if (r.sort() == v1::SORT_ORDER_PRICE_ASCENDING && !has_cursor) {
      read = FirstPageByPrice(q, page_size, near_cells, check, &matches);
    } else if (no_key && (!has_cursor || cursor.key == 0)) {
      read = PageById(q, page_size, near_cells, has_cursor ? cursor.id : std::string(), check, &matches);
    } else if (r.sort() == v1::SORT_ORDER_CLASSIFICATION && (!has_cursor || (cursor.key < 0 && cursor.key >= -kTopLevel))) {
      int from_level = has_cursor ? static_cast<int>(-cursor.key) : kTopLevel;
      read = PageByClassification(q, page_size, near_cells, from_level, has_cursor ? cursor.id : std::string(), check,
                                  &matches);
    }
    if (!read) matches.clear(), out.candidates = 0;
  }
  if (read) {
    // The first page's matches are in.
  } else if (best == std::numeric_limits<size_t>::max()) {  // no filter has a posting list: scan all
    for (uint32_t o = 0; o < hot_.size(); ++o) check(o);
  } else if (best > 4096 && second / 32 <= best) {
    // Mark the smallest source's versions, then check those of the second source that are marked
    // (each once: its mark is cleared), rather than every version of the smallest.
    std::vector<uint64_t> marked((versions_.size() + 63) / 64, 0);
    for (uint64_t k : best_keys) {
      auto it = postings_.find(k);
      if (it != postings_.end()) for (uint32_t o : it->second) marked[o >> 6] |= uint64_t{1} << (o & 63);
    }
    std::vector<uint32_t> both;
    for (uint64_t k : second_keys) {
      auto it = postings_.find(k);
      if (it == postings_.end()) continue;
      for (uint32_t o : it->second) {
        uint64_t bit = uint64_t{1} << (o & 63);
        if (!(marked[o >> 6] & bit)) continue;
        marked[o >> 6] &= ~bit;
        both.push_back(o);
      }
    }
    check_in_turn(both);
  } else if (best_disjoint) {
    for (uint64_t k : best_keys) {
      auto it = postings_.find(k);
      if (it != postings_.end()) check_in_turn(it->second);
    }
  } else {
    std::vector<uint32_t> candidates;
    candidates.reserve(best);
    for (uint64_t k : best_keys) {
      auto it = postings_.find(k);
      if (it != postings_.end()) candidates.insert(candidates.end(), it->second.begin(), it->second.end());
    }
    std::sort(candidates.begin(), candidates.end());
    candidates.erase(std::unique(candidates.begin(), candidates.end()), candidates.end());
    check_in_turn(candidates);
  }
  out.total_count = r.skip_total_count() ? 0 : static_cast<int64_t>(matches.size());

  if (r.include_facets() && !has_cursor) {
    absl::flat_hash_map<std::string, int64_t> kinds, sub_kinds, tags, communes, levels;
    const std::vector<std::string>& names = names_;
    for (const Match& m : matches) {
      const Version& v = versions_[m.ordinal];
      ++kinds[v1::OfferKind_Name(v.kind)];
      ++sub_kinds[v1::OfferSubKind_Name(v.sub_kind)];
      for (uint32_t t : v.tags()) ++tags[names[t]];
      if (v.insee) ++communes[names[v.insee]];
      ++levels[absl::StrCat(v.class_level)];
    }
    auto facet = [&](const std::string& name, const absl::flat_hash_map<std::string, int64_t>& counts) {
      std::vector<std::pair<std::string, int64_t>> sorted(counts.begin(), counts.end());
      std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
        return a.second != b.second ? a.second > b.second : a.first < b.first;
      });
      v1::Facet f;
      f.set_name(name);
      for (size_t i = 0; i < sorted.size() && i < 50; ++i) {
        v1::FacetCount* c = f.add_counts();
        c->set_value(sorted[i].first);
        c->set_count(sorted[i].second);
      }
      out.facets.push_back(std::move(f));
    };
    facet("kind", kinds);
    facet("sub_kind", sub_kinds);
    facet("tag", tags);
    facet("commune", communes);
    facet("classification", levels);
  }

  // The page: matches after the cursor, in (key, id) order.
  auto before = [&](const Match& a, const Match& b) {
    if (a.key != b.key) return a.key < b.key;
    return versions_[a.ordinal].id < versions_[b.ordinal].id;
  };
  if (has_cursor) {
    matches.erase(std::remove_if(matches.begin(), matches.end(),
                                 [&](const Match& m) {
                                   if (m.key != cursor.key) return m.key < cursor.key;
                                   return versions_[m.ordinal].id <= cursor.id;
                                 }),
                  matches.end());
  }
  size_t take = std::min(matches.size(), static_cast<size_t>(page_size));
  std::partial_sort(matches.begin(), matches.begin() + static_cast<long>(take), matches.end(), before);
  for (size_t i = 0; i < take; ++i) {
    const Version& v = versions_[matches[i].ordinal];
    SearchOutcome::Hit hit{{}, matches[i].distance, matches[i].relevance};
    if (*fields == kAllFields) {
      hit.offer_bytes = v.bytes;
    } else {
      AppendFields(v.bytes, *fields, &hit.offer_bytes);  // the index's own serialization: well-formed
    }
    if (v.inherited_location && (*fields >> v1::Offer::kLocationFieldNumber & 1)) {
      // Appending a field to a serialized message sets it: show the provider's location.
      v1::GeoPoint point;
      point.set_latitude(v.lat);
      point.set_longitude(v.lon);
      std::string field = point.SerializeAsString();
      hit.offer_bytes.push_back(static_cast<char>((v1::Offer::kLocationFieldNumber << 3) | 2));
      hit.offer_bytes.push_back(static_cast<char>(field.size()));  // < 128 bytes
      hit.offer_bytes += field;
    }
    out.hits.push_back(std::move(hit));
  }
  if (matches.size() > take && take > 0) {
    Cursor next;
    next.revision = as_of;
    next.query_hash = query_hash;
    next.key = matches[take - 1].key;
    next.id = versions_[matches[take - 1].ordinal].id;
    out.next_page_token = EncodeCursor(next);
  }
  return out;
}

}  // namespace atable
