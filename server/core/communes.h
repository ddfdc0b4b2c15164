// A gazetteer of French communes (La Poste's postcode base) for placing records that come with
// a postcode and a commune name but no coordinates.
#ifndef ATABLE_SERVER_CORE_COMMUNES_H_
#define ATABLE_SERVER_CORE_COMMUNES_H_

#include <string>
#include "absl/strings/string_view.h"
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"

namespace atable {

// One (commune, postcode) pair with the commune's centroid.
struct Commune {
  std::string insee;     // INSEE code, "15014"
  std::string name;      // La Poste form, "AURILLAC", "ST FLOUR"
  std::string postcode;  // "15000"
  double latitude = 0;
  double longitude = 0;
};

// An immutable index of communes by postcode and normalised name. Thread-safe once built.
class CommuneIndex {
 public:
  // Parses the CSV "insee,name,postcode,lat,lon" with that header line. INVALID_ARGUMENT names the
  // line of the first malformed row.
  static absl::StatusOr<CommuneIndex> FromCsv(absl::string_view csv);

  // Returns the commune of `postcode` whose name matches `name` (any spelling: accents, hyphens,
  // "Saint"/"St", a name that is the start of the official one such as "Neuvéglise" for
  // "Neuvéglise-sur-Truyère"), or the only commune of `postcode` when `name` is empty.
  // Returns nullptr when none matches or the match is ambiguous. The pointer lives as the index.
  const Commune* Find(absl::string_view postcode, absl::string_view name) const;

  // Returns every commune, in file order.
  const std::vector<Commune>& communes() const { return communes_; }

 private:
  std::vector<Commune> communes_;
  std::unordered_map<std::string, std::vector<size_t>> by_postcode_;
};

// Returns a La Poste commune name in readable form: "ST FLOUR" -> "Saint-Flour",
// "NEUVEGLISE SUR TRUYERE" -> "Neuveglise-sur-Truyere".
std::string DisplayCommuneName(absl::string_view la_poste_name);

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_COMMUNES_H_
