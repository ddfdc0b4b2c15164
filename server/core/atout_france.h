// Reader of Atout France's export of classified tourist accommodation ("hébergements touristiques
// classés"), and its mapping to catalog providers and offers.
#ifndef ATABLE_SERVER_CORE_ATOUT_FRANCE_H_
#define ATABLE_SERVER_CORE_ATOUT_FRANCE_H_

#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "atable/v1/catalog.pb.h"
#include "server/core/communes.h"

namespace atable {

// One row of the export, fields as written ("-" already turned into empty strings).
struct AtoutFranceRecord {
  int line = 0;                    // line number in the file, header = 1
  std::string classification_date;  // "23/01/2019"
  std::string typology;            // "HÔTEL DE TOURISME", "CAMPING", ...
  int stars = 0;                   // 1-5, 0 if not given
  std::string category;            // campsites: "TOURISME" or "LOISIRS"
  std::string mention;             // holiday villages
  std::string name;
  std::string address;
  std::string postcode;
  std::string commune;
  std::string website;
  std::string stay_type;           // holiday villages: "FORMULE_LOCATION", ...
  int capacity = 0;                // persons, 0 if not given
  int rooms = 0;
  int pitches = 0;
  int residence_units = 0;
  int village_units = 0;
};

// Parses the whole semicolon-separated export. INVALID_ARGUMENT when the header is not the
// export's or a row has the wrong number of columns (naming the line).
absl::StatusOr<std::vector<AtoutFranceRecord>> ParseAtoutFranceCsv(absl::string_view text);

// Merges records of the same establishment (same normalised name and commune), which the export
// lists again after a reclassification: the most recent classification wins. Keeps file order.
std::vector<AtoutFranceRecord> DeduplicateAtoutFrance(std::vector<AtoutFranceRecord> records);

// A provider and its one lodging offer made from a record.
struct CatalogEntry {
  v1::Provider provider;
  v1::Offer offer;
  bool placed = false;  // whether a commune gave it coordinates
};

// Maps a record to a provider (id "af-<postcode>-<name slug>") and its lodging offer
// (id "<provider id>/stay"), placed at the centroid of the commune found in `communes`.
CatalogEntry AtoutFranceToCatalog(const AtoutFranceRecord& record, const CommuneIndex& communes);

// Returns `text` as a lower-case ASCII slug: "Hôtel du Lac" -> "hotel-du-lac".
std::string Slugify(absl::string_view text);

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_ATOUT_FRANCE_H_
