#include "server/core/schedule/solver.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "lemon/network_simplex.h"
#include "lemon/smart_graph.h"
#include "server/core/rng.h"
#include "server/core/schedule/gap_polish.h"

namespace atable::schedule {
namespace {

constexpr double kUnplacedCost = 1000;  // an unplaced meeting costs more than any day's gaps
constexpr double kMoveCost = 3;         // re-planning: a moved meeting costs more than a gap
constexpr double kIdleSlotCost = 0.3;  // search guidance only, below one gap

// Slots a participant could attend but waits through, between its first and last meeting.
inline int IdleSlotsOf(SlotMask busy, SlotMask forbidden) {
  if (busy == 0) return 0;
  SlotMask span = (~SlotMask{0} >> __builtin_clzll(busy)) & (~SlotMask{0} << __builtin_ctzll(busy));
  return __builtin_popcountll(span & ~busy & ~forbidden);
}

SlotMask FirstSlots(int n) { return n >= 64 ? ~SlotMask{0} : ((SlotMask{1} << n) - 1); }

SlotMask SessionMask(const Problem& p, Session s) {
  SlotMask all = FirstSlots(p.slots), morning = FirstSlots(p.morning_slots);
  return s == Session::kMorning ? morning : s == Session::kAfternoon ? all & ~morning : all;
}

// The placement being searched: where each meeting is, who is busy when, the energy.
class State {
 public:
  State(const Problem& p, const std::vector<Meeting>& ms) : p_(p), ms_(ms) {
    allowed_.resize(ms.size());
    for (size_t m = 0; m < ms.size(); ++m) allowed_[m] = AllowedSlots(p, ms[m]);
    slot_.assign(ms.size(), -1);
    pos_.assign(ms.size(), -1);
    prev_.assign(ms.size(), -1);
    busy_.assign(p.participants.size(), 0);
    occ_.assign(p.participants.size() * kMaxSlots, -1);
    members_.resize(p.slots);
    seen_.assign(p.participants.size(), 0);
    unplaced_ = static_cast<int>(ms.size());
  }

  // What the schedule costs: unplaced meetings, idle gaps, moved meetings.
  double Energy() const { return unplaced_ * kUnplacedCost + gaps_ + moved_ * kMoveCost; }
  // What the search minimises: the cost plus a small charge per idle slot, which guides it
  // towards compact days between changes of the gap count.
  double SearchEnergy() const { return Energy() + kIdleSlotCost * idle_; }
  // Change of the search energy if the placed meetings `a` (all at `sa`) and `b` (all at `sb`)
  // exchanged slots, where every meeting at `sa` or `sb` of a participant they involve is in `a`
  // or `b` (a Kempe chain, or two whole slots): each such participant's two bits swap.
  double SwapDelta(const std::vector<int>& a, int sa, const std::vector<int>& b, int sb) {
    ++stamp_;
    double d = 0;
    SlotMask both = (SlotMask{1} << sa) | (SlotMask{1} << sb);
    for (const std::vector<int>* group : {&a, &b}) {
      for (int m : *group) {
        if (prev_[m] >= 0) d += kMoveCost * ((prev_[m] != sa + sb - slot_[m]) - (prev_[m] != slot_[m]));
        for (int q : {ms_[m].a, ms_[m].b}) {
          if (seen_[q] == stamp_) continue;
          seen_[q] = stamp_;
          SlotMask now = busy_[q], then = now;
          if (((now >> sa) ^ (now >> sb)) & 1) then ^= both;
          SlotMask forbidden = p_.participants[q].forbidden;
          d += GapsOf(then) - GapsOf(now) + kIdleSlotCost * (IdleSlotsOf(then, forbidden) - IdleSlotsOf(now, forbidden));
        }
      }
    }
    return d;
  }
  int slot(int m) const { return slot_[m]; }
  SlotMask allowed(int m) const { return allowed_[m]; }
  int unplaced() const { return unplaced_; }
  int gaps() const { return gaps_; }
  int moved() const { return moved_; }
  int prev(int m) const { return prev_[m]; }
  void set_prev(int m, int s) { prev_[m] = s; }
  int OccupantOf(int participant, int s) const { return occ_[participant * kMaxSlots + s]; }
  SlotMask busy(int participant) const { return busy_[participant]; }
  const std::vector<int>& members(int s) const { return members_[s]; }
  bool Fits(int m, int s) const {
    return (allowed_[m] >> s & 1) && OccupantOf(ms_[m].a, s) < 0 && OccupantOf(ms_[m].b, s) < 0 &&
           static_cast<int>(members_[s].size()) < p_.tables;
  }
  // Energy change of placing unplaced `m` at `s` (which it must fit).
  double PlaceDelta(int m, int s) const {
    const Meeting& x = ms_[m];
    SlotMask bit = SlotMask{1} << s;
    double d = -kUnplacedCost;
    for (int q : {x.a, x.b}) {
      d += GapsOf(busy_[q] | bit) - GapsOf(busy_[q]) + kIdleSlotCost * (IdleSlotsOf(busy_[q] | bit, p_.participants[q].forbidden) - IdleSlotsOf(busy_[q], p_.participants[q].forbidden));
    }
    if (prev_[m] >= 0 && prev_[m] != s) d += kMoveCost;
    return d;
  }

