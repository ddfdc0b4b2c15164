#include "client/agenda_export.h"

#include <libical/ical.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace atable::cli {
namespace {

std::string Html(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string CsvField(absl::string_view text) {
  if (text.find_first_of(",\"\r\n") == absl::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  return out + "\"";
}

absl::Status WriteFile(const std::string& path, const std::string& text, std::vector<std::string>* written) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return absl::UnavailableError(absl::StrCat("cannot write ", path));
  written->push_back(path);
  return absl::OkStatus();
}

absl::Status MakeDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot create ", dir, ": ", ec.message()));
  return absl::OkStatus();
}

// "HH:MM" -> minutes since midnight, -1 if it is not one.
int Minutes(const std::string& hhmm) {
  std::vector<std::string> parts = absl::StrSplit(hhmm, ':');
  int h, m;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &h) || !absl::SimpleAtoi(parts[1], &m)) return -1;
  return h * 60 + m;
}

std::string Clock(int minutes) { return absl::StrFormat("%02d:%02d", minutes / 60 % 24, minutes % 60); }

struct Ymd {
  int year = 0, month = 0, day = 0;
};

bool ParseDate(const std::string& text, Ymd* d) {
  std::vector<std::string> parts = absl::StrSplit(text, '-');
  return parts.size() == 3 && absl::SimpleAtoi(parts[0], &d->year) && absl::SimpleAtoi(parts[1], &d->month) &&
         absl::SimpleAtoi(parts[2], &d->day) && d->month >= 1 && d->month <= 12 && d->day >= 1 && d->day <= 31;
}

// "Thursday 12 March 2026" (the day of the week by Zeller's congruence).
std::string LongDate(const std::string& iso) {
  Ymd d;
  if (!ParseDate(iso, &d)) return iso;
  static const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                                  "July",    "August",   "September", "October", "November", "December"};
  static const char* kDays[] = {"Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday"};
  int m = d.month < 3 ? d.month + 12 : d.month, y = d.month < 3 ? d.year - 1 : d.year;
  int h = (d.day + 13 * (m + 1) / 5 + y % 100 + y % 100 / 4 + y / 100 / 4 + 5 * (y / 100)) % 7;
  return absl::StrCat(kDays[h], " ", d.day, " ", kMonths[d.month - 1], " ", d.year);
}

// Facts shared by the three exports.
class Day {
 public:
  explicit Day(const AgendaBook& book) : book_(book) {
    std::set<std::string> used;
    for (const v1::EventParticipant& p : book.event.participants()) {
      names_[p.id()] = p.name().empty() ? p.id() : p.name();
      roles_[p.id()] = p.role();
      std::string stem = FileStemOf(p.id());
      for (int n = 2; !used.insert(stem).second; ++n) stem = absl::StrCat(FileStemOf(p.id()), "-", n);
      stems_[p.id()] = stem;
    }
    for (const v1::EventBreak& b : book.event.slots().breaks()) breaks_[b.after_slot()] += b.minutes();
    // Participants named only in the catalog: the server's agendas carry their names.
    for (const v1::Agenda& agenda : book.days) {
      for (const v1::AgendaItem& item : agenda.items()) {
        std::string& name = names_[item.with_id()];
        if ((name.empty() || name == item.with_id()) && !item.with_name().empty()) name = item.with_name();
      }
    }
  }
  const std::string& Name(const std::string& id) const {
    auto it = names_.find(id);
    return it == names_.end() ? id : it->second;
  }
  std::string Role(const std::string& id) const {
    auto it = roles_.find(id);
    return it == roles_.end() ? "" : it->second;
  }
  const std::string& Stem(const std::string& id) const { return stems_.at(id); }
  int Slots() const { return book_.grid.slot_starts_size(); }
  std::string Start(int slot) const { return book_.grid.slot_starts(slot - 1); }
  std::string End(int slot) const { return Clock(Minutes(Start(slot)) + book_.event.slots().minutes()); }
  int BreakAfter(int slot) const {
    auto it = breaks_.find(slot);
    return it == breaks_.end() ? 0 : it->second;
  }
  std::string Title() const {
    return book_.event.name().empty() ? book_.event.id() : book_.event.name();
  }
  std::string Timezone() const {
    return book_.event.timezone().empty() ? "Europe/Paris" : book_.event.timezone();
  }

 private:
  const AgendaBook& book_;
  std::map<std::string, std::string> names_, roles_, stems_;
  std::map<int, int> breaks_;
};

