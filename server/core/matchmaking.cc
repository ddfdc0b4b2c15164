#include "server/core/matchmaking.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "server/core/offer_index.h"
#include "server/core/text.h"

namespace atable {
namespace {

// Languages the scorer knows as bits; others count as unknown.
const std::vector<std::string>& KnownLanguages() {
  static const auto* k = new std::vector<std::string>{"fr", "en", "de", "es", "it", "nl", "pt", "zh", "ja", "ru", "ar", "pl"};
  return *k;
}
uint32_t LanguageBit(const std::string& code) {
  const auto& known = KnownLanguages();
  auto it = std::find(known.begin(), known.end(), code);
  return it == known.end() ? 0 : 1u << (it - known.begin());
}

int32_t DayOf(const v1::Date& d) { return d.year() * 512 + d.month() * 32 + d.day(); }

std::string Euros(int64_t cents) {
  return cents % 100 == 0 ? absl::StrCat(cents / 100) : absl::StrFormat("%.2f", cents / 100.0);
}

const char* UnitWords(int unit) {
  switch (unit) {
    case v1::PRICE_UNIT_PER_NIGHT: return "a night";
    case v1::PRICE_UNIT_PER_WEEK: return "a week";
    case v1::PRICE_UNIT_PER_PERSON: return "a person";
    case v1::PRICE_UNIT_PER_PERSON_PER_NIGHT: return "a person a night";
    case v1::PRICE_UNIT_PER_GROUP: return "a group";
    case v1::PRICE_UNIT_PER_STAY: return "a stay";
    default: return "";
  }
}

const char* SubKindWord(int sub_kind, int kind) {
  switch (sub_kind) {
    case v1::OFFER_SUB_KIND_HOTEL: return "hotel";
    case v1::OFFER_SUB_KIND_CAMPSITE: return "campsite";
    case v1::OFFER_SUB_KIND_HOLIDAY_VILLAGE: return "holiday village";
    case v1::OFFER_SUB_KIND_GROUP_LODGING: return "group lodging";
    case v1::OFFER_SUB_KIND_SELF_CATERING: return "gîte";
    case v1::OFFER_SUB_KIND_GUESTHOUSE: return "guesthouse";
    case v1::OFFER_SUB_KIND_TOURIST_RESIDENCE: return "tourist residence";
    case v1::OFFER_SUB_KIND_OUTDOOR_SPORT: return "outdoor activity";
    case v1::OFFER_SUB_KIND_SNOW_SPORT: return "snow activity";
    case v1::OFFER_SUB_KIND_WELLNESS: return "wellness";
    case v1::OFFER_SUB_KIND_GASTRONOMY: return "tasting";
    case v1::OFFER_SUB_KIND_CULTURE_HERITAGE: return "visit";
    case v1::OFFER_SUB_KIND_NATURE: return "nature outing";
    case v1::OFFER_SUB_KIND_FAMILY_LEISURE: return "family leisure";
    case v1::OFFER_SUB_KIND_TOUR: return "tour";
    case v1::OFFER_SUB_KIND_SHORT_BREAK: return "short break";
    default:
      return kind == v1::OFFER_KIND_LODGING ? "lodging" : kind == v1::OFFER_KIND_ACTIVITY ? "activity"
                                                       : kind == v1::OFFER_KIND_PACKAGE ? "package" : "offer";
  }
}

// "Dégustation de Cantal AOP - Ferme du Puy" -> "dégustation de Cantal AOP".
std::string ShortTitle(const std::string& title) {
  std::string t = title.substr(0, title.find(" - "));
  if (!t.empty() && t[0] >= 'A' && t[0] <= 'Z') t[0] = static_cast<char>(t[0] - 'A' + 'a');
  return t;
}

template <typename T>
bool SortedHas(const std::vector<T>& v, T x) { return std::binary_search(v.begin(), v.end(), x); }

// Soft criteria weights.
constexpr double kPriceWeight = 3, kTagsWeight = 2, kAreaWeight = 2, kDatesWeight = 1,
                 kClassWeight = 1, kLanguagesWeight = 1, kPriceQualityWeight = 1;
constexpr double kUnknownValue = 0.5;  // an unknown fact counts half

}  // namespace

ScoringCatalog::ScoringCatalog(const std::vector<v1::Provider>& providers,
                               const std::vector<v1::Offer>& offers) {
  for (const v1::Provider& p : providers) {
    provider_index_[p.id()] = static_cast<int>(providers_.size());
    providers_.push_back({&p, {}});
  }
  auto intern = [&](const std::string& s) {
    auto [it, added] = tags_.emplace(s, static_cast<uint32_t>(tags_.size()) + 1);
    return it->second;
  };
  for (const v1::Offer& o : offers) {
    auto p = provider_index_.find(o.provider_id());
    if (p == provider_index_.end()) continue;
    const v1::Provider& provider = *providers_[p->second].provider;
    Offer f;
    f.offer = &o;
    f.provider = static_cast<uint32_t>(p->second);
    f.kind = o.kind();
    f.sub_kind = o.sub_kind();
    f.min_persons = o.capacity().min_persons();
    f.max_persons = o.capacity().max_persons();
    f.class_level = o.has_classification() ? o.classification().level() : 0;
    const v1::GeoPoint* at = o.has_location() ? &o.location() : provider.has_location() ? &provider.location() : nullptr;
    f.has_location = at != nullptr;
    f.lat = at ? at->latitude() : 0;
    f.lon = at ? at->longitude() : 0;
    f.insee = provider.address().insee_code();
    f.departement = f.insee.size() >= 2 ? f.insee.substr(0, f.insee.rfind("97", 0) == 0 ? 3 : 2) : "";
    for (const auto& t : o.tags()) f.tags.push_back(intern(FoldAccentsLower(t)));
    for (const auto& l : o.labels()) f.labels.push_back(intern(l));
    for (const auto& l : provider.labels()) f.labels.push_back(intern(l));
    std::sort(f.tags.begin(), f.tags.end());
    std::sort(f.labels.begin(), f.labels.end());
    f.languages = 0;
    for (const auto& l : o.languages()) f.languages |= LanguageBit(l);
    for (const auto& l : provider.languages()) f.languages |= LanguageBit(l);
    f.price_quality = 0;
    for (int t : o.price_quality_tags()) f.price_quality |= 1u << t;
    for (const auto& r : o.opening_periods()) f.open.emplace_back(DayOf(r.start()), DayOf(r.end()));
    providers_[p->second].offers.push_back(static_cast<uint32_t>(offers_.size()));
    offers_.push_back(std::move(f));
  }
}

int ScoringCatalog::FindProvider(const std::string& id) const {
  auto it = provider_index_.find(id);
  return it == provider_index_.end() ? -1 : it->second;
}

uint32_t ScoringCatalog::TagId(const std::string& tag) const {
  auto it = tags_.find(tag);
  return it == tags_.end() ? 0 : it->second;
}

CompiledNeed::CompiledNeed(const v1::Need& need, const ScoringCatalog& catalog) : need_(&need) {
  for (const auto& t : need.required_tags()) {
    uint32_t id = catalog.TagId(FoldAccentsLower(t));
    if (id == 0) impossible_ = true;
    required_tags_.push_back(id);
  }
  for (const auto& l : need.required_labels()) {
    uint32_t id = catalog.TagId(l);
    if (id == 0) impossible_ = true;
    required_labels_.push_back(id);
  }
  for (const auto& p : need.preferred_tags()) {
    double w = p.weight() > 0 ? p.weight() : 1;
    preferred_total_ += w;
    preferred_.emplace_back(catalog.TagId(FoldAccentsLower(p.tag())), w);
  }
  for (const auto& l : need.languages()) {
    languages_ |= LanguageBit(l);
    ++language_count_;
  }
  for (int t : need.price_quality()) price_quality_ |= 1u << t;
  if (need.has_window()) {
    window_from_ = DayOf(need.window().start());
    window_to_ = DayOf(need.window().end());
  }
}

OfferFit CompiledNeed::Score(const ScoringCatalog::Offer& offer) const { return Evaluate(offer, nullptr); }

OfferFit CompiledNeed::Explain(const ScoringCatalog::Offer& offer,
                               std::vector<v1::CriterionResult>* criteria) const {
  return Evaluate(offer, criteria);
}

OfferFit CompiledNeed::Evaluate(const ScoringCatalog::Offer& o,
                                std::vector<v1::CriterionResult>* criteria) const {
  const v1::Need& n = *need_;
  OfferFit fit;
  fit.excluded = true;
  if (impossible_) return fit;
  // Hard criteria.
  if (n.kinds_size() && std::find(n.kinds().begin(), n.kinds().end(), o.kind) == n.kinds().end()) return fit;
  if (n.sub_kinds_size() && std::find(n.sub_kinds().begin(), n.sub_kinds().end(), o.sub_kind) == n.sub_kinds().end()) return fit;
  for (uint32_t t : required_tags_) if (!SortedHas(o.tags, t)) return fit;
  for (uint32_t l : required_labels_) if (!SortedHas(o.labels, l)) return fit;
  bool capacity_known = o.max_persons > 0;
  if (n.group_size() > 0 && capacity_known && (o.max_persons < n.group_size() || o.min_persons > n.group_size())) return fit;
  if (n.min_classification() > 0 && o.class_level > 0 && o.class_level < n.min_classification()) return fit;
  const v1::Area& area = n.area();
  bool has_area = area.insee_codes_size() || area.departements_size() || area.has_circle();
  double distance = -1;
  bool inside = false;
  if (has_area && o.has_location) {
    if (area.has_circle()) {
      const v1::GeoPoint& c = area.circle().point();
      // A hard area far outside needs no exact distance: 1 degree of latitude is 111 km.
      if (area.hard() && std::abs(o.lat - c.latitude()) * 111.0 > area.circle().radius_km() + 1) return fit;
      distance = DistanceKm(c.latitude(), c.longitude(), o.lat, o.lon);
      inside = distance <= area.circle().radius_km();
    }
    if (!inside && area.insee_codes_size()) {
      inside = std::find(area.insee_codes().begin(), area.insee_codes().end(), o.insee) != area.insee_codes().end();
    }
    if (!inside && area.departements_size()) {
      inside = std::find(area.departements().begin(), area.departements().end(), o.departement) != area.departements().end();
    }
    if (area.hard() && !inside) return fit;
  }
  fit.excluded = false;

  // Soft criteria: a weighted mean; each explained criterion records its share.
  struct Part {
    const char* name;
    double weight, value;
    v1::CriterionResult::Outcome outcome;
    std::string detail;
  };
  // At most 8 soft criteria: a fixed array, so that scoring allocates nothing.
  Part parts_storage[8];
  size_t n_parts = 0;
  auto add = [&](const char* name, double weight, double value, v1::CriterionResult::Outcome outcome, auto&& detail) {
    Part& part = parts_storage[n_parts++];
    part.name = name, part.weight = weight, part.value = value, part.outcome = outcome;
    if (criteria) part.detail = detail();
  };
  using R = v1::CriterionResult;
  if (n.has_price()) {
    const v1::PriceFilter& band = n.price();
    int64_t lo = band.min_amount_cents(), hi = band.max_amount_cents() > 0 ? band.max_amount_cents() : INT64_MAX;
    double best = -1;
    const v1::Price* shown = nullptr;
    for (const v1::Price& p : o.offer->prices()) {
      if (band.unit() != 0 && p.unit() != band.unit()) continue;
      double v;
      if (p.max_amount_cents() >= lo && p.min_amount_cents() <= hi) {
        v = 1;
      } else if (p.min_amount_cents() > hi) {
        v = std::max(0.0, 1.0 - static_cast<double>(p.min_amount_cents() - hi) / static_cast<double>(hi));
      } else {
        v = 0.7;  // cheaper than the band: less of a problem
      }
      if (v > best) best = v, shown = &p;
    }
    if (best < 0) {
      add("price", kPriceWeight, kUnknownValue, R::OUTCOME_UNKNOWN, [&] {
        return band.unit() ? absl::StrCat("no price given ", UnitWords(band.unit())) : std::string("no price given");
      });
    } else {
      add("price", kPriceWeight, best, best == 1 ? R::OUTCOME_MATCH : best > 0 ? R::OUTCOME_PARTIAL : R::OUTCOME_MISS, [&] {
        std::string amount = shown->min_amount_cents() == shown->max_amount_cents()
                                 ? Euros(shown->min_amount_cents())
                                 : absl::StrCat(Euros(shown->min_amount_cents()), "-", Euros(shown->max_amount_cents()));
        std::string wanted = band.max_amount_cents() > 0
                                 ? absl::StrCat(band.min_amount_cents() > 0 ? Euros(band.min_amount_cents()) + "-" : "up to ",
                                                Euros(band.max_amount_cents()))
                                 : absl::StrCat("from ", Euros(band.min_amount_cents()));
        return absl::StrCat(amount, " EUR ", UnitWords(shown->unit()), ", wanted ", wanted);
      });
    }
  }
  if (!preferred_.empty()) {
    double got = 0;
    std::vector<std::string> found;
    for (size_t i = 0; i < preferred_.size(); ++i) {
      if (preferred_[i].first != 0 && SortedHas(o.tags, preferred_[i].first)) {
        got += preferred_[i].second;
        if (criteria) found.push_back(n.preferred_tags(static_cast<int>(i)).tag());
      }
    }
    double v = got / preferred_total_;
    add("tags", kTagsWeight, v, v == 1 ? R::OUTCOME_MATCH : v > 0 ? R::OUTCOME_PARTIAL : R::OUTCOME_MISS, [&] {
      return found.empty() ? std::string("none of the preferred tags") : absl::StrCat("tags ", absl::StrJoin(found, ", "));
    });
  }
  if (has_area && !area.hard()) {
    if (!o.has_location) {
      add("area", kAreaWeight, kUnknownValue, R::OUTCOME_UNKNOWN, [] { return "location unknown"; });
    } else if (inside) {
      add("area", kAreaWeight, 1, R::OUTCOME_MATCH, [&] {
        return distance >= 0 ? absl::StrFormat("%.0f km from %s", distance, area.place_name().empty() ? "the centre" : area.place_name())
                             : std::string("in the area");
      });
    } else {
      double excess = distance >= 0 ? distance - area.circle().radius_km() : 50;
      double v = 1.0 / (1.0 + excess / 20.0);
      add("area", kAreaWeight, v, R::OUTCOME_PARTIAL, [&] {
        return distance >= 0 ? absl::StrFormat("%.0f km from %s, outside the %.0f km wanted", distance,
                                               area.place_name().empty() ? "the centre" : area.place_name(), area.circle().radius_km())
                             : std::string("outside the area");
      });
    }
  } else if (has_area && o.has_location && criteria) {
    add("area", 0, 1, R::OUTCOME_MATCH, [&] {
      return distance >= 0 ? absl::StrFormat("%.0f km from %s", distance, area.place_name().empty() ? "the centre" : area.place_name())
                           : std::string("in the area");
    });
  }
  if (n.has_window()) {
    if (o.open.empty()) {
      add("dates", kDatesWeight, kUnknownValue, R::OUTCOME_UNKNOWN, [] { return "opening dates not given"; });
    } else {
      bool open = false;
      for (const auto& [s, e] : o.open) open = open || (s <= window_to_ && e >= window_from_);
      add("dates", kDatesWeight, open ? 1 : 0, open ? R::OUTCOME_MATCH : R::OUTCOME_MISS,
          [&] { return open ? "open in the wanted dates" : "closed in the wanted dates"; });
    }
  }
  if (n.group_size() > 0) {  // already a hard filter; reported, and unknown capacity counts half
    if (!capacity_known) {
      add("group_size", 1, kUnknownValue, R::OUTCOME_UNKNOWN, [] { return "capacity not given"; });
    } else {
      add("group_size", 1, 1, R::OUTCOME_MATCH, [&] { return absl::StrCat("takes ", n.group_size(), " (up to ", o.max_persons, ")"); });
    }
  }
  if (n.min_classification() > 0) {
    if (o.class_level == 0) {
      add("classification", kClassWeight, kUnknownValue, R::OUTCOME_UNKNOWN, [] { return "not classified"; });
    } else {
      double v = n.min_classification() >= 5 ? 1 : 0.6 + 0.4 * (o.class_level - n.min_classification()) / (5.0 - n.min_classification());
      add("classification", kClassWeight, v, R::OUTCOME_MATCH, [&] { return absl::StrCat("classified ", o.class_level); });
    }
  }
  if (language_count_ > 0) {
    if (o.languages == 0) {
      add("languages", kLanguagesWeight, kUnknownValue, R::OUTCOME_UNKNOWN, [] { return "languages not given"; });
    } else {
      double v = static_cast<double>(__builtin_popcount(o.languages & languages_)) / language_count_;
      add("languages", kLanguagesWeight, v, v == 1 ? R::OUTCOME_MATCH : v > 0 ? R::OUTCOME_PARTIAL : R::OUTCOME_MISS,
          [&] { return v == 1 ? "speaks the customers' languages" : v > 0 ? "speaks some of the customers' languages" : "does not speak the customers' languages"; });
    }
  }
  if (price_quality_ != 0) {
    if (o.price_quality == 0) {
      add("price_quality", kPriceQualityWeight, kUnknownValue, R::OUTCOME_UNKNOWN, [] { return "price-quality not rated"; });
    } else {
      bool hit = (o.price_quality & price_quality_) != 0;
      add("price_quality", kPriceQualityWeight, hit ? 1 : 0.3, hit ? R::OUTCOME_MATCH : R::OUTCOME_MISS, [&] {
        std::vector<std::string> names;
        for (int t = 1; t < 4; ++t) {
          if (o.price_quality & (1u << t)) {
            std::string w = v1::PriceQualityTag_Name(static_cast<v1::PriceQualityTag>(t)).substr(18);
            for (char& c : w) c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            names.push_back(w);
          }
        }
        return absl::StrJoin(names, ", ");
      });
    }
  }
  const Part* parts = parts_storage;
  double total_weight = 0, total = 0;
  for (size_t i = 0; i < n_parts; ++i) total_weight += parts[i].weight, total += parts[i].weight * parts[i].value;
  fit.score = total_weight > 0 ? total / total_weight : 1.0;
  if (criteria) {
    // The hard criteria that decided come first.
    if (n.kinds_size() || n.sub_kinds_size()) {
      v1::CriterionResult c;
      c.set_criterion("kind");
      c.set_outcome(R::OUTCOME_MATCH);
      c.set_detail(SubKindWord(o.sub_kind, o.kind));
      criteria->push_back(std::move(c));
    }
    if (!required_tags_.empty() || !required_labels_.empty()) {
      v1::CriterionResult c;
      c.set_criterion(required_tags_.empty() ? "labels" : "tags_required");
      c.set_outcome(R::OUTCOME_MATCH);
      std::vector<std::string> all(n.required_tags().begin(), n.required_tags().end());
      all.insert(all.end(), n.required_labels().begin(), n.required_labels().end());
      c.set_detail(absl::StrCat("has ", absl::StrJoin(all, ", ")));
      criteria->push_back(std::move(c));
    }
    for (size_t i = 0; i < n_parts; ++i) {
      const Part& p = parts[i];
      v1::CriterionResult c;
      c.set_criterion(p.name);
      c.set_outcome(p.outcome);
      c.set_contribution(total_weight > 0 ? p.weight * p.value / total_weight : 0);
      c.set_detail(p.detail);
      criteria->push_back(std::move(c));
    }
  }
  return fit;
}

namespace {

struct ProviderNeedScore {
  double score = -1;                 // best offer score, -1: no offer fits
  std::vector<uint32_t> best_offers;  // up to 3, best first
};

// The provider's fit to a need: its best offers.
ProviderNeedScore ScoreProvider(const CompiledNeed& need, const ScoringCatalog& catalog, int provider) {
  ProviderNeedScore out;
  std::vector<std::pair<double, uint32_t>> fits;
  for (uint32_t o : catalog.providers()[provider].offers) {
    OfferFit f = need.Score(catalog.offers()[o]);
    if (!f.excluded) fits.emplace_back(f.score, o);
  }
  if (fits.empty()) return out;
  std::sort(fits.begin(), fits.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : catalog.offers()[a.second].offer->id() < catalog.offers()[b.second].offer->id();
  });
  out.score = fits[0].first;
  for (size_t i = 0; i < fits.size() && i < 3; ++i) out.best_offers.push_back(fits[i].second);
  return out;
}

// One readable sentence for a provider's fit to a need.
std::string Summary(const v1::Need& need, const ScoringCatalog& catalog, const std::vector<uint32_t>& offers) {
  const ScoringCatalog::Offer& best = catalog.offers()[offers[0]];
  std::vector<std::string> titles;
  for (uint32_t o : offers) titles.push_back(ShortTitle(catalog.offers()[o].offer->title()));
  std::string price;
  for (const v1::Price& p : best.offer->prices()) {
    if (need.price().unit() == 0 || p.unit() == need.price().unit()) {
      price = absl::StrCat(Euros(p.min_amount_cents()), " EUR ", UnitWords(p.unit()));
      break;
    }
  }
  if (best.kind == v1::OFFER_KIND_LODGING) {
    std::vector<std::string> parts;
    parts.push_back(best.max_persons > 0 ? absl::StrCat(SubKindWord(best.sub_kind, best.kind), " for ", best.max_persons)
                                         : SubKindWord(best.sub_kind, best.kind));
    if (!price.empty()) parts.push_back(price);
    if (best.offer->has_classification()) {
      const v1::Classification& c = best.offer->classification();
      parts.push_back(absl::StrCat(c.level(), c.scheme() == v1::CLASSIFICATION_SCHEME_EPIS ? " épis"
                                                : c.scheme() == v1::CLASSIFICATION_SCHEME_CLES ? " clés" : " stars"));
    }
    if (need.area().has_circle() && best.has_location) {
      double km = DistanceKm(need.area().circle().point().latitude(), need.area().circle().point().longitude(), best.lat, best.lon);
      parts.push_back(absl::StrFormat("%.0f km from %s", km, need.area().place_name().empty() ? "the centre" : need.area().place_name()));
    } else if (!catalog.providers()[best.provider].provider->address().commune().empty()) {
      parts.push_back(absl::StrCat("in ", catalog.providers()[best.provider].provider->address().commune()));
    }
    if (offers.size() > 1) parts.push_back(absl::StrCat(offers.size() - 1, " more"));
    return absl::StrJoin(parts, ", ");
  }
  std::string what = offers.size() == 1 ? SubKindWord(best.sub_kind, best.kind)
                                        : absl::StrCat(offers.size(), best.kind == v1::OFFER_KIND_ACTIVITY ? " activities" : " offers");
  std::string head = what;
  if (need.group_size() > 0) absl::StrAppend(&head, " for ", need.group_size(), need.group_size() == 1 ? " person" : " people");
  if (need.price().max_amount_cents() > 0) {
    absl::StrAppend(&head, " under ", Euros(need.price().max_amount_cents()), " EUR");
  } else if (!price.empty()) {
    absl::StrAppend(&head, ", ", price);
  }
  return absl::StrCat(head, ": ", absl::StrJoin(titles, ", "));
}

v1::NeedFit MakeFit(const CompiledNeed& need, const ScoringCatalog& catalog, const ProviderNeedScore& s) {
  v1::NeedFit fit;
  fit.set_need_id(need.need().id());
  fit.set_score(s.score);
  for (uint32_t o : s.best_offers) fit.add_offer_ids(catalog.offers()[o].offer->id());
  std::vector<v1::CriterionResult> criteria;
  need.Explain(catalog.offers()[s.best_offers[0]], &criteria);
  for (auto& c : criteria) *fit.add_criteria() = std::move(c);
  fit.set_summary(Summary(need.need(), catalog, s.best_offers));
  return fit;
}

double NeedWeight(const v1::Need& n) { return n.weight() > 0 ? n.weight() : 1; }

}  // namespace

