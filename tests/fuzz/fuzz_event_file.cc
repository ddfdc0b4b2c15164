// The event file parser (docs/event-format.md): any text. Must never crash or hang; what it
// accepts must be a problem the solver's checks accept.
#include <cstddef>
#include <cstdint>
#include <string>

#include "server/core/schedule/event_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  (void)atable::schedule::ParseEvent(text);
  return 0;
}
