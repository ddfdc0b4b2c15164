#include "client/client.h"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "client/format.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace atable::cli {

namespace {

bool ReadPem(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in.good() && !in.eof()) {
    std::fprintf(stderr, "atable: cannot read %s\n", path.c_str());
    return false;
  }
  *out = text.str();
  return true;
}

}  // namespace

bool ChannelCredentialsFor(const GlobalOptions& options, std::shared_ptr<grpc::ChannelCredentials>* out) {
  if (options.tls_ca.empty() && options.tls_cert.empty()) {
    *out = grpc::InsecureChannelCredentials();
    return true;
  }
  grpc::SslCredentialsOptions ssl;
  if (!options.tls_ca.empty() && !ReadPem(options.tls_ca, &ssl.pem_root_certs)) return false;
  if (!options.tls_cert.empty() &&
      (!ReadPem(options.tls_cert, &ssl.pem_cert_chain) || !ReadPem(options.tls_key, &ssl.pem_private_key))) {
    return false;
  }
  *out = grpc::SslCredentials(ssl);
  return true;
}

Client::Client(const GlobalOptions& options) : options_(options) {
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Unreadable PEM files were reported; calls then fail as unreachable.
  if (!ChannelCredentialsFor(options, &credentials)) credentials = grpc::InsecureChannelCredentials();
  channel_ = grpc::CreateChannel(options.server, credentials);
}

std::unique_ptr<grpc::ClientContext> Client::Context(bool streaming) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (!options_.token.empty()) context->AddMetadata("authorization", "Bearer " + options_.token);
  if (!streaming) {
    context->set_deadline(std::chrono::system_clock::now() +
                          std::chrono::milliseconds(static_cast<int64_t>(options_.timeout_seconds * 1000)));
  }
  return context;
}

int Client::Fail(const grpc::Status& status) const {
  std::fprintf(stderr, "atable: %s\n", DescribeError(status, options_.server).c_str());
  return ExitCodeFor(status);
}

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

void PrintJsonLine(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  std::string json;
  (void)google::protobuf::util::MessageToJsonString(message, &json, options);
  std::printf("%s\n", json.c_str());
  std::fflush(stdout);
}

}  // namespace atable::cli
