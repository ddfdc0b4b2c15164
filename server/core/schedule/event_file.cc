#include "server/core/schedule/event_file.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "nlohmann/json.hpp"

namespace atable::schedule {
namespace {

using nlohmann::json;

absl::Status Invalid(const std::string& field, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", what));
}

// Reads an optional member of the expected type; false (with `*error`) when of another type.
template <typename T>
bool Get(const json& object, const char* key, const std::string& path, T* out, absl::Status* error) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return true;
  try {
    *out = it->get<T>();
    return true;
  } catch (const json::exception&) {
    *error = Invalid(path.empty() ? key : absl::StrCat(path, ".", key), "has the wrong type");
    return false;
  }
}

bool ParseClock(const std::string& text, int* minutes) {
  int h, m;
  if (text.size() != 5 || text[2] != ':' || !absl::SimpleAtoi(text.substr(0, 2), &h) ||
      !absl::SimpleAtoi(text.substr(3, 2), &m) || h > 23 || m > 59) {
    return false;
  }
  *minutes = h * 60 + m;
  return true;
}

}  // namespace

#define ATABLE_GET(obj, key, path, out) \
  if (!Get(obj, key, path, out, &error)) return error

absl::StatusOr<Event> ParseEvent(absl::string_view text) {
  json root;
  try {
    root = json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    return absl::InvalidArgumentError(absl::StrCat("event file: not valid JSON at byte ", e.byte));
  } catch (const json::exception& e) {  // a number too large for any type, say
    return absl::InvalidArgumentError(absl::StrCat("event file: not valid JSON: ", e.what()));
  }
  if (!root.is_object()) return absl::InvalidArgumentError("event file: must be a JSON object");
  absl::Status error;
  Event ev;
  ATABLE_GET(root, "id", "", &ev.id);
  ATABLE_GET(root, "name", "", &ev.name);
  ATABLE_GET(root, "date", "", &ev.date);
  ATABLE_GET(root, "timezone", "", &ev.timezone);
  if (ev.id.empty()) return Invalid("id", "is required");
  Problem& p = ev.problem;
  json slots = root.value("slots", json::object());
  if (!slots.is_object()) return Invalid("slots", "must be an object");
  std::string start = "09:00";
  ATABLE_GET(slots, "start", "slots", &start);
  if (!ParseClock(start, &ev.start_minutes)) return Invalid("slots.start", "must be HH:MM");
  ATABLE_GET(slots, "minutes", "slots", &ev.slot_minutes);
  if (ev.slot_minutes < 1 || ev.slot_minutes > 240) return Invalid("slots.minutes", "must be in 1-240");
  ATABLE_GET(slots, "count", "slots", &p.slots);
  if (p.slots < 1 || p.slots > kMaxSlots) return Invalid("slots.count", absl::StrCat("must be in 1-", kMaxSlots));
  p.morning_slots = p.slots;
  ATABLE_GET(slots, "morning_count", "slots", &p.morning_slots);
  if (p.morning_slots < 0 || p.morning_slots > p.slots) return Invalid("slots.morning_count", "must be in 0-count");
  if (slots.contains("breaks")) {
    if (!slots["breaks"].is_array()) return Invalid("slots.breaks", "must be a list");
    for (size_t i = 0; i < slots["breaks"].size(); ++i) {
      const json& b = slots["breaks"][i];
      std::string path = absl::StrCat("slots.breaks[", i, "]");
      if (!b.is_object()) return Invalid(path, "must be an object");
      int after = 0, minutes = 0;
      ATABLE_GET(b, "after_slot", path, &after);
      ATABLE_GET(b, "minutes", path, &minutes);
      if (after < 1 || after >= p.slots) return Invalid(path + ".after_slot", absl::StrCat("must be in 1-", p.slots - 1));
      if (minutes < 1 || minutes > 600) return Invalid(path + ".minutes", "must be in 1-600");
      ev.breaks.emplace_back(after, minutes);
    }
  }
  ATABLE_GET(root, "tables", "", &p.tables);
  if (p.tables < 1 || p.tables > 10000) return Invalid("tables", "must be in 1-10000");
  ATABLE_GET(root, "buyer_keeps_table", "", &p.buyer_keeps_table);

  std::map<std::string, int> index;
  json participants = root.value("participants", json::array());
  if (!participants.is_array()) return Invalid("participants", "must be a list");
  for (size_t i = 0; i < participants.size(); ++i) {
    const json& j = participants[i];
    std::string path = absl::StrCat("participants[", i, "]");
    if (!j.is_object()) return Invalid(path, "must be an object");
    Participant q;
    ATABLE_GET(j, "id", path, &q.id);
    ATABLE_GET(j, "name", path, &q.name);
    if (q.id.empty()) return Invalid(path + ".id", "is required");
    if (!index.emplace(q.id, static_cast<int>(i)).second) return Invalid(path + ".id", absl::StrCat("\"", q.id, "\" is listed twice"));
    std::string role = "participant";
    ATABLE_GET(j, "role", path, &role);
    if (role == "provider") q.role = Role::kProvider;
    else if (role == "buyer") q.role = Role::kBuyer;
    else if (role == "participant") q.role = Role::kParticipant;
    else return Invalid(path + ".role", "must be provider, buyer or participant");
    std::vector<int> forbidden;
    ATABLE_GET(j, "forbidden_slots", path, &forbidden);
    for (size_t k = 0; k < forbidden.size(); ++k) {
      if (forbidden[k] < 1 || forbidden[k] > p.slots) {
        return Invalid(absl::StrCat(path, ".forbidden_slots[", k, "]"), absl::StrCat("slot ", forbidden[k], " is not in 1-", p.slots));
      }
      q.forbidden |= SlotMask{1} << (forbidden[k] - 1);
    }
    // Arrival and departure: absent before the first or after the last slot given.
    int arrival = 0, departure = 0;
    ATABLE_GET(j, "arrival_slot", path, &arrival);
    ATABLE_GET(j, "departure_slot", path, &departure);
    for (int s = 1; s < arrival && s <= p.slots; ++s) q.forbidden |= SlotMask{1} << (s - 1);
    if (departure > 0) for (int s = departure + 1; s <= p.slots; ++s) q.forbidden |= SlotMask{1} << (s - 1);
    ATABLE_GET(j, "max_meetings", path, &q.max_meetings);
    ATABLE_GET(j, "min_meetings", path, &q.min_meetings);
    if (q.max_meetings < 0) return Invalid(path + ".max_meetings", "must not be negative");
    if (q.min_meetings < 0) return Invalid(path + ".min_meetings", "must not be negative");
    p.participants.push_back(std::move(q));
  }
  auto find = [&](const json& j, const char* key, const std::string& path, int* out) -> absl::Status {
    std::string id;
    absl::Status e;
    if (!Get(j, key, path, &id, &e)) return e;
    auto it = index.find(id);
    if (it == index.end()) return Invalid(absl::StrCat(path, ".", key), absl::StrCat("\"", id, "\" is not a participant"));
    *out = it->second;
    return absl::OkStatus();
  };
  json meetings = root.value("meetings", json::array());
  if (!meetings.is_array()) return Invalid("meetings", "must be a list");
  for (size_t i = 0; i < meetings.size(); ++i) {
    const json& j = meetings[i];
    std::string path = absl::StrCat("meetings[", i, "]");
    if (!j.is_object()) return Invalid(path, "must be an object");
    Meeting m;
    if (absl::Status s = find(j, "a", path, &m.a); !s.ok()) return s;
    if (absl::Status s = find(j, "b", path, &m.b); !s.ok()) return s;
    if (m.a == m.b) return Invalid(path + ".b", "is the same participant as a");
    std::string session = "any";
    ATABLE_GET(j, "session", path, &session);
    if (session == "morning") m.session = Session::kMorning;
    else if (session == "afternoon") m.session = Session::kAfternoon;
    else if (session != "any") return Invalid(path + ".session", "must be morning, afternoon or any");
    int fixed = 0;
    ATABLE_GET(j, "fixed_slot", path, &fixed);
    if (fixed < 0 || fixed > p.slots) return Invalid(path + ".fixed_slot", absl::StrCat("must be in 1-", p.slots, " (0: free)"));
    m.fixed_slot = fixed - 1;
    m.value = 1;
    m.origin = fixed > 0 ? "given, locked" : "given";
    p.meetings.push_back(m);
  }
  for (const char* list : {"requests", "refusals"}) {
    json items = root.value(list, json::array());
    if (!items.is_array()) return Invalid(list, "must be a list");
    for (size_t i = 0; i < items.size(); ++i) {
      const json& j = items[i];
      std::string path = absl::StrCat(list, "[", i, "]");
      if (!j.is_object()) return Invalid(path, "must be an object");
      int from = 0, to = 0;
      if (absl::Status s = find(j, "from", path, &from); !s.ok()) return s;
      if (absl::Status s = find(j, "to", path, &to); !s.ok()) return s;
      if (std::string(list) == "requests") {
        std::string priority = "want";
        ATABLE_GET(j, "priority", path, &priority);
        if (priority != "must" && priority != "want") return Invalid(path + ".priority", "must be must or want");
        ev.requests.push_back({p.participants[from].id, p.participants[to].id, priority == "must"});
      } else {
        ev.refusals.emplace_back(p.participants[from].id, p.participants[to].id);
      }
    }
  }
  return ev;
}

