// The CSV importers: the project's offers CSV and Atout France's export, on any text.
#include <cstddef>
#include <cstdint>

#include "server/core/atout_france.h"
#include "server/core/offers_csv.h"
#include "server/core/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto records = atable::ParseOffersCsv(text);
  if (records.ok()) {
    for (const auto& r : *records) {
      if (r.has_offer()) (void)atable::ValidateOffer(r.offer());
      if (r.has_provider()) (void)atable::ValidateProvider(r.provider());
    }
  }
  auto rows = atable::ParseAtoutFranceCsv(text);
  if (rows.ok()) (void)atable::DeduplicateAtoutFrance(*std::move(rows));
  return 0;
}
