// Serving a unary method from raw bytes: parse the request with errors that name the field, run
// the handler, serialize the response, finish the call.
#ifndef ATABLE_SERVER_RAW_UNARY_H_
#define ATABLE_SERVER_RAW_UNARY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message_lite.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/core/wire.h"
#include "server/grpc_status.h"

namespace atable {

// Replaces `bytes` with the bytes of a received message, keeping its room (a stream's reader
// reuses one string for message after message rather than asking malloc for each).
inline void CopyBytes(const grpc::ByteBuffer& buffer, std::string* bytes) {
  bytes->clear();
  std::vector<grpc::Slice> slices;
  if (buffer.Dump(&slices).ok()) {
    bytes->reserve(buffer.Length());
    for (const grpc::Slice& slice : slices)
      bytes->append(reinterpret_cast<const char*>(slice.begin()), slice.size());
  }
}

// The bytes of a received message.
inline std::string BytesOf(const grpc::ByteBuffer& buffer) {
  std::string bytes;
  CopyBytes(buffer, &bytes);
  return bytes;
}

// A message to send, serialized into one slice.
inline grpc::ByteBuffer BufferOf(const google::protobuf::MessageLite& message) {
  grpc::Slice slice(message.SerializeAsString());
  return grpc::ByteBuffer(&slice, 1);
}

// Runs `handler(const Request&, std::string* response_bytes) -> absl::Status` on the request in
// `in` and finishes the call with its status (INVALID_ARGUMENT if `in` is not a Request), sending
// the serialized response the handler wrote on success. Returns the reactor for the callback API.
template <typename Request, typename Handler>
grpc::ServerUnaryReactor* ServeUnaryBytes(grpc::CallbackServerContext* context,
                                          const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
                                          Handler&& handler) {
  Request request;
  absl::Status status = ParseWireMessage(BytesOf(*in), &request);
  std::string response;
  if (status.ok()) status = handler(request, &response);
  if (status.ok()) {
    grpc::Slice slice(std::move(response));
    *out = grpc::ByteBuffer(&slice, 1);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

// Like ServeUnaryBytes, with a handler that fills a Response message:
// `handler(const Request&, Response*) -> absl::Status`.
template <typename Request, typename Response, typename Handler>
grpc::ServerUnaryReactor* ServeUnary(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
                                     Handler&& handler) {
  return ServeUnaryBytes<Request>(context, in, out, [&](const Request& request, std::string* bytes) {
    Response response;
    absl::Status status = handler(request, &response);
    if (status.ok()) response.SerializeToString(bytes);
    return status;
  });
}

}  // namespace atable

#endif  // ATABLE_SERVER_RAW_UNARY_H_
