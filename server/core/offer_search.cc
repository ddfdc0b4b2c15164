// OfferIndex::Search: checks the request, resolves its values to the index's ids, plans it from
// its most selective source, checks every filter on each candidate, and cuts the page.
#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <numeric>
#include <queue>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "server/core/offer_index.h"
#include "server/core/offer_index_keys.h"
#include "server/core/text.h"
#include "server/core/wire.h"

namespace atable {
namespace {

using enum PostingType;

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

// Page tokens: "[t<total count>|]revision|query hash|sort key|offer id", base64. The total, once
// counted, goes from page to page: a walk reads the catalog as of its first page, so its count
// of matches stays what it was.
struct Cursor {
  uint64_t revision = 0;
  uint64_t query_hash = 0;
  double key = 0;
  std::string id;
  int64_t total = -1;  // the walk's matches, -1 when not counted yet
};

std::string EncodeCursor(const Cursor& c) {
  return absl::WebSafeBase64Escape(absl::StrCat(c.total >= 0 ? absl::StrCat("t", c.total, "|") : "",
                                                c.revision, "|", c.query_hash, "|",
                                                absl::StrFormat("%a", c.key), "|", c.id));
}

bool DecodeCursor(absl::string_view token, Cursor* c) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) return false;
  absl::string_view rest = raw;
  if (absl::ConsumePrefix(&rest, "t")) {
    size_t bar = rest.find('|');
    if (bar == absl::string_view::npos || !absl::SimpleAtoi(rest.substr(0, bar), &c->total) ||
        c->total < 0) {
      return false;
    }
    rest.remove_prefix(bar + 1);
  }
  std::vector<absl::string_view> parts = absl::StrSplit(rest, absl::MaxSplits('|', 3));
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

// The end of a page read in its order: the first `wanted` (key, id) of the matches found so far
// (the page's and one more, which tells that there is a next page). Once it is full, nothing
// that comes after its last can be on the page. The ids are views of the versions' blocks.
class PageEnd {
 public:
  explicit PageEnd(int page_size) : wanted_(static_cast<size_t>(page_size) + 1) {}
  void Add(double key, absl::string_view id) {
    lowest_.emplace(key, id);
    if (lowest_.size() > wanted_) lowest_.pop();
  }
  bool full() const { return lowest_.size() == wanted_; }
  // The last (key, id) so far; only when full().
  double key() const { return lowest_.top().first; }
  absl::string_view id() const { return lowest_.top().second; }

