#include "server/core/schedule/gap_polish.h"

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <numeric>

#include "cadical.hpp"

namespace atable::schedule {
namespace {

// Above these sizes the model costs more time than the annealing's last gaps are worth.
constexpr size_t kMaxMeetings = 3000;
constexpr size_t kMaxSlotVariables = 120000;
constexpr size_t kMaxTableCounterVariables = 2000000;  // the per-slot table limits' counters

// Clauses over fresh variables, with the few encodings the model needs.
class Encoder {
 public:
  explicit Encoder(CaDiCaL::Solver* solver) : solver_(solver) {}

  int NewVar() { return ++vars_; }
  void Clause(std::initializer_list<int> lits) {
    for (int l : lits) solver_->add(l);
    solver_->add(0);
  }
  void Clause(const std::vector<int>& lits) {
    for (int l : lits) solver_->add(l);
    solver_->add(0);
  }
  // At most one of `lits`: pairwise when few, else a ladder of auxiliary variables.
  void AtMostOne(const std::vector<int>& lits, size_t pairwise_up_to = 5) {
    if (lits.size() <= pairwise_up_to) {
      for (size_t i = 0; i < lits.size(); ++i) {
        for (size_t j = i + 1; j < lits.size(); ++j) Clause({-lits[i], -lits[j]});
      }
      return;
    }
    int prefix = lits[0];  // true when one of the literals so far is
    for (size_t i = 1; i < lits.size(); ++i) {
      int next = NewVar();
      Clause({-prefix, next});
      Clause({-lits[i], next});
      Clause({-prefix, -lits[i]});
      prefix = next;
    }
  }
  // A sequential counter: returns r with r[j] (1 <= j <= k) true whenever at least j of `lits`
  // are; with `at_most_k`, more than k of them is forbidden.
  std::vector<int> Counter(const std::vector<int>& lits, int k, bool at_most_k) {
    std::vector<int> prev(static_cast<size_t>(k) + 1, 0), cur(static_cast<size_t>(k) + 1, 0);
    for (int x : lits) {
      for (int j = 1; j <= k; ++j) {
        cur[j] = NewVar();
        if (j == 1) Clause({-x, cur[1]});
        if (prev[j] != 0) Clause({-prev[j], cur[j]});
        if (j > 1 && prev[j - 1] != 0) Clause({-x, -prev[j - 1], cur[j]});
      }
      if (at_most_k && prev[k] != 0) Clause({-x, -prev[k]});
      prev.swap(cur);
    }
    return prev;
  }

 private:
  CaDiCaL::Solver* solver_;
  int vars_ = 0;
};

class StopWhen : public CaDiCaL::Terminator {
 public:
  explicit StopWhen(const std::function<bool()>& stop) : stop_(stop) {}
  bool terminate() override { return stopped_ = stopped_ || (stop_ && stop_()); }
  bool stopped() const { return stopped_; }

 private:
  const std::function<bool()>& stop_;
  bool stopped_ = false;
};

int GapsOfTimetable(const Problem& p, const std::vector<Meeting>& ms, const std::vector<int>& slots) {
  std::vector<SlotMask> busy(p.participants.size(), 0);
  for (size_t m = 0; m < ms.size(); ++m) {
    if (slots[m] < 0) continue;
    busy[ms[m].a] |= SlotMask{1} << slots[m];
    busy[ms[m].b] |= SlotMask{1} << slots[m];
  }
  int gaps = 0;
  for (SlotMask b : busy) gaps += GapsOf(b);
  return gaps;
}

// The timetable of the placed meetings as clauses: x[m][s] (meeting m in slot s), each
// participant's busy slots, its gaps and its gap-free windows; the per-slot table limits join
// for the slots nearly full in the timetable it starts from, then slot by slot when a solution
// overfills one.
class GapModel {
 public:
  GapModel(const Problem& p, const std::vector<Meeting>& ms, const std::vector<int>& placed,
           const std::vector<int>& bounds, CaDiCaL::Solver* solver)
      : p_(p), ms_(ms), placed_(placed), solver_(solver), enc_(solver), limited_(p.slots, false) {
    AddMeetingSlots();
    AddBusySlots();
    for (size_t i = 0; i < of_.size(); ++i) {
      if (of_[i].size() >= 2) AddGapsAndWindows(i, bounds[i]);
    }
  }

