// b2b_bench: the B2B Meeting Scheduling benchmark (Bofill et al., JAIR 2022) from real brokerage
// events. Reads instances in their MiniZinc data format (.dzn), solves them with the event-day
// solver, with the default search and then with the gaps closed exactly (`--close-gaps`), over
// one seed or several, and prints instance, mode, meetings placed, idle gaps, the lower bound,
// and seconds (the median over the seeds, and the slowest).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <regex>
#include <sstream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "server/core/schedule/solver.h"

ABSL_FLAG(uint64_t, seed, 1, "Solver seed (the first one, with --seeds)");
ABSL_FLAG(int, seeds, 1, "How many seeds to run each instance and mode with, one after the other");
ABSL_FLAG(int64_t, iterations, 0, "Local-search moves (0: the solver's default)");
ABSL_FLAG(std::string, modes, "search,close_gaps",
          "Comma-separated: search (the default search), close_gaps (then the gaps closed exactly, "
          "as `atable schedule solve --close-gaps`)");

namespace atable::schedule {
namespace {

// The integers of the value of `name` in a .dzn text ("name = ...;"), in order; sets and rows
// flatten. `groups` receives, for a list of sets, the integers of each set.
bool DznValue(const std::string& text, const std::string& name, std::vector<int>* flat,
              std::vector<std::vector<int>>* groups = nullptr) {
  std::regex pattern("(^|\\n)\\s*" + name + "\\s*=\\s*([^;]*);");
  std::smatch m;
  if (!std::regex_search(text, m, pattern)) return false;
  std::string value = m[2];
  std::vector<int> current;
  bool in_set = false;
  std::string number;
  auto flush = [&] {
    if (!number.empty()) {
      int v = std::stoi(number);
      flat->push_back(v);
      if (in_set) current.push_back(v);
      number.clear();
    }
  };
  for (char c : value) {
    if (c == '-' || (c >= '0' && c <= '9')) {
      number.push_back(c);
      continue;
    }
    flush();
    if (c == '{') in_set = true, current.clear();
    if (c == '}') {
      in_set = false;
      if (groups) groups->push_back(current);
    }
  }
  flush();
  return true;
}

bool ReadDzn(const std::string& path, Problem* p, std::string* error) {
  std::ifstream in(path);
  if (!in) return *error = "cannot read " + path, false;
  std::stringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  std::vector<int> v;
  auto scalar = [&](const char* name, int* out) {
    v.clear();
    if (!DznValue(text, name, &v) || v.size() != 1) return false;
    *out = v[0];
    return true;
  };
  int n_business = 0, n_meetings = 0;
  if (!scalar("nBusiness", &n_business) || !scalar("nMeetings", &n_meetings) || !scalar("nTables", &p->tables) ||
      !scalar("nTotalSlots", &p->slots) || !scalar("nMorningSlots", &p->morning_slots)) {
    return *error = "missing header fields", false;
  }
  for (int i = 0; i < n_business; ++i) p->participants.push_back({absl::StrCat(i + 1), "", Role::kParticipant});
  std::vector<int> requested;
  if (!DznValue(text, "requested", &requested) || static_cast<int>(requested.size()) != 3 * n_meetings) {
    return *error = "requested: expected 3 numbers per meeting", false;
  }
  for (int k = 0; k < n_meetings; ++k) {
    Meeting m;
    m.a = requested[3 * k] - 1;
    m.b = requested[3 * k + 1] - 1;
    int session = requested[3 * k + 2];
    m.session = session == 1 ? Session::kMorning : session == 2 ? Session::kAfternoon : Session::kAny;
    m.value = 1;
    p->meetings.push_back(m);
  }
  std::vector<int> flat;
  std::vector<std::vector<int>> forbidden;
  if (DznValue(text, "forbidden", &flat, &forbidden)) {
    for (size_t i = 0; i < forbidden.size() && i < p->participants.size(); ++i) {
      for (int slot : forbidden[i]) {
        if (slot >= 1 && slot <= p->slots) p->participants[i].forbidden |= SlotMask{1} << (slot - 1);
      }
    }
  }
  std::vector<int> fixed;
  if (DznValue(text, "fixed", &fixed)) {
    for (size_t k = 0; k < fixed.size() && k < p->meetings.size(); ++k) p->meetings[k].fixed_slot = fixed[k] - 1;
  }
  flat.clear();
  std::vector<std::vector<int>> precedences;
  if (DznValue(text, "precedences", &flat, &precedences) && !flat.empty()) {
    return *error = "precedences are not supported", false;
  }
  return true;
}

}  // namespace
}  // namespace atable::schedule

