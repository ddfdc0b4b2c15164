#include "server/core/demo_catalog.h"

#include <map>
#include <set>

#include "gtest/gtest.h"
#include "server/core/validation.h"
#include "tests/test_util.h"

namespace atable {
namespace {

TEST(DemoCatalogTest, IsValidCompleteAndReproducible) {
  absl::StatusOr<DemoCatalog> demo = LoadDemoCatalog(testing::ProjectPath("server/demo"));
  ASSERT_OK(demo);
  EXPECT_EQ(133, demo->atout_france_records);
  EXPECT_EQ(132u + 300u, demo->providers.size());

  std::set<std::string> provider_ids;
  for (const v1::Provider& p : demo->providers) {
    ASSERT_OK(ValidateProvider(p));
    EXPECT_TRUE(provider_ids.insert(p.id()).second) << "duplicate provider " << p.id();
  }
  std::set<std::string> offer_ids;
  std::map<v1::OfferKind, int> kinds;
  int with_price_quality = 0;
  for (const v1::Offer& o : demo->offers) {
    ASSERT_OK(ValidateOffer(o));
    EXPECT_TRUE(offer_ids.insert(o.id()).second) << "duplicate offer " << o.id();
    EXPECT_EQ(1u, provider_ids.count(o.provider_id())) << o.id();
    EXPECT_GT(o.prices_size(), 0) << o.id();
    ++kinds[o.kind()];
    with_price_quality += o.price_quality_tags_size() > 0;
  }
  EXPECT_GT(kinds[v1::OFFER_KIND_LODGING], 200);
  EXPECT_GT(kinds[v1::OFFER_KIND_ACTIVITY], 200);
  EXPECT_GT(kinds[v1::OFFER_KIND_PACKAGE], 5);
  EXPECT_GT(with_price_quality, static_cast<int>(demo->offers.size()) / 4);

  absl::StatusOr<DemoCatalog> again = LoadDemoCatalog(testing::ProjectPath("server/demo"));
  ASSERT_OK(again);
  ASSERT_EQ(demo->offers.size(), again->offers.size());
  for (size_t i = 0; i < demo->offers.size(); ++i) {
    ASSERT_EQ(demo->offers[i].SerializeAsString(), again->offers[i].SerializeAsString()) << i;
  }
}

TEST(DemoCatalogTest, ReportsMissingFiles) {
  EXPECT_EQ(absl::StatusCode::kNotFound, LoadDemoCatalog("/nonexistent").status().code());
}

}  // namespace
}  // namespace atable
