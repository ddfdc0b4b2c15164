// ListChanges: the change log of the catalog streamed out, optionally following new commits.
#ifndef ATABLE_SERVER_CHANGE_STREAMS_H_
#define ATABLE_SERVER_CHANGE_STREAMS_H_

#include <cstdint>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/server_context.h"
#include "grpcpp/support/byte_buffer.h"
#include "server/auth.h"
#include "storage/catalog_store.h"

namespace atable {

class ChangeStream;

// Wakes the following ListChanges streams after every commit of the store.
class ChangeNotifier {
 public:
  // Registers itself as a commit listener of `store`, which must outlive it.
  explicit ChangeNotifier(CatalogStore* store);
  void Add(ChangeStream* stream);
  void Remove(ChangeStream* stream);

 private:
  void Notify();
  absl::Mutex mu_;
  absl::flat_hash_set<ChangeStream*> streams_ ABSL_GUARDED_BY(mu_);
};

// Resume tokens: "c" and a revision in decimal. Returns false for a malformed token.
std::string ResumeToken(uint64_t revision);
bool ParseResumeToken(const std::string& token, uint64_t* revision);

// Starts a ListChanges stream for `request` (raw bytes of a ListChangesRequest). The reactor
// deletes itself when the call is done.
grpc::ServerWriteReactor<grpc::ByteBuffer>* StartChangeStream(CatalogStore* store, const KeyRing* keys,
                                                              ChangeNotifier* notifier,
                                                              grpc::CallbackServerContext* context,
                                                              const grpc::ByteBuffer* request);

}  // namespace atable

#endif  // ATABLE_SERVER_CHANGE_STREAMS_H_
