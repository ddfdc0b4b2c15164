#include "server/core/communes.h"

#include <cstdlib>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/core/text.h"

namespace atable {
namespace {

// Words that say little about which commune is meant.
bool IsFillerWord(absl::string_view w) {
  static const std::set<absl::string_view> kFillers = {"LE", "LA", "LES", "L", "DE", "DU", "DES",
                                                      "D", "SUR", "SOUS", "EN", "ES", "ET"};
  return kFillers.count(w) > 0;
}

std::vector<std::string> Words(absl::string_view normalized) {
  return absl::StrSplit(normalized, ' ', absl::SkipEmpty());
}

}  // namespace

absl::StatusOr<CommuneIndex> CommuneIndex::FromCsv(absl::string_view csv) {
  CommuneIndex index;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(csv, '\n')) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1) {
      if (line != "insee,name,postcode,lat,lon") {
        return absl::InvalidArgumentError("communes: line 1: expected header insee,name,postcode,lat,lon");
      }
      continue;
    }
    if (line.empty()) continue;
    std::vector<std::string> f = SplitCsvLine(line, ',');
    Commune c;
    if (f.size() != 5 || !absl::SimpleAtod(f[3], &c.latitude) ||
        !absl::SimpleAtod(f[4], &c.longitude)) {
      return absl::InvalidArgumentError(absl::StrCat("communes: line ", line_no, ": malformed row"));
    }
    c.insee = f[0];
    c.name = f[1];
    c.postcode = f[2];
    index.by_postcode_[c.postcode].push_back(index.communes_.size());
    index.communes_.push_back(std::move(c));
  }
  return index;
}

const Commune* CommuneIndex::Find(absl::string_view postcode, absl::string_view name) const {
  auto it = by_postcode_.find(std::string(postcode));
  if (it == by_postcode_.end()) return nullptr;
  const std::vector<size_t>& candidates = it->second;
  std::string wanted = NormalizePlaceName(name);
  if (wanted.empty()) return candidates.size() == 1 ? &communes_[candidates[0]] : nullptr;

  // 1. The same name.
  for (size_t i : candidates) {
    if (communes_[i].name == wanted) return &communes_[i];
  }
  // 2. One name starts the other at a word boundary ("NEUVEGLISE" / "NEUVEGLISE SUR TRUYERE").
  const Commune* found = nullptr;
  int matches = 0;
  for (size_t i : candidates) {
    const std::string& official = communes_[i].name;
    const std::string& shorter = official.size() < wanted.size() ? official : wanted;
    const std::string& longer = official.size() < wanted.size() ? wanted : official;
    if (longer.compare(0, shorter.size(), shorter) == 0 && longer[shorter.size()] == ' ') {
      found = &communes_[i];
      ++matches;
    }
  }
  if (matches == 1) return found;
  // 3. The commune sharing the most significant words, if one shares more than any other.
  std::vector<std::string> wanted_words = Words(wanted);
  int best = 0;
  int best_count = 0;
  for (size_t i : candidates) {
    int shared = 0;
    for (const std::string& w : Words(communes_[i].name)) {
      if (IsFillerWord(w)) continue;
      for (const std::string& v : wanted_words) {
        // Words equal, or one a prefix of the other of 6+ letters ("TARENTAIN" / "TARENTAINE").
        size_t n = std::min(w.size(), v.size());
        if (w == v || (n >= 6 && w.compare(0, n, v, 0, n) == 0)) ++shared;
      }
    }
    if (shared > best) {
      best = shared;
      best_count = 1;
      found = &communes_[i];
    } else if (shared == best && shared > 0) {
      ++best_count;
    }
  }
  return best > 0 && best_count == 1 ? found : nullptr;
}

std::string DisplayCommuneName(absl::string_view la_poste_name) {
  static const std::set<absl::string_view> kLower = {"SUR", "SOUS", "DE", "DU", "DES", "EN",
                                                    "ES", "ET", "LE", "LA", "LES", "D", "L"};
  std::string out;
  bool first = true;
  bool elided = false;  // The previous word was "D" or "L", written "d'" / "l'".
  bool article = false;  // The name starts with an article: "Le Falgoux", not "Le-Falgoux".
  for (absl::string_view w : absl::StrSplit(la_poste_name, ' ', absl::SkipEmpty())) {
    std::string word;
    if (w == "ST") {
      word = "Saint";
    } else if (w == "STE") {
      word = "Sainte";
    } else if (!first && kLower.count(w) > 0) {
      for (char c : w) word.push_back(static_cast<char>(c - 'A' + 'a'));
    } else {
      word.push_back(w[0]);
      for (char c : w.substr(1)) word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
    }
    if (!first && !elided) out.push_back(article ? ' ' : '-');
    article = first && (w == "LE" || w == "LA" || w == "LES");
    elided = w == "D" || w == "L";
    if (elided) word.push_back('\'');
    out += word;
    first = false;
  }
  return out;
}

}  // namespace atable