 private:
  size_t wanted_;
  std::priority_queue<std::pair<double, absl::string_view>> lowest_;  // by key, then id
};

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

// What a request asks of its page, beyond the filters.
struct PageRequest {
  int page_size = kDefaultPageSize;
  FieldSet fields = kAllFields;  // of each offer returned (the read mask)
  uint64_t query_hash = 0;       // of the filters and sort, which a walk's pages share
  bool has_cursor = false;       // a later page of a walk
  Cursor cursor;
};

// Checks every field of the request (before the index's lock is taken): INVALID_ARGUMENT names
// the first bad one.
absl::StatusOr<PageRequest> CheckRequest(const v1::SearchOffersRequest& r) {
  PageRequest page;
  page.page_size = r.page_size() == 0 ? kDefaultPageSize : r.page_size();
  if (page.page_size < 0 || page.page_size > kMaxPageSize) {
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
  page.fields = *fields;
  page.query_hash = QueryHash(r);
  page.has_cursor = !r.page_token().empty();
  if (page.has_cursor && (!DecodeCursor(r.page_token(), &page.cursor) || page.cursor.query_hash != page.query_hash)) {
    return Invalid("page_token", "does not belong to this query (filters and sort must stay the same)");
  }
  return page;
}

// The map cells covering a box (at most 100,000).
std::vector<uint64_t> CellsOfBox(double s, double w, double n, double e) {
  std::vector<uint64_t> cells;
  double lat0 = std::floor(std::max(-90.0, s) * 10) / 10, lon0 = std::floor(std::max(-180.0, w) * 10) / 10;
  for (double lat = lat0; lat <= n + 1e-9 && cells.size() < 100000; lat += 0.1) {
    for (double lon = lon0; lon <= e + 1e-9 && cells.size() < 100000; lon += 0.1) {
      cells.push_back(CellOf(lat + 0.05, lon + 0.05));
    }
  }
  return cells;
}

}  // namespace

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

// A match of a search: the version, its sort key, distance and relevance.
struct OfferIndex::Match {
  uint32_t ordinal;
  double key;
  double distance;
  double relevance;
  uint64_t id_prefix = 0;  // IdPrefix of its id, once SortPage has read it
};

// Where a query's candidates come from: the two smallest sources, each a union of posting lists
// (`best_disjoint`: no version is in two lists of the smallest, so none needs deduplicating);
// and the circle's reach in degrees, with the map cells covering it when it is not too wide.
struct OfferIndex::Plan {
  std::vector<uint64_t> best_keys, second_keys;
  size_t best = std::numeric_limits<size_t>::max(), second = std::numeric_limits<size_t>::max();
  bool best_disjoint = true;
  double near_dlat = 0, near_dlon = 0;
  bool near_lon_box = false;  // whether a longitude band bounds the circle (not across +-180)
  // The cosine of the band's latitude farthest from the equator, when a flat distance is a safe
  // first test (0 otherwise): see Checker.
  double near_min_cos = 0;
  std::vector<uint64_t> near_cells;
};

size_t OfferIndex::ListSize(uint64_t key) const {
  auto it = postings_.find(key);
  return it == postings_.end() ? 0 : it->second.size();
}

std::vector<uint64_t> OfferIndex::WordKeys(absl::Span<const uint32_t> ids) {
  std::vector<uint64_t> keys;
  keys.reserve(2 * ids.size());
  for (uint32_t w : ids) keys.push_back(Key(kTitleWord, w)), keys.push_back(Key(kBodyWord, w));
  return keys;
}

OfferIndex::Query OfferIndex::ResolveQuery(const v1::SearchOffersRequest& r) const {
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
  auto exact = [&](const std::string& value, const KeyedSet<std::string>& set, uint32_t* out) {
    if (value.empty()) return;
    *out = LookupIn(set, value);
    if (*out == Query::kUnknown || *out == 0) q.impossible = true;
  };
  exact(r.provider_id(), provider_ids_, &q.provider);
  exact(r.commune().empty() ? "" : NormalizePlaceName(r.commune()), strings_, &q.commune);
  exact(r.insee_code(), strings_, &q.insee);
  exact(r.postcode(), strings_, &q.postcode);
  exact(r.departement(), strings_, &q.departement);
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
  return q;
}

OfferIndex::Plan OfferIndex::PlanCircle(const Query& q) {
  Plan plan;
  if (q.has_near) {
    plan.near_dlat = q.radius_km / 111.19;
    double coslat = std::max(0.01, std::cos(std::min(89.0, std::abs(q.near_lat) + plan.near_dlat) * M_PI / 180));
    plan.near_dlon = std::min(180.0, q.radius_km / (111.19 * coslat));
    plan.near_lon_box = q.near_lon - plan.near_dlon > -180 && q.near_lon + plan.near_dlon < 180;
    if (plan.near_lon_box && std::abs(q.near_lat) + plan.near_dlat < 70 && q.radius_km <= 200) {
      plan.near_min_cos = coslat;
    }
    if (q.near_lat + plan.near_dlat < 90 && q.near_lat - plan.near_dlat > -90 && plan.near_lon_box &&
        plan.near_dlat * plan.near_dlon < 400) {
      plan.near_cells = CellsOfBox(q.near_lat - plan.near_dlat, q.near_lon - plan.near_dlon,
                                   q.near_lat + plan.near_dlat, q.near_lon + plan.near_dlon);
    }
  }
  return plan;
}

void OfferIndex::PlanSources(const Query& q, Plan* plan) const {
  auto consider = [&](std::vector<uint64_t> keys, bool disjoint) {
    size_t total = 0;
    for (uint64_t k : keys) total += ListSize(k);
    if (total < plan->best) {
      plan->second = plan->best;
      plan->second_keys = std::move(plan->best_keys);
      plan->best = total;
      plan->best_keys = std::move(keys);
      plan->best_disjoint = disjoint;
    } else if (total < plan->second) {
      plan->second = total;
      plan->second_keys = std::move(keys);
    }
  };
  auto keys_of = [](PostingType type, const auto& values) {
    std::vector<uint64_t> keys;
    for (auto v : values) keys.push_back(Key(type, static_cast<uint64_t>(v)));
    return keys;
  };
  // The kinds or sub-kinds the query allows, for the paired keys.
  std::vector<std::pair<PostingType, uint64_t>> kind_parts;  // (kKindCell or kSubKindCell, value)
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
  for (const auto& ids : q.words) consider(WordKeys(ids), ids.size() == 1);
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
  if (!plan->near_cells.empty()) consider_cells(plan->near_cells);
  if (q.has_box && q.west <= q.east && (q.north - q.south) * (q.east - q.west) < 400) {
    consider_cells(CellsOfBox(q.south, q.west, q.north, q.east));
  }
}

// Checks every filter of the query on a version, the first line of its packed facts first, then
// their second line and its version's block when the query asks for what they hold, and records
// each version that passes as a match with its sort key.
class OfferIndex::Checker {
 public:
  Checker(const OfferIndex& index, const Query& q, const Plan& plan, uint64_t as_of,
          v1::SortOrder sort, std::vector<Match>* matches, int64_t* checked)
      : index_(index),
        q_(q),
        plan_(plan),
        as_of_(as_of),
        sort_(sort),
        from_near_(q.near_lat, q.near_lon),
        matches_(matches),
        checked_(checked),
        tags_all_bits_(index.TagBits(q.tags_all)),
        tags_any_bits_(index.TagBits(q.tags_any)),
        // Tags are read from the packed facts when each of the query's has a bit there.
        tags_from_bits_(std::popcount(tags_all_bits_) == static_cast<int>(q.tags_all.size()) &&
                        std::popcount(tags_any_bits_) == static_cast<int>(q.tags_any.size())),
        reads_block_(!tags_from_bits_ || !q.labels.empty() || !q.words.empty()),
        // A query that reads the block takes prices, periods and update time from there too (the
        // block's first line and the version's, which it reads anyway).
        reads_second_line_(
            q.provider || (tags_from_bits_ && (tags_all_bits_ | tags_any_bits_) != 0) ||
            (!reads_block_ &&
             (q.has_price || q.has_open || sort == v1::SORT_ORDER_PRICE_ASCENDING ||
              sort == v1::SORT_ORDER_PRICE_DESCENDING || sort == v1::SORT_ORDER_UPDATE_TIME))) {
    // Each query word's ids (sorted) with their inverse document frequency, worked out once.
    const double n_docs = static_cast<double>(std::max<size_t>(1, index.live_.size()));
    word_idf_.resize(q.words.size());
    word_max_idf_.resize(q.words.size(), 0.0);
    for (size_t i = 0; i < q.words.size(); ++i) {
      for (uint32_t w : q.words[i]) {
        auto df = static_cast<double>(index.ListSize(Key(kTitleWord, w)) +
                                      index.ListSize(Key(kBodyWord, w)));
        word_idf_[i].emplace_back(w, std::log(1 + n_docs / (1 + df)));
        word_max_idf_[i] = std::max(word_max_idf_[i], word_idf_[i].back().second);
      }
    }
  }

  // Per query word: its ids with their idf (by id), and the highest of those idf. A version's
  // relevance is the sum over the query's words of the heaviest of its ids the version holds: twice
  // its idf in the title, its idf in the body.
  const std::vector<std::vector<std::pair<uint32_t, double>>>& word_idf() const {
    return word_idf_;
  }
  const std::vector<double>& word_max_idf() const { return word_max_idf_; }

  void operator()(uint32_t o) const {
    ++*checked_;
    if (PassesHot(o)) CheckVersion(o);
  }

  // Asks for what checking version `o` will read (for a caller that checks it a little later).
  void Prefetch(uint32_t o) const {
    const Hot* h = &index_.hot_[o];
    __builtin_prefetch(h);
    if (reads_second_line_) __builtin_prefetch(&h->provider);
    if (reads_block_) __builtin_prefetch(&index_.versions_[o]);
  }

