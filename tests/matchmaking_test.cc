// Matchmaking cases whose right answer a tourism professional gives without hesitation.
#include "server/core/matchmaking.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace atable {
namespace {

class MatchmakingTest : public ::testing::Test {
 protected:
  // Adds a provider with one offer; returns the offer for more settings.
  v1::Offer& Add(const std::string& id, v1::OfferKind kind, v1::OfferSubKind sub_kind, const std::string& title,
                 int max_persons, int64_t price_cents, v1::PriceUnit unit, std::vector<std::string> tags,
                 double lat = 44.93, double lon = 2.44, const std::string& insee = "15014") {
    v1::Provider& p = providers_.emplace_back();
    p.set_id(id);
    p.set_name(title);
    p.mutable_location()->set_latitude(lat);
    p.mutable_location()->set_longitude(lon);
    p.mutable_address()->set_insee_code(insee);
    p.mutable_address()->set_commune("Aurillac");
    p.add_languages("fr");
    v1::Offer& o = offers_.emplace_back();
    o.set_id(id + "/1");
    o.set_provider_id(id);
    o.set_kind(kind);
    o.set_sub_kind(sub_kind);
    o.set_title(title);
    if (max_persons > 0) o.mutable_capacity()->set_max_persons(max_persons);
    if (price_cents > 0) {
      v1::Price* pr = o.add_prices();
      pr->set_min_amount_cents(price_cents);
      pr->set_max_amount_cents(price_cents);
      pr->set_unit(unit);
    }
    for (auto& t : tags) o.add_tags(t);
    return o;
  }

  // Provider ids in the order SuggestPairs ranks them for `buyer`.
  std::vector<std::string> Ranking(const v1::Buyer& buyer, SuggestOptions options = {}) {
    options.top_per_buyer = 100;
    ScoringCatalog catalog(providers_, offers_);
    std::vector<std::string> ids;
    for (const auto& p : SuggestPairs({buyer}, catalog, options)) ids.push_back(p.provider_id());
    return ids;
  }
  static int Rank(const std::vector<std::string>& ranking, const std::string& id) {
    auto it = std::find(ranking.begin(), ranking.end(), id);
    return it == ranking.end() ? 1000 : static_cast<int>(it - ranking.begin());
  }

  static v1::Buyer GiftBox() {
    v1::Buyer b;
    b.set_id("giftbox");
    b.set_name("Coffrets Évasion");
    b.set_kind(v1::BUYER_KIND_GIFT_BOX);
    v1::Need* n = b.add_needs();
    n->set_id("duo");
    n->set_description("experiences for two under 150 EUR");
    n->add_kinds(v1::OFFER_KIND_ACTIVITY);
    n->set_group_size(2);
    n->mutable_price()->set_unit(v1::PRICE_UNIT_PER_PERSON);
    n->mutable_price()->set_max_amount_cents(15000);
    for (const char* t : {"wellness", "gastronomy", "adventure"}) n->add_preferred_tags()->set_tag(t);
    return b;
  }

