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

// A field's path ("offer.prices[2].validity.start"), spelled out only when a message names it, so
// that checking a valid record (nearly all of them) builds no strings. A Field refers to the one
// it extends and must not outlive it: pass `field.Member("unit")` straight to a call, or keep
// both in locals.
class Field {
 public:
  Field(const char* path) : text_(path) {}         // NOLINT: a path written out
  Field(absl::string_view path) : text_(path) {}   // NOLINT
  Field(const std::string& path) : text_(path) {}  // NOLINT
  Field Member(absl::string_view name) const { return Field(this, kMember, name, 0); }
  Field Item(int index) const { return Field(this, kItem, {}, index); }
  Field Key(absl::string_view key) const { return Field(this, kKey, key, 0); }

  std::string ToString() const {
    std::string out = parent_ != nullptr ? parent_->ToString() : std::string();
    switch (step_) {
      case kWhole:
        out.append(text_.data(), text_.size());
        break;
      case kMember:
        absl::StrAppend(&out, ".", text_);
        break;
      case kItem:
        absl::StrAppend(&out, "[", index_, "]");
        break;
      case kKey:
        absl::StrAppend(&out, "[", text_, "]");
        break;
    }
    return out;
  }

 private:
  enum Step { kWhole, kMember, kItem, kKey };
  Field(const Field* parent, Step step, absl::string_view text, int index)
      : parent_(parent), step_(step), text_(text), index_(index) {}

  const Field* parent_ = nullptr;
  Step step_ = kWhole;
  absl::string_view text_;
  int index_ = 0;
};

absl::Status Invalid(const Field& field, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(field.ToString(), ": ", what));
}

// Checks a free text: UTF-8, no control characters except newlines and tabs when `multiline`,
// at most `max_chars` code points, and not empty when `required`.
absl::Status CheckText(const Field& field, absl::string_view text, size_t max_chars, bool required,
                       bool multiline = false) {
  const TextScan scan = ScanText(text, multiline);
  if (!scan.valid_utf8) return Invalid(field, "is not valid UTF-8");
  if (required && scan.blank) return Invalid(field, "is required");
  if (scan.control) return Invalid(field, "contains a control character");
  if (scan.chars > max_chars) {
    return Invalid(field,
                   absl::StrCat("is ", scan.chars, " characters long, more than ", max_chars));
  }
  return absl::OkStatus();
}

absl::Status CheckLanguageCode(const Field& field, absl::string_view code) {
  bool ok = code.size() >= 2 && code.size() <= 3;
  for (char c : code) ok = ok && c >= 'a' && c <= 'z';
  if (!ok) return Invalid(field, absl::StrCat("\"", code, "\" is not an ISO 639-1 language code"));
  return absl::OkStatus();
}

template <typename List>
absl::Status CheckCount(const Field& field, const List& list, int max) {
  if (list.size() > max) {
    return Invalid(field, absl::StrCat("has ", list.size(), " items, more than ", max));
  }
  return absl::OkStatus();
}

absl::Status CheckStrings(const Field& field,
                          const google::protobuf::RepeatedPtrField<std::string>& list,
                          size_t max_chars) {
  ATABLE_RETURN_IF_ERROR(CheckCount(field, list, kMaxListItems));
  for (int i = 0; i < list.size(); ++i) {
    ATABLE_RETURN_IF_ERROR(CheckText(field.Item(i), list[i], max_chars, true));
  }
  return absl::OkStatus();
}

absl::Status CheckLanguages(const Field& field,
                            const google::protobuf::RepeatedPtrField<std::string>& list) {
  ATABLE_RETURN_IF_ERROR(CheckCount(field, list, kMaxListItems));
  for (int i = 0; i < list.size(); ++i) {
    ATABLE_RETURN_IF_ERROR(CheckLanguageCode(field.Item(i), list[i]));
  }
  return absl::OkStatus();
}

absl::Status CheckDescriptions(const Field& field,
                               const google::protobuf::Map<std::string, std::string>& map) {
  if (map.size() > static_cast<size_t>(kMaxDescriptionLanguages)) {
    return Invalid(field, absl::StrCat("has ", map.size(), " languages, more than ",
                                       kMaxDescriptionLanguages));
  }
  for (const auto& [lang, text] : map) {
    ATABLE_RETURN_IF_ERROR(CheckLanguageCode(field.Key(lang), lang));
    ATABLE_RETURN_IF_ERROR(CheckText(field.Key(lang), text, kMaxDescriptionChars, false, true));
  }
  return absl::OkStatus();
}