std::vector<v1::NeedFit> ExplainPair(const v1::Buyer& buyer, const ScoringCatalog& catalog, int provider) {
  double max_weight = 0;
  for (const auto& n : buyer.needs()) max_weight = std::max(max_weight, NeedWeight(n));
  std::vector<std::pair<double, v1::NeedFit>> fits;
  for (const auto& n : buyer.needs()) {
    CompiledNeed need(n, catalog);
    ProviderNeedScore s = ScoreProvider(need, catalog, provider);
    if (s.score < 0) continue;
    fits.emplace_back(s.score * NeedWeight(n) / max_weight, MakeFit(need, catalog, s));
  }
  std::stable_sort(fits.begin(), fits.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
  std::vector<v1::NeedFit> out;
  for (auto& [w, f] : fits) out.push_back(std::move(f));
  return out;
}

std::vector<v1::PairSuggestion> SuggestPairs(const std::vector<v1::Buyer>& buyers, const ScoringCatalog& catalog,
                                             const SuggestOptions& options) {
  const int n_providers = static_cast<int>(catalog.providers().size());
  absl::flat_hash_map<std::string, int> buyer_index;
  for (size_t b = 0; b < buyers.size(); ++b) buyer_index[buyers[b].id()] = static_cast<int>(b);

  // Requests and refusals as (buyer, provider) pairs.
  auto pair_of = [&](const std::string& from, const std::string& to, bool* from_buyer) -> std::pair<int, int> {
    auto b = buyer_index.find(from);
    int p = catalog.FindProvider(to);
    if (b != buyer_index.end() && p >= 0) return *from_buyer = true, std::make_pair(b->second, p);
    b = buyer_index.find(to);
    p = catalog.FindProvider(from);
    if (b != buyer_index.end() && p >= 0) return *from_buyer = false, std::make_pair(b->second, p);
    return {-1, -1};
  };
  std::map<std::pair<int, int>, int> asked;  // bit 1: buyer asked, bit 2: provider asked
  for (const auto& [from, to] : options.requests) {
    bool from_buyer = false;
    auto key = pair_of(from, to, &from_buyer);
    if (key.first >= 0) asked[key] |= from_buyer ? 1 : 2;
  }
  std::set<std::pair<int, int>> refused;
  for (const auto& [from, to] : options.refusals) {
    bool unused = false;
    auto key = pair_of(from, to, &unused);
    if (key.first >= 0) refused.insert(key);
  }

  // Score every provider against every need, buyers split over threads.
  struct Candidate {
    int buyer, provider;
    double score;     // best weighted need score
    double adjusted;  // after the diversity discount
    int tier;         // 3 mutual, 2 provider asked, 1 buyer asked, 0 none
  };
  std::vector<std::vector<Candidate>> per_buyer(buyers.size());
  auto work = [&](size_t first, size_t step) {
    for (size_t b = first; b < buyers.size(); b += step) {
      const v1::Buyer& buyer = buyers[b];
      double max_weight = 0;
      for (const auto& n : buyer.needs()) max_weight = std::max(max_weight, NeedWeight(n));
      std::vector<double> best(n_providers, -1);
      for (const auto& n : buyer.needs()) {
        CompiledNeed need(n, catalog);
        double w = NeedWeight(n) / max_weight;
        for (int p = 0; p < n_providers; ++p) {
          for (uint32_t o : catalog.providers()[p].offers) {
            OfferFit f = need.Score(catalog.offers()[o]);
            if (!f.excluded && f.score * w > best[p]) best[p] = f.score * w;
          }
        }
      }
      std::vector<Candidate>& out = per_buyer[b];
      for (int p = 0; p < n_providers; ++p) {
        auto a = asked.find({static_cast<int>(b), p});
        int tier = a == asked.end() ? 0 : a->second == 3 ? 3 : a->second == 2 ? 2 : 1;
        if (refused.count({static_cast<int>(b), p})) continue;
        if (tier == 0 && (best[p] < 0 || best[p] < options.min_score)) continue;
        out.push_back({static_cast<int>(b), p, std::max(0.0, best[p]), 0, tier});
      }
      // Diversity: walk the buyer's candidates best first; each repeat of a (sub-kind, commune)
      // already taken discounts the next one. Only the best few can be suggested: keep those
      // (and every asked-for pair).
      std::sort(out.begin(), out.end(), [&](const Candidate& x, const Candidate& y) {
        if ((x.tier > 0) != (y.tier > 0)) return x.tier > 0;
        return x.score != y.score ? x.score > y.score : x.provider < y.provider;
      });
      size_t keep = static_cast<size_t>(std::max(50, options.top_per_buyer * 5));
      size_t asked_count = static_cast<size_t>(std::count_if(out.begin(), out.end(), [](const Candidate& c) { return c.tier > 0; }));
      if (out.size() > asked_count + keep) {
        out.resize(asked_count + keep);
        out.shrink_to_fit();
      }
      std::map<std::pair<int, std::string>, int> seen;
      std::map<int, int> seen_kind;
      for (Candidate& c : out) {
        const auto& offers = catalog.providers()[c.provider].offers;
        int sub_kind = offers.empty() ? 0 : catalog.offers()[offers[0]].sub_kind;
        const std::string& insee = catalog.providers()[c.provider].provider->address().insee_code();
        int repeats = seen[{sub_kind, insee}]++;
        int kind_repeats = seen_kind[sub_kind]++;
        c.adjusted = c.score * std::pow(0.85, repeats) * std::pow(0.97, kind_repeats);
      }
    }
  };
  int threads = std::max(1, std::min(options.threads, static_cast<int>(buyers.size())));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t, threads);
  work(0, threads);
  for (auto& t : pool) t.join();

  // Rank all pairs; take them greedily within the per-buyer and per-provider caps.
  std::vector<Candidate> all;
  for (auto& v : per_buyer) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end(), [&](const Candidate& x, const Candidate& y) {
    if (x.tier != y.tier) return x.tier > y.tier;
    if (x.adjusted != y.adjusted) return x.adjusted > y.adjusted;
    if (x.buyer != y.buyer) return buyers[x.buyer].id() < buyers[y.buyer].id();
    return x.provider < y.provider;
  });
  std::vector<int> buyer_count(buyers.size(), 0), provider_count(n_providers, 0);
  std::vector<v1::PairSuggestion> pairs;
  for (const Candidate& c : all) {
    if (c.tier == 0 && (buyer_count[c.buyer] >= options.top_per_buyer || provider_count[c.provider] >= options.top_per_provider)) continue;
    ++buyer_count[c.buyer];
    ++provider_count[c.provider];
    v1::PairSuggestion s;
    s.set_buyer_id(buyers[c.buyer].id());
    s.set_provider_id(catalog.providers()[c.provider].provider->id());
    s.set_score(c.score);
    s.set_request(static_cast<v1::RequestStatus>(c.tier == 3 ? v1::REQUEST_STATUS_MUTUAL : c.tier == 2 ? v1::REQUEST_STATUS_PROVIDER
                                                 : c.tier == 1 ? v1::REQUEST_STATUS_BUYER : v1::REQUEST_STATUS_NONE));
    for (auto& f : ExplainPair(buyers[c.buyer], catalog, c.provider)) *s.add_needs() = std::move(f);
    std::string why;
    if (s.needs_size() > 0) {
      const v1::NeedFit& top = s.needs(0);
      const v1::Need* need = nullptr;
      for (const auto& n : buyers[c.buyer].needs()) if (n.id() == top.need_id()) need = &n;
      why = absl::StrCat(need && !need->description().empty() ? need->description() : top.need_id(), ": ", top.summary());
    } else {
      why = "no offer fits the needs";
    }
    static const char* kAsked[] = {"", "asked for by the buyer; ", "asked for by the provider; ", "asked for by both; "};
    s.set_reason(absl::StrCat(kAsked[c.tier], why));
    s.set_rank(static_cast<int>(pairs.size()) + 1);
    pairs.push_back(std::move(s));
  }
  return pairs;
}

}  // namespace atable
