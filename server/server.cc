#include "server/server.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/admin_service.h"
#include "server/auth.h"
#include "server/catalog_service.h"
#include "server/core/demo_catalog.h"
#include "server/core/status_macros.h"
#include "server/core/thread_name.h"
#include "server/core/validation.h"
#include "server/event_service.h"
#include "server/matchmaking_service.h"

namespace atable {

absl::StatusOr<int> LoadDemoInto(CatalogStore* store, const std::string& demo_dir) {
  ATABLE_ASSIGN_OR_RETURN(DemoCatalog demo, LoadDemoCatalog(demo_dir));
  absl::Time now = absl::Now();
  for (const v1::Provider& p : demo.providers) {
    ATABLE_RETURN_IF_ERROR(ValidateProvider(p));
    ATABLE_RETURN_IF_ERROR(store->UpsertProvider(p, now).status());
  }
  for (const v1::Offer& o : demo.offers) {
    ATABLE_RETURN_IF_ERROR(ValidateOffer(o));
    ATABLE_RETURN_IF_ERROR(store->UpsertOffer(o, now).status());
  }
  ATABLE_ASSIGN_OR_RETURN(std::vector<v1::Buyer> buyers, LoadDemoBuyers(demo_dir));
  for (const v1::Buyer& b : buyers) {
    ATABLE_RETURN_IF_ERROR(ValidateBuyer(b));
    ATABLE_RETURN_IF_ERROR(store->UpsertBuyer(b, now).status());
  }
  ATABLE_ASSIGN_OR_RETURN(v1::Event event, LoadDemoEvent(demo_dir));
  v1::UpsertEventRequest put;
  *put.mutable_event() = std::move(event);
  v1::Event stored;
  ATABLE_RETURN_IF_ERROR(UpsertEventImpl(store, put, &stored));
  return static_cast<int>(demo.offers.size());
}

namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) return absl::FailedPreconditionError(absl::StrCat("cannot read ", what, " ", path));
  if (text.str().find("-----BEGIN") == std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(what, " ", path, " is not a PEM file"));
  }
  return text.str();
}

bool IsLoopback(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  return host == "127.0.0.1" || host == "localhost" || host == "[::1]" || absl::StartsWith(host, "127.");
}

// TLS credentials from the options' files, or plaintext (on loopback unless `insecure`).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> CredentialsFor(const ServerOptions& options) {
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return absl::InvalidArgumentError("TLS needs both a certificate and its private key");
  }
  if (options.tls_cert_file.empty()) {
    if (!options.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError("a client CA (mutual TLS) needs the server's own certificate and key");
    }
    if (!IsLoopback(options.listen) && !options.insecure) {
      return absl::FailedPreconditionError(absl::StrCat(
          "refusing to serve plaintext on ", options.listen,
          ": give a TLS certificate and key, listen on 127.0.0.1, or say --insecure"));
    }
    return grpc::InsecureServerCredentials();
  }
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ATABLE_ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(options.tls_cert_file, "certificate"));
  ATABLE_ASSIGN_OR_RETURN(pair.private_key, ReadPem(options.tls_key_file, "private key"));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!options.tls_client_ca_file.empty()) {
    ATABLE_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(options.tls_client_ca_file, "client CA"));
    ssl.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AtableServer>> AtableServer::Start(const ServerOptions& options) {
  std::unique_ptr<AtableServer> server(new AtableServer());
  server->options_ = options;
  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data folder ", options.data_dir, ": ", ec.message()));
  }
  StoreOptions store_options;
  store_options.sync = options.sync;
  ATABLE_ASSIGN_OR_RETURN(server->store_, CatalogStore::Open(options.data_dir, store_options));
  if (!options.demo_dir.empty() && server->store_->revision() == 0) {
    ATABLE_RETURN_IF_ERROR(LoadDemoInto(server->store_.get(), options.demo_dir).status());
  }

  if (options.require_keys) {
    ATABLE_ASSIGN_OR_RETURN(server->keys_, KeyRing::Load(server->store_.get()));
  }
  ATABLE_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, CredentialsFor(options));
  server->background_ = std::make_unique<Background>(options.max_long_calls);
  server->catalog_ = std::make_unique<CatalogService>(server->store_.get(), server->keys_.get());
  server->matchmaking_ = std::make_unique<MatchmakingService>(server->store_.get(), server->background_.get(),
                                                              server->keys_.get());
  server->admin_ = std::make_unique<AdminService>(server->store_.get(), server->keys_.get());
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen, credentials, &server->port_);
  builder.SetMaxReceiveMessageSize(options.max_message_bytes);
  builder.RegisterService(server->catalog_.get());
  builder.RegisterService(server->matchmaking_.get());
  builder.RegisterService(server->admin_.get());
  server->server_ = builder.BuildAndStart();
  if (server->server_ == nullptr || server->port_ == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options.listen));
  }
  server->maintenance_ = std::thread([s = server.get()] {
    NameThisThread("maintenance");
    s->MaintenanceLoop();
  });
  return server;
}

void AtableServer::MaintenanceLoop() {
  absl::MutexLock lock(&maintenance_mu_);
  while (!stopping_) {
    maintenance_mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.maintenance_interval);
    if (stopping_) break;
    maintenance_mu_.Unlock();
    RunMaintenance(absl::Now());
    maintenance_mu_.Lock();
  }
}

void AtableServer::RunMaintenance(absl::Time now) {
  absl::StatusOr<uint64_t> pruned = store_->PruneChanges(now - options_.change_retention);
  if (!pruned.ok()) std::fprintf(stderr, "atable-server: pruning changes: %s\n", pruned.status().ToString().c_str());

  uint64_t horizon = 0;
  {
    absl::MutexLock lock(&maintenance_mu_);
    revision_samples_.emplace_back(now, store_->revision());
    // Walks started before the oldest sample inside the token lifetime may be dropped.
    while (revision_samples_.size() > 1 && revision_samples_[1].first <= now - options_.page_token_ttl) {
      revision_samples_.pop_front();
    }
    if (revision_samples_.front().first <= now - options_.page_token_ttl) horizon = revision_samples_.front().second;
  }
  OfferIndex& index = store_->mutable_index();
  size_t dead = index.dead_versions();
  if (horizon > 0 && dead > 10000 && dead > index.live_offers() / 4) index.Compact(horizon);
}

std::string AtableServer::address() const {
  std::string host = options_.listen.substr(0, options_.listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]") host = "127.0.0.1";
  return absl::StrCat(host, ":", port_);
}

void AtableServer::Shutdown(absl::Duration grace) {
  if (shut_down_ || server_ == nullptr) return;
  shut_down_ = true;
  {
    absl::MutexLock lock(&maintenance_mu_);
    stopping_ = true;
  }
  if (maintenance_.joinable()) maintenance_.join();
  server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  background_->Drain();
  server_->Wait();
}

AtableServer::~AtableServer() {
  Shutdown(absl::Seconds(5));
  server_.reset();
  admin_.reset();
  matchmaking_.reset();
  catalog_.reset();
  background_.reset();
  store_.reset();
}

}  // namespace atable
