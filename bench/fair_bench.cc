// fair_bench: a national fair ("Rendez-vous en France"): buyers and exhibitors over two days of 20
// slots each, requests and matchmaking-like scores generated with a seed. Chooses the pairs (exact
// min-cost flow), places them, and prints the time, the meetings, the value against the bound, and
// the idle gaps; then how the time grows with the number of participants.
#include <chrono>
#include <cstdio>
#include <map>
#include <random>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "server/core/schedule/solver.h"

ABSL_FLAG(uint64_t, seed, 2027, "Generator and solver seed");
ABSL_FLAG(int64_t, iterations, 0, "Local-search moves (0: the solver's default)");

namespace atable::schedule {
namespace {

// `buyers` buyers and `exhibitors` exhibitors; 40 slots (2 days x 20, morning = day one); each buyer
// asks for ~12 exhibitors, each exhibitor for ~6 buyers (some mutual), and every buyer has ~40
// scored suggestions; a few arrive late or leave early; tables = meetings per slot + 15 %.
Problem Fair(int buyers, int exhibitors, uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto below = [&](int n) { return static_cast<int>(rng() % static_cast<uint64_t>(n)); };
  Problem p;
  p.slots = 40;
  p.morning_slots = 20;
  for (int i = 0; i < buyers; ++i) {
    Participant q{absl::StrCat("buyer-", i), "", Role::kBuyer};
    q.max_meetings = 28 + below(10);
    if (below(10) == 0) q.forbidden = (SlotMask{1} << 20) - 1;  // day two only
    p.participants.push_back(q);
  }
  for (int i = 0; i < exhibitors; ++i) {
    Participant q{absl::StrCat("exhibitor-", i), "", Role::kProvider};
    q.max_meetings = 30 + below(10);
    if (below(12) == 0) q.forbidden = SlotMask{0xF} << 16;  // away a morning hour
    p.participants.push_back(q);
  }
  std::map<std::pair<int, int>, double> value;
  for (int b = 0; b < buyers; ++b) {
    for (int k = 0; k < 40; ++k) {
      int e = buyers + below(exhibitors);
      double score = 1 + (rng() % 1000) / 100.0;  // a suggestion's score, 1-11
      value[{b, e}] = std::max(value[{b, e}], score);
    }
    for (int k = 0; k < 12; ++k) value[{b, buyers + below(exhibitors)}] += 100;  // buyer's request
  }
  for (int e = buyers; e < buyers + exhibitors; ++e) {
    for (int k = 0; k < 6; ++k) value[{below(buyers), e}] += 200;  // exhibitor's request
  }
  for (const auto& [pair, v] : value) p.candidates.push_back({pair.first, pair.second, v, "generated"});
  int expected = std::min(buyers * 30, exhibitors * 33);
  p.tables = expected / p.slots * 115 / 100 + 1;
  return p;
}

void Run(int buyers, int exhibitors, bool details) {
  Problem p = Fair(buyers, exhibitors, absl::GetFlag(FLAGS_seed));
  SolveOptions options;
  options.seed = absl::GetFlag(FLAGS_seed);
  options.iterations = absl::GetFlag(FLAGS_iterations);
  auto t0 = std::chrono::steady_clock::now();
  auto s = Solve(p, options);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!s.ok()) {
    std::printf("%s\n", s.status().ToString().c_str());
    return;
  }
  std::printf("%5d participants (%4d buyers, %4d exhibitors), %6zu candidates, %4d tables: %6zu meetings chosen, "
              "%6zu placed, value %.4f%% of the bound, idle gaps %d (lower bound %d), %.2f s\n",
              buyers + exhibitors, buyers, exhibitors, p.candidates.size(), p.tables, s->meetings.size(),
              s->placed.size(), 100 * s->value / s->value_bound, s->idle_gaps, s->idle_gaps_lower_bound, seconds);
  if (details && !s->unplaced.empty()) std::printf("  first unplaced: %s\n", s->unplaced[0].reason.c_str());
}

}  // namespace
}  // namespace atable::schedule

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("national fair:\n");
  atable::schedule::Run(900, 800, true);
  std::printf("growth:\n");
  for (int n : {100, 200, 400, 800, 1200, 1700}) atable::schedule::Run(n * 9 / 17, n - n * 9 / 17, false);
  return 0;
}
