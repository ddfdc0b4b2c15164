// The matchmaking commands of the CLI: buyers (put, get, list, delete) and pairs suggest.
#ifndef ATABLE_CLIENT_MATCHMAKING_COMMANDS_H_
#define ATABLE_CLIENT_MATCHMAKING_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "client/client.h"

namespace atable::cli {

// Adds the commands to `app`; a command's exit code goes to `*exit_code`.
void AddMatchmakingCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace atable::cli

#endif  // ATABLE_CLIENT_MATCHMAKING_COMMANDS_H_
