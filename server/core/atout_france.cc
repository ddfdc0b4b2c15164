#include "server/core/atout_france.h"

#include <cctype>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "server/core/text.h"

namespace atable {
namespace {

constexpr int kColumns = 16;

int ParseCount(absl::string_view s) {
  int n = 0;
  return absl::SimpleAtoi(s, &n) && n > 0 ? n : 0;
}

// "23/01/2019" -> 20190123 for ordering; 0 when malformed.
int DateKey(absl::string_view s) {
  std::vector<absl::string_view> p = absl::StrSplit(s, '/');
  int d = 0, m = 0, y = 0;
  if (p.size() != 3 || !absl::SimpleAtoi(p[0], &d) || !absl::SimpleAtoi(p[1], &m) ||
      !absl::SimpleAtoi(p[2], &y)) {
    return 0;
  }
  return y * 10000 + m * 100 + d;
}

// Title case of an all-capitals name: "AUBERGE DE L'ALLAGNONETTE" -> "Auberge de l'Allagnonette".
std::string Readable(absl::string_view upper) {
  static const std::map<std::string, std::string> kSmall = {
      {"de", "de"}, {"du", "du"}, {"des", "des"}, {"la", "la"}, {"le", "le"}, {"les", "les"},
      {"et", "et"}, {"en", "en"}, {"sur", "sur"}, {"au", "au"}, {"aux", "aux"}};
  std::string out;
  bool word_start = true;
  size_t word_begin = 0;
  for (size_t i = 0; i < upper.size();) {
    unsigned char c = static_cast<unsigned char>(upper[i]);
    size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    absl::string_view ch = upper.substr(i, len);
    bool letter = len > 1 || std::isalnum(c);
    if (!letter) {
      out.append(ch.data(), ch.size());
      word_start = true;
    } else {
      if (word_start) word_begin = out.size();
      if (word_start) {
        out.append(ch.data(), ch.size());
      } else if (len == 1) {
        out.push_back(static_cast<char>(std::tolower(c)));
      } else if (len == 2 && c == 0xC3) {
        // Latin-1 capitals U+00C0..U+00DE become their small forms (+0x20).
        unsigned char c2 = static_cast<unsigned char>(upper[i + 1]);
        out.push_back(static_cast<char>(c));
        out.push_back(static_cast<char>(c2 >= 0x80 && c2 <= 0x9E && c2 != 0x97 ? c2 + 0x20 : c2));
      } else {
        out.append(ch.data(), ch.size());
      }
      word_start = false;
      // Lower the small words once complete (not the first word).
      size_t next = i + len;
      bool ends = next >= upper.size() || !(static_cast<unsigned char>(upper[next]) >= 0x80 ||
                                            std::isalnum(static_cast<unsigned char>(upper[next])));
      if (ends && word_begin > 0) {
        std::string w = out.substr(word_begin);
        std::string lower = w;
        for (char& x : lower) x = static_cast<char>(std::tolower(static_cast<unsigned char>(x)));
        if (kSmall.count(lower) > 0 || lower == "d" || lower == "l") out.replace(word_begin, w.size(), lower);
      }
    }
    i += len;
  }
  return out;
}

v1::OfferSubKind SubKindOf(absl::string_view typology) {
  std::string t = NormalizePlaceName(typology);
  if (t.rfind("HOTEL", 0) == 0) return v1::OFFER_SUB_KIND_HOTEL;
  if (t.rfind("CAMPING", 0) == 0 || t.rfind("PARC RESIDENTIEL", 0) == 0) {
    return v1::OFFER_SUB_KIND_CAMPSITE;
  }
  if (t.rfind("VILLAGE DE VACANCES", 0) == 0) return v1::OFFER_SUB_KIND_HOLIDAY_VILLAGE;
  if (t.rfind("RESIDENCE", 0) == 0) return v1::OFFER_SUB_KIND_TOURIST_RESIDENCE;
  return v1::OFFER_SUB_KIND_UNSPECIFIED;
}

}  // namespace

std::string Slugify(absl::string_view text) {
  std::string folded = FoldAccentsLower(text);
  std::string out;
  for (char c : folded) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '-') {
      out.push_back('-');
    }
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

absl::StatusOr<std::vector<AtoutFranceRecord>> ParseAtoutFranceCsv(absl::string_view text) {
  std::vector<AtoutFranceRecord> records;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (line_no == 1) {
      line = absl::StripPrefix(line, "\xEF\xBB\xBF");  // a byte-order mark, if any
      if (!absl::StartsWith(line, "DATE DE CLASSEMENT;TYPOLOGIE")) {
        return absl::InvalidArgumentError(
            "atout-france: line 1: not the header of the Atout France export "
            "(expected \"DATE DE CLASSEMENT;TYPOLOGIE ÉTABLISSEMENT;...\")");
      }
      if (SplitCsvLine(line, ';').size() != kColumns) {
        return absl::InvalidArgumentError(
            absl::StrCat("atout-france: line 1: expected ", kColumns, " columns"));
      }
      continue;
    }
    if (line.empty() || line == "\r") continue;
    if (!IsValidUtf8(line)) {
      return absl::InvalidArgumentError(
          absl::StrCat("atout-france: line ", line_no, ": not UTF-8 text"));
    }
    std::vector<std::string> f = SplitCsvLine(line, ';');
    if (f.size() != kColumns) {
      return absl::InvalidArgumentError(absl::StrCat("atout-france: line ", line_no, ": ",
                                                     f.size(), " columns, expected ", kColumns));
    }
    for (std::string& field : f) {
      field = std::string(absl::StripAsciiWhitespace(field));
      if (field == "-") field.clear();
    }
    AtoutFranceRecord r;
    r.line = line_no;
    r.classification_date = f[0];
    r.typology = f[1];
    r.stars = f[2].empty() ? 0 : ParseCount(f[2].substr(0, 1));
    r.category = f[3];
    r.mention = f[4];
    r.name = f[5];
    r.address = f[6];
    r.postcode = f[7];
    r.commune = f[8];
    r.website = f[9];
    r.stay_type = f[10];
    r.capacity = ParseCount(f[11]);
    r.rooms = ParseCount(f[12]);
    r.pitches = ParseCount(f[13]);
    r.residence_units = ParseCount(f[14]);
    r.village_units = ParseCount(f[15]);
    records.push_back(std::move(r));
  }
  return records;
}

