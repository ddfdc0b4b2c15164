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

}  // namespace

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
  const int S = p.slots;
  size_t slot_variables = 0, counter_variables = 0;
  std::vector<size_t> per_slot(S, 0);  // meetings that may take place in each slot
  for (int m : placed) {
    for (SlotMask a = AllowedSlots(p, ms[m]); a; a &= a - 1) ++per_slot[__builtin_ctzll(a)], ++slot_variables;
  }
  for (size_t n : per_slot) {
    // At worst every slot gets both counters: over its n meetings up to the tables, and over up to
    // 2n participants up to twice the tables.
    if (n > static_cast<size_t>(p.tables)) counter_variables += 5 * n * static_cast<size_t>(p.tables);
  }
  if (placed.size() > kMaxMeetings || slot_variables > kMaxSlotVariables ||
      counter_variables > kMaxTableCounterVariables) {
    return out;
  }

  CaDiCaL::Solver solver;
  Encoder enc(&solver);
  // x[m][s]: meeting m in slot s; each placed meeting in exactly one of its allowed slots.
  std::vector<std::vector<int>> x(ms.size());
  for (int m : placed) {
    x[m].assign(S, 0);
    std::vector<int> options;
    for (SlotMask a = AllowedSlots(p, ms[m]); a; a &= a - 1) {
      int s = __builtin_ctzll(a);
      x[m][s] = enc.NewVar();
      options.push_back(x[m][s]);
    }
    enc.Clause(options);
    enc.AtMostOne(options, /*pairwise_up_to=*/24);  // pairwise propagates best, and a day has few slots
  }
  // Per participant: busy slots (one meeting at most), gaps, and the gap-free windows.
  std::vector<std::vector<int>> of(p.participants.size());
  for (int m : placed) of[ms[m].a].push_back(m), of[ms[m].b].push_back(m);
  std::vector<std::vector<int>> busy_of(of.size());
  for (size_t i = 0; i < of.size(); ++i) {
    if (of[i].size() < 2) continue;
    std::vector<int>& busy = busy_of[i];
    busy.assign(S, 0);
    for (int s = 0; s < S; ++s) {
      std::vector<int> here;
      for (int m : of[i]) {
        if (x[m][s] != 0) here.push_back(x[m][s]);
      }
      if (here.empty()) continue;
      busy[s] = enc.NewVar();
      for (int l : here) enc.Clause({-l, busy[s]});
      here.push_back(-busy[s]);
      enc.Clause(here);  // busy only with a meeting
      here.pop_back();
      enc.AtMostOne(here);
    }
  }
  std::vector<int> gap_lits;
  std::vector<int> tight;  // each: its participant has no more gaps than its own lower bound
  for (size_t i = 0; i < of.size(); ++i) {
    if (of[i].size() < 2) continue;
    const std::vector<int>& busy = busy_of[i];
    // later[s]: busy at some slot after s. A gap ends each busy run that a later one follows.
    std::vector<int> later(S, 0), gaps_here;
    for (int s = S - 2; s >= 0; --s) {
      if (busy[s + 1] == 0 && later[s + 1] == 0) continue;
      later[s] = enc.NewVar();
      if (busy[s + 1] != 0) enc.Clause({-busy[s + 1], later[s]});
      if (later[s + 1] != 0) enc.Clause({-later[s + 1], later[s]});
    }
    for (int s = 1; s < S; ++s) {
      if (busy[s - 1] == 0 || later[s] == 0) continue;
      int g = enc.NewVar();
      if (busy[s] != 0) {
        enc.Clause({-busy[s - 1], busy[s], -later[s], g});
      } else {
        enc.Clause({-busy[s - 1], -later[s], g});
      }
      gaps_here.push_back(g);
    }
    gap_lits.insert(gap_lits.end(), gaps_here.begin(), gaps_here.end());
    if (bounds[i] > 0 && !gaps_here.empty()) {
      tight.push_back(enc.NewVar());
      std::vector<int> r = enc.Counter(gaps_here, bounds[i] + 1, /*at_most_k=*/false);
      enc.Clause({-tight.back(), -r[bounds[i] + 1]});
    }
    // Redundant but a strong guide: without a gap, its meetings fill one window of consecutive slots.
    const int k = static_cast<int>(of[i].size());
    int compact = enc.NewVar();
    if (bounds[i] == 0) tight.push_back(compact);
    gaps_here.push_back(compact);
    enc.Clause(gaps_here);
    std::vector<int> windows = {-compact};
    for (int w = 0; w + k <= S; ++w) {
      bool possible = true;
      for (int s = w; s < w + k; ++s) possible = possible && busy[s] != 0;
      if (!possible) continue;
      int window = enc.NewVar();
      windows.push_back(window);
      enc.Clause({-window, compact});
      for (int s = 0; s < S; ++s) {
        if (busy[s] != 0) enc.Clause({-window, s >= w && s < w + k ? busy[s] : -busy[s]});
      }
    }
    enc.Clause(windows);
    windows.erase(windows.begin());
    enc.AtMostOne(windows);
  }
  // at_least[j]: j gaps or more; assuming it false asks for fewer than j.
  std::vector<int> at_least = enc.Counter(gap_lits, out.gaps, /*at_most_k=*/false);

  // At most `tables` meetings per slot: added only for the slots a solution overfills (most days
  // have tables to spare, and the counters would slow every search). A model still without some
  // of them is a relaxation, so "none" from it is a proof all the same.
  std::vector<bool> limited(S, false);
  auto limit_slot = [&](int s) {
    std::vector<int> here;
    for (int m : placed) {
      if (x[m][s] != 0) here.push_back(x[m][s]);
    }
    enc.Counter(here, p.tables, /*at_most_k=*/true);
    // The same limit counted over the participants busy in the slot (two per meeting): it
    // propagates as soon as the gap-free windows settle who is busy, before the meetings.
    here.clear();
    for (size_t i = 0; i < of.size(); ++i) {
      if (!busy_of[i].empty()) {
        if (busy_of[i][s] != 0) here.push_back(busy_of[i][s]);
        continue;
      }
      for (int m : of[i]) {
        if (x[m][s] != 0) here.push_back(x[m][s]);
      }
    }
    enc.Counter(here, 2 * p.tables, /*at_most_k=*/true);
    limited[s] = true;
  };
  auto solve = [&](const std::function<void()>& assume, int budget) {
    while (true) {
      assume();
      solver.limit("conflicts", budget);
      int result = solver.solve();
      if (result != 10) return result;
      std::vector<int> over;  // read every slot before adding clauses (which ends the solution)
      for (int s = 0; s < S; ++s) {
        int taken = 0;
        for (int m : placed) taken += x[m][s] != 0 && solver.val(x[m][s]) > 0;
        if (taken > p.tables && !limited[s]) over.push_back(s);
      }
      for (int s : over) limit_slot(s);
      if (over.empty()) return result;
    }
  };
  auto read = [&] {
    std::vector<int> found = *slots;
    for (int m : placed) {
      for (int s = 0; s < S; ++s) {
        if (x[m][s] != 0 && solver.val(x[m][s]) > 0) found[m] = s;
      }
    }
    return found;
  };

  auto guide = [&](const std::vector<int>& timetable) {
    for (int m : placed) {
      for (int s = 0; s < S; ++s) {
        if (x[m][s] != 0) solver.phase(s == timetable[m] ? x[m][s] : -x[m][s]);
      }
    }
  };
  guide(*slots);
  StopWhen terminator(stop);
  solver.connect_terminator(&terminator);
  // First straight at the bound: every participant within its own bound (most of them gap-free,
  // which the solver propagates far better than a count of all gaps).
  int result = solve([&] {
    for (int t : tight) solver.assume(t);
  }, conflicts / 2);  // half: when no such timetable is found fast, the descent below still runs
  if (result == 10) {
    std::vector<int> found = read();
    int gaps = GapsOfTimetable(p, ms, found);
    if (gaps < out.gaps) {
      *slots = std::move(found);
      out.gaps = gaps;
      if (improved) improved(gaps);
    }
  } else if (result == 20) {
    out.lower_bound = lower_bound + 1;  // not every participant can keep to its own bound
  }
  while (out.gaps > out.lower_bound) {
    result = solve([&] { solver.assume(-at_least[out.gaps]); }, conflicts);
    if (result == 20) {  // no timetable with fewer gaps
      out.optimal = true;
      break;
    }
    if (result != 10) {
      out.stopped = terminator.stopped();
      break;
    }
    std::vector<int> found = read();
    int gaps = GapsOfTimetable(p, ms, found);
    if (gaps >= out.gaps) break;  // cannot happen with a sound model; never accept worse
    *slots = std::move(found);
    out.gaps = gaps;
    if (improved) improved(gaps);
    guide(*slots);
  }
  solver.disconnect_terminator();
  if (out.gaps <= out.lower_bound) out.optimal = true;
  return out;
}

}  // namespace atable::schedule
