#include "server/core/offers_csv.h"

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/core/status_macros.h"
#include "server/core/text.h"
#include "server/core/validation.h"

namespace atable {
namespace {

// Splits the text into records: a newline ends a record unless it is inside double quotes.
// Returns each record with the line where it starts.
std::vector<std::pair<int, absl::string_view>> Records(absl::string_view text) {
  std::vector<std::pair<int, absl::string_view>> records;
  bool quoted = false;
  size_t start = 0;
  int line = 1, start_line = 1;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || (text[i] == '\n' && !quoted)) {
      absl::string_view record = text.substr(start, i - start);
      if (!absl::StripAsciiWhitespace(record).empty()) records.emplace_back(start_line, record);
      start = i + 1;
      ++line;
      start_line = line;
      continue;
    }
    if (text[i] == '"') quoted = !quoted;  // a doubled quote toggles twice
    if (text[i] == '\n') ++line;
  }
  return records;
}

// Parses an enum value written in lower case without its prefix ("self_catering" or
// "self-catering" for OFFER_SUB_KIND_SELF_CATERING).
template <typename Enum>
bool ParseEnum(const std::string& value, const char* prefix, bool (*parse)(const std::string&, Enum*),
               Enum* out) {
  std::string name = absl::StrCat(prefix, absl::AsciiStrToUpper(value));
  for (char& c : name) {
    if (c == '-' || c == ' ') c = '_';
  }
  return parse(name, out) && static_cast<int>(*out) != 0;
}

class Row {
 public:
  Row(int line, const std::map<std::string, size_t>* columns, std::vector<std::string> fields)
      : line_(line), columns_(columns), fields_(std::move(fields)) {}

  std::string Get(const char* column) const {
    auto it = columns_->find(column);
    if (it == columns_->end()) return "";
    return std::string(absl::StripAsciiWhitespace(fields_[it->second]));
  }

  absl::Status Error(const char* column, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("line ", line_, ", column ", column, ": ", what));
  }

  // An integer column, 0 when empty.
  absl::Status Int(const char* column, int64_t lo, int64_t hi, int64_t* out) const {
    std::string v = Get(column);
    *out = 0;
    if (v.empty()) return absl::OkStatus();
    if (!absl::SimpleAtoi(v, out) || *out < lo || *out > hi) {
      return Error(column, absl::StrCat("\"", v, "\" is not a whole number in ", lo, "-", hi));
    }
    return absl::OkStatus();
  }

  // A decimal column; false when empty.
  absl::StatusOr<bool> Double(const char* column, double lo, double hi, double* out) const {
    std::string v = Get(column);
    if (v.empty()) return false;
    if (!absl::SimpleAtod(v, out) || *out < lo || *out > hi) {
      return Error(column, absl::StrCat("\"", v, "\" is not a number in ", lo, " to ", hi));
    }
    return true;
  }

  // Euros ("12.50" or "12,50") to cents; -1 when empty.
  absl::StatusOr<int64_t> Euros(const char* column) const {
    std::string v = Get(column);
    if (v.empty()) return int64_t{-1};
    for (char& c : v) {
      if (c == ',') c = '.';
    }
    double euros;
    if (!absl::SimpleAtod(v, &euros) || euros < 0 || euros > 1e8) {
      return Error(column, absl::StrCat("\"", v, "\" is not an amount in euros"));
    }
    return static_cast<int64_t>(euros * 100 + 0.5);
  }

  absl::StatusOr<bool> Date(const char* column, v1::Date* out) const {
    std::string v = Get(column);
    if (v.empty()) return false;
    std::vector<std::string> parts = absl::StrSplit(v, '-');
    int y, m, d;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &y) || !absl::SimpleAtoi(parts[1], &m) ||
        !absl::SimpleAtoi(parts[2], &d) || m < 1 || m > 12 || d < 1 || d > 31) {
      return Error(column, absl::StrCat("\"", v, "\" is not a date YYYY-MM-DD"));
    }
    out->set_year(y);
    out->set_month(m);
    out->set_day(d);
    return true;
  }

  // A list separated by '|'.
  std::vector<std::string> List(const char* column) const {
    std::vector<std::string> items;
    for (absl::string_view item : absl::StrSplit(Get(column), '|')) {
      item = absl::StripAsciiWhitespace(item);
      if (!item.empty()) items.emplace_back(item);
    }
    return items;
  }

 private:
  int line_;
  const std::map<std::string, size_t>* columns_;
  std::vector<std::string> fields_;
};

