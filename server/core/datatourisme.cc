#include "server/core/datatourisme.h"

#include <algorithm>
#include <cctype>
#include <set>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "nlohmann/json.hpp"
#include "server/core/text.h"
#include "server/core/validation.h"

namespace atable {
namespace {

using nlohmann::json;

// The JSON value at `key`, or null.
const json& At(const json& object, const char* key) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

// The first element of a list, or the value itself when it is not a list.
const json& First(const json& value) {
  static const json kNull;
  if (value.is_array()) return value.empty() ? kNull : value.front();
  return value;
}

std::string String(const json& value) {
  const json& v = First(value);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<long long>());
  if (v.is_number()) return absl::StrCat(v.get<double>());
  return "";
}

// Text of a language map ({"fr": ["..."], "en": [...]}) in one language, lines joined.
std::string InLanguage(const json& map, const char* language) {
  const json& v = At(map, language);
  if (v.is_string()) return v.get<std::string>();
  std::vector<std::string> parts;
  if (v.is_array()) {
    for (const json& item : v) {
      if (item.is_string()) parts.push_back(item.get<std::string>());
    }
  }
  return absl::StrJoin(parts, "\n");
}

// French first, then English, then any language.
std::string Preferred(const json& map) {
  for (const char* language : {"fr", "en"}) {
    std::string text = InLanguage(map, language);
    if (!text.empty()) return text;
  }
  if (map.is_object()) {
    for (const auto& [language, value] : map.items()) {
      std::string text = InLanguage(map, language.c_str());
      if (!text.empty()) return text;
    }
  }
  return "";
}

// Cuts `text` to at most `max_bytes` on a UTF-8 character boundary.
std::string Cut(std::string text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  text.resize(end);
  return text;
}

// "kb:CanoeingKayaking" -> "canoeing-kayaking".
std::string TagOf(absl::string_view kb_id) {
  absl::ConsumePrefix(&kb_id, "kb:");
  absl::ConsumePrefix(&kb_id, "schema:");
  std::string tag;
  for (size_t i = 0; i < kb_id.size(); ++i) {
    char c = kb_id[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      bool after_lower = i > 0 && std::islower(static_cast<unsigned char>(kb_id[i - 1]));
      if (after_lower && !tag.empty() && tag.back() != '-') tag.push_back('-');
      tag.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    } else if (std::isalnum(static_cast<unsigned char>(c))) {
      tag.push_back(c);
    } else if (!tag.empty() && tag.back() != '-') {
      tag.push_back('-');
    }
  }
  while (!tag.empty() && tag.back() == '-') tag.pop_back();
  return tag;
}

std::set<std::string> TypesOf(const json& object) {
  std::set<std::string> types;
  const json& t = At(object, "@type");
  auto add = [&types](const json& v) {
    if (!v.is_string()) return;
    absl::string_view name = v.get_ref<const std::string&>();
    absl::ConsumePrefix(&name, "schema:");
    types.emplace(name);
  };
  if (t.is_array()) {
    for (const json& v : t) add(v);
  } else {
    add(t);
  }
  return types;
}

bool HasAny(const std::set<std::string>& types, std::initializer_list<const char*> names) {
  for (const char* n : names) {
    if (types.count(n)) return true;
  }
  return false;
}

// What an object offers, from its classes, themes and name.
struct KindChoice {
  v1::BusinessKind business = v1::BUSINESS_KIND_UNSPECIFIED;
  v1::OfferKind kind = v1::OFFER_KIND_UNSPECIFIED;
  v1::OfferSubKind sub_kind = v1::OFFER_SUB_KIND_UNSPECIFIED;
  std::string skip_reason;
};

KindChoice ChooseKind(const std::set<std::string>& types, const std::vector<std::string>& themes,
                      const std::string& folded_label) {
  KindChoice c;
  if (HasAny(types, {"Event", "EntertainmentAndEvent", "CulturalEvent", "SportsEvent", "BusinessEvent",
                     "SocialEvent", "ExhibitionEvent", "FestivalEvent"})) {
    c.skip_reason = "an event, not an offer";
    return c;
  }
  auto activity = [&c](v1::OfferSubKind sub) {
    c.business = v1::BUSINESS_KIND_ACTIVITY;
    c.kind = v1::OFFER_KIND_ACTIVITY;
    c.sub_kind = sub;
  };
  if (HasAny(types, {"Accommodation", "LodgingBusiness"})) {
    c.business = v1::BUSINESS_KIND_ACCOMMODATION;
    c.kind = v1::OFFER_KIND_LODGING;
    if (HasAny(types, {"HotelTrade", "Hotel"})) {
      c.sub_kind = v1::OFFER_SUB_KIND_HOTEL;
    } else if (HasAny(types, {"CampingAndCaravanning", "Camping", "Campground"})) {
      c.sub_kind = v1::OFFER_SUB_KIND_CAMPSITE;
    } else if (HasAny(types, {"HolidayResort", "HolidayVillage"})) {
      c.sub_kind = v1::OFFER_SUB_KIND_HOLIDAY_VILLAGE;
    } else if (HasAny(types, {"CollectiveAccommodation", "GroupLodging", "YouthHostelAndInternationalCenter",
                              "Hostel", "ChildrenGroupLodging"})) {
      c.sub_kind = v1::OFFER_SUB_KIND_GROUP_LODGING;
    } else if (HasAny(types, {"Guesthouse", "BedAndBreakfast"})) {
      c.sub_kind = v1::OFFER_SUB_KIND_GUESTHOUSE;
    } else if (HasAny(types, {"TouristResidence", "ResidenceHotel"})) {
      c.sub_kind = v1::OFFER_SUB_KIND_TOURIST_RESIDENCE;
    } else if (HasAny(types, {"SelfCateringAccommodation", "RentalAccommodation", "Chalet", "Apartment"})) {
      c.sub_kind = v1::OFFER_SUB_KIND_SELF_CATERING;
    }
    return c;
  }
  if (HasAny(types, {"FoodEstablishment", "Restaurant", "Winery", "Store"}) &&
      !HasAny(types, {"SportsAndLeisurePlace", "ActivityProvider"})) {
    if (HasAny(types, {"Store"}) && !HasAny(types, {"FoodEstablishment", "Restaurant", "Winery"})) {
      c.skip_reason = "a shop, not an offer";
      return c;
    }
    activity(v1::OFFER_SUB_KIND_GASTRONOMY);
    c.business = HasAny(types, {"Winery"}) ? v1::BUSINESS_KIND_PRODUCER : v1::BUSINESS_KIND_RESTAURANT;
    return c;
  }
  if (HasAny(types, {"Tour", "WalkingTour", "CyclingTour", "HorseTour", "RoadTour", "FluvialTour"})) {
    c.business = v1::BUSINESS_KIND_TOUR_OPERATOR;
    c.kind = v1::OFFER_KIND_PACKAGE;
    c.sub_kind = v1::OFFER_SUB_KIND_TOUR;
    return c;
  }
  auto words = [&](std::initializer_list<const char*> list) {
    for (const char* w : list) {
      if (folded_label.find(w) != std::string::npos) return true;
      for (const std::string& t : themes) {
        if (t.find(w) != std::string::npos) return true;
      }
    }
    return false;
  };
  bool sports_or_leisure = HasAny(types, {"SportsAndLeisurePlace", "ActivityProvider", "LeisurePlace",
                                          "Practice", "SportsAndLeisureActivity"});
  if (sports_or_leisure || HasAny(types, {"CulturalSite", "NaturalHeritage", "ParkAndGarden", "Museum"})) {
    if (words({"fitness", "spa", "wellness", "thalasso", "bien-etre", "thermal", "balneo", "massage"})) {
      activity(v1::OFFER_SUB_KIND_WELLNESS);
    } else if (words({"ski", "snow", "neige", "raquette", "sled"})) {
      activity(v1::OFFER_SUB_KIND_SNOW_SPORT);
    } else if (HasAny(types, {"CulturalSite", "Museum"})) {
      activity(v1::OFFER_SUB_KIND_CULTURE_HERITAGE);
    } else if (HasAny(types, {"NaturalHeritage", "ParkAndGarden"})) {
      activity(v1::OFFER_SUB_KIND_NATURE);
    } else if (HasAny(types, {"SportsAndLeisurePlace", "Practice"}) || !themes.empty()) {
      activity(v1::OFFER_SUB_KIND_OUTDOOR_SPORT);
    } else {
      activity(v1::OFFER_SUB_KIND_FAMILY_LEISURE);
    }
    return c;
  }
  std::vector<std::string> names(types.begin(), types.end());
  c.skip_reason = absl::StrCat("no offer class among its types (", absl::StrJoin(names, ", "), ")");
  return c;
}

// "2023-07-01T16:30:00" or "2023-07-01" -> a Date; false when it is not one.
bool ParseIsoDate(const std::string& text, v1::Date* date) {
  int y, m, d;
  if (text.size() < 10 || text[4] != '-' || text[7] != '-') return false;
  if (!absl::SimpleAtoi(text.substr(0, 4), &y) || !absl::SimpleAtoi(text.substr(5, 2), &m) ||
      !absl::SimpleAtoi(text.substr(8, 2), &d)) {
    return false;
  }
  if (m < 1 || m > 12 || d < 1 || d > 31) return false;
  date->set_year(y);
  date->set_month(m);
  date->set_day(d);
  return true;
}

int DateKey(const v1::Date& d) { return d.year() * 10000 + d.month() * 100 + d.day(); }

v1::Date DateOfKey(int key) {
  v1::Date d;
  d.set_year(key / 10000);
  d.set_month(key / 100 % 100);
  d.set_day(key % 100);
  return d;
}

// Reads "dd/mm/yyyy" at text[*pos], moving past it.
bool ReadSlashDate(const std::string& text, size_t* pos, v1::Date* date) {
  int parts[3] = {0, 0, 0};
  size_t i = *pos;
  for (int k = 0; k < 3; ++k) {
    size_t digits = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && digits < 4) {
      parts[k] = parts[k] * 10 + (text[i] - '0');
      ++i;
      ++digits;
    }
    if (digits == 0 || (k < 2 && digits > 2) || (k == 2 && digits != 4)) return false;
    if (k < 2) {
      if (i >= text.size() || text[i] != '/') return false;
      ++i;
    }
  }
  if (parts[1] < 1 || parts[1] > 12 || parts[0] < 1 || parts[0] > 31) return false;
  date->set_day(parts[0]);
  date->set_month(parts[1]);
  date->set_year(parts[2]);
  *pos = i;
  return true;
}

