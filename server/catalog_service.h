// The atable.v1.Catalog gRPC service: validates each request, calls the store, maps the status.
#ifndef ATABLE_SERVER_CATALOG_SERVICE_H_
#define ATABLE_SERVER_CATALOG_SERVICE_H_

#include "atable/v1/catalog.grpc.pb.h"
#include "storage/catalog_store.h"

namespace atable {

class CatalogService final : public v1::Catalog::CallbackService {
 public:
  // `store` must outlive the service.
  explicit CatalogService(CatalogStore* store) : store_(store) {}

  grpc::ServerUnaryReactor* UpsertProvider(grpc::CallbackServerContext* context,
                                           const v1::UpsertProviderRequest* request,
                                           v1::Provider* response) override;
  grpc::ServerUnaryReactor* GetProvider(grpc::CallbackServerContext* context,
                                        const v1::GetProviderRequest* request,
                                        v1::Provider* response) override;
  grpc::ServerUnaryReactor* DeleteProvider(grpc::CallbackServerContext* context,
                                           const v1::DeleteProviderRequest* request,
                                           google::protobuf::Empty* response) override;
  grpc::ServerUnaryReactor* UpsertOffer(grpc::CallbackServerContext* context,
                                        const v1::UpsertOfferRequest* request,
                                        v1::Offer* response) override;
  grpc::ServerUnaryReactor* GetOffer(grpc::CallbackServerContext* context,
                                     const v1::GetOfferRequest* request,
                                     v1::Offer* response) override;
  grpc::ServerUnaryReactor* DeleteOffer(grpc::CallbackServerContext* context,
                                        const v1::DeleteOfferRequest* request,
                                        google::protobuf::Empty* response) override;

 private:
  CatalogStore* const store_;
};

}  // namespace atable

#endif  // ATABLE_SERVER_CATALOG_SERVICE_H_
