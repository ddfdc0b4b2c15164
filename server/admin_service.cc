#include "server/admin_service.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/raw_unary.h"

namespace atable {
namespace {

absl::Status NeedKeys(const KeyRing* keys) {
  if (keys != nullptr) return absl::OkStatus();
  return absl::FailedPreconditionError("this server was started without API keys");
}

}  // namespace

grpc::ServerUnaryReactor* AdminService::CreateKey(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                                  grpc::ByteBuffer* response) {
  if (absl::Status s = Authorize(keys_, *context, Access::kOrganize).status(); !s.ok()) return Refuse(context, s);
  return ServeUnary<v1::CreateKeyRequest, v1::CreateKeyResponse>(context, request, response,
                                                                 [this](const auto& req, auto* resp) {
    if (absl::Status s = NeedKeys(keys_); !s.ok()) return s;
    absl::StatusOr<v1::CreateKeyResponse> created = keys_->Create(req, absl::Now());
    if (!created.ok()) return created.status();
    *resp = *std::move(created);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminService::RevokeKey(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                                  grpc::ByteBuffer* response) {
  if (absl::Status s = Authorize(keys_, *context, Access::kOrganize).status(); !s.ok()) return Refuse(context, s);
  return ServeUnary<v1::RevokeKeyRequest, google::protobuf::Empty>(context, request, response,
                                                                   [this](const auto& req, auto*) {
    if (absl::Status s = NeedKeys(keys_); !s.ok()) return s;
    if (req.id().empty()) return absl::InvalidArgumentError("id: is required");
    return keys_->Revoke(req.id());
  });
}

grpc::ServerUnaryReactor* AdminService::ListKeys(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                                 grpc::ByteBuffer* response) {
  if (absl::Status s = Authorize(keys_, *context, Access::kOrganize).status(); !s.ok()) return Refuse(context, s);
  return ServeUnary<v1::ListKeysRequest, v1::ListKeysResponse>(context, request, response,
                                                               [this](const auto&, auto* resp) {
    if (absl::Status s = NeedKeys(keys_); !s.ok()) return s;
    for (v1::ApiKey& key : keys_->List()) *resp->add_keys() = std::move(key);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AdminService::CreateBackup(grpc::CallbackServerContext* context,
                                                     const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  if (absl::Status s = Authorize(keys_, *context, Access::kOrganize).status(); !s.ok()) return Refuse(context, s);
  return ServeUnary<v1::CreateBackupRequest, v1::CreateBackupResponse>(context, request, response,
                                                                       [this](const auto& req, auto* resp) {
    if (req.directory().empty()) return absl::InvalidArgumentError("directory: is required");
    absl::StatusOr<CatalogStore::BackupInfo> info = store_->Backup(req.directory());
    if (!info.ok()) return info.status();
    resp->set_backup_id(info->id);
    resp->set_revision(info->revision);
    resp->set_size_bytes(info->size_bytes);
    return absl::OkStatus();
  });
}

}  // namespace atable
