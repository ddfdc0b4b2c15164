#include "server/matchmaking_service.h"

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/core/matchmaking.h"
#include "server/core/status_macros.h"
#include "server/core/validation.h"
#include "server/core/wire.h"
#include "server/event_service.h"
#include "server/grpc_status.h"
#include "server/raw_unary.h"

namespace atable {

absl::Status SuggestPairsFromStore(const CatalogStore& store, const v1::SuggestPairsRequest& request,
                                   v1::SuggestPairsResponse* response) {
  SuggestOptions options;
  options.top_per_buyer = request.top_per_buyer() == 0 ? 10 : request.top_per_buyer();
  options.top_per_provider = request.top_per_provider() == 0 ? 10 : request.top_per_provider();
  if (options.top_per_buyer < 0 || options.top_per_buyer > 200) return absl::InvalidArgumentError("top_per_buyer: must be in 0-200");
  if (options.top_per_provider < 0 || options.top_per_provider > 200) {
    return absl::InvalidArgumentError("top_per_provider: must be in 0-200");
  }
  if (!(request.min_score() >= 0 && request.min_score() <= 1)) return absl::InvalidArgumentError("min_score: must be in [0, 1]");
  options.min_score = request.min_score();
  if (request.buyer_ids_size() > 10000 || request.provider_ids_size() > 100000 || request.requests_size() > 100000 ||
      request.refusals_size() > 100000) {
    return absl::InvalidArgumentError("request: too many ids (at most 10000 buyers, 100000 providers, requests, refusals)");
  }
  for (int i = 0; i < request.requests_size(); ++i) {
    ATABLE_RETURN_IF_ERROR(ValidateId(absl::StrCat("requests[", i, "].from"), request.requests(i).from()));
    ATABLE_RETURN_IF_ERROR(ValidateId(absl::StrCat("requests[", i, "].to"), request.requests(i).to()));
    options.requests.emplace_back(request.requests(i).from(), request.requests(i).to());
  }
  for (int i = 0; i < request.refusals_size(); ++i) {
    ATABLE_RETURN_IF_ERROR(ValidateId(absl::StrCat("refusals[", i, "].from"), request.refusals(i).from()));
    ATABLE_RETURN_IF_ERROR(ValidateId(absl::StrCat("refusals[", i, "].to"), request.refusals(i).to()));
    options.refusals.emplace_back(request.refusals(i).from(), request.refusals(i).to());
  }

  v1::SuggestPairsRequest scoped;  // the request, narrowed to an event's participants if asked
  if (!request.event_id().empty()) {
    ATABLE_RETURN_IF_ERROR(ValidateId("event_id", request.event_id()));
    if (request.buyer_ids_size() > 0 || request.provider_ids_size() > 0) {
      return absl::InvalidArgumentError("event_id: give either an event or lists of buyers and providers");
    }
    ATABLE_ASSIGN_OR_RETURN(v1::Event event, store.GetEvent(request.event_id()));
    scoped = request;
    for (const v1::EventParticipant& p : event.participants()) {
      if (p.role() == "buyer" && store.GetBuyer(p.id()).ok()) scoped.add_buyer_ids(p.id());
      if (p.role() == "provider" && store.GetProvider(p.id()).ok()) scoped.add_provider_ids(p.id());
    }
    for (const v1::EventRequest& r : event.requests()) {
      options.requests.emplace_back(r.from(), r.to());
    }
    for (const v1::EventRefusal& r : event.refusals()) {
      options.refusals.emplace_back(r.from(), r.to());
    }
    if (scoped.buyer_ids_size() == 0 || scoped.provider_ids_size() == 0) return absl::OkStatus();  // nobody to pair
  }
  const v1::SuggestPairsRequest& effective = request.event_id().empty() ? request : scoped;
  std::vector<v1::Buyer> buyers;
  if (effective.buyer_ids_size() > 0) {
    for (int i = 0; i < effective.buyer_ids_size(); ++i) {
      ATABLE_RETURN_IF_ERROR(ValidateId(absl::StrCat("buyer_ids[", i, "]"), effective.buyer_ids(i)));
      ATABLE_ASSIGN_OR_RETURN(buyers.emplace_back(), store.GetBuyer(effective.buyer_ids(i)));
    }
  } else {
    std::string after;
    while (true) {
      ATABLE_ASSIGN_OR_RETURN(std::vector<v1::Buyer> page, store.ListBuyers(after, 1000));
      if (page.empty()) break;
      after = page.back().id();
      for (auto& b : page) buyers.push_back(std::move(b));
    }
  }
  std::vector<v1::Provider> providers;
  std::vector<v1::Offer> offers;
  if (effective.provider_ids_size() > 0) {
    for (int i = 0; i < effective.provider_ids_size(); ++i) {
      ATABLE_RETURN_IF_ERROR(ValidateId(absl::StrCat("provider_ids[", i, "]"), effective.provider_ids(i)));
      ATABLE_ASSIGN_OR_RETURN(providers.emplace_back(), store.GetProvider(effective.provider_ids(i)));
      ATABLE_ASSIGN_OR_RETURN(std::vector<std::string> ids, store.ListOfferIds(effective.provider_ids(i)));
      for (const std::string& id : ids) {
        absl::StatusOr<v1::Offer> o = store.GetOffer(id);
        if (o.ok()) offers.push_back(*std::move(o));  // deleted meanwhile: skipped
      }
    }
  } else {
    ATABLE_RETURN_IF_ERROR(store.ForEachProvider([&](const v1::Provider& p) { providers.push_back(p); return true; }));
    ATABLE_RETURN_IF_ERROR(store.ForEachOffer([&](const v1::Offer& o) { offers.push_back(o); return true; }));
  }
  ScoringCatalog catalog(providers, offers);
  for (auto& pair : SuggestPairs(buyers, catalog, options)) *response->add_pairs() = std::move(pair);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* MatchmakingService::UpsertBuyer(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  if (absl::Status status = Authorize(keys_, *context, Access::kOrganize).status(); !status.ok()) {
    return Refuse(context, status);
  }
  return ServeUnary<v1::UpsertBuyerRequest, v1::Buyer>(context, request, response, [this](const auto& req, auto* resp) {
    if (!req.has_buyer()) return absl::InvalidArgumentError("buyer: is required");
    ATABLE_RETURN_IF_ERROR(ValidateBuyer(req.buyer()));
    ATABLE_ASSIGN_OR_RETURN(auto written, store_->UpsertBuyer(req.buyer(), absl::Now()));
    *resp = std::move(written.value);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MatchmakingService::GetBuyer(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  if (absl::Status status = Authorize(keys_, *context, Access::kOrganize).status(); !status.ok()) {
    return Refuse(context, status);
  }
  return ServeUnary<v1::GetBuyerRequest, v1::Buyer>(context, request, response, [this](const auto& req, auto* resp) {
    ATABLE_RETURN_IF_ERROR(ValidateId("id", req.id()));
    ATABLE_ASSIGN_OR_RETURN(*resp, store_->GetBuyer(req.id()));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MatchmakingService::ListBuyers(grpc::CallbackServerContext* context,
                                                         const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  if (absl::Status status = Authorize(keys_, *context, Access::kOrganize).status(); !status.ok()) {
    return Refuse(context, status);
  }
  return ServeUnary<v1::ListBuyersRequest, v1::ListBuyersResponse>(context, request, response, [this](const auto& req, auto* resp) {
    int size = req.page_size() == 0 ? 100 : req.page_size();
    if (size < 0 || size > 1000) return absl::InvalidArgumentError("page_size: must be in 0-1000");
    // The page token is the last id of the previous page.
    ATABLE_ASSIGN_OR_RETURN(std::vector<v1::Buyer> page, store_->ListBuyers(req.page_token(), static_cast<size_t>(size) + 1));
    bool more = page.size() > static_cast<size_t>(size);
    if (more) page.pop_back();
    for (auto& b : page) *resp->add_buyers() = std::move(b);
    if (more) resp->set_next_page_token(resp->buyers(resp->buyers_size() - 1).id());
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* MatchmakingService::DeleteBuyer(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  if (absl::Status status = Authorize(keys_, *context, Access::kOrganize).status(); !status.ok()) {
    return Refuse(context, status);
  }
  return ServeUnary<v1::DeleteBuyerRequest, google::protobuf::Empty>(context, request, response, [this](const auto& req, auto*) {
    ATABLE_RETURN_IF_ERROR(ValidateId("id", req.id()));
    return store_->DeleteBuyer(req.id(), req.etag());
  });
}

grpc::ServerUnaryReactor* MatchmakingService::SuggestPairs(grpc::CallbackServerContext* context,
                                                           const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  if (absl::Status status = Authorize(keys_, *context, Access::kOrganize).status(); !status.ok()) {
    return Refuse(context, status);
  }
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  std::string bytes = BytesOf(*request);
  // Scoring reads the whole catalog: run it off the callback thread.
  bool started = background_->TryRun([this, reactor, response, bytes = std::move(bytes)] {
    v1::SuggestPairsRequest req;
    v1::SuggestPairsResponse resp;
    absl::Status s = ParseWireMessage(bytes, &req);
    if (s.ok()) s = SuggestPairsFromStore(*store_, req, &resp);
    if (s.ok()) {
      *response = BufferOf(resp);
    }
    reactor->Finish(ToGrpcStatus(s));
  });
  if (!started) reactor->Finish(ToGrpcStatus(absl::ResourceExhaustedError(kBusyMessage)));
  return reactor;
}

grpc::ServerUnaryReactor* MatchmakingService::UpsertEvent(grpc::CallbackServerContext* context,
                                                          const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  if (absl::Status status = Authorize(keys_, *context, Access::kOrganize).status(); !status.ok()) {
    return Refuse(context, status);
  }
  return ServeUnary<v1::UpsertEventRequest, v1::Event>(
      context, request, response, [this](const auto& req, auto* resp) { return UpsertEventImpl(store_, req, resp); });
}

grpc::ServerUnaryReactor* MatchmakingService::GetEvent(grpc::CallbackServerContext* context,
                                                       const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  if (absl::Status status = Authorize(keys_, *context, Access::kOrganize).status(); !status.ok()) {
    return Refuse(context, status);
  }
  return ServeUnary<v1::GetEventRequest, v1::Event>(
      context, request, response, [this](const auto& req, auto* resp) { return GetEventImpl(store_, req, resp); });
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* MatchmakingService::BuildSchedule(grpc::CallbackServerContext* context,
                                                                             const grpc::ByteBuffer* request) {
  if (absl::Status status = Authorize(keys_, *context, Access::kOrganize).status(); !status.ok()) {
    return RefuseStream<grpc::ServerWriteReactor<grpc::ByteBuffer>>(status);
  }
  return StartBuildSchedule(store_, background_, context, request);
}

grpc::ServerUnaryReactor* MatchmakingService::GetAgenda(grpc::CallbackServerContext* context,
                                                        const grpc::ByteBuffer* request, grpc::ByteBuffer* response) {
  if (absl::Status status = Authorize(keys_, *context, Access::kOrganize).status(); !status.ok()) {
    return Refuse(context, status);
  }
  return ServeUnary<v1::GetAgendaRequest, v1::Agenda>(
      context, request, response, [this](const auto& req, auto* resp) { return GetAgendaImpl(store_, req, resp); });
}

}  // namespace atable
