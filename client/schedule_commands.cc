#include "client/schedule_commands.h"

#include <cstdio>
#include <fstream>

#include "client/format.h"
#include "server/core/schedule/event_file.h"
#include "server/core/schedule/solver.h"

namespace atable::cli {
namespace {

struct Args {
  std::string file, out;
  uint64_t seed = 1;
  int64_t iterations = 0;
  double seconds = 60;
};

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
  CLI::App* schedule = app.add_subcommand("schedule", "Build meeting schedules of event days")->require_subcommand(1);
  CLI::App* solve = schedule->add_subcommand(
      "solve", "Solve an event file here, with no server (see docs/event-format.md)\n"
               "  example: atable schedule solve server/demo/event-cantal.json --out schedule.json");
  solve->add_option("event", args->file, "Event file (JSON), - for standard input")->required();
  solve->add_option("--out", args->out, "Schedule file to write (default: standard output)");
  solve->add_option("--seed", args->seed, "Seed: the same event and seed give the same schedule")->capture_default_str();
  solve->add_option("--iterations", args->iterations, "Search moves (0: by the number of meetings)");
  solve->add_option("--seconds", args->seconds, "Stop the search after this long")->capture_default_str();
  solve->callback([&options, exit_code, args] { *exit_code = Solve(options, *args); });
}

}  // namespace atable::cli
