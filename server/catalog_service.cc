#include "server/catalog_service.h"

#include "absl/time/clock.h"
#include "server/core/status_macros.h"
#include "server/core/validation.h"
#include "server/raw_unary.h"

namespace atable {
namespace {

absl::Status UpsertProviderImpl(CatalogStore* store, const v1::UpsertProviderRequest& request,
                                v1::Provider* response) {
  if (!request.has_provider()) return absl::InvalidArgumentError("provider: is required");
  ATABLE_RETURN_IF_ERROR(ValidateProvider(request.provider()));
  ATABLE_ASSIGN_OR_RETURN(auto written, store->UpsertProvider(request.provider(), absl::Now()));
  *response = std::move(written.value);
  return absl::OkStatus();
}

absl::Status GetProviderImpl(CatalogStore* store, const v1::GetProviderRequest& request,
                             v1::Provider* response) {
  ATABLE_RETURN_IF_ERROR(ValidateId("id", request.id()));
  ATABLE_ASSIGN_OR_RETURN(*response, store->GetProvider(request.id()));
  return absl::OkStatus();
}

absl::Status DeleteProviderImpl(CatalogStore* store, const v1::DeleteProviderRequest& request) {
  ATABLE_RETURN_IF_ERROR(ValidateId("id", request.id()));
  return store->DeleteProvider(request.id(), request.etag());
}

absl::Status UpsertOfferImpl(CatalogStore* store, const v1::UpsertOfferRequest& request,
                             v1::Offer* response) {
  if (!request.has_offer()) return absl::InvalidArgumentError("offer: is required");
  ATABLE_RETURN_IF_ERROR(ValidateOffer(request.offer()));
  ATABLE_ASSIGN_OR_RETURN(auto written, store->UpsertOffer(request.offer(), absl::Now()));
  *response = std::move(written.value);
  return absl::OkStatus();
}

absl::Status GetOfferImpl(CatalogStore* store, const v1::GetOfferRequest& request,
                          v1::Offer* response) {
  ATABLE_RETURN_IF_ERROR(ValidateId("id", request.id()));
  ATABLE_ASSIGN_OR_RETURN(*response, store->GetOffer(request.id()));
  if (!response->has_location()) {
    // Offers without a location of their own are where their provider is.
    absl::StatusOr<v1::Provider> provider = store->GetProvider(response->provider_id());
    if (provider.ok() && provider->has_location()) *response->mutable_location() = provider->location();
  }
  return absl::OkStatus();
}

absl::Status DeleteOfferImpl(CatalogStore* store, const v1::DeleteOfferRequest& request) {
  ATABLE_RETURN_IF_ERROR(ValidateId("id", request.id()));
  return store->DeleteOffer(request.id(), request.etag());
}

absl::Status SearchOffersImpl(CatalogStore* store, const v1::SearchOffersRequest& request,
                              v1::SearchOffersResponse* response) {
  ATABLE_ASSIGN_OR_RETURN(SearchOutcome outcome, store->index().Search(request));
  for (SearchOutcome::Hit& hit : outcome.hits) {
    v1::SearchResult* result = response->add_results();
    if (!result->mutable_offer()->ParseFromString(hit.offer_bytes)) {
      return absl::DataLossError("search index: unreadable offer");
    }
    result->set_distance_km(hit.distance_km);
    result->set_relevance(hit.relevance);
  }
  response->set_next_page_token(std::move(outcome.next_page_token));
  response->set_total_count(outcome.total_count);
  for (v1::Facet& f : outcome.facets) *response->add_facets() = std::move(f);
  response->set_resume_token(ResumeToken(outcome.revision));
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* CatalogService::SearchOffers(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  return ServeUnary<v1::SearchOffersRequest, v1::SearchOffersResponse>(
      context, request, response,
      [this](const auto& req, auto* resp) { return SearchOffersImpl(store_, req, resp); });
}

grpc::ServerReadReactor<grpc::ByteBuffer>* CatalogService::ImportOffers(
    grpc::CallbackServerContext* context, grpc::ByteBuffer* response) {
  return StartImport(store_, context, response);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* CatalogService::ListChanges(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  return StartChangeStream(store_, &notifier_, context, request);
}

grpc::ServerUnaryReactor* CatalogService::UpsertProvider(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  return ServeUnary<v1::UpsertProviderRequest, v1::Provider>(
      context, request, response,
      [this](const auto& req, auto* resp) { return UpsertProviderImpl(store_, req, resp); });
}

grpc::ServerUnaryReactor* CatalogService::GetProvider(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetProviderRequest, v1::Provider>(
      context, request, response,
      [this](const auto& req, auto* resp) { return GetProviderImpl(store_, req, resp); });
}

grpc::ServerUnaryReactor* CatalogService::DeleteProvider(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  return ServeUnary<v1::DeleteProviderRequest, google::protobuf::Empty>(
      context, request, response,
      [this](const auto& req, auto*) { return DeleteProviderImpl(store_, req); });
}

grpc::ServerUnaryReactor* CatalogService::UpsertOffer(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeUnary<v1::UpsertOfferRequest, v1::Offer>(
      context, request, response,
      [this](const auto& req, auto* resp) { return UpsertOfferImpl(store_, req, resp); });
}

grpc::ServerUnaryReactor* CatalogService::GetOffer(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* request,
                                                   grpc::ByteBuffer* response) {
  return ServeUnary<v1::GetOfferRequest, v1::Offer>(
      context, request, response,
      [this](const auto& req, auto* resp) { return GetOfferImpl(store_, req, resp); });
}

grpc::ServerUnaryReactor* CatalogService::DeleteOffer(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  return ServeUnary<v1::DeleteOfferRequest, google::protobuf::Empty>(
      context, request, response,
      [this](const auto& req, auto*) { return DeleteOfferImpl(store_, req); });
}

}  // namespace atable
