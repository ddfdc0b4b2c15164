// The event-day solver: hard constraints checked by a validator of the test's own, optimality
// against an exact MIP solved by CBC on small random instances, infeasibility, re-planning,
// determinism and cancellation.
#include <atomic>
#include <map>
#include <random>
#include <set>

#include "CbcModel.hpp"
#include "CoinModel.hpp"
#include "OsiClpSolverInterface.hpp"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "server/core/schedule/solver.h"
#include "tests/test_util.h"

namespace atable::schedule {
namespace {

// Every hard constraint, written without the solver's code. Returns "" or the first violation.
std::string Violation(const Problem& p, const Schedule& s) {
  std::set<std::pair<int, int>> busy;  // (participant, slot)
  std::set<std::pair<int, int>> table_used;  // (slot, table)
  std::map<int, int> per_slot;
  std::set<int> seen;
  int buyer_table = 0;
  std::map<int, int> table_of_buyer;
  for (size_t i = 0; i < p.participants.size(); ++i) {
    if (p.participants[i].role == Role::kBuyer) table_of_buyer[static_cast<int>(i)] = buyer_table++;
  }
  for (const Placed& pl : s.placed) {
    if (!seen.insert(pl.meeting).second) return absl::StrCat("meeting ", pl.meeting, " placed twice");
    const Meeting& m = s.meetings[pl.meeting];
    if (pl.slot < 0 || pl.slot >= p.slots) return "slot out of range";
    if (pl.table < 0 || pl.table >= p.tables) return "table out of range";
    for (int q : {m.a, m.b}) {
      if (p.participants[q].forbidden >> pl.slot & 1) return absl::StrCat(p.participants[q].id, " forbidden at ", pl.slot);
      if (!busy.insert({q, pl.slot}).second) return absl::StrCat(p.participants[q].id, " twice at ", pl.slot);
    }
    if (m.session == Session::kMorning && pl.slot >= p.morning_slots) return "morning meeting in the afternoon";
    if (m.session == Session::kAfternoon && pl.slot < p.morning_slots) return "afternoon meeting in the morning";
    if (m.fixed_slot >= 0 && pl.slot != m.fixed_slot) return "fixed meeting moved";
    if (++per_slot[pl.slot] > p.tables) return "more meetings than tables";
    if (!table_used.insert({pl.slot, pl.table}).second) return "two meetings at one table";
    if (p.buyer_keeps_table) {
      int buyer = p.participants[m.a].role == Role::kBuyer ? m.a : m.b;
      if (table_of_buyer[buyer] != pl.table) return "buyer away from its table";
    }
  }
  if (seen.size() + s.unplaced.size() != s.meetings.size()) return "meetings neither placed nor unplaced";
  // Gaps, counted slot by slot.
  int gaps = 0;
  for (size_t q = 0; q < p.participants.size(); ++q) {
    int first = -1, last = -1;
    for (int t = 0; t < p.slots; ++t) {
      if (busy.count({static_cast<int>(q), t})) {
        if (first < 0) first = t;
        last = t;
      }
    }
    for (int t = first + 1; first >= 0 && t <= last; ++t) {
      if (!busy.count({static_cast<int>(q), t}) && busy.count({static_cast<int>(q), t - 1})) ++gaps;
    }
  }
  if (gaps != s.idle_gaps) return absl::StrCat("idle gaps reported ", s.idle_gaps, ", counted ", gaps);
  return "";
}

Problem Complete(int buyers, int providers, int slots, int tables) {
  Problem p;
  p.slots = slots;
  p.morning_slots = slots;
  p.tables = tables;
  for (int i = 0; i < buyers; ++i) p.participants.push_back({absl::StrCat("b", i), "", Role::kBuyer});
  for (int i = 0; i < providers; ++i) p.participants.push_back({absl::StrCat("p", i), "", Role::kProvider});
  for (int i = 0; i < buyers; ++i) {
    for (int j = 0; j < providers; ++j) {
      Meeting m;
      m.a = i;
      m.b = buyers + j;
      m.value = 1;
      p.meetings.push_back(m);
    }
  }
  return p;
}

TEST(ScheduleTest, CompleteBipartiteFitsInDeltaSlots) {
  // König: with everyone free all day, Δ slots suffice, and then no one waits.
  Problem p = Complete(4, 4, 4, 4);
  auto s = Solve(p);
  ASSERT_OK(s);
  EXPECT_EQ("", Violation(p, *s));
  EXPECT_EQ(16u, s->placed.size());
  EXPECT_EQ(0, s->idle_gaps);
  EXPECT_EQ(16, s->value);
}

TEST(ScheduleTest, ReportsWhatCannotBePlacedAndWhy) {
  Problem p = Complete(1, 2, 2, 1);
  p.participants[1].forbidden = 0b11;  // p0 never there
  auto s = Solve(p);
  ASSERT_OK(s);
  EXPECT_EQ("", Violation(p, *s));
  ASSERT_EQ(1u, s->unplaced.size());
  EXPECT_EQ("b0 and p0 are never free at the same time", s->unplaced[0].reason);

  Problem tables = Complete(3, 1, 2, 1);  // 3 buyers want p0: 2 slots only
  s = Solve(tables);
  ASSERT_OK(s);
  EXPECT_EQ("", Violation(tables, *s));
  ASSERT_EQ(1u, s->unplaced.size());
  EXPECT_EQ("p0 has meetings in every slot where b" + s->unplaced[0].reason.substr(s->unplaced[0].reason.find(" where b") + 8),
            s->unplaced[0].reason);
  EXPECT_EQ(2, s->value);
  EXPECT_EQ(3, s->value_bound);

  Problem bad = Complete(1, 1, 2, 1);
  bad.slots = 65;
  EXPECT_EQ(absl::StatusCode::kInvalidArgument, Solve(bad).status().code());
}

TEST(ScheduleTest, BuyersKeepTheirTable) {
  Problem p = Complete(3, 5, 6, 3);
  p.buyer_keeps_table = true;
  auto s = Solve(p);
  ASSERT_OK(s);
  EXPECT_EQ("", Violation(p, *s));
  EXPECT_EQ(15u, s->placed.size());
  p.tables = 2;
  EXPECT_EQ("tables: 3 buyers keep a table each but there are 2 tables", Solve(p).status().message());
}

TEST(ScheduleTest, SameSeedSameScheduleAndCancellationStaysValid) {
  Problem p = Complete(6, 8, 10, 5);
  std::mt19937 rng(3);
  for (auto& q : p.participants) q.forbidden = (rng() % 3 == 0) ? SlotMask{1} << (rng() % 10) : 0;
  SolveOptions options;
  options.seed = 42;
  auto a = Solve(p, options), b = Solve(p, options);
  ASSERT_OK(a);
  ASSERT_OK(b);
  ASSERT_EQ(a->placed.size(), b->placed.size());
  for (size_t i = 0; i < a->placed.size(); ++i) {
    EXPECT_EQ(a->placed[i].meeting, b->placed[i].meeting);
    EXPECT_EQ(a->placed[i].slot, b->placed[i].slot);
    EXPECT_EQ(a->placed[i].table, b->placed[i].table);
  }
  std::atomic<bool> cancel{true};
  options.cancel = &cancel;
  auto c = Solve(p, options);
  ASSERT_OK(c);
  EXPECT_TRUE(c->stopped_early);
  EXPECT_EQ("", Violation(p, *c));
  EXPECT_FALSE(c->placed.empty());
}

TEST(ScheduleTest, ReplanningKeepsLockedMeetingsAndMovesFew) {
  Problem p = Complete(5, 6, 8, 5);
  auto first = Solve(p);
  ASSERT_OK(first);
  ASSERT_EQ(30u, first->placed.size());
  // The day changes: p0 is gone, and the meetings of the first two slots are held (locked).
  Problem next = p;
  next.participants[5].forbidden = ~SlotMask{0};
  for (const Placed& pl : first->placed) {
    if (pl.slot < 2) next.meetings[pl.meeting].fixed_slot = pl.slot;
  }
  SolveOptions options;
  for (const Placed& pl : first->placed) {
    const Meeting& m = first->meetings[pl.meeting];
    options.previous.push_back({p.participants[m.a].id, p.participants[m.b].id, pl.slot});
  }
  auto second = Solve(next, options);
  ASSERT_OK(second);
  EXPECT_EQ("", Violation(next, *second));
  for (const Placed& pl : first->placed) {
    if (pl.slot < 2 && first->meetings[pl.meeting].a != 5 && first->meetings[pl.meeting].b != 5) {
      bool kept = false;
      for (const Placed& q : second->placed) kept = kept || (q.meeting == pl.meeting && q.slot == pl.slot);
      EXPECT_TRUE(kept) << "locked meeting " << pl.meeting << " moved";
    }
  }
  EXPECT_EQ(5u, second->unplaced.size());  // p0's meetings
  EXPECT_LE(second->moved, 3) << "moved " << second->moved;
}

TEST(ScheduleTest, ChoiceGivesTheGuaranteedMinimum) {
  // One provider, two buyers; b1's pair is worth less, but b1 is guaranteed a meeting.
  Problem p;
  p.slots = 1;
  p.morning_slots = 1;
  p.tables = 1;
  p.participants = {{"b0", "", Role::kBuyer}, {"b1", "", Role::kBuyer}, {"p0", "", Role::kProvider}};
  p.candidates = {{0, 2, 10, "big"}, {1, 2, 1, "small"}};
  double bound = 0;
  std::vector<Meeting> chosen = ChoosePairs(p, &bound);
  ASSERT_EQ(1u, chosen.size());
  EXPECT_EQ(0, chosen[0].a);
  p.participants[1].min_meetings = 1;
  chosen = ChoosePairs(p, &bound);
  ASSERT_EQ(1u, chosen.size());
  EXPECT_EQ(1, chosen[0].a);
  // Both guaranteed a meeting in one slot with one provider: impossible, so no minimum holds.
  p.participants[0].min_meetings = 1;
  chosen = ChoosePairs(p, &bound);
  ASSERT_EQ(1u, chosen.size());
  EXPECT_EQ(0, chosen[0].a);
}

// The exact optimum by CBC: the best pair choice value, and the fewest idle gaps placing them all.
struct Exact {
  double value = 0;
  int gaps = -1;  // -1: the chosen meetings cannot all be placed
};

double ExactPairValue(const Problem& p) {
  CoinModel model;
  int n = static_cast<int>(p.candidates.size());
  for (int k = 0; k < n; ++k) {
    model.setColumnBounds(k, 0, 1);
    model.setColumnObjective(k, -p.candidates[k].value);
    model.setColumnIsInteger(k, true);
  }
  int row = 0;
  for (size_t q = 0; q < p.participants.size(); ++q) {
    int free = 0;
    for (int s = 0; s < p.slots; ++s) free += !(p.participants[q].forbidden >> s & 1);
    int cap = p.participants[q].max_meetings > 0 ? std::min(p.participants[q].max_meetings, free) : free;
    bool any = false;
    for (int k = 0; k < n; ++k) {
      if (p.candidates[k].buyer == static_cast<int>(q) || p.candidates[k].provider == static_cast<int>(q)) {
        model.setElement(row, k, 1);
        any = true;
      }
    }
    if (any) model.setRowBounds(row++, -COIN_DBL_MAX, cap);
  }
  OsiClpSolverInterface solver;
  solver.loadFromCoinModel(model);
  solver.messageHandler()->setLogLevel(0);
  CbcModel cbc(solver);
  cbc.setLogLevel(0);
  cbc.branchAndBound();
  return -cbc.getObjValue();
}

int ExactGaps(const Problem& p, const std::vector<Meeting>& ms) {
  CoinModel model;
  int S = p.slots, P = static_cast<int>(p.participants.size());
  std::map<std::pair<int, int>, int> x;  // (meeting, slot) -> column
  int col = 0;
  for (size_t m = 0; m < ms.size(); ++m) {
    SlotMask allowed = AllowedSlots(p, ms[m]);
    for (int s = 0; s < S; ++s) {
      if (!(allowed >> s & 1)) continue;
      x[{static_cast<int>(m), s}] = col;
      model.setColumnBounds(col, 0, 1);
      model.setColumnIsInteger(col, true);
      ++col;
    }
  }
  // start[q][s] >= busy[q][s] - busy[q][s-1]; minimise the starts (busy runs).
  std::vector<std::vector<int>> start(P, std::vector<int>(S));
  for (int q = 0; q < P; ++q) {
    for (int s = 0; s < S; ++s) {
      start[q][s] = col;
      model.setColumnBounds(col, 0, 1);
      model.setColumnObjective(col, 1);
      ++col;
    }
  }
  int row = 0;
  for (size_t m = 0; m < ms.size(); ++m) {  // each meeting once
    bool any = false;
    for (int s = 0; s < S; ++s) {
      auto it = x.find({static_cast<int>(m), s});
      if (it != x.end()) model.setElement(row, it->second, 1), any = true;
    }
    if (!any) return -1;
    model.setRowBounds(row++, 1, 1);
  }
  for (int s = 0; s < S; ++s) {  // tables
    for (size_t m = 0; m < ms.size(); ++m) {
      auto it = x.find({static_cast<int>(m), s});
      if (it != x.end()) model.setElement(row, it->second, 1);
    }
    model.setRowBounds(row++, -COIN_DBL_MAX, p.tables);
  }
  for (int q = 0; q < P; ++q) {
    for (int s = 0; s < S; ++s) {
      // busy(q,s) <= 1
      for (size_t m = 0; m < ms.size(); ++m) {
        if (ms[m].a != q && ms[m].b != q) continue;
        auto it = x.find({static_cast<int>(m), s});
        if (it != x.end()) model.setElement(row, it->second, 1);
      }
      model.setRowBounds(row++, -COIN_DBL_MAX, 1);
      // busy(q,s) - busy(q,s-1) - start(q,s) <= 0
      for (size_t m = 0; m < ms.size(); ++m) {
        if (ms[m].a != q && ms[m].b != q) continue;
        auto now = x.find({static_cast<int>(m), s});
        if (now != x.end()) model.setElement(row, now->second, 1);
        auto before = x.find({static_cast<int>(m), s - 1});
        if (s > 0 && before != x.end()) model.setElement(row, before->second, -1);
      }
      model.setElement(row, start[q][s], -1);
      model.setRowBounds(row++, -COIN_DBL_MAX, 0);
    }
  }
  OsiClpSolverInterface solver;
  solver.loadFromCoinModel(model);
  solver.messageHandler()->setLogLevel(0);
  CbcModel cbc(solver);
  cbc.setLogLevel(0);
  cbc.branchAndBound();
  if (!cbc.isProvenOptimal()) return -1;
  std::set<int> with_meetings;
  for (const Meeting& m : ms) with_meetings.insert(m.a), with_meetings.insert(m.b);
  return static_cast<int>(std::lround(cbc.getObjValue())) - static_cast<int>(with_meetings.size());
}

TEST(ScheduleTest, MatchesTheExactOptimumOnSmallRandomInstances) {
  std::mt19937 rng(2026);
  int compared_gaps = 0;
  for (int instance = 0; instance < 30; ++instance) {
    Problem p;
    int buyers = 2 + static_cast<int>(rng() % 3), providers = 3 + static_cast<int>(rng() % 3);
    p.slots = 4 + static_cast<int>(rng() % 3);
    p.morning_slots = p.slots;
    p.tables = 2 + static_cast<int>(rng() % 3);
    for (int i = 0; i < buyers + providers; ++i) {
      Participant q;
      q.id = absl::StrCat(i < buyers ? "b" : "p", i);
      q.role = i < buyers ? Role::kBuyer : Role::kProvider;
      for (int s = 0; s < p.slots; ++s) {
        if (rng() % 6 == 0) q.forbidden |= SlotMask{1} << s;
      }
      if (rng() % 3 == 0) q.max_meetings = 1 + static_cast<int>(rng() % 3);
      p.participants.push_back(q);
    }
    for (int b = 0; b < buyers; ++b) {
      for (int v = buyers; v < buyers + providers; ++v) {
        if (rng() % 10 < 7) p.candidates.push_back({b, v, 1.0 + static_cast<double>(rng() % 10), "suggested"});
      }
    }
    SolveOptions options;
    options.seed = instance;
    auto s = Solve(p, options);
    ASSERT_OK(s);
    EXPECT_EQ("", Violation(p, *s)) << "instance " << instance;
    EXPECT_NEAR(ExactPairValue(p), s->value_bound, 1e-6) << "instance " << instance;
    int exact = ExactGaps(p, s->meetings);
    if (exact >= 0) {
      ++compared_gaps;
      EXPECT_TRUE(s->unplaced.empty()) << "instance " << instance << ": the MIP places them all";
      EXPECT_EQ(exact, s->idle_gaps) << "instance " << instance;
      EXPECT_LE(IdleGapsLowerBound(p, s->meetings), exact) << "instance " << instance;
    }
  }
  EXPECT_GE(compared_gaps, 20);
}

// A small random day: a morning of 3 slots; each participant away for one random slot with
// probability 1/`away_one_in`; a meeting for each pair but one in `skip_one_in`, in a random session.
Problem RandomDay(std::mt19937& rng, int people, int slots, int tables, unsigned away_one_in, unsigned skip_one_in) {
  Problem p;
  p.slots = slots;
  p.morning_slots = 3;
  p.tables = tables;
  for (int i = 0; i < people; ++i) {
    Participant x;
    x.id = absl::StrCat("x", i);
    if (rng() % away_one_in == 0) x.forbidden = SlotMask{1} << (rng() % static_cast<unsigned>(slots));
    p.participants.push_back(x);
  }
  for (int a = 0; a < people; ++a) {
    for (int b = a + 1; b < people; ++b) {
      if (rng() % skip_one_in == 0) continue;
      Meeting m;
      m.a = a, m.b = b;
      m.session = static_cast<Session>(rng() % 3);
      p.meetings.push_back(m);
    }
  }
  return p;
}

// A participant whose meetings cannot sit in consecutive slots (sessions, fixed slots, the other
// sides' absences) has at least one gap: the bound counts it, and never exceeds the optimum.
TEST(ScheduleTest, GapBoundCountsMeetingsThatCannotBeConsecutive) {
  Problem p;
  p.slots = 6;
  p.morning_slots = 3;
  p.tables = 3;
  for (const char* id : {"a", "b", "c", "d"}) p.participants.push_back({id, id, Role::kParticipant});
  p.participants[2].forbidden = SlotMask{1} << 3;  // c is away at the first afternoon slot
  for (auto [other, session] : {std::pair{1, Session::kMorning}, std::pair{2, Session::kAfternoon}}) {
    Meeting m;
    m.a = 0, m.b = other, m.session = session;
    p.meetings.push_back(m);
  }
  // a: one morning, one afternoon meeting; with c away at slot 3, only slots 2 and 3 were
  // consecutive across the sessions.
  EXPECT_EQ(1, IdleGapsLowerBound(p, p.meetings));
  p.participants[2].forbidden = 0;
  EXPECT_EQ(0, IdleGapsLowerBound(p, p.meetings));
  p.meetings[0].fixed_slot = 0;
  EXPECT_EQ(1, IdleGapsLowerBound(p, p.meetings));  // slot 0, then the afternoon
  EXPECT_EQ((std::vector<int>{1, 0, 0, 0}), IdleGapsLowerBounds(p, p.meetings));  // a's, not b's or c's
  auto s = Solve(p);
  ASSERT_OK(s);
  EXPECT_EQ(1, s->idle_gaps);
  EXPECT_EQ(1, s->idle_gaps_lower_bound);

  // Random small days with sessions and absences: the bound is at most the exact optimum (CBC),
  // and the window count is what makes it positive in many of them.
  std::mt19937 rng(7);
  int compared = 0, positive = 0;
  for (int instance = 0; instance < 60; ++instance) {
    Problem q = RandomDay(rng, /*people=*/5, /*slots=*/5 + static_cast<int>(rng() % 3), /*tables=*/3,
                          /*away_one_in=*/2, /*skip_one_in=*/3);
    int exact = ExactGaps(q, q.meetings);
    if (exact < 0) continue;  // not every meeting fits
    ++compared;
    int bound = IdleGapsLowerBound(q, q.meetings);
    EXPECT_LE(bound, exact) << "instance " << instance;
    positive += bound > 0;
  }
  EXPECT_GE(compared, 20);
  EXPECT_GE(positive, 5);
}

// Three people meeting each other at one table in three slots: each alone could meet without a
// wait, yet one of them always waits. The per-participant bounds say 0; closing gaps proves 1.
TEST(ScheduleTest, ClosingGapsProvesMoreThanThePerParticipantBounds) {
  Problem p;
  p.slots = 3;
  p.morning_slots = 3;
  p.tables = 1;
  for (const char* id : {"a", "b", "c"}) p.participants.push_back({id, id, Role::kParticipant});
  for (auto [a, b] : {std::pair{0, 1}, std::pair{0, 2}, std::pair{1, 2}}) {
    Meeting m;
    m.a = a, m.b = b;
    p.meetings.push_back(m);
  }
  EXPECT_EQ((std::vector<int>{0, 0, 0}), IdleGapsLowerBounds(p, p.meetings));
  auto plain = Solve(p);
  ASSERT_OK(plain);
  EXPECT_EQ(1, plain->idle_gaps);
  EXPECT_EQ(0, plain->idle_gaps_lower_bound);
  SolveOptions options;
  options.gap_conflicts = SolveOptions::kCloseGapsConflicts;
  auto closed = Solve(p, options);
  ASSERT_OK(closed);
  EXPECT_EQ("", Violation(p, *closed));
  EXPECT_EQ(1, closed->idle_gaps);
  EXPECT_EQ(1, closed->idle_gaps_lower_bound);
}

// Closing gaps exactly from a poor start (a short search): every hard rule holds, the gaps equal
// the exact optimum (CBC), the SAT model proves it, and the same seed gives the same schedule.
TEST(ScheduleTest, ClosingGapsReachesAndProvesTheOptimum) {
  std::mt19937 rng(11);
  int compared = 0, improved = 0;
  for (int instance = 0; instance < 30; ++instance) {
    Problem p = RandomDay(rng, /*people=*/7, /*slots=*/6 + static_cast<int>(rng() % 3),
                          /*tables=*/2 + static_cast<int>(rng() % 2), /*away_one_in=*/3, /*skip_one_in=*/2);
    int exact = ExactGaps(p, p.meetings);
    if (exact < 0) continue;
    SolveOptions options;
    options.seed = static_cast<uint64_t>(instance);
    options.iterations = 50;  // a poor timetable for the SAT model to mend
    auto rough = Solve(p, options);
    ASSERT_OK(rough);
    options.gap_conflicts = SolveOptions::kCloseGapsConflicts;
    std::vector<Progress> closing;  // the step's reports, one per better timetable found
    options.progress = [&](const Progress& report) {
      if (report.phase == "closing gaps") closing.push_back(report);
    };
    auto s = Solve(p, options);
    options.progress = nullptr;
    ASSERT_OK(s);
    if (!rough->unplaced.empty() || !s->unplaced.empty()) continue;
    ++compared;
    improved += s->idle_gaps < rough->idle_gaps;
    if (s->idle_gaps < rough->idle_gaps) {
      ASSERT_GE(closing.size(), 2u) << "instance " << instance;  // the start, then each improvement
      EXPECT_EQ(rough->idle_gaps, closing.front().idle_gaps) << "instance " << instance;
      EXPECT_EQ(s->idle_gaps, closing.back().idle_gaps) << "instance " << instance;
      EXPECT_GT(closing.back().fraction, 0) << "instance " << instance;
      EXPECT_LE(closing.back().fraction, 1) << "instance " << instance;
      if (s->idle_gaps == IdleGapsLowerBound(p, p.meetings)) {  // down to the bound: the whole way
        EXPECT_DOUBLE_EQ(1.0, closing.back().fraction) << "instance " << instance;
      }
    }
    EXPECT_EQ("", Violation(p, *s)) << "instance " << instance;
    EXPECT_EQ(exact, s->idle_gaps) << "instance " << instance;
    EXPECT_EQ(exact, s->idle_gaps_lower_bound) << "instance " << instance;
    auto again = Solve(p, options);
    ASSERT_OK(again);
    ASSERT_EQ(s->placed.size(), again->placed.size());
    for (size_t k = 0; k < s->placed.size(); ++k) {
      EXPECT_EQ(s->placed[k].slot, again->placed[k].slot) << "instance " << instance;
      EXPECT_EQ(s->placed[k].table, again->placed[k].table) << "instance " << instance;
    }
  }
  EXPECT_GE(compared, 15);
  EXPECT_GE(improved, 5);  // the short search left gaps that only the exact step closed
}

}  // namespace
}  // namespace atable::schedule
