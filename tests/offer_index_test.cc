// The search index against a brute-force filter over the same catalog.
#include "server/core/offer_index.h"

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "server/core/demo_catalog.h"
#include "server/core/text.h"
#include "tests/test_util.h"

namespace atable {
namespace {

// A page token without the walk's total count it carries once counted: the next page then counts
// the matches again, reading them all (the full read pages read in their order are checked
// against).
std::string WithoutTotal(const std::string& token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw) || !absl::StartsWith(raw, "t")) return token;
  return absl::WebSafeBase64Escape(raw.substr(raw.find('|') + 1));
}

// Self-catering offers within `radius_km` of a point, by weekly price, cheapest first.
v1::SearchOffersRequest WeeklyRentalsByPrice(double lat, double lon, double radius_km) {
  v1::SearchOffersRequest q;
  q.add_sub_kinds(v1::OFFER_SUB_KIND_SELF_CATERING);
  q.mutable_near()->mutable_point()->set_latitude(lat);
  q.mutable_near()->mutable_point()->set_longitude(lon);
  q.mutable_near()->set_radius_km(radius_km);
  q.mutable_price()->set_unit(v1::PRICE_UNIT_PER_WEEK);
  q.set_sort(v1::SORT_ORDER_PRICE_ASCENDING);
  return q;
}

int32_t Day(const v1::Date& d) { return d.year() * 500 + d.month() * 40 + d.day(); }

// The documented meaning of each filter, written plainly.
bool Matches(const v1::SearchOffersRequest& q, const v1::Offer& o, const v1::Provider& p) {
  if (q.kinds_size() && std::find(q.kinds().begin(), q.kinds().end(), o.kind()) == q.kinds().end()) return false;
  if (q.sub_kinds_size() && std::find(q.sub_kinds().begin(), q.sub_kinds().end(), o.sub_kind()) == q.sub_kinds().end()) return false;
  auto has_tag = [&](const std::string& t) {
    for (const auto& x : o.tags()) if (FoldAccentsLower(x) == FoldAccentsLower(t)) return true;
    return false;
  };
  for (const auto& t : q.tags_all()) if (!has_tag(t)) return false;
  if (q.tags_any_size()) {
    bool any = false;
    for (const auto& t : q.tags_any()) any = any || has_tag(t);
    if (!any) return false;
  }
  for (const auto& l : q.labels()) {
    if (std::find(o.labels().begin(), o.labels().end(), l) == o.labels().end()) return false;
  }
  if (q.has_price()) {
    bool ok = false;
    for (const auto& pr : o.prices()) {
      if (q.price().unit() && pr.unit() != q.price().unit()) continue;
      if (pr.max_amount_cents() < q.price().min_amount_cents()) continue;
      if (q.price().max_amount_cents() && pr.min_amount_cents() > q.price().max_amount_cents()) continue;
      ok = true;
    }
    if (!ok) return false;
  }
  if (q.persons() && (o.capacity().max_persons() < q.persons() || o.capacity().min_persons() > q.persons())) return false;
  if (q.min_classification() && o.classification().level() < q.min_classification()) return false;
  if (!q.provider_id().empty() && o.provider_id() != q.provider_id()) return false;
  if (!q.insee_code().empty() && p.address().insee_code() != q.insee_code()) return false;
  if (!q.postcode().empty() && p.address().postcode() != q.postcode()) return false;
  if (!q.departement().empty() && p.address().insee_code().substr(0, 2) != q.departement()) return false;
  if (!q.commune().empty() && NormalizePlaceName(p.address().commune()) != NormalizePlaceName(q.commune())) return false;
  v1::GeoPoint at = o.has_location() ? o.location() : p.location();
  if (q.has_near() && DistanceKm(q.near().point().latitude(), q.near().point().longitude(), at.latitude(), at.longitude()) > q.near().radius_km()) return false;
  if (q.has_within() && (at.latitude() < q.within().south_west().latitude() || at.latitude() > q.within().north_east().latitude() ||
                         at.longitude() < q.within().south_west().longitude() || at.longitude() > q.within().north_east().longitude())) return false;
  if (q.has_open() && o.opening_periods_size()) {
    bool open = false;
    for (const auto& r : o.opening_periods()) open = open || (Day(r.start()) <= Day(q.open().end()) && Day(r.end()) >= Day(q.open().start()));
    if (!open) return false;
  }
  if (!q.text().empty()) {
    std::set<std::string> words;
    auto add = [&](const std::string& s) { for (auto& w : TextWords(s)) words.insert(w); };
    add(o.title());
    for (const auto& [l, d] : o.descriptions()) add(d);
    add(p.name());
    add(p.address().commune());
    std::vector<std::string> wanted = TextWords(q.text());
    for (size_t i = 0; i < wanted.size(); ++i) {
      bool found = words.count(wanted[i]) > 0;
      if (!found && i + 1 == wanted.size()) {
        auto it = words.lower_bound(wanted[i]);
        found = it != words.end() && it->rfind(wanted[i], 0) == 0;
      }
      if (!found) return false;
    }
  }
  return true;
}

class OfferIndexTest : public ::testing::Test {
 protected:
  void SetUp() override { Load(400); }

  void Load(int providers) {
    auto communes = CommuneIndex::FromCsv(testing::ReadFileOrDie(testing::ProjectPath("server/demo/cantal-communes.csv")));
    ASSERT_OK(communes);
    catalog_ = GenerateCatalog(*communes, providers, 7);
    uint64_t revision = 0;
    for (const auto& p : catalog_.providers) {
      providers_[p.id()] = p;
      index_.UpsertProvider(p, ++revision);
    }
    for (auto o : catalog_.offers) {
      o.set_etag(absl::StrCat(++revision));
      offers_[o.id()] = o;
      index_.UpsertOffer(o, revision);
    }
    index_.SetRevision(revision);
  }

  // The ids of every page of the walk of `q` (at most 1,000 pages), in order; `total` gets the
  // first page's total count.
  std::vector<std::string> WalkIds(v1::SearchOffersRequest q, int64_t* total = nullptr) {
    std::vector<std::string> ids;
    for (int page = 0; page < 1000; ++page) {
      absl::StatusOr<SearchOutcome> out = index_.Search(q);
      EXPECT_OK(out);
      if (!out.ok()) break;
      if (page == 0 && total != nullptr) *total = out->total_count;
      for (const auto& hit : out->hits) {
        v1::Offer o;
        EXPECT_TRUE(o.ParseFromString(hit.offer_bytes));
        ids.push_back(o.id());
      }
      if (out->next_page_token.empty()) break;
      q.set_page_token(out->next_page_token);
    }
    return ids;
  }

  // Every page of the walk, checked against the brute force, in order.
  void ExpectSameAsBruteForce(v1::SearchOffersRequest q, int page_size = 13) {
    std::set<std::string> expected;
    for (const auto& [id, o] : offers_) {
      if (Matches(q, o, providers_[o.provider_id()])) expected.insert(id);
    }
    q.set_page_size(page_size);
    int64_t total = -1;
    const std::vector<std::string> got = WalkIds(q, &total);
    if (!q.skip_total_count()) {
      EXPECT_EQ(static_cast<int64_t>(expected.size()), total) << q.ShortDebugString();
    }
    std::set<std::string> got_set(got.begin(), got.end());
    EXPECT_EQ(got.size(), got_set.size()) << "an offer came twice: " << q.ShortDebugString();
    EXPECT_EQ(expected, got_set) << q.ShortDebugString();
  }

  DemoCatalog catalog_;
  std::map<std::string, v1::Provider> providers_;
  std::map<std::string, v1::Offer> offers_;
  OfferIndex index_;
};

TEST_F(OfferIndexTest, EachFilterAloneMatchesBruteForce) {
  ASSERT_GT(offers_.size(), 700u);
  std::vector<v1::SearchOffersRequest> queries(16);
  queries[0].add_kinds(v1::OFFER_KIND_LODGING);
  queries[1].add_sub_kinds(v1::OFFER_SUB_KIND_WELLNESS);
  queries[1].add_sub_kinds(v1::OFFER_SUB_KIND_GASTRONOMY);
  queries[2].add_tags_all("family");
  queries[2].add_tags_all("hiking");
  queries[3].add_tags_any("spa");
  queries[3].add_tags_any("skiing");
  queries[4].mutable_price()->set_unit(v1::PRICE_UNIT_PER_WEEK);
  queries[4].mutable_price()->set_max_amount_cents(50000);
  queries[5].set_persons(6);
  queries[6].set_min_classification(3);
  queries[7].add_labels("Gîtes de France");
  queries[8].set_provider_id(catalog_.providers[5].id());
  queries[9].set_insee_code("15014");
  queries[10].set_postcode("15100");
  queries[11].set_departement("15");
  queries[12].mutable_near()->mutable_point()->set_latitude(44.9245);
  queries[12].mutable_near()->mutable_point()->set_longitude(2.4416);
  queries[12].mutable_near()->set_radius_km(20);
  auto* box = queries[13].mutable_within();
  box->mutable_south_west()->set_latitude(45.0), box->mutable_south_west()->set_longitude(2.5);
  box->mutable_north_east()->set_latitude(45.3), box->mutable_north_east()->set_longitude(3.0);
  auto* open = queries[14].mutable_open();
  open->mutable_start()->set_year(2027), open->mutable_start()->set_month(1), open->mutable_start()->set_day(10);
  open->mutable_end()->set_year(2027), open->mutable_end()->set_month(1), open->mutable_end()->set_day(20);
  queries[15].set_text("degustation cantal");
  for (const auto& q : queries) ExpectSameAsBruteForce(q);
}

