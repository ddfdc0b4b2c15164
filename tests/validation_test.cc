#include "server/core/validation.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace atable {
namespace {

v1::Provider GoodProvider() {
  v1::Provider p;
  p.set_id("prov-1");
  p.set_name("Ferme des Gentianes");
  p.set_kind(v1::BUSINESS_KIND_ACTIVITY);
  p.mutable_address()->set_postcode("15000");
  p.mutable_address()->set_insee_code("15014");
  p.mutable_location()->set_latitude(44.92);
  p.mutable_location()->set_longitude(2.44);
  p.add_languages("fr");
  return p;
}

v1::Offer GoodOffer() {
  v1::Offer o;
  o.set_id("offer-1");
  o.set_provider_id("prov-1");
  o.set_kind(v1::OFFER_KIND_LODGING);
  o.set_sub_kind(v1::OFFER_SUB_KIND_SELF_CATERING);
  o.set_title("Gîte des Burons");
  o.mutable_capacity()->set_min_persons(2);
  o.mutable_capacity()->set_max_persons(6);
  v1::Price* price = o.add_prices();
  price->set_min_amount_cents(42000);
  price->set_max_amount_cents(56000);
  price->set_unit(v1::PRICE_UNIT_PER_WEEK);
  return o;
}

// The message of the validation error, or "OK".
template <typename T>
std::string Check(const T& resource) {
  absl::Status s;
  if constexpr (std::is_same_v<T, v1::Offer>) {
    s = ValidateOffer(resource);
  } else {
    s = ValidateProvider(resource);
  }
  if (s.ok()) return "OK";
  EXPECT_EQ(absl::StatusCode::kInvalidArgument, s.code());
  return std::string(s.message());
}

TEST(ValidationTest, AcceptsGoodResources) {
  EXPECT_EQ("OK", Check(GoodProvider()));
  EXPECT_EQ("OK", Check(GoodOffer()));
}

TEST(ValidationTest, NamesTheBadProviderField) {
  v1::Provider p = GoodProvider();
  p.clear_id();
  EXPECT_EQ("provider.id: is required", Check(p));
  p = GoodProvider();
  p.set_id("has space");
  EXPECT_EQ("provider.id: must not contain spaces or control characters", Check(p));
  p = GoodProvider();
  p.set_name("   ");
  EXPECT_EQ("provider.name: is required", Check(p));
  p = GoodProvider();
  p.mutable_location()->set_latitude(91);
  EXPECT_EQ("provider.location.latitude: must be in [-90, 90]", Check(p));
  p = GoodProvider();
  p.mutable_location()->set_longitude(-180.5);
  EXPECT_EQ("provider.location.longitude: must be in [-180, 180]", Check(p));
  p = GoodProvider();
  p.set_name("Caf\xE9");
  EXPECT_EQ("provider.name: is not valid UTF-8", Check(p));
  p = GoodProvider();
  p.set_name(std::string(301, 'x'));
  EXPECT_EQ("provider.name: is 301 characters long, more than 300", Check(p));
  p = GoodProvider();
  for (int i = 0; i < 51; ++i) p.add_labels("Label");
  EXPECT_EQ("provider.labels: has 51 items, more than 50", Check(p));
  p = GoodProvider();
  p.add_languages("French");
  EXPECT_EQ("provider.languages[1]: \"French\" is not an ISO 639-1 language code", Check(p));
  p = GoodProvider();
  p.mutable_contacts()->set_email("nobody");
  EXPECT_EQ("provider.contacts.email: is not an email address", Check(p));
  p = GoodProvider();
  p.mutable_address()->set_insee_code("150");
  EXPECT_EQ("provider.address.insee_code: must be 5 digits or capital letters", Check(p));
  p = GoodProvider();
  p.add_classifications()->set_level(3);
  EXPECT_EQ("provider.classifications[0].scheme: is required", Check(p));
}

TEST(ValidationTest, NamesTheBadOfferField) {
  v1::Offer o = GoodOffer();
  o.clear_provider_id();
  EXPECT_EQ("offer.provider_id: is required", Check(o));
  o = GoodOffer();
  o.set_kind(v1::OFFER_KIND_UNSPECIFIED);
  EXPECT_EQ("offer.kind: is required (lodging, activity, package or other)", Check(o));
  o = GoodOffer();
  o.set_kind(v1::OFFER_KIND_ACTIVITY);
  EXPECT_EQ("offer.sub_kind: OFFER_SUB_KIND_SELF_CATERING does not belong to OFFER_KIND_ACTIVITY",
            Check(o));
  o = GoodOffer();
  o.mutable_prices(0)->set_min_amount_cents(-1);
  EXPECT_EQ("offer.prices[0].min_amount_cents: must not be negative", Check(o));
  o = GoodOffer();
  o.mutable_prices(0)->set_max_amount_cents(100);
  EXPECT_EQ("offer.prices[0].max_amount_cents: is below min_amount_cents", Check(o));
  o = GoodOffer();
  o.mutable_prices(0)->set_unit(v1::PRICE_UNIT_UNSPECIFIED);
  EXPECT_EQ("offer.prices[0].unit: is required (per night, week, person...)", Check(o));
  o = GoodOffer();
  o.mutable_capacity()->set_min_persons(8);
  EXPECT_EQ("offer.capacity.max_persons: is below min_persons", Check(o));
  o = GoodOffer();
  o.mutable_capacity()->set_min_persons(-2);
  EXPECT_EQ("offer.capacity.min_persons: must not be negative", Check(o));
  o = GoodOffer();
  v1::DateRange* r = o.add_opening_periods();
  r->mutable_start()->set_year(2027), r->mutable_start()->set_month(6), r->mutable_start()->set_day(1);
  r->mutable_end()->set_year(2027), r->mutable_end()->set_month(2), r->mutable_end()->set_day(29);
  EXPECT_EQ("offer.opening_periods[0].end.day: must be in 1-28", Check(o));
  r->mutable_end()->set_day(28);
  EXPECT_EQ("offer.opening_periods[0].end: is before start", Check(o));
  o = GoodOffer();
  o.add_price_quality_tags(v1::PRICE_QUALITY_TAG_UNSPECIFIED);
  EXPECT_EQ("offer.price_quality_tags[0]: is not a known tag", Check(o));
  o = GoodOffer();
  (*o.mutable_descriptions())["fr"] = std::string(20001, 'a');
  EXPECT_EQ("offer.descriptions[fr]: is 20001 characters long, more than 20000", Check(o));
  o = GoodOffer();
  o.set_title("Gîte\x01");
  EXPECT_EQ("offer.title: contains a control character", Check(o));
  o = GoodOffer();
  o.set_sub_kind(static_cast<v1::OfferSubKind>(999));
  EXPECT_EQ("offer.sub_kind: is not a known sub-kind", Check(o));
}

TEST(ValidationTest, MapsSubKindsToKinds) {
  EXPECT_EQ(v1::OFFER_KIND_LODGING, KindOfSubKind(v1::OFFER_SUB_KIND_TOURIST_RESIDENCE));
  EXPECT_EQ(v1::OFFER_KIND_ACTIVITY, KindOfSubKind(v1::OFFER_SUB_KIND_FAMILY_LEISURE));
  EXPECT_EQ(v1::OFFER_KIND_PACKAGE, KindOfSubKind(v1::OFFER_SUB_KIND_SHORT_BREAK));
  // Every sub-kind has a kind.
  for (int i = 1; i < 100; ++i) {
    if (v1::OfferSubKind_IsValid(i)) {
      EXPECT_NE(v1::OFFER_KIND_UNSPECIFIED, KindOfSubKind(static_cast<v1::OfferSubKind>(i))) << i;
    }
  }
}

}  // namespace
}  // namespace atable
