// atable: the organizers' command-line client of atable-server.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "CLI/CLI.hpp"
#include "atable/v1/catalog.grpc.pb.h"
#include "client/format.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace atable::cli {
namespace {

struct GlobalOptions {
  std::string server = "127.0.0.1:50051";
  bool json = false;
  double timeout_seconds = 10;
};

class Client {
 public:
  explicit Client(const GlobalOptions& options)
      : options_(options),
        channel_(grpc::CreateChannel(options.server, grpc::InsecureChannelCredentials())) {}

  // A context with the deadline of --timeout.
  std::unique_ptr<grpc::ClientContext> Context() const {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(options_.timeout_seconds * 1000)));
    return context;
  }
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  const GlobalOptions& options() const { return options_; }

  // Prints the failure of a call and returns its exit code.
  int Fail(const grpc::Status& status) const {
    std::fprintf(stderr, "atable: %s\n", DescribeError(status, options_.server).c_str());
    return ExitCodeFor(status);
  }

 private:
  const GlobalOptions& options_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Reads `path` ("-" for standard input) into `out`; prints why not and returns false on failure.
bool ReadInput(const std::string& path, std::string* out) {
  std::stringstream text;
  if (path == "-") {
    text << std::cin.rdbuf();
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "atable: cannot read %s\n", path.c_str());
      return false;
    }
    text << in.rdbuf();
  }
  *out = text.str();
  return true;
}

// Parses a JSON file into `message`; prints why not and returns false on failure.
bool ReadJsonMessage(const std::string& path, google::protobuf::Message* message) {
  std::string text;
  if (!ReadInput(path, &text)) return false;
  auto status = google::protobuf::util::JsonStringToMessage(text, message);
  if (!status.ok()) {
    std::fprintf(stderr, "atable: %s is not a valid %s in JSON: %s\n", path.c_str(),
                 message->GetDescriptor()->name().c_str(), status.ToString().c_str());
    return false;
  }
  return true;
}

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

template <typename T>
int Print(const Client& client, const T& resource, std::string (*format)(const T&)) {
  std::fputs(client.options().json ? (ToJson(resource) + "\n").c_str() : format(resource).c_str(), stdout);
  return kExitOk;
}

