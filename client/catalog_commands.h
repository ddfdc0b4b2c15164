// The catalog commands of the CLI: providers, offers (get, put, delete, search) and watch.
#ifndef ATABLE_CLIENT_CATALOG_COMMANDS_H_
#define ATABLE_CLIENT_CATALOG_COMMANDS_H_

#include "CLI/CLI.hpp"
#include "client/client.h"

namespace atable::cli {

// Adds the commands to `app`; a command's exit code goes to `*exit_code`.
void AddCatalogCommands(CLI::App& app, const GlobalOptions& options, int* exit_code);

}  // namespace atable::cli

#endif  // ATABLE_CLIENT_CATALOG_COMMANDS_H_
