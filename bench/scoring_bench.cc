// scoring_bench: SuggestPairs in the core library, without gRPC or RocksDB. Scores every provider
// against every need for a département-sized case (3,000 providers, 10,000 offers, 200 buyers with
// 3 needs each) and larger ones, and prints the time and the memory each takes.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "server/core/demo_catalog.h"
#include "server/core/matchmaking.h"

ABSL_FLAG(std::string, communes, "../shared/data/communes/auvergne_communes.csv", "Communes CSV");
ABSL_FLAG(int, threads, 2, "Scoring threads");

namespace atable {
namespace {

long RssKb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// Buyers like the event's: each with 3 needs drawn from the four kinds of buyer of the story.
std::vector<v1::Buyer> MakeBuyers(int count, const CommuneIndex& communes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  const std::vector<std::string> tags = {"family", "wellness", "gastronomy", "hiking", "group", "couple",
                                         "nature", "kids", "outdoor", "half-board", "adventure", "tasting"};
  std::vector<v1::Buyer> buyers;
  for (int i = 0; i < count; ++i) {
    v1::Buyer b;
    b.set_id(absl::StrCat("buyer-", i));
    b.set_name(absl::StrCat("Buyer ", i));
    b.set_kind(static_cast<v1::BuyerKind>(1 + pick(5)));
    for (int k = 0; k < 3; ++k) {
      v1::Need* n = b.add_needs();
      n->set_id(absl::StrCat("need-", k));
      switch (pick(4)) {
        case 0:  // rentals
          n->add_sub_kinds(v1::OFFER_SUB_KIND_SELF_CATERING);
          n->set_group_size(2 + pick(7));
          n->mutable_price()->set_unit(v1::PRICE_UNIT_PER_WEEK);
          n->mutable_price()->set_max_amount_cents(40000 + pick(80000));
          n->add_price_quality(v1::PRICE_QUALITY_TAG_GOOD_VALUE);
          break;
        case 1:  // gift box
          n->add_kinds(v1::OFFER_KIND_ACTIVITY);
          n->set_group_size(2);
          n->mutable_price()->set_unit(v1::PRICE_UNIT_PER_PERSON);
          n->mutable_price()->set_max_amount_cents(5000 + pick(10000));
          break;
        case 2:  // works council
          n->add_kinds(v1::OFFER_KIND_LODGING);
          n->set_group_size(20 + pick(40));
          n->mutable_window()->mutable_start()->set_year(2027), n->mutable_window()->mutable_start()->set_month(7),
              n->mutable_window()->mutable_start()->set_day(1);
          n->mutable_window()->mutable_end()->set_year(2027), n->mutable_window()->mutable_end()->set_month(8),
              n->mutable_window()->mutable_end()->set_day(31);
          break;
        default:  // online seller
          n->add_sub_kinds(v1::OFFER_SUB_KIND_HOTEL);
          n->add_sub_kinds(v1::OFFER_SUB_KIND_TOUR);
          n->set_min_classification(2 + pick(3));
          n->add_languages("en");
      }
      for (int t = 0; t < 3; ++t) n->add_preferred_tags()->set_tag(tags[pick(static_cast<int>(tags.size()))]);
      const Commune& c = communes.communes()[pick(static_cast<int>(communes.communes().size()))];
      n->mutable_area()->mutable_circle()->mutable_point()->set_latitude(c.latitude);
      n->mutable_area()->mutable_circle()->mutable_point()->set_longitude(c.longitude);
      n->mutable_area()->mutable_circle()->set_radius_km(30 + pick(60));
    }
    buyers.push_back(std::move(b));
  }
  return buyers;
}

void Run(const CommuneIndex& communes, int offers_wanted, int buyer_count) {
  DemoCatalog catalog = GenerateCatalog(communes, static_cast<int>(offers_wanted / 1.6) + 10, 7);
  while (static_cast<int>(catalog.offers.size()) > offers_wanted) catalog.offers.pop_back();
  std::vector<v1::Buyer> buyers = MakeBuyers(buyer_count, communes, 11);
  long rss0 = RssKb();
  auto t0 = std::chrono::steady_clock::now();
  ScoringCatalog scoring(catalog.providers, catalog.offers);
  auto t1 = std::chrono::steady_clock::now();
  SuggestOptions options;
  options.threads = absl::GetFlag(FLAGS_threads);
  std::vector<v1::PairSuggestion> pairs = SuggestPairs(buyers, scoring, options);
  auto t2 = std::chrono::steady_clock::now();
  long rss1 = RssKb();
  double evaluations = static_cast<double>(catalog.offers.size()) * buyer_count * 3;
  double seconds = std::chrono::duration<double>(t2 - t0).count();
  std::printf("%7zu providers %7zu offers %5d buyers (%5d needs): prepare %.3f s, score+suggest %.3f s, total %.3f s, "
              "%.1f ns per offer-need, %zu pairs, memory +%ld MiB\n",
              catalog.providers.size(), catalog.offers.size(), buyer_count, buyer_count * 3,
              std::chrono::duration<double>(t1 - t0).count(), std::chrono::duration<double>(t2 - t1).count(), seconds,
              seconds * 1e9 / evaluations, pairs.size(), (rss1 - rss0) / 1024);
}

}  // namespace
}  // namespace atable

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::ifstream in(absl::GetFlag(FLAGS_communes));
  std::stringstream text;
  text << in.rdbuf();
  auto communes = atable::CommuneIndex::FromCsv(text.str());
  if (!communes.ok()) {
    std::fprintf(stderr, "%s\n", communes.status().ToString().c_str());
    return 1;
  }
  std::printf("threads %d\n", absl::GetFlag(FLAGS_threads));
  atable::Run(*communes, 10000, 200);     // a département's day: the 1 s target
  atable::Run(*communes, 10000, 200);     // again, warm
  atable::Run(*communes, 30000, 300);
  atable::Run(*communes, 100000, 1000);   // the large case
  return 0;
}