void AddCatalogCommands(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  static std::string id, file, etag;

  CLI::App* providers = app.add_subcommand("providers", "Read and write providers")->require_subcommand(1);
  CLI::App* pget = providers->add_subcommand("get", "Print a provider\n  example: atable providers get af-15000-hotel-du-palais");
  pget->add_option("id", id, "Provider id")->required();
  pget->callback([&options, exit_code] {
    Client client(options);
    auto stub = v1::Catalog::NewStub(client.channel());
    v1::GetProviderRequest request;
    request.set_id(id);
    v1::Provider provider;
    grpc::Status s = stub->GetProvider(client.Context().get(), request, &provider);
    *exit_code = s.ok() ? Print(client, provider, &FormatProvider) : client.Fail(s);
  });
  CLI::App* pput = providers->add_subcommand(
      "put", "Create or replace a provider from a JSON file (atable.v1.Provider, proto field names)\n"
             "  example: atable providers put provider.json");
  pput->add_option("file", file, "JSON file, - for standard input")->required();
  pput->callback([&options, exit_code] {
    Client client(options);
    v1::UpsertProviderRequest request;
    if (!ReadJsonMessage(file, request.mutable_provider())) return void(*exit_code = kExitUsage);
    v1::Provider provider;
    grpc::Status s = v1::Catalog::NewStub(client.channel())->UpsertProvider(client.Context().get(), request, &provider);
    *exit_code = s.ok() ? Print(client, provider, &FormatProvider) : client.Fail(s);
  });
  CLI::App* pdel = providers->add_subcommand("delete", "Delete a provider and all its offers\n  example: atable providers delete demo-0001");
  pdel->add_option("id", id, "Provider id")->required();
  pdel->add_option("--etag", etag, "Delete only if the provider still has this etag");
  pdel->callback([&options, exit_code] {
    Client client(options);
    v1::DeleteProviderRequest request;
    request.set_id(id);
    request.set_etag(etag);
    google::protobuf::Empty empty;
    grpc::Status s = v1::Catalog::NewStub(client.channel())->DeleteProvider(client.Context().get(), request, &empty);
    if (s.ok()) std::printf("deleted provider %s\n", id.c_str());
    *exit_code = s.ok() ? kExitOk : client.Fail(s);
  });

  CLI::App* offers = app.add_subcommand("offers", "Read and write offers")->require_subcommand(1);
  CLI::App* oget = offers->add_subcommand("get", "Print an offer\n  example: atable offers get demo-0001/1");
  oget->add_option("id", id, "Offer id")->required();
  oget->callback([&options, exit_code] {
    Client client(options);
    v1::GetOfferRequest request;
    request.set_id(id);
    v1::Offer offer;
    grpc::Status s = v1::Catalog::NewStub(client.channel())->GetOffer(client.Context().get(), request, &offer);
    *exit_code = s.ok() ? Print(client, offer, &FormatOffer) : client.Fail(s);
  });
  CLI::App* oput = offers->add_subcommand(
      "put", "Create or replace an offer from a JSON file (atable.v1.Offer, proto field names)\n"
             "  example: atable offers put offer.json");
  oput->add_option("file", file, "JSON file, - for standard input")->required();
  oput->callback([&options, exit_code] {
    Client client(options);
    v1::UpsertOfferRequest request;
    if (!ReadJsonMessage(file, request.mutable_offer())) return void(*exit_code = kExitUsage);
    v1::Offer offer;
    grpc::Status s = v1::Catalog::NewStub(client.channel())->UpsertOffer(client.Context().get(), request, &offer);
    *exit_code = s.ok() ? Print(client, offer, &FormatOffer) : client.Fail(s);
  });
  CLI::App* odel = offers->add_subcommand("delete", "Delete an offer\n  example: atable offers delete demo-0001/1");
  odel->add_option("id", id, "Offer id")->required();
  odel->add_option("--etag", etag, "Delete only if the offer still has this etag");
  odel->callback([&options, exit_code] {
    Client client(options);
    v1::DeleteOfferRequest request;
    request.set_id(id);
    request.set_etag(etag);
    google::protobuf::Empty empty;
    grpc::Status s = v1::Catalog::NewStub(client.channel())->DeleteOffer(client.Context().get(), request, &empty);
    if (s.ok()) std::printf("deleted offer %s\n", id.c_str());
    *exit_code = s.ok() ? kExitOk : client.Fail(s);
  });
}

}  // namespace
}  // namespace atable::cli

int main(int argc, char** argv) {
  using namespace atable::cli;
  GlobalOptions options;
  if (const char* env = std::getenv("ATABLE_SERVER")) options.server = env;
  int exit_code = kExitOk;

  CLI::App app{"atable: the organizers' client of an atable server (catalog, buyers, events).", "atable"};
  app.footer(
      "Exit codes: 0 done, 1 the server refused the request, 2 wrong command line or input file,\n"
      "3 server unreachable or too slow.\n"
      "Example: atable --server 127.0.0.1:50051 offers get af-15110-arev-hotel/stay");
  app.require_subcommand(1);
  app.add_option("--server", options.server, "Server address host:port (env ATABLE_SERVER)")
      ->capture_default_str();
  app.add_flag("--json", options.json, "Print machine-readable JSON");
  app.add_option("--timeout", options.timeout_seconds, "Seconds to wait for each call")->capture_default_str();

  app.add_subcommand("health", "Ask whether the server is serving\n  example: atable health")
      ->callback([&] { exit_code = Health(Client(options)); });
  AddCatalogCommands(app, options, &exit_code);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return exit_code;
}
