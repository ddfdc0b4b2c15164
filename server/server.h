// AtableServer: the whole atable-server in one object (store, services, gRPC server), so that
// the binary and the tests start it the same way.
#ifndef ATABLE_SERVER_SERVER_H_
#define ATABLE_SERVER_SERVER_H_

#include <deque>
#include <memory>
#include <thread>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server.h"
#include "server/background.h"
#include "storage/catalog_store.h"

namespace atable {

class AdminService;
class CatalogService;
class KeyRing;
class MatchmakingService;

struct ServerOptions {
  // Address to listen on, "host:port"; port 0 lets the OS pick one (see AtableServer::port()).
  std::string listen = "127.0.0.1:50051";
  // Folder of the RocksDB database; created if missing.
  std::string data_dir = "./var/atable";
  // If set and the database has never been written, load the demo catalog from this folder.
  std::string demo_dir;
  // fsync the write-ahead log on every write.
  bool sync = false;
  // How long the change log keeps changes for ListChanges to resume from.
  absl::Duration change_retention = absl::Hours(24 * 7);
  // How long a SearchOffers walk may take between its first and last page.
  absl::Duration page_token_ttl = absl::Minutes(10);
  // How often the change log is pruned and the search index compacted.
  absl::Duration maintenance_interval = absl::Seconds(30);
  // Every call but health and reflection needs an API key ("authorization: Bearer <key>"). Off
  // only in tests of other concerns: every caller is then an organizer.
  bool require_keys = true;
  // TLS: PEM files of the server's certificate chain and private key; with a client CA, clients
  // must present a certificate it signed (mutual TLS). Without TLS the server listens on loopback
  // only, unless `insecure` says plaintext on other interfaces is wanted.
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string tls_client_ca_file;
  bool insecure = false;
  // Largest request message accepted (bigger ones get RESOURCE_EXHAUSTED).
  int max_message_bytes = 8 << 20;
  // Schedule builds and pair suggestions running at once (each takes a thread and a core); more
  // get RESOURCE_EXHAUSTED. 0: no limit.
  int max_long_calls = 4;
};

class AtableServer {
 public:
  // Opens the store, loads the demo catalog if asked and the store is empty, and starts serving
  // Catalog, health checking and reflection. UNAVAILABLE if the address cannot be bound or the
  // database is held by another process.
  static absl::StatusOr<std::unique_ptr<AtableServer>> Start(const ServerOptions& options);

  AtableServer(const AtableServer&) = delete;
  AtableServer& operator=(const AtableServer&) = delete;
  // Shuts down (if not done yet) and closes the store.
  ~AtableServer();

  // The port the server listens on.
  int port() const { return port_; }
  // The address clients can dial, "host:port".
  std::string address() const;
  CatalogStore* store() { return store_.get(); }
  // The server's API keys; null when started without `require_keys`.
  KeyRing* keys() { return keys_.get(); }
  grpc::Server* grpc_server() { return server_.get(); }

  // Stops accepting calls, lets in-flight calls finish for up to `grace`, then cancels the rest.
  void Shutdown(absl::Duration grace);

  // One round of maintenance now: prunes the change log past its retention and compacts the
  // search index when it holds many dead versions older than the page token lifetime.
  void RunMaintenance(absl::Time now);

 private:
  AtableServer() = default;
  void MaintenanceLoop();

  ServerOptions options_;
  std::unique_ptr<CatalogStore> store_;
  std::unique_ptr<KeyRing> keys_;
  std::unique_ptr<Background> background_;
  std::unique_ptr<AdminService> admin_;
  std::unique_ptr<CatalogService> catalog_;
  std::unique_ptr<MatchmakingService> matchmaking_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
  absl::Mutex maintenance_mu_;
  bool stopping_ ABSL_GUARDED_BY(maintenance_mu_) = false;
  // (time, revision) samples, to find the revision of the oldest walk still alive.
  std::deque<std::pair<absl::Time, uint64_t>> revision_samples_ ABSL_GUARDED_BY(maintenance_mu_);
  std::thread maintenance_;
};

// Loads the demo catalog of `demo_dir` into `store`, validating every record as a client's.
// Returns the number of offers stored.
absl::StatusOr<int> LoadDemoInto(CatalogStore* store, const std::string& demo_dir);

}  // namespace atable

#endif  // ATABLE_SERVER_SERVER_H_
