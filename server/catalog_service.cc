#include "server/catalog_service.h"

#include "absl/time/clock.h"
#include "server/core/status_macros.h"
#include "server/core/validation.h"
#include "server/core/wire.h"
#include "server/import_stream.h"
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
                              std::string* response) {
  ATABLE_ASSIGN_OR_RETURN(SearchOutcome outcome, store->index().Search(request));
  size_t size = 64;
  for (const auto& hit : outcome.hits) size += hit.offer_bytes.size() + 32;
  response->reserve(size);
  std::string result;
  for (const SearchOutcome::Hit& hit : outcome.hits) {
    result.clear();
    PutBytes(v1::SearchResult::kOfferFieldNumber, hit.offer_bytes, &result);
    PutDouble(v1::SearchResult::kDistanceKmFieldNumber, hit.distance_km, &result);
    PutDouble(v1::SearchResult::kRelevanceFieldNumber, hit.relevance, &result);
    PutBytes(v1::SearchOffersResponse::kResultsFieldNumber, result, response);
  }
  if (!outcome.next_page_token.empty()) {
    PutBytes(v1::SearchOffersResponse::kNextPageTokenFieldNumber, outcome.next_page_token, response);
  }
  if (outcome.total_count != 0) {
    PutTag(v1::SearchOffersResponse::kTotalCountFieldNumber, 0, response);
    PutVarint(static_cast<uint64_t>(outcome.total_count), response);
  }
  for (const v1::Facet& f : outcome.facets) {
    PutBytes(v1::SearchOffersResponse::kFacetsFieldNumber, f.SerializeAsString(), response);
  }
  PutBytes(v1::SearchOffersResponse::kResumeTokenFieldNumber, ResumeToken(outcome.revision), response);
  return absl::OkStatus();
}

}  // namespace

grpc::ServerUnaryReactor* CatalogService::SearchOffers(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request,
                                                       grpc::ByteBuffer* response) {
  absl::StatusOr<Principal> who = Authorize(keys_, *context, Access::kRead);
  if (!who.ok()) return Refuse(context, who.status());
  return ServeUnaryBytes<v1::SearchOffersRequest>(
      context, request, response,
      [this](const auto& req, std::string* bytes) { return SearchOffersImpl(store_, req, bytes); });
}

grpc::ServerReadReactor<grpc::ByteBuffer>* CatalogService::ImportOffers(
    grpc::CallbackServerContext* context, grpc::ByteBuffer* response) {
  return StartImport(store_, keys_, context, response);
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* CatalogService::ListChanges(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request) {
  return StartChangeStream(store_, keys_, &notifier_, context, request);
}

grpc::ServerUnaryReactor* CatalogService::UpsertProvider(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  absl::StatusOr<Principal> who = Authorize(keys_, *context, Access::kWrite);
  if (!who.ok()) return Refuse(context, who.status());
  return ServeUnary<v1::UpsertProviderRequest, v1::Provider>(
      context, request, response,
      [&](const auto& req, auto* resp) {
        ATABLE_RETURN_IF_ERROR(CheckWritesProvider(*who, req.provider().id(), "provider.id"));
        return UpsertProviderImpl(store_, req, resp);
      });
}

grpc::ServerUnaryReactor* CatalogService::GetProvider(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  absl::StatusOr<Principal> who = Authorize(keys_, *context, Access::kRead);
  if (!who.ok()) return Refuse(context, who.status());
  return ServeUnary<v1::GetProviderRequest, v1::Provider>(
      context, request, response,
      [this](const auto& req, auto* resp) { return GetProviderImpl(store_, req, resp); });
}

grpc::ServerUnaryReactor* CatalogService::DeleteProvider(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request,
                                                         grpc::ByteBuffer* response) {
  absl::StatusOr<Principal> who = Authorize(keys_, *context, Access::kWrite);
  if (!who.ok()) return Refuse(context, who.status());
  return ServeUnary<v1::DeleteProviderRequest, google::protobuf::Empty>(
      context, request, response,
      [&](const auto& req, auto*) {
        ATABLE_RETURN_IF_ERROR(CheckWritesProvider(*who, req.id(), "id"));
        return DeleteProviderImpl(store_, req);
      });
}

grpc::ServerUnaryReactor* CatalogService::UpsertOffer(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  absl::StatusOr<Principal> who = Authorize(keys_, *context, Access::kWrite);
  if (!who.ok()) return Refuse(context, who.status());
  return ServeUnary<v1::UpsertOfferRequest, v1::Offer>(
      context, request, response,
      [&](const auto& req, auto* resp) {
        ATABLE_RETURN_IF_ERROR(CheckWritesOffer(*who, *store_, req.offer()));
        return UpsertOfferImpl(store_, req, resp);
      });
}

grpc::ServerUnaryReactor* CatalogService::GetOffer(grpc::CallbackServerContext* context,
                                                   const grpc::ByteBuffer* request,
                                                   grpc::ByteBuffer* response) {
  absl::StatusOr<Principal> who = Authorize(keys_, *context, Access::kRead);
  if (!who.ok()) return Refuse(context, who.status());
  return ServeUnary<v1::GetOfferRequest, v1::Offer>(
      context, request, response,
      [this](const auto& req, auto* resp) { return GetOfferImpl(store_, req, resp); });
}

grpc::ServerUnaryReactor* CatalogService::DeleteOffer(grpc::CallbackServerContext* context,
                                                      const grpc::ByteBuffer* request,
                                                      grpc::ByteBuffer* response) {
  absl::StatusOr<Principal> who = Authorize(keys_, *context, Access::kWrite);
  if (!who.ok()) return Refuse(context, who.status());
  return ServeUnary<v1::DeleteOfferRequest, google::protobuf::Empty>(
      context, request, response,
      [&](const auto& req, auto*) {
        if (who->role != v1::ROLE_ORGANIZER) {
          absl::StatusOr<v1::Offer> stored = store_->GetOffer(req.id());
          if (stored.ok()) ATABLE_RETURN_IF_ERROR(CheckWritesProvider(*who, stored->provider_id(), "id"));
        }
        return DeleteOfferImpl(store_, req);
      });
}

}  // namespace atable
