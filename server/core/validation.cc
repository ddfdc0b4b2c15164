#include "server/core/validation.h"

#include <cmath>
#include <string>

#include "absl/strings/str_cat.h"
#include "server/core/status_macros.h"
#include "server/core/text.h"

namespace atable {
namespace {

using v1::Offer;
using v1::Provider;

absl::Status Invalid(absl::string_view field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// Checks a free text: UTF-8, no control characters except newlines and tabs when `multiline`,
// at most `max_chars` code points, and not empty when `required`.
absl::Status CheckText(absl::string_view field, absl::string_view text, size_t max_chars,
                       bool required, bool multiline = false) {
  if (!IsValidUtf8(text)) return Invalid(field, "is not valid UTF-8");
  if (required && text.find_first_not_of(" \t\r\n") == absl::string_view::npos) {
    return Invalid(field, "is required");
  }
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool allowed_space = multiline && (c == '\n' || c == '\t' || c == '\r');
    if ((u < 0x20 || u == 0x7F) && !allowed_space) {
      return Invalid(field, "contains a control character");
    }
  }
  size_t len = Utf8Length(text);
  if (len > max_chars) {
    return Invalid(field, absl::StrCat("is ", len, " characters long, more than ", max_chars));
  }
  return absl::OkStatus();
}

absl::Status CheckLanguageCode(absl::string_view field, absl::string_view code) {
  bool ok = code.size() >= 2 && code.size() <= 3;
  for (char c : code) ok = ok && c >= 'a' && c <= 'z';
  if (!ok) return Invalid(field, absl::StrCat("\"", code, "\" is not an ISO 639-1 language code"));
  return absl::OkStatus();
}

template <typename List>
absl::Status CheckCount(absl::string_view field, const List& list, int max) {
  if (list.size() > max) {
    return Invalid(field, absl::StrCat("has ", list.size(), " items, more than ", max));
  }
  return absl::OkStatus();
}

absl::Status CheckStrings(absl::string_view field,
                          const google::protobuf::RepeatedPtrField<std::string>& list,
                          size_t max_chars) {
  ATABLE_RETURN_IF_ERROR(CheckCount(field, list, kMaxListItems));
  for (int i = 0; i < list.size(); ++i) {
    ATABLE_RETURN_IF_ERROR(CheckText(absl::StrCat(field, "[", i, "]"), list[i], max_chars, true));
  }
  return absl::OkStatus();
}

absl::Status CheckLanguages(absl::string_view field,
                            const google::protobuf::RepeatedPtrField<std::string>& list) {
  ATABLE_RETURN_IF_ERROR(CheckCount(field, list, kMaxListItems));
  for (int i = 0; i < list.size(); ++i) {
    ATABLE_RETURN_IF_ERROR(CheckLanguageCode(absl::StrCat(field, "[", i, "]"), list[i]));
  }
  return absl::OkStatus();
}

absl::Status CheckDescriptions(absl::string_view field,
                               const google::protobuf::Map<std::string, std::string>& map) {
  if (map.size() > static_cast<size_t>(kMaxDescriptionLanguages)) {
    return Invalid(field, absl::StrCat("has ", map.size(), " languages, more than ",
                                       kMaxDescriptionLanguages));
  }
  for (const auto& [lang, text] : map) {
    std::string item = absl::StrCat(field, "[", lang, "]");
    ATABLE_RETURN_IF_ERROR(CheckLanguageCode(item, lang));
    ATABLE_RETURN_IF_ERROR(CheckText(item, text, kMaxDescriptionChars, false, true));
  }
  return absl::OkStatus();
}

absl::Status CheckLocation(absl::string_view field, const v1::GeoPoint& p) {
  if (!std::isfinite(p.latitude()) || p.latitude() < -90 || p.latitude() > 90) {
    return Invalid(absl::StrCat(field, ".latitude"), "must be in [-90, 90]");
  }
  if (!std::isfinite(p.longitude()) || p.longitude() < -180 || p.longitude() > 180) {
    return Invalid(absl::StrCat(field, ".longitude"), "must be in [-180, 180]");
  }
  return absl::OkStatus();
}

absl::Status CheckAddress(absl::string_view field, const v1::PostalAddress& a) {
  ATABLE_RETURN_IF_ERROR(CheckText(absl::StrCat(field, ".street"), a.street(), kMaxShortTextChars,
                                   false));
  ATABLE_RETURN_IF_ERROR(CheckText(absl::StrCat(field, ".commune"), a.commune(), kMaxNameChars,
                                   false));
  const auto digits_or_letters = [](absl::string_view s) {
    for (char c : s) {
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
    }
    return true;
  };
  if (!a.postcode().empty() && (a.postcode().size() > 10 || !digits_or_letters(a.postcode()))) {
    return Invalid(absl::StrCat(field, ".postcode"), "must be digits and capital letters, at most 10");
  }
  if (!a.insee_code().empty() && (a.insee_code().size() != 5 || !digits_or_letters(a.insee_code()))) {
    return Invalid(absl::StrCat(field, ".insee_code"), "must be 5 digits or capital letters");
  }
  if (!a.country_code().empty() &&
      (a.country_code().size() != 2 || !digits_or_letters(a.country_code()))) {
    return Invalid(absl::StrCat(field, ".country_code"), "must be an ISO 3166-1 alpha-2 code");
  }
  return absl::OkStatus();
}

absl::Status CheckDate(absl::string_view field, const v1::Date& d) {
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d.year() < 1900 || d.year() > 2200) return Invalid(absl::StrCat(field, ".year"), "must be in 1900-2200");
  if (d.month() < 1 || d.month() > 12) return Invalid(absl::StrCat(field, ".month"), "must be in 1-12");
  bool leap = (d.year() % 4 == 0 && d.year() % 100 != 0) || d.year() % 400 == 0;
  int days = d.month() == 2 && !leap ? 28 : kDays[d.month() - 1];
  if (d.day() < 1 || d.day() > days) {
    return Invalid(absl::StrCat(field, ".day"), absl::StrCat("must be in 1-", days));
  }
  return absl::OkStatus();
}

absl::Status CheckDateRange(absl::string_view field, const v1::DateRange& r) {
  ATABLE_RETURN_IF_ERROR(CheckDate(absl::StrCat(field, ".start"), r.start()));
  ATABLE_RETURN_IF_ERROR(CheckDate(absl::StrCat(field, ".end"), r.end()));
  auto key = [](const v1::Date& d) { return d.year() * 10000 + d.month() * 100 + d.day(); };
  if (key(r.end()) < key(r.start())) return Invalid(absl::StrCat(field, ".end"), "is before start");
  return absl::OkStatus();
}

absl::Status CheckClassification(absl::string_view field, const v1::Classification& c) {
  if (!v1::ClassificationScheme_IsValid(c.scheme())) {
    return Invalid(absl::StrCat(field, ".scheme"), "is not a known scheme");
  }
  if (c.scheme() == v1::CLASSIFICATION_SCHEME_UNSPECIFIED) {
    return Invalid(absl::StrCat(field, ".scheme"), "is required");
  }
  if (c.level() < 1 || c.level() > 5) return Invalid(absl::StrCat(field, ".level"), "must be in 1-5");
  ATABLE_RETURN_IF_ERROR(CheckText(absl::StrCat(field, ".name"), c.name(), kMaxNameChars, false));
  if (c.has_award_date()) ATABLE_RETURN_IF_ERROR(CheckDate(absl::StrCat(field, ".award_date"), c.award_date()));
  return absl::OkStatus();
}

absl::Status CheckPrice(absl::string_view field, const v1::Price& p) {
  if (p.min_amount_cents() < 0) return Invalid(absl::StrCat(field, ".min_amount_cents"), "must not be negative");
  if (p.max_amount_cents() < 0) return Invalid(absl::StrCat(field, ".max_amount_cents"), "must not be negative");
  if (p.max_amount_cents() > kMaxAmountCents) {
    return Invalid(absl::StrCat(field, ".max_amount_cents"), "is beyond 100 million euros");
  }
  if (p.max_amount_cents() < p.min_amount_cents()) {
    return Invalid(absl::StrCat(field, ".max_amount_cents"), "is below min_amount_cents");
  }
  if (!v1::PriceUnit_IsValid(p.unit()) || p.unit() == v1::PRICE_UNIT_UNSPECIFIED) {
    return Invalid(absl::StrCat(field, ".unit"), "is required (per night, week, person...)");
  }
  ATABLE_RETURN_IF_ERROR(CheckText(absl::StrCat(field, ".season"), p.season(), kMaxNameChars, false));
  ATABLE_RETURN_IF_ERROR(
      CheckText(absl::StrCat(field, ".description"), p.description(), kMaxShortTextChars, false));
  if (p.has_validity()) ATABLE_RETURN_IF_ERROR(CheckDateRange(absl::StrCat(field, ".validity"), p.validity()));
  return absl::OkStatus();
}

absl::Status CheckNeed(const std::string& field, const v1::Need& n) {
  ATABLE_RETURN_IF_ERROR(ValidateId(absl::StrCat(field, ".id"), n.id()));
  ATABLE_RETURN_IF_ERROR(CheckText(absl::StrCat(field, ".description"), n.description(), kMaxShortTextChars, false));
  ATABLE_RETURN_IF_ERROR(CheckCount(absl::StrCat(field, ".kinds"), n.kinds(), 10));
  for (int i = 0; i < n.kinds_size(); ++i) {
    if (!v1::OfferKind_IsValid(n.kinds(i)) || n.kinds(i) == 0) return Invalid(absl::StrCat(field, ".kinds[", i, "]"), "is not a known kind");
  }
  ATABLE_RETURN_IF_ERROR(CheckCount(absl::StrCat(field, ".sub_kinds"), n.sub_kinds(), 30));
  for (int i = 0; i < n.sub_kinds_size(); ++i) {
    if (!v1::OfferSubKind_IsValid(n.sub_kinds(i)) || n.sub_kinds(i) == 0) {
      return Invalid(absl::StrCat(field, ".sub_kinds[", i, "]"), "is not a known sub-kind");
    }
  }
  ATABLE_RETURN_IF_ERROR(CheckStrings(absl::StrCat(field, ".required_tags"), n.required_tags(), 64));
  ATABLE_RETURN_IF_ERROR(CheckCount(absl::StrCat(field, ".preferred_tags"), n.preferred_tags(), kMaxListItems));
  for (int i = 0; i < n.preferred_tags_size(); ++i) {
    std::string item = absl::StrCat(field, ".preferred_tags[", i, "]");
    ATABLE_RETURN_IF_ERROR(CheckText(item + ".tag", n.preferred_tags(i).tag(), 64, true));
    double w = n.preferred_tags(i).weight();
    if (!std::isfinite(w) || w < 0 || w > 1000) return Invalid(item + ".weight", "must be in 0-1000");
  }
  if (n.has_price()) {
    const v1::PriceFilter& p = n.price();
    if (!v1::PriceUnit_IsValid(p.unit())) return Invalid(absl::StrCat(field, ".price.unit"), "is not a known unit");
    if (p.min_amount_cents() < 0) return Invalid(absl::StrCat(field, ".price.min_amount_cents"), "must not be negative");
    if (p.max_amount_cents() < 0) return Invalid(absl::StrCat(field, ".price.max_amount_cents"), "must not be negative");
    if (p.max_amount_cents() != 0 && p.max_amount_cents() < p.min_amount_cents()) {
      return Invalid(absl::StrCat(field, ".price.max_amount_cents"), "is below min_amount_cents");
    }
  }
  if (n.group_size() < 0 || n.group_size() > kMaxPersons) return Invalid(absl::StrCat(field, ".group_size"), "must be in 0-100000");
  if (n.has_window()) ATABLE_RETURN_IF_ERROR(CheckDateRange(absl::StrCat(field, ".window"), n.window()));
  const v1::Area& a = n.area();
  ATABLE_RETURN_IF_ERROR(CheckCount(absl::StrCat(field, ".area.insee_codes"), a.insee_codes(), 500));
  for (int i = 0; i < a.insee_codes_size(); ++i) {
    if (a.insee_codes(i).size() != 5) return Invalid(absl::StrCat(field, ".area.insee_codes[", i, "]"), "must be 5 characters");
  }
  ATABLE_RETURN_IF_ERROR(CheckCount(absl::StrCat(field, ".area.departements"), a.departements(), 110));
  for (int i = 0; i < a.departements_size(); ++i) {
    size_t len = a.departements(i).size();
    if (len < 2 || len > 3) return Invalid(absl::StrCat(field, ".area.departements[", i, "]"), "must be 2 or 3 characters");
  }
  if (a.has_circle()) {
    ATABLE_RETURN_IF_ERROR(CheckLocation(absl::StrCat(field, ".area.circle.point"), a.circle().point()));
    double r = a.circle().radius_km();
    if (!(r > 0 && r <= 1000)) return Invalid(absl::StrCat(field, ".area.circle.radius_km"), "must be in (0, 1000]");
  }
  ATABLE_RETURN_IF_ERROR(CheckText(absl::StrCat(field, ".area.place_name"), a.place_name(), kMaxNameChars, false));
  if (n.min_classification() < 0 || n.min_classification() > 5) {
    return Invalid(absl::StrCat(field, ".min_classification"), "must be in 0-5");
  }
  ATABLE_RETURN_IF_ERROR(CheckStrings(absl::StrCat(field, ".required_labels"), n.required_labels(), kMaxNameChars));
  ATABLE_RETURN_IF_ERROR(CheckLanguages(absl::StrCat(field, ".languages"), n.languages()));
  for (int i = 0; i < n.price_quality_size(); ++i) {
    if (!v1::PriceQualityTag_IsValid(n.price_quality(i)) || n.price_quality(i) == 0) {
      return Invalid(absl::StrCat(field, ".price_quality[", i, "]"), "is not a known tag");
    }
  }
  if (!std::isfinite(n.weight()) || n.weight() < 0 || n.weight() > 1000) return Invalid(absl::StrCat(field, ".weight"), "must be in 0-1000");
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateBuyer(const v1::Buyer& b) {
  ATABLE_RETURN_IF_ERROR(ValidateId("buyer.id", b.id()));
  ATABLE_RETURN_IF_ERROR(CheckText("buyer.name", b.name(), kMaxNameChars, true));
  if (!v1::BuyerKind_IsValid(b.kind())) return Invalid("buyer.kind", "is not a known kind");
  ATABLE_RETURN_IF_ERROR(CheckCount("buyer.needs", b.needs(), 20));
  for (int i = 0; i < b.needs_size(); ++i) {
    ATABLE_RETURN_IF_ERROR(CheckNeed(absl::StrCat("buyer.needs[", i, "]"), b.needs(i)));
    for (int j = 0; j < i; ++j) {
      if (b.needs(j).id() == b.needs(i).id()) return Invalid(absl::StrCat("buyer.needs[", i, "].id"), "repeats an earlier need's id");
    }
  }
  ATABLE_RETURN_IF_ERROR(CheckText("buyer.contacts.email", b.contacts().email(), kMaxNameChars, false));
  ATABLE_RETURN_IF_ERROR(CheckText("buyer.contacts.website", b.contacts().website(), kMaxShortTextChars, false));
  ATABLE_RETURN_IF_ERROR(CheckText("buyer.contacts.phone", b.contacts().phone(), 40, false));
  return absl::OkStatus();
}

absl::Status ValidateId(absl::string_view field, absl::string_view id) {
  if (id.empty()) return Invalid(field, "is required");
  if (id.size() > kMaxIdBytes) {
    return Invalid(field, absl::StrCat("is ", id.size(), " bytes long, more than ", kMaxIdBytes));
  }
  if (!IsValidUtf8(id)) return Invalid(field, "is not valid UTF-8");
  for (char c : id) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7F) return Invalid(field, "must not contain spaces or control characters");
  }
  return absl::OkStatus();
}

