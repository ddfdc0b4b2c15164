#include "server/core/text.h"

#include <cstdint>
#include <cstring>

namespace atable {
namespace {

// Eight bytes at a time: whether some byte of a word is below n (1 <= n <= 128), or equals b.
constexpr uint64_t kEveryByte = 0x0101010101010101ULL;
constexpr uint64_t kHighBits = 0x8080808080808080ULL;
uint64_t LoadWord(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, sizeof(w));
  return w;
}
bool HasByteBelow(uint64_t w, uint8_t n) { return ((w - kEveryByte * n) & ~w & kHighBits) != 0; }
bool HasByte(uint64_t w, uint8_t b) { return HasByteBelow(w ^ (kEveryByte * b), 1); }

// Decodes one code point at s[*i], advancing *i; returns -1 on malformed input.
int32_t DecodeUtf8(absl::string_view s, size_t* i) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = byte(*i);
  if (c < 0x80) {
    ++*i;
    return c;
  }
  int len;
  int32_t cp;
  int32_t min;
  if ((c & 0xE0) == 0xC0) {
    len = 2, cp = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3, cp = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (*i + len > s.size()) return -1;
  for (int k = 1; k < len; ++k) {
    uint8_t cc = byte(*i + k);
    if ((cc & 0xC0) != 0x80) return -1;
    cp = (cp << 6) | (cc & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return -1;
  *i += len;
  return cp;
}

// ASCII base letters of U+00C0..U+00FF; '\0' marks the ones handled apart or kept.
constexpr char kLatin1Base[] =
    "AAAAAA\0CEEEEIIIIDNOOOOO\0OUUUUY\0\0"
    "aaaaaa\0ceeeeiiiidnooooo\0ouuuuy\0y";

// Appends the accent-free lower-case form of code point `cp` to `out`; returns false if `cp`
// is not a Latin letter with a known base (the caller keeps it as it is).
bool AppendFolded(int32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp - 'A' + 'a' : cp));
    return true;
  }
  if (cp >= 0xC0 && cp <= 0xFF) {
    char base = kLatin1Base[cp - 0xC0];
    if (base != '\0') {
      out->push_back(static_cast<char>(base >= 'A' && base <= 'Z' ? base - 'A' + 'a' : base));
      return true;
    }
    if (cp == 0xC6 || cp == 0xE6) return out->append("ae"), true;
    if (cp == 0xDF) return out->append("ss"), true;
    if (cp == 0xDE || cp == 0xFE) return out->append("th"), true;
    return false;  // × and ÷
  }
  if (cp == 0x152 || cp == 0x153) return out->append("oe"), true;
  if (cp >= 0x100 && cp <= 0x17F) {
    // Latin Extended-A: pairs of upper/lower case letters whose bases follow this list.
    static constexpr char kExtABase[] =
        "aaaaaaccccccccddddeeeeeeeeeegggggggghhhhiiiiiiiiii\0\0jjkkkllllllllllnnnnnnnnnoo"
        "oooo\0\0rrrrrrssssssssttttttuuuuuuuuuuuuwwyyyzzzzzzs";
    size_t k = static_cast<size_t>(cp - 0x100);
    if (k < sizeof(kExtABase) - 1 && kExtABase[k] != '\0') {
      out->push_back(kExtABase[k]);
      return true;
    }
  }
  return false;
}

}  // namespace

bool IsValidUtf8(absl::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    // Eight ASCII bytes at a time: most of any text here.
    if (i + 8 <= s.size() && (LoadWord(s.data() + i) & kHighBits) == 0) {
      i += 8;
    } else if (static_cast<uint8_t>(s[i]) < 0x80) {
      ++i;
    } else if (DecodeUtf8(s, &i) < 0) {
      return false;
    }
  }
  return true;
}

TextScan ScanText(absl::string_view s, bool allow_line_breaks) {
  TextScan scan;
  size_t i = 0;
  while (i < s.size()) {
    if (i + 8 <= s.size()) {
      const uint64_t w = LoadWord(s.data() + i);
      if ((w & kHighBits) == 0 && !HasByteBelow(w, 0x20) && !HasByte(w, 0x7F)) {
        scan.blank = scan.blank && w == kEveryByte * ' ';  // eight printable ASCII characters
        scan.chars += 8;
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<uint8_t>(s[i]);
    if (c >= 0x80) {
      if (DecodeUtf8(s, &i) < 0) {
        scan.valid_utf8 = false;
        return scan;
      }
      scan.blank = false;
      ++scan.chars;
      continue;
    }
    const bool line_break = c == '\t' || c == '\r' || c == '\n';
    scan.blank = scan.blank && (c == ' ' || line_break);
    if ((c < 0x20 || c == 0x7F) && !(allow_line_breaks && line_break)) scan.control = true;
    ++scan.chars;
    ++i;
  }
  return scan;
}

std::string FoldAccentsLower(absl::string_view s) {
  std::string out;
  AppendFoldedLower(s, &out);
  return out;
}

void AppendFoldedLower(absl::string_view s, std::string* to) {
  std::string& out = *to;
  out.reserve(out.size() + s.size());
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    // A run of ASCII bytes (read eight at a time), lowered in place of one call a byte.
    while (i + 8 <= s.size() && (LoadWord(s.data() + i) & kHighBits) == 0) i += 8;
    while (i < s.size() && static_cast<uint8_t>(s[i]) < 0x80) ++i;
    if (i > start) {
      size_t k = out.size();
      out.append(s.data() + start, i - start);
      for (; k + 8 <= out.size(); k += 8) {  // eight at a time: 'A'-'Z' gain 0x20
        uint64_t w = LoadWord(out.data() + k);
        const uint64_t upper =
            ((w + kEveryByte * (0x80 - 'A')) ^ (w + kEveryByte * (0x80 - 'Z' - 1))) & kHighBits;
        w += upper >> 2;
        std::memcpy(out.data() + k, &w, sizeof(w));
      }
      for (; k < out.size(); ++k) {
        if (out[k] >= 'A' && out[k] <= 'Z') out[k] = static_cast<char>(out[k] - 'A' + 'a');
      }
      continue;
    }
    int32_t cp = DecodeUtf8(s, &i);
    if (cp < 0) {  // Not UTF-8: keep the byte.
      out.push_back(s[start]);
      i = start + 1;
      continue;
    }
    if (!AppendFolded(cp, &out)) out.append(s.data() + start, i - start);
  }
}

std::string NormalizePlaceName(absl::string_view s) {
  std::string folded = FoldAccentsLower(s);
  // Words of upper-case letters and digits; everything else separates words.
  std::vector<std::string> words;
  std::string word;
  for (char c : folded) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      word.push_back(c >= 'a' ? static_cast<char>(c - 'a' + 'A') : c);
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  std::string out;
  for (std::string& w : words) {
    if (w == "SAINT") w = "ST";
    if (w == "SAINTE") w = "STE";
    if (!out.empty()) out.push_back(' ');
    out += w;
  }
  return out;
}

std::vector<std::string> SplitCsvLine(absl::string_view line, char delimiter) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        fields.back().push_back(c);
      }
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else if (c == delimiter) {
      fields.emplace_back();
    } else {
      fields.back().push_back(c);
    }
  }
  return fields;
}

}  // namespace atable
