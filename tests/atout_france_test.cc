#include "server/core/atout_france.h"

#include <map>

#include "gtest/gtest.h"
#include "server/core/validation.h"
#include "tests/test_util.h"

namespace atable {
namespace {

class AtoutFranceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto communes = CommuneIndex::FromCsv(
        testing::ReadFileOrDie(testing::SharedDataPath("communes/auvergne_communes.csv")));
    ASSERT_OK(communes);
    communes_ = *std::move(communes);
    auto records = ParseAtoutFranceCsv(testing::ReadFileOrDie(
        testing::SharedDataPath("atout-france/hebergements-classes_2022-01_auvergne.csv")));
    ASSERT_OK(records);
    records_ = *std::move(records);
  }
  const AtoutFranceRecord* FindByName(absl::string_view name) {
    for (const AtoutFranceRecord& r : records_) {
      if (r.name == name) return &r;
    }
    return nullptr;
  }
  CommuneIndex communes_;
  std::vector<AtoutFranceRecord> records_;
};

TEST_F(AtoutFranceTest, ReadsEveryRecordWithItsFields) {
  ASSERT_EQ(600u, records_.size());
  const AtoutFranceRecord* arev = FindByName("AREV HÔTEL");
  ASSERT_NE(nullptr, arev);
  EXPECT_EQ("HÔTEL DE TOURISME", arev->typology);
  EXPECT_EQ(2, arev->stars);
  EXPECT_EQ("15110", arev->postcode);
  EXPECT_EQ("CHAUDES-AIGUES", arev->commune);
  EXPECT_EQ(39, arev->capacity);
  EXPECT_EQ(19, arev->rooms);
  EXPECT_EQ(0, arev->pitches);  // "-" is empty
  EXPECT_EQ("", arev->category);
}

TEST_F(AtoutFranceTest, MergesReclassifiedDuplicates) {
  std::vector<AtoutFranceRecord> cantal;
  for (const AtoutFranceRecord& r : records_) {
    if (r.postcode.rfind("15", 0) == 0) cantal.push_back(r);
  }
  ASSERT_EQ(133u, cantal.size());
  std::vector<AtoutFranceRecord> merged = DeduplicateAtoutFrance(cantal);
  EXPECT_EQ(132u, merged.size());
  int borie_basse = 0;
  for (const AtoutFranceRecord& r : merged) borie_basse += r.name == "CAMPING LA BORIE BASSE";
  EXPECT_EQ(1, borie_basse);
}

TEST_F(AtoutFranceTest, MapsARecordToAPlacedProviderAndOffer) {
  CatalogEntry e = AtoutFranceToCatalog(*FindByName("AREV HÔTEL"), communes_);
  EXPECT_TRUE(e.placed);
  EXPECT_EQ("af-15110-arev-hotel", e.provider.id());
  EXPECT_EQ("Arev Hôtel", e.provider.name());
  EXPECT_EQ("15045", e.provider.address().insee_code());
  EXPECT_DOUBLE_EQ(44.848938, e.provider.location().latitude());
  EXPECT_DOUBLE_EQ(2.998231, e.provider.location().longitude());
  EXPECT_EQ("http://www.casino-chaudesaigues.com/hotel/", e.provider.contacts().website());
  EXPECT_EQ("af-15110-arev-hotel/stay", e.offer.id());
  EXPECT_EQ(v1::OFFER_SUB_KIND_HOTEL, e.offer.sub_kind());
  EXPECT_EQ(39, e.offer.capacity().max_persons());
  EXPECT_EQ(19, e.offer.units());
  EXPECT_EQ(v1::CLASSIFICATION_SCHEME_STARS, e.offer.classification().scheme());
  EXPECT_EQ(2, e.offer.classification().level());
  EXPECT_EQ(2015, e.offer.classification().award_date().year());
  EXPECT_OK(ValidateProvider(e.provider));
  EXPECT_OK(ValidateOffer(e.offer));
}

TEST_F(AtoutFranceTest, PlacesNearlyAllCantalRecordsAndValidatesThemAll) {
  std::map<v1::OfferSubKind, int> kinds;
  std::vector<std::string> unplaced;
  for (const AtoutFranceRecord& r : DeduplicateAtoutFrance(records_)) {
    CatalogEntry e = AtoutFranceToCatalog(r, communes_);
    ASSERT_OK(ValidateProvider(e.provider)) << r.line;
    ASSERT_OK(ValidateOffer(e.offer)) << r.line;
    if (!e.placed) unplaced.push_back(r.commune);
    ++kinds[e.offer.sub_kind()];
  }
  EXPECT_EQ(0, kinds[v1::OFFER_SUB_KIND_UNSPECIFIED]);
  EXPECT_LE(unplaced.size(), 12u) << ::testing::PrintToString(unplaced);
}

TEST(AtoutFranceParseTest, RejectsFilesThatAreNotTheExport) {
  EXPECT_EQ("atout-france: line 1: not the header of the Atout France export "
            "(expected \"DATE DE CLASSEMENT;TYPOLOGIE ÉTABLISSEMENT;...\")",
            ParseAtoutFranceCsv("name,stars\nx,3\n").status().message());
  std::string header =
      "DATE DE CLASSEMENT;TYPOLOGIE ÉTABLISSEMENT;CLASSEMENT;CATÉGORIE;MENTION;NOM COMMERCIAL;"
      "ADRESSE;CODE POSTAL;COMMUNE;SITE INTERNET;TYPE DE SÉJOUR;CAPACITÉ;CHAMBRES;EMPLACEMENTS;"
      "UNITES;LOGEMENTS\n";
  EXPECT_EQ("atout-france: line 2: 3 columns, expected 16",
            ParseAtoutFranceCsv(header + "a;b;c\n").status().message());
  EXPECT_EQ("atout-france: line 2: not UTF-8 text",
            ParseAtoutFranceCsv(header + "01/01/2020;H\xD4TEL;;;;;;;;;;;;;;\n").status().message());
}

TEST(SlugifyTest, MakesAsciiSlugs) {
  EXPECT_EQ("hotel-du-lac", Slugify("Hôtel du Lac"));
  EXPECT_EQ("l-auberge-d-olt", Slugify("  L'Auberge d'Olt !"));
}

}  // namespace
}  // namespace atable