v1::OfferKind KindOfSubKind(v1::OfferSubKind sub_kind) {
  int n = static_cast<int>(sub_kind);
  if (n == 0) return v1::OFFER_KIND_UNSPECIFIED;
  if (n < 20) return v1::OFFER_KIND_LODGING;
  if (n < 40) return v1::OFFER_KIND_ACTIVITY;
  return v1::OFFER_KIND_PACKAGE;
}

absl::Status ValidateProvider(const Provider& p) {
  ATABLE_RETURN_IF_ERROR(ValidateId("provider.id", p.id()));
  ATABLE_RETURN_IF_ERROR(CheckText("provider.name", p.name(), kMaxNameChars, true));
  if (!v1::BusinessKind_IsValid(p.kind())) return Invalid("provider.kind", "is not a known kind");
  ATABLE_RETURN_IF_ERROR(CheckAddress("provider.address", p.address()));
  if (p.has_location()) ATABLE_RETURN_IF_ERROR(CheckLocation("provider.location", p.location()));
  const v1::Contacts& c = p.contacts();
  ATABLE_RETURN_IF_ERROR(CheckText("provider.contacts.website", c.website(), kMaxShortTextChars, false));
  ATABLE_RETURN_IF_ERROR(CheckText("provider.contacts.email", c.email(), kMaxNameChars, false));
  if (!c.email().empty() && c.email().find('@') == std::string::npos) {
    return Invalid("provider.contacts.email", "is not an email address");
  }
  ATABLE_RETURN_IF_ERROR(CheckText("provider.contacts.phone", c.phone(), 40, false));
  ATABLE_RETURN_IF_ERROR(CheckCount("provider.classifications", p.classifications(), kMaxListItems));
  for (int i = 0; i < p.classifications_size(); ++i) {
    ATABLE_RETURN_IF_ERROR(
        CheckClassification(absl::StrCat("provider.classifications[", i, "]"), p.classifications(i)));
  }
  ATABLE_RETURN_IF_ERROR(CheckStrings("provider.labels", p.labels(), kMaxNameChars));
  ATABLE_RETURN_IF_ERROR(CheckLanguages("provider.languages", p.languages()));
  ATABLE_RETURN_IF_ERROR(CheckDescriptions("provider.descriptions", p.descriptions()));
  return absl::OkStatus();
}

