#include "server/core/text.h"

#include "gtest/gtest.h"

namespace atable {
namespace {

TEST(TextTest, ValidatesUtf8) {
  EXPECT_TRUE(IsValidUtf8("Gîte des Burons"));
  EXPECT_TRUE(IsValidUtf8("\xF0\x9F\x8F\x94"));  // U+1F3D4
  EXPECT_FALSE(IsValidUtf8("G\xEEte"));             // Latin-1, not UTF-8
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));            // overlong "/"
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));        // a surrogate
  EXPECT_FALSE(IsValidUtf8("abc\xE2\x82"));         // truncated
}

TEST(TextTest, CountsCodePoints) {
  EXPECT_EQ(5u, Utf8Length("épis "));
  EXPECT_EQ(0u, Utf8Length(""));
}

TEST(TextTest, FoldsAccentsAndCase) {
  EXPECT_EQ("gite", FoldAccentsLower("Gîte"));
  EXPECT_EQ("chaudes-aigues", FoldAccentsLower("Chaudes-Aigues"));
  EXPECT_EQ("oeuf a la neige", FoldAccentsLower("Œuf à la neige"));
  EXPECT_EQ("neuveglise-sur-truyere", FoldAccentsLower("NEUVÉGLISE-SUR-TRUYÈRE"));
  EXPECT_EQ("lodz", FoldAccentsLower("Łódź"));
  EXPECT_EQ("strasse", FoldAccentsLower("Straße"));
  EXPECT_EQ("prix: 10 €", FoldAccentsLower("Prix: 10 €"));  // non-letters kept
  EXPECT_EQ(
      "abc\xFF\xC3"
      "d e",
      FoldAccentsLower("ABC\xFF\xC3"
                       "D E"));  // bytes not UTF-8 kept as they are
  EXPECT_EQ("ete a l'hotel", FoldAccentsLower("ÉTÉ À L'HÔTEL"));
}

TEST(TextTest, NormalizesPlaceNamesLikeLaPoste) {
  EXPECT_EQ("ST FLOUR", NormalizePlaceName("Saint-Flour"));
  EXPECT_EQ("STE EULALIE", NormalizePlaceName("Sainte-Eulalie"));
  EXPECT_EQ("NEUVEGLISE SUR TRUYERE", NormalizePlaceName("Neuvéglise-sur-Truyère"));
  EXPECT_EQ("VAL D ARCOMIE", NormalizePlaceName("VAL-D'ARCOMIE"));
  EXPECT_EQ("RIOM ES MONTAGNES", NormalizePlaceName("  Riom-ès-Montagnes "));
}

TEST(TextTest, SplitsDelimitedLines) {
  EXPECT_EQ((std::vector<std::string>{"a", "", "c"}), SplitCsvLine("a;;c\r", ';'));
  EXPECT_EQ((std::vector<std::string>{"x;y", "say \"hi\"", ""}),
            SplitCsvLine("\"x;y\";\"say \"\"hi\"\"\";", ';'));
}

}  // namespace
}  // namespace atable