absl::Status CheckLocation(const Field& field, const v1::GeoPoint& p) {
  if (!std::isfinite(p.latitude()) || p.latitude() < -90 || p.latitude() > 90) {
    return Invalid(field.Member("latitude"), "must be in [-90, 90]");
  }
  if (!std::isfinite(p.longitude()) || p.longitude() < -180 || p.longitude() > 180) {
    return Invalid(field.Member("longitude"), "must be in [-180, 180]");
  }
  return absl::OkStatus();
}

absl::Status CheckAddress(const Field& field, const v1::PostalAddress& a) {
  ATABLE_RETURN_IF_ERROR(CheckText(field.Member("street"), a.street(), kMaxShortTextChars, false));
  ATABLE_RETURN_IF_ERROR(CheckText(field.Member("commune"), a.commune(), kMaxNameChars, false));
  const auto digits_or_letters = [](absl::string_view s) {
    for (char c : s) {
      if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'))) return false;
    }
    return true;
  };
  if (!a.postcode().empty() && (a.postcode().size() > 10 || !digits_or_letters(a.postcode()))) {
    return Invalid(field.Member("postcode"), "must be digits and capital letters, at most 10");
  }
  if (!a.insee_code().empty() && (a.insee_code().size() != 5 || !digits_or_letters(a.insee_code()))) {
    return Invalid(field.Member("insee_code"), "must be 5 digits or capital letters");
  }
  if (!a.country_code().empty() &&
      (a.country_code().size() != 2 || !digits_or_letters(a.country_code()))) {
    return Invalid(field.Member("country_code"), "must be an ISO 3166-1 alpha-2 code");
  }
  return absl::OkStatus();
}

absl::Status CheckDate(const Field& field, const v1::Date& d) {
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (d.year() < 1900 || d.year() > 2200)
    return Invalid(field.Member("year"), "must be in 1900-2200");
  if (d.month() < 1 || d.month() > 12) return Invalid(field.Member("month"), "must be in 1-12");
  bool leap = (d.year() % 4 == 0 && d.year() % 100 != 0) || d.year() % 400 == 0;
  int days = d.month() == 2 && !leap ? 28 : kDays[d.month() - 1];
  if (d.day() < 1 || d.day() > days) {
    return Invalid(field.Member("day"), absl::StrCat("must be in 1-", days));
  }
  return absl::OkStatus();
}

absl::Status CheckDateRange(const Field& field, const v1::DateRange& r) {
  ATABLE_RETURN_IF_ERROR(CheckDate(field.Member("start"), r.start()));
  ATABLE_RETURN_IF_ERROR(CheckDate(field.Member("end"), r.end()));
  auto key = [](const v1::Date& d) { return d.year() * 10000 + d.month() * 100 + d.day(); };
  if (key(r.end()) < key(r.start())) return Invalid(field.Member("end"), "is before start");
  return absl::OkStatus();
}

absl::Status CheckClassification(const Field& field, const v1::Classification& c) {
  if (!v1::ClassificationScheme_IsValid(c.scheme())) {
    return Invalid(field.Member("scheme"), "is not a known scheme");
  }
  if (c.scheme() == v1::CLASSIFICATION_SCHEME_UNSPECIFIED) {
    return Invalid(field.Member("scheme"), "is required");
  }
  if (c.level() < 1 || c.level() > 5) return Invalid(field.Member("level"), "must be in 1-5");
  ATABLE_RETURN_IF_ERROR(CheckText(field.Member("name"), c.name(), kMaxNameChars, false));
  if (c.has_award_date())
    ATABLE_RETURN_IF_ERROR(CheckDate(field.Member("award_date"), c.award_date()));
  return absl::OkStatus();
}