  void Place(int m, int s) {
    const Meeting& x = ms_[m];
    SlotMask bit = SlotMask{1} << s;
    for (int q : {x.a, x.b}) {
      gaps_ -= GapsOf(busy_[q]);
      idle_ -= IdleSlotsOf(busy_[q], p_.participants[q].forbidden);
      busy_[q] |= bit;
      gaps_ += GapsOf(busy_[q]);
      idle_ += IdleSlotsOf(busy_[q], p_.participants[q].forbidden);
      occ_[q * kMaxSlots + s] = m;
    }
    slot_[m] = s;
    pos_[m] = static_cast<int>(members_[s].size());
    members_[s].push_back(m);
    --unplaced_;
    if (prev_[m] >= 0 && prev_[m] != s) ++moved_;
  }

  void Remove(int m) {
    int s = slot_[m];
    if (s < 0) return;
    const Meeting& x = ms_[m];
    SlotMask bit = SlotMask{1} << s;
    for (int q : {x.a, x.b}) {
      gaps_ -= GapsOf(busy_[q]);
      idle_ -= IdleSlotsOf(busy_[q], p_.participants[q].forbidden);
      busy_[q] &= ~bit;
      gaps_ += GapsOf(busy_[q]);
      idle_ += IdleSlotsOf(busy_[q], p_.participants[q].forbidden);
      occ_[q * kMaxSlots + s] = -1;
    }
    std::vector<int>& list = members_[s];
    int last = list.back();
    list[pos_[m]] = last;
    pos_[last] = pos_[m];
    list.pop_back();
    slot_[m] = -1;
    pos_[m] = -1;
    ++unplaced_;
    if (prev_[m] >= 0 && prev_[m] != s) --moved_;
  }

  const std::vector<int>& slots() const { return slot_; }

 private:
  const Problem& p_;
  const std::vector<Meeting>& ms_;
  std::vector<SlotMask> allowed_;
  std::vector<int> slot_, pos_, prev_;
  std::vector<SlotMask> busy_;
  std::vector<int> occ_;  // participant * kMaxSlots + slot -> meeting
  std::vector<std::vector<int>> members_;
  int unplaced_ = 0, gaps_ = 0, moved_ = 0, idle_ = 0;
  std::vector<uint32_t> seen_;  // SwapDelta's marks, by participant
  uint32_t stamp_ = 0;
};

absl::Status CheckProblem(const Problem& p) {
  if (p.slots < 1 || p.slots > kMaxSlots) return absl::InvalidArgumentError(absl::StrCat("slots: must be in 1-", kMaxSlots));
  if (p.morning_slots < 0 || p.morning_slots > p.slots) return absl::InvalidArgumentError("morning_slots: must be in 0-slots");
  if (p.tables < 1) return absl::InvalidArgumentError("tables: must be at least 1");
  int n = static_cast<int>(p.participants.size());
  for (size_t i = 0; i < p.meetings.size(); ++i) {
    const Meeting& m = p.meetings[i];
    if (m.a < 0 || m.a >= n || m.b < 0 || m.b >= n || m.a == m.b) {
      return absl::InvalidArgumentError(absl::StrCat("meetings[", i, "]: needs two different known participants"));
    }
    if (m.fixed_slot >= p.slots) return absl::InvalidArgumentError(absl::StrCat("meetings[", i, "].fixed_slot: beyond the last slot"));
  }
  for (size_t i = 0; i < p.candidates.size(); ++i) {
    const Candidate& c = p.candidates[i];
    if (c.buyer < 0 || c.buyer >= n || c.provider < 0 || c.provider >= n ||
        p.participants[c.buyer].role != Role::kBuyer || p.participants[c.provider].role != Role::kProvider) {
      return absl::InvalidArgumentError(absl::StrCat("candidates[", i, "]: must pair a buyer with a provider"));
    }
  }
  if (p.buyer_keeps_table) {
    int buyers = 0;
    for (const auto& q : p.participants) buyers += q.role == Role::kBuyer;
    if (buyers > p.tables) {
      return absl::InvalidArgumentError(absl::StrCat("tables: ", buyers, " buyers keep a table each but there are ", p.tables, " tables"));
    }
    for (size_t i = 0; i < p.meetings.size(); ++i) {
      const Meeting& m = p.meetings[i];
      if ((p.participants[m.a].role == Role::kBuyer) == (p.participants[m.b].role == Role::kBuyer)) {
        return absl::InvalidArgumentError(absl::StrCat("meetings[", i, "]: with buyers keeping their table, each meeting needs exactly one buyer"));
      }
    }
  }
  return absl::OkStatus();
}

// Local search over a State: move a meeting to another slot it may take, pushing what is in the
// way back to where it came from (or out); Kempe-chain exchanges between two slots; exchanges of
// two whole slots. Annealed on the search energy; the best state by the true cost is kept.
class Annealer {
 public:
  Annealer(const Problem& p, const std::vector<Meeting>& ms, State& st, Rng& rng, std::function<bool()> stop)
      : p_(p), ms_(ms), st_(st), rng_(rng), stop_(std::move(stop)), in_chain_(ms.size(), 0) {
    for (int m = 0; m < static_cast<int>(ms.size()); ++m) {
      if (ms[m].fixed_slot < 0 && st.allowed(m) != 0) movable_.push_back(m);
    }
    meetings_of_.resize(p.participants.size());
    for (int m : movable_) meetings_of_[ms[m].a].push_back(m), meetings_of_[ms[m].b].push_back(m);
    KeepCurrentAsBest();
  }

