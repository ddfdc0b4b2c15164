// What every atable command shares: the global options, the connection, input files, errors.
#ifndef ATABLE_CLIENT_CLIENT_H_
#define ATABLE_CLIENT_CLIENT_H_

#include <chrono>
#include <memory>
#include <string>

#include "google/protobuf/message.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/security/credentials.h"

namespace atable::cli {

struct GlobalOptions {
  std::string server = "127.0.0.1:50051";
  bool json = false;
  double timeout_seconds = 10;
  std::string token;        // API key sent as "authorization: Bearer <token>" (env ATABLE_TOKEN)
  std::string tls_ca;       // PEM file of the CA that signed the server's certificate: TLS on
  std::string tls_cert;     // mutual TLS: the client's certificate and key (PEM files)
  std::string tls_key;
};

// Channel credentials for the options: TLS when a CA is given, plaintext otherwise. False (with
// the reason printed) when a PEM file cannot be read.
bool ChannelCredentialsFor(const GlobalOptions& options, std::shared_ptr<grpc::ChannelCredentials>* out);

// A connection to the server named by the options.
class Client {
 public:
  explicit Client(const GlobalOptions& options);

  // A context with the deadline of --timeout (none if `streaming`: a stream lasts as it must).
  std::unique_ptr<grpc::ClientContext> Context(bool streaming = false) const;
  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  const GlobalOptions& options() const { return options_; }

  // Prints the failure of a call in words and returns its exit code.
  int Fail(const grpc::Status& status) const;

 private:
  const GlobalOptions& options_;
  std::shared_ptr<grpc::Channel> channel_;
};

// Reads `path` ("-" for standard input) into `out`; prints why not and returns false on failure.
bool ReadInput(const std::string& path, std::string* out);

// Parses a JSON file (protobuf's JSON mapping) into `message`; prints why not and returns false.
bool ReadJsonMessage(const std::string& path, google::protobuf::Message* message);

// Prints `message` as one line of JSON (for --json output of lists and streams).
void PrintJsonLine(const google::protobuf::Message& message);

}  // namespace atable::cli

#endif  // ATABLE_CLIENT_CLIENT_H_
