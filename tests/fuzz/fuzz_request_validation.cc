// Request validation: any bytes as the server's write and search requests, parsed as the server
// parses them (naming the field of invalid UTF-8), then validated. Must never crash or hang.
#include <cstddef>
#include <cstdint>

#include "atable/v1/catalog.pb.h"
#include "atable/v1/matchmaking.pb.h"
#include "server/core/validation.h"
#include "server/core/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  atable::v1::UpsertOfferRequest offer;
  if (atable::ParseWireMessage(bytes, &offer).ok()) (void)atable::ValidateOffer(offer.offer());
  atable::v1::UpsertProviderRequest provider;
  if (atable::ParseWireMessage(bytes, &provider).ok()) (void)atable::ValidateProvider(provider.provider());
  atable::v1::UpsertBuyerRequest buyer;
  if (atable::ParseWireMessage(bytes, &buyer).ok()) (void)atable::ValidateBuyer(buyer.buyer());
  atable::v1::SearchOffersRequest search;
  (void)atable::ParseWireMessage(bytes, &search);
  return 0;
}
