// The event-day solver: chooses the pairs (maximum-weight b-matching, exact by min-cost flow),
// places them in slots and at tables, and makes the day pleasant (fewest idle gaps), with bounds.
#ifndef ATABLE_SERVER_CORE_SCHEDULE_SOLVER_H_
#define ATABLE_SERVER_CORE_SCHEDULE_SOLVER_H_

#include <atomic>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/core/schedule/problem.h"

namespace atable::schedule {

struct Progress {
  std::string phase;  // "choosing pairs", "placing", "improving", "closing gaps", "done"
  double fraction = 0;  // of the phase, 0-1
  int placed = 0;
  int unplaced = 0;
  int idle_gaps = 0;
};

struct PreviousMeeting {
  std::string a, b;  // participant ids
  int slot = -1;     // from 0
};

struct SolveOptions {
  uint64_t seed = 1;
  // Local-search moves; the same problem, seed and budget give the same schedule.
  // 0: 15,000 per meeting, within 400,000-12,000,000; with gap_conflicts, a quarter of that
  // (the rest only while meetings are left unplaced) when the day is small enough for the SAT step.
  int64_t iterations = 0;
  // Then, if > 0: the timetable re-solved exactly (SAT) for one gap fewer, again and again, each
  // attempt within this many conflicts, until none is found or the gap bound is met; it can prove
  // the fewest gaps. Seconds on a day of a few hundred meetings; skipped above a few thousand.
  int gap_conflicts = 0;
  static constexpr int kCloseGapsConflicts = 100000;  // what `--close-gaps` asks for
  // Safety stops: the best schedule so far is returned (then stopped_early is set).
  absl::Time deadline = absl::InfiniteFuture();
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(const Progress&)> progress;  // called now and then, from the solving thread
  // Re-planning: where meetings were in the previous schedule, by participant ids. Meetings of
  // the same pair start where they were; each one moved costs more than an idle gap. Meetings to
  // keep in place (locked, or already held) carry a fixed_slot in the problem.
  std::vector<PreviousMeeting> previous;
};

// Solves `problem`. INVALID_ARGUMENT for a malformed problem (slots beyond 64, a meeting with an
// unknown participant, candidates that are not buyer-provider pairs, more buyers than tables when
// buyers keep their table); an infeasible one is not an error: its meetings are reported unplaced
// with the reason.
absl::StatusOr<Schedule> Solve(const Problem& problem, const SolveOptions& options = {});

// Chooses the meetings among the candidates: the maximum total value within each participant's
// capacity (its cap and its free slots), exact, giving each participant at least its
// min_meetings when the candidates allow it for all at once (otherwise no minimum is enforced). Returns the chosen meetings; `*bound` receives the
// optimum value, which bounds the value of any timetable.
std::vector<Meeting> ChoosePairs(const Problem& problem, double* bound);

// The fewest idle gaps any timetable placing all of `meetings` can have, by a count per
// participant: how many runs of free slots its meetings must spread over, and one gap when no run
// of consecutive slots can hold them all (each meeting where both sides and its session allow).
int IdleGapsLowerBound(const Problem& problem, const std::vector<Meeting>& meetings);
// The same count for each participant (indexed like problem.participants); they add up to the above.
std::vector<int> IdleGapsLowerBounds(const Problem& problem, const std::vector<Meeting>& meetings);

}  // namespace atable::schedule

#endif  // ATABLE_SERVER_CORE_SCHEDULE_SOLVER_H_