absl::StatusOr<std::vector<Candidate>> RequestCandidates(const Event& ev) {
  const Problem& p = ev.problem;
  std::map<std::string, int> index;
  for (size_t i = 0; i < p.participants.size(); ++i) index[p.participants[i].id] = static_cast<int>(i);
  std::set<std::pair<int, int>> refused;
  for (const auto& [from, to] : ev.refusals) {
    int a = index.at(from), b = index.at(to);
    refused.emplace(std::min(a, b), std::max(a, b));
  }
  std::map<std::pair<int, int>, std::pair<int, bool>> asked;  // (buyer, provider) -> (who asked bits, must)
  for (size_t i = 0; i < ev.requests.size(); ++i) {
    const EventRequest& r = ev.requests[i];
    int from = index.at(r.from), to = index.at(r.to);
    Role rf = p.participants[from].role, rt = p.participants[to].role;
    if (!((rf == Role::kBuyer && rt == Role::kProvider) || (rf == Role::kProvider && rt == Role::kBuyer))) {
      return Invalid(absl::StrCat("requests[", i, "]"), "without a list of meetings, requests must pair a buyer and a provider");
    }
    int buyer = rf == Role::kBuyer ? from : to, provider = rf == Role::kBuyer ? to : from;
    auto& entry = asked[{buyer, provider}];
    entry.first |= rf == Role::kBuyer ? 1 : 2;
    entry.second = entry.second || r.must;
  }
  std::vector<Candidate> out;
  for (const auto& [pair, entry] : asked) {
    if (refused.count({std::min(pair.first, pair.second), std::max(pair.first, pair.second)})) continue;
    Candidate c;
    c.buyer = pair.first;
    c.provider = pair.second;
    // Tourism fairs' order: mutual requests, then the provider's, then the buyer's; "must" first.
    c.value = (entry.first == 3 ? 300 : entry.first == 2 ? 200 : 100) + (entry.second ? 1000 : 0);
    c.origin = absl::StrCat(entry.second ? "must, " : "", entry.first == 3 ? "mutual request" : entry.first == 2 ? "provider's request" : "buyer's request");
    out.push_back(c);
  }
  return out;
}

