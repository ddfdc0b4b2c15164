// The demo catalog of the Cantal: the real classified accommodation of Atout France placed with
// La Poste's commune coordinates, plus generated activity providers, rentals and guesthouses.
// Reproducible: the same inputs and seed give the same catalog, byte for byte.
#ifndef ATABLE_SERVER_CORE_DEMO_CATALOG_H_
#define ATABLE_SERVER_CORE_DEMO_CATALOG_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/statusor.h"
#include "atable/v1/catalog.pb.h"
#include "atable/v1/matchmaking.pb.h"
#include "server/core/communes.h"

namespace atable {

struct DemoCatalog {
  std::vector<v1::Provider> providers;
  std::vector<v1::Offer> offers;  // every offer's provider comes earlier in `providers`
  int atout_france_records = 0;   // rows read from the Atout France file
  std::vector<std::string> unplaced;  // Atout France providers no commune could place
};

// Builds the demo catalog from the Atout France Cantal rows `atout_france_csv`, the communes
// `communes_csv` (only those of the Cantal, postcodes 15xxx, receive generated providers) and
// `generated_providers` generated activity and lodging providers. Prices of Atout France
// lodging are generated too (the export has none). INVALID_ARGUMENT if an input is malformed.
absl::StatusOr<DemoCatalog> BuildDemoCatalog(absl::string_view atout_france_csv,
                                             absl::string_view communes_csv,
                                             int generated_providers, uint64_t seed);

// Generates `providers` providers (ids "gen-0001"...) with 1 to 3 offers each, placed in the
// communes of `communes` at random, with the demo's kinds, prices, capacities, tags and opening
// periods, plus hotels, campsites and holiday villages with stars. The same communes, count and seed give the same catalog. For tests and benchmarks.
DemoCatalog GenerateCatalog(const CommuneIndex& communes, int providers, uint64_t seed);

// Reads the two files of `dir` (cantal-atout-france.csv, cantal-communes.csv) and builds the
// demo catalog with 300 generated providers and seed 15. NOT_FOUND if a file is missing.
absl::StatusOr<DemoCatalog> LoadDemoCatalog(const std::string& dir);

// Reads the demo buyers of `dir` (buyers.json: {"buyers": [...]} in protobuf's JSON mapping).
// NOT_FOUND if the file is missing, INVALID_ARGUMENT if it is not such JSON.
absl::StatusOr<std::vector<v1::Buyer>> LoadDemoBuyers(const std::string& dir);

// Reads the demo event day of `dir` (event-cantal.json, an event file). NOT_FOUND if missing,
// INVALID_ARGUMENT if it is not an event in JSON.
absl::StatusOr<v1::Event> LoadDemoEvent(const std::string& dir);

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_DEMO_CATALOG_H_