// Date ranges written in French: "Du 01/04/2023 au 30/06/2023 - Du 02/09/2023 au 17/11/2023".
std::vector<v1::DateRange> RangesInText(const std::string& text) {
  std::vector<v1::DateRange> ranges;
  for (size_t i = 0; i < text.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(text[i])) ||
        (i > 0 && std::isdigit(static_cast<unsigned char>(text[i - 1])))) {
      continue;
    }
    size_t pos = i;
    v1::DateRange r;
    if (!ReadSlashDate(text, &pos, r.mutable_start())) continue;
    size_t after = pos;
    while (after < text.size() && text[after] == ' ') ++after;
    if (text.compare(after, 2, "au") != 0) continue;
    after += 2;
    while (after < text.size() && text[after] == ' ') ++after;
    if (!ReadSlashDate(text, &after, r.mutable_end())) continue;
    if (DateKey(r.end()) >= DateKey(r.start())) ranges.push_back(r);
    i = after - 1;
  }
  return ranges;
}

// Amount in euro cents from "13.2" or "349"; -1 when absent or not a number.
int64_t Cents(const json& value) {
  std::string text = String(value);
  double amount;
  if (text.empty() || !absl::SimpleAtod(text, &amount) || amount < 0 || amount > 1e8) return -1;
  return static_cast<int64_t>(amount * 100 + 0.5);
}

