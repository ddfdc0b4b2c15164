#include "server/auth.h"

#include <sodium.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/time_util.h"
#include "server/core/validation.h"
#include "server/grpc_status.h"

namespace atable {
namespace {

constexpr char kSecretPrefix[] = "atable_";
constexpr size_t kIdBytes = 6;      // 12 hex digits
constexpr size_t kSecretBytes = 32;  // 64 hex digits
constexpr size_t kSaltBytes = 16;

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  randombytes_buf(raw.data(), raw.size());
  return absl::BytesToHexString(raw);
}

std::string SaltedHash(absl::string_view secret, absl::string_view salt) {
  std::string hash(crypto_generichash_BYTES, '\0');
  crypto_generichash(reinterpret_cast<unsigned char*>(hash.data()), hash.size(),
                     reinterpret_cast<const unsigned char*>(secret.data()), secret.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size());
  return hash;
}

const char* RoleName(v1::Role role) {
  switch (role) {
    case v1::ROLE_READER: return "reader";
    case v1::ROLE_PROVIDER: return "provider";
    case v1::ROLE_ORGANIZER: return "organizer";
    default: return "no role";
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<KeyRing>> KeyRing::Load(CatalogStore* store) {
  if (sodium_init() < 0) return absl::InternalError("libsodium could not initialise");
  std::unique_ptr<KeyRing> ring(new KeyRing(store));
  absl::StatusOr<std::vector<std::string>> values = store->ListKeys();
  if (!values.ok()) return values.status();
  absl::MutexLock lock(&ring->mu_);
  for (const std::string& value : *values) {
    v1::StoredKey key;
    if (!key.ParseFromString(value) || key.key().id().empty()) return absl::DataLossError("an API key is unreadable");
    ring->keys_[key.key().id()] = std::move(key);
  }
  return ring;
}

absl::StatusOr<v1::CreateKeyResponse> KeyRing::Create(const v1::CreateKeyRequest& request, absl::Time now) {
  if (request.role() == v1::ROLE_UNSPECIFIED || !v1::Role_IsValid(request.role())) {
    return absl::InvalidArgumentError("role: is required (reader, provider or organizer)");
  }
  if (request.role() == v1::ROLE_PROVIDER) {
    absl::Status id = ValidateId("provider_id", request.provider_id());
    if (!id.ok()) return absl::InvalidArgumentError(absl::StrCat(id.message(), " for a provider key"));
  } else if (!request.provider_id().empty()) {
    return absl::InvalidArgumentError("provider_id: only a provider key is bound to a provider");
  }
  if (request.description().size() > kMaxNameChars) {
    return absl::InvalidArgumentError("description: is longer than 300 bytes");
  }
  v1::StoredKey stored;
  v1::ApiKey* key = stored.mutable_key();
  key->set_id(RandomHex(kIdBytes));
  key->set_role(request.role());
  key->set_provider_id(request.provider_id());
  key->set_description(request.description());
  *key->mutable_create_time() = google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(now));
  std::string secret = absl::StrCat(kSecretPrefix, key->id(), "_", RandomHex(kSecretBytes));
  std::string salt(kSaltBytes, '\0');
  randombytes_buf(salt.data(), salt.size());
  stored.set_salt(salt);
  stored.set_hash(SaltedHash(secret, salt));
  absl::Status s = store_->PutKey(key->id(), stored.SerializeAsString());
  if (!s.ok()) return s;
  v1::CreateKeyResponse response;
  *response.mutable_key() = *key;
  response.set_secret(std::move(secret));
  absl::MutexLock lock(&mu_);
  keys_[key->id()] = std::move(stored);
  return response;
}

absl::Status KeyRing::Revoke(absl::string_view id) {
  absl::Status s = store_->DeleteKey(id);
  if (!s.ok()) return s;
  absl::MutexLock lock(&mu_);
  keys_.erase(std::string(id));
  return absl::OkStatus();
}

std::vector<v1::ApiKey> KeyRing::List() const {
  std::vector<v1::ApiKey> keys;
  {
    absl::MutexLock lock(&mu_);
    for (const auto& [id, stored] : keys_) keys.push_back(stored.key());
  }
  std::sort(keys.begin(), keys.end(), [](const v1::ApiKey& a, const v1::ApiKey& b) { return a.id() < b.id(); });
  return keys;
}

absl::StatusOr<Principal> KeyRing::Verify(absl::string_view secret) const {
  absl::string_view rest = secret;
  if (!absl::ConsumePrefix(&rest, kSecretPrefix) || rest.size() != 2 * kIdBytes + 1 + 2 * kSecretBytes ||
      rest[2 * kIdBytes] != '_') {
    return absl::UnauthenticatedError("the API key is malformed (expected atable_<id>_<secret>)");
  }
  std::string id(rest.substr(0, 2 * kIdBytes));
  v1::StoredKey stored;
  {
    absl::MutexLock lock(&mu_);
    auto it = keys_.find(id);
    if (it == keys_.end()) return absl::UnauthenticatedError("the API key is unknown or revoked");
    stored = it->second;
  }
  std::string hash = SaltedHash(secret, stored.salt());
  if (hash.size() != stored.hash().size() || sodium_memcmp(hash.data(), stored.hash().data(), hash.size()) != 0) {
    return absl::UnauthenticatedError("the API key is unknown or revoked");
  }
  Principal who;
  who.role = stored.key().role();
  who.provider_id = stored.key().provider_id();
  who.key_id = id;
  return who;
}

absl::StatusOr<Principal> Authorize(const KeyRing* keys, const grpc::ServerContextBase& context, Access access) {
  if (keys == nullptr) {
    Principal everyone;
    everyone.role = v1::ROLE_ORGANIZER;
    return everyone;
  }
  const auto& metadata = context.client_metadata();
  auto it = metadata.find("authorization");
  if (it == metadata.end()) {
    return absl::UnauthenticatedError("no API key: send the metadata \"authorization: Bearer <key>\"");
  }
  absl::string_view value(it->second.data(), it->second.size());
  if (!absl::ConsumePrefix(&value, "Bearer ") && !absl::ConsumePrefix(&value, "bearer ")) {
    return absl::UnauthenticatedError("the authorization metadata must read \"Bearer <key>\"");
  }
  absl::StatusOr<Principal> who = keys->Verify(value);
  if (!who.ok()) return who.status();
  bool allowed = access == Access::kRead ||
                 (access == Access::kWrite && who->role != v1::ROLE_READER) ||
                 who->role == v1::ROLE_ORGANIZER;
  if (!allowed) {
    return absl::PermissionDeniedError(absl::StrCat(
        "a ", RoleName(who->role), " key may not ",
        access == Access::kWrite ? "write the catalog" : "do this (organizer keys only)"));
  }
  return who;
}

absl::Status CheckWritesProvider(const Principal& who, absl::string_view provider_id, absl::string_view field) {
  if (who.role == v1::ROLE_ORGANIZER) return absl::OkStatus();
  if (who.role == v1::ROLE_PROVIDER && who.provider_id == provider_id) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat(field, ": the key of ",
                                                  who.role == v1::ROLE_PROVIDER ? who.provider_id : "a reader",
                                                  " may not write the records of provider ", provider_id));
}

grpc::ServerUnaryReactor* Refuse(grpc::CallbackServerContext* context, const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(status));
  return reactor;
}

}  // namespace atable