// One stylesheet for every page: readable on a phone, A4 on paper, no external resource.
constexpr char kStyle[] = R"css(
:root { --ink: #1d2733; --muted: #5b6776; --line: #d5dbe3; --accent: #0b6e4f; --soft: #eef6f2; }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 60rem; padding: 1rem; color: var(--ink);
       font: 15px/1.45 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; }
header { border-bottom: 3px solid var(--accent); margin-bottom: 1rem; }
.event { color: var(--muted); margin: 0; }
h1 { margin: .2rem 0 .3rem; font-size: 1.6rem; }
.summary { color: var(--muted); margin: 0 0 .6rem; }
table { border-collapse: collapse; width: 100%; }
th, td { border-bottom: 1px solid var(--line); padding: .45rem .5rem; text-align: left; vertical-align: top; }
th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.time { white-space: nowrap; font-variant-numeric: tabular-nums; font-weight: bold; }
.table-no { white-space: nowrap; }
.who { font-weight: bold; }
.id, .why { color: var(--muted); font-size: .85rem; }
tr.free td { color: #9aa4b1; font-style: italic; }
tr.unavailable td { color: #9aa4b1; background: repeating-linear-gradient(135deg, #f6f7f9 0 6px, #fff 6px 12px); }
tr.break td { background: var(--soft); color: var(--accent); text-align: center; font-size: .85rem; }
a { color: var(--accent); }
footer { margin-top: 1.2rem; color: var(--muted); font-size: .8rem; }
.scroll { overflow-x: auto; }
body.wide { max-width: none; }
.grid { font-size: .72rem; table-layout: fixed; width: max-content; }
.grid th, .grid td { border: 1px solid var(--line); padding: .15rem .25rem; text-align: left; width: 7.5rem;
                     max-width: 7.5rem; overflow: hidden; }
.grid td.meeting { background: var(--soft); }
.grid td.meeting a { display: block; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
                     text-decoration: none; color: var(--ink); }
.grid td.meeting a + a { color: var(--muted); }
.grid td.idle { background: repeating-linear-gradient(135deg, #eceef2 0 4px, #fff 4px 8px); }
.grid th.break, .grid td.break { background: var(--accent); width: .5rem; min-width: .5rem; padding: 0; }
.grid th.table-head { width: 3rem; text-align: center; position: sticky; left: 0; background: #fff; }
ul.people { columns: 3 14rem; padding-left: 1.2rem; }
@media (max-width: 40rem) {
  body { padding: .6rem; font-size: 14px; }
  table.day thead { display: none; }
  table.day tr { display: grid; grid-template-columns: auto 1fr; gap: 0 .6rem; border-bottom: 1px solid var(--line);
                 padding: .35rem 0; }
  table.day td { border: 0; padding: 0; }
  table.day td.what, table.day td.why-cell { grid-column: 2; }
}
@media print {
  @page { size: A4 portrait; margin: 12mm; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  a { color: inherit; text-decoration: none; }
  tr { break-inside: avoid; }
  footer { display: none; }
}
)css";

constexpr char kGridPrint[] = R"css(
@media print {
  @page { size: A4 landscape; margin: 8mm; }
  .grid { width: 100%; font-size: 5pt; }
  .grid th, .grid td { width: auto; max-width: none; padding: .3mm .5mm; }
  .grid th.table-head { width: 7mm; }
  .grid th.break, .grid td.break { width: 1.2mm; }
  .scroll { overflow: visible; }
  ul.people { display: none; }
}
)css";

std::string Page(const std::string& title, const std::string& extra_style, const std::string& body,
                 const char* body_class = "") {
  return absl::StrCat("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n",
                      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>", Html(title),
                      "</title>\n<style>", kStyle, extra_style, "</style>\n</head>\n<body class=\"", body_class, "\">\n", body,
                      "</body>\n</html>\n");
}

std::string ParticipantPage(const AgendaBook& book, const Day& day, const v1::EventParticipant& p,
                            const v1::Agenda& agenda) {
  std::map<int, const v1::AgendaItem*> by_slot;
  std::set<int> tables;
  for (const v1::AgendaItem& item : agenda.items()) {
    by_slot[item.slot()] = &item;
    tables.insert(item.table());
  }
  std::set<int> forbidden(p.forbidden_slots().begin(), p.forbidden_slots().end());
  auto unavailable = [&](int slot) {
    return forbidden.count(slot) || (p.arrival_slot() > 0 && slot < p.arrival_slot()) ||
           (p.departure_slot() > 0 && slot > p.departure_slot());
  };
  std::string summary = absl::StrCat(agenda.items_size(), agenda.items_size() == 1 ? " meeting" : " meetings");
  if (!agenda.items().empty()) {
    absl::StrAppend(&summary, ", ", agenda.items(0).start(), " to ", agenda.items(agenda.items_size() - 1).end());
    std::vector<std::string> t;
    for (int n : tables) t.push_back(std::to_string(n));
    absl::StrAppend(&summary, tables.size() == 1 ? ", at table " : ", at tables ", absl::StrJoin(t, ", "));
  }
  std::string name = day.Name(p.id());
  std::string body = absl::StrCat(
      "<header>\n<p class=\"event\">", Html(day.Title()), " &middot; ", Html(LongDate(book.event.date())),
      " &middot; times in ", Html(day.Timezone()), "</p>\n<h1>", Html(name), "</h1>\n<p class=\"summary\">",
      p.role().empty() ? "" : absl::StrCat(Html(p.role()), " &middot; "), Html(summary), "</p>\n</header>\n");
  absl::StrAppend(&body, "<table class=\"day\">\n<thead><tr><th>Time</th><th>Table</th><th>Meeting with</th>"
                         "<th>Why</th></tr></thead>\n<tbody>\n");
  // Slots before the first meeting and after the last are left out: the day starts and ends with them.
  int first = agenda.items().empty() ? 1 : agenda.items(0).slot();
  int last = agenda.items().empty() ? 0 : agenda.items(agenda.items_size() - 1).slot();
  for (int s = first; s <= last; ++s) {
    auto it = by_slot.find(s);
    if (it != by_slot.end()) {
      const v1::AgendaItem& item = *it->second;
      std::string role = day.Role(item.with_id());
      absl::StrAppend(&body, "<tr><td class=\"time\">", item.start(), "&ndash;", item.end(),
                      "</td><td class=\"table-no\">Table ", item.table(), "</td><td class=\"what\"><span class=\"who\">",
                      Html(item.with_name()), "</span><br><span class=\"id\">", Html(item.with_id()),
                      role.empty() ? "" : absl::StrCat(" &middot; ", Html(role)), "</span></td><td class=\"why-cell\">",
                      "<span class=\"why\">", Html(item.origin()), "</span></td></tr>\n");
    } else if (unavailable(s)) {
      absl::StrAppend(&body, "<tr class=\"unavailable\"><td class=\"time\">", day.Start(s), "&ndash;", day.End(s),
                      "</td><td></td><td class=\"what\">not available</td><td></td></tr>\n");
    } else {
      absl::StrAppend(&body, "<tr class=\"free\"><td class=\"time\">", day.Start(s), "&ndash;", day.End(s),
                      "</td><td></td><td class=\"what\">free</td><td></td></tr>\n");
    }
    if (s < last && day.BreakAfter(s) > 0) {
      absl::StrAppend(&body, "<tr class=\"break\"><td colspan=\"4\">Break, ", day.End(s), "&ndash;",
                      day.Start(s + 1), "</td></tr>\n");
    }
  }
  if (agenda.items().empty()) {
    absl::StrAppend(&body, "<tr class=\"free\"><td colspan=\"4\">No meeting is scheduled.</td></tr>\n");
  }
  absl::StrAppend(&body, "</tbody>\n</table>\n<footer><a href=\"index.html\">All participants and the grid of the day</a>"
                         "</footer>\n");
  return Page(absl::StrCat(name, " - ", day.Title()), "", body);
}

std::string OverviewPage(const AgendaBook& book, const Day& day) {
  const v1::Agenda& grid = book.grid;
  int meetings = 0, idle = 0;
  for (const v1::AgendaRow& row : grid.rows()) {
    for (const std::string& cell : row.cells()) (cell.empty() ? idle : meetings)++;
  }
  std::string body = absl::StrCat(
      "<header>\n<p class=\"event\">", Html(LongDate(book.event.date())), " &middot; times in ", Html(day.Timezone()),
      "</p>\n<h1>", Html(day.Title()), "</h1>\n<p class=\"summary\">", meetings, " meetings at ", grid.rows_size(),
      " tables over ", day.Slots(), " slots &middot; ", idle, " idle table-slots (hatched)</p>\n</header>\n");
  absl::StrAppend(&body, "<div class=\"scroll\">\n<table class=\"grid\">\n<thead><tr><th class=\"table-head\">Table</th>");
  for (int s = 1; s <= day.Slots(); ++s) {
    absl::StrAppend(&body, "<th>", day.Start(s), "</th>");
    if (s < day.Slots() && day.BreakAfter(s) > 0) absl::StrAppend(&body, "<th class=\"break\" title=\"break\"></th>");
  }
  absl::StrAppend(&body, "</tr></thead>\n<tbody>\n");
  for (const v1::AgendaRow& row : grid.rows()) {
    absl::StrAppend(&body, "<tr><th class=\"table-head\">", row.table(), "</th>");
    for (int s = 1; s <= row.cells_size(); ++s) {
      const std::string& cell = row.cells(s - 1);
      if (cell.empty()) {
        absl::StrAppend(&body, "<td class=\"idle\"></td>");
      } else {
        std::vector<std::string> ids = absl::StrSplit(cell, " / ");
        absl::StrAppend(&body, "<td class=\"meeting\">");
        for (const std::string& id : ids) {
          absl::StrAppend(&body, "<a href=\"", Html(day.Stem(id)), ".html\" title=\"", Html(day.Name(id)), "\">",
                          Html(day.Name(id)), "</a>");
        }
        absl::StrAppend(&body, "</td>");
      }
      if (s < row.cells_size() && day.BreakAfter(s) > 0) absl::StrAppend(&body, "<td class=\"break\"></td>");
    }
    absl::StrAppend(&body, "</tr>\n");
  }
  absl::StrAppend(&body, "</tbody>\n</table>\n</div>\n<h2>Participants</h2>\n<ul class=\"people\">\n");
  for (int i = 0; i < book.event.participants_size(); ++i) {
    const v1::EventParticipant& p = book.event.participants(i);
    int count = i < static_cast<int>(book.days.size()) ? book.days[i].items_size() : 0;
    absl::StrAppend(&body, "<li><a href=\"", Html(day.Stem(p.id())), ".html\">", Html(day.Name(p.id())), "</a> ",
                    "<span class=\"id\">", count, count == 1 ? " meeting" : " meetings", "</span></li>\n");
  }
  absl::StrAppend(&body, "</ul>\n");
  return Page(day.Title(), kGridPrint, body, "wide");
}

}  // namespace

std::string FileStemOf(const std::string& participant_id) {
  std::string stem;
  for (char c : participant_id) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
                c == '-';
    stem.push_back(keep ? c : '_');
  }
  if (stem.empty() || stem[0] == '.') stem = absl::StrCat("p", stem);
  return stem;
}

absl::StatusOr<std::vector<std::string>> ExportHtml(const AgendaBook& book, const std::string& dir) {
  if (absl::Status s = MakeDir(dir); !s.ok()) return s;
  Day day(book);
  std::vector<std::string> written;
  if (absl::Status s = WriteFile(dir + "/index.html", OverviewPage(book, day), &written); !s.ok()) return s;
  for (size_t i = 0; i < book.days.size() && i < static_cast<size_t>(book.event.participants_size()); ++i) {
    const v1::EventParticipant& p = book.event.participants(static_cast<int>(i));
    absl::Status s = WriteFile(absl::StrCat(dir, "/", day.Stem(p.id()), ".html"),
                               ParticipantPage(book, day, p, book.days[i]), &written);
    if (!s.ok()) return s;
  }
  return written;
}

absl::StatusOr<std::vector<std::string>> ExportCsv(const AgendaBook& book, const std::string& dir) {
  if (absl::Status s = MakeDir(dir); !s.ok()) return s;
  Day day(book);
  std::string text = "event,date,slot,start,end,table,a_id,a_name,a_role,b_id,b_name,b_role,why\r\n";
  // Each meeting is in both participants' days: it is written from the first of the two.
  std::set<std::pair<int, std::string>> seen;  // (slot, other) already written from the other side
  for (size_t i = 0; i < book.days.size() && i < static_cast<size_t>(book.event.participants_size()); ++i) {
    const std::string& id = book.event.participants(static_cast<int>(i)).id();
    for (const v1::AgendaItem& item : book.days[i].items()) {
      if (seen.count({item.slot(), id})) continue;
      seen.insert({item.slot(), item.with_id()});
      std::vector<std::string> fields = {book.event.id(), book.event.date(), std::to_string(item.slot()), item.start(),
                                         item.end(), std::to_string(item.table()), id, day.Name(id), day.Role(id),
                                         item.with_id(), item.with_name(), day.Role(item.with_id()), item.origin()};
      for (std::string& f : fields) f = CsvField(f);
      absl::StrAppend(&text, absl::StrJoin(fields, ","), "\r\n");
    }
  }
  std::vector<std::string> written;
  if (absl::Status s = WriteFile(dir + "/meetings.csv", text, &written); !s.ok()) return s;
  return written;
}

absl::StatusOr<std::vector<std::string>> ExportIcs(const AgendaBook& book, const std::string& dir) {
  Ymd date;
  if (!ParseDate(book.event.date(), &date)) {
    return absl::FailedPreconditionError(
        absl::StrCat("event ", book.event.id(), " has no date (YYYY-MM-DD): calendars need one"));
  }
  Day day(book);
  icaltimezone* zone = icaltimezone_get_builtin_timezone(day.Timezone().c_str());
  if (zone == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat("unknown time zone ", day.Timezone()));
  }
  if (absl::Status s = MakeDir(dir); !s.ok()) return s;
  // The zone's rules from the year before the event on, under the TZID calendar applications
  // write ("Europe/Paris", not libical's own prefixed name).
  std::string tzid = day.Timezone();
  icalcomponent* vtimezone = icalcomponent_new_clone(icaltimezone_get_component(zone));
  icaltimetype since = icaltime_null_time();
  since.year = date.year - 1;
  since.month = 1;
  since.day = 1;
  since = icaltime_set_timezone(&since, icaltimezone_get_utc_timezone());
  icaltimezone_truncate_vtimezone(vtimezone, since, icaltime_null_time(), 0);
  if (icalproperty* id = icalcomponent_get_first_property(vtimezone, ICAL_TZID_PROPERTY)) {
    icalproperty_set_tzid(id, tzid.c_str());
  }
  icaltimetype now = icaltime_current_time_with_zone(icaltimezone_get_utc_timezone());
  auto local = [&](const std::string& hhmm) {
    icaltimetype t = icaltime_null_time();
    int minutes = Minutes(hhmm);
    t.year = date.year;
    t.month = date.month;
    t.day = date.day;
    t.hour = minutes / 60;
    t.minute = minutes % 60;
    return t;
  };
  auto with_tzid = [&tzid](icalproperty* p) {
    icalproperty_add_parameter(p, icalparameter_new_tzid(tzid.c_str()));
    return p;
  };
  std::vector<std::string> written;
  for (size_t i = 0; i < book.days.size() && i < static_cast<size_t>(book.event.participants_size()); ++i) {
    const v1::EventParticipant& p = book.event.participants(static_cast<int>(i));
    icalcomponent* cal = icalcomponent_new(ICAL_VCALENDAR_COMPONENT);
    icalcomponent_add_property(cal, icalproperty_new_version("2.0"));
    icalcomponent_add_property(cal, icalproperty_new_prodid("-//atable//event agenda//EN"));
    icalcomponent_add_property(cal, icalproperty_new_calscale("GREGORIAN"));
    icalcomponent_add_property(cal, icalproperty_new_method(ICAL_METHOD_PUBLISH));
    icalproperty* name = icalproperty_new_x(absl::StrCat(day.Title(), " - ", day.Name(p.id())).c_str());
    icalproperty_set_x_name(name, "X-WR-CALNAME");
    icalcomponent_add_property(cal, name);
    icalcomponent_add_component(cal, icalcomponent_new_clone(vtimezone));
    for (const v1::AgendaItem& item : book.days[i].items()) {
      // The same meeting has the same UID in both participants' calendars, and again on a re-export.
      std::string a = std::min(p.id(), item.with_id()), b = std::max(p.id(), item.with_id());
      icalcomponent* ev = icalcomponent_new(ICAL_VEVENT_COMPONENT);
      icalcomponent_add_property(
          ev, icalproperty_new_uid(absl::StrCat(book.event.id(), "/", item.slot(), "/", a, "/", b, "@atable").c_str()));
      icalcomponent_add_property(ev, icalproperty_new_dtstamp(now));
      icalcomponent_add_property(ev, with_tzid(icalproperty_new_dtstart(local(item.start()))));
      icalcomponent_add_property(ev, with_tzid(icalproperty_new_dtend(local(item.end()))));
      icalcomponent_add_property(ev, icalproperty_new_summary(absl::StrCat("Meeting: ", item.with_name()).c_str()));
      icalcomponent_add_property(ev, icalproperty_new_location(absl::StrCat("Table ", item.table()).c_str()));
      icalcomponent_add_property(
          ev, icalproperty_new_description(absl::StrCat(day.Title(), "\nWith: ", item.with_name(), " (",
                                                        item.with_id(), ")\nWhy: ", item.origin()).c_str()));
      icalcomponent_add_property(ev, icalproperty_new_transp(ICAL_TRANSP_OPAQUE));
      icalcomponent_add_component(cal, ev);
    }
    char* text = icalcomponent_as_ical_string_r(cal);
    absl::Status s = WriteFile(absl::StrCat(dir, "/", day.Stem(p.id()), ".ics"), text, &written);
    std::free(text);
    icalcomponent_free(cal);
    if (!s.ok()) {
      icalcomponent_free(vtimezone);
      return s;
    }
  }
  icalcomponent_free(vtimezone);
  return written;
}

}  // namespace atable::cli
