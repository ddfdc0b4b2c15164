// The project's own CSV format for offers: one row per offer, with its provider's columns, so a
// spreadsheet export is enough to load a catalog (documented in docs/import-formats.md).
#ifndef ATABLE_SERVER_CORE_OFFERS_CSV_H_
#define ATABLE_SERVER_CORE_OFFERS_CSV_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "atable/v1/catalog.pb.h"

namespace atable {

// The columns, in their documented order; a file may hold any subset in any order, with a header.
const std::vector<std::string>& OffersCsvColumns();

// Parses a whole file: a header naming columns, then one offer per record (comma-separated, RFC 4180
// quoting, quoted fields may span lines). Each provider comes once, before its first offer, from the
// first row that names it. INVALID_ARGUMENT naming the line and column for an unknown or missing
// column, a wrong number of fields, a value that does not read, or invalid UTF-8: a file with one
// bad record yields nothing.
absl::StatusOr<std::vector<v1::ImportRecord>> ParseOffersCsv(absl::string_view text);

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_OFFERS_CSV_H_