absl::Status CheckPrice(const Field& field, const v1::Price& p) {
  if (p.min_amount_cents() < 0)
    return Invalid(field.Member("min_amount_cents"), "must not be negative");
  if (p.max_amount_cents() < 0)
    return Invalid(field.Member("max_amount_cents"), "must not be negative");
  if (p.max_amount_cents() > kMaxAmountCents) {
    return Invalid(field.Member("max_amount_cents"), "is beyond 100 million euros");
  }
  if (p.max_amount_cents() < p.min_amount_cents()) {
    return Invalid(field.Member("max_amount_cents"), "is below min_amount_cents");
  }
  if (!v1::PriceUnit_IsValid(p.unit()) || p.unit() == v1::PRICE_UNIT_UNSPECIFIED) {
    return Invalid(field.Member("unit"), "is required (per night, week, person...)");
  }
  ATABLE_RETURN_IF_ERROR(CheckText(field.Member("season"), p.season(), kMaxNameChars, false));
  ATABLE_RETURN_IF_ERROR(
      CheckText(field.Member("description"), p.description(), kMaxShortTextChars, false));
  if (p.has_validity())
    ATABLE_RETURN_IF_ERROR(CheckDateRange(field.Member("validity"), p.validity()));
  return absl::OkStatus();
}