TEST_F(OfferIndexTest, RandomCombinationsMatchBruteForce) {
  std::mt19937 rng(42);
  const std::vector<std::string> tags = {"family", "hiking", "nature", "wellness", "group", "couple", "outdoor"};
  for (int i = 0; i < 60; ++i) {
    v1::SearchOffersRequest q;
    if (rng() % 2) q.add_kinds(static_cast<v1::OfferKind>(1 + rng() % 3));
    if (rng() % 3 == 0) q.add_tags_all(tags[rng() % tags.size()]);
    if (rng() % 3 == 0) q.add_tags_any(tags[rng() % tags.size()]), q.add_tags_any(tags[rng() % tags.size()]);
    if (rng() % 3 == 0) q.set_persons(1 + static_cast<int>(rng() % 12));
    if (rng() % 3 == 0) {
      q.mutable_price()->set_min_amount_cents(static_cast<int64_t>(rng() % 5000));
      q.mutable_price()->set_max_amount_cents(5000 + static_cast<int64_t>(rng() % 100000));
    }
    if (rng() % 4 == 0) q.set_min_classification(1 + static_cast<int>(rng() % 4));
    if (rng() % 3 == 0) {
      const v1::Provider& p = catalog_.providers[rng() % catalog_.providers.size()];
      *q.mutable_near()->mutable_point() = p.location();
      q.mutable_near()->set_radius_km(5 + rng() % 40);
    }
    if (rng() % 4 == 0) q.set_text(i % 2 ? "gite" : "visite chateau");
    q.set_sort(static_cast<v1::SortOrder>(rng() % 7));
    if (q.sort() == v1::SORT_ORDER_DISTANCE && !q.has_near()) q.set_sort(v1::SORT_ORDER_PRICE_ASCENDING);
    ExpectSameAsBruteForce(q, 1 + static_cast<int>(rng() % 40));
  }
}

// Without the total count, a first page sorted by price is read from the price-ordered lists, and
// pages without a sort key from the id-ordered lists, stopping early; each must be exactly the page
// a full read gives, and the walk must go on from it.
TEST_F(OfferIndexTest, PagesReadInOrderEqualTheFullRead) {
  uint64_t revision = 100000;
  for (int i = 0; i < 6; ++i) {  // offers without prices come last when no price filter is given
    v1::Offer o = catalog_.offers[static_cast<size_t>(i) * 37];
    o.set_id(absl::StrCat("unpriced-", i));
    o.clear_prices();
    o.set_etag(absl::StrCat(++revision));
    index_.UpsertOffer(o, revision);
  }
  index_.SetRevision(revision);
  std::vector<v1::OfferSubKind> sub_kinds;
  for (const auto& o : catalog_.offers) {
    if (std::find(sub_kinds.begin(), sub_kinds.end(), o.sub_kind()) == sub_kinds.end()) sub_kinds.push_back(o.sub_kind());
  }
  std::mt19937 rng(5);
  const std::vector<v1::PriceUnit> units = {v1::PRICE_UNIT_UNSPECIFIED, v1::PRICE_UNIT_PER_PERSON, v1::PRICE_UNIT_PER_NIGHT,
                                            v1::PRICE_UNIT_PER_WEEK};
  int early = 0, by_distance_early = 0;
  for (int i = 0; i < 160; ++i) {
    v1::SearchOffersRequest q;
    const bool by_distance = i >= 120;  // around a provider
    const bool by_price = !by_distance && i % 2 == 0;
    const bool by_class = !by_distance && (i % 8 == 3 || i % 8 == 7);
    q.set_sort(by_distance  ? v1::SORT_ORDER_DISTANCE
               : by_price   ? v1::SORT_ORDER_PRICE_ASCENDING
               : by_class   ? v1::SORT_ORDER_CLASSIFICATION
               : i % 4 == 1 ? v1::SORT_ORDER_UNSPECIFIED
                            : v1::SORT_ORDER_RELEVANCE);
    // Classification pages from the level lists need a minimum level (unclassified offers are in
    // none); without one they are read whole once the lists run out.
    if (by_class && i % 8 == 3) q.set_min_classification(1 + static_cast<int>(rng() % 3));
    if (!by_price && rng() % 2) {
      q.add_kinds(static_cast<v1::OfferKind>(1 + rng() % 3));
    } else {
      for (int k = 0, n = 1 + static_cast<int>(rng() % 3); k < n; ++k) q.add_sub_kinds(sub_kinds[rng() % sub_kinds.size()]);
    }
    if (!by_distance && rng() % 3 == 0) {
      q.set_departement("15");
    } else {
      const v1::Provider& p = catalog_.providers[rng() % catalog_.providers.size()];
      *q.mutable_near()->mutable_point() = p.location();
      q.mutable_near()->set_radius_km(3 + rng() % 60);
    }
    if (rng() % 2) {
      q.mutable_price()->set_unit(units[rng() % units.size()]);
      if (rng() % 2) q.mutable_price()->set_min_amount_cents(static_cast<int64_t>(rng() % 8000));
      if (rng() % 2) q.mutable_price()->set_max_amount_cents(8000 + static_cast<int64_t>(rng() % 90000));
    }
    if (rng() % 3 == 0) q.set_persons(1 + static_cast<int>(rng() % 8));
    if (rng() % 4 == 0) q.add_tags_any("family"), q.add_tags_any("couple");
    q.set_page_size(1 + static_cast<int>(rng() % 30));
    v1::SearchOffersRequest fast = q;
    fast.set_skip_total_count(true);
    absl::StatusOr<SearchOutcome> full_page = index_.Search(q);
    absl::StatusOr<SearchOutcome> fast_page = index_.Search(fast);
    ASSERT_OK(full_page);
    ASSERT_OK(fast_page);
    EXPECT_EQ(0, fast_page->total_count);
    auto ids = [](const SearchOutcome& out) {
      std::vector<std::string> v;
      for (const auto& hit : out.hits) {
        v1::Offer o;
        o.ParseFromString(hit.offer_bytes);
        v.push_back(o.id());
      }
      return v;
    };
    ASSERT_EQ(ids(*full_page), ids(*fast_page)) << fast.ShortDebugString();
    ASSERT_EQ(WithoutTotal(full_page->next_page_token), fast_page->next_page_token)
        << fast.ShortDebugString();
    if (by_distance) {
      // Read from the nearest cells out, until the next cell is farther than the page's last.
      if (full_page->total_count > q.page_size() * 3) {
        ++by_distance_early;
        EXPECT_LT(fast_page->candidates, full_page->candidates) << fast.ShortDebugString();
      }
    } else if (full_page->total_count > q.page_size() * 3 &&
               (!by_class || q.min_classification() > 0)) {
      ++early;
      EXPECT_LT(fast_page->candidates, full_page->candidates) << fast.ShortDebugString();
    }
    // The walk goes on from the fast first page and ends with every match once, in order.
    auto walk_on = [&](v1::SearchOffersRequest request, const SearchOutcome& first, std::vector<std::string>* got,
                       int64_t* candidates) {
      *got = ids(first);
      *candidates = first.candidates;
      for (std::string token = first.next_page_token; !token.empty();) {
        request.set_page_token(
            WithoutTotal(token));  // with the total count: every page a full read
        absl::StatusOr<SearchOutcome> page = index_.Search(request);
        ASSERT_OK(page);
        *candidates += page->candidates;
        for (const std::string& id : ids(*page)) got->push_back(id);
        token = page->next_page_token;
      }
    };
    std::vector<std::string> walk, expected;
    int64_t walk_candidates = 0, full_candidates = 0;
    walk_on(fast, *fast_page, &walk, &walk_candidates);
    walk_on(q, *full_page, &expected, &full_candidates);
    EXPECT_EQ(expected, walk) << fast.ShortDebugString();
    EXPECT_EQ(static_cast<size_t>(full_page->total_count), walk.size());
    // Pages in id order go on from the token in the lists, so a whole walk reads less too; so do
    // pages by price without a lower bound to the price range.
    if ((!by_price || q.price().min_amount_cents() == 0) && !by_distance &&
        full_page->total_count > q.page_size() * 3 && (!by_class || q.min_classification() > 0)) {
      EXPECT_LT(walk_candidates, full_candidates) << fast.ShortDebugString();
    }
  }
  EXPECT_GT(early, 40);  // enough queries with many more matches than a page for the early stop to matter
  EXPECT_GE(by_distance_early, 10);
}

// The bound of the distances to a box is below the distance to every point of it, around the
// globe too (boxes across the antimeridian's neighbourhood, near the poles), and 0 from inside.
TEST(DistancesFromTest, NearestAndFarthestKmBoundEveryPointOfTheBox) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<double> lat(-89.0, 89.0), lon(-180.0, 179.9), unit(0.0, 1.0);
  int bounded = 0;
  for (int i = 0; i < 2000; ++i) {
    const DistancesFrom from(lat(rng), lon(rng));
    const double south = std::floor(lat(rng) * 10) / 10, west = std::floor(lon(rng) * 10) / 10;
    const double north = south + 0.1, east = west + 0.1;
    const double nearest = from.NearestKm(south, west, north, east);
    const double farthest = from.FarthestKm(south, west, north, east);
    for (int k = 0; k < 20; ++k) {
      const double la = south + 0.1 * unit(rng), lo = west + 0.1 * unit(rng);
      ASSERT_LE(nearest, from.Km(la, lo)) << south << " " << west << " " << la << " " << lo;
      ASSERT_GE(farthest, from.Km(la, lo)) << south << " " << west << " " << la << " " << lo;
    }
    if (farthest < std::numeric_limits<double>::infinity()) ++bounded;
  }
  EXPECT_GT(bounded, 800);  // boxes within a quarter of the globe in longitude
  // Boxes near the point, as a search's circle has them.
  for (int i = 0; i < 2000; ++i) {
    const double la0 = lat(rng), lo0 = lon(rng);
    const DistancesFrom from(la0, lo0);
    const double south = std::floor((la0 + 2 * unit(rng) - 1) * 10) / 10;
    const double west = std::floor((lo0 + 2 * unit(rng) - 1) * 10) / 10;
    const double farthest = from.FarthestKm(south, west, south + 0.1, west + 0.1);
    ASSERT_LT(farthest, 400.0);
    for (int k = 0; k < 20; ++k) {
      const double la = south + 0.1 * unit(rng), lo = west + 0.1 * unit(rng);
      ASSERT_GE(farthest, from.Km(la, lo)) << south << " " << west << " " << la << " " << lo;
      ASSERT_LE(from.NearestKm(south, west, south + 0.1, west + 0.1), from.Km(la, lo));
    }
  }
  const DistancesFrom inside(45.03, 2.68);
  EXPECT_LE(inside.NearestKm(45.0, 2.6, 45.1, 2.7), 0.0);
  // Across the antimeridian from the point: -179.9 is 0.15 degree east of 179.95 (16.7 km on the
  // equator), not 359.85 west.
  const DistancesFrom east_edge(0.05, 179.95);
  EXPECT_NEAR(east_edge.NearestKm(0.0, -179.9, 0.1, -179.8), 16.68, 0.01);
}