  // Literals that each keep a participant within its own lower bound.
  const std::vector<int>& tight() const { return tight_; }

  // Returns at_least with at_least[j] (1 <= j <= k) true whenever there are j gaps or more;
  // assuming it false asks for fewer than j.
  std::vector<int> GapCounter(int k) { return enc_.Counter(gap_lits_, k, /*at_most_k=*/false); }

  // Solves under the assumptions `assume` makes, within `budget` conflicts; a solution that
  // overfills slots gets their table limits added and the model is solved again. Returns 10
  // (a timetable within the limits), 20 (none exists) or 0 (out of budget, or stopped).
  int Solve(const std::function<void()>& assume, int budget) {
    while (true) {
      assume();
      solver_->limit("conflicts", budget);
      int result = solver_->solve();
      if (result != 10) return result;
      std::vector<int> over;  // read every slot before adding clauses (which ends the solution)
      for (int s = 0; s < p_.slots; ++s) {
        int taken = 0;
        for (int m : placed_) taken += x_[m][s] != 0 && solver_->val(x_[m][s]) > 0;
        if (taken > p_.tables && !limited_[s]) over.push_back(s);
      }
      for (int s : over) LimitSlot(s);
      if (over.empty()) return result;
    }
  }

  // The solution's timetable: `slots` with each placed meeting in the slot the solution gives it.
  std::vector<int> Read(const std::vector<int>& slots) const {
    std::vector<int> found = slots;
    for (int m : placed_) {
      for (int s = 0; s < p_.slots; ++s) {
        if (x_[m][s] != 0 && solver_->val(x_[m][s]) > 0) found[m] = s;
      }
    }
    return found;
  }

  // Adds the table limits of the slots where `timetable` holds at least `tables - 2` meetings: in
  // a day whose middle slots fill up, those are the ones a solution overfills, and each found
  // overfilled costs a solve.
  void LimitNearlyFullSlots(const std::vector<int>& timetable) {
    std::vector<int> taken(p_.slots, 0);
    for (int m : placed_) ++taken[timetable[m]];
    for (int s = 0; s < p_.slots; ++s) {
      if (taken[s] >= p_.tables - 2 && !limited_[s]) LimitSlot(s);
    }
  }

  // Points the search at `timetable` (the solver's first guesses).
  void Guide(const std::vector<int>& timetable) {
    for (int m : placed_) {
      for (int s = 0; s < p_.slots; ++s) {
        if (x_[m][s] != 0) solver_->phase(s == timetable[m] ? x_[m][s] : -x_[m][s]);
      }
    }
  }

 private:
  // Each placed meeting in exactly one of its allowed slots.
  void AddMeetingSlots() {
    x_.resize(ms_.size());
    for (int m : placed_) {
      x_[m].assign(p_.slots, 0);
      std::vector<int> options;
      for (SlotMask a = AllowedSlots(p_, ms_[m]); a; a &= a - 1) {
        int s = __builtin_ctzll(a);
        x_[m][s] = enc_.NewVar();
        options.push_back(x_[m][s]);
      }
      enc_.Clause(options);
      enc_.AtMostOne(options, /*pairwise_up_to=*/24);  // pairwise propagates best, and a day has few slots
    }
  }

  // busy_[i][s]: participant i (with two meetings or more) has its one meeting of slot s.
  void AddBusySlots() {
    of_.resize(p_.participants.size());
    for (int m : placed_) of_[ms_[m].a].push_back(m), of_[ms_[m].b].push_back(m);
    busy_.resize(of_.size());
    for (size_t i = 0; i < of_.size(); ++i) {
      if (of_[i].size() < 2) continue;
      std::vector<int>& busy = busy_[i];
      busy.assign(p_.slots, 0);
      for (int s = 0; s < p_.slots; ++s) {
        std::vector<int> here;
        for (int m : of_[i]) {
          if (x_[m][s] != 0) here.push_back(x_[m][s]);
        }
        if (here.empty()) continue;
        busy[s] = enc_.NewVar();
        for (int l : here) enc_.Clause({-l, busy[s]});
        here.push_back(-busy[s]);
        enc_.Clause(here);  // busy only with a meeting
        here.pop_back();
        enc_.AtMostOne(here);
      }
    }
  }

