#include "server/core/datatourisme.h"

#include <filesystem>
#include <map>

#include "gtest/gtest.h"
#include "server/core/validation.h"
#include "tests/test_util.h"

namespace atable {
namespace {

// Every object of the shared sample, mapped, keyed by file name.
std::map<std::string, std::vector<DatatourismeObject>> ReadSample() {
  std::map<std::string, std::vector<DatatourismeObject>> out;
  for (const auto& entry : std::filesystem::directory_iterator(testing::SharedDataPath("datatourisme"))) {
    if (entry.path().extension() != ".json") continue;
    auto objects = ParseDatatourisme(testing::ReadFileOrDie(entry.path().string()));
    EXPECT_TRUE(objects.ok()) << entry.path() << ": " << objects.status();
    if (objects.ok()) out[entry.path().filename().string()] = *std::move(objects);
  }
  return out;
}

TEST(DatatourismeTest, MapsEveryOfferOfTheSampleAndSkipsTheEvent) {
  auto sample = ReadSample();
  ASSERT_EQ(5u, sample.size());
  int offers = 0, skipped = 0;
  for (const auto& [file, objects] : sample) {
    ASSERT_EQ(1u, objects.size()) << file;
    const DatatourismeObject& o = objects[0];
    if (!o.skip_reason.empty()) {
      ++skipped;
      EXPECT_EQ("49-00037bcf-28e4-3322-b72f-377587204703.json", file);
      EXPECT_EQ("an event, not an offer", o.skip_reason);
      continue;
    }
    ++offers;
    EXPECT_OK(ValidateProvider(o.provider)) << file;
    EXPECT_OK(ValidateOffer(o.offer)) << file;
    EXPECT_TRUE(o.placed) << file;
    EXPECT_EQ(o.provider.id() + "/offer", o.offer.id());
  }
  EXPECT_EQ(4, offers);
  EXPECT_EQ(1, skipped);
}

TEST(DatatourismeTest, TheGiteKeepsCapacityPricesClassificationAndLabels) {
  auto sample = ReadSample();
  const DatatourismeObject& gite = sample.at("23-005819a3-aaf9-31ba-9f1f-5616e78d8738.json")[0];
  EXPECT_EQ("dt-hloaqu087v5004ty", gite.provider.id());
  EXPECT_EQ("MAZETTE", gite.provider.name());
  EXPECT_EQ(v1::BUSINESS_KIND_ACCOMMODATION, gite.provider.kind());
  EXPECT_EQ("Videix", gite.provider.address().commune());
  EXPECT_EQ("87600", gite.provider.address().postcode());
  EXPECT_EQ("87204", gite.provider.address().insee_code());
  EXPECT_DOUBLE_EQ(45.802394, gite.provider.location().latitude());
  EXPECT_DOUBLE_EQ(0.727444, gite.provider.location().longitude());
  EXPECT_EQ("reservation@gitesdefrance87.fr", gite.provider.contacts().email());
  const v1::Offer& o = gite.offer;
  EXPECT_EQ(v1::OFFER_KIND_LODGING, o.kind());
  EXPECT_EQ(v1::OFFER_SUB_KIND_SELF_CATERING, o.sub_kind());
  EXPECT_EQ(6, o.capacity().max_persons());
  EXPECT_EQ(v1::CLASSIFICATION_SCHEME_EPIS, o.classification().scheme());
  EXPECT_EQ(3, o.classification().level());
  ASSERT_EQ(1, o.labels_size());
  EXPECT_EQ("Gîtes de France", o.labels(0));
  // 7 price lines, each valid over two periods of 2023.
  ASSERT_EQ(14, o.prices_size());
  const v1::Price& first = o.prices(0);
  EXPECT_EQ(34900, first.min_amount_cents());
  EXPECT_EQ(34900, first.max_amount_cents());
  EXPECT_EQ(v1::PRICE_UNIT_PER_WEEK, first.unit());
  EXPECT_EQ("Moyenne saison", first.season());
  EXPECT_EQ(2023, first.validity().start().year());
  EXPECT_EQ(4, first.validity().start().month());
  EXPECT_EQ(1, first.validity().start().day());
  EXPECT_EQ(30, first.validity().end().day());
  EXPECT_EQ(6, first.validity().end().month());
  EXPECT_EQ(2, o.prices(1).validity().start().day());
  EXPECT_EQ(9, o.prices(1).validity().start().month());
  int weekends = 0;
  for (const v1::Price& p : o.prices()) weekends += p.unit() == v1::PRICE_UNIT_PER_STAY;
  EXPECT_EQ(6, weekends);  // 3 week-end prices x 2 periods
  EXPECT_NE(o.tags().end(), std::find(o.tags().begin(), o.tags().end(), "in-the-countryside"));
  EXPECT_NE(o.tags().end(), std::find(o.tags().begin(), o.tags().end(), "pets-allowed"));
  EXPECT_EQ(1, o.descriptions().count("fr"));
  EXPECT_FALSE(o.opening_periods().empty());
}

TEST(DatatourismeTest, ActivitiesGetTheirSubKindAndPricesPerPerson) {
  auto sample = ReadSample();
  const v1::Offer& outdoor = sample.at("23-005424b9-231a-3735-b357-b13d2e2f661a.json")[0].offer;
  EXPECT_EQ(v1::OFFER_SUB_KIND_OUTDOOR_SPORT, outdoor.sub_kind());
  ASSERT_EQ(10, outdoor.prices_size());
  EXPECT_EQ(2000, outdoor.prices(0).min_amount_cents());
  EXPECT_EQ(v1::PRICE_UNIT_PER_PERSON, outdoor.prices(0).unit());
  EXPECT_EQ("Initiation Escalade - 2h d'activité", outdoor.prices(0).description());
  EXPECT_NE(outdoor.tags().end(), std::find(outdoor.tags().begin(), outdoor.tags().end(), "canoeing-kayaking"));
  ASSERT_EQ(1, outdoor.labels_size());
  EXPECT_EQ("Qualité Tourisme", outdoor.labels(0));

  const v1::Offer& spa = sample.at("30-00a39ffb-490b-3795-8f6c-7c2bb75ffa6a.json")[0].offer;
  EXPECT_EQ(v1::OFFER_SUB_KIND_WELLNESS, spa.sub_kind());
  ASSERT_EQ(1, spa.prices_size());  // written 13.2 to 7.1: read as 7.10-13.20
  EXPECT_EQ(710, spa.prices(0).min_amount_cents());
  EXPECT_EQ(1320, spa.prices(0).max_amount_cents());

  const DatatourismeObject& creperie = sample.at("30-0049c43b-5087-3c44-87ef-349d316fc2b8.json")[0];
  EXPECT_EQ(v1::BUSINESS_KIND_RESTAURANT, creperie.provider.kind());
  EXPECT_EQ(v1::OFFER_SUB_KIND_GASTRONOMY, creperie.offer.sub_kind());
  EXPECT_EQ("Sainte-Mère-Église", creperie.provider.address().commune());
}

TEST(DatatourismeTest, BrokenFilesAreErrorsThatSayWhere) {
  std::string gite = testing::ReadFileOrDie(
      testing::SharedDataPath("datatourisme/23-005819a3-aaf9-31ba-9f1f-5616e78d8738.json"));
  auto truncated = ParseDatatourisme(absl::string_view(gite).substr(0, gite.size() / 2));
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(absl::StatusCode::kInvalidArgument, truncated.status().code());
  EXPECT_NE(std::string::npos, truncated.status().message().find("not valid JSON"));

  std::string latin1 = gite;
  size_t at = latin1.find("Videix");
  latin1[at + 1] = '\xE9';  // a lone Latin-1 byte inside a string
  auto bad_encoding = ParseDatatourisme(latin1);
  ASSERT_FALSE(bad_encoding.ok());
  EXPECT_NE(std::string::npos, bad_encoding.status().message().find("UTF-8")) << bad_encoding.status();

  auto no_label = ParseDatatourisme(R"({"@id": "x", "@type": ["Hotel", "Accommodation"]})");
  ASSERT_FALSE(no_label.ok());
  EXPECT_NE(std::string::npos, no_label.status().message().find("rdfs:label"));

  auto off_map = ParseDatatourisme(R"({"@id": "x", "dc:identifier": "H1", "@type": ["Hotel", "Accommodation"],
      "rdfs:label": {"fr": ["Hôtel"]},
      "isLocatedAt": [{"schema:geo": {"schema:latitude": "145.0", "schema:longitude": "2.0"}}]})");
  ASSERT_FALSE(off_map.ok());
  EXPECT_NE(std::string::npos, off_map.status().message().find("schema:geo"));

