// Serving a unary method from raw bytes: parse the request with errors that name the field, run
// the handler, serialize the response, finish the call.
#ifndef ATABLE_SERVER_RAW_UNARY_H_
#define ATABLE_SERVER_RAW_UNARY_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/proto_buffer_writer.h"
#include "server/core/wire.h"
#include "server/grpc_status.h"

namespace atable {

// Runs `handler(const Request&, Response*) -> absl::Status` on the request in `in` and finishes
// the call with its status (INVALID_ARGUMENT if `in` is not a Request), writing the response to
// `out` on success. Returns the reactor for the callback API.
template <typename Request, typename Response, typename Handler>
grpc::ServerUnaryReactor* ServeUnary(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* in, grpc::ByteBuffer* out,
                                     Handler&& handler) {
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (in->Dump(&slices).ok()) {
    bytes.reserve(in->Length());
    for (const grpc::Slice& slice : slices) {
      bytes.append(reinterpret_cast<const char*>(slice.begin()), slice.size());
    }
  }
  Request request;
  Response response;
  absl::Status status = ParseWireMessage(bytes, &request);
  if (status.ok()) status = handler(request, &response);
  grpc::Status result = ToGrpcStatus(status);
  if (result.ok()) {
    bool own_buffer = false;
    result = grpc::SerializationTraits<Response>::Serialize(response, out, &own_buffer);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(result);
  return reactor;
}

}  // namespace atable

#endif  // ATABLE_SERVER_RAW_UNARY_H_
