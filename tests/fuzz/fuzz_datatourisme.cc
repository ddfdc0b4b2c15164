// The DATAtourisme JSON-LD importer, on any text.
#include <cstddef>
#include <cstdint>

#include "server/core/datatourisme.h"
#include "server/core/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::string_view text(reinterpret_cast<const char*>(data), size);
  auto objects = atable::ParseDatatourisme(text);
  if (objects.ok()) {
    for (const auto& o : *objects) {
      if (o.skip_reason.empty()) {
        (void)atable::ValidateProvider(o.provider);
        (void)atable::ValidateOffer(o.offer);
      }
    }
  }
  return 0;
}