  // Whether version `o` passes the filters its packed facts (hot_) answer alone: its revision,
  // kinds, capacity, classification, place codes, and the query's circle roughly.
  bool PassesHot(uint32_t o) const {
    const Query& q = q_;
    const Hot& h = index_.hot_[o];
    if (h.born > as_of_ || as_of_ >= h.died) return false;
    if (!q.sub_kinds.empty() &&
        std::find(q.sub_kinds.begin(), q.sub_kinds.end(), h.sub_kind) == q.sub_kinds.end()) {
      return false;
    }
    if (!q.kinds.empty() && std::find(q.kinds.begin(), q.kinds.end(), h.kind) == q.kinds.end()) {
      return false;
    }
    if (q.persons > 0 &&
        (h.max_persons == 0 || h.max_persons < q.persons || h.min_persons > q.persons)) {
      return false;
    }
    if (q.min_class > 0 && (h.class_level < q.min_class ||
                            (q.class_scheme != 0 && h.class_scheme != q.class_scheme))) {
      return false;
    }
    if (q.commune && h.commune != q.commune) return false;
    if (q.insee && h.insee != q.insee) return false;
    if (q.postcode && h.postcode != q.postcode) return false;
    if (q.departement && h.departement != q.departement) return false;
    if (q.has_near) {
      if (!h.has_location || std::abs(h.lat - q.near_lat) > plan_.near_dlat + 0.01) return false;
      if (plan_.near_lon_box && std::abs(h.lon - q.near_lon) > plan_.near_dlon + 0.01) return false;
      if (plan_.near_min_cos > 0) {
        // A flat distance from the packed coordinates, with the band's smallest cosine, turns
        // away most candidates outside the circle without reading their version (a cache miss)
        // or any trigonometry; its margin (5 % and 100 m) is far above its error within 200 km
        // and below 70° of latitude.
        const double dy = h.lat - q.near_lat, dx = (h.lon - q.near_lon) * plan_.near_min_cos;
        const double reach_deg = (q.radius_km * 1.05 + 0.1) / 111.19;
        if (dx * dx + dy * dy > reach_deg * reach_deg) return false;
      }
    }
    if (q.has_box && !h.has_location) return false;
    return true;
  }

