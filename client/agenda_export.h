// Agendas of an event day written as files people use: HTML pages (one per participant and an
// overview grid, printable on A4, readable on a phone, no external resources), iCalendar files
// (one calendar per participant, RFC 5545, made with libical) and CSV (one row per meeting).
#ifndef ATABLE_CLIENT_AGENDA_EXPORT_H_
#define ATABLE_CLIENT_AGENDA_EXPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "atable/v1/matchmaking.pb.h"

namespace atable::cli {

// Everything the exports read: the event, its grid, and each participant's day in event order.
struct AgendaBook {
  v1::Event event;
  v1::Agenda grid;                  // GetAgenda without a participant
  std::vector<v1::Agenda> days;     // GetAgenda of each participant, same order as event.participants
};

// A file name for a participant's files: the id with characters other than letters, digits, '.',
// '_' and '-' replaced by '_'.
std::string FileStemOf(const std::string& participant_id);

// Each writes its files into `dir` (created if missing) and returns their paths, or the error
// that stopped it (a folder that cannot be written, an event without a date for ICS...).
// html: index.html (the grid and the list of participants) and <stem>.html per participant;
// ics: <stem>.ics per participant; csv: meetings.csv.
absl::StatusOr<std::vector<std::string>> ExportHtml(const AgendaBook& book, const std::string& dir);
absl::StatusOr<std::vector<std::string>> ExportIcs(const AgendaBook& book, const std::string& dir);
absl::StatusOr<std::vector<std::string>> ExportCsv(const AgendaBook& book, const std::string& dir);

}  // namespace atable::cli

#endif  // ATABLE_CLIENT_AGENDA_EXPORT_H_