// With sources of thousands of versions, only the versions in both of the two smallest are checked.
class LargeOfferIndexTest : public OfferIndexTest {
 protected:
  void SetUp() override { Load(12000); }
};

TEST_F(LargeOfferIndexTest, IntersectingTheTwoSmallestSourcesMatchesBruteForce) {
  auto count = [&](v1::SearchOffersRequest q) {
    q.set_page_size(1);
    absl::StatusOr<SearchOutcome> out = index_.Search(q);
    EXPECT_OK(out);
    return out.ok() ? out->total_count : 0;
  };
  v1::SearchOffersRequest activities, family, both;
  activities.add_kinds(v1::OFFER_KIND_ACTIVITY);
  family.add_tags_all("family");
  both = activities;
  both.add_tags_all("family");
  int64_t a = count(activities), f = count(family);
  ASSERT_GT(std::min(a, f), 4096) << "the sources must be large enough to be intersected";
  absl::StatusOr<SearchOutcome> out = index_.Search(both);
  ASSERT_OK(out);
  EXPECT_LT(out->candidates, std::min(a, f));  // only versions in both were checked
  ExpectSameAsBruteForce(both, 500);

  std::vector<v1::SearchOffersRequest> queries(3);
  queries[0].set_text("gite");
  *queries[0].mutable_near()->mutable_point() = catalog_.providers[3].location();
  queries[0].mutable_near()->set_radius_km(40);
  queries[1].set_text("visite ferme");
  queries[1].add_kinds(v1::OFFER_KIND_ACTIVITY);
  queries[2].add_kinds(v1::OFFER_KIND_LODGING);
  queries[2].add_tags_any("family");
  queries[2].add_tags_any("nature");
  queries[2].set_persons(4);
  for (const auto& q : queries) ExpectSameAsBruteForce(q, 700);
}

// Without the total count, a page sorted by relevance is read from one query word's title and
// body lists, heaviest first, stopping once no unread version can come on it: each page must be
// exactly the one a full read gives (its offers and their relevance), and the walk must go on
// from it.
TEST_F(LargeOfferIndexTest, RelevancePagesReadInOrderEqualTheFullRead) {
  // Some offers hold words in their descriptions only, some words in their titles only, so that
  // the same word weighs differently from offer to offer.
  uint64_t revision = 1000000;
  int n = 0;
  for (const auto& [id, original] : std::map<std::string, v1::Offer>(offers_)) {
    if (++n % 5 != 0) continue;
    v1::Offer o = original;
    (*o.mutable_descriptions())["fr"] = n % 3 == 0 ? "Près d'un gîte, d'une ferme et d'un château."
                                                   : "Visite libre, dégustation possible.";
    if (n % 7 == 0) o.set_title(absl::StrCat("Gîtes et fermes ", n));
    o.set_etag(absl::StrCat(++revision));
    offers_[id] = o;
    index_.UpsertOffer(o, revision);
  }
  index_.SetRevision(revision);
  // (Every fourth query asks for pages of 1,000, so that walks of "gite f" reach their end.)
  const std::vector<std::string> texts = {"gite",        "gi", "ferme", "visite chateau",
                                          "degustation", "v",  "ch",    "visite ferme",
                                          "chambre",     "gite f"};
  std::mt19937 rng(11);
  int early = 0;
  for (int i = 0; i < 80; ++i) {
    v1::SearchOffersRequest q;
    q.set_text(texts[static_cast<size_t>(i) % texts.size()]);
    if (i % 4 == 1) q.set_sort(v1::SORT_ORDER_RELEVANCE);
    if (rng() % 3 == 0) q.add_kinds(static_cast<v1::OfferKind>(1 + rng() % 3));
    if (rng() % 3 == 0) {
      const v1::Provider& p = catalog_.providers[rng() % catalog_.providers.size()];
      *q.mutable_near()->mutable_point() = p.location();
      q.mutable_near()->set_radius_km(10 + rng() % 60);
    }
    if (rng() % 4 == 0) q.set_persons(1 + static_cast<int>(rng() % 8));
    q.set_page_size(i % 4 == 3 ? 1000 : 1 + static_cast<int>(rng() % 60));
    v1::SearchOffersRequest fast = q;
    fast.set_skip_total_count(true);
    std::vector<std::string> full_walk, fast_walk;
    int64_t full_candidates = 0, fast_candidates = 0, total = -1;
    for (auto [request, walk, candidates] : {std::tuple{q, &full_walk, &full_candidates},
                                             std::tuple{fast, &fast_walk, &fast_candidates}}) {
      for (int page = 0; page < 6; ++page) {  // the first pages
        absl::StatusOr<SearchOutcome> out = index_.Search(request);
        ASSERT_OK(out);
        if (total < 0) total = out->total_count;
        if (page == 0) *candidates = out->candidates;
        for (const auto& hit : out->hits) {
          v1::Offer o;
          ASSERT_TRUE(o.ParseFromString(hit.offer_bytes));
          walk->push_back(absl::StrFormat("%s %.17g", o.id(), hit.relevance));
        }
        if (out->next_page_token.empty()) break;
        request.set_page_token(
            WithoutTotal(out->next_page_token));  // the full walk's pages all full reads
      }
    }
    ASSERT_EQ(full_walk, fast_walk) << fast.ShortDebugString();
    EXPECT_EQ(std::min<size_t>(static_cast<size_t>(total), 6 * static_cast<size_t>(q.page_size())),
              fast_walk.size())
        << fast.ShortDebugString();
    if (fast_candidates < full_candidates) ++early;
  }
  EXPECT_GT(early, 25);  // enough first pages read from the heaviest lists alone
}

// Thousands of candidates are checked by the caller and the index's helper thread, whichever is free.
TEST_F(LargeOfferIndexTest, ChecksSharedWithTheHelperThreadMatchBruteForce) {
  std::vector<v1::SearchOffersRequest> queries(5);
  queries[0].add_kinds(v1::OFFER_KIND_LODGING);  // one list
  queries[1].add_tags_any("family");             // several lists, merged
  queries[1].add_tags_any("nature");
  queries[2].set_persons(2);                     // no list: every version
  queries[3].set_text("gite");                   // by relevance: every match read for each page
  queries[4] = queries[0];
  queries[4].set_sort(v1::SORT_ORDER_PRICE_ASCENDING);
  queries[4].set_skip_total_count(true);
  for (const auto& q : queries) ExpectSameAsBruteForce(q, 900);

  // Every candidate counted once, whichever thread checked it.
  int64_t lodging = 0;
  for (const auto& [id, o] : offers_) lodging += o.kind() == v1::OFFER_KIND_LODGING;
  ASSERT_GT(lodging, 8192);
  absl::StatusOr<SearchOutcome> alone = index_.Search(queries[0]);
  ASSERT_OK(alone);
  EXPECT_EQ(lodging, alone->candidates);
  EXPECT_EQ(lodging, alone->total_count);
  // Facets of the matches both threads found.
  v1::SearchOffersRequest with_facets = queries[0];
  with_facets.set_include_facets(true);
  absl::StatusOr<SearchOutcome> faceted = index_.Search(with_facets);
  ASSERT_OK(faceted);
  std::map<std::string, int64_t> sub_kinds, got_sub_kinds;
  for (const auto& [id, o] : offers_) {
    if (o.kind() == v1::OFFER_KIND_LODGING) ++sub_kinds[v1::OfferSubKind_Name(o.sub_kind())];
  }
  int64_t got_lodging = 0;
  for (const auto& f : faceted->facets) {
    for (const auto& c : f.counts()) {
      if (f.name() == "kind") got_lodging += c.count();
      if (f.name() == "sub_kind") got_sub_kinds[c.value()] = c.count();
    }
  }
  EXPECT_EQ(lodging, got_lodging);
  EXPECT_EQ(sub_kinds, got_sub_kinds);

  // Searches racing for the helper: each gets the whole answer, whether it had help or not.
  std::vector<std::thread> searchers;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    searchers.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        const v1::SearchOffersRequest& q = queries[(t + i) % 3];
        absl::StatusOr<SearchOutcome> first = index_.Search(q);
        if (!first.ok()) {
          ++wrong;
          continue;
        }
        absl::StatusOr<SearchOutcome> again = index_.Search(q);
        if (!again.ok() || again->total_count != first->total_count || again->hits.size() != first->hits.size()) {
          ++wrong;
          continue;
        }
        for (size_t h = 0; h < first->hits.size(); ++h) wrong += first->hits[h].offer_bytes != again->hits[h].offer_bytes;
        wrong += (t + i) % 3 == 0 && first->total_count != lodging;
      }
    });
  }
  for (auto& s : searchers) s.join();
  EXPECT_EQ(0, wrong.load());
}

