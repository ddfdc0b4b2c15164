#include "server/core/wire.h"

#include <cstring>
#include <map>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/stubs/logging.h"
#include "google/protobuf/unknown_field_set.h"
#include "server/core/text.h"

namespace atable {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::UnknownField;
using google::protobuf::UnknownFieldSet;

constexpr int kMaxDepth = 32;

// Returns the path of the first string field under `prefix` whose bytes are not UTF-8, or "".
std::string FindInvalidUtf8(const Descriptor* descriptor, absl::string_view bytes,
                            const std::string& prefix, int depth) {
  if (depth > kMaxDepth) return "";
  UnknownFieldSet fields;
  if (!fields.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return "";
  std::map<int, int> seen;  // field number -> occurrences so far, for repeated indexes
  for (int i = 0; i < fields.field_count(); ++i) {
    const UnknownField& f = fields.field(i);
    const FieldDescriptor* fd = descriptor->FindFieldByNumber(f.number());
    if (fd == nullptr || f.type() != UnknownField::TYPE_LENGTH_DELIMITED) continue;
    int index = seen[f.number()]++;
    const std::string& value = f.length_delimited();
    std::string path = prefix.empty() ? fd->name() : absl::StrCat(prefix, ".", fd->name());
    if (fd->is_map()) {
      // A map entry: key = 1, value = 2. Name it by its key when the key is readable.
      UnknownFieldSet entry;
      std::string key;
      if (entry.ParseFromString(value)) {
        for (int k = 0; k < entry.field_count(); ++k) {
          if (entry.field(k).number() == 1 && entry.field(k).type() == UnknownField::TYPE_LENGTH_DELIMITED) {
            key = entry.field(k).length_delimited();
          }
        }
      }
      if (!IsValidUtf8(key)) return absl::StrCat(path, " (a key)");
      std::string found = FindInvalidUtf8(fd->message_type(), value, "", depth + 1);
      if (!found.empty()) return absl::StrCat(path, "[", key, "]");
    } else if (fd->type() == FieldDescriptor::TYPE_STRING) {
      if (!IsValidUtf8(value)) return fd->is_repeated() ? absl::StrCat(path, "[", index, "]") : path;
    } else if (fd->type() == FieldDescriptor::TYPE_MESSAGE) {
      std::string item = fd->is_repeated() ? absl::StrCat(path, "[", index, "]") : path;
      std::string found = FindInvalidUtf8(fd->message_type(), value, item, depth + 1);
      if (!found.empty()) return found;
    }
  }
  return "";
}

}  // namespace

absl::Status ParseWireMessage(absl::string_view bytes, google::protobuf::Message* message) {
  {
    // A bad request is answered, not logged: a client must not be able to flood the log.
    google::protobuf::LogSilencer silence;
    if (message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return absl::OkStatus();
  }
  std::string field = FindInvalidUtf8(message->GetDescriptor(), bytes, "", 0);
  if (!field.empty()) return absl::InvalidArgumentError(absl::StrCat(field, ": is not valid UTF-8"));
  return absl::InvalidArgumentError(
      absl::StrCat("request: is not a valid ", message->GetDescriptor()->full_name(), " message"));
}

void PutVarint(uint64_t value, std::string* out) {
  while (value >= 0x80) {
    out->push_back(static_cast<char>(value | 0x80));
    value >>= 7;
  }
  out->push_back(static_cast<char>(value));
}

void PutTag(int field, int wire_type, std::string* out) {
  PutVarint(static_cast<uint64_t>(field) << 3 | static_cast<uint64_t>(wire_type), out);
}

void PutBytes(int field, absl::string_view bytes, std::string* out) {
  PutTag(field, 2, out);
  PutVarint(bytes.size(), out);
  out->append(bytes.data(), bytes.size());
}

void PutDouble(int field, double value, std::string* out) {
  if (value == 0) return;
  PutTag(field, 1, out);
  char raw[8];
  std::memcpy(raw, &value, 8);  // little-endian, as the wire format
  out->append(raw, 8);
}

namespace {

// Reads a varint at `*p` (before `end`); false if it runs past the end or beyond 10 bytes.
bool ReadVarint(const char** p, const char* end, uint64_t* value) {
  *value = 0;
  for (int shift = 0; shift < 70 && *p < end; shift += 7) {
    uint8_t byte = static_cast<uint8_t>(*(*p)++);
    *value |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if (byte < 0x80) return true;
  }
  return false;
}

}  // namespace

bool AppendFields(absl::string_view bytes, FieldSet keep, std::string* out) {
  const char* p = bytes.data();
  const char* end = p + bytes.size();
  while (p < end) {
    const char* start = p;
    uint64_t tag, length;
    if (!ReadVarint(&p, end, &tag)) return false;
    switch (tag & 7) {
      case 0:  // varint
        if (!ReadVarint(&p, end, &length)) return false;
        break;
      case 1:  // 64-bit
        if (end - p < 8) return false;
        p += 8;
        break;
      case 2:  // length-delimited
        if (!ReadVarint(&p, end, &length) || length > static_cast<uint64_t>(end - p)) return false;
        p += length;
        break;
      case 5:  // 32-bit
        if (end - p < 4) return false;
        p += 4;
        break;
      default:  // groups are not used by proto3
        return false;
    }
    uint64_t field = tag >> 3;
    if (field == 0) return false;
    if (field < 64 && (keep >> field & 1)) out->append(start, static_cast<size_t>(p - start));
  }
  return true;
}

}  // namespace atable