  std::vector<v1::Provider> providers_;
  std::vector<v1::Offer> offers_;
};

TEST_F(MatchmakingTest, GiftBoxPrefersTheSpaToTheCampsite) {
  Add("spa", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_WELLNESS, "Journée spa thermal en duo", 2, 6000,
      v1::PRICE_UNIT_PER_PERSON, {"wellness", "couple"});
  Add("camping", v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_CAMPSITE, "Camping du Lac", 300, 2000,
      v1::PRICE_UNIT_PER_NIGHT, {"camping", "family"});
  Add("dear-spa", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_WELLNESS, "Spa de luxe", 2, 40000,
      v1::PRICE_UNIT_PER_PERSON, {"wellness"});
  Add("museum", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_CULTURE_HERITAGE, "Musée", 50, 800,
      v1::PRICE_UNIT_PER_PERSON, {"culture"});
  std::vector<std::string> ranking = Ranking(GiftBox());
  EXPECT_EQ("spa", ranking.at(0));
  EXPECT_EQ(1000, Rank(ranking, "camping"));  // lodging is not an experience: excluded
  EXPECT_LT(Rank(ranking, "spa"), Rank(ranking, "dear-spa"));   // over budget
  EXPECT_LT(Rank(ranking, "spa"), Rank(ranking, "museum"));     // no preferred tag
}

TEST_F(MatchmakingTest, GiftBoxSummaryListsTheExperiences) {
  Add("ferme", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_WELLNESS, "Spa - Ferme", 2, 6000, v1::PRICE_UNIT_PER_PERSON, {"wellness"});
  for (auto [id, title, sub, tag] : std::vector<std::tuple<std::string, std::string, v1::OfferSubKind, std::string>>{
           {"ferme/2", "Cheese tasting - Ferme", v1::OFFER_SUB_KIND_GASTRONOMY, "gastronomy"},
           {"ferme/3", "Paragliding - Ferme", v1::OFFER_SUB_KIND_OUTDOOR_SPORT, "adventure"}}) {
    v1::Offer& o = offers_.emplace_back(offers_[0]);
    o.set_id(id);
    o.set_title(title);
    o.set_sub_kind(sub);
    o.clear_tags();
    o.add_tags(tag);
  }
  ScoringCatalog catalog(providers_, offers_);
  std::vector<v1::NeedFit> fits = ExplainPair(GiftBox(), catalog, 0);
  ASSERT_EQ(1u, fits.size());
  EXPECT_EQ("3 activities for 2 people under 150 EUR: spa, cheese tasting, paragliding", fits[0].summary());
  EXPECT_EQ(3, fits[0].offer_ids_size());
}

TEST_F(MatchmakingTest, WorksCouncilWantsRoomForForty) {
  Add("village", v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_HOLIDAY_VILLAGE, "Village vacances", 250, 5500,
      v1::PRICE_UNIT_PER_PERSON_PER_NIGHT, {"group", "family"});
  Add("camping", v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_CAMPSITE, "Camping les Sapins", 400, 1800,
      v1::PRICE_UNIT_PER_NIGHT, {"family", "outdoor"});
  Add("b&b", v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_GUESTHOUSE, "Chambres d'hôtes", 8, 9000,
      v1::PRICE_UNIT_PER_NIGHT, {"couple"});
  Add("gite", v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_SELF_CATERING, "Gîte rural", 6, 50000,
      v1::PRICE_UNIT_PER_WEEK, {"family"});
  v1::Buyer council;
  council.set_id("ce-renault");
  council.set_name("CE usine");
  council.set_kind(v1::BUYER_KIND_WORKS_COUNCIL);
  v1::Need* n = council.add_needs();
  n->set_id("summer-groups");
  n->add_kinds(v1::OFFER_KIND_LODGING);
  n->set_group_size(40);
  n->add_preferred_tags()->set_tag("family");
  n->add_preferred_tags()->set_tag("group");
  auto* w = n->mutable_window();
  w->mutable_start()->set_year(2027), w->mutable_start()->set_month(7), w->mutable_start()->set_day(1);
  w->mutable_end()->set_year(2027), w->mutable_end()->set_month(7), w->mutable_end()->set_day(31);
  std::vector<std::string> ranking = Ranking(council);
  EXPECT_EQ(2u, ranking.size()) << ::testing::PrintToString(ranking);
  EXPECT_EQ("village", ranking.at(0));
  EXPECT_EQ("camping", ranking.at(1));
}

TEST_F(MatchmakingTest, RentalPlatformWantsSelfCateringForFourToEight) {
  Add("gite", v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_SELF_CATERING, "Gîte des Burons", 6, 52000,
      v1::PRICE_UNIT_PER_WEEK, {"self-catering"}).add_price_quality_tags(v1::PRICE_QUALITY_TAG_GOOD_VALUE);
  Add("dear-gite", v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_SELF_CATERING, "Gîte de prestige", 8, 190000,
      v1::PRICE_UNIT_PER_WEEK, {"self-catering"}).add_price_quality_tags(v1::PRICE_QUALITY_TAG_PREMIUM);
  Add("hotel", v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_HOTEL, "Hôtel du Palais", 120, 9000,
      v1::PRICE_UNIT_PER_NIGHT, {"hotel"});
  Add("studio", v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_SELF_CATERING, "Studio", 2, 25000,
      v1::PRICE_UNIT_PER_WEEK, {});
  v1::Buyer platform;
  platform.set_id("rentals");
  platform.set_name("Locations entre particuliers");
  v1::Need* n = platform.add_needs();
  n->set_id("family-rentals");
  n->add_sub_kinds(v1::OFFER_SUB_KIND_SELF_CATERING);
  n->set_group_size(4);
  n->mutable_price()->set_unit(v1::PRICE_UNIT_PER_WEEK);
  n->mutable_price()->set_max_amount_cents(90000);
  n->add_price_quality(v1::PRICE_QUALITY_TAG_GOOD_VALUE);
  std::vector<std::string> ranking = Ranking(platform);
  EXPECT_EQ("gite", ranking.at(0));
  EXPECT_LT(Rank(ranking, "gite"), Rank(ranking, "dear-gite"));
  EXPECT_EQ(1000, Rank(ranking, "hotel"));
  EXPECT_EQ(1000, Rank(ranking, "studio"));  // too small for 4
}

TEST_F(MatchmakingTest, HardAreaExcludesEverythingOutside) {
  Add("aurillac", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_NATURE, "Balade", 10, 1000, v1::PRICE_UNIT_PER_PERSON, {}, 44.93, 2.44, "15014");
  Add("clermont", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_NATURE, "Balade", 10, 1000, v1::PRICE_UNIT_PER_PERSON, {}, 45.78, 3.09, "63113");
  v1::Buyer b;
  b.set_id("local");
  b.set_name("Agence locale");
  v1::Need* n = b.add_needs();
  n->set_id("cantal-only");
  n->mutable_area()->add_departements("15");
  n->mutable_area()->set_hard(true);
  EXPECT_EQ(std::vector<std::string>{"aurillac"}, Ranking(b));
  // A soft area ranks the outside offer lower instead.
  n->mutable_area()->set_hard(false);
  EXPECT_EQ((std::vector<std::string>{"aurillac", "clermont"}), Ranking(b));
}

TEST_F(MatchmakingTest, ReasonsNameTheDecidingCriteriaAndTheUnknown) {
  Add("no-price", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_WELLNESS, "Massage", 2, 0, v1::PRICE_UNIT_UNSPECIFIED, {"wellness"});
  Add("priced", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_WELLNESS, "Massage", 2, 7000, v1::PRICE_UNIT_PER_PERSON, {"wellness"});
  ScoringCatalog catalog(providers_, offers_);
  SuggestOptions options;
  std::vector<v1::PairSuggestion> pairs = SuggestPairs({GiftBox()}, catalog, options);
  ASSERT_EQ(2u, pairs.size());
  EXPECT_EQ("priced", pairs[0].provider_id());  // a known good price beats an unknown one
  auto criterion = [](const v1::PairSuggestion& p, const std::string& name) {
    for (const auto& c : p.needs(0).criteria()) if (c.criterion() == name) return c;
    return v1::CriterionResult();
  };
  EXPECT_EQ(v1::CriterionResult::OUTCOME_UNKNOWN, criterion(pairs[1], "price").outcome());
  EXPECT_EQ("no price given a person", criterion(pairs[1], "price").detail());
  EXPECT_EQ(v1::CriterionResult::OUTCOME_MATCH, criterion(pairs[0], "price").outcome());
  EXPECT_EQ("70 EUR a person, wanted up to 150", criterion(pairs[0], "price").detail());
  EXPECT_EQ("kind", pairs[0].needs(0).criteria(0).criterion());
  EXPECT_EQ("tags wellness", criterion(pairs[0], "tags").detail());
  double sum = 0;
  for (const auto& c : pairs[0].needs(0).criteria()) sum += c.contribution();
  EXPECT_NEAR(pairs[0].score(), sum, 1e-9);
  EXPECT_EQ("experiences for two under 150 EUR: wellness for 2 people under 150 EUR: massage", pairs[0].reason());
}

TEST_F(MatchmakingTest, RequestsRankFirstAndRefusalsRemove) {
  // In different communes, so that diversity plays no part.
  Add("best", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_WELLNESS, "Spa", 2, 6000, v1::PRICE_UNIT_PER_PERSON,
      {"wellness", "gastronomy", "adventure"}, 44.9, 2.4, "15001");
  Add("good", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_WELLNESS, "Spa", 2, 6000, v1::PRICE_UNIT_PER_PERSON,
      {"wellness"}, 45.0, 2.5, "15002");
  Add("weak", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_CULTURE_HERITAGE, "Musée", 50, 800, v1::PRICE_UNIT_PER_PERSON, {});
  Add("weaker", v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_CULTURE_HERITAGE, "Musée", 50, 90000, v1::PRICE_UNIT_PER_PERSON, {});
  EXPECT_EQ((std::vector<std::string>{"best", "good", "weak", "weaker"}), Ranking(GiftBox()));
  SuggestOptions options;
  options.requests = {{"giftbox", "weak"}, {"weaker", "giftbox"}, {"good", "giftbox"}, {"giftbox", "good"}};
  EXPECT_EQ((std::vector<std::string>{"good", "weaker", "weak", "best"}), Ranking(GiftBox(), options));
  options.refusals = {{"best", "giftbox"}};
  EXPECT_EQ((std::vector<std::string>{"good", "weaker", "weak"}), Ranking(GiftBox(), options));
  ScoringCatalog catalog(providers_, offers_);
  auto pairs = SuggestPairs({GiftBox()}, catalog, options);
  EXPECT_EQ(v1::REQUEST_STATUS_MUTUAL, pairs[0].request());
  EXPECT_EQ(v1::REQUEST_STATUS_PROVIDER, pairs[1].request());
  EXPECT_EQ(v1::REQUEST_STATUS_BUYER, pairs[2].request());
  EXPECT_EQ(1, pairs[0].rank());
}

TEST_F(MatchmakingTest, SuggestionsAreDiverse) {
  for (int i = 0; i < 10; ++i) {
    Add(absl::StrCat("camp-", i), v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_CAMPSITE, "Camping", 200, 2000,
        v1::PRICE_UNIT_PER_NIGHT, {"family", "nature"}, 45.0, 2.8, "15138");
  }
  Add("village", v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_HOLIDAY_VILLAGE, "Village", 200, 2000,
      v1::PRICE_UNIT_PER_NIGHT, {"family"}, 45.2, 3.0, "15187");
  Add("gite-groupe", v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_GROUP_LODGING, "Gîte de groupe", 60, 2000,
      v1::PRICE_UNIT_PER_NIGHT, {"family"}, 44.9, 2.4, "15014");
  v1::Buyer b;
  b.set_id("ce");
  b.set_name("CE");
  v1::Need* n = b.add_needs();
  n->set_id("groups");
  n->add_kinds(v1::OFFER_KIND_LODGING);
  n->set_group_size(40);
  n->add_preferred_tags()->set_tag("family");
  n->add_preferred_tags()->set_tag("nature");
  SuggestOptions options;
  options.top_per_buyer = 5;
  ScoringCatalog catalog(providers_, offers_);
  std::vector<std::string> top;
  for (const auto& p : SuggestPairs({b}, catalog, options)) top.push_back(p.provider_id());
  ASSERT_EQ(5u, top.size());
  EXPECT_NE(top.end(), std::find(top.begin(), top.end(), "village")) << ::testing::PrintToString(top);
  EXPECT_NE(top.end(), std::find(top.begin(), top.end(), "gite-groupe")) << ::testing::PrintToString(top);
  EXPECT_EQ("camp-0", top[0]);  // the best one still leads
}

TEST_F(MatchmakingTest, CapsPerBuyerAndPerProvider) {
  for (int i = 0; i < 6; ++i) {
    Add(absl::StrCat("spa-", i), v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_WELLNESS, "Spa", 2, 6000,
        v1::PRICE_UNIT_PER_PERSON, {"wellness"}, 44.9 + i * 0.01, 2.4, absl::StrCat("1500", i));
  }
  std::vector<v1::Buyer> buyers;
  for (int i = 0; i < 4; ++i) {
    buyers.push_back(GiftBox());
    buyers.back().set_id(absl::StrCat("box-", i));
  }
  SuggestOptions options;
  options.top_per_buyer = 3;
  options.top_per_provider = 2;
  ScoringCatalog catalog(providers_, offers_);
  std::map<std::string, int> per_buyer, per_provider;
  for (const auto& p : SuggestPairs(buyers, catalog, options)) ++per_buyer[p.buyer_id()], ++per_provider[p.provider_id()];
  for (const auto& [id, n] : per_buyer) EXPECT_LE(n, 3) << id;
  for (const auto& [id, n] : per_provider) EXPECT_LE(n, 2) << id;
  EXPECT_EQ(4u, per_buyer.size());
}

}  // namespace
}  // namespace atable
