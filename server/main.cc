// atable-server: serves the atable.v1 API over gRPC from a RocksDB database, and administers it
// (API keys, backups, restores).
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "atable/v1/admin.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/auth.h"
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
ABSL_FLAG(std::string, tls_cert, "", "TLS: PEM file of the server's certificate chain");
ABSL_FLAG(std::string, tls_key, "", "TLS: PEM file of the server's private key");
ABSL_FLAG(std::string, tls_client_ca, "", "Mutual TLS: PEM file of the CA that signs client certificates");
ABSL_FLAG(bool, insecure, false, "Allow plaintext on a non-loopback address");
ABSL_FLAG(bool, no_keys, false, "Serve every caller as an organizer, without API keys (loopback only; development)");
ABSL_FLAG(int, max_message_bytes, 8 << 20, "Largest request message accepted");
ABSL_FLAG(int, max_long_calls, 4, "Schedule builds and pair suggestions at once (more: RESOURCE_EXHAUSTED; 0: no limit)");
// Administration commands.
ABSL_FLAG(std::string, role, "", "keys create: reader, provider or organizer");
ABSL_FLAG(std::string, provider, "", "keys create --role provider: the provider the key may write");
ABSL_FLAG(std::string, description, "", "keys create: who or what the key is for");
ABSL_FLAG(std::string, server, "", "keys, backup: a running server's address (else --data is opened)");
ABSL_FLAG(std::string, token, "", "keys, backup with --server: an organizer key (env ATABLE_TOKEN)");
ABSL_FLAG(std::string, tls_ca, "", "keys, backup with --server: PEM file of the server's CA");
ABSL_FLAG(std::string, to, "", "backup: folder of the backups (on the server's machine)");
ABSL_FLAG(std::string, from, "", "restore: folder of the backups");