  const std::vector<int>& best_slots() const { return best_slots_; }
  int best_gaps() const { return best_gaps_; }
  int best_unplaced() const { return best_unplaced_; }
  bool stopped() const { return stopped_; }
  int64_t moves() const { return moves_; }
  // Runs `budget` moves cooling from `t_start` to `t_end`; ends early at `gaps_target` idle gaps
  // with every meeting placed and none moved, or when the stop condition holds. `tick` is called
  // now and then.
  void Run(int64_t budget, double t_start, double t_end, int gaps_target, const std::function<void()>& tick) {
    for (int64_t it = 0; it < budget && !movable_.empty(); ++it, ++moves_) {
      if ((moves_ & 4095) == 0) {
        if (stop_()) {
          stopped_ = true;
          return;
        }
        if ((moves_ & 262143) == 0 && tick) tick();
      }
      if (best_unplaced_ == 0 && best_moved_ == 0 && best_gaps_ <= gaps_target) return;
      double temp = t_start * std::pow(t_end / t_start, static_cast<double>(it) / budget);
      Step(temp);
    }
  }

 private:
  void KeepCurrentAsBest() {
    best_slots_ = st_.slots();
    best_energy_ = st_.Energy();
    best_gaps_ = st_.gaps();
    best_unplaced_ = st_.unplaced();
    best_moved_ = st_.moved();
  }

  bool Accept(double delta, double temp) { return delta <= 0 || rng_.Unit() < std::exp(-delta / temp); }

  void KeepIfBest() {
    if (st_.Energy() < best_energy_) KeepCurrentAsBest();
  }

  // Moves group `a` from slot `sa` to `sb` and group `b` the other way (see State::SwapDelta),
  // if the annealing accepts the change.
  void SwapGroups(const std::vector<int>& a, int sa, const std::vector<int>& b, int sb, double temp) {
    if (!Accept(st_.SwapDelta(a, sa, b, sb), temp)) return;
    group_a_ = a;  // `a` and `b` may be the slots' own member lists, which the moves change
    group_b_ = b;
    for (int x : group_a_) st_.Remove(x);
    for (int x : group_b_) st_.Remove(x);
    for (int x : group_a_) st_.Place(x, sb);
    for (int x : group_b_) st_.Place(x, sa);
    KeepIfBest();
  }