TEST_F(OfferIndexTest, TextIgnoresCaseAndAccents) {
  auto count = [&](const std::string& text) {
    v1::SearchOffersRequest q;
    q.set_text(text);
    auto out = index_.Search(q);
    EXPECT_OK(out);
    return out->total_count;
  };
  int64_t gites = count("gîte");
  EXPECT_GT(gites, 10);
  EXPECT_EQ(gites, count("GITE"));
  EXPECT_EQ(gites, count("Gite"));
  EXPECT_EQ(count("chateau"), count("Château"));
  EXPECT_EQ(0, count("zzzzqqq"));
}

TEST(TextWordsTest, SplitsFoldedTextIntoWordsWithoutStopWords) {
  EXPECT_EQ((std::vector<std::string>{"gite", "burons", "4", "personnes"}),
            TextWords("  Gîte des Burons (4 personnes)..."));
  EXPECT_EQ((std::vector<std::string>{"hotel", "lac", "chaudes", "aigues", "2024"}),
            TextWords("L'HÔTEL du Lac, Chaudes-Aigues/2024"));
  EXPECT_EQ((std::vector<std::string>{"Ελλάδα", "x"}),
            TextWords("Ελλάδα-x"));  // other scripts kept as they are
  EXPECT_TRUE(TextWords("").empty());
  EXPECT_TRUE(TextWords(" de la, et... ").empty());
  // Every stop word, and words of one to four letters that are not.
  EXPECT_TRUE(TextWords("A au aux d de des du en et l la le les un une the of and").empty());
  EXPECT_EQ((std::vector<std::string>{"an", "as", "auxe", "e", "ex", "lo", "uns", "ofs", "x", "0"}),
            TextWords("an as auxe e ex lo uns ofs x 0"));
}

// An offer's tags and words are pieces of one folded text; the words of one text (a title, each
// description) do not run on into the next, and an OfferText prepared again holds the second
// offer's alone.
TEST(OfferTextTest, HoldsAnOffersTagsAndWordsAsPiecesOfOneFoldedText) {
  auto pieces = [](const OfferText& text, const std::vector<OfferText::Piece>& list) {
    std::vector<std::string> out;
    for (OfferText::Piece p : list) out.emplace_back(text[p]);
    return out;
  };
  v1::Offer offer;
  offer.add_tags("Randonnée");
  offer.add_tags("vtt");
  offer.set_title("Gîte de l'Aubrac");
  (*offer.mutable_descriptions())["fr"] = "Séjour au calme";
  (*offer.mutable_descriptions())["en"] = "Quiet stay";
  OfferText text;
  PrepareOfferText(offer, &text);
  EXPECT_EQ((std::vector<std::string>{"randonnee", "vtt"}), pieces(text, text.tags));
  EXPECT_EQ((std::vector<std::string>{"gite", "aubrac"}), pieces(text, text.title_words));
  std::vector<std::string> body = pieces(text, text.body_words);
  std::sort(body.begin(), body.end());
  EXPECT_EQ((std::vector<std::string>{"calme", "quiet", "sejour", "stay"}), body);

  v1::Offer other;
  other.set_title("Ferme");
  PrepareOfferText(other, &text);
  EXPECT_TRUE(text.tags.empty());
  EXPECT_EQ((std::vector<std::string>{"ferme"}), pieces(text, text.title_words));
  EXPECT_TRUE(text.body_words.empty());
}

// A provider's words are those of its name and commune taken as one text, and its commune the
// normalized one, whatever the accents, case, punctuation and stop words; a ProviderText prepared
// again holds the second provider's alone.
TEST(ProviderTextTest, HoldsTheWordsOfNameAndCommuneAndTheNormalizedCommune) {
  const std::pair<std::string, std::string> cases[] = {
      {"Hôtel de la Poste", "Chaudes-Aigues"},
      {"L'Auberge du Lac", "Saint-Flour"},
      {"GÎTE  Él\u00e9onore", "Vic-sur-Cère"},
      {"Ferme", ""},
      {"", "Salers"},
      {"Caf\u0065\u0301 des Arts", "Le Puy-en-Velay"},  // an accent as a combining mark
      {"Les 3 Sources", "Aurillac"},
  };
  ProviderText text;
  for (const auto& [name, commune] : cases) {
    v1::Provider p;
    p.set_name(name);
    p.mutable_address()->set_commune(commune);
    PrepareProviderText(p, &text);
    std::vector<std::string> words;
    for (ProviderText::Piece w : text.name_words) words.emplace_back(text[w]);
    EXPECT_EQ(TextWords(name + " " + commune), words) << name << " / " << commune;
    EXPECT_EQ(NormalizePlaceName(commune), text[text.commune]) << commune;
  }
}

// Relevance: a query word weighs its idf in a description and twice that in a title, and the last
// word also matches as a prefix, each variant with its own idf; an offer weighs its best variant.
TEST_F(OfferIndexTest, RelevanceWeighsTheBestVariantOfEachWord) {
  uint64_t revision = 200000;
  auto add = [&](const std::string& id, const std::string& title, const std::string& description) {
    v1::Offer o = catalog_.offers[0];
    o.set_id(id);
    o.set_title(title);
    o.clear_descriptions();
    (*o.mutable_descriptions())["fr"] = description;
    o.set_etag(absl::StrCat(++revision));
    index_.UpsertOffer(o, revision);
  };
  // A common word in sixty titles; a rare longer one in one description: rare enough that its
  // weight in a description beats the common word's in a title.
  for (int i = 0; i < 60; ++i) add(absl::StrCat("zz-title-", 100 + i), "Zorblax du Cantal", "Un séjour.");
  add("zz-body-common", "Séjour", "Près du zorblax.");
  add("zz-body-rare", "Séjour", "Un zorblaxine rare.");
  // Its title matches, its description weighs more.
  add("zz-both", "Zorblax", "Et un zorblaxine aussi.");
  index_.SetRevision(revision);

  v1::SearchOffersRequest q;
  q.set_text("zorblax");
  q.set_page_size(100);
  auto out = index_.Search(q);
  ASSERT_OK(out);
  ASSERT_EQ(63u, out->hits.size());
  std::vector<std::pair<std::string, double>> ranked;
  for (const auto& hit : out->hits) {
    v1::Offer o;
    ASSERT_TRUE(o.ParseFromString(hit.offer_bytes));
    ranked.emplace_back(o.id(), hit.relevance);
  }
  EXPECT_EQ("zz-body-rare", ranked[0].first);
  EXPECT_EQ("zz-both", ranked[1].first);
  EXPECT_DOUBLE_EQ(ranked[0].second, ranked[1].second);
  EXPECT_GT(ranked[1].second, ranked[2].second);
  EXPECT_EQ("zz-title-100", ranked[2].first);
  EXPECT_DOUBLE_EQ(ranked[2].second, ranked[61].second);
  EXPECT_EQ("zz-body-common", ranked[62].first);
  EXPECT_NEAR(ranked[2].second, 2 * ranked[62].second, 1e-9);  // the same word, title against body
}

// Offers just inside and just outside a wide circle far from the equator, in eight directions:
// the circle is exact (the index's first, flat test of distance turns none inside away).
TEST_F(OfferIndexTest, WideCirclesFarNorthAreExactAtTheirEdge) {
  const double lat0 = 64.1, lon0 = -21.9, radius = 190;  // Reykjavik, a long day's drive
  uint64_t revision = 300000;
  std::set<std::string> inside;
  const double kPi = std::acos(-1.0);
  for (int direction = 0; direction < 8; ++direction) {
    const double bearing = direction * kPi / 4;
    for (double target : {radius - 0.05, radius + 0.05}) {
      // The point at `target` km along the bearing (the distance grows with the step).
      double lo = 0, hi = 5;
      for (int i = 0; i < 60; ++i) {
        double mid = (lo + hi) / 2;
        double d = DistanceKm(lat0, lon0, lat0 + mid * std::cos(bearing),
                              lon0 + 2.3 * mid * std::sin(bearing));
        (d < target ? lo : hi) = mid;
      }
      v1::Offer o = catalog_.offers[0];
      o.set_id(absl::StrCat("edge-", direction, target < radius ? "-in" : "-out"));
      o.mutable_location()->set_latitude(lat0 + lo * std::cos(bearing));
      o.mutable_location()->set_longitude(lon0 + 2.3 * lo * std::sin(bearing));
      o.set_etag(absl::StrCat(++revision));
      index_.UpsertOffer(o, revision);
      if (target < radius) inside.insert(o.id());
    }
  }
  index_.SetRevision(revision);
  v1::SearchOffersRequest q;
  q.mutable_near()->mutable_point()->set_latitude(lat0);
  q.mutable_near()->mutable_point()->set_longitude(lon0);
  q.mutable_near()->set_radius_km(radius);
  q.set_page_size(100);
  auto out = index_.Search(q);
  ASSERT_OK(out);
  std::set<std::string> got;
  for (const auto& hit : out->hits) {
    v1::Offer o;
    ASSERT_TRUE(o.ParseFromString(hit.offer_bytes));
    got.insert(o.id());
  }
  EXPECT_EQ(inside, got);
}

