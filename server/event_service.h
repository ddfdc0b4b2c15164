// The event-day calls of the Matchmaking service: events, schedule builds (streamed, off the
// callback threads), agendas.
#ifndef ATABLE_SERVER_EVENT_SERVICE_H_
#define ATABLE_SERVER_EVENT_SERVICE_H_

#include "absl/status/status.h"
#include "atable/v1/matchmaking.pb.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/background.h"
#include "storage/catalog_store.h"

namespace atable {

absl::Status UpsertEventImpl(CatalogStore* store, const v1::UpsertEventRequest& request, v1::Event* response);
absl::Status GetEventImpl(CatalogStore* store, const v1::GetEventRequest& request, v1::Event* response);
absl::Status GetAgendaImpl(CatalogStore* store, const v1::GetAgendaRequest& request, v1::Agenda* response);

// Starts a BuildSchedule call: the schedule is built on a `background` thread, which streams
// progress and then the schedule, and stores it as the event's current one.
grpc::ServerWriteReactor<grpc::ByteBuffer>* StartBuildSchedule(CatalogStore* store, Background* background,
                                                               grpc::CallbackServerContext* context,
                                                               const grpc::ByteBuffer* request);

}  // namespace atable

#endif  // ATABLE_SERVER_EVENT_SERVICE_H_
