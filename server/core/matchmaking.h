// Matchmaking: how well each provider fits each need of each buyer, with reasons, and the choice
// of the pairs to suggest. Plain C++ over the protobuf messages.
#ifndef ATABLE_SERVER_CORE_MATCHMAKING_H_
#define ATABLE_SERVER_CORE_MATCHMAKING_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "atable/v1/catalog.pb.h"
#include "atable/v1/matchmaking.pb.h"

namespace atable {

// The catalog as the scorer reads it: the facts of every offer, precomputed once.
class ScoringCatalog {
 public:
  // Keeps pointers into `providers` and `offers`, which must outlive the catalog. Offers whose
  // provider is not in `providers` are ignored.
  ScoringCatalog(const std::vector<v1::Provider>& providers, const std::vector<v1::Offer>& offers);

  struct Offer;
  struct Provider {
    const v1::Provider* provider;
    std::vector<uint32_t> offers;  // indexes into offers()
  };
  const std::vector<Provider>& providers() const { return providers_; }
  const std::vector<Offer>& offers() const { return offers_; }
  // Index of the provider `id` in providers(), or -1.
  int FindProvider(const std::string& id) const;
  // The interned id of a tag or label, or 0 if no offer has it.
  uint32_t TagId(const std::string& tag) const;

  struct Offer {
    const v1::Offer* offer;
    uint32_t provider;  // index into providers()
    int kind, sub_kind;
    int32_t min_persons, max_persons;
    int class_level;
    bool has_location;
    double lat, lon;
    std::string insee, departement;
    std::vector<uint32_t> tags, labels;  // interned, sorted
    uint32_t languages;                  // bit per known language, 0: none given
    uint32_t price_quality;              // bit per PriceQualityTag
    std::vector<std::pair<int32_t, int32_t>> open;  // day numbers
  };

 private:
  std::vector<Provider> providers_;
  std::vector<Offer> offers_;
  absl::flat_hash_map<std::string, int> provider_index_;
  absl::flat_hash_map<std::string, uint32_t> tags_;
};

// How one offer fits one need: excluded by a hard criterion, or a score in [0, 1].
struct OfferFit {
  bool excluded = false;
  double score = 0;
};

// A need prepared for scoring many offers quickly.
class CompiledNeed {
 public:
  CompiledNeed(const v1::Need& need, const ScoringCatalog& catalog);
  // Scores an offer (fast: no text).
  OfferFit Score(const ScoringCatalog::Offer& offer) const;
  // Scores an offer and explains each criterion.
  OfferFit Explain(const ScoringCatalog::Offer& offer, std::vector<v1::CriterionResult>* criteria) const;
  const v1::Need& need() const { return *need_; }

 private:
  OfferFit Evaluate(const ScoringCatalog::Offer& offer, std::vector<v1::CriterionResult>* criteria) const;
  const v1::Need* need_;
  bool impossible_ = false;  // a required tag or label no offer has
  std::vector<uint32_t> required_tags_, required_labels_;
  std::vector<std::pair<uint32_t, double>> preferred_;  // tag id, weight
  double preferred_total_ = 0;
  uint32_t languages_ = 0;
  int language_count_ = 0;
  uint32_t price_quality_ = 0;
  int32_t window_from_ = 0, window_to_ = 0;
};

// Options of SuggestPairs.
struct SuggestOptions {
  int top_per_buyer = 10;
  int top_per_provider = 10;
  double min_score = 0;
  std::vector<std::pair<std::string, std::string>> requests;  // (from, to)
  std::vector<std::pair<std::string, std::string>> refusals;  // (from, to)
  int threads = 2;
};

// Scores every provider of `catalog` against every need of `buyers` and returns the pairs to
// suggest, best first: asked-for pairs first (mutual, then the provider's, then the buyer's
// requests), then by score; at most top_per_buyer per buyer and top_per_provider per provider;
// refused pairs never; a buyer's list is kept diverse (the same sub-kind in the same commune
// counts less each time it repeats). Every pair carries its need fits with reasons.
std::vector<v1::PairSuggestion> SuggestPairs(const std::vector<v1::Buyer>& buyers,
                                             const ScoringCatalog& catalog,
                                             const SuggestOptions& options);

// Fits of one provider to one buyer's needs, best first, with reasons (for a single pair).
std::vector<v1::NeedFit> ExplainPair(const v1::Buyer& buyer, const ScoringCatalog& catalog,
                                     int provider);

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_MATCHMAKING_H_
