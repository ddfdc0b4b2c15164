// ImportOffers: a client stream of providers and offers, checked as they arrive and written in
// batches, answered with one summary (created, updated, unchanged, rejected and why).
#ifndef ATABLE_SERVER_IMPORT_STREAM_H_
#define ATABLE_SERVER_IMPORT_STREAM_H_

#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/auth.h"
#include "storage/catalog_store.h"

namespace atable {

// Starts an ImportOffers call for a caller with write access (a provider key imports only its own
// records: the others are rejected one by one). Records are read and checked on gRPC's thread,
// written `batch_size` at a time on a thread of the call's own and published (indexed for
// searches) on another, so that the three steps of successive batches overlap; reading pauses
// while a few batches wait to be written, writing while a few wait to be published. A
// record the store refuses is rejected alone; a failed write ends the call with its error. The
// reactor deletes itself when the call is done.
grpc::ServerReadReactor<grpc::ByteBuffer>* StartImport(CatalogStore* store, const KeyRing* keys,
                                                       grpc::CallbackServerContext* context,
                                                       grpc::ByteBuffer* response,
                                                       int batch_size = 1000);

// PERMISSION_DENIED unless `who` may write `offer`: its provider's, and not another provider's
// offer under the same id.
absl::Status CheckWritesOffer(const Principal& who, const CatalogStore& store, const v1::Offer& offer);

}  // namespace atable

#endif  // ATABLE_SERVER_IMPORT_STREAM_H_