std::vector<AtoutFranceRecord> DeduplicateAtoutFrance(std::vector<AtoutFranceRecord> records) {
  std::map<std::string, size_t> first_of;  // key -> index in `out`
  std::vector<AtoutFranceRecord> out;
  for (AtoutFranceRecord& r : records) {
    std::string key = absl::StrCat(NormalizePlaceName(r.name), "|", r.postcode, "|",
                                   NormalizePlaceName(r.commune));
    auto [it, inserted] = first_of.emplace(key, out.size());
    if (inserted) {
      out.push_back(std::move(r));
    } else if (DateKey(r.classification_date) >= DateKey(out[it->second].classification_date)) {
      out[it->second] = std::move(r);
    }
  }
  return out;
}

CatalogEntry AtoutFranceToCatalog(const AtoutFranceRecord& r, const CommuneIndex& communes) {
  CatalogEntry e;
  v1::Provider& p = e.provider;
  p.set_id(absl::StrCat("af-", r.postcode, "-", Slugify(r.name)));
  p.set_name(Readable(r.name));
  p.set_kind(v1::BUSINESS_KIND_ACCOMMODATION);
  p.mutable_address()->set_street(r.address);
  p.mutable_address()->set_postcode(r.postcode);
  p.mutable_address()->set_commune(Readable(r.commune));
  p.mutable_address()->set_country_code("FR");
  if (const Commune* c = communes.Find(r.postcode, r.commune)) {
    p.mutable_address()->set_insee_code(c->insee);
    p.mutable_location()->set_latitude(c->latitude);
    p.mutable_location()->set_longitude(c->longitude);
    e.placed = true;
  }
  if (!r.website.empty()) {
    p.mutable_contacts()->set_website(
        absl::StartsWith(r.website, "http") ? r.website : absl::StrCat("http://", r.website));
  }
  v1::Classification stars;
  if (r.stars > 0) {
    stars.set_scheme(v1::CLASSIFICATION_SCHEME_STARS);
    stars.set_level(r.stars);
    stars.set_name("Atout France");
    int key = DateKey(r.classification_date);
    if (key > 0) {
      stars.mutable_award_date()->set_year(key / 10000);
      stars.mutable_award_date()->set_month(key / 100 % 100);
      stars.mutable_award_date()->set_day(key % 100);
    }
    *p.add_classifications() = stars;
  }
  p.add_languages("fr");

  v1::Offer& o = e.offer;
  o.set_id(absl::StrCat(p.id(), "/stay"));
  o.set_provider_id(p.id());
  o.set_kind(v1::OFFER_KIND_LODGING);
  o.set_sub_kind(SubKindOf(r.typology));
  o.set_title(p.name());
  if (r.capacity > 0) o.mutable_capacity()->set_max_persons(r.capacity);
  o.set_units(r.rooms + r.pitches + r.residence_units + r.village_units);
  if (r.stars > 0) *o.mutable_classification() = stars;
  std::string description = Readable(r.typology);
  if (!r.category.empty()) absl::StrAppend(&description, ", catégorie ", r.category);
  if (r.rooms > 0) absl::StrAppend(&description, ", ", r.rooms, " chambres");
  if (r.pitches > 0) absl::StrAppend(&description, ", ", r.pitches, " emplacements");
  if (r.residence_units + r.village_units > 0) {
    absl::StrAppend(&description, ", ", r.residence_units + r.village_units, " logements");
  }
  (*o.mutable_descriptions())["fr"] = description;
  o.add_languages("fr");
  return e;
}

}  // namespace atable
