// The meeting schedule of a B2B event day, as the solver sees it: participants, slots, tables,
// meetings to place or pairs to choose from, and the schedule it returns. Plain C++.
#ifndef ATABLE_SERVER_CORE_SCHEDULE_PROBLEM_H_
#define ATABLE_SERVER_CORE_SCHEDULE_PROBLEM_H_

#include <cstdint>
#include <string>
#include <vector>


namespace atable::schedule {

// Slots are numbered from 0 here (the event file numbers them from 1); at most kMaxSlots.
inline constexpr int kMaxSlots = 64;
using SlotMask = uint64_t;  // bit s: slot s

enum class Role { kParticipant, kProvider, kBuyer };
enum class Session { kAny, kMorning, kAfternoon };

struct Participant {
  std::string id;
  std::string name;
  Role role = Role::kParticipant;
  SlotMask forbidden = 0;  // slots it cannot attend (absent, arrival, departure)
  int max_meetings = 0;    // 0: no cap but its free slots
  int min_meetings = 0;    // meetings it is guaranteed if at all possible
};

// A meeting to place (given by the organizer, or chosen among the candidates).
struct Meeting {
  int a = -1, b = -1;            // participant indexes
  Session session = Session::kAny;
  int fixed_slot = -1;           // -1: free; otherwise the slot it is locked to
  double value = 0;              // what the meeting is worth (score, request priority)
  std::string origin;            // "given", "mutual request", "suggested"... for the reasons
};

// A pair that could meet, for the solver to choose from.
struct Candidate {
  int buyer = -1, provider = -1;
  double value = 0;  // higher is better; requests carry large values
  std::string origin;
};

struct Problem {
  int slots = 0;
  int morning_slots = 0;   // slots [0, morning_slots) are the morning session
  int tables = 0;
  bool buyer_keeps_table = false;
  std::vector<Participant> participants;
  std::vector<Meeting> meetings;      // placed as given (all of them, if possible)
  std::vector<Candidate> candidates;  // chosen from when `meetings` is empty
};

// The result: placed meetings, the ones that could not be placed and why, and how good it is.
struct Placed {
  int meeting = -1;  // index into Schedule::meetings
  int slot = -1;
  int table = -1;    // from 0
};
struct Unplaced {
  int meeting = -1;
  std::string reason;
};
struct Schedule {
  std::vector<Meeting> meetings;  // the meetings chosen (given, or chosen from candidates)
  std::vector<Placed> placed;
  std::vector<Unplaced> unplaced;
  double value = 0;               // total value of the placed meetings
  double value_bound = 0;         // no timetable can place more value (the b-matching optimum)
  int idle_gaps = 0;
  int idle_gaps_lower_bound = 0;  // no timetable of these meetings has fewer gaps
  int moved = 0;                  // re-planning: meetings placed elsewhere than before
  bool stopped_early = false;     // the deadline or a cancellation stopped the search
};

// Mask of the slots where meeting `m` may take place for both its participants (forbidden slots,
// session, fixed slot).
SlotMask AllowedSlots(const Problem& problem, const Meeting& m);

// Idle gaps of one participant whose busy slots are `busy`: runs of free slots between two of
// its meetings.
inline int GapsOf(SlotMask busy) {
  if (busy == 0) return 0;
  return __builtin_popcountll(busy & ~(busy << 1)) - 1;  // busy runs - 1
}

}  // namespace atable::schedule

#endif  // ATABLE_SERVER_CORE_SCHEDULE_PROBLEM_H_