v1::PriceUnit UnitOf(const json& modes, v1::OfferKind kind) {
  std::set<std::string> ids;
  if (modes.is_array()) {
    for (const json& m : modes) ids.insert(String(At(m, "@id")));
  }
  bool person = ids.count("kb:PerPerson") > 0;
  if (ids.count("kb:PerNight") || ids.count("kb:PerDay")) {
    return person ? v1::PRICE_UNIT_PER_PERSON_PER_NIGHT : v1::PRICE_UNIT_PER_NIGHT;
  }
  if (ids.count("kb:PerWeek")) return v1::PRICE_UNIT_PER_WEEK;
  if (ids.count("kb:PerGroup")) return v1::PRICE_UNIT_PER_GROUP;
  if (person) return v1::PRICE_UNIT_PER_PERSON;
  if (ids.count("kb:Weekend") || ids.count("kb:PerStay") || ids.count("kb:PerMonth")) {
    return v1::PRICE_UNIT_PER_STAY;
  }
  return kind == v1::OFFER_KIND_LODGING ? v1::PRICE_UNIT_PER_STAY : v1::PRICE_UNIT_PER_PERSON;
}

void AddPrices(const json& offers, v1::Offer* o) {
  if (!offers.is_array()) return;
  for (const json& offer : offers) {
    const json& specs = At(offer, "schema:priceSpecification");
    if (!specs.is_array()) continue;
    for (const json& spec : specs) {
      std::string currency = String(At(spec, "schema:priceCurrency"));
      if (!currency.empty() && currency != "EUR") continue;
      int64_t lo = Cents(At(spec, "schema:minPrice"));
      int64_t hi = Cents(At(spec, "schema:maxPrice"));
      if (lo < 0 && hi < 0) continue;
      if (lo < 0) lo = hi;
      if (hi < 0) hi = lo;
      if (hi < lo) std::swap(lo, hi);  // some sources write them the wrong way round
      v1::Price price;
      price.set_min_amount_cents(lo);
      price.set_max_amount_cents(hi);
      price.set_unit(UnitOf(At(spec, "hasPricingMode"), o->kind()));
      price.set_season(Cut(Preferred(At(First(At(spec, "hasPricingSeason")), "rdfs:label")), kMaxNameChars));
      std::string name = Preferred(At(spec, "name"));
      std::string info = Preferred(At(spec, "additionalInformation"));
      std::vector<v1::DateRange> ranges = RangesInText(InLanguage(At(spec, "additionalInformation"), "fr"));
      // The periods become validities; the text stays only when it says more than they do.
      std::string description = name.empty() ? info : info.empty() || !ranges.empty() ? name : absl::StrCat(name, ": ", info);
      price.set_description(Cut(description, kMaxShortTextChars));
      v1::Date from, through;
      if (ranges.empty() && ParseIsoDate(String(At(spec, "schema:validFrom")), &from) &&
          ParseIsoDate(String(At(spec, "schema:validThrough")), &through) && DateKey(from) <= DateKey(through)) {
        v1::DateRange r;
        *r.mutable_start() = from;
        *r.mutable_end() = through;
        ranges.push_back(r);
      }
      if (ranges.empty()) {
        if (o->prices_size() < kMaxPrices) *o->add_prices() = price;
        continue;
      }
      for (const v1::DateRange& r : ranges) {  // one price per validity period
        if (o->prices_size() >= kMaxPrices) break;
        v1::Price* p = o->add_prices();
        *p = price;
        *p->mutable_validity() = r;
      }
    }
  }
}

