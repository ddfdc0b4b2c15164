#include "server/core/wire.h"

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

}  // namespace atable
