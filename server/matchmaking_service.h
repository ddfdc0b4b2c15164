// The atable.v1.Matchmaking gRPC service: buyers, and pair suggestions computed off the callback
// threads.
#ifndef ATABLE_SERVER_MATCHMAKING_SERVICE_H_
#define ATABLE_SERVER_MATCHMAKING_SERVICE_H_

#include "atable/v1/matchmaking.grpc.pb.h"
#include "server/auth.h"
#include "server/background.h"
#include "storage/catalog_store.h"

namespace atable {

using MatchmakingRawService = v1::Matchmaking::WithRawCallbackMethod_UpsertBuyer<
    v1::Matchmaking::WithRawCallbackMethod_GetBuyer<v1::Matchmaking::WithRawCallbackMethod_ListBuyers<
        v1::Matchmaking::WithRawCallbackMethod_DeleteBuyer<v1::Matchmaking::WithRawCallbackMethod_SuggestPairs<
            v1::Matchmaking::WithRawCallbackMethod_UpsertEvent<v1::Matchmaking::WithRawCallbackMethod_GetEvent<
                v1::Matchmaking::WithRawCallbackMethod_BuildSchedule<v1::Matchmaking::WithRawCallbackMethod_GetAgenda<
                    v1::Matchmaking::CallbackService>>>>>>>>>;

class MatchmakingService final : public MatchmakingRawService {
 public:
  // `store`, `background` and `keys` must outlive the service; every method needs an organizer
  // key (`keys` null serves everyone as an organizer).
  MatchmakingService(CatalogStore* store, Background* background, const KeyRing* keys)
      : store_(store), background_(background), keys_(keys) {}

  grpc::ServerUnaryReactor* UpsertBuyer(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetBuyer(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* ListBuyers(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                       grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* DeleteBuyer(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* SuggestPairs(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                         grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* UpsertEvent(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                        grpc::ByteBuffer* response) override;
  grpc::ServerUnaryReactor* GetEvent(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                     grpc::ByteBuffer* response) override;
  grpc::ServerWriteReactor<grpc::ByteBuffer>* BuildSchedule(grpc::CallbackServerContext* context,
                                                            const grpc::ByteBuffer* request) override;
  grpc::ServerUnaryReactor* GetAgenda(grpc::CallbackServerContext* context, const grpc::ByteBuffer* request,
                                      grpc::ByteBuffer* response) override;

 private:
  CatalogStore* const store_;
  Background* const background_;
  const KeyRing* const keys_;
};

// Computes SuggestPairs for `request` from the store (exposed for the service and its tests).
absl::Status SuggestPairsFromStore(const CatalogStore& store, const v1::SuggestPairsRequest& request,
                                   v1::SuggestPairsResponse* response);

}  // namespace atable

#endif  // ATABLE_SERVER_MATCHMAKING_SERVICE_H_