// Opening periods: the validity of each opening-hours line, merged where they touch or overlap.
void AddOpeningPeriods(const json& hours, v1::Offer* o) {
  if (!hours.is_array()) return;
  std::vector<std::pair<int, int>> ranges;
  for (const json& h : hours) {
    v1::Date from, through;
    if (ParseIsoDate(String(At(h, "schema:validFrom")), &from) &&
        ParseIsoDate(String(At(h, "schema:validThrough")), &through) && DateKey(from) <= DateKey(through)) {
      ranges.emplace_back(DateKey(from), DateKey(through));
    }
  }
  std::sort(ranges.begin(), ranges.end());
  std::vector<std::pair<int, int>> merged;
  for (const auto& r : ranges) {
    if (!merged.empty() && r.first <= merged.back().second + 1) {
      merged.back().second = std::max(merged.back().second, r.second);
    } else {
      merged.push_back(r);
    }
  }
  for (const auto& [from, through] : merged) {
    if (o->opening_periods_size() >= kMaxListItems) break;
    v1::DateRange* r = o->add_opening_periods();
    *r->mutable_start() = DateOfKey(from);
    *r->mutable_end() = DateOfKey(through);
  }
}

// Classifications and labels from `hasReview`.
void AddReviews(const json& reviews, v1::Provider* p, v1::Offer* o) {
  if (!reviews.is_array()) return;
  for (const json& review : reviews) {
    const json& value = At(review, "hasReviewValue");
    std::string id = String(At(value, "@id"));
    std::string label = Preferred(At(value, "rdfs:label"));
    std::set<std::string> types = TypesOf(value);
    if (types.count("LabelRating") || absl::StartsWith(id, "kb:LabelRating")) {
      if (!label.empty() && p->labels_size() < kMaxListItems) {
        p->add_labels(Cut(label, kMaxNameChars));
        o->add_labels(Cut(label, kMaxNameChars));
      }
      continue;
    }
    // ScaleRating_3epis, ScaleRating_2cles, ScaleRating_4etoiles...
    double rating = 0;
    if (!absl::SimpleAtod(String(At(value, "schema:ratingValue")), &rating)) rating = 0;
    int level = static_cast<int>(rating + 0.5);
    std::string lower = absl::AsciiStrToLower(id);
    if (level == 0) {
      for (char ch : lower) {
        if (ch >= '1' && ch <= '5') {
          level = ch - '0';
          break;
        }
      }
    }
    if (level < 1 || level > 5) continue;
    v1::Classification c;
    c.set_level(level);
    if (absl::StrContains(lower, "epi")) {
      c.set_scheme(v1::CLASSIFICATION_SCHEME_EPIS);
      c.set_name("Gîtes de France");
    } else if (absl::StrContains(lower, "cle")) {
      c.set_scheme(v1::CLASSIFICATION_SCHEME_CLES);
      c.set_name("Clévacances");
    } else if (absl::StrContains(lower, "etoile") || absl::StrContains(lower, "star")) {
      c.set_scheme(v1::CLASSIFICATION_SCHEME_STARS);
      c.set_name("Atout France");
    } else {
      c.set_scheme(v1::CLASSIFICATION_SCHEME_OTHER);
      c.set_name(Cut(label, kMaxNameChars));
    }
    if (p->classifications_size() < kMaxListItems) *p->add_classifications() = c;
    if (!o->has_classification() || c.level() > o->classification().level()) *o->mutable_classification() = c;
  }
}