absl::Status ValidateOffer(const Offer& o) {
  ATABLE_RETURN_IF_ERROR(ValidateId("offer.id", o.id()));
  ATABLE_RETURN_IF_ERROR(ValidateId("offer.provider_id", o.provider_id()));
  if (!v1::OfferKind_IsValid(o.kind()) || o.kind() == v1::OFFER_KIND_UNSPECIFIED) {
    return Invalid("offer.kind", "is required (lodging, activity, package or other)");
  }
  if (!v1::OfferSubKind_IsValid(o.sub_kind())) return Invalid("offer.sub_kind", "is not a known sub-kind");
  if (o.sub_kind() != v1::OFFER_SUB_KIND_UNSPECIFIED && KindOfSubKind(o.sub_kind()) != o.kind()) {
    return Invalid("offer.sub_kind", absl::StrCat(v1::OfferSubKind_Name(o.sub_kind()),
                                                  " does not belong to ", v1::OfferKind_Name(o.kind())));
  }
  ATABLE_RETURN_IF_ERROR(CheckText("offer.title", o.title(), kMaxNameChars, true));
  ATABLE_RETURN_IF_ERROR(CheckDescriptions("offer.descriptions", o.descriptions()));
  const v1::Capacity& cap = o.capacity();
  if (cap.min_persons() < 0) return Invalid("offer.capacity.min_persons", "must not be negative");
  if (cap.max_persons() < 0) return Invalid("offer.capacity.max_persons", "must not be negative");
  if (cap.max_persons() > kMaxPersons) return Invalid("offer.capacity.max_persons", "is beyond 100000");
  if (cap.max_persons() != 0 && cap.max_persons() < cap.min_persons()) {
    return Invalid("offer.capacity.max_persons", "is below min_persons");
  }
  if (o.units() < 0) return Invalid("offer.units", "must not be negative");
  ATABLE_RETURN_IF_ERROR(CheckCount("offer.prices", o.prices(), kMaxPrices));
  for (int i = 0; i < o.prices_size(); ++i) {
    ATABLE_RETURN_IF_ERROR(CheckPrice(absl::StrCat("offer.prices[", i, "]"), o.prices(i)));
  }
  ATABLE_RETURN_IF_ERROR(CheckCount("offer.price_quality_tags", o.price_quality_tags(), 3));
  for (int i = 0; i < o.price_quality_tags_size(); ++i) {
    int t = o.price_quality_tags(i);
    if (!v1::PriceQualityTag_IsValid(t) || t == v1::PRICE_QUALITY_TAG_UNSPECIFIED) {
      return Invalid(absl::StrCat("offer.price_quality_tags[", i, "]"), "is not a known tag");
    }
  }
  ATABLE_RETURN_IF_ERROR(CheckStrings("offer.tags", o.tags(), 64));
  if (o.has_classification()) ATABLE_RETURN_IF_ERROR(CheckClassification("offer.classification", o.classification()));
  ATABLE_RETURN_IF_ERROR(CheckStrings("offer.labels", o.labels(), kMaxNameChars));
  ATABLE_RETURN_IF_ERROR(CheckCount("offer.opening_periods", o.opening_periods(), kMaxListItems));
  for (int i = 0; i < o.opening_periods_size(); ++i) {
    ATABLE_RETURN_IF_ERROR(
        CheckDateRange(absl::StrCat("offer.opening_periods[", i, "]"), o.opening_periods(i)));
  }
  if (o.has_location()) ATABLE_RETURN_IF_ERROR(CheckLocation("offer.location", o.location()));
  ATABLE_RETURN_IF_ERROR(CheckLanguages("offer.languages", o.languages()));
  return absl::OkStatus();
}

}  // namespace atable
