// atable-server: serves the atable.v1 API over gRPC from a RocksDB database.
#include <csignal>
#include <cstdio>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/time.h"
#include "server/server.h"

ABSL_FLAG(std::string, listen, "127.0.0.1:50051", "Address to listen on (host:port; port 0 = any)");
ABSL_FLAG(std::string, data, "./var/atable", "Folder of the database (created if missing)");
ABSL_FLAG(std::string, demo_dir, "",
          "If set and the database is empty, load the demo Cantal catalog from this folder "
          "(server/demo)");
ABSL_FLAG(bool, sync, false, "fsync the write-ahead log on every write (survives power loss)");
ABSL_FLAG(int, change_retention_hours, 24 * 7,
          "How long ListChanges can resume from a change (older tokens must resync)");
ABSL_FLAG(int, page_token_ttl_seconds, 600, "How long a SearchOffers walk may last between pages");
ABSL_FLAG(int, shutdown_grace_seconds, 10, "On SIGINT/SIGTERM, how long in-flight calls may finish");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Serves the atable catalog over gRPC.\n"
      "Usage: atable-server [--listen 127.0.0.1:50051] [--data ./var/atable] [--demo_dir DIR]");
  absl::ParseCommandLine(argc, argv);

  // Block the stop signals in every thread (gRPC's threads inherit the mask); main waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  atable::ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data);
  options.demo_dir = absl::GetFlag(FLAGS_demo_dir);
  options.sync = absl::GetFlag(FLAGS_sync);
  options.change_retention = absl::Hours(absl::GetFlag(FLAGS_change_retention_hours));
  options.page_token_ttl = absl::Seconds(absl::GetFlag(FLAGS_page_token_ttl_seconds));
  absl::StatusOr<std::unique_ptr<atable::AtableServer>> server = atable::AtableServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "atable-server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "atable-server: serving on %s, data %s, revision %llu\n",
               (*server)->address().c_str(), options.data_dir.c_str(),
               static_cast<unsigned long long>((*server)->store()->revision()));

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  std::fprintf(stderr, "atable-server: %s received, finishing in-flight calls\n",
               signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  (*server)->Shutdown(absl::Seconds(absl::GetFlag(FLAGS_shutdown_grace_seconds)));
  std::string address = (*server)->address();
  server->reset();  // closes the database cleanly
  std::fprintf(stderr, "atable-server: stopped serving on %s, data %s closed\n", address.c_str(),
               options.data_dir.c_str());
  return 0;
}