// A first page by price read from the price lists stops inside a run of equal prices at the
// page's last id, and passes over offers too small for the group; it is still the full read's.
TEST_F(OfferIndexTest, FirstPagesByPriceStopAmongEqualPrices) {
  const double lat0 = 47.3, lon0 = 5.0;  // Dijon: no generated offer nearby
  uint64_t revision = 400000;
  std::mt19937 rng(11);
  int small = 0;
  for (int i = 0; i < 300; ++i) {
    v1::Offer o = catalog_.offers[0];
    o.set_id(absl::StrCat("tie-", rng() % 100000, "-", i));  // ids in no order of insertion
    o.set_sub_kind(v1::OFFER_SUB_KIND_SELF_CATERING);
    o.mutable_location()->set_latitude(lat0 + 0.0001 * (i % 7));
    o.mutable_location()->set_longitude(lon0 + 0.0001 * (i % 5));
    o.clear_prices();
    v1::Price* price = o.add_prices();
    price->set_unit(v1::PRICE_UNIT_PER_WEEK);
    // Ten cheaper, 270 at 500 EUR, twenty dearer.
    price->set_min_amount_cents(i < 10 ? 30000 + 100 * i : i < 280 ? 50000 : 70000);
    price->set_max_amount_cents(price->min_amount_cents());
    o.clear_opening_periods();
    o.mutable_capacity()->set_min_persons(1);
    o.mutable_capacity()->set_max_persons(i % 3 == 0 ? 2 : 8);
    if (i % 3 == 0) ++small;
    o.set_etag(absl::StrCat(++revision));
    index_.UpsertOffer(o, revision);
  }
  index_.SetRevision(revision);
  for (int persons : {0, 6}) {
    for (int page_size : {5, 12, 40}) {
      v1::SearchOffersRequest q = WeeklyRentalsByPrice(lat0, lon0, 2);
      q.set_persons(persons);
      q.set_page_size(page_size);
      v1::SearchOffersRequest fast = q;
      fast.set_skip_total_count(true);
      absl::StatusOr<SearchOutcome> full = index_.Search(q), first = index_.Search(fast);
      ASSERT_OK(full);
      ASSERT_OK(first);
      ASSERT_EQ(full->hits.size(), first->hits.size());
      for (size_t i = 0; i < full->hits.size(); ++i) {
        EXPECT_EQ(full->hits[i].offer_bytes, first->hits[i].offer_bytes);
      }
      EXPECT_EQ(WithoutTotal(full->next_page_token), first->next_page_token);
      // The ten cheaper offers, then up to the page's end among the 270 at 500 EUR (and one more,
      // for the next page's token): far fewer than the run of equal prices.
      EXPECT_LT(first->candidates, 100) << fast.ShortDebugString();
      if (persons > 0) {
        EXPECT_EQ(300 - small, full->total_count);
      }
      // The later pages go on from inside the run of equal prices, each read from the lists from
      // just after its token: the walk is the full reads' (every page counting again), page by
      // page, and each page checks little more than it returns.
      v1::SearchOffersRequest full_next = q, fast_next = fast;
      full_next.set_page_token(WithoutTotal(full->next_page_token));
      fast_next.set_page_token(first->next_page_token);
      int pages = 1;
      while (!fast_next.page_token().empty()) {
        absl::StatusOr<SearchOutcome> full_page = index_.Search(full_next),
                                      fast_page = index_.Search(fast_next);
        ASSERT_OK(full_page);
        ASSERT_OK(fast_page);
        ASSERT_EQ(full_page->hits.size(), fast_page->hits.size());
        for (size_t i = 0; i < full_page->hits.size(); ++i) {
          EXPECT_EQ(full_page->hits[i].offer_bytes, fast_page->hits[i].offer_bytes)
              << "page " << pages;
        }
        EXPECT_EQ(WithoutTotal(full_page->next_page_token), fast_page->next_page_token);
        EXPECT_LE(fast_page->candidates, 2 * page_size + 2)
            << "page " << pages << " " << fast.ShortDebugString();
        full_next.set_page_token(WithoutTotal(full_page->next_page_token));
        fast_next.set_page_token(fast_page->next_page_token);
        ++pages;
      }
      const int matching = persons > 0 ? 300 - small : 300;
      EXPECT_EQ((matching + page_size - 1) / page_size, pages);
    }
  }
}

// With a lower bound to the price range, an offer's key may be a dearer price than the one it is
// listed at (its cheapest is out of the range): later pages by price read every match then, and
// the walk still returns every offer once, in price order.
TEST_F(OfferIndexTest, LaterPagesByPriceWithALowerBoundKeepOffersListedCheaper) {
  const double lat0 = 47.3, lon0 = 5.0;  // Dijon: no generated offer nearby
  uint64_t revision = 600000;
  for (int i = 0; i < 40; ++i) {
    v1::Offer o = catalog_.offers[0];
    o.set_id(absl::StrCat("two-prices-", i));
    o.set_sub_kind(v1::OFFER_SUB_KIND_SELF_CATERING);
    o.mutable_location()->set_latitude(lat0);
    o.mutable_location()->set_longitude(lon0);
    o.clear_prices();
    o.clear_opening_periods();
    for (int64_t cents :
         {int64_t{10000}, 60000 + 100 * int64_t{39 - i}}) {  // a cheap week, a dear one
      v1::Price* price = o.add_prices();
      price->set_unit(v1::PRICE_UNIT_PER_WEEK);
      price->set_min_amount_cents(cents);
      price->set_max_amount_cents(cents);
    }
    o.set_etag(absl::StrCat(++revision));
    index_.UpsertOffer(o, revision);
  }
  index_.SetRevision(revision);
  v1::SearchOffersRequest q = WeeklyRentalsByPrice(lat0, lon0, 1);
  q.mutable_price()->set_min_amount_cents(50000);
  q.set_page_size(7);
  q.set_skip_total_count(true);
  std::vector<std::string> expected;
  for (int i = 39; i >= 0; --i) expected.push_back(absl::StrCat("two-prices-", i));
  EXPECT_EQ(expected, WalkIds(q));
}

// A version's packed facts hold a copy of up to three prices (each under 2^31 cents) and two
// opening periods; offers with more, or dearer, are read from the version's block. Both kinds
// filter and sort alike.
TEST_F(OfferIndexTest, PricesAndPeriodsBeyondThePackedFactsFilterAndSortAlike) {
  std::mt19937 rng(5);
  uint64_t revision = 500000;
  const v1::PriceUnit units[] = {v1::PRICE_UNIT_PER_NIGHT, v1::PRICE_UNIT_PER_WEEK,
                                 v1::PRICE_UNIT_PER_PERSON};
  auto date = [](v1::Date* d, int month, int day) {
    d->set_year(2027), d->set_month(month), d->set_day(day);
  };
  for (int i = 0; i < 300; ++i) {
    v1::Offer o = catalog_.offers[static_cast<size_t>(i)];
    o.set_id(absl::StrCat("packed-", i));
    o.clear_prices();
    const int prices = static_cast<int>(rng() % 6);  // 0 to 5
    for (int k = 0; k < prices; ++k) {
      v1::Price* price = o.add_prices();
      price->set_unit(units[rng() % 3]);
      // One in ten above what 32 bits hold.
      const int64_t min = rng() % 10 == 0 ? int64_t{3000000000} + rng() % 1000
                                          : static_cast<int64_t>(rng() % 200000);
      price->set_min_amount_cents(min);
      price->set_max_amount_cents(min + static_cast<int64_t>(rng() % 50000));
    }
    o.clear_opening_periods();
    const int periods = static_cast<int>(rng() % 5);  // 0 to 4
    for (int k = 0; k < periods; ++k) {
      v1::DateRange* r = o.add_opening_periods();
      const int month = 1 + static_cast<int>(rng() % 11);
      date(r->mutable_start(), month, 1 + static_cast<int>(rng() % 28));
      date(r->mutable_end(), month + 1, 1 + static_cast<int>(rng() % 28));
    }
    o.set_etag(absl::StrCat(++revision));
    offers_[o.id()] = o;
    index_.UpsertOffer(o, revision);
  }
  index_.SetRevision(revision);

  // The lowest (or, descending, the highest) minimum among the prices the query reads.
  auto key_of = [](const v1::SearchOffersRequest& q, const v1::Offer& o) {
    bool descending = q.sort() == v1::SORT_ORDER_PRICE_DESCENDING;
    std::optional<int64_t> key;
    for (const auto& pr : o.prices()) {
      if (q.price().unit() && pr.unit() != q.price().unit()) continue;
      if (q.has_price() && (pr.max_amount_cents() < q.price().min_amount_cents() ||
                            (q.price().max_amount_cents() &&
                             pr.min_amount_cents() > q.price().max_amount_cents()))) {
        continue;
      }
      if (!key || (descending ? pr.min_amount_cents() > *key : pr.min_amount_cents() < *key))
        key = pr.min_amount_cents();
    }
    return key;
  };
  int queries = 0;
  for (v1::PriceUnit unit :
       {v1::PRICE_UNIT_UNSPECIFIED, v1::PRICE_UNIT_PER_WEEK, v1::PRICE_UNIT_PER_PERSON}) {
    for (auto [low, high] :
         {std::pair<int64_t, int64_t>{0, 0}, {20000, 90000}, {150000, 0}, {2900000000, 0}}) {
      for (v1::SortOrder sort : {v1::SORT_ORDER_PRICE_ASCENDING, v1::SORT_ORDER_PRICE_DESCENDING}) {
        v1::SearchOffersRequest q;
        q.add_kinds(catalog_.offers[0].kind());
        if (unit != v1::PRICE_UNIT_UNSPECIFIED || low || high) {
          q.mutable_price()->set_unit(unit);
          q.mutable_price()->set_min_amount_cents(low);
          q.mutable_price()->set_max_amount_cents(high);
        }
        if (queries % 3 == 0) {
          date(q.mutable_open()->mutable_start(), 6 + queries % 4, 3);
          date(q.mutable_open()->mutable_end(), 6 + queries % 4, 9);
        }
        q.set_sort(sort);
        ++queries;
        ExpectSameAsBruteForce(q, 7);
        // Every page in the order of the brute force's keys (offers without one come last).
        q.set_page_size(9);
        std::vector<std::optional<int64_t>> keys;
        for (int page = 0; page < 1000; ++page) {
          absl::StatusOr<SearchOutcome> out = index_.Search(q);
          ASSERT_OK(out);
          for (const auto& hit : out->hits) {
            v1::Offer o;
            ASSERT_TRUE(o.ParseFromString(hit.offer_bytes));
            keys.push_back(key_of(q, offers_[o.id()]));
          }
          if (out->next_page_token.empty()) break;
          q.set_page_token(out->next_page_token);
        }
        ASSERT_FALSE(keys.empty()) << q.ShortDebugString();
        for (size_t i = 1; i < keys.size(); ++i) {
          if (!keys[i]) continue;
          ASSERT_TRUE(keys[i - 1].has_value()) << q.ShortDebugString() << " at " << i;
          if (sort == v1::SORT_ORDER_PRICE_ASCENDING) {
            EXPECT_LE(*keys[i - 1], *keys[i]) << q.ShortDebugString() << " at " << i;
          } else {
            EXPECT_GE(*keys[i - 1], *keys[i]) << q.ShortDebugString() << " at " << i;
          }
        }
      }
    }
  }
}

