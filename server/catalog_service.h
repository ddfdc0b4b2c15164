// The atable.v1.Catalog gRPC service: parses each request itself (so that a malformed one gets
// INVALID_ARGUMENT naming the field, even for bytes protobuf refuses), validates it, calls the
// store, and maps the status.
#ifndef ATABLE_SERVER_CATALOG_SERVICE_H_
#define ATABLE_SERVER_CATALOG_SERVICE_H_

#include "atable/v1/catalog.grpc.pb.h"
#include "server/change_streams.h"
#include "storage/catalog_store.h"

namespace atable {

// Every method takes raw bytes: gRPC's own parsing would answer a request holding invalid UTF-8
// with a bare UNIMPLEMENTED.
using CatalogRawService = v1::Catalog::WithRawCallbackMethod_UpsertProvider<
    v1::Catalog::WithRawCallbackMethod_GetProvider<v1::Catalog::WithRawCallbackMethod_DeleteProvider<
        v1::Catalog::WithRawCallbackMethod_UpsertOffer<v1::Catalog::WithRawCallbackMethod_GetOffer<
            v1::Catalog::WithRawCallbackMethod_DeleteOffer<v1::Catalog::WithRawCallbackMethod_SearchOffers<
                v1::Catalog::WithRawCallbackMethod_ImportOffers<v1::Catalog::WithRawCallbackMethod_ListChanges<
                    v1::Catalog::CallbackService>>>>>>>>>;

class CatalogService final : public CatalogRawService {
 public:
  // `store` must outlive the service.
  // `store` and `keys` must outlive the service; `keys` null serves everyone as an organizer.
  CatalogService(CatalogStore* store, const KeyRing* keys) : store_(store), keys_(keys), notifier_(store) {}

  grpc::ServerUnaryReactor* UpsertProvider(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetProvider(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DeleteProvider(grpc::CallbackServerContext* context,
                                           const grpc::ByteBuffer* request,
                                           grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* UpsertOffer(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetOffer(grpc::CallbackServerContext* context,
                                     const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DeleteOffer(grpc::CallbackServerContext* context,
                                        const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;

  grpc::ServerUnaryReactor* SearchOffers(grpc::CallbackServerContext* context,
                                         const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerReadReactor<grpc::ByteBuffer>* ImportOffers(grpc::CallbackServerContext* context,
                                                          grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* ListChanges(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request) override;

 private:
  CatalogStore* const store_;
  const KeyRing* const keys_;
  ChangeNotifier notifier_;
};

}  // namespace atable

#endif  // ATABLE_SERVER_CATALOG_SERVICE_H_
