#include "client/format.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/time_util.h"

namespace atable::cli {
namespace {

// The lower-case words of an enum value name after its prefix: OFFER_SUB_KIND_SELF_CATERING ->
// "self catering".
std::string EnumWords(const std::string& name, absl::string_view prefix) {
  std::string out = name.substr(std::min(name.size(), prefix.size()));
  for (char& c : out) c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Euros(int64_t cents) { return absl::StrFormat("%d.%02d", cents / 100, cents % 100); }

std::string FormatDate(const v1::Date& d) {
  return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day());
}

std::string FormatClassification(const v1::Classification& c) {
  static const char* kUnits[] = {"", "stars", "épis", "clés", ""};
  std::string out = absl::StrCat(c.level(), " ", kUnits[std::clamp(static_cast<int>(c.scheme()), 0, 4)]);
  if (!c.name().empty()) absl::StrAppend(&out, " (", c.name(), ")");
  return out;
}

void Line(std::string* out, absl::string_view label, absl::string_view value) {
  if (value.empty()) return;
  absl::StrAppendFormat(out, "%-15s %s\n", label, value);
}

std::string FormatAddress(const v1::PostalAddress& a) {
  std::vector<std::string> parts;
  if (!a.street().empty()) parts.push_back(a.street());
  std::string town = absl::StrCat(a.postcode(), a.postcode().empty() ? "" : " ", a.commune());
  if (!town.empty()) parts.push_back(town);
  if (!a.insee_code().empty()) parts.push_back(absl::StrCat("INSEE ", a.insee_code()));
  return absl::StrJoin(parts, ", ");
}

std::string FormatTime(const google::protobuf::Timestamp& t) {
  return google::protobuf::util::TimeUtil::ToString(t);
}

}  // namespace

std::string FormatPrice(const v1::Price& p) {
  std::string amount = p.min_amount_cents() == p.max_amount_cents()
                           ? Euros(p.min_amount_cents())
                           : absl::StrCat(Euros(p.min_amount_cents()), "-", Euros(p.max_amount_cents()));
  std::string out = absl::StrCat(amount, " EUR ", EnumWords(v1::PriceUnit_Name(p.unit()), "PRICE_UNIT_"));
  if (!p.season().empty()) absl::StrAppend(&out, " (", p.season(), ")");
  if (!p.description().empty()) absl::StrAppend(&out, ", ", p.description());
  if (p.has_validity()) {
    absl::StrAppend(&out, ", ", FormatDate(p.validity().start()), " to ", FormatDate(p.validity().end()));
  }
  return out;
}

std::string FormatOffer(const v1::Offer& o) {
  std::string out;
  Line(&out, "Offer", o.id());
  Line(&out, "Title", o.title());
  std::string kind = EnumWords(v1::OfferKind_Name(o.kind()), "OFFER_KIND_");
  if (o.sub_kind() != v1::OFFER_SUB_KIND_UNSPECIFIED) {
    absl::StrAppend(&kind, " / ", EnumWords(v1::OfferSubKind_Name(o.sub_kind()), "OFFER_SUB_KIND_"));
  }
  Line(&out, "Kind", kind);
  Line(&out, "Provider", o.provider_id());
  std::string capacity;
  if (o.capacity().max_persons() > 0) {
    capacity = o.capacity().min_persons() > 1
                   ? absl::StrCat(o.capacity().min_persons(), " to ", o.capacity().max_persons(), " persons")
                   : absl::StrCat("up to ", o.capacity().max_persons(), " persons");
  }
  if (o.units() > 0) absl::StrAppend(&capacity, capacity.empty() ? "" : ", ", o.units(), " units");
  Line(&out, "Capacity", capacity);
  for (int i = 0; i < o.prices_size(); ++i) Line(&out, i == 0 ? "Prices" : "", FormatPrice(o.prices(i)));
  std::vector<std::string> pq;
  for (int t : o.price_quality_tags()) {
    pq.push_back(EnumWords(v1::PriceQualityTag_Name(static_cast<v1::PriceQualityTag>(t)), "PRICE_QUALITY_TAG_"));
  }
  Line(&out, "Price-quality", absl::StrJoin(pq, ", "));
  if (o.has_classification()) Line(&out, "Classification", FormatClassification(o.classification()));
  Line(&out, "Labels", absl::StrJoin(o.labels(), ", "));
  Line(&out, "Tags", absl::StrJoin(o.tags(), ", "));
  std::vector<std::string> periods;
  for (const v1::DateRange& r : o.opening_periods()) {
    periods.push_back(absl::StrCat(FormatDate(r.start()), " to ", FormatDate(r.end())));
  }
  Line(&out, "Open", absl::StrJoin(periods, "; "));
  if (o.has_location()) {
    Line(&out, "Location", absl::StrFormat("%.6f, %.6f", o.location().latitude(), o.location().longitude()));
  }
  Line(&out, "Languages", absl::StrJoin(o.languages(), ", "));
  auto fr = o.descriptions().find("fr");
  if (fr != o.descriptions().end()) Line(&out, "Description", fr->second);
  if (o.has_update_time()) Line(&out, "Updated", FormatTime(o.update_time()));
  Line(&out, "Etag", o.etag());
  return out;
}

std::string FormatProvider(const v1::Provider& p) {
  std::string out;
  Line(&out, "Provider", p.id());
  Line(&out, "Name", p.name());
  Line(&out, "Kind", EnumWords(v1::BusinessKind_Name(p.kind()), "BUSINESS_KIND_"));
  Line(&out, "Address", FormatAddress(p.address()));
  if (p.has_location()) {
    Line(&out, "Location", absl::StrFormat("%.6f, %.6f", p.location().latitude(), p.location().longitude()));
  }
  Line(&out, "Website", p.contacts().website());
  Line(&out, "Email", p.contacts().email());
  Line(&out, "Phone", p.contacts().phone());
  std::vector<std::string> grades;
  for (const auto& c : p.classifications()) grades.push_back(FormatClassification(c));
  Line(&out, "Classification", absl::StrJoin(grades, ", "));
  Line(&out, "Labels", absl::StrJoin(p.labels(), ", "));
  Line(&out, "Languages", absl::StrJoin(p.languages(), ", "));
  if (p.has_update_time()) Line(&out, "Updated", FormatTime(p.update_time()));
  Line(&out, "Etag", p.etag());
  return out;
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  return json;
}

std::string DescribeError(const grpc::Status& status, const std::string& server) {
  const std::string& detail = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return absl::StrCat("cannot reach the atable server at ", server,
                          " (is atable-server running? see --server): ", detail);
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::StrCat("the server at ", server, " did not answer in time (see --timeout)");
    case grpc::StatusCode::NOT_FOUND:
      return absl::StrCat("not found: ", detail);
    case grpc::StatusCode::INVALID_ARGUMENT:
      return absl::StrCat("invalid input: ", detail);
    case grpc::StatusCode::FAILED_PRECONDITION:
      return absl::StrCat("refused: ", detail);
    case grpc::StatusCode::ABORTED:
      return absl::StrCat("changed meanwhile by someone else (get it again and retry): ", detail);
    case grpc::StatusCode::ALREADY_EXISTS:
      return absl::StrCat("already exists: ", detail);
    case grpc::StatusCode::UNAUTHENTICATED:
      return absl::StrCat("not signed in (give --token or ATABLE_TOKEN): ", detail);
    case grpc::StatusCode::PERMISSION_DENIED:
      return absl::StrCat("not allowed: ", detail);
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::StrCat("too large or too many requests: ", detail);
    default:
      return absl::StrCat("server error: ", detail);
  }
}

int ExitCodeFor(const grpc::Status& status) {
  if (status.ok()) return kExitOk;
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return kExitUnavailable;
  }
  return kExitFailed;
}

}  // namespace atable::cli