absl::Status Malformed(const std::string& id, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("object ", id.empty() ? "(no @id)" : id, ": ", what));
}

absl::StatusOr<DatatourismeObject> MapObject(const json& object) {
  DatatourismeObject out;
  if (!object.is_object()) return absl::InvalidArgumentError("expected a JSON-LD object");
  out.source_id = String(At(object, "@id"));
  std::set<std::string> types = TypesOf(object);
  if (types.empty() || out.source_id.empty()) {
    out.skip_reason = "not a DATAtourisme object (no @id or @type)";
    return out;
  }
  std::string label = Preferred(At(object, "rdfs:label"));
  if (label.empty()) return Malformed(out.source_id, "rdfs:label is missing");

  std::vector<std::string> themes;
  const json& theme_list = At(object, "hasTheme");
  if (theme_list.is_array()) {
    for (const json& t : theme_list) {
      std::string tag = TagOf(String(At(t, "@id")));
      if (!tag.empty()) themes.push_back(tag);
    }
  }
  KindChoice choice = ChooseKind(types, themes, FoldAccentsLower(label));
  if (!choice.skip_reason.empty()) {
    out.skip_reason = choice.skip_reason;
    return out;
  }

  // The provider: the place and who runs it.
  std::string identifier = String(At(object, "dc:identifier"));
  if (identifier.empty()) {
    size_t slash = out.source_id.find_last_of('/');
    identifier = out.source_id.substr(slash == std::string::npos ? 0 : slash + 1);
  }
  std::string id = "dt-";
  for (char ch : identifier) {
    if (std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_') {
      id.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    }
  }
  if (id.size() == 3) return Malformed(out.source_id, "dc:identifier is empty");
  v1::Provider& p = out.provider;
  p.set_id(Cut(id, kMaxIdBytes - 6));
  p.set_name(Cut(label, kMaxNameChars));
  p.set_kind(choice.business);

  const json& place = First(At(object, "isLocatedAt"));
  const json& address = First(At(place, "schema:address"));
  if (address.is_object()) {
    v1::PostalAddress* a = p.mutable_address();
    std::vector<std::string> street;
    const json& lines = At(address, "schema:streetAddress");
    if (lines.is_array()) {
      for (const json& l : lines) {
        if (l.is_string()) street.push_back(l.get<std::string>());
      }
    }
    a->set_street(Cut(absl::StrJoin(street, ", "), kMaxShortTextChars));
    a->set_postcode(String(At(address, "schema:postalCode")));
    a->set_commune(Cut(String(At(address, "schema:addressLocality")), kMaxNameChars));
    a->set_insee_code(String(At(At(address, "hasAddressCity"), "insee")));
    a->set_country_code("FR");
  }
  const json& geo = At(place, "schema:geo");
  std::string lat_text = String(At(geo, "schema:latitude")), lon_text = String(At(geo, "schema:longitude"));
  if (!lat_text.empty() || !lon_text.empty()) {
    double lat, lon;
    if (!absl::SimpleAtod(lat_text, &lat) || !absl::SimpleAtod(lon_text, &lon) || lat < -90 || lat > 90 ||
        lon < -180 || lon > 180) {
      return Malformed(out.source_id, absl::StrCat("isLocatedAt.schema:geo is not a point (", lat_text, ", ",
                                                   lon_text, ")"));
    }
    p.mutable_location()->set_latitude(lat);
    p.mutable_location()->set_longitude(lon);
    out.placed = true;
  }
  const json& contacts = At(object, "hasContact");
  if (contacts.is_array()) {
    for (const json& c : contacts) {
      v1::Contacts* k = p.mutable_contacts();
      if (k->email().empty()) k->set_email(Cut(String(At(c, "schema:email")), kMaxNameChars));
      if (k->phone().empty()) k->set_phone(Cut(String(At(c, "schema:telephone")), kMaxNameChars));
      if (k->website().empty()) k->set_website(Cut(String(At(c, "foaf:homepage")), kMaxShortTextChars));
    }
  }

  // Its offer.
  v1::Offer& o = out.offer;
  o.set_id(absl::StrCat(p.id(), "/offer"));
  o.set_provider_id(p.id());
  o.set_kind(choice.kind);
  o.set_sub_kind(choice.sub_kind);
  o.set_title(p.name());
  const json& description = At(First(At(object, "hasDescription")), "dc:description");
  const json& comment = At(object, "rdfs:comment");
  for (const json* texts : {&description, &comment}) {
    if (!texts->is_object()) continue;
    for (const auto& [language, value] : texts->items()) {
      if (language.size() < 2 || language.size() > 3 || o.descriptions().count(language)) continue;
      if (o.descriptions_size() >= kMaxDescriptionLanguages) break;
      std::string text = InLanguage(*texts, language.c_str());
      if (!text.empty()) (*o.mutable_descriptions())[language] = Cut(text, kMaxDescriptionChars);
    }
  }
  for (const char* language : {"fr", "en"}) {
    if (o.descriptions().count(language)) o.add_languages(language);
  }
  const json& persons = At(object, "allowedPersons");
  int64_t capacity = 0;
  if (persons.is_number_integer()) {
    capacity = persons.get<int64_t>();
  } else if (!String(persons).empty() && !absl::SimpleAtoi(String(persons), &capacity)) {
    capacity = 0;
  }
  if (capacity > 0 && capacity <= kMaxPersons) o.mutable_capacity()->set_max_persons(static_cast<int>(capacity));
  AddPrices(At(object, "offers"), &o);
  AddReviews(At(object, "hasReview"), &p, &o);
  AddOpeningPeriods(At(place, "schema:openingHoursSpecification"), &o);

  std::vector<std::string> tags = themes;
  if (At(place, "petsAllowed").is_boolean() && At(place, "petsAllowed").get<bool>()) tags.push_back("pets-allowed");
  if (At(object, "reducedMobilityAccess").is_boolean() && At(object, "reducedMobilityAccess").get<bool>()) {
    tags.push_back("reduced-mobility-access");
  }
  const json& features = At(object, "hasFeature");
  if (features.is_array()) {
    for (const json& spec : features) {
      const json& list = At(spec, "features");
      if (!list.is_array()) continue;
      for (const json& f : list) tags.push_back(TagOf(String(At(f, "@id"))));
    }
  }
  std::set<std::string> seen;
  for (const std::string& tag : tags) {
    if (tag.empty() || tag.size() > 64 || !seen.insert(tag).second) continue;
    if (o.tags_size() >= kMaxListItems) break;
    o.add_tags(tag);
  }
  if (p.has_location()) *o.mutable_location() = p.location();
  p.add_languages("fr");
  return out;
}

}  // namespace

