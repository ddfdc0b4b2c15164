// Reader of DATAtourisme's JSON-LD objects (the national open tourism database), and their mapping
// to catalog providers and offers.
#ifndef ATABLE_SERVER_CORE_DATATOURISME_H_
#define ATABLE_SERVER_CORE_DATATOURISME_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "atable/v1/catalog.pb.h"

namespace atable {

// One DATAtourisme object, mapped: either a provider with its offer, or a reason to skip it.
struct DatatourismeObject {
  std::string source_id;    // the object's "@id" (its address on data.datatourisme.fr)
  std::string skip_reason;  // non-empty when the object is not an offer ("an event, not an offer")
  v1::Provider provider;    // id "dt-<dc:identifier, lower case>"
  v1::Offer offer;          // id "<provider id>/offer"
  bool placed = false;      // whether the object gave coordinates
};

// Maps the objects of one file: a JSON object, or an array of them. Classes (`@type`) give the kind
// and sub-kind; `isLocatedAt` the address and coordinates; `offers[].schema:priceSpecification`
// the prices with their unit, season, and validity periods read from the French text
// ("Du 01/04/2023 au 30/06/2023"); `hasReview` classifications (stars, épis, clés) and labels;
// `allowedPersons` the capacity; themes and amenities the tags; opening hours the open periods.
// French text comes first, then English. Events and other objects that are not offers come back
// with a skip_reason. INVALID_ARGUMENT when the text is not JSON (truncated, bad UTF-8), naming
// the byte where it breaks, or when an object is malformed (no label, coordinates out of range).
absl::StatusOr<std::vector<DatatourismeObject>> ParseDatatourisme(absl::string_view json_text);

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_DATATOURISME_H_