absl::StatusOr<Event> EventFromProto(const v1::Event& event) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string text;
  if (!google::protobuf::util::MessageToJsonString(event, &text, options).ok()) {
    return absl::InvalidArgumentError("event: cannot be read");
  }
  return ParseEvent(text);
}

v1::EventSchedule ScheduleProto(const Event& ev, const Schedule& s) {
  const Problem& p = ev.problem;
  v1::EventSchedule out;
  out.set_event_id(ev.id);
  for (const Placed& pl : s.placed) {
    const Meeting& m = s.meetings[pl.meeting];
    v1::ScheduledMeeting* x = out.add_meetings();
    x->set_a(p.participants[m.a].id);
    x->set_b(p.participants[m.b].id);
    x->set_slot(pl.slot + 1);
    x->set_table(pl.table + 1);
    x->set_start(SlotStart(ev, pl.slot));
    x->set_origin(m.origin);
  }
  for (const Unplaced& u : s.unplaced) {
    const Meeting& m = s.meetings[u.meeting];
    v1::UnplacedMeeting* x = out.add_unplaced();
    x->set_a(p.participants[m.a].id);
    x->set_b(p.participants[m.b].id);
    x->set_reason(u.reason);
  }
  out.set_idle_gaps(s.idle_gaps);
  out.set_idle_gaps_lower_bound(s.idle_gaps_lower_bound);
  out.set_value(s.value);
  out.set_value_bound(s.value_bound);
  out.set_value_gap(s.value_bound > 0 ? (s.value_bound - s.value) / s.value_bound : 0.0);
  out.set_moved(s.moved);
  out.set_stopped_early(s.stopped_early);
  return out;
}

