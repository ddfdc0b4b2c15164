// The import commands of the CLI: Atout France's classified accommodation export and the project's
// own JSON Lines records, streamed to the server through ImportOffers.
#ifndef ATABLE_CLIENT_IMPORT_COMMANDS_H_
#define ATABLE_CLIENT_IMPORT_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "client/client.h"

namespace atable::cli {

// Adds the commands to `app`; a command's exit code goes to `*exit_code`.
void AddImportCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace atable::cli

#endif  // ATABLE_CLIENT_IMPORT_COMMANDS_H_
