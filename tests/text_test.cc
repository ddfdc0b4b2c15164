#include "server/core/text.h"

#include <iterator>
#include <random>
#include <string>

#include "absl/strings/escaping.h"
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

// ScanText reads printable ASCII eight bytes at a time and anything else byte by byte: texts made
// of known pieces, each at every offset from the start of a word, must read as the pieces say.
TEST(TextTest, ScansTextAsItsPiecesSayWhereverTheyFall) {
  struct Piece {
    const char* bytes;
    bool valid, blank, control, line_break;
  };
  const Piece pieces[] = {
      {"a", true, false, false, false},
      {" ", true, true, false, false},
      {"\t", true, true, false, true},
      {"\n", true, true, false, true},
      {"\r", true, true, false, true},
      {"\x01", true, false, true, false},
      {"\x7F", true, false, true, false},
      {"\xC3\xA9", true, false, false, false},
      {"\xE2\x82\xAC", true, false, false, false},
      {"\xF0\x9F\x8F\x94", true, false, false, false},
      {"\xC3", false, false, false, false},
      {"\xFF", false, false, false, false},
      {"~", true, false, false, false},
  };
  std::mt19937 random(7);
  for (int round = 0; round < 20000; ++round) {
    std::string text;
    TextScan want;
    bool line_breaks = false;
    const int n = static_cast<int>(random() % 40);
    // Mostly printable ASCII, as catalog texts are, so that whole words of it come up; one text in
    // four mostly white space.
    const size_t common[2][3] = {{0, 1, 12}, {1, 1, 2}};
    const bool spaces = round % 4 == 0;
    for (int k = 0; k < n; ++k) {
      const Piece& p = random() % 8 != 0 ? pieces[common[spaces][random() % 3]]
                                         : pieces[random() % std::size(pieces)];
      text += p.bytes;
      if (!want.valid_utf8) continue;
      if (!p.valid) {
        want.valid_utf8 = false;
        continue;
      }
      ++want.chars;
      want.blank = want.blank && p.blank;
      want.control = want.control || p.control;
      line_breaks = line_breaks || p.line_break;
    }
    for (bool allow : {false, true}) {
      const TextScan got = ScanText(text, allow);
      ASSERT_EQ(want.valid_utf8, got.valid_utf8) << absl::CEscape(text);
      ASSERT_EQ(want.valid_utf8, IsValidUtf8(text)) << absl::CEscape(text);
      if (!want.valid_utf8) continue;
      ASSERT_EQ(want.chars, got.chars) << absl::CEscape(text);
      ASSERT_EQ(want.blank, got.blank) << absl::CEscape(text);
      ASSERT_EQ(want.control || (!allow && line_breaks), got.control) << absl::CEscape(text);
    }
  }
}

// ASCII is lowered eight bytes at a time: every ASCII byte, at every offset, lowers as one alone
// does (only 'A'-'Z' change).
TEST(TextTest, LowersEveryAsciiByteWhereverItFalls) {
  std::string ascii;
  for (int c = 0; c < 0x80; ++c) ascii.push_back(static_cast<char>(c));
  for (size_t shift = 0; shift < 8; ++shift) {
    const std::string text = std::string(shift, 'Q') + ascii + "Z";
    std::string want = text;
    for (char& c : want) {
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    EXPECT_EQ(want, FoldAccentsLower(text)) << shift;
  }
}

TEST(TextTest, CountsCodePoints) {
  EXPECT_EQ(5u, ScanText("épis ", false).chars);
  EXPECT_EQ(0u, ScanText("", false).chars);
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