  void Step(double temp) {
    if (rng_.Below(20) == 0) {
      // Exchange two whole slots: every meeting of one goes to the other, if all may.
      int s1 = rng_.Below(p_.slots), s2 = rng_.Below(p_.slots);
      if (s1 == s2) return;
      bool can = true;
      for (int x : st_.members(s1)) can = can && ms_[x].fixed_slot < 0 && (st_.allowed(x) >> s2 & 1);
      for (int x : st_.members(s2)) can = can && ms_[x].fixed_slot < 0 && (st_.allowed(x) >> s1 & 1);
      if (!can) return;
      return SwapGroups(st_.members(s1), s1, st_.members(s2), s2, temp);
    }
    int m = -1, to = -1;
    if (rng_.Below(2) == 0) {
      // Aim at a gap: a participant who waits, one of its meetings, into one of its idle slots.
      int q = rng_.Below(static_cast<int>(p_.participants.size()));
      SlotMask b = st_.busy(q);
      if (GapsOf(b) > 0 && !meetings_of_[q].empty()) {
        SlotMask span = FirstSlots(64 - __builtin_clzll(b)) & ~FirstSlots(__builtin_ctzll(b));
        SlotMask holes = span & ~b;
        int x = meetings_of_[q][rng_.Below(static_cast<int>(meetings_of_[q].size()))];
        SlotMask target = holes & st_.allowed(x);
        if (ms_[x].fixed_slot < 0 && target != 0) m = x, to = rng_.BitOf(target);
      }
    }
    if (m < 0) {
      m = movable_[rng_.Below(static_cast<int>(movable_.size()))];
      SlotMask choices = st_.allowed(m) & ~(st_.slot(m) >= 0 ? SlotMask{1} << st_.slot(m) : 0);
      if (choices == 0) return;
      to = rng_.BitOf(choices);
    }
    int from = st_.slot(m);
    if (from == to) return;
    if (from >= 0 && rng_.Below(6) != 0) return KempeChain(m, from, to, temp);
    Relocate(m, from, to, temp);
  }

  // The meetings linked to `m` by shared participants between `from` and `to` swap slots
  // together, so no one is double-booked.
  void KempeChain(int m, int from, int to, double temp) {
    chain_a_.clear();
    chain_b_.clear();
    queue_.clear();
    queue_.push_back(m);
    in_chain_[m] = 1;
    bool ok = ms_[m].fixed_slot < 0;
    for (size_t head = 0; ok && head < queue_.size(); ++head) {
      if (queue_.size() > 24) ok = false;  // long chains are costly and rarely improve: skip
      int x = queue_[head];
      bool at_from = st_.slot(x) == from;
      (at_from ? chain_a_ : chain_b_).push_back(x);
      int other_slot = at_from ? to : from;
      for (int q : {ms_[x].a, ms_[x].b}) {
        int y = st_.OccupantOf(q, other_slot);
        if (y < 0 || in_chain_[y]) continue;
        if (ms_[y].fixed_slot >= 0) ok = false;
        in_chain_[y] = 1;
        queue_.push_back(y);
      }
    }
    for (int x : chain_a_) ok = ok && (st_.allowed(x) >> to & 1);
    for (int x : chain_b_) ok = ok && (st_.allowed(x) >> from & 1);
    int size_from = static_cast<int>(st_.members(from).size()), size_to = static_cast<int>(st_.members(to).size());
    int na = static_cast<int>(chain_a_.size()), nb = static_cast<int>(chain_b_.size());
    ok = ok && size_to - nb + na <= p_.tables && size_from - na + nb <= p_.tables;
    if (ok) SwapGroups(chain_a_, from, chain_b_, to, temp);
    for (int x : queue_) in_chain_[x] = 0;
  }

  // Moves `m` (placed at `from`, or unplaced) to `to`; what is in the way there goes to `from`
  // when it fits, else out.
  void Relocate(int m, int from, int to, double temp) {
    double before = st_.SearchEnergy();
    undo_.clear();
    undo_.emplace_back(m, from);
    if (from >= 0) st_.Remove(m);
    int in_way[3];
    int k = 0;
    for (int q : {ms_[m].a, ms_[m].b}) {
      int other = st_.OccupantOf(q, to);
      if (other >= 0 && (k == 0 || in_way[0] != other)) in_way[k++] = other;
    }
    if (k == 0 && static_cast<int>(st_.members(to).size()) >= p_.tables) {
      const std::vector<int>& there = st_.members(to);
      in_way[k++] = there[rng_.Below(static_cast<int>(there.size()))];
    }
    for (int i = 0; i < k; ++i) {
      if (ms_[in_way[i]].fixed_slot >= 0) {
        if (from >= 0) st_.Place(m, from);
        return;
      }
    }
    for (int i = 0; i < k; ++i) {
      undo_.emplace_back(in_way[i], to);
      st_.Remove(in_way[i]);
    }
    st_.Place(m, to);
    for (int i = 0; i < k; ++i) {
      if (from >= 0 && st_.Fits(in_way[i], from)) st_.Place(in_way[i], from);
    }
    if (Accept(st_.SearchEnergy() - before, temp)) return KeepIfBest();
    for (const auto& [x, s] : undo_) st_.Remove(x);
    for (const auto& [x, s] : undo_) {
      if (s >= 0) st_.Place(x, s);
    }
  }

