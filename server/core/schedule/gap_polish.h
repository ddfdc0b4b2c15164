// Closing idle gaps exactly: the slots of the placed meetings as a SAT model (CaDiCaL), asked for
// a timetable with fewer gaps than the one it is given, again and again, down to a lower bound
// or until it proves that none exists.
#ifndef ATABLE_SERVER_CORE_SCHEDULE_GAP_POLISH_H_
#define ATABLE_SERVER_CORE_SCHEDULE_GAP_POLISH_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "server/core/schedule/problem.h"

namespace atable::schedule {

struct PolishOutcome {
  int gaps = 0;          // idle gaps of the timetable in `slots` at the end
  bool optimal = false;  // proven: no timetable of these meetings has fewer
  int lower_bound = 0;   // proven: every timetable of these meetings has at least this many
  bool stopped = false;  // `stop` ended it
};

// Whether the model of the meetings `ms[m]` for m in `modelled` is small enough to be worth
// solving (PolishGaps returns larger problems unchanged): a few thousand meetings at most.
bool GapModelFits(const Problem& p, const std::vector<Meeting>& ms, const std::vector<int>& modelled);

// Re-times the placed meetings (`(*slots)[m]` is the slot of `ms[m]`, -1 for one left unplaced,
// which stays so) for fewer idle gaps under the same rules: each meeting in a slot AllowedSlots
// gives it, one meeting per participant per slot, at most `p.tables` meetings per slot. `bounds`
// holds each participant's own lower bound (IdleGapsLowerBounds of the placed meetings). The first
// attempt goes straight for their sum, each participant within its own bound; then each attempt
// asks for one gap fewer than the best so far. `*slots` receives each better timetable found. Each
// attempt gets `conflicts` SAT conflicts (so the same input gives the same result); it stops at
// the bound, when an attempt runs out, or when `stop()` returns true (checked now and then).
// Problems GapModelFits refuses are returned unchanged.
// `improved`, when set, is called with the gap count of each better timetable as it is found.
PolishOutcome PolishGaps(const Problem& p, const std::vector<Meeting>& ms, const std::vector<int>& bounds,
                         int conflicts, const std::function<bool()>& stop, std::vector<int>* slots,
                         const std::function<void(int gaps)>& improved = {});

}  // namespace atable::schedule

#endif  // ATABLE_SERVER_CORE_SCHEDULE_GAP_POLISH_H_