absl::StatusOr<v1::Provider> ProviderOf(const Row& row, v1::BusinessKind default_kind) {
  v1::Provider p;
  p.set_id(row.Get("provider_id"));
  p.set_name(row.Get("provider_name"));
  if (p.name().empty()) return row.Error("provider_name", "is required on a provider's first row");
  std::string kind = row.Get("provider_kind");
  v1::BusinessKind business = default_kind;
  if (!kind.empty() && !ParseEnum(kind, "BUSINESS_KIND_", &v1::BusinessKind_Parse, &business)) {
    return row.Error("provider_kind", absl::StrCat("\"", kind, "\" is not one of accommodation, activity, "
                                                   "restaurant, tour_operator, producer, other"));
  }
  p.set_kind(business);
  v1::PostalAddress* a = p.mutable_address();
  a->set_street(row.Get("street"));
  a->set_postcode(row.Get("postcode"));
  a->set_commune(row.Get("commune"));
  a->set_insee_code(row.Get("insee_code"));
  a->set_country_code(a->postcode().empty() && a->commune().empty() ? "" : "FR");
  double lat = 0, lon = 0;
  absl::StatusOr<bool> has_lat = row.Double("latitude", -90, 90, &lat);
  if (!has_lat.ok()) return has_lat.status();
  absl::StatusOr<bool> has_lon = row.Double("longitude", -180, 180, &lon);
  if (!has_lon.ok()) return has_lon.status();
  if (*has_lat != *has_lon) {
    return row.Error(*has_lat ? "longitude" : "latitude", "is required with the other coordinate");
  }
  if (*has_lat) {
    p.mutable_location()->set_latitude(lat);
    p.mutable_location()->set_longitude(lon);
  }
  p.mutable_contacts()->set_website(row.Get("website"));
  p.mutable_contacts()->set_email(row.Get("email"));
  p.mutable_contacts()->set_phone(row.Get("phone"));
  return p;
}

