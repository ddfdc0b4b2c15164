#include "server/core/offers_csv.h"

#include "gtest/gtest.h"
#include "server/core/validation.h"
#include "tests/test_util.h"

namespace atable {
namespace {

constexpr char kTwoOffers[] =
    "provider_id,provider_name,postcode,commune,latitude,longitude,offer_id,sub_kind,title,description_fr,"
    "max_persons,price_min_eur,price_max_eur,price_unit,season,tags,classification,open_from,open_to\n"
    "gite-lioran,Gîte du Lioran,15300,Laveissière,45.09,2.75,gite-lioran/week,self_catering,Gîte 6 places,"
    "\"Au pied des pistes, \"\"calme\"\"\nvue sur le Plomb\",6,450,620,per_week,haute saison,ski|family,epis:3,"
    "2026-12-01,2027-04-15\n"
    "gite-lioran,,,,,,gite-lioran/raquettes,snow_sport,Sortie raquettes,,12,25,,per_person,,snow,,,\n";

TEST(OffersCsvTest, ReadsProvidersOnceAndOffersWithEveryColumn) {
  auto records = ParseOffersCsv(kTwoOffers);
  ASSERT_OK(records);
  ASSERT_EQ(3u, records->size());
  ASSERT_TRUE((*records)[0].has_provider());
  const v1::Provider& p = (*records)[0].provider();
  EXPECT_EQ("gite-lioran", p.id());
  EXPECT_EQ("Gîte du Lioran", p.name());
  EXPECT_EQ(v1::BUSINESS_KIND_ACCOMMODATION, p.kind());
  EXPECT_DOUBLE_EQ(45.09, p.location().latitude());
  EXPECT_OK(ValidateProvider(p));
  const v1::Offer& week = (*records)[1].offer();
  EXPECT_EQ(v1::OFFER_KIND_LODGING, week.kind());
  EXPECT_EQ("Au pied des pistes, \"calme\"\nvue sur le Plomb", week.descriptions().at("fr"));
  EXPECT_EQ(6, week.capacity().max_persons());
  ASSERT_EQ(1, week.prices_size());
  EXPECT_EQ(45000, week.prices(0).min_amount_cents());
  EXPECT_EQ(62000, week.prices(0).max_amount_cents());
  EXPECT_EQ(v1::PRICE_UNIT_PER_WEEK, week.prices(0).unit());
  EXPECT_EQ(v1::CLASSIFICATION_SCHEME_EPIS, week.classification().scheme());
  EXPECT_EQ(2, week.tags_size());
  ASSERT_EQ(1, week.opening_periods_size());
  EXPECT_EQ(2027, week.opening_periods(0).end().year());
  EXPECT_DOUBLE_EQ(2.75, week.location().longitude());
  EXPECT_OK(ValidateOffer(week));
  const v1::Offer& snow = (*records)[2].offer();
  EXPECT_EQ(v1::OFFER_KIND_ACTIVITY, snow.kind());
  EXPECT_EQ("gite-lioran", snow.provider_id());
  EXPECT_EQ(2500, snow.prices(0).max_amount_cents());
  EXPECT_OK(ValidateOffer(snow));
}

// Each malformed file is refused as a whole, naming the line and column.
TEST(OffersCsvTest, RefusesMalformedFilesNamingLineAndColumn) {
  struct Case {
    std::string text, expected;
  };
  std::vector<Case> cases = {
      {"", "empty"},
      {"provider_id,title,colour\n", "unknown column \"colour\""},
      {"provider_id,offer_id\n", "column \"title\" is required"},
      {"provider_id,provider_name,offer_id,title,sub_kind\np,P,o,T\n", "line 2: 4 fields where the header has 5"},
      {"provider_id,provider_name,offer_id,title,sub_kind\np,P,o,T,castle\n", "line 2, column sub_kind"},
      {"provider_id,provider_name,offer_id,title,kind,price_min_eur,price_unit\np,P,o,T,activity,abc,per_person\n",
       "line 2, column price_min_eur"},
      {"provider_id,provider_name,offer_id,title,kind,price_min_eur\np,P,o,T,activity,10\n", "column price_unit"},
      {"provider_id,provider_name,offer_id,title,kind,latitude\np,P,o,T,activity,45\n", "column longitude"},
      {"provider_id,provider_name,offer_id,title,kind\np,P,o,T,activity\np,P,o,T2,activity\n",
       "line 3, column offer_id"},
      {"provider_id,provider_name,offer_id,title,kind\np,P\xE9,o,T,activity\n", "not UTF-8"},
      {"provider_id,provider_name,offer_id,title,kind,open_from,open_to\np,P,o,T,activity,2026-13-01,2026-12-01\n",
       "column open_from"},
  };
  for (const Case& c : cases) {
    auto records = ParseOffersCsv(c.text);
    ASSERT_FALSE(records.ok()) << c.text;
    EXPECT_EQ(absl::StatusCode::kInvalidArgument, records.status().code());
    EXPECT_NE(std::string::npos, records.status().message().find(c.expected))
        << c.text << " -> " << records.status();
  }
}

}  // namespace
}  // namespace atable
