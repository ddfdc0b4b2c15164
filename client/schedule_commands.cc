#include "client/schedule_commands.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "atable/v1/matchmaking.grpc.pb.h"
#include "client/agenda_export.h"
#include "client/format.h"
#include "server/core/schedule/event_file.h"
#include "server/core/schedule/solver.h"

namespace atable::cli {
namespace {

struct Args {
  std::string file, out, event, participant, format = "html";
  uint64_t seed = 1;
  int64_t iterations = 0;
  double seconds = 60;
  bool replan = false, suggestions = false, close_gaps = false;
  int held_slots = 0;
  std::vector<std::string> absent;
};

constexpr const char* kCloseGapsHelp =
    "Then re-solve the timetable exactly for fewer idle gaps, proving the fewest where it can "
    "(seconds more for a few hundred meetings)";

std::string Summary(const v1::EventSchedule& s) {
  return absl::StrCat(s.event_id(), ": placed ", s.meetings_size(), " of ", s.meetings_size() + s.unplaced_size(),
                      " meetings; idle gaps ", s.idle_gaps(), " (lower bound ", s.idle_gaps_lower_bound(), "); value ",
                      absl::StrFormat("%.0f", s.value()), " of at most ", absl::StrFormat("%.0f", s.value_bound()),
                      s.moved() > 0 ? absl::StrCat("; moved ", s.moved()) : "",
                      s.stopped_early() ? "; stopped at the time limit" : "");
}

int PutEvent(const GlobalOptions& options, const Args& a) {
  v1::UpsertEventRequest request;
  if (!ReadJsonMessage(a.file, request.mutable_event())) return kExitUsage;
  Client client(options);
  v1::Event stored;
  grpc::Status s = v1::Matchmaking::NewStub(client.channel())->UpsertEvent(client.Context().get(), request, &stored);
  if (!s.ok()) return client.Fail(s);
  if (options.json) {
    std::printf("%s\n", ToJson(stored).c_str());
  } else {
    std::printf("stored event %s (%s): %d participants, %d slots, %d tables, %d meetings, %d requests\n",
                stored.id().c_str(), stored.name().c_str(), stored.participants_size(), stored.slots().count(),
                stored.tables(), stored.meetings_size(), stored.requests_size());
  }
  return kExitOk;
}

int Build(const GlobalOptions& options, const Args& a) {
  v1::BuildScheduleRequest request;
  request.set_event_id(a.event);
  request.set_seed(a.seed);
  request.set_time_limit_seconds(static_cast<int>(a.seconds));
  request.set_replan(a.replan);
  request.set_held_slots(a.held_slots);
  request.set_use_suggestions(a.suggestions);
  request.set_close_gaps(a.close_gaps);
  for (const auto& id : a.absent) request.add_absent(id);
  Client client(options);
  auto context = client.Context(/*streaming=*/true);
  auto reader = v1::Matchmaking::NewStub(client.channel())->BuildSchedule(context.get(), request);
  bool tty = isatty(2);
  v1::BuildScheduleResponse message;
  v1::EventSchedule result;
  while (reader->Read(&message)) {
    if (message.has_progress()) {
      const v1::BuildProgress& p = message.progress();
      if (tty) {
        int width = 30, done = static_cast<int>(p.fraction() * width);
        std::fprintf(stderr, "\r%-15s [%s%s] placed %d, idle gaps %d   ", p.phase().c_str(), std::string(done, '#').c_str(),
                     std::string(width - done, ' ').c_str(), p.placed(), p.idle_gaps());
      }
    } else if (message.has_schedule()) {
      result = message.schedule();
    }
  }
  if (tty) std::fprintf(stderr, "\n");
  grpc::Status s = reader->Finish();
  if (!s.ok()) return client.Fail(s);
  if (options.json) {
    std::printf("%s\n", ToJson(result).c_str());
  } else {
    std::printf("%s\n", Summary(result).c_str());
    for (const auto& u : result.unplaced()) std::printf("not placed: %s - %s: %s\n", u.a().c_str(), u.b().c_str(), u.reason().c_str());
  }
  return kExitOk;
}

int ShowAgenda(const GlobalOptions& options, const Args& a) {
  v1::GetAgendaRequest request;
  request.set_event_id(a.event);
  request.set_participant_id(a.participant);
  Client client(options);
  v1::Agenda agenda;
  grpc::Status s = v1::Matchmaking::NewStub(client.channel())->GetAgenda(client.Context().get(), request, &agenda);
  if (!s.ok()) return client.Fail(s);
  if (options.json) {
    std::printf("%s\n", ToJson(agenda).c_str());
    return kExitOk;
  }
  if (!a.participant.empty()) {
    std::printf("%s at %s\n", a.participant.c_str(), agenda.event_id().c_str());
    for (const v1::AgendaItem& item : agenda.items()) {
      std::printf("%s-%s  table %-3d  %s%s%s\n", item.start().c_str(), item.end().c_str(), item.table(),
                  item.with_name().c_str(), item.with_name() == item.with_id() ? "" : absl::StrCat(" (", item.with_id(), ")").c_str(),
                  item.origin().empty() ? "" : absl::StrCat("  - ", item.origin()).c_str());
    }
    std::printf("%d meetings\n", agenda.items_size());
    return kExitOk;
  }
  std::printf("%-6s", "table");
  for (const std::string& start : agenda.slot_starts()) std::printf(" %-5s", start.c_str());
  std::printf("\n");
  for (const v1::AgendaRow& row : agenda.rows()) {
    std::printf("%-6d", row.table());
    for (const std::string& cell : row.cells()) std::printf(" %-5s", cell.empty() ? "." : "busy");
    std::printf("\n");
  }
  return kExitOk;
}

// Fetches the event, its grid and every participant's day, and writes them in `a.format`.
int ExportAgendas(const GlobalOptions& options, const Args& a) {
  Client client(options);
  auto stub = v1::Matchmaking::NewStub(client.channel());
  AgendaBook book;
  v1::GetEventRequest event_request;
  event_request.set_id(a.event);
  grpc::Status s = stub->GetEvent(client.Context().get(), event_request, &book.event);
  if (!s.ok()) return client.Fail(s);
  v1::GetAgendaRequest request;
  request.set_event_id(a.event);
  s = stub->GetAgenda(client.Context().get(), request, &book.grid);
  if (!s.ok()) return client.Fail(s);
  for (const v1::EventParticipant& p : book.event.participants()) {
    request.set_participant_id(p.id());
    s = stub->GetAgenda(client.Context().get(), request, &book.days.emplace_back());
    if (!s.ok()) return client.Fail(s);
  }
  absl::StatusOr<std::vector<std::string>> written = a.format == "html" ? ExportHtml(book, a.out)
                                                     : a.format == "ics" ? ExportIcs(book, a.out)
                                                                         : ExportCsv(book, a.out);
  if (!written.ok()) {
    std::fprintf(stderr, "atable: %s\n", std::string(written.status().message()).c_str());
    return written.status().code() == absl::StatusCode::kFailedPrecondition ? kExitFailed : kExitUsage;
  }
  if (options.json) {
    for (const std::string& path : *written) std::printf("%s\n", path.c_str());
  } else {
    std::printf("wrote %zu %s files to %s (%s%s)\n", written->size(), a.format.c_str(), a.out.c_str(),
                std::filesystem::path(written->front()).filename().c_str(), written->size() > 1 ? ", ..." : "");
  }
  return kExitOk;
}

int Solve(const GlobalOptions& options, const Args& a) {
  std::string text;
  if (!ReadInput(a.file, &text)) return kExitUsage;
  absl::StatusOr<schedule::Event> event = schedule::ParseEvent(text);
  if (!event.ok()) {
    std::fprintf(stderr, "atable: %s: %s\n", a.file.c_str(), std::string(event.status().message()).c_str());
    return kExitUsage;
  }
  if (event->problem.meetings.empty()) {
    absl::StatusOr<std::vector<schedule::Candidate>> candidates = schedule::RequestCandidates(*event);
    if (!candidates.ok()) {
      std::fprintf(stderr, "atable: %s: %s\n", a.file.c_str(), std::string(candidates.status().message()).c_str());
      return kExitUsage;
    }
    event->problem.candidates = *std::move(candidates);
  }
  schedule::SolveOptions solve;
  solve.seed = a.seed;
  solve.iterations = a.iterations;
  if (a.close_gaps) solve.gap_conflicts = schedule::SolveOptions::kCloseGapsConflicts;
  solve.deadline = absl::Now() + absl::Seconds(a.seconds);
  absl::StatusOr<schedule::Schedule> result = schedule::Solve(event->problem, solve);
  if (!result.ok()) {
    std::fprintf(stderr, "atable: %s: %s\n", a.file.c_str(), std::string(result.status().message()).c_str());
    return kExitUsage;
  }
  std::string json = schedule::ScheduleJson(*event, *result);
  if (a.out.empty() || a.out == "-") {
    std::fputs(json.c_str(), stdout);
  } else {
    std::ofstream out(a.out, std::ios::binary);
    out << json;
    if (!out) {
      std::fprintf(stderr, "atable: cannot write %s\n", a.out.c_str());
      return kExitUsage;
    }
  }
  size_t total = result->meetings.size();
  std::fprintf(options.json || a.out.empty() ? stderr : stdout,
               "%s: placed %zu of %zu meetings; idle gaps %d (lower bound %d); value %.0f of at most %.0f%s%s\n",
               event->id.c_str(), result->placed.size(), total, result->idle_gaps, result->idle_gaps_lower_bound,
               result->value, result->value_bound, result->stopped_early ? "; stopped at the time limit" : "",
               a.out.empty() || a.out == "-" ? "" : ("; written to " + a.out).c_str());
  for (const schedule::Unplaced& u : result->unplaced) {
    const schedule::Meeting& m = result->meetings[u.meeting];
    std::fprintf(stderr, "not placed: %s - %s: %s\n", event->problem.participants[m.a].id.c_str(),
                 event->problem.participants[m.b].id.c_str(), u.reason.c_str());
  }
  return kExitOk;
}

}  // namespace

void AddScheduleCommands(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  auto args = std::make_shared<Args>();
  CLI::App* event = app.add_subcommand("event", "Store event days on the server")->require_subcommand(1);
  CLI::App* put = event->add_subcommand("put", "Create or replace an event from its event file\n"
                                               "  example: atable event put server/demo/event-cantal.json");
  put->add_option("file", args->file, "Event file (JSON), - for standard input")->required();
  put->callback([&options, exit_code, args] { *exit_code = PutEvent(options, *args); });
  CLI::App* get = event->add_subcommand("get", "Print an event file\n  example: atable event get cantal-2026");
  get->add_option("id", args->event, "Event id")->required();
  get->callback([&options, exit_code, args] {
    Client client(options);
    v1::GetEventRequest request;
    request.set_id(args->event);
    v1::Event e;
    grpc::Status s = v1::Matchmaking::NewStub(client.channel())->GetEvent(client.Context().get(), request, &e);
    if (!s.ok()) return void(*exit_code = client.Fail(s));
    std::printf("%s\n", ToJson(e).c_str());
  });

  CLI::App* agenda = app.add_subcommand("agenda", "Participants' days of a built schedule")->require_subcommand(1);
  CLI::App* show = agenda->add_subcommand("show", "Print a participant's day, or the event's grid of tables x slots\n"
                                                  "  example: atable agenda show --event cantal-2026 --participant demo-giftbox");
  show->add_option("--event", args->event, "Event id")->required();
  show->add_option("--participant", args->participant, "Participant id (default: the whole event's grid)");
  show->callback([&options, exit_code, args] { *exit_code = ShowAgenda(options, *args); });
  CLI::App* export_ = agenda->add_subcommand(
      "export", "Write every participant's day as files: html (a page each and the grid, printable, offline),\n"
                "ics (a calendar each, RFC 5545) or csv (one row per meeting)\n"
                "  example: atable agenda export --event cantal-2026 --format html --out agendas/");
  export_->add_option("--event", args->event, "Event id")->required();
  export_->add_option("--format", args->format, "html, ics or csv")
      ->check(CLI::IsMember({"html", "ics", "csv"}))->capture_default_str();
  export_->add_option("--out", args->out, "Folder to write the files in (created if missing)")->required();
  export_->callback([&options, exit_code, args] { *exit_code = ExportAgendas(options, *args); });

  CLI::App* schedule = app.add_subcommand("schedule", "Build meeting schedules of event days")->require_subcommand(1);
  CLI::App* solve = schedule->add_subcommand(
      "solve", "Solve an event file here, with no server (see docs/event-format.md)\n"
               "  example: atable schedule solve server/demo/event-cantal.json --out schedule.json");
  solve->add_option("event", args->file, "Event file (JSON), - for standard input")->required();
  solve->add_option("--out", args->out, "Schedule file to write (default: standard output)");
  solve->add_option("--seed", args->seed, "Seed: the same event and seed give the same schedule")->capture_default_str();
  solve->add_option("--iterations", args->iterations, "Search moves (0: by the number of meetings)");
  solve->add_option("--seconds", args->seconds, "Stop the search after this long")->capture_default_str();
  solve->add_flag("--close-gaps", args->close_gaps, kCloseGapsHelp);
  solve->callback([&options, exit_code, args] { *exit_code = Solve(options, *args); });

  CLI::App* build = schedule->add_subcommand(
      "build", "Build an event's schedule on the server, with a progress bar\n"
               "  example: atable schedule build --event cantal-2026 --suggestions\n"
               "  example: atable schedule build --event cantal-2026 --replan --held-slots 4 --absent demo-0007");
  build->add_option("--event", args->event, "Event id")->required();
  build->add_option("--seed", args->seed, "Seed: the same event and seed give the same schedule")->capture_default_str();
  build->add_option("--seconds", args->seconds, "Time limit")->capture_default_str();
  build->add_flag("--close-gaps", args->close_gaps, kCloseGapsHelp);
  build->add_flag("--suggestions", args->suggestions, "Also consider matchmaking suggestions (events without meetings)");
  build->add_flag("--replan", args->replan, "Re-plan from the current schedule, moving as few meetings as possible");
  build->add_option("--held-slots", args->held_slots, "Re-planning: slots 1..N already happened, their meetings stay");
  build->add_option("--absent", args->absent, "Re-planning: a participant who did not come (repeat)");
  build->callback([&options, exit_code, args] { *exit_code = Build(options, *args); });
}

}  // namespace atable::cli
