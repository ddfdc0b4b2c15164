// The atable.v1.Admin gRPC service: API keys and online backups, for organizer keys only.
#ifndef ATABLE_SERVER_ADMIN_SERVICE_H_
#define ATABLE_SERVER_ADMIN_SERVICE_H_

#include "atable/v1/admin.grpc.pb.h"
#include "server/auth.h"
#include "storage/catalog_store.h"

namespace atable {

using AdminRawService = v1::Admin::WithRawCallbackMethod_CreateKey<v1::Admin::WithRawCallbackMethod_RevokeKey<
    v1::Admin::WithRawCallbackMethod_ListKeys<v1::Admin::WithRawCallbackMethod_CreateBackup<v1::Admin::CallbackService>>>>;

class AdminService final : public AdminRawService {
 public:
  // `store` and `keys` must outlive the service; with `keys` null (a server without keys) the key
  // methods answer FAILED_PRECONDITION and backups are open to every caller.
  AdminService(CatalogStore* store, KeyRing* keys) : store_(store), keys_(keys) {}

  grpc::ServerUnaryReactor* CreateKey(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* RevokeKey(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListKeys(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* CreateBackup(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;

 private:
  CatalogStore* const store_;
  KeyRing* const keys_;
};

}  // namespace atable

#endif  // ATABLE_SERVER_ADMIN_SERVICE_H_