  auto huge = ParseDatatourisme(R"({"@id": "x", "allowedPersons": 2222222222222222222222222222e2222})");
  EXPECT_EQ(absl::StatusCode::kInvalidArgument, huge.status().code());

  auto scalar = ParseDatatourisme("42");
  EXPECT_FALSE(scalar.ok());
}

TEST(DatatourismeTest, ReadsAnArrayOfObjectsAndSkipsWhatIsNotOne) {
  auto objects = ParseDatatourisme(R"([
      {"@id": "a", "dc:identifier": "H1", "@type": ["schema:Hotel", "HotelTrade", "Accommodation"],
       "rdfs:label": {"en": ["Hotel du Lac"]},
       "hasReview": [{"hasReviewValue": {"@id": "kb:ScaleRating_4etoiles", "@type": ["ScaleRating"]}}]},
      {"label": "index entry", "file": "x.json"}])");
  ASSERT_OK(objects);
  ASSERT_EQ(2u, objects->size());
  EXPECT_EQ(v1::OFFER_SUB_KIND_HOTEL, (*objects)[0].offer.sub_kind());
  EXPECT_EQ(v1::CLASSIFICATION_SCHEME_STARS, (*objects)[0].offer.classification().scheme());
  EXPECT_EQ(4, (*objects)[0].offer.classification().level());
  EXPECT_FALSE((*objects)[0].placed);
  EXPECT_FALSE((*objects)[1].skip_reason.empty());
}

}  // namespace
}  // namespace atable