// The packed facts hold a bit for each of the first 64 tags seen; queries naming later tags read
// the versions' blocks. Both kinds, and queries mixing them, match alike.
TEST_F(OfferIndexTest, TagsWithAndWithoutABitMatchAlike) {
  uint64_t revision = 600000;
  for (int i = 0; i < 160; ++i) {
    v1::Offer o = catalog_.offers[static_cast<size_t>(i)];
    o.set_id(absl::StrCat("tagged-", i));
    o.add_tags(absl::StrCat("Rare ", i % 80));  // 80 new tags: the bits run out among them
    if (i % 3 == 0) o.add_tags(absl::StrCat("Rare ", (i + 7) % 80));
    o.set_etag(absl::StrCat(++revision));
    offers_[o.id()] = o;
    index_.UpsertOffer(o, revision);
  }
  index_.SetRevision(revision);
  const std::string common = catalog_.offers[0].tags(0);
  std::vector<v1::SearchOffersRequest> queries;
  for (int k : {0, 5, 40, 70, 79}) {
    v1::SearchOffersRequest q;
    q.add_tags_all(absl::StrCat("rare ", k));
    queries.push_back(q);
    q.add_tags_all(common);
    queries.push_back(q);
    v1::SearchOffersRequest any;
    any.add_tags_any(absl::StrCat("Rare ", k));
    any.add_tags_any(absl::StrCat("Rare ", (k + 33) % 80));
    queries.push_back(any);
    any.add_tags_all(common);
    any.add_kinds(catalog_.offers[0].kind());
    queries.push_back(any);
  }
  for (v1::SearchOffersRequest& q : queries) {
    ExpectSameAsBruteForce(q);
    q.set_sort(v1::SORT_ORDER_PRICE_ASCENDING);
    ExpectSameAsBruteForce(q, 4);
  }
  // Tag counts, from the bits of offers whose tags all have one and from the blocks of the others
  // (the last new tags have no bit), against the brute force.
  v1::SearchOffersRequest q;
  q.add_tags_any("rare 79");
  q.add_tags_any("rare 75");
  q.add_tags_any("rare 3");
  q.set_include_facets(true);
  absl::StatusOr<SearchOutcome> out = index_.Search(q);
  ASSERT_OK(out);
  std::map<std::string, int64_t> expected, got;
  for (const auto& [id, o] : offers_) {
    if (!Matches(q, o, providers_[o.provider_id()])) continue;
    for (const auto& t : o.tags()) ++expected[FoldAccentsLower(t)];
  }
  ASSERT_LT(expected.size(), 50u);  // every tag shown
  ASSERT_GT(expected["rare 79"], 1);
  for (const v1::Facet& f : out->facets) {
    if (f.name() == "tag") {
      for (const v1::FacetCount& c : f.counts()) got[c.value()] = c.count();
    }
  }
  EXPECT_EQ(expected, got);
}

// The ordered lists compare ids by their first eight bytes first: ids that share those, that are
// shorter than eight bytes, prefixes of one another, or hold bytes above 0x7f still come in the
// order of their bytes.
TEST_F(OfferIndexTest, OrdersIdsThatShareTheirFirstBytes) {
  const double lat0 = 47.3, lon0 = 5.0;  // Dijon: no generated offer nearby
  std::vector<std::string> ids = {"a",         "a-",        "ab",       "abcdefgh",
                                  "abcdefg",   "abcdefgh-", "abcdefgi", "abcdefgh~",
                                  "abcdefgh0", "z",         "Z",        "0"};
  ids.insert(ids.end(), {"abcdefgh\xc3\xa9", "\xc3\xa9t\xc3\xa9", "\xe2\x82\xac"});  // é, été, €
  for (int i = 0; i < 40; ++i)
    ids.push_back(absl::StrCat("https://data.example/offer/", i * 7 % 40));
  for (int i = 0; i < 30; ++i) ids.push_back(absl::StrCat("abcdefgh", i * 11 % 30, "/stay"));
  std::vector<std::string> shuffled = ids;
  std::mt19937 rng(3);
  std::shuffle(shuffled.begin(), shuffled.end(), rng);
  uint64_t revision = 400000;
  std::map<std::string, int> level_of;
  for (size_t i = 0; i < shuffled.size(); ++i) {
    v1::Offer o = catalog_.offers[0];
    o.set_id(shuffled[i]);
    o.set_sub_kind(v1::OFFER_SUB_KIND_SELF_CATERING);
    o.mutable_location()->set_latitude(lat0 + 0.0001 * static_cast<double>(i % 7));
    o.mutable_location()->set_longitude(lon0);
    o.clear_prices();
    v1::Price* price = o.add_prices();
    price->set_unit(v1::PRICE_UNIT_PER_WEEK);
    price->set_min_amount_cents(i % 2 ? 50000 : 60000);  // two runs of equal prices
    price->set_max_amount_cents(price->min_amount_cents());
    o.mutable_classification()->set_level(static_cast<int>(1 + i % 3));
    level_of[o.id()] = o.classification().level();
    o.set_etag(absl::StrCat(++revision));
    index_.UpsertOffer(o, revision);
  }
  index_.SetRevision(revision);
  auto walk = [&](v1::SearchOffersRequest q) {
    std::vector<std::string> got;
    for (int page = 0; page < 100; ++page) {
      absl::StatusOr<SearchOutcome> out = index_.Search(q);
      EXPECT_OK(out);
      if (!out.ok()) break;
      for (const auto& hit : out->hits) {
        v1::Offer o;
        EXPECT_TRUE(o.ParseFromString(hit.offer_bytes));
        got.push_back(o.id());
      }
      if (out->next_page_token.empty()) break;
      q.set_page_token(out->next_page_token);
    }
    return got;
  };
  v1::SearchOffersRequest q;
  q.add_sub_kinds(v1::OFFER_SUB_KIND_SELF_CATERING);
  q.mutable_near()->mutable_point()->set_latitude(lat0);
  q.mutable_near()->mutable_point()->set_longitude(lon0);
  q.mutable_near()->set_radius_km(2);
  q.set_page_size(6);
  q.set_skip_total_count(true);  // pages read from the ordered lists
  std::vector<std::string> by_id = ids;
  std::sort(by_id.begin(), by_id.end());
  EXPECT_EQ(by_id, walk(q));
  std::vector<std::string> by_price = by_id;
  std::stable_sort(by_price.begin(), by_price.end(),
                   [&](const std::string& a, const std::string& b) {
                     auto at = [&](const std::string& id) {
                       return std::find(shuffled.begin(), shuffled.end(), id) - shuffled.begin();
                     };
                     return at(a) % 2 > at(b) % 2;  // odd places were filed at the lower price
                   });
  q.set_sort(v1::SORT_ORDER_PRICE_ASCENDING);
  EXPECT_EQ(by_price, walk(q));
  std::vector<std::string> by_class = by_id;
  std::stable_sort(
      by_class.begin(), by_class.end(),
      [&](const std::string& a, const std::string& b) { return level_of[a] > level_of[b]; });
  q.set_sort(v1::SORT_ORDER_CLASSIFICATION);
  q.set_min_classification(1);
  EXPECT_EQ(by_class, walk(q));
  // Later pages start just after their token's id, however many ids share its first bytes.
  q.set_sort(v1::SORT_ORDER_UNSPECIFIED);
  q.set_min_classification(0);
  q.set_page_size(1);
  EXPECT_EQ(by_id, walk(q));
  // With the total count every match is read and each page picked among them, ties of sort key
  // broken by id: the same orders.
  q.set_skip_total_count(false);
  for (int page_size : {6, 1}) {
    q.set_page_size(page_size);
    q.set_sort(v1::SORT_ORDER_UNSPECIFIED);
    q.set_min_classification(0);
    EXPECT_EQ(by_id, walk(q)) << page_size;
    q.set_sort(v1::SORT_ORDER_PRICE_ASCENDING);
    EXPECT_EQ(by_price, walk(q)) << page_size;
    q.set_sort(v1::SORT_ORDER_CLASSIFICATION);
    q.set_min_classification(1);
    EXPECT_EQ(by_class, walk(q)) << page_size;
  }
}