absl::StatusOr<v1::Offer> OfferOf(const Row& row, const v1::Provider& provider) {
  v1::Offer o;
  o.set_id(row.Get("offer_id"));
  if (o.id().empty()) return row.Error("offer_id", "is required");
  o.set_provider_id(provider.id());
  o.set_title(row.Get("title"));
  if (o.title().empty()) return row.Error("title", "is required");
  std::string sub = row.Get("sub_kind"), kind = row.Get("kind");
  v1::OfferSubKind sub_kind = v1::OFFER_SUB_KIND_UNSPECIFIED;
  if (!sub.empty() && !ParseEnum(sub, "OFFER_SUB_KIND_", &v1::OfferSubKind_Parse, &sub_kind)) {
    return row.Error("sub_kind", absl::StrCat("\"", sub, "\" is not a sub-kind (hotel, campsite, self_catering, "
                                              "outdoor_sport, wellness, gastronomy, tour...)"));
  }
  v1::OfferKind offer_kind = KindOfSubKind(sub_kind);
  if (!kind.empty()) {
    v1::OfferKind given;
    if (!ParseEnum(kind, "OFFER_KIND_", &v1::OfferKind_Parse, &given)) {
      return row.Error("kind", absl::StrCat("\"", kind, "\" is not one of lodging, activity, package, other"));
    }
    if (sub_kind != v1::OFFER_SUB_KIND_UNSPECIFIED && given != offer_kind) {
      return row.Error("sub_kind", absl::StrCat("\"", sub, "\" is not a kind of ", kind));
    }
    offer_kind = given;
  }
  if (offer_kind == v1::OFFER_KIND_UNSPECIFIED) return row.Error("kind", "kind or sub_kind is required");
  o.set_kind(offer_kind);
  o.set_sub_kind(sub_kind);
  for (const char* language : {"fr", "en"}) {
    std::string text = row.Get(language[0] == 'f' ? "description_fr" : "description_en");
    if (!text.empty()) {
      (*o.mutable_descriptions())[language] = text;
      o.add_languages(language);
    }
  }
  int64_t min_persons, max_persons, units;
  ATABLE_RETURN_IF_ERROR(row.Int("min_persons", 0, kMaxPersons, &min_persons));
  ATABLE_RETURN_IF_ERROR(row.Int("max_persons", 0, kMaxPersons, &max_persons));
  ATABLE_RETURN_IF_ERROR(row.Int("units", 0, 1000000, &units));
  if (min_persons > 0) o.mutable_capacity()->set_min_persons(static_cast<int>(min_persons));
  if (max_persons > 0) o.mutable_capacity()->set_max_persons(static_cast<int>(max_persons));
  o.set_units(static_cast<int>(units));
  absl::StatusOr<int64_t> lo = row.Euros("price_min_eur"), hi = row.Euros("price_max_eur");
  if (!lo.ok()) return lo.status();
  if (!hi.ok()) return hi.status();
  if (*lo >= 0 || *hi >= 0) {
    v1::Price* price = o.add_prices();
    price->set_min_amount_cents(*lo >= 0 ? *lo : *hi);
    price->set_max_amount_cents(*hi >= 0 ? *hi : *lo);
    std::string unit = row.Get("price_unit");
    v1::PriceUnit u;
    if (unit.empty()) return row.Error("price_unit", "is required with a price (per_night, per_week, per_person...)");
    if (!ParseEnum(unit, "PRICE_UNIT_", &v1::PriceUnit_Parse, &u)) {
      return row.Error("price_unit", absl::StrCat("\"", unit, "\" is not one of per_night, per_week, per_person, "
                                                  "per_person_per_night, per_group, per_stay"));
    }
    price->set_unit(u);
    price->set_season(row.Get("season"));
  }
  for (const std::string& tag : row.List("price_quality")) {
    v1::PriceQualityTag t;
    if (!ParseEnum(tag, "PRICE_QUALITY_TAG_", &v1::PriceQualityTag_Parse, &t)) {
      return row.Error("price_quality", absl::StrCat("\"", tag, "\" is not one of budget, good_value, premium"));
    }
    o.add_price_quality_tags(t);
  }
  for (const std::string& tag : row.List("tags")) o.add_tags(tag);
  for (const std::string& label : row.List("labels")) o.add_labels(label);
  std::string classification = row.Get("classification");
  if (!classification.empty()) {
    std::pair<std::string, std::string> parts = absl::StrSplit(classification, ':');
    v1::ClassificationScheme scheme;
    int level;
    if (!ParseEnum(parts.first, "CLASSIFICATION_SCHEME_", &v1::ClassificationScheme_Parse, &scheme) ||
        !absl::SimpleAtoi(parts.second, &level) || level < 1 || level > 5) {
      return row.Error("classification", absl::StrCat("\"", classification, "\" is not stars:N, epis:N or cles:N "
                                                      "with N in 1-5"));
    }
    o.mutable_classification()->set_scheme(scheme);
    o.mutable_classification()->set_level(level);
  }
  v1::DateRange period;
  absl::StatusOr<bool> from = row.Date("open_from", period.mutable_start());
  if (!from.ok()) return from.status();
  absl::StatusOr<bool> to = row.Date("open_to", period.mutable_end());
  if (!to.ok()) return to.status();
  if (*from != *to) return row.Error(*from ? "open_to" : "open_from", "is required with the other date");
  if (*from) *o.add_opening_periods() = period;
  if (provider.has_location()) *o.mutable_location() = provider.location();
  return o;
}

v1::BusinessKind BusinessOf(v1::OfferKind kind) {
  switch (kind) {
    case v1::OFFER_KIND_LODGING: return v1::BUSINESS_KIND_ACCOMMODATION;
    case v1::OFFER_KIND_ACTIVITY: return v1::BUSINESS_KIND_ACTIVITY;
    case v1::OFFER_KIND_PACKAGE: return v1::BUSINESS_KIND_TOUR_OPERATOR;
    default: return v1::BUSINESS_KIND_OTHER;
  }
}

}  // namespace