  const Problem& p_;
  const std::vector<Meeting>& ms_;
  State& st_;
  Rng& rng_;
  std::function<bool()> stop_;
  std::vector<int> movable_;
  std::vector<std::vector<int>> meetings_of_;
  std::vector<std::pair<int, int>> undo_;      // (meeting, slot before)
  std::vector<int> chain_a_, chain_b_, queue_;  // Kempe chain members in `from` and in `to`
  std::vector<int> group_a_, group_b_;
  std::vector<char> in_chain_;
  std::vector<int> best_slots_;
  double best_energy_ = 0;
  int best_gaps_ = 0, best_unplaced_ = 0, best_moved_ = 0;
  int64_t moves_ = 0;
  bool stopped_ = false;
};

std::string Why(const Problem& p, const State& st, const Meeting& m, int index) {
  const std::string& a = p.participants[m.a].id;
  const std::string& b = p.participants[m.b].id;
  SlotMask common = ~p.participants[m.a].forbidden & ~p.participants[m.b].forbidden & FirstSlots(p.slots);
  if (common == 0) return absl::StrCat(a, " and ", b, " are never free at the same time");
  if (st.allowed(index) == 0) {
    if (m.fixed_slot >= 0) return absl::StrCat("slot ", m.fixed_slot + 1, " is not free for both ", a, " and ", b);
    return absl::StrCat(a, " and ", b, " are never both free in the ",
                        m.session == Session::kMorning ? "morning" : "afternoon", " session");
  }
  // Where could it go, and what is in the way there?
  bool a_full = true, b_full = true, tables_full = true;
  for (SlotMask mask = st.allowed(index); mask; mask &= mask - 1) {
    int s = __builtin_ctzll(mask);
    if (st.OccupantOf(m.a, s) < 0) a_full = false;
    if (st.OccupantOf(m.b, s) < 0) b_full = false;
    if (static_cast<int>(st.members(s).size()) < p.tables) tables_full = false;
  }
  if (a_full) return absl::StrCat(a, " has meetings in every slot where ", b, " is free");
  if (b_full) return absl::StrCat(b, " has meetings in every slot where ", a, " is free");
  if (tables_full) return "every table is taken in the slots where both are free";
  return absl::StrCat("no slot left where both ", a, " and ", b, " are free and a table is too");
}

}  // namespace

SlotMask AllowedSlots(const Problem& p, const Meeting& m) {
  SlotMask mask = FirstSlots(p.slots) & ~p.participants[m.a].forbidden & ~p.participants[m.b].forbidden &
                  SessionMask(p, m.session);
  if (m.fixed_slot >= 0) mask &= SlotMask{1} << m.fixed_slot;
  return mask;
}

std::vector<Meeting> ChoosePairs(const Problem& p, double* bound) {
  using Graph = lemon::SmartDigraph;
  Graph g;
  int n = static_cast<int>(p.participants.size());
  std::vector<Graph::Node> node(n);
  for (int i = 0; i < n; ++i) node[i] = g.addNode();
  Graph::Node source = g.addNode(), sink = g.addNode();
  Graph::ArcMap<int64_t> cap(g), lower(g), cost(g);
  auto capacity = [&](int i) {
    const Participant& q = p.participants[i];
    int free = __builtin_popcountll(FirstSlots(p.slots) & ~q.forbidden);
    return q.max_meetings > 0 ? std::min(q.max_meetings, free) : free;
  };
  int64_t total = 0;
  std::vector<Graph::Arc> side(n);
  std::vector<bool> has_side(n, false);
  for (const Candidate& c : p.candidates) {
    for (int i : {c.buyer, c.provider}) {
      if (has_side[i]) continue;
      has_side[i] = true;
      side[i] = p.participants[i].role == Role::kBuyer ? g.addArc(source, node[i]) : g.addArc(node[i], sink);
      cap[side[i]] = capacity(i);
      lower[side[i]] = std::min<int64_t>(p.participants[i].min_meetings, capacity(i));  // the guaranteed minimum
      cost[side[i]] = 0;
      if (p.participants[i].role == Role::kBuyer) total += capacity(i);
    }
  }
  std::vector<Graph::Arc> pair_arc(p.candidates.size());
  for (size_t k = 0; k < p.candidates.size(); ++k) {
    const Candidate& c = p.candidates[k];
    pair_arc[k] = g.addArc(node[c.buyer], node[c.provider]);
    cap[pair_arc[k]] = 1;
    lower[pair_arc[k]] = 0;
    cost[pair_arc[k]] = -std::llround(std::max(0.0, c.value) * 1000);
  }
  Graph::Arc bypass = g.addArc(source, sink);
  cap[bypass] = total;
  lower[bypass] = 0;
  cost[bypass] = 0;
  lemon::NetworkSimplex<Graph, int64_t, int64_t> solver(g);
  solver.upperMap(cap).lowerMap(lower).costMap(cost).stSupply(source, sink, total);
  std::vector<Meeting> chosen;
  *bound = 0;
  auto status = solver.run();
  if (status == lemon::NetworkSimplex<Graph, int64_t, int64_t>::INFEASIBLE) {
    // The guaranteed minimums cannot all be met by the candidates: choose without them.
    for (Graph::ArcIt a(g); a != lemon::INVALID; ++a) lower[a] = 0;
    solver.reset();
    solver.upperMap(cap).lowerMap(lower).costMap(cost).stSupply(source, sink, total);
    status = solver.run();
  }
  if (status != lemon::NetworkSimplex<Graph, int64_t, int64_t>::OPTIMAL) return chosen;
  for (size_t k = 0; k < p.candidates.size(); ++k) {
    if (solver.flow(pair_arc[k]) > 0) {
      const Candidate& c = p.candidates[k];
      Meeting m;
      m.a = c.buyer;
      m.b = c.provider;
      m.value = c.value;
      m.origin = c.origin;
      chosen.push_back(m);
      *bound += c.value;
    }
  }
  return chosen;
}

namespace {

// Whether the meetings (their allowed slots) can fill the slots of `window` one each: a perfect
// matching of meetings to slots (augmenting paths; a participant has at most 64 meetings).
bool FillsWindow(const std::vector<SlotMask>& allowed, SlotMask window) {
  std::vector<int> holder(kMaxSlots, -1);  // slot -> meeting
  std::function<bool(size_t, SlotMask*)> place = [&](size_t m, SlotMask* tried) {
    for (SlotMask free = allowed[m] & window & ~*tried; free; free &= free - 1) {
      int s = __builtin_ctzll(free);
      *tried |= SlotMask{1} << s;
      if (holder[s] < 0 || place(static_cast<size_t>(holder[s]), tried)) {
        holder[s] = static_cast<int>(m);
        return true;
      }
    }
    return false;
  };
  for (size_t m = 0; m < allowed.size(); ++m) {
    SlotMask tried = 0;
    if (!place(m, &tried)) return false;
  }
  return true;
}

}  // namespace

std::vector<int> IdleGapsLowerBounds(const Problem& p, const std::vector<Meeting>& meetings) {
  std::vector<std::vector<SlotMask>> allowed(p.participants.size());
  for (const Meeting& m : meetings) {
    SlotMask a = AllowedSlots(p, m);
    allowed[m.a].push_back(a);
    allowed[m.b].push_back(a);
  }
  std::vector<int> bound(p.participants.size(), 0);
  for (size_t i = 0; i < p.participants.size(); ++i) {
    const int count = static_cast<int>(allowed[i].size());
    if (count < 2 || count > p.slots) continue;
    // Runs of slots the participant can attend, longest first; its meetings need the fewest runs
    // whose lengths add up to their number, and every run after the first means a gap.
    SlotMask free = FirstSlots(p.slots) & ~p.participants[i].forbidden;
    std::vector<int> runs;
    int len = 0;
    for (int s = 0; s <= p.slots; ++s) {
      if (s < p.slots && (free >> s & 1)) {
        ++len;
      } else if (len > 0) {
        runs.push_back(len);
        len = 0;
      }
    }
    std::sort(runs.rbegin(), runs.rend());
    int covered = 0, used = 0;
    for (int r : runs) {
      if (covered >= count) break;
      covered += r;
      ++used;
    }
    if (used > 1) {
      bound[i] = used - 1;
      continue;
    }
    // No gap means `count` consecutive slots that its meetings can fill, each where it may take
    // place (sessions, fixed slots, the other side's absences): if no such window exists, one gap.
    SlotMask reachable = 0;
    for (SlotMask a : allowed[i]) reachable |= a;
    bool window_exists = false;
    for (int w = 0; w + count <= p.slots && !window_exists; ++w) {
      SlotMask window = (count == kMaxSlots ? ~SlotMask{0} : (SlotMask{1} << count) - 1) << w;
      if ((reachable & window) == window) window_exists = FillsWindow(allowed[i], window);
    }
    if (!window_exists) bound[i] = 1;
  }
  return bound;
}

int IdleGapsLowerBound(const Problem& p, const std::vector<Meeting>& meetings) {
  std::vector<int> bounds = IdleGapsLowerBounds(p, meetings);
  return std::accumulate(bounds.begin(), bounds.end(), 0);
}

namespace {

// The first placement: fixed meetings, then the most constrained first (fewest allowed slots,
// then busiest participants), each where it adds least to the energy.
void PlaceGreedily(const Problem& p, const std::vector<Meeting>& ms, State* st) {
  const int n = static_cast<int>(ms.size());
  std::vector<int> order(n);
  for (int m = 0; m < n; ++m) order[m] = m;
  std::vector<int> degree(p.participants.size(), 0);
  for (const Meeting& m : ms) ++degree[m.a], ++degree[m.b];
  std::stable_sort(order.begin(), order.end(), [&](int x, int y) {
    bool fx = ms[x].fixed_slot >= 0, fy = ms[y].fixed_slot >= 0;
    if (fx != fy) return fx;
    int ax = __builtin_popcountll(st->allowed(x)), ay = __builtin_popcountll(st->allowed(y));
    if (ax != ay) return ax < ay;
    return degree[ms[x].a] + degree[ms[x].b] > degree[ms[y].a] + degree[ms[y].b];
  });
  for (int m : order) {
    int best = -1;
    double best_delta = 0;
    for (SlotMask mask = st->allowed(m); mask; mask &= mask - 1) {
      int s = __builtin_ctzll(mask);
      if (!st->Fits(m, s)) continue;
      double d = st->PlaceDelta(m, s);
      if (best < 0 || d < best_delta) best = s, best_delta = d;
    }
    if (best >= 0) st->Place(m, best);
  }
}

// Tables for the placed meetings of `st`, slot by slot: a buyer who keeps a table meets there;
// otherwise a meeting stays at the table one of its participants had in its previous meeting
// when it is free, else takes the first free one. Fills out->placed (by slot, then table) and
// out->value.
void AssignTables(const Problem& p, const std::vector<Meeting>& ms, const State& st, Schedule* out) {
  std::vector<int> buyer_table(p.participants.size(), -1);
  if (p.buyer_keeps_table) {
    int t = 0;
    for (size_t i = 0; i < p.participants.size(); ++i) {
      if (p.participants[i].role == Role::kBuyer) buyer_table[i] = t++;
    }
  }
  std::vector<int> last_table(p.participants.size(), -1);
  for (int s = 0; s < p.slots; ++s) {
    std::vector<int> here = st.members(s);
    std::sort(here.begin(), here.end());
    std::vector<bool> used(p.tables, false);
    std::vector<std::pair<int, int>> assigned;
    std::vector<int> waiting;
    for (int m : here) {
      int t = -1;
      if (p.buyer_keeps_table) {
        t = buyer_table[ms[m].a] >= 0 ? buyer_table[ms[m].a] : buyer_table[ms[m].b];
      } else {
        for (int q : {ms[m].a, ms[m].b}) {  // stay at the table of the previous meeting
          if (t < 0 && last_table[q] >= 0 && !used[last_table[q]]) t = last_table[q];
        }
      }
      if (t >= 0) {
        used[t] = true;
        assigned.emplace_back(m, t);
      } else {
        waiting.push_back(m);
      }
    }
    int next = 0;
    for (int m : waiting) {
      while (used[next]) ++next;
      used[next] = true;
      assigned.emplace_back(m, next);
    }
    std::sort(assigned.begin(), assigned.end());
    for (const auto& [m, t] : assigned) {
      out->placed.push_back({m, s, t});
      out->value += ms[m].value;
      last_table[ms[m].a] = last_table[ms[m].b] = t;
    }
  }
  std::sort(out->placed.begin(), out->placed.end(), [](const Placed& x, const Placed& y) {
    return x.slot != y.slot ? x.slot < y.slot : x.table < y.table;
  });
}

}  // namespace

absl::StatusOr<Schedule> Solve(const Problem& p, const SolveOptions& options) {
  if (absl::Status s = CheckProblem(p); !s.ok()) return s;
  auto report = [&](const std::string& phase, double fraction, int placed, int unplaced, int gaps) {
    if (options.progress) options.progress({phase, fraction, placed, unplaced, gaps});
  };
  auto stop = [&] {
    return (options.cancel != nullptr && options.cancel->load()) || absl::Now() >= options.deadline;
  };
  Schedule out;
  if (!p.meetings.empty()) {
    out.meetings = p.meetings;
    for (const Meeting& m : out.meetings) out.value_bound += m.value;
  } else {
    report("choosing pairs", 0, 0, 0, 0);
    out.meetings = ChoosePairs(p, &out.value_bound);
  }
  const std::vector<Meeting>& ms = out.meetings;
  const int n = static_cast<int>(ms.size());
  State st(p, ms);

  // Re-planning: where each pair met before.
  if (!options.previous.empty()) {
    std::multimap<std::pair<std::string, std::string>, int> before;
    for (const PreviousMeeting& pm : options.previous) before.emplace(std::minmax(pm.a, pm.b), pm.slot);
    for (int m = 0; m < n; ++m) {
      auto it = before.find(std::minmax(p.participants[ms[m].a].id, p.participants[ms[m].b].id));
      if (it != before.end()) {
        st.set_prev(m, it->second);
        before.erase(it);
      }
    }
  }

  report("placing", 0, 0, n, 0);
  PlaceGreedily(p, ms, &st);

  // Local search: annealing from the construction, ending early at the lower bound.
  int lower_bound = IdleGapsLowerBound(p, ms);
  int proven_gaps = 0;  // fewest gaps of the placed meetings proven by the SAT model (exact when optimal)
  int64_t budget = options.iterations > 0 ? options.iterations : std::clamp<int64_t>(15000LL * n, 400000, 12000000);
  // When the exact step follows, it closes the last gaps far faster than the annealing's last
  // moves do: a quarter of the moves, the rest only if meetings are still left unplaced then.
  const bool polish = options.gap_conflicts > 0 && options.previous.empty();
  int64_t first_budget = budget;
  if (polish && options.iterations == 0) {
    std::vector<int> all(n);
    std::iota(all.begin(), all.end(), 0);
    if (GapModelFits(p, ms, all)) first_budget = budget / 4;
  }
  Rng rng(options.seed);
  Annealer search(p, ms, st, rng, stop);
  int64_t planned = first_budget;  // the moves the progress reports count towards
  auto tick = [&] {
    report("improving", static_cast<double>(search.moves()) / planned, n - search.best_unplaced(),
           search.best_unplaced(), search.best_gaps());
  };
  search.Run(first_budget, 0.6, 0.05, lower_bound, tick);
  if (first_budget < budget && search.best_unplaced() > 0 && !search.stopped()) {
    planned = budget;
    search.Run(budget - first_budget, 0.6, 0.05, lower_bound, tick);
  }
  std::vector<int> best_slots = search.best_slots();
  if (search.stopped()) out.stopped_early = true;

  // On request, the last gaps closed exactly where the model is small enough (not when
  // re-planning: it knows nothing of moves). It may also prove that no timetable of these
  // meetings has fewer.
  if (polish && !out.stopped_early &&
      search.best_gaps() > lower_bound) {
    std::vector<Meeting> placed;
    for (int m = 0; m < n; ++m) {
      if (best_slots[m] >= 0) placed.push_back(ms[m]);
    }
    std::vector<int> placed_bounds = IdleGapsLowerBounds(p, placed);
    const int placed_count = static_cast<int>(placed.size()), from = search.best_gaps();
    const int to = std::accumulate(placed_bounds.begin(), placed_bounds.end(), 0);
    report("closing gaps", 0, placed_count, n - placed_count, from);
    auto closer = [&](int gaps) {
      double fraction = static_cast<double>(from - gaps) / std::max(1, from - to);
      report("closing gaps", fraction, placed_count, n - placed_count, gaps);
    };
    PolishOutcome polished = PolishGaps(p, ms, placed_bounds, options.gap_conflicts, stop, &best_slots, closer);
    if (polished.stopped) out.stopped_early = true;
    proven_gaps = polished.optimal ? polished.gaps : polished.lower_bound;
  }

  // The best state found, with tables.
  State final_state(p, ms);
  for (int m = 0; m < n; ++m) final_state.set_prev(m, st.prev(m));
  for (int m = 0; m < n; ++m) {
    if (best_slots[m] >= 0) final_state.Place(m, best_slots[m]);
  }
  AssignTables(p, ms, final_state, &out);
  for (int m = 0; m < n; ++m) {
    if (final_state.slot(m) < 0) out.unplaced.push_back({m, Why(p, final_state, ms[m], m)});
  }
  out.idle_gaps = final_state.gaps();
  out.idle_gaps_lower_bound = std::min(std::max(lower_bound, proven_gaps), out.idle_gaps);
  out.moved = final_state.moved();
  report("done", 1, static_cast<int>(out.placed.size()), static_cast<int>(out.unplaced.size()), out.idle_gaps);
  return out;
}

}  // namespace atable::schedule
