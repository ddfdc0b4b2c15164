// The protobuf wire format: parsing messages received from the network with errors that name the
// field, and writing or filtering serialized messages without parsing them.
#ifndef ATABLE_SERVER_CORE_WIRE_H_
#define ATABLE_SERVER_CORE_WIRE_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace atable {

// Parses the serialized `bytes` into `message` (cleared first). On failure returns INVALID_ARGUMENT
// naming the offending field by its path from `message`, as the validators do ("offer.title: is
// not valid UTF-8", "offer.prices[1].season: is not valid UTF-8"), or saying that the bytes are
// not a message of that type at all.
absl::Status ParseWireMessage(absl::string_view bytes, google::protobuf::Message* message);

// Appends one field to a serialized message: a varint, length-delimited bytes (a string or an
// embedded message) or a double (nothing when 0, as proto3 writes it).
void PutVarint(uint64_t value, std::string* out);
void PutTag(int field, int wire_type, std::string* out);
void PutBytes(int field, absl::string_view bytes, std::string* out);
void PutDouble(int field, double value, std::string* out);

// A set of field numbers 1-63 (bit n: field n), for picking fields of a serialized message.
using FieldSet = uint64_t;
inline constexpr FieldSet kAllFields = ~FieldSet{0};

// Appends to `out` the top-level fields of the serialized message `bytes` whose numbers are in
// `keep`, in their order and unchanged. Returns false if `bytes` is not well-formed (then `out`
// may hold part of it).
bool AppendFields(absl::string_view bytes, FieldSet keep, std::string* out);

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_WIRE_H_