absl::StatusOr<std::vector<DatatourismeObject>> ParseDatatourisme(absl::string_view json_text) {
  json root;
  try {
    root = json::parse(json_text.begin(), json_text.end());
  } catch (const json::parse_error& e) {
    // e.what() reads "[json.exception.parse_error.101] parse error at line 3, column 7: ..."
    std::string what = e.what();
    size_t at = what.find("parse error");
    return absl::InvalidArgumentError(
        absl::StrCat("not valid JSON: ", at == std::string::npos ? what : what.substr(at)));
  } catch (const json::exception& e) {  // a number too large for any type, say
    return absl::InvalidArgumentError(absl::StrCat("not valid JSON: ", e.what()));
  }
  std::vector<DatatourismeObject> objects;
  if (root.is_array()) {
    for (const json& object : root) {
      absl::StatusOr<DatatourismeObject> o = MapObject(object);
      if (!o.ok()) return o.status();
      objects.push_back(*std::move(o));
    }
    return objects;
  }
  if (!root.is_object()) return absl::InvalidArgumentError("expected a JSON-LD object or an array of them");
  absl::StatusOr<DatatourismeObject> o = MapObject(root);
  if (!o.ok()) return o.status();
  objects.push_back(*std::move(o));
  return objects;
}

}  // namespace atable