namespace atable {
namespace {

constexpr char kUsage[] =
    "Serves the atable API over gRPC, and administers its data.\n"
    "Usage:\n"
    "  atable-server [--listen 127.0.0.1:50051] [--data ./var/atable] [--demo_dir DIR]\n"
    "                [--tls-cert F --tls-key F [--tls-client-ca F]] [--insecure] [--sync]\n"
    "  atable-server keys create --role reader|provider|organizer [--provider ID] [--description TEXT]\n"
    "                            (--data DIR | --server HOST:PORT --token KEY)\n"
    "  atable-server keys revoke ID (--data DIR | --server HOST:PORT --token KEY)\n"
    "  atable-server keys list (--data DIR | --server HOST:PORT --token KEY)\n"
    "  atable-server backup --to DIR --server HOST:PORT --token KEY   (online)\n"
    "  atable-server restore --from DIR --data NEW_DIR                (server stopped)\n"
    "Flags may be written with hyphens or underscores (--tls-cert, --tls_cert).";

int Fail(const absl::Status& status) {
  std::fprintf(stderr, "atable-server: %s\n", std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

int Fail(const grpc::Status& status) {
  std::fprintf(stderr, "atable-server: %s\n", status.error_message().c_str());
  return 1;
}

void PrintKey(const v1::ApiKey& key) {
  std::printf("%s  %-9s %s%s%s\n", key.id().c_str(),
              key.role() == v1::ROLE_READER     ? "reader"
              : key.role() == v1::ROLE_PROVIDER ? "provider"
                                                : "organizer",
              key.provider_id().c_str(), key.provider_id().empty() ? "" : "  ", key.description().c_str());
}

// A stub of a running server's Admin service, with the organizer key in `context`.
std::unique_ptr<v1::Admin::Stub> AdminStub(grpc::ClientContext* context) {
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (!absl::GetFlag(FLAGS_tls_ca).empty()) {
    std::ifstream in(absl::GetFlag(FLAGS_tls_ca), std::ios::binary);
    std::stringstream pem;
    pem << in.rdbuf();
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem.str();
    credentials = grpc::SslCredentials(ssl);
  }
  std::string token = absl::GetFlag(FLAGS_token);
  if (token.empty() && std::getenv("ATABLE_TOKEN") != nullptr) token = std::getenv("ATABLE_TOKEN");
  if (!token.empty()) context->AddMetadata("authorization", "Bearer " + token);
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  return v1::Admin::NewStub(grpc::CreateChannel(absl::GetFlag(FLAGS_server), credentials));
}

// keys create|revoke|list, on a stopped server's data folder or through a running server.
int Keys(const std::vector<std::string>& args) {
  std::string verb = args.size() > 2 ? args[2] : "";
  v1::CreateKeyRequest create;
  if (verb == "create") {
    std::string role = absl::GetFlag(FLAGS_role);
    create.set_role(role == "reader" ? v1::ROLE_READER
                    : role == "provider" ? v1::ROLE_PROVIDER
                    : role == "organizer" ? v1::ROLE_ORGANIZER
                                          : v1::ROLE_UNSPECIFIED);
    if (create.role() == v1::ROLE_UNSPECIFIED) return Fail(absl::InvalidArgumentError("--role must be reader, provider or organizer"));
    create.set_provider_id(absl::GetFlag(FLAGS_provider));
    create.set_description(absl::GetFlag(FLAGS_description));
  } else if (verb == "revoke") {
    if (args.size() != 4) return Fail(absl::InvalidArgumentError("usage: keys revoke ID"));
  } else if (verb != "list") {
    return Fail(absl::InvalidArgumentError("usage: keys create|revoke|list (see --help)"));
  }
  if (!absl::GetFlag(FLAGS_server).empty()) {
    grpc::ClientContext context;
    auto stub = AdminStub(&context);
    grpc::Status s;
    if (verb == "create") {
      v1::CreateKeyResponse created;
      s = stub->CreateKey(&context, create, &created);
      if (s.ok()) std::printf("%s\n", created.secret().c_str());
    } else if (verb == "revoke") {
      v1::RevokeKeyRequest revoke;
      revoke.set_id(args[3]);
      google::protobuf::Empty empty;
      s = stub->RevokeKey(&context, revoke, &empty);
      if (s.ok()) std::printf("revoked key %s\n", args[3].c_str());
    } else {
      v1::ListKeysResponse list;
      s = stub->ListKeys(&context, v1::ListKeysRequest(), &list);
      for (const v1::ApiKey& key : list.keys()) PrintKey(key);
    }
    return s.ok() ? 0 : Fail(s);
  }
  absl::StatusOr<std::unique_ptr<CatalogStore>> store = CatalogStore::Open(absl::GetFlag(FLAGS_data));
  if (!store.ok()) {
    return Fail(absl::Status(store.status().code(),
                             absl::StrCat(store.status().message(),
                                          " (while the server runs, use --server with an organizer key)")));
  }
  absl::StatusOr<std::unique_ptr<KeyRing>> keys = KeyRing::Load(store->get());
  if (!keys.ok()) return Fail(keys.status());
  if (verb == "create") {
    absl::StatusOr<v1::CreateKeyResponse> created = (*keys)->Create(create, absl::Now());
    if (!created.ok()) return Fail(created.status());
    std::printf("%s\n", created->secret().c_str());
    std::fflush(stdout);
    std::fprintf(stderr, "atable-server: created %s key %s; the secret above is shown only this once\n",
                 absl::GetFlag(FLAGS_role).c_str(), created->key().id().c_str());
  } else if (verb == "revoke") {
    absl::Status s = (*keys)->Revoke(args[3]);
    if (!s.ok()) return Fail(s);
    std::printf("revoked key %s\n", args[3].c_str());
  } else {
    for (const v1::ApiKey& key : (*keys)->List()) PrintKey(key);
  }
  return 0;
}

int Backup() {
  if (absl::GetFlag(FLAGS_to).empty() || absl::GetFlag(FLAGS_server).empty()) {
    return Fail(absl::InvalidArgumentError("usage: backup --to DIR --server HOST:PORT --token KEY"));
  }
  grpc::ClientContext context;
  auto stub = AdminStub(&context);
  v1::CreateBackupRequest request;
  request.set_directory(absl::GetFlag(FLAGS_to));
  v1::CreateBackupResponse response;
  grpc::Status s = stub->CreateBackup(&context, request, &response);
  if (!s.ok()) return Fail(s);
  std::printf("backup %u of revision %llu in %s (%llu bytes)\n", response.backup_id(),
              static_cast<unsigned long long>(response.revision()), request.directory().c_str(),
              static_cast<unsigned long long>(response.size_bytes()));
  return 0;
}

int Restore() {
  if (absl::GetFlag(FLAGS_from).empty()) return Fail(absl::InvalidArgumentError("usage: restore --from DIR --data NEW_DIR"));
  absl::Status s = CatalogStore::RestoreLatestBackup(absl::GetFlag(FLAGS_from), absl::GetFlag(FLAGS_data));
  if (!s.ok()) return Fail(s);
  // Opening checks the restored database.
  absl::StatusOr<std::unique_ptr<CatalogStore>> store = CatalogStore::Open(absl::GetFlag(FLAGS_data));
  if (!store.ok()) return Fail(store.status());
  std::printf("restored %s into %s: revision %llu\n", absl::GetFlag(FLAGS_from).c_str(),
              absl::GetFlag(FLAGS_data).c_str(), static_cast<unsigned long long>((*store)->revision()));
  return 0;
}

// glibc's malloc keeps blocks of up to 32 MiB in its arenas, to be reused once freed. By default
// a block over 128 KiB (a threshold that rises only as such blocks are freed) is a mapping of its
// own, given back when freed, so that the next one is fresh memory again, each of its pages a
// fault on first write: RocksDB's memtable blocks and compaction buffers, allocated and freed
// over and over, and gRPC's message buffers took 65,000 of the 273,000 faults of a 1M-offer
// import. An arena keeps up to 128 MiB free at its top rather than trimming it at once.
void KeepLargeBlocksForReuse() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
}

int Serve() {
  KeepLargeBlocksForReuse();
  // Block the stop signals in every thread (gRPC's threads inherit the mask); main waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ServerOptions options;
  options.listen = absl::GetFlag(FLAGS_listen);
  options.data_dir = absl::GetFlag(FLAGS_data);
  options.demo_dir = absl::GetFlag(FLAGS_demo_dir);
  options.sync = absl::GetFlag(FLAGS_sync);
  options.change_retention = absl::Hours(absl::GetFlag(FLAGS_change_retention_hours));
  options.page_token_ttl = absl::Seconds(absl::GetFlag(FLAGS_page_token_ttl_seconds));
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca);
  options.insecure = absl::GetFlag(FLAGS_insecure);
  options.require_keys = !absl::GetFlag(FLAGS_no_keys);
  options.max_message_bytes = absl::GetFlag(FLAGS_max_message_bytes);
  options.max_long_calls = absl::GetFlag(FLAGS_max_long_calls);
  if (!options.require_keys && options.listen.rfind("127.", 0) != 0 && options.listen.rfind("localhost:", 0) != 0) {
    return Fail(absl::FailedPreconditionError("--no_keys is for a server on loopback only"));
  }
  absl::StatusOr<std::unique_ptr<AtableServer>> server = AtableServer::Start(options);
  if (!server.ok()) {
    std::fprintf(stderr, "atable-server: %s\n", server.status().ToString().c_str());
    return 1;
  }
  std::fprintf(stderr, "atable-server: serving on %s%s, data %s, revision %llu%s\n", (*server)->address().c_str(),
               options.tls_cert_file.empty() ? "" : (options.tls_client_ca_file.empty() ? " (TLS)" : " (mutual TLS)"),
               options.data_dir.c_str(), static_cast<unsigned long long>((*server)->store()->revision()),
               options.require_keys ? "" : ", without API keys");

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

}  // namespace
}  // namespace atable

int main(int argc, char** argv) {
  // Debian's Abseil is built without NDEBUG, so every absl::Mutex (gRPC's own locks included)
  // would keep a global graph of lock orders for deadlock reports, under one spin lock: about
  // 35 ns a lock instead of 7. That is a debugging aid, off in the server.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  absl::SetProgramUsageMessage(atable::kUsage);
  // "--tls-cert" is read as "--tls_cert": flags may be written either way.
  std::vector<std::string> storage(argv, argv + argc);
  for (std::string& arg : storage) {
    if (arg.rfind("--", 0) != 0) continue;
    size_t end = arg.find('=');
    for (size_t i = 2; i < std::min(end, arg.size()); ++i) {
      if (arg[i] == '-') arg[i] = '_';
    }
  }
  std::vector<char*> args;
  for (std::string& arg : storage) args.push_back(arg.data());
  std::vector<char*> positional = absl::ParseCommandLine(static_cast<int>(args.size()), args.data());
  std::vector<std::string> words(positional.begin(), positional.end());
  std::string command = words.size() > 1 ? words[1] : "";
  if (command.empty()) return atable::Serve();
  if (command == "keys") return atable::Keys(words);
  if (command == "backup") return atable::Backup();
  if (command == "restore") return atable::Restore();
  std::fprintf(stderr, "atable-server: unknown command %s\n%s\n", command.c_str(), atable::kUsage);
  return 2;
}
