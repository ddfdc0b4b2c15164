#include "server/core/communes.h"

#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace atable {
namespace {

class CommunesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<CommuneIndex> index =
        CommuneIndex::FromCsv(testing::ReadFileOrDie(testing::SharedDataPath("communes/auvergne_communes.csv")));
    ASSERT_OK(index);
    index_ = *std::move(index);
  }
  // "INSEE name" of the commune found, or "none".
  std::string Find(absl::string_view postcode, absl::string_view name) {
    const Commune* c = index_.Find(postcode, name);
    return c == nullptr ? "none" : c->insee + " " + c->name;
  }
  CommuneIndex index_;
};

TEST_F(CommunesTest, ReadsEveryRow) { EXPECT_EQ(1292u, index_.communes().size()); }

TEST_F(CommunesTest, FindsByPostcodeAndAnySpelling) {
  EXPECT_EQ("15014 AURILLAC", Find("15000", "Aurillac"));
  EXPECT_EQ("15187 ST FLOUR", Find("15100", "SAINT-FLOUR"));
  EXPECT_EQ("15045 CHAUDES AIGUES", Find("15110", "Chaudes-Aigues"));
  EXPECT_EQ("15162 RIOM ES MONTAGNES", Find("15400", "RIOM-ÈS-MONTAGNES"));
  // A name that starts the official one.
  EXPECT_EQ("15142 NEUVEGLISE SUR TRUYERE", Find("15100", "NEUVÉGLISE"));
  // The same commune under its two postcodes.
  EXPECT_EQ("15267 YTRAC", Find("15000", "Ytrac"));
  EXPECT_EQ("15267 YTRAC", Find("15130", "YTRAC"));
}

TEST_F(CommunesTest, RefusesUnknownOrAmbiguousPlaces) {
  EXPECT_EQ("none", Find("15300", "LE LIORAN"));  // a ski resort, not a commune
  EXPECT_EQ("none", Find("99999", "AURILLAC"));
  EXPECT_EQ("none", Find("15000", ""));  // several communes share 15000
}

TEST_F(CommunesTest, RejectsMalformedFiles) {
  EXPECT_EQ(absl::StatusCode::kInvalidArgument, CommuneIndex::FromCsv("a,b\n").status().code());
  absl::Status bad_row = CommuneIndex::FromCsv("insee,name,postcode,lat,lon\n15014,AURILLAC,15000,north,2.4\n").status();
  EXPECT_EQ("communes: line 2: malformed row", bad_row.message());
}

TEST(CommuneNamesTest, DisplaysReadableNames) {
  EXPECT_EQ("Saint-Flour", DisplayCommuneName("ST FLOUR"));
  EXPECT_EQ("Neuveglise-sur-Truyere", DisplayCommuneName("NEUVEGLISE SUR TRUYERE"));
  EXPECT_EQ("Val-d'Arcomie", DisplayCommuneName("VAL D ARCOMIE"));
  EXPECT_EQ("Le Falgoux", DisplayCommuneName("LE FALGOUX"));
  EXPECT_EQ("Le Rouget-Pers", DisplayCommuneName("LE ROUGET PERS"));
}

}  // namespace
}  // namespace atable