TEST_F(OfferIndexTest, SortsAndReportsDistances) {
  v1::SearchOffersRequest q;
  q.add_kinds(v1::OFFER_KIND_ACTIVITY);
  q.mutable_near()->mutable_point()->set_latitude(45.0279);  // Saint-Flour
  q.mutable_near()->mutable_point()->set_longitude(3.0832);
  q.mutable_near()->set_radius_km(30);
  q.set_sort(v1::SORT_ORDER_DISTANCE);
  q.set_page_size(1000);
  auto out = index_.Search(q);
  ASSERT_OK(out);
  ASSERT_GT(out->hits.size(), 5u);
  for (size_t i = 1; i < out->hits.size(); ++i) EXPECT_LE(out->hits[i - 1].distance_km, out->hits[i].distance_km);
  EXPECT_LE(out->hits.back().distance_km, 30);

  q.clear_near();
  q.set_sort(v1::SORT_ORDER_PRICE_ASCENDING);
  q.mutable_price()->set_unit(v1::PRICE_UNIT_PER_PERSON);
  out = index_.Search(q);
  ASSERT_OK(out);
  int64_t last = -1;
  for (const auto& hit : out->hits) {
    v1::Offer o;
    o.ParseFromString(hit.offer_bytes);
    int64_t lowest = INT64_MAX;
    for (const auto& p : o.prices()) if (p.unit() == v1::PRICE_UNIT_PER_PERSON) lowest = std::min(lowest, p.min_amount_cents());
    EXPECT_GE(lowest, last);
    last = lowest;
  }
}

TEST_F(OfferIndexTest, CountsFacets) {
  v1::SearchOffersRequest q;
  q.add_kinds(v1::OFFER_KIND_LODGING);
  q.set_include_facets(true);
  auto out = index_.Search(q);
  ASSERT_OK(out);
  std::map<std::string, int64_t> sub_kinds, tags, communes, levels;
  int64_t lodging = 0;
  for (const auto& [id, o] : offers_) {
    if (o.kind() != v1::OFFER_KIND_LODGING) continue;
    ++lodging;
    ++sub_kinds[v1::OfferSubKind_Name(o.sub_kind())];
    for (const auto& t : o.tags()) ++tags[t];
    ++communes[providers_[o.provider_id()].address().insee_code()];
    ++levels[absl::StrCat(o.classification().level())];
  }
  std::map<std::string, std::map<std::string, int64_t>> facets;
  for (const auto& f : out->facets) {
    for (int i = 0; i < f.counts_size(); ++i) {
      facets[f.name()][f.counts(i).value()] = f.counts(i).count();
      if (i > 0) {  // by count, then by value
        const v1::FacetCount &before = f.counts(i - 1), &c = f.counts(i);
        EXPECT_TRUE(before.count() > c.count() || (before.count() == c.count() && before.value() < c.value()))
            << f.name() << " " << i;
      }
    }
  }
  EXPECT_EQ(lodging, facets["kind"]["OFFER_KIND_LODGING"]);
  EXPECT_EQ(1u, facets["kind"].size());
  EXPECT_EQ(sub_kinds, facets["sub_kind"]);
  EXPECT_EQ(tags, facets["tag"]);
  EXPECT_EQ(levels, facets["classification"]);
  // Communes: the 50 most frequent.
  ASSERT_GT(communes.size(), 50u);
  ASSERT_EQ(50u, facets["commune"].size());
  int64_t least_shown = lodging;
  for (const auto& [insee, count] : facets["commune"]) {
    EXPECT_EQ(communes[insee], count) << insee;
    least_shown = std::min(least_shown, count);
  }
  for (const auto& [insee, count] : communes) {
    if (facets["commune"].count(insee) == 0) {
      EXPECT_LE(count, least_shown) << insee;
    }
  }
}

TEST_F(OfferIndexTest, PagesReadTheCatalogAsOfTheFirstPage) {
  v1::SearchOffersRequest q;
  q.add_kinds(v1::OFFER_KIND_ACTIVITY);
  q.set_sort(v1::SORT_ORDER_PRICE_ASCENDING);
  q.set_page_size(10);
  auto first = index_.Search(q);
  ASSERT_OK(first);
  std::set<std::string> expected;
  for (const auto& [id, o] : offers_) if (o.kind() == v1::OFFER_KIND_ACTIVITY) expected.insert(id);
  std::set<std::string> seen;
  for (const auto& hit : first->hits) {
    v1::Offer o;
    o.ParseFromString(hit.offer_bytes);
    seen.insert(o.id());
  }
  // Between pages: every activity gets cheaper (moves ahead of the cursor), some are deleted,
  // and new ones arrive. The walk still sees the catalog of its first page.
  uint64_t revision = 100000;
  int n = 0;
  for (auto& [id, o] : offers_) {
    if (o.kind() != v1::OFFER_KIND_ACTIVITY) continue;
    if (++n % 5 == 0) {
      index_.RemoveOffer(id, ++revision);
      continue;
    }
    v1::Offer cheaper = o;
    cheaper.mutable_prices(0)->set_min_amount_cents(1);
    index_.UpsertOffer(cheaper, ++revision);
  }
  v1::Offer fresh = offers_.begin()->second;
  fresh.set_id("brand-new");
  fresh.set_kind(v1::OFFER_KIND_ACTIVITY);
  fresh.set_sub_kind(v1::OFFER_SUB_KIND_NATURE);
  index_.UpsertOffer(fresh, ++revision);
  index_.SetRevision(revision);

  q.set_page_token(first->next_page_token);
  while (!q.page_token().empty()) {
    auto page = index_.Search(q);
    ASSERT_OK(page);
    for (const auto& hit : page->hits) {
      v1::Offer o;
      o.ParseFromString(hit.offer_bytes);
      EXPECT_TRUE(seen.insert(o.id()).second) << o.id() << " came twice";
    }
    q.set_page_token(page->next_page_token);
  }
  EXPECT_EQ(expected, seen);

  // Once compacted past the walk, its tokens are refused and a new walk sees the new catalog.
  index_.Compact(revision);
  q.set_page_token(first->next_page_token);
  EXPECT_EQ(absl::StatusCode::kFailedPrecondition, index_.Search(q).status().code());
  q.clear_page_token();
  auto fresh_walk = index_.Search(q);
  ASSERT_OK(fresh_walk);
  EXPECT_EQ(static_cast<int64_t>(expected.size() - expected.size() / 5 + 1), fresh_walk->total_count);
}

// A walk with the total count counts its matches once: later pages carry the count in their tokens
// (the walk reads the catalog as of its first page, so the count holds however the catalog changes
// between pages), and those read in their order read only what they return. A walk whose first
// page skipped the count gets it on the first later page that asks.
TEST_F(OfferIndexTest, AWalkCountsItsMatchesOnce) {
  // Lodging in the Cantal: pages of kinds in a departement can be read in their order.
  v1::SearchOffersRequest filters;
  filters.add_kinds(v1::OFFER_KIND_LODGING);
  filters.set_departement("15");
  std::set<std::string> expected;
  for (const auto& [id, o] : offers_) {
    if (Matches(filters, o, providers_[o.provider_id()])) expected.insert(id);
  }
  ASSERT_GT(expected.size(), 60u);
  uint64_t revision = 200000;
  for (v1::SortOrder sort : {v1::SORT_ORDER_UNSPECIFIED, v1::SORT_ORDER_PRICE_ASCENDING,
                             v1::SORT_ORDER_CLASSIFICATION}) {
    for (bool count_first : {true, false}) {
      v1::SearchOffersRequest q = filters;
      q.set_sort(sort);
      q.set_page_size(9);
      q.set_skip_total_count(!count_first);
      absl::StatusOr<SearchOutcome> first = index_.Search(q);
      ASSERT_OK(first);
      EXPECT_EQ(count_first ? static_cast<int64_t>(expected.size()) : 0, first->total_count);
      std::set<std::string> seen;
      for (const auto& hit : first->hits) {
        v1::Offer o;
        ASSERT_TRUE(o.ParseFromString(hit.offer_bytes));
        seen.insert(o.id());
      }
      // Between pages, a new lodging offer and a removed one (put back after the walk).
      v1::Offer fresh = offers_.begin()->second;
      fresh.set_id(absl::StrCat("fresh-", revision));
      fresh.set_kind(v1::OFFER_KIND_LODGING);
      fresh.set_sub_kind(v1::OFFER_SUB_KIND_SELF_CATERING);
      index_.UpsertOffer(fresh, ++revision);
      const v1::Offer& removed = offers_.at(*expected.rbegin());
      index_.RemoveOffer(removed.id(), ++revision);
      index_.SetRevision(revision);

      q.set_skip_total_count(false);
      q.set_page_token(first->next_page_token);
      for (int page = 1; !q.page_token().empty(); ++page) {
        absl::StatusOr<SearchOutcome> out = index_.Search(q);
        ASSERT_OK(out);
        EXPECT_EQ(static_cast<int64_t>(expected.size()), out->total_count)
            << "page " << page << " " << q.ShortDebugString();
        // Pages in the default order are read in their order once the count is known: from the
        // second page of a counted walk, from the third of the other. (Later pages by price, and
        // those of unclassified offers by classification, are full reads whatever the count.)
        if (sort == v1::SORT_ORDER_UNSPECIFIED && page >= (count_first ? 1 : 2)) {
          EXPECT_LT(out->candidates, static_cast<int64_t>(expected.size()) / 2)
              << "page " << page << " " << q.ShortDebugString();
        }
        for (const auto& hit : out->hits) {
          v1::Offer o;
          ASSERT_TRUE(o.ParseFromString(hit.offer_bytes));
          EXPECT_TRUE(seen.insert(o.id()).second) << o.id() << " came twice";
        }
        q.set_page_token(out->next_page_token);
      }
      EXPECT_EQ(expected, seen) << q.ShortDebugString();
      index_.RemoveOffer(fresh.id(), ++revision);
      v1::Offer back = removed;
      back.set_etag(absl::StrCat(++revision));
      index_.UpsertOffer(back, revision);
      index_.SetRevision(revision);
    }
  }
}

