// atable: the organizers' command-line client of atable-server.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "CLI/CLI.hpp"
#include "client/catalog_commands.h"
#include "client/client.h"
#include "client/format.h"
#include "client/import_commands.h"
#include "client/matchmaking_commands.h"
#include "client/schedule_commands.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace atable::cli {
namespace {

int Health(const Client& client) {
  auto stub = grpc::health::v1::Health::NewStub(client.channel());
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  grpc::Status status = stub->Check(client.Context().get(), request, &response);
  if (!status.ok()) return client.Fail(status);
  std::string name = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(response.status());
  if (client.options().json) {
    std::printf("{\"server\": \"%s\", \"status\": \"%s\"}\n", client.options().server.c_str(), name.c_str());
  } else {
    std::printf("%s: %s\n", client.options().server.c_str(), name.c_str());
  }
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING ? kExitOk : kExitFailed;
}

}  // namespace
}  // namespace atable::cli

int main(int argc, char** argv) {
  using namespace atable::cli;
  GlobalOptions options;
  if (const char* env = std::getenv("ATABLE_SERVER")) options.server = env;
  if (const char* env = std::getenv("ATABLE_TOKEN")) options.token = env;
  int exit_code = kExitOk;

  CLI::App app{"atable: the organizers' client of an atable server (catalog, buyers, events).", "atable"};
  app.footer(
      "Exit codes: 0 done, 1 the server refused the request (bad input, not found, no permission...),\n"
      "2 wrong command line or input file, 3 server unreachable or too slow.\n"
      "Example: atable --server 127.0.0.1:50051 offers get af-15110-arev-hotel/stay");
  app.require_subcommand(1);
  app.fallthrough();  // global options may follow the command: "atable watch --json"
  app.add_option("--server", options.server, "Server address host:port (env ATABLE_SERVER)")
      ->capture_default_str();
  app.add_flag("--json", options.json, "Print machine-readable JSON");
  app.add_option("--timeout", options.timeout_seconds, "Seconds to wait for each call")->capture_default_str();
  app.add_option("--token", options.token, "API key (env ATABLE_TOKEN), from atable-server keys create");
  app.add_option("--tls-ca", options.tls_ca, "PEM file of the CA of the server's certificate: connect with TLS");
  app.add_option("--tls-cert", options.tls_cert, "Mutual TLS: this client's certificate (PEM)");
  app.add_option("--tls-key", options.tls_key, "Mutual TLS: this client's private key (PEM)");

  app.add_subcommand("health", "Ask whether the server is serving\n  example: atable health")
      ->callback([&] { exit_code = Health(Client(options)); });
  AddCatalogCommands(app, options, &exit_code);
  AddMatchmakingCommands(app, options, &exit_code);
  AddScheduleCommands(app, options, &exit_code);
  AddImportCommands(app, options, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}
