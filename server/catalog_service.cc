#include "server/catalog_service.h"

#include "absl/time/clock.h"
#include "server/core/status_macros.h"
#include "server/core/validation.h"
#include "server/grpc_status.h"

namespace atable {
namespace {

grpc::ServerUnaryReactor* Finish(grpc::CallbackServerContext* context, const absl::Status& s) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(s));
  return reactor;
}

absl::Status DoUpsertProvider(CatalogStore* store, const v1::UpsertProviderRequest& request,
                              v1::Provider* response) {
  if (!request.has_provider()) return absl::InvalidArgumentError("provider: is required");
  ATABLE_RETURN_IF_ERROR(ValidateProvider(request.provider()));
  ATABLE_ASSIGN_OR_RETURN(auto written, store->UpsertProvider(request.provider(), absl::Now()));
  *response = std::move(written.value);
  return absl::OkStatus();
}

absl::Status DoUpsertOffer(CatalogStore* store, const v1::UpsertOfferRequest& request,
                           v1::Offer* response) {
  if (!request.has_offer()) return absl::InvalidArgumentError("offer: is required");
  ATABLE_RETURN_IF_ERROR(ValidateOffer(request.offer()));
  ATABLE_ASSIGN_OR_RETURN(auto written, store->UpsertOffer(request.offer(), absl::Now()));
  *response = std::move(written.value);
  return absl::OkStatus();
}

absl::Status DoGetProvider(CatalogStore* store, const v1::GetProviderRequest& request,
                           v1::Provider* response) {
  ATABLE_RETURN_IF_ERROR(ValidateId("id", request.id()));
  ATABLE_ASSIGN_OR_RETURN(*response, store->GetProvider(request.id()));
  return absl::OkStatus();
}

absl::Status DoGetOffer(CatalogStore* store, const v1::GetOfferRequest& request, v1::Offer* response) {
  ATABLE_RETURN_IF_ERROR(ValidateId("id", request.id()));
  ATABLE_ASSIGN_OR_RETURN(*response, store->GetOffer(request.id()));
  if (!response->has_location()) {
    // Offers without a location of their own are where their provider is.
    absl::StatusOr<v1::Provider> provider = store->GetProvider(response->provider_id());
    if (provider.ok() && provider->has_location()) *response->mutable_location() = provider->location();
  }
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* CatalogService::UpsertProvider(grpc::CallbackServerContext* context,
                                                         const v1::UpsertProviderRequest* request,
                                                         v1::Provider* response) {
  return Finish(context, DoUpsertProvider(store_, *request, response));
}

grpc::ServerUnaryReactor* CatalogService::GetProvider(grpc::CallbackServerContext* context,
                                                      const v1::GetProviderRequest* request,
                                                      v1::Provider* response) {
  return Finish(context, DoGetProvider(store_, *request, response));
}

grpc::ServerUnaryReactor* CatalogService::DeleteProvider(grpc::CallbackServerContext* context,
                                                         const v1::DeleteProviderRequest* request,
                                                         google::protobuf::Empty* response) {
  absl::Status s = ValidateId("id", request->id());
  if (s.ok()) s = store_->DeleteProvider(request->id(), request->etag());
  return Finish(context, s);
}

grpc::ServerUnaryReactor* CatalogService::UpsertOffer(grpc::CallbackServerContext* context,
                                                      const v1::UpsertOfferRequest* request,
                                                      v1::Offer* response) {
  return Finish(context, DoUpsertOffer(store_, *request, response));
}

grpc::ServerUnaryReactor* CatalogService::GetOffer(grpc::CallbackServerContext* context,
                                                   const v1::GetOfferRequest* request,
                                                   v1::Offer* response) {
  return Finish(context, DoGetOffer(store_, *request, response));
}

grpc::ServerUnaryReactor* CatalogService::DeleteOffer(grpc::CallbackServerContext* context,
                                                      const v1::DeleteOfferRequest* request,
                                                      google::protobuf::Empty* response) {
  absl::Status s = ValidateId("id", request->id());
  if (s.ok()) s = store_->DeleteOffer(request->id(), request->etag());
  return Finish(context, s);
}

}  // namespace atable