absl::Status CheckNeed(const Field& field, const v1::Need& n) {
  ATABLE_RETURN_IF_ERROR(ValidateId(field.Member("id").ToString(), n.id()));
  ATABLE_RETURN_IF_ERROR(
      CheckText(field.Member("description"), n.description(), kMaxShortTextChars, false));
  ATABLE_RETURN_IF_ERROR(CheckCount(field.Member("kinds"), n.kinds(), 10));
  for (int i = 0; i < n.kinds_size(); ++i) {
    if (!v1::OfferKind_IsValid(n.kinds(i)) || n.kinds(i) == 0)
      return Invalid(field.Member("kinds").Item(i), "is not a known kind");
  }
  ATABLE_RETURN_IF_ERROR(CheckCount(field.Member("sub_kinds"), n.sub_kinds(), 30));
  for (int i = 0; i < n.sub_kinds_size(); ++i) {
    if (!v1::OfferSubKind_IsValid(n.sub_kinds(i)) || n.sub_kinds(i) == 0) {
      return Invalid(field.Member("sub_kinds").Item(i), "is not a known sub-kind");
    }
  }
  ATABLE_RETURN_IF_ERROR(CheckStrings(field.Member("required_tags"), n.required_tags(), 64));
  ATABLE_RETURN_IF_ERROR(
      CheckCount(field.Member("preferred_tags"), n.preferred_tags(), kMaxListItems));
  for (int i = 0; i < n.preferred_tags_size(); ++i) {
    const Field tags = field.Member("preferred_tags");
    const Field item = tags.Item(i);
    ATABLE_RETURN_IF_ERROR(CheckText(item.Member("tag"), n.preferred_tags(i).tag(), 64, true));
    double w = n.preferred_tags(i).weight();
    if (!std::isfinite(w) || w < 0 || w > 1000)
      return Invalid(item.Member("weight"), "must be in 0-1000");
  }
  if (n.has_price()) {
    const v1::PriceFilter& p = n.price();
    if (!v1::PriceUnit_IsValid(p.unit()))
      return Invalid(field.Member("price").Member("unit"), "is not a known unit");
    if (p.min_amount_cents() < 0)
      return Invalid(field.Member("price").Member("min_amount_cents"), "must not be negative");
    if (p.max_amount_cents() < 0)
      return Invalid(field.Member("price").Member("max_amount_cents"), "must not be negative");
    if (p.max_amount_cents() != 0 && p.max_amount_cents() < p.min_amount_cents()) {
      return Invalid(field.Member("price").Member("max_amount_cents"), "is below min_amount_cents");
    }
  }
  if (n.group_size() < 0 || n.group_size() > kMaxPersons)
    return Invalid(field.Member("group_size"), "must be in 0-100000");
  if (n.has_window()) ATABLE_RETURN_IF_ERROR(CheckDateRange(field.Member("window"), n.window()));
  const v1::Area& a = n.area();
  ATABLE_RETURN_IF_ERROR(
      CheckCount(field.Member("area").Member("insee_codes"), a.insee_codes(), 500));
  for (int i = 0; i < a.insee_codes_size(); ++i) {
    if (a.insee_codes(i).size() != 5)
      return Invalid(field.Member("area").Member("insee_codes").Item(i), "must be 5 characters");
  }
  ATABLE_RETURN_IF_ERROR(
      CheckCount(field.Member("area").Member("departements"), a.departements(), 110));
  for (int i = 0; i < a.departements_size(); ++i) {
    size_t len = a.departements(i).size();
    if (len < 2 || len > 3)
      return Invalid(field.Member("area").Member("departements").Item(i),
                     "must be 2 or 3 characters");
  }
  if (a.has_circle()) {
    ATABLE_RETURN_IF_ERROR(
        CheckLocation(field.Member("area").Member("circle").Member("point"), a.circle().point()));
    double r = a.circle().radius_km();
    if (!(r > 0 && r <= 1000))
      return Invalid(field.Member("area").Member("circle").Member("radius_km"),
                     "must be in (0, 1000]");
  }
  ATABLE_RETURN_IF_ERROR(
      CheckText(field.Member("area").Member("place_name"), a.place_name(), kMaxNameChars, false));
  if (n.min_classification() < 0 || n.min_classification() > 5) {
    return Invalid(field.Member("min_classification"), "must be in 0-5");
  }
  ATABLE_RETURN_IF_ERROR(
      CheckStrings(field.Member("required_labels"), n.required_labels(), kMaxNameChars));
  ATABLE_RETURN_IF_ERROR(CheckLanguages(field.Member("languages"), n.languages()));
  for (int i = 0; i < n.price_quality_size(); ++i) {
    if (!v1::PriceQualityTag_IsValid(n.price_quality(i)) || n.price_quality(i) == 0) {
      return Invalid(field.Member("price_quality").Item(i), "is not a known tag");
    }
  }
  if (!std::isfinite(n.weight()) || n.weight() < 0 || n.weight() > 1000)
    return Invalid(field.Member("weight"), "must be in 0-1000");
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateBuyer(const v1::Buyer& b) {
  ATABLE_RETURN_IF_ERROR(ValidateId("buyer.id", b.id()));
  ATABLE_RETURN_IF_ERROR(CheckText("buyer.name", b.name(), kMaxNameChars, true));
  if (!v1::BuyerKind_IsValid(b.kind())) return Invalid("buyer.kind", "is not a known kind");
  ATABLE_RETURN_IF_ERROR(CheckCount("buyer.needs", b.needs(), 20));
  for (int i = 0; i < b.needs_size(); ++i) {
    ATABLE_RETURN_IF_ERROR(CheckNeed(Field("buyer.needs").Item(i), b.needs(i)));
    for (int j = 0; j < i; ++j) {
      if (b.needs(j).id() == b.needs(i).id())
        return Invalid(Field("buyer.needs").Item(i).Member("id"), "repeats an earlier need's id");
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
        CheckClassification(Field("provider.classifications").Item(i), p.classifications(i)));
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
    ATABLE_RETURN_IF_ERROR(CheckPrice(Field("offer.prices").Item(i), o.prices(i)));
  }
  ATABLE_RETURN_IF_ERROR(CheckCount("offer.price_quality_tags", o.price_quality_tags(), 3));
  for (int i = 0; i < o.price_quality_tags_size(); ++i) {
    int t = o.price_quality_tags(i);
    if (!v1::PriceQualityTag_IsValid(t) || t == v1::PRICE_QUALITY_TAG_UNSPECIFIED) {
      return Invalid(Field("offer.price_quality_tags").Item(i), "is not a known tag");
    }
  }
  ATABLE_RETURN_IF_ERROR(CheckStrings("offer.tags", o.tags(), 64));
  if (o.has_classification()) ATABLE_RETURN_IF_ERROR(CheckClassification("offer.classification", o.classification()));
  ATABLE_RETURN_IF_ERROR(CheckStrings("offer.labels", o.labels(), kMaxNameChars));
  ATABLE_RETURN_IF_ERROR(CheckCount("offer.opening_periods", o.opening_periods(), kMaxListItems));
  for (int i = 0; i < o.opening_periods_size(); ++i) {
    ATABLE_RETURN_IF_ERROR(
        CheckDateRange(Field("offer.opening_periods").Item(i), o.opening_periods(i)));
  }
  if (o.has_location()) ATABLE_RETURN_IF_ERROR(CheckLocation("offer.location", o.location()));
  ATABLE_RETURN_IF_ERROR(CheckLanguages("offer.languages", o.languages()));
  return absl::OkStatus();
}

}  // namespace atable