// The index finds a live offer by its id through every change: a new version replaces the old
// one (which dies), a removal forgets it, and a compaction keeps what lives.
TEST_F(OfferIndexTest, KnowsWhichOffersLiveThroughUpdatesRemovalsAndCompaction) {
  const size_t live = offers_.size();
  ASSERT_EQ(live, index_.live_offers());
  uint64_t revision = 200000;
  size_t n = 0, removed = 0;
  for (const auto& [id, o] : offers_) {
    ASSERT_TRUE(index_.HasOffer(id)) << id;
    v1::Offer changed = o;
    changed.set_title(absl::StrCat("Nouveau ", n));
    index_.UpsertOffer(changed, ++revision);  // a new version of each
    if (++n % 3 == 0) {
      index_.RemoveOffer(id, ++revision);
      ++removed;
    }
  }
  index_.SetRevision(revision);
  EXPECT_EQ(live - removed, index_.live_offers());
  EXPECT_EQ(live + removed, index_.dead_versions());
  n = 0;
  for (const auto& [id, o] : offers_) EXPECT_EQ(++n % 3 != 0, index_.HasOffer(id)) << id;
  EXPECT_FALSE(index_.HasOffer("nowhere"));

  index_.Compact(revision);
  EXPECT_EQ(live - removed, index_.live_offers());
  EXPECT_EQ(0u, index_.dead_versions());
  // After compaction a change still finds the one live version it replaces.
  const v1::Offer& first = offers_.begin()->second;
  index_.UpsertOffer(first, ++revision);
  index_.SetRevision(revision);
  EXPECT_EQ(1u, index_.dead_versions());
  EXPECT_EQ(live - removed, index_.live_offers());
  v1::SearchOffersRequest q;
  q.set_provider_id(first.provider_id());
  auto out = index_.Search(q);
  ASSERT_OK(out);
  size_t of_provider = 0;
  n = 0;
  for (const auto& [id, o] : offers_)
    of_provider += (++n % 3 != 0 || id == first.id()) && o.provider_id() == first.provider_id();
  EXPECT_EQ(static_cast<int64_t>(of_provider), out->total_count);
}

TEST_F(OfferIndexTest, ProviderChangesReachTheirOffers) {
  v1::Provider p = catalog_.providers[0];
  std::string offer_id;
  for (const auto& [id, o] : offers_) if (o.provider_id() == p.id()) offer_id = id;
  ASSERT_FALSE(offer_id.empty());
  p.set_name("Zygomatique Aventures");
  p.mutable_address()->set_insee_code("15187");
  p.mutable_location()->set_latitude(45.0279);
  p.mutable_location()->set_longitude(3.0832);
  index_.UpsertProvider(p, 50000);
  index_.SetRevision(50000);
  v1::SearchOffersRequest q;
  q.set_text("zygomatique");
  q.set_insee_code("15187");
  auto out = index_.Search(q);
  ASSERT_OK(out);
  ASSERT_EQ(static_cast<size_t>(std::count_if(offers_.begin(), offers_.end(),
                                               [&](const auto& e) { return e.second.provider_id() == p.id(); })),
            out->hits.size());
  v1::Offer shown;
  shown.ParseFromString(out->hits[0].offer_bytes);
  EXPECT_DOUBLE_EQ(45.0279, shown.location().latitude());  // inherited from the provider
}

// An offer and then its provider's change, published together (one import batch): the provider's
// new place and name reach the offer written just before.
TEST_F(OfferIndexTest, ProviderChangesReachOffersOfTheSameBatch) {
  v1::Provider p = catalog_.providers[0];
  v1::Offer o = offers_.begin()->second;
  o.set_id("written-just-before");
  o.set_provider_id(p.id());
  o.clear_location();
  index_.UpsertOffer(o, 50000);
  p.set_name("Zygomatique Aventures");
  p.mutable_location()->set_latitude(45.0279);
  p.mutable_location()->set_longitude(3.0832);
  index_.UpsertProvider(p, 50001);
  index_.SetRevision(50001);
  v1::SearchOffersRequest q;
  q.set_text("zygomatique");
  auto out = index_.Search(q);
  ASSERT_OK(out);
  std::vector<std::string> ids;
  for (const auto& hit : out->hits) {
    v1::Offer shown;
    ASSERT_TRUE(shown.ParseFromString(hit.offer_bytes));
    ids.push_back(shown.id());
    if (shown.id() == o.id()) {
      EXPECT_DOUBLE_EQ(45.0279, shown.location().latitude());
    }
  }
  EXPECT_NE(std::find(ids.begin(), ids.end(), o.id()), ids.end());
}

// The index knows which providers are stored, by id, apart from every other string it holds
// (an offer's id, a word, a commune), through a removal and a return elsewhere.
TEST_F(OfferIndexTest, KnowsWhichProvidersAreStoredThroughRemovalAndReturn) {
  for (const auto& [id, p] : providers_) ASSERT_TRUE(index_.HasProvider(id)) << id;
  const v1::Offer& an_offer = offers_.begin()->second;
  for (const std::string& not_a_provider :
       {std::string("nowhere"), an_offer.id(), std::string("gite"),
        providers_.begin()->second.address().insee_code(), std::string()}) {
    EXPECT_FALSE(index_.HasProvider(not_a_provider)) << not_a_provider;
  }
  const v1::Provider gone = providers_.at(an_offer.provider_id());
  absl::flat_hash_map<absl::string_view, bool> providers = {{gone.id(), false},
                                                            {an_offer.id(), false}};
  absl::flat_hash_map<absl::string_view, bool> offers = {{an_offer.id(), false},
                                                         {gone.id(), false}};
  index_.LookUpIds(&providers, &offers);
  EXPECT_TRUE(providers[gone.id()]);
  EXPECT_FALSE(providers[an_offer.id()]);
  EXPECT_TRUE(offers[an_offer.id()]);
  EXPECT_FALSE(offers[gone.id()]);

  // Its offers go, then the provider: it is no longer known, and the others still are.
  uint64_t revision = 300000;
  std::vector<v1::Offer> its_offers;
  for (const auto& [id, o] : offers_) {
    if (o.provider_id() != gone.id()) continue;
    its_offers.push_back(o);
    index_.RemoveOffer(id, ++revision);
  }
  index_.RemoveProvider(gone.id(), ++revision);
  index_.RemoveProvider("nowhere", ++revision);  // no-op
  index_.SetRevision(revision);
  EXPECT_FALSE(index_.HasProvider(gone.id()));
  for (const auto& [id, p] : providers_) EXPECT_EQ(id != gone.id(), index_.HasProvider(id)) << id;

  // It comes back in another commune with its offers, which are found under it and there.
  v1::Provider back = gone;
  back.mutable_address()->set_insee_code("15187");
  back.mutable_address()->set_commune("Saint-Flour");
  index_.UpsertProvider(back, ++revision);
  for (const v1::Offer& o : its_offers) index_.UpsertOffer(o, ++revision);
  index_.SetRevision(revision);
  EXPECT_TRUE(index_.HasProvider(gone.id()));
  v1::SearchOffersRequest q;
  q.set_provider_id(gone.id());
  q.set_insee_code("15187");
  auto out = index_.Search(q);
  ASSERT_OK(out);
  EXPECT_EQ(static_cast<int64_t>(its_offers.size()), out->total_count);

  // A provider whose id is also a word of the catalog: each stays what it is.
  v1::SearchOffersRequest text;
  text.set_text("gite");
  auto before = index_.Search(text);
  ASSERT_OK(before);
  ASSERT_GT(before->total_count, 0);
  v1::Provider word = back;
  word.set_id("gite");
  word.set_name("Ferme Zeta");
  index_.UpsertProvider(word, ++revision);
  v1::Offer its = its_offers[0];
  its.set_id("zeta-1");
  its.set_provider_id("gite");
  its.set_title("Chambre Zeta");
  its.clear_descriptions();
  index_.UpsertOffer(its, ++revision);
  index_.SetRevision(revision);
  EXPECT_TRUE(index_.HasProvider("gite"));
  v1::SearchOffersRequest by_provider;
  by_provider.set_provider_id("gite");
  out = index_.Search(by_provider);
  ASSERT_OK(out);
  ASSERT_EQ(1, out->total_count);
  v1::Offer found;
  ASSERT_TRUE(found.ParseFromString(out->hits[0].offer_bytes));
  EXPECT_EQ("zeta-1", found.id());
  auto after = index_.Search(text);
  ASSERT_OK(after);
  EXPECT_EQ(before->total_count, after->total_count);
}

TEST_F(OfferIndexTest, RefusesBadQueriesNamingTheField) {
  v1::SearchOffersRequest q;
  q.set_page_size(5000);
  EXPECT_EQ("page_size: must be in 0-1000", index_.Search(q).status().message());
  q.Clear();
  q.mutable_near()->set_radius_km(-1);
  EXPECT_EQ("near.radius_km: must be in (0, 1000]", index_.Search(q).status().message());
  q.Clear();
  q.set_sort(v1::SORT_ORDER_DISTANCE);
  EXPECT_EQ("sort: SORT_ORDER_DISTANCE needs near", index_.Search(q).status().message());
  q.Clear();
  q.mutable_price()->set_min_amount_cents(500);
  q.mutable_price()->set_max_amount_cents(100);
  EXPECT_EQ("price.max_amount_cents: is below min_amount_cents", index_.Search(q).status().message());
  q.Clear();
  q.set_page_token("garbage");
  EXPECT_EQ(absl::StatusCode::kInvalidArgument, index_.Search(q).status().code());
  // A token of another query.
  q.Clear();
  q.add_kinds(v1::OFFER_KIND_LODGING);
  q.set_page_size(3);
  auto first = index_.Search(q);
  ASSERT_OK(first);
  q.set_page_token(first->next_page_token);
  q.set_persons(4);
  EXPECT_EQ("page_token: does not belong to this query (filters and sort must stay the same)",
            index_.Search(q).status().message());
}

}  // namespace
}  // namespace atable
