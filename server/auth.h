// Who may call what: API keys (stored as salted hashes) mapped to a role, and the checks every
// service method makes before it reads its request.
#ifndef ATABLE_SERVER_AUTH_H_
#define ATABLE_SERVER_AUTH_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "atable/v1/admin.pb.h"
#include "grpcpp/server_context.h"
#include "server/grpc_status.h"
#include "storage/catalog_store.h"

namespace atable {

// The caller of a method, from its key.
struct Principal {
  v1::Role role = v1::ROLE_UNSPECIFIED;
  std::string provider_id;  // ROLE_PROVIDER: the provider it may write
  std::string key_id;       // empty on a server without keys
};

// The keys of a server, loaded from its store at start and kept in memory. Thread-safe.
class KeyRing {
 public:
  // Loads every stored key. `store` must outlive the ring.
  static absl::StatusOr<std::unique_ptr<KeyRing>> Load(CatalogStore* store);

  // Creates a key (INVALID_ARGUMENT naming the field for a missing role, or a provider id missing
  // for ROLE_PROVIDER or given for another role), stores its hash durably, and returns its secret.
  absl::StatusOr<v1::CreateKeyResponse> Create(const v1::CreateKeyRequest& request, absl::Time now);
  // Revokes a key at once; NOT_FOUND for an unknown id.
  absl::Status Revoke(absl::string_view id);
  // Every key, by id, without secrets.
  std::vector<v1::ApiKey> List() const;
  // The principal of a bearer secret; UNAUTHENTICATED for a malformed, unknown or revoked one.
  absl::StatusOr<Principal> Verify(absl::string_view secret) const;

 private:
  explicit KeyRing(CatalogStore* store) : store_(store) {}

  CatalogStore* const store_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, v1::StoredKey> keys_ ABSL_GUARDED_BY(mu_);
};

// What a method needs.
enum class Access {
  kRead,      // any key: get, search, change feed
  kWrite,     // a provider key (for its own records: see CheckWritesProvider) or an organizer key
  kOrganize,  // an organizer key
};

// The caller of `context`, from its "authorization: Bearer <secret>" metadata, if it may have
// `access`: UNAUTHENTICATED without a valid key, PERMISSION_DENIED when its role is not enough.
// With `keys` null (a server started without keys, for tests) every caller is an organizer.
absl::StatusOr<Principal> Authorize(const KeyRing* keys, const grpc::ServerContextBase& context, Access access);

// PERMISSION_DENIED unless `who` may write the records of `provider_id` (`field` names it).
absl::Status CheckWritesProvider(const Principal& who, absl::string_view provider_id, absl::string_view field);

// Finishes a unary call at once with `status` (a refused call).
grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context, const absl::Status& status);

// A streaming call (a grpc::ServerReadReactor or ServerWriteReactor) refused before it starts.
template <typename Reactor>
Reactor* RefuseStream(const absl::Status& status) {
  class Refused : public Reactor {
   public:
    explicit Refused(const grpc::Status& s) { this->Finish(s); }
    void OnDone() override { delete this; }
  };
  return new Refused(ToGrpcStatus(status));
}

}  // namespace atable

#endif  // ATABLE_SERVER_AUTH_H_