  // Participant i's gaps (each busy run that a later one follows ends one), the literal keeping
  // it within `bound` of them, and its gap-free windows.
  void AddGapsAndWindows(size_t i, int bound) {
    const int S = p_.slots;
    const std::vector<int>& busy = busy_[i];
    // later[s]: busy at some slot after s.
    std::vector<int> later(S, 0), gaps_here;
    for (int s = S - 2; s >= 0; --s) {
      if (busy[s + 1] == 0 && later[s + 1] == 0) continue;
      later[s] = enc_.NewVar();
      if (busy[s + 1] != 0) enc_.Clause({-busy[s + 1], later[s]});
      if (later[s + 1] != 0) enc_.Clause({-later[s + 1], later[s]});
    }
    for (int s = 1; s < S; ++s) {
      if (busy[s - 1] == 0 || later[s] == 0) continue;
      int g = enc_.NewVar();
      if (busy[s] != 0) {
        enc_.Clause({-busy[s - 1], busy[s], -later[s], g});
      } else {
        enc_.Clause({-busy[s - 1], -later[s], g});
      }
      gaps_here.push_back(g);
    }
    gap_lits_.insert(gap_lits_.end(), gaps_here.begin(), gaps_here.end());
    if (bound > 0 && !gaps_here.empty()) {
      tight_.push_back(enc_.NewVar());
      std::vector<int> r = enc_.Counter(gaps_here, bound + 1, /*at_most_k=*/false);
      enc_.Clause({-tight_.back(), -r[bound + 1]});
    }
    // Redundant but a strong guide: without a gap, its meetings fill one window of consecutive slots.
    const int k = static_cast<int>(of_[i].size());
    int compact = enc_.NewVar();
    if (bound == 0) tight_.push_back(compact);
    gaps_here.push_back(compact);
    enc_.Clause(gaps_here);
    std::vector<int> windows = {-compact};
    for (int w = 0; w + k <= S; ++w) {
      bool possible = true;
      for (int s = w; s < w + k; ++s) possible = possible && busy[s] != 0;
      if (!possible) continue;
      int window = enc_.NewVar();
      windows.push_back(window);
      enc_.Clause({-window, compact});
      for (int s = 0; s < S; ++s) {
        if (busy[s] != 0) enc_.Clause({-window, s >= w && s < w + k ? busy[s] : -busy[s]});
      }
    }
    enc_.Clause(windows);
    windows.erase(windows.begin());
    enc_.AtMostOne(windows);
  }

  // At most `tables` meetings in slot s, counted as at most twice that many participants busy in
  // it (each meeting keeps two busy): this propagates as soon as the gap-free windows settle who
  // is busy, before the meetings are. A model still without some slots' limits is a relaxation,
  // so "none" from it is a proof all the same.
  void LimitSlot(int s) {
    std::vector<int> busy_here;
    for (size_t i = 0; i < of_.size(); ++i) {
      if (!busy_[i].empty()) {
        if (busy_[i][s] != 0) busy_here.push_back(busy_[i][s]);
        continue;
      }
      for (int m : of_[i]) {  // a participant of one meeting is busy when it is here
        if (x_[m][s] != 0) busy_here.push_back(x_[m][s]);
      }
    }
    enc_.Counter(busy_here, 2 * p_.tables, /*at_most_k=*/true);
    limited_[s] = true;
  }