const std::vector<std::string>& OffersCsvColumns() {
  static const std::vector<std::string> kColumns = {
      "provider_id", "provider_name", "provider_kind", "street", "postcode", "commune", "insee_code",
      "latitude", "longitude", "website", "email", "phone", "offer_id", "kind", "sub_kind", "title",
      "description_fr", "description_en", "min_persons", "max_persons", "units", "price_min_eur",
      "price_max_eur", "price_unit", "season", "price_quality", "tags", "labels", "classification",
      "open_from", "open_to"};
  return kColumns;
}

absl::StatusOr<std::vector<v1::ImportRecord>> ParseOffersCsv(absl::string_view text) {
  if (!IsValidUtf8(text)) return absl::InvalidArgumentError("the file is not UTF-8 text");
  absl::ConsumePrefix(&text, "\xEF\xBB\xBF");  // a spreadsheet's byte-order mark
  std::vector<std::pair<int, absl::string_view>> records = Records(text);
  if (records.empty()) return absl::InvalidArgumentError("the file is empty: expected a header line");
  std::map<std::string, size_t> columns;
  std::vector<std::string> header = SplitCsvLine(records[0].second, ',');
  const std::vector<std::string>& known = OffersCsvColumns();
  for (size_t i = 0; i < header.size(); ++i) {
    std::string name = absl::AsciiStrToLower(absl::StripAsciiWhitespace(header[i]));
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("line 1: unknown column \"", name, "\" (columns: ",
                                                     absl::StrJoin(known, ", "), ")"));
    }
    if (!columns.emplace(name, i).second) {
      return absl::InvalidArgumentError(absl::StrCat("line 1: column \"", name, "\" appears twice"));
    }
  }
  for (const char* required : {"provider_id", "offer_id", "title"}) {
    if (!columns.count(required)) {
      return absl::InvalidArgumentError(absl::StrCat("line 1: column \"", required, "\" is required"));
    }
  }
  if (!columns.count("kind") && !columns.count("sub_kind")) {
    return absl::InvalidArgumentError("line 1: a column \"kind\" or \"sub_kind\" is required");
  }
  std::vector<v1::ImportRecord> out;
  std::map<std::string, const v1::Provider*> providers;
  std::vector<std::unique_ptr<v1::Provider>> owned;
  std::set<std::string> offer_ids;
  for (size_t r = 1; r < records.size(); ++r) {
    auto [line, record] = records[r];
    std::vector<std::string> fields = SplitCsvLine(record, ',');
    if (fields.size() != header.size()) {
      return absl::InvalidArgumentError(absl::StrCat("line ", line, ": ", fields.size(), " fields where the header has ",
                                                     header.size()));
    }
    Row row(line, &columns, std::move(fields));
    std::string provider_id = row.Get("provider_id");
    if (provider_id.empty()) return row.Error("provider_id", "is required");
    const v1::Provider* provider;
    auto it = providers.find(provider_id);
    if (it == providers.end()) {
      v1::OfferKind kind = v1::OFFER_KIND_UNSPECIFIED;
      v1::OfferSubKind sub;
      if (ParseEnum(row.Get("sub_kind"), "OFFER_SUB_KIND_", &v1::OfferSubKind_Parse, &sub)) kind = KindOfSubKind(sub);
      ParseEnum(row.Get("kind"), "OFFER_KIND_", &v1::OfferKind_Parse, &kind);
      absl::StatusOr<v1::Provider> p = ProviderOf(row, BusinessOf(kind));
      if (!p.ok()) return p.status();
      owned.push_back(std::make_unique<v1::Provider>(*std::move(p)));
      provider = owned.back().get();
      providers.emplace(provider_id, provider);
      *out.emplace_back().mutable_provider() = *provider;
    } else {
      provider = it->second;
    }
    absl::StatusOr<v1::Offer> offer = OfferOf(row, *provider);
    if (!offer.ok()) return offer.status();
    if (!offer_ids.insert(offer->id()).second) {
      return row.Error("offer_id", absl::StrCat("\"", offer->id(), "\" appears on an earlier line"));
    }
    *out.emplace_back().mutable_offer() = *std::move(offer);
  }
  return out;
}

}  // namespace atable