  // The rest of the checks of a version that passed PassesHot, from the second line of its packed
  // facts, and from its version's block for what they lack; records it as a match if it passes
  // them all.
  void CheckVersion(uint32_t o) const {
    const Query& q = q_;
    const Hot& h = index_.hot_[o];
    const Version& v = index_.versions_[o];
    double distance = 0;
    if (q.has_near) {
      distance = from_near_.Km(h.lat, h.lon);
      if (distance > q.radius_km) return;
    }
    if (q.has_box) {
      if (h.lat < q.south || h.lat > q.north) return;
      bool inside = q.west <= q.east ? (h.lon >= q.west && h.lon <= q.east)
                                     : (h.lon >= q.west || h.lon <= q.east);
      if (!inside) return;
    }
    if (q.provider && h.provider != q.provider) return;
    if (tags_from_bits_) {
      if ((h.tags & tags_all_bits_) != tags_all_bits_) return;
      if (tags_any_bits_ != 0 && (h.tags & tags_any_bits_) == 0) return;
    } else {
      for (uint32_t t : q.tags_all)
        if (!SortedContains(v.tags(), t)) return;
      if (!q.tags_any.empty()) {
        bool any = false;
        for (uint32_t t : q.tags_any) any = any || SortedContains(v.tags(), t);
        if (!any) return;
      }
    }
    for (uint32_t l : q.labels) if (!SortedContains(v.labels(), l)) return;
    int64_t best_price = std::numeric_limits<int64_t>::max();
    int64_t top_price = -1;
    ForEachPrice(h, v, [&](int unit, int64_t min, int64_t max) {
      if (q.price_unit != 0 && unit != q.price_unit) return;
      if (q.has_price && (max < q.price_min || min > q.price_max)) return;
      best_price = std::min(best_price, min);
      top_price = std::max(top_price, min);
    });
    if (q.has_price && top_price < 0) return;
    if (q.has_open) {
      const absl::Span<const Version::Period> periods = !reads_block_ && h.n_open != kNotCopied
                                                            ? absl::MakeConstSpan(h.open, h.n_open)
                                                            : v.open();
      bool open = periods.empty();
      for (const auto& [s, e] : periods) open = open || (s <= q.open_to && e >= q.open_from);
      if (!open) return;
    }
    double relevance = relevance_;
    for (size_t i = 0; i < word_idf_.size(); ++i) {
      // A word in the title weighs twice its idf, in the body once: the body is searched only if
      // it could weigh more.
      double best_word = BestIn(word_idf_[i], v.title_words(), 2.0, 0.0);
      if (best_word < word_max_idf_[i]) {
        best_word = BestIn(word_idf_[i], v.body_words(), 1.0, best_word);
      }
      if (best_word == 0) return;
      relevance += best_word;
    }
    double key = 0;
    constexpr double kLast = std::numeric_limits<double>::infinity();
    switch (sort_) {
      case v1::SORT_ORDER_UNSPECIFIED:
      case v1::SORT_ORDER_RELEVANCE:
        key = relevance == 0 ? 0 : -relevance;
        break;
      case v1::SORT_ORDER_PRICE_ASCENDING:
        if (!q.has_price) {
          ForEachPrice(h, v, [&](int unit, int64_t min, int64_t) {
            if (q.price_unit == 0 || unit == q.price_unit) best_price = std::min(best_price, min);
          });
        }
        key = best_price == std::numeric_limits<int64_t>::max() ? kLast : static_cast<double>(best_price);
        break;
      case v1::SORT_ORDER_PRICE_DESCENDING:
        if (!q.has_price) {
          ForEachPrice(h, v, [&](int unit, int64_t min, int64_t) {
            if (q.price_unit == 0 || unit == q.price_unit) top_price = std::max(top_price, min);
          });
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
        key = -static_cast<double>(reads_block_ ? v.update_micros : h.update_micros);
        break;
      default:
        break;
    }
    matches_->push_back({o, key, distance, relevance});
  }

  // The checks of query `without_words` (this one's, its words taken out: it must outlive the
  // result), recording matches here with relevance `relevance`: for versions known to weigh
  // that much for the query's one word, whose own words then need not be read.
  Checker WithRelevance(const Query& without_words, double relevance) const {
    Checker other(index_, without_words, plan_, as_of_, sort_, matches_, checked_);
    other.relevance_ = relevance;
    return other;
  }

  // The same checks, recording matches and the count of versions checked elsewhere: a share of
  // the candidates checked by another thread.
  Checker Into(std::vector<Match>* matches, int64_t* checked) const {
    Checker other(*this);
    other.matches_ = matches;
    other.checked_ = checked;
    return other;
  }
  // Adds what such a share recorded.
  void Add(const std::vector<Match>& matches, int64_t checked) const {
    matches_->insert(matches_->end(), matches.begin(), matches.end());
    *checked_ += checked;
  }

  // Checks a list of candidates in turn. Checking is mostly waiting for memory (a candidate's
  // facts, its version, its words, scattered over the index), and the core can wait for only so
  // many cache lines at once: so the candidates are taken in blocks, first the first line of their
  // packed facts alone (asked for a few places ahead), then, for those that passed, what else the
  // query reads: the second line, the version and its words. A candidate the first line turns
  // away costs one line; one that passes, two, unless the query has labels, words or tags without
  // a bit (then its version and block too).
  void InTurn(absl::Span<const uint32_t> list) const {
    constexpr size_t kBlock = 256, kHotAhead = 16, kAhead = 12, kNear = 4;
    uint32_t passed[kBlock];
    for (size_t from = 0; from < list.size(); from += kBlock) {
      const size_t to = std::min(list.size(), from + kBlock);
      size_t n = 0;
      for (size_t i = from; i < to; ++i) {
        if (i + kHotAhead < list.size()) __builtin_prefetch(&index_.hot_[list[i + kHotAhead]]);
        if (PassesHot(list[i])) passed[n++] = list[i];
      }
      *checked_ += static_cast<int64_t>(to - from);
      for (size_t j = 0; j < n; ++j) {
        if (j + kAhead < n) {
          if (reads_second_line_) __builtin_prefetch(&index_.hot_[passed[j + kAhead]].provider);
          if (reads_block_) __builtin_prefetch(&index_.versions_[passed[j + kAhead]]);
        }
        if (reads_block_ && j + kNear < n) {
          const Version& v = index_.versions_[passed[j + kNear]];
          __builtin_prefetch(v.data);  // prices, then the facts
          __builtin_prefetch(v.facts().data());
        }
        CheckVersion(passed[j]);
      }
    }
  }

 private:
  // Calls f(unit, min, max) for each price of version `v` (packed facts `h`), read from the packed
  // facts when they hold a copy and the query does not read the block anyway.
  template <typename F>
  void ForEachPrice(const Hot& h, const Version& v, F f) const {
    if (!reads_block_ && h.n_prices != kNotCopied) {
      for (int i = 0; i < h.n_prices; ++i)
        f(int{h.price_unit[i]}, int64_t{h.price_min[i]}, int64_t{h.price_max[i]});
    } else {
      for (const auto& p : v.prices()) f(p.unit, p.min, p.max);
    }
  }

  // The best weight of a query word (`ids`, with their idf, by id) among `words` (sorted,
  // unique), or `best` if higher. Walks the shorter list and searches the longer one from where
  // the last search ended: a word (or its few prefix variants) against a description's hundred
  // words.
  static double BestIn(const std::vector<std::pair<uint32_t, double>>& ids,
                       absl::Span<const uint32_t> words, double weight, double best) {
    if (ids.size() <= words.size()) {
      const uint32_t* from = words.data();
      const uint32_t* end = words.data() + words.size();
      for (const auto& [id, idf] : ids) {
        from = std::lower_bound(from, end, id);
        if (from == end) break;
        if (*from == id) best = std::max(best, weight * idf);
      }
    } else {
      auto from = ids.begin();
      for (uint32_t w : words) {
        from = std::lower_bound(from, ids.end(), w, [](const auto& e, uint32_t x) { return e.first < x; });
        if (from == ids.end()) break;
        if (from->first == w) best = std::max(best, weight * from->second);
      }
    }
    return best;
  }

  const OfferIndex& index_;
  const Query& q_;
  const Plan& plan_;
  const uint64_t as_of_;
  const v1::SortOrder sort_;
  const DistancesFrom from_near_;  // the query's point, when it has one
  std::vector<std::vector<std::pair<uint32_t, double>>> word_idf_;  // per query word: (id, idf), by id
  std::vector<double> word_max_idf_;  // per query word: the highest idf of its ids
  std::vector<Match>* matches_;
  int64_t* checked_;
  double relevance_ = 0;  // what every match weighs before its words are read (see WithRelevance)
  const uint64_t tags_all_bits_, tags_any_bits_;  // the bits of the query's tags that have one
  const bool tags_from_bits_;  // every tag of the query has a bit: the packed facts answer for tags
  const bool reads_block_;     // the query reads every candidate's block (tags, labels, words)
  const bool reads_second_line_;  // the query reads the packed facts' second line
};

template <typename List>
std::vector<const List*> OfferIndex::FindLists(const absl::flat_hash_map<uint64_t, List>& lists,
                                               const std::vector<int>& sub_kinds, int unit_or_level,
                                               const std::vector<uint64_t>& cells) {
  // Hundreds of lists for a wide circle or a département, each a few cache misses away (the
  // map's slot, then the list's first entries): each step is asked of every list before the
  // next step reads any, so that the misses overlap instead of following one another.
  std::vector<uint64_t> keys;
  keys.reserve(sub_kinds.size() * cells.size());
  for (int sub_kind : sub_kinds) {
    for (uint64_t cell : cells) keys.push_back(OrderedKey(sub_kind, unit_or_level, cell));
  }
  for (uint64_t key : keys) lists.prefetch(key);
  std::vector<const List*> found;
  found.reserve(keys.size());
  for (uint64_t key : keys) {
    auto it = lists.find(key);
    if (it == lists.end() || it->second.empty()) continue;
    found.push_back(&it->second);
    __builtin_prefetch(it->second.data());
    __builtin_prefetch(reinterpret_cast<const char*>(it->second.data()) + 64);
  }
  return found;
}

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

bool OfferIndex::PageByPrice(const Query& q, int page_size, const std::vector<uint64_t>& near_cells,
                             bool has_cursor, double after_price, const std::string& after_id,
                             const Checker& check, std::vector<Match>* matches) const {
  // Without a lower bound to the price range, an offer's key is the lowest price it is listed
  // at (the cheapest of its prices in the unit is in the range if any is), so the entries up to
  // the cursor hold none of the page; offers without a price in the unit come after every list.
  if (has_cursor && (q.price_min > 0 || !(after_price < std::numeric_limits<double>::infinity()))) {
    return false;
  }
  std::vector<uint64_t> cells;
  if (q.sub_kinds.empty() || !OrderedCells(q, near_cells, &cells)) return false;
  const uint64_t after_prefix = IdPrefix(after_id);
  // Every list of the query's sub-kinds, unit and cells (each by price, then id), merged
  // cheapest first. A version's key for the query is never below its price in the list (a price
  // range can only set aside its cheapest prices), so once `page_size + 1` matches are found, a
  // list whose next (price, id) comes after the last of them holds nothing more for the page.
  struct Head {
    double price;
    const Priced* at;
    const Priced* end;
  };
  auto later = [](const Head& a, const Head& b) { return a.price > b.price; };
  std::vector<Head> heads;
  for (const std::vector<Priced>* list : FindLists(priced_, q.sub_kinds, q.price_unit, cells)) {
    const Priced* at = list->data();
    if (has_cursor) {  // the first entry after the cursor's (price, id)
      at += std::upper_bound(
                list->begin(), list->end(), after_price,
                [&](double x, const Priced& e) {
                  return x < e.price ||
                         (x == e.price && IdBefore(after_prefix, after_id, e.id_prefix, e.ordinal));
                }) -
            list->begin();
    }
    if (at != list->data() + list->size())
      heads.push_back({at->price, at, list->data() + list->size()});
  }
  std::make_heap(heads.begin(), heads.end(), later);
  PageEnd end(page_size);
  while (!heads.empty()) {
    std::pop_heap(heads.begin(), heads.end(), later);
    Head& head = heads.back();
    bool list_done = false;
    if (end.full() && head.price >= end.key()) {
      if (head.price > end.key()) return true;
      // A later id at the page's last price: so are the list's next entries.
      const absl::string_view last_id = end.id();
      list_done = IdBefore(IdPrefix(last_id), last_id, head.at->id_prefix, head.at->ordinal);
    }
    // Offers too small for the group fail check() too: passed over without reading their facts.
    if (!list_done && (q.persons <= 0 || head.at->max_persons >= q.persons)) {
      size_t before = matches->size();
      check(head.at->ordinal);
      if (matches->size() > before) {
        end.Add(matches->back().key, versions_[matches->back().ordinal].id());
      }
    }
    if (list_done || ++head.at == head.end) {
      heads.pop_back();
    } else {
      head.price = head.at->price;
      // This list's next turn finds its next entries, and what checking the next one reads, on
      // their way (unless the group is too big for it: it is passed over then).
      if (head.end - head.at > 4) __builtin_prefetch(head.at + 4);
      if (q.persons <= 0 || head.at->max_persons >= q.persons) check.Prefetch(head.at->ordinal);
      std::push_heap(heads.begin(), heads.end(), later);
    }
  }
  // Every list read: complete, unless offers without a price in the unit may match (they come last).
  return end.full() || q.has_price;
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

void OfferIndex::MergeIdLists(const std::vector<int>& sub_kinds, const std::vector<uint64_t>& cells, int level,
                              const std::string& after_id, size_t wanted, const Checker& check,
                              std::vector<Match>* matches) const {
  // Heads compare by their entries' id prefixes, and read their ids only when those are equal.
  struct Head {
    uint64_t prefix;
    const ById* at;
    const ById* end;
  };
  auto later = [this](const Head& a, const Head& b) {
    return a.prefix != b.prefix ? a.prefix > b.prefix
                                : versions_[a.at->ordinal].id() > versions_[b.at->ordinal].id();
  };
  std::vector<Head> heads;
  const uint64_t after_prefix = IdPrefix(after_id);
  for (const std::vector<ById>* ids : FindLists(by_id_, sub_kinds, level, cells)) {
    auto from = after_id.empty()
                    ? ids->begin()
                    : std::upper_bound(ids->begin(), ids->end(), after_id,
                                       [&](const std::string& id, const ById& e) {
                                         return IdBefore(after_prefix, id, e.id_prefix, e.ordinal);
                                       });
    if (from == ids->end()) continue;
    heads.push_back({from->id_prefix, &*from, ids->data() + ids->size()});
  }
  std::make_heap(heads.begin(), heads.end(), later);
  while (!heads.empty() && matches->size() < wanted) {
    std::pop_heap(heads.begin(), heads.end(), later);
    Head& head = heads.back();
    check(head.at->ordinal);
    if (++head.at == head.end) {
      heads.pop_back();
    } else {
      head.prefix = head.at->id_prefix;
      // Checked at this list's next turn.
      check.Prefetch(head.at->ordinal);
      if (head.end - head.at > 4) __builtin_prefetch(head.at + 4);
      std::push_heap(heads.begin(), heads.end(), later);
    }
  }
}

bool OfferIndex::PageById(const Query& q, int page_size, const std::vector<uint64_t>& near_cells,
                          const std::string& after_id, const Checker& check, std::vector<Match>* matches) const {
  std::vector<int> sub_kinds;
  std::vector<uint64_t> cells;
  if (!IdListSources(q, near_cells, &sub_kinds, &cells)) return false;
  // The first page_size + 1 matches are the page and tell whether there is a next one.
  MergeIdLists(sub_kinds, cells, /*level=*/0, after_id, static_cast<size_t>(page_size) + 1, check, matches);
  return true;
}

bool OfferIndex::PageByClassification(const Query& q, int page_size, const std::vector<uint64_t>& near_cells,
                                      int from_level, const std::string& after_id, const Checker& check,
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

bool OfferIndex::PageByDistance(const Query& q, int page_size,
                                const std::vector<uint64_t>& near_cells, bool has_cursor,
                                double after_km, const std::string& after_id, const Checker& check,
                                std::vector<Match>* matches) const {
  std::vector<int> sub_kinds;
  std::vector<uint64_t> cells;
  if (!q.has_near || !IdListSources(q, near_cells, &sub_kinds, &cells)) return false;
  // The circle's cells, nearest first: none holds a version nearer than its bound.
  const DistancesFrom from(q.near_lat, q.near_lon);
  std::vector<std::pair<double, uint64_t>> by_bound;
  by_bound.reserve(cells.size());
  for (uint64_t cell : cells) {
    double south, west;
    CellCorner(cell, &south, &west);
    // A later page passes over the cells wholly nearer than its cursor: their matches were on
    // earlier pages.
    if (has_cursor && from.FarthestKm(south, west, south + 0.1, west + 0.1) < after_km) continue;
    by_bound.emplace_back(from.NearestKm(south, west, south + 0.1, west + 0.1), cell);
  }
  std::sort(by_bound.begin(), by_bound.end());
  // Of the matches after the cursor: once the page's end is found, a cell whose bound is beyond
  // it holds nothing for the page.
  PageEnd end(page_size);
  const uint64_t after_prefix = IdPrefix(after_id);
  std::vector<uint64_t> one_cell(1);
  for (const auto& [bound, cell] : by_bound) {
    if (end.full() && bound > end.key()) break;
    one_cell[0] = cell;
    for (const std::vector<ById>* ids : FindLists(by_id_, sub_kinds, /*level=*/0, one_cell)) {
      for (size_t i = 0; i < ids->size(); ++i) {
        if (i + 4 < ids->size()) check.Prefetch((*ids)[i + 4].ordinal);
        const size_t before = matches->size();
        check((*ids)[i].ordinal);
        if (matches->size() == before) continue;
        const Match& m = matches->back();
        const absl::string_view id = versions_[m.ordinal].id();
        if (has_cursor &&
            (m.key < after_km ||
             (m.key == after_km && !IdBefore(after_prefix, after_id, IdPrefix(id), m.ordinal)))) {
          continue;  // on an earlier page (the caller sets it aside)
        }
        end.Add(m.key, id);
      }
    }
  }
  return true;  // every cell read, or the rest beyond the page
}

bool OfferIndex::PageByRelevance(const Query& q, const Plan& plan, int page_size, bool has_cursor,
                                 double after_key, const std::string& after_id,
                                 const Checker& check, std::vector<Match>* matches) const {
  constexpr size_t kFew = 4096;  // candidates cheaper to check every one than to read in order
  if (plan.best <= kFew || q.words.empty()) return false;
  // The word read in order: the one in the fewest versions.
  size_t driver = 0, driver_size = std::numeric_limits<size_t>::max();
  for (size_t i = 0; i < q.words.size(); ++i) {
    size_t size = 0;
    for (uint64_t key : WordKeys(q.words[i])) size += ListSize(key);
    if (size < driver_size) driver = i, driver_size = size;
  }
  // Its lists, heaviest first: a version weighs, for that word, what its heaviest list does (twice
  // an id's idf in the title list, once in the body list).
  struct Tier {
    double weight;
    const PostingList* list;
  };
  std::vector<Tier> tiers;
  for (const auto& [w, idf] : check.word_idf()[driver]) {
    for (const auto& [type, weight] : {std::pair{kTitleWord, 2.0}, std::pair{kBodyWord, 1.0}}) {
      auto it = postings_.find(Key(type, w));
      if (it != postings_.end() && !it->second.empty())
        tiers.push_back({weight * idf, &it->second});
    }
  }
  // With a single list, every version holding the word is read: the sources' intersection does it.
  if (tiers.size() < 2) return false;
  std::stable_sort(tiers.begin(), tiers.end(),
                   [](const Tier& a, const Tier& b) { return a.weight > b.weight; });
  // Once lists 0 to k are read, a version in none of them weighs at most list k + 1's weight for
  // that word, plus the most the other words can add: bound[k] (a hair above it, for the sums'
  // rounding; no version is left unread after the last list).
  double others = 0;
  for (size_t i = 0; i < q.words.size(); ++i) {
    if (i != driver) others += 2.0 * check.word_max_idf()[i];
  }
  std::vector<double> bound(tiers.size());
  for (size_t k = 0; k < tiers.size(); ++k) {
    if (k + 1 == tiers.size()) {
      bound[k] = -std::numeric_limits<double>::infinity();
    } else {
      const double most = tiers[k + 1].weight + others;
      bound[k] = most + 1e-9 * (1 + std::abs(most));
    }
  }
  // The smallest source of the other filters, when it is small enough to be marked and the lists
  // read only where they meet it; otherwise the marks tell the versions already checked (a version
  // may be in the lists of several of the word's ids).
  Query rest = q;
  rest.words.erase(rest.words.begin() + static_cast<long>(driver));
  Plan other = plan;
  other.best = other.second = std::numeric_limits<size_t>::max();
  other.best_keys.clear(), other.second_keys.clear();
  PlanSources(rest, &other);
  const bool meet =
      other.best != std::numeric_limits<size_t>::max() && other.best / 32 <= driver_size;
  std::vector<uint64_t> marks((versions_.size() + 63) / 64, 0);
  if (meet) {
    for (uint64_t k : other.best_keys) {
      auto it = postings_.find(k);
      if (it != postings_.end())
        for (uint32_t o : it->second) marks[o >> 6] |= uint64_t{1} << (o & 63);
    }
  }
  // Matches after the cursor known to come before every unread version: `above` once the lists
  // read so far are, `later[k]` the further ones once list k is (their relevance above bound[k]).
  const size_t wanted = static_cast<size_t>(page_size) + 1;
  size_t above = 0;
  std::vector<size_t> later(tiers.size(), 0);
  std::vector<uint32_t> candidates;
  // With one query word, a version first found in list k weighs that list's weight: its words
  // need not be read.
  Query without_words = q;
  without_words.words.clear();
  for (size_t k = 0; k < tiers.size(); ++k) {
    above += later[k];
    candidates.clear();
    for (uint32_t o : *tiers[k].list) {
      uint64_t& word = marks[o >> 6];
      const uint64_t bit = uint64_t{1} << (o & 63);
      if (meet) {
        if (!(word & bit)) continue;
        word &= ~bit;
      } else {
        if (word & bit) continue;
        word |= bit;
      }
      candidates.push_back(o);
    }
    const size_t before = matches->size();
    const absl::Span<const uint32_t> part(candidates);
    CheckParts(absl::MakeConstSpan(&part, 1),
               q.words.size() == 1 ? check.WithRelevance(without_words, tiers[k].weight) : check);
    for (size_t m = before; m < matches->size(); ++m) {
      const Match& match = (*matches)[m];
      if (has_cursor && (match.key < after_key ||
                         (match.key == after_key && versions_[match.ordinal].id() <= after_id))) {
        continue;  // on an earlier page
      }
      // The first k, from this one on, after whose list this match is known to come before
      // every version still unread (its relevance above bound[k]).
      const size_t from = static_cast<size_t>(
          std::partition_point(bound.begin() + static_cast<long>(k), bound.end(),
                               [&](double b) { return b >= match.relevance; }) -
          bound.begin());
      if (from == k) {
        ++above;
      } else if (from < tiers.size()) {
        ++later[from];
      }
    }
    if (above >= wanted) return true;
  }
  return true;  // every version holding the word checked
}

void OfferIndex::CheckPlanned(const Plan& plan, const Checker& check) const {
  std::vector<uint32_t> gathered;  // candidates from several lists, or every version
  std::vector<absl::Span<const uint32_t>> parts;
  if (plan.best == std::numeric_limits<size_t>::max()) {  // no filter has a posting list: scan all
    gathered.resize(hot_.size());
    std::iota(gathered.begin(), gathered.end(), uint32_t{0});
  } else if (plan.best > 4096 && plan.second / 32 <= plan.best) {
    // Mark the smallest source's versions, then check those of the second source that are marked
    // (each once: its mark is cleared), rather than every version of the smallest.
    std::vector<uint64_t> marked((versions_.size() + 63) / 64, 0);
    for (uint64_t k : plan.best_keys) {
      auto it = postings_.find(k);
      if (it != postings_.end()) for (uint32_t o : it->second) marked[o >> 6] |= uint64_t{1} << (o & 63);
    }
    for (uint64_t k : plan.second_keys) {
      auto it = postings_.find(k);
      if (it == postings_.end()) continue;
      for (uint32_t o : it->second) {
        uint64_t bit = uint64_t{1} << (o & 63);
        if (!(marked[o >> 6] & bit)) continue;
        marked[o >> 6] &= ~bit;
        gathered.push_back(o);
      }
    }
  } else if (plan.best_disjoint) {
    for (uint64_t k : plan.best_keys) {
      auto it = postings_.find(k);
      if (it != postings_.end()) parts.emplace_back(it->second);
    }
  } else {
    gathered.reserve(plan.best);
    for (uint64_t k : plan.best_keys) {
      auto it = postings_.find(k);
      if (it != postings_.end()) gathered.insert(gathered.end(), it->second.begin(), it->second.end());
    }
    std::sort(gathered.begin(), gathered.end());
    gathered.erase(std::unique(gathered.begin(), gathered.end()), gathered.end());
  }
  if (!gathered.empty()) parts.emplace_back(gathered);
  CheckParts(parts, check);
}

void OfferIndex::CheckParts(absl::Span<const absl::Span<const uint32_t>> parts, const Checker& check) const {
  size_t total = 0;
  for (absl::Span<const uint32_t> part : parts) total += part.size();
  // Checks the candidates [from, to) of the parts taken one after the other.
  auto check_range = [parts](size_t from, size_t to, const Checker& checker) {
    size_t at = 0;
    for (absl::Span<const uint32_t> part : parts) {
      const size_t begin = std::max(from, at), end = std::min(to, at + part.size());
      if (begin < end) checker.InTurn(part.subspan(begin - at, end - begin));
      at += part.size();
    }
  };
  // Checking is waiting for memory: the helper thread's core waits for other candidates
  // alongside. Below a few thousand candidates (a few hundred microseconds), waking it costs more
  // than it saves. Both threads take the candidates in runs, each the next run not yet taken, so
  // that a helper that starts late (its core busy) or runs slower takes fewer.
  constexpr size_t kShareFrom = 4096, kRun = 1024;
  if (total >= kShareFrom) {
    std::atomic<size_t> next{0};
    auto check_runs = [&](const Checker& checker) {
      for (size_t from = next.fetch_add(kRun); from < total; from = next.fetch_add(kRun)) {
        check_range(from, std::min(total, from + kRun), checker);
      }
    };
    std::vector<Match> helper_matches;
    int64_t helper_checked = 0;
    const Checker helper_check = check.Into(&helper_matches, &helper_checked);
    // The helper reads the index under this thread's reader lock, held until Wait() returns.
    if (helper_.TryStart([&] { check_runs(helper_check); })) {
      check_runs(check);
      helper_.Wait();
      check.Add(helper_matches, helper_checked);
      return;
    }
  }
  check_range(0, total, check);
}

std::vector<v1::Facet> OfferIndex::Facets(const std::vector<Match>& matches) const {
  // Counted by the index's own values (the packed facts' small numbers, interned ids), named once
  // at the end: tens of thousands of matches cost a few array or map increments each.
  std::array<int64_t, 256> kinds{}, sub_kinds{}, levels{};
  std::array<int64_t, 64> tag_bits{};  // matches per tag bit, for those whose bits list every tag
  absl::flat_hash_map<uint32_t, int64_t> tags, communes;
  const size_t n = matches.size();
  constexpr size_t kAhead = 8, kNear = 4;
  for (size_t i = 0; i < n; ++i) {
    // The packed facts of the matches a few places ahead, then the versions of those whose tags
    // are not all in them, on their way.
    if (i + kAhead < n) {
      const Hot* ahead = &hot_[matches[i + kAhead].ordinal];
      __builtin_prefetch(ahead);
      __builtin_prefetch(&ahead->tags);
    }
    if (i + kNear < n && !hot_[matches[i + kNear].ordinal].tags_in_bits) {
      __builtin_prefetch(&versions_[matches[i + kNear].ordinal]);
    }
    const uint32_t o = matches[i].ordinal;
    const Hot& h = hot_[o];
    ++kinds[h.kind];
    ++sub_kinds[h.sub_kind];
    ++levels[h.class_level];
    if (h.insee) ++communes[h.insee];
    if (h.tags_in_bits) {
      for (uint64_t bits = h.tags; bits != 0; bits &= bits - 1)
        ++tag_bits[static_cast<size_t>(std::countr_zero(bits))];
    } else {
      for (uint32_t t : versions_[o].tags()) ++tags[t];
    }
  }
  for (size_t b = 0; b < tag_bits.size(); ++b) {
    if (tag_bits[b] > 0) tags[tag_of_bit_[b]] += tag_bits[b];
  }
  std::vector<v1::Facet> facets;
  // The top 50 values by count (then by name) of a count per value.
  auto facet = [&](const std::string& name, std::vector<std::pair<std::string, int64_t>> counts) {
    std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
      return a.second != b.second ? a.second > b.second : a.first < b.first;
    });
    v1::Facet f;
    f.set_name(name);
    for (size_t i = 0; i < counts.size() && i < 50; ++i) {
      v1::FacetCount* c = f.add_counts();
      c->set_value(counts[i].first);
      c->set_count(counts[i].second);
    }
    facets.push_back(std::move(f));
  };
  auto named = [](const std::array<int64_t, 256>& counts, auto name_of) {
    std::vector<std::pair<std::string, int64_t>> out;
    for (size_t v = 0; v < counts.size(); ++v) {
      if (counts[v] > 0) out.emplace_back(name_of(static_cast<int>(v)), counts[v]);
    }
    return out;
  };
  auto interned = [&](const absl::flat_hash_map<uint32_t, int64_t>& counts) {
    std::vector<std::pair<std::string, int64_t>> out;
    out.reserve(counts.size());
    for (const auto& [id, count] : counts) out.emplace_back(names_[id], count);
    return out;
  };
  facet("kind", named(kinds, [](int k) { return v1::OfferKind_Name(k); }));
  facet("sub_kind", named(sub_kinds, [](int k) { return v1::OfferSubKind_Name(k); }));
  facet("tag", interned(tags));
  facet("commune", interned(communes));
  facet("classification", named(levels, [](int level) { return absl::StrCat(level); }));
  return facets;
}

void OfferIndex::SortPage(std::vector<Match>* matches, size_t take) const {
  if (take == 0) return;
  auto begin = matches->begin();
  auto contenders_end = matches->end();
  if (matches->size() > take) {
    // Keys alone first (a heap of the `take` lowest, which few matches enter): the page holds
    // every match whose key is below that of its last, and those of the last's key that come
    // first by id.
    std::partial_sort(begin, begin + static_cast<long>(take), matches->end(),
                      [](const Match& a, const Match& b) { return a.key < b.key; });
    const double last = begin[static_cast<long>(take - 1)].key;
    contenders_end = std::partition(begin + static_cast<long>(take), matches->end(),
                                    [last](const Match& m) { return m.key == last; });
  }
  // The contenders' id prefixes, their versions (and a long id's bytes) asked for ahead.
  const size_t n = static_cast<size_t>(contenders_end - begin);
  constexpr size_t kAhead = 8;
  for (size_t i = 0; i < n; ++i) {
    if (i + 2 * kAhead < n) {
      __builtin_prefetch(&versions_[begin[static_cast<long>(i + 2 * kAhead)].ordinal]);
    }
    if (i + kAhead < n) {
      __builtin_prefetch(versions_[begin[static_cast<long>(i + kAhead)].ordinal].id().data());
    }
    Match& m = begin[static_cast<long>(i)];
    m.id_prefix = IdPrefix(versions_[m.ordinal].id());
  }
  std::partial_sort(begin, begin + static_cast<long>(take), contenders_end,
                    [this](const Match& a, const Match& b) {
                      if (a.key != b.key) return a.key < b.key;
                      if (a.id_prefix != b.id_prefix) return a.id_prefix < b.id_prefix;
                      return versions_[a.ordinal].id() < versions_[b.ordinal].id();
                    });
}

absl::StatusOr<SearchOutcome> OfferIndex::Search(const v1::SearchOffersRequest& r) const {
  absl::StatusOr<PageRequest> page = CheckRequest(r);
  if (!page.ok()) return page.status();
  const bool has_cursor = page->has_cursor;
  const Cursor& cursor = page->cursor;

  ReadLock lock(this);
  const uint64_t as_of = has_cursor ? cursor.revision : revision_;
  if (as_of < horizon_) {
    return absl::FailedPreconditionError(
        "page_token: the walk is too old and its snapshot is gone; start the search again");
  }
  if (as_of > revision_) return Invalid("page_token", "is from the future");
  const Query q = ResolveQuery(r);
  SearchOutcome out;
  out.revision = as_of;
  if (q.impossible) return out;
  Plan plan = PlanCircle(q);
  std::vector<Match> matches;
  const Checker check(*this, q, plan, as_of, r.sort(), &matches, &out.candidates);

  // Without the total count to work out (not asked for, or carried by the page token) nor facets
  // (a first page's), some pages are read in their order and stop once full.
  const int64_t known_total = has_cursor ? cursor.total : -1;
  bool read = false, planned = false;
  if ((r.skip_total_count() || known_total >= 0) && !(r.include_facets() && !has_cursor)) {
    bool no_key = (r.sort() == v1::SORT_ORDER_UNSPECIFIED || r.sort() == v1::SORT_ORDER_RELEVANCE) && q.words.empty();
    if (r.sort() == v1::SORT_ORDER_PRICE_ASCENDING) {
      read = PageByPrice(q, page->page_size, plan.near_cells, has_cursor, cursor.key, cursor.id,
                         check, &matches);
    } else if (no_key && (!has_cursor || cursor.key == 0)) {
      read = PageById(q, page->page_size, plan.near_cells, has_cursor ? cursor.id : std::string(), check, &matches);
    } else if (r.sort() == v1::SORT_ORDER_DISTANCE) {
      read = PageByDistance(q, page->page_size, plan.near_cells, has_cursor, cursor.key, cursor.id,
                            check, &matches);
    } else if (r.sort() == v1::SORT_ORDER_CLASSIFICATION &&
               (!has_cursor || (cursor.key < 0 && cursor.key >= -kTopLevel))) {
      int from_level = has_cursor ? static_cast<int>(-cursor.key) : kTopLevel;
      read = PageByClassification(q, page->page_size, plan.near_cells, from_level,
                                  has_cursor ? cursor.id : std::string(), check, &matches);
    } else if (!q.words.empty() &&
               (r.sort() == v1::SORT_ORDER_UNSPECIFIED || r.sort() == v1::SORT_ORDER_RELEVANCE)) {
      PlanSources(q, &plan);
      planned = true;
      read = PageByRelevance(q, plan, page->page_size, has_cursor, cursor.key, cursor.id, check,
                             &matches);
    }
    if (!read) matches.clear(), out.candidates = 0;
  }
  if (!read) {
    if (!planned) PlanSources(q, &plan);
    CheckPlanned(plan, check);
  }
  const int64_t total = known_total >= 0 ? known_total
                        : read           ? -1
                                         : static_cast<int64_t>(matches.size());
  out.total_count = r.skip_total_count() ? 0 : total;
  if (r.include_facets() && !has_cursor) out.facets = Facets(matches);

  // The page: matches after the cursor, in (key, id) order.
  if (has_cursor) {
    matches.erase(std::remove_if(matches.begin(), matches.end(),
                                 [&](const Match& m) {
                                   if (m.key != cursor.key) return m.key < cursor.key;
                                   return versions_[m.ordinal].id() <= cursor.id;
                                 }),
                  matches.end());
  }
  size_t take = std::min(matches.size(), static_cast<size_t>(page->page_size));
  SortPage(&matches, take);
  for (size_t i = 0; i < take; ++i) {
    const Version& v = versions_[matches[i].ordinal];
    SearchOutcome::Hit hit{{}, matches[i].distance, matches[i].relevance};
    if (page->fields == kAllFields) {
      hit.offer_bytes = std::string(v.bytes());
    } else {
      // The index's own serialization: well-formed.
      AppendFields(v.bytes(), page->fields, &hit.offer_bytes);
    }
    if (v.inherited_location && (page->fields >> v1::Offer::kLocationFieldNumber & 1)) {
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
    next.query_hash = page->query_hash;
    next.key = matches[take - 1].key;
    next.id = std::string(versions_[matches[take - 1].ordinal].id());
    next.total = r.skip_total_count() ? known_total : total;  // carried once reported
    out.next_page_token = EncodeCursor(next);
  }
  return out;
}

}  // namespace atable
