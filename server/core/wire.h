// Parsing of protobuf messages received from the network, with errors that name the field.
#ifndef ATABLE_SERVER_CORE_WIRE_H_
#define ATABLE_SERVER_CORE_WIRE_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace atable {

// Parses the serialized `bytes` into `message` (cleared first). On failure returns INVALID_ARGUMENT
// naming the offending field by its path from `message`, as the validators do ("offer.title: is
// not valid UTF-8", "offer.prices[1].season: is not valid UTF-8"), or saying that the bytes are
// not a message of that type at all.
absl::Status ParseWireMessage(absl::string_view bytes, google::protobuf::Message* message);

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_WIRE_H_