absl::StatusOr<v1::Agenda> AgendaOf(const Event& ev, const v1::EventSchedule& schedule,
                                    const std::string& participant_id) {
  const Problem& p = ev.problem;
  v1::Agenda agenda;
  agenda.set_event_id(ev.id);
  for (int s = 0; s < p.slots; ++s) agenda.add_slot_starts(SlotStart(ev, s));
  std::map<std::string, std::string> names;
  for (const Participant& q : p.participants) names[q.id] = q.name.empty() ? q.id : q.name;
  if (!participant_id.empty()) {
    if (!names.count(participant_id)) {
      return absl::NotFoundError(absl::StrCat("participant ", participant_id, " is not in event ", ev.id));
    }
    agenda.set_participant_id(participant_id);
    for (const v1::ScheduledMeeting& m : schedule.meetings()) {
      if (m.a() != participant_id && m.b() != participant_id) continue;
      const std::string& other = m.a() == participant_id ? m.b() : m.a();
      v1::AgendaItem* item = agenda.add_items();
      item->set_slot(m.slot());
      item->set_start(m.start());
      // A slot ends when the next would start without a break.
      int end = ev.start_minutes + m.slot() * ev.slot_minutes;
      for (const auto& [after, length] : ev.breaks) if (after < m.slot()) end += length;
      item->set_end(absl::StrFormat("%02d:%02d", end / 60 % 24, end % 60));
      item->set_table(m.table());
      item->set_with_id(other);
      item->set_with_name(names[other]);
      item->set_origin(m.origin());
    }
    std::sort(agenda.mutable_items()->begin(), agenda.mutable_items()->end(),
              [](const v1::AgendaItem& x, const v1::AgendaItem& y) { return x.slot() < y.slot(); });
    return agenda;
  }
  for (int t = 0; t < p.tables; ++t) {
    v1::AgendaRow* row = agenda.add_rows();
    row->set_table(t + 1);
    for (int s = 0; s < p.slots; ++s) row->add_cells();
  }
  for (const v1::ScheduledMeeting& m : schedule.meetings()) {
    if (m.table() < 1 || m.table() > p.tables || m.slot() < 1 || m.slot() > p.slots) continue;
    *agenda.mutable_rows(m.table() - 1)->mutable_cells(m.slot() - 1) = absl::StrCat(m.a(), " / ", m.b());
  }
  return agenda;
}

std::string SlotStart(const Event& ev, int slot) {
  int minutes = ev.start_minutes + slot * ev.slot_minutes;
  for (const auto& [after, length] : ev.breaks) {
    if (after <= slot) minutes += length;  // `after` counts from 1: slots after it start later
  }
  return absl::StrFormat("%02d:%02d", minutes / 60 % 24, minutes % 60);
}

std::string ScheduleJson(const Event& ev, const Schedule& s) {
  using json = nlohmann::ordered_json;  // fields in the documented order
  const Problem& p = ev.problem;
  json out;
  out["event"] = ev.id;
  json meetings = json::array();
  for (const Placed& pl : s.placed) {
    const Meeting& m = s.meetings[pl.meeting];
    meetings.push_back({{"a", p.participants[m.a].id}, {"b", p.participants[m.b].id}, {"slot", pl.slot + 1},
                        {"table", pl.table + 1}, {"start", SlotStart(ev, pl.slot)}, {"origin", m.origin}});
  }
  out["meetings"] = meetings;
  json unplaced = json::array();
  for (const Unplaced& u : s.unplaced) {
    const Meeting& m = s.meetings[u.meeting];
    unplaced.push_back({{"a", p.participants[m.a].id}, {"b", p.participants[m.b].id}, {"reason", u.reason}});
  }
  out["unplaced"] = unplaced;
  out["idle_gaps"] = s.idle_gaps;
  out["idle_gaps_lower_bound"] = s.idle_gaps_lower_bound;
  out["value"] = s.value;
  out["value_bound"] = s.value_bound;
  out["value_gap"] = s.value_bound > 0 ? (s.value_bound - s.value) / s.value_bound : 0.0;
  out["moved"] = s.moved;
  out["stopped_early"] = s.stopped_early;
  return out.dump(2) + "\n";
}

}  // namespace atable::schedule
