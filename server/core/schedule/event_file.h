// The organizers' event file (JSON, documented in docs/event-format.md): the day's slots, tables,
// participants, meetings, requests and refusals; and the schedule file the solver writes.
#ifndef ATABLE_SERVER_CORE_SCHEDULE_EVENT_FILE_H_
#define ATABLE_SERVER_CORE_SCHEDULE_EVENT_FILE_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "atable/v1/matchmaking.pb.h"
#include "server/core/schedule/problem.h"

namespace atable::schedule {

struct EventRequest {
  std::string from, to;
  bool must = false;
};

struct Event {
  std::string id, name, date, timezone = "Europe/Paris";
  int start_minutes = 9 * 60;  // first slot's start, minutes after midnight
  int slot_minutes = 15;
  std::vector<std::pair<int, int>> breaks;  // (after slot, from 1; minutes)
  Problem problem;                          // participants, slots, tables, given meetings
  std::vector<EventRequest> requests;
  std::vector<std::pair<std::string, std::string>> refusals;
};

// Parses an event file. INVALID_ARGUMENT names the offending field ("participants[3].forbidden_slots[0]:
// slot 30 is beyond the 22 slots") or the JSON syntax error.
absl::StatusOr<Event> ParseEvent(absl::string_view json);

// The event of a gRPC request, checked like an event file (same field paths in the errors).
absl::StatusOr<Event> EventFromProto(const v1::Event& event);

// The schedule as the API returns it.
v1::EventSchedule ScheduleProto(const Event& event, const Schedule& schedule);

// A participant's day (`participant_id` set) or the whole event as a grid of tables x slots.
// NOT_FOUND if the participant is not in the event.
absl::StatusOr<v1::Agenda> AgendaOf(const Event& event, const v1::EventSchedule& schedule,
                                    const std::string& participant_id);

// The candidates of an event without a list of meetings: its requests between a buyer and a
// provider, valued mutual > provider's > buyer's, "must" above all, refusals left out.
// INVALID_ARGUMENT for a request naming an unknown participant or not pairing a buyer and a provider.
absl::StatusOr<std::vector<Candidate>> RequestCandidates(const Event& event);

// "HH:MM" start of slot `slot` (from 0), counting the breaks before it.
std::string SlotStart(const Event& event, int slot);

// The schedule file: {"event", "meetings": [{"a", "b", "slot", "table", "start", "origin"}],
// "unplaced": [{"a", "b", "reason"}], "idle_gaps", "idle_gaps_lower_bound", "value",
// "value_bound", "value_gap", "moved"}; slots and tables numbered from 1.
std::string ScheduleJson(const Event& event, const Schedule& schedule);

}  // namespace atable::schedule

#endif  // ATABLE_SERVER_CORE_SCHEDULE_EVENT_FILE_H_
