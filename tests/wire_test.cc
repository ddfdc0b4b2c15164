// The wire-format helpers: picking fields of a serialized message, and refusing broken bytes.
#include "server/core/wire.h"

#include "atable/v1/catalog.pb.h"
#include "gtest/gtest.h"

namespace atable {
namespace {

v1::Offer FullOffer() {
  v1::Offer o;
  o.set_id("buron/1");
  o.set_provider_id("buron");
  o.set_kind(v1::OFFER_KIND_ACTIVITY);
  o.set_title("Dégustation de Salers");
  (*o.mutable_descriptions())["fr"] = "Visite du buron et dégustation.";
  o.mutable_capacity()->set_max_persons(12);
  for (int cents : {1200, 1500}) o.add_prices()->set_min_amount_cents(cents);
  o.add_tags("tasting");
  o.add_tags("farm");
  o.mutable_location()->set_latitude(45.14);
  o.set_units(3);
  return o;
}

TEST(WireTest, AppendFieldsKeepsExactlyTheNamedFields) {
  const v1::Offer full = FullOffer();
  FieldSet keep = FieldSet{1} << v1::Offer::kIdFieldNumber | FieldSet{1} << v1::Offer::kPricesFieldNumber |
                  FieldSet{1} << v1::Offer::kUnitsFieldNumber | FieldSet{1} << v1::Offer::kLocationFieldNumber;
  std::string out;
  ASSERT_TRUE(AppendFields(full.SerializeAsString(), keep, &out));
  v1::Offer picked;
  ASSERT_TRUE(picked.ParseFromString(out));
  v1::Offer expected;
  expected.set_id(full.id());
  *expected.mutable_prices() = full.prices();  // both prices, in order
  expected.set_units(full.units());
  *expected.mutable_location() = full.location();
  EXPECT_EQ(expected.SerializeAsString(), picked.SerializeAsString());

  out.clear();
  ASSERT_TRUE(AppendFields(full.SerializeAsString(), kAllFields, &out));
  EXPECT_EQ(full.SerializeAsString(), out);
  out.clear();
  ASSERT_TRUE(AppendFields(full.SerializeAsString(), 0, &out));
  EXPECT_EQ("", out);
}

TEST(WireTest, AppendFieldsRefusesBrokenBytes) {
  std::string bytes = FullOffer().SerializeAsString();
  std::string out;
  EXPECT_FALSE(AppendFields(bytes.substr(0, bytes.size() - 1), kAllFields, &out));  // cut short
  out.clear();
  EXPECT_FALSE(AppendFields(std::string("\x0a\x7f", 2), kAllFields, &out));  // length past the end
  out.clear();
  EXPECT_FALSE(AppendFields(std::string("\x0b", 1), kAllFields, &out));  // a group
  out.clear();
  EXPECT_FALSE(AppendFields(std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12), kAllFields, &out));
  out.clear();
  EXPECT_FALSE(AppendFields(std::string("\x00\x01", 2), kAllFields, &out));  // field 0
}

TEST(WireTest, PutHelpersWriteWhatProtobufReads) {
  std::string bytes;
  PutBytes(v1::Offer::kTitleFieldNumber, std::string(300, 'a'), &bytes);  // a two-byte length
  PutTag(v1::Offer::kUnitsFieldNumber, 0, &bytes);
  PutVarint(1u << 20, &bytes);
  v1::Offer o;
  ASSERT_TRUE(o.ParseFromString(bytes));
  EXPECT_EQ(std::string(300, 'a'), o.title());
  EXPECT_EQ(1 << 20, o.units());
  std::string point;
  PutDouble(v1::GeoPoint::kLatitudeFieldNumber, 45.5, &point);
  PutDouble(v1::GeoPoint::kLongitudeFieldNumber, 0, &point);  // proto3 omits zero
  v1::GeoPoint p;
  ASSERT_TRUE(p.ParseFromString(point));
  EXPECT_EQ(45.5, p.latitude());
  EXPECT_EQ(9u, point.size());  // one tag byte and eight
}

}  // namespace
}  // namespace atable
