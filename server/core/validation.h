// Validation of catalog resources before they are stored. Each function returns OK or
// INVALID_ARGUMENT whose message starts with the offending field's path ("offer.prices[2].unit: ...").
#ifndef ATABLE_SERVER_CORE_VALIDATION_H_
#define ATABLE_SERVER_CORE_VALIDATION_H_

#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "atable/v1/catalog.pb.h"
#include "atable/v1/matchmaking.pb.h"

namespace atable {

// Limits on the size of catalog resources.
inline constexpr size_t kMaxIdBytes = 256;
inline constexpr size_t kMaxNameChars = 300;
inline constexpr size_t kMaxShortTextChars = 1000;
inline constexpr size_t kMaxDescriptionChars = 20000;
inline constexpr int kMaxDescriptionLanguages = 20;
inline constexpr int kMaxListItems = 50;
inline constexpr int kMaxPrices = 100;
inline constexpr int kMaxPersons = 100000;
inline constexpr int64_t kMaxAmountCents = 100'000'000'00;  // one hundred million euros

// Checks an external id: 1-kMaxIdBytes bytes of UTF-8, no spaces or control characters.
absl::Status ValidateId(absl::string_view field, absl::string_view id);

// Checks every field of a provider that a client may set (output-only fields are ignored).
absl::Status ValidateProvider(const v1::Provider& provider);

// Checks every field of an offer that a client may set (output-only fields are ignored).
absl::Status ValidateOffer(const v1::Offer& offer);

// Checks every field of a buyer and its needs that a client may set.
absl::Status ValidateBuyer(const v1::Buyer& buyer);

// Returns the broad kind a sub-kind belongs to (OFFER_KIND_UNSPECIFIED for an unspecified one).
v1::OfferKind KindOfSubKind(v1::OfferSubKind sub_kind);

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_VALIDATION_H_
