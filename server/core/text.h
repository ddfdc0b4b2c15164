// Text helpers for catalog data: UTF-8 checks and accent folding for French text.
#ifndef ATABLE_SERVER_CORE_TEXT_H_
#define ATABLE_SERVER_CORE_TEXT_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

namespace atable {

// Returns true iff `s` is well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF).
bool IsValidUtf8(absl::string_view s);

// What one reading of a text finds (see ScanText).
struct TextScan {
  bool valid_utf8 = true;  // false: the other facts are those of the text before the first bad byte
  bool control = false;    // holds a control character (U+0000-U+001F, U+007F) not allowed
  bool blank = true;       // holds nothing but spaces, tabs and line breaks
  size_t chars = 0;        // code points
};

// Reads `s` once: whether it is well-formed UTF-8, its length in code points, whether it holds a
// control character (tab, carriage return and line feed allowed when `allow_line_breaks`) and
// whether it is blank. Runs of printable ASCII are read eight bytes at a time.
TextScan ScanText(absl::string_view s, bool allow_line_breaks);

// Returns `s` in lower case ASCII with the accents of Latin letters removed ("Gîte" -> "gite",
// "Œuf" -> "oeuf"). Other characters are kept as they are. `s` must be UTF-8.
std::string FoldAccentsLower(absl::string_view s);
// The same, appended to `out`.
void AppendFoldedLower(absl::string_view s, std::string* out);

// Returns the place name `s` normalised as La Poste writes commune names: upper case ASCII, no
// accents, hyphens and apostrophes as spaces, "SAINT"/"SAINTE" as "ST"/"STE", single spaces
// ("Saint-Flour" -> "ST FLOUR", "Neuvéglise-sur-Truyère" -> "NEUVEGLISE SUR TRUYERE").
std::string NormalizePlaceName(absl::string_view s);

// Splits one line of delimiter-separated values; double-quoted fields may hold the delimiter
// and doubled quotes. A trailing carriage return is dropped.
std::vector<std::string> SplitCsvLine(absl::string_view line, char delimiter);

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_TEXT_H_