  const Problem& p_;
  const std::vector<Meeting>& ms_;
  const std::vector<int>& placed_;  // the meetings modelled
  CaDiCaL::Solver* solver_;
  Encoder enc_;
  std::vector<std::vector<int>> x_;     // by meeting, then slot; 0 where it may not be
  std::vector<std::vector<int>> of_;    // each participant's placed meetings
  std::vector<std::vector<int>> busy_;  // by participant, then slot; empty below two meetings
  std::vector<int> gap_lits_;           // every gap of every participant
  std::vector<int> tight_;
  std::vector<bool> limited_;           // slots whose table limits are in
};

}  // namespace

bool GapModelFits(const Problem& p, const std::vector<Meeting>& ms, const std::vector<int>& modelled) {
  size_t slot_variables = 0, counter_variables = 0;
  std::vector<size_t> per_slot(p.slots, 0);  // meetings that may take place in each slot
  for (int m : modelled) {
    for (SlotMask a = AllowedSlots(p, ms[m]); a; a &= a - 1) ++per_slot[__builtin_ctzll(a)], ++slot_variables;
  }
  for (size_t n : per_slot) {
    // At worst every slot gets its counter: over up to 2n busy participants, up to twice the tables.
    if (n > static_cast<size_t>(p.tables)) counter_variables += 4 * n * static_cast<size_t>(p.tables);
  }
  return modelled.size() <= kMaxMeetings && slot_variables <= kMaxSlotVariables &&
         counter_variables <= kMaxTableCounterVariables;
}

PolishOutcome PolishGaps(const Problem& p, const std::vector<Meeting>& ms, const std::vector<int>& bounds,
                         int conflicts, const std::function<bool()>& stop, std::vector<int>* slots,
                         const std::function<void(int gaps)>& improved) {
  PolishOutcome out;
  const int lower_bound = std::accumulate(bounds.begin(), bounds.end(), 0);
  out.lower_bound = lower_bound;
  out.gaps = GapsOfTimetable(p, ms, *slots);
  if (out.gaps <= lower_bound) {
    out.optimal = true;
    return out;
  }
  std::vector<int> placed;
  for (size_t m = 0; m < ms.size(); ++m) {
    if ((*slots)[m] >= 0) placed.push_back(static_cast<int>(m));
  }
  if (!GapModelFits(p, ms, placed)) return out;

  CaDiCaL::Solver solver;
  GapModel model(p, ms, placed, bounds, &solver);
  std::vector<int> at_least = model.GapCounter(out.gaps);
  model.LimitNearlyFullSlots(*slots);
  model.Guide(*slots);
  StopWhen terminator(stop);
  solver.connect_terminator(&terminator);
  // First straight at the bound: every participant within its own bound (most of them gap-free,
  // which the solver propagates far better than a count of all gaps).
  int result = model.Solve([&] {
    for (int t : model.tight()) solver.assume(t);
  }, conflicts / 2);  // half: when no such timetable is found fast, the descent below still runs
  if (result == 10) {
    std::vector<int> found = model.Read(*slots);
    int gaps = GapsOfTimetable(p, ms, found);
    if (gaps < out.gaps) {
      *slots = std::move(found);
      out.gaps = gaps;
      if (improved) improved(gaps);
    }
  } else if (result == 20) {
    out.lower_bound = lower_bound + 1;  // not every participant can keep to its own bound
  }
  // Then one gap fewer than the best so far, again and again.
  while (out.gaps > out.lower_bound) {
    result = model.Solve([&] { solver.assume(-at_least[out.gaps]); }, conflicts);
    if (result == 20) {  // no timetable with fewer gaps
      out.optimal = true;
      break;
    }
    if (result != 10) {
      out.stopped = terminator.stopped();
      break;
    }
    std::vector<int> found = model.Read(*slots);
    int gaps = GapsOfTimetable(p, ms, found);
    if (gaps >= out.gaps) break;  // cannot happen with a sound model; never accept worse
    *slots = std::move(found);
    out.gaps = gaps;
    if (improved) improved(gaps);
    model.Guide(*slots);
  }
  solver.disconnect_terminator();
  if (out.gaps <= out.lower_bound) out.optimal = true;
  return out;
}

}  // namespace atable::schedule
