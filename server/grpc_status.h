// The one place where an absl::Status becomes a grpc::Status (the codes share their numbers).
#ifndef ATABLE_SERVER_GRPC_STATUS_H_
#define ATABLE_SERVER_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace atable {

inline grpc::Status ToGrpcStatus(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()), std::string(s.message()));
}

}  // namespace atable

#endif  // ATABLE_SERVER_GRPC_STATUS_H_