int main(int argc, char** argv) {
  std::vector<char*> files = absl::ParseCommandLine(argc, argv);
  std::vector<std::string> modes = absl::StrSplit(absl::GetFlag(FLAGS_modes), ',', absl::SkipEmpty());
  for (const std::string& mode : modes) {
    if (mode != "search" && mode != "close_gaps") {
      std::fprintf(stderr, "--modes: unknown mode %s (search, close_gaps)\n", mode.c_str());
      return 2;
    }
  }
  const int seeds = std::max(1, absl::GetFlag(FLAGS_seeds));
  std::printf("%-24s %-10s %8s %8s %6s %9s %11s %8s %8s\n", "instance", "mode", "meetings", "placed", "tables",
              "idle_gaps", "lower_bound", "seconds", "slowest");
  for (size_t i = 1; i < files.size(); ++i) {
    atable::schedule::Problem problem;
    std::string error;
    std::string name = files[i];
    name = name.substr(name.rfind('/') + 1);
    if (!atable::schedule::ReadDzn(files[i], &problem, &error)) {
      std::printf("%-24s %s\n", name.c_str(), error.c_str());
      continue;
    }
    for (const std::string& mode : modes) {
      // Over the seeds: the fewest placed, the range of idle gaps, the lowest bound proven, times.
      size_t placed = problem.meetings.size();
      int fewest_gaps = 1 << 30, most_gaps = 0, bound = 1 << 30;
      std::vector<double> seconds;
      bool failed = false;
      for (int k = 0; k < seeds; ++k) {
        atable::schedule::SolveOptions options;
        options.seed = absl::GetFlag(FLAGS_seed) + static_cast<uint64_t>(k);
        options.iterations = absl::GetFlag(FLAGS_iterations);
        if (mode == "close_gaps") options.gap_conflicts = atable::schedule::SolveOptions::kCloseGapsConflicts;
        auto t0 = std::chrono::steady_clock::now();
        auto schedule = atable::schedule::Solve(problem, options);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        if (!schedule.ok()) {
          std::printf("%-24s %-10s %s\n", name.c_str(), mode.c_str(), schedule.status().ToString().c_str());
          failed = true;
          break;
        }
        placed = std::min(placed, schedule->placed.size());
        fewest_gaps = std::min(fewest_gaps, schedule->idle_gaps);
        most_gaps = std::max(most_gaps, schedule->idle_gaps);
        bound = std::min(bound, schedule->idle_gaps_lower_bound);
      }
      if (failed) continue;
      std::sort(seconds.begin(), seconds.end());
      size_t half = seconds.size() / 2;
      double median = seconds.size() % 2 ? seconds[half] : (seconds[half - 1] + seconds[half]) / 2;
      std::string gaps = fewest_gaps == most_gaps ? absl::StrCat(most_gaps) : absl::StrCat(fewest_gaps, "-", most_gaps);
      std::printf("%-24s %-10s %8zu %8zu %6d %9s %11d %8.2f %8.2f\n", name.c_str(), mode.c_str(), problem.meetings.size(),
                  placed, problem.tables, gaps.c_str(), bound, median, seconds.back());
    }
  }
  return 0;
}
