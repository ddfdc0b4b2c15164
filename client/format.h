// Readable text for catalog resources, as the CLI prints them.
#ifndef ATABLE_CLIENT_FORMAT_H_
#define ATABLE_CLIENT_FORMAT_H_

#include <string>

#include "atable/v1/catalog.pb.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/status.h"

namespace atable::cli {

// "55.00-75.00 EUR per night (toute l'année)".
std::string FormatPrice(const v1::Price& price);

// A block of "Label   value" lines describing the offer or provider.
std::string FormatOffer(const v1::Offer& offer);
std::string FormatProvider(const v1::Provider& provider);

// The message in protobuf's JSON mapping, indented, field names as in the proto.
std::string ToJson(const google::protobuf::Message& message);

// A sentence for a failed call: what went wrong, in words, with the server's detail.
std::string DescribeError(const grpc::Status& status, const std::string& server);

// Exit codes of the CLI.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;       // the server refused the request (bad input, not found...)
inline constexpr int kExitUsage = 2;        // wrong command line or unreadable input file
inline constexpr int kExitUnavailable = 3;  // the server could not be reached

// The exit code for a failed call.
int ExitCodeFor(const grpc::Status& status);

}  // namespace atable::cli

#endif  // ATABLE_CLIENT_FORMAT_H_
