// The schedule commands of the CLI: solving an event file locally with the core solver.
#ifndef ATABLE_CLIENT_SCHEDULE_COMMANDS_H_
#define ATABLE_CLIENT_SCHEDULE_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "client/client.h"

namespace atable::cli {

// Adds the commands to `app`; a command's exit code goes to `*exit_code`.
void AddScheduleCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace atable::cli

#endif  // ATABLE_CLIENT_SCHEDULE_COMMANDS_H_
