#include "storage/catalog_store.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "rocksdb/db.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "server/core/status_macros.h"
#include "storage/rocksdb_status.h"

namespace atable {
namespace {

using google::protobuf::util::MessageDifferencer;
using v1::Offer;
using v1::Provider;

constexpr char kRevisionKey[] = "meta/revision";
constexpr char kProvidersCf[] = "providers";
constexpr char kOffersCf[] = "offers";
constexpr char kOffersByProviderCf[] = "offers_by_provider";
constexpr char kChangesCf[] = "changes";

std::string EncodeRevision(uint64_t revision) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, revision >>= 8) key[i] = static_cast<char>(revision & 0xFF);
  return key;
}

uint64_t DecodeRevision(absl::string_view key) {
  uint64_t revision = 0;
  for (size_t i = 0; i < 8 && i < key.size(); ++i) {
    revision = (revision << 8) | static_cast<uint8_t>(key[i]);
  }
  return revision;
}

std::string IndexKey(absl::string_view provider_id, absl::string_view offer_id) {
  return absl::StrCat(provider_id, absl::string_view("\0", 1), offer_id);
}

std::string EncodeChange(ChangeRecord::Entity entity, bool deleted, absl::string_view id) {
  std::string value;
  value.push_back(entity == ChangeRecord::Entity::kProvider ? 'p' : 'o');
  value.push_back(deleted ? 'd' : 'u');
  value.append(id.data(), id.size());
  return value;
}

std::string EtagOf(uint64_t revision) { return absl::StrCat(revision); }

// Whether `a` and `b` agree on every field a client sets (output-only fields aside).
template <typename T>
bool SameContent(T a, T b) {
  for (T* m : {&a, &b}) {
    m->clear_create_time();
    m->clear_update_time();
    m->clear_etag();
  }
  return MessageDifferencer::Equals(a, b);
}

template <typename T>
void StampWrite(const T* stored, absl::Time now, uint64_t revision, T* value) {
  google::protobuf::Timestamp ts = google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(now));
  if (stored != nullptr) {
    *value->mutable_create_time() = stored->create_time();
  } else {
    *value->mutable_create_time() = ts;
  }
  *value->mutable_update_time() = ts;
  value->set_etag(EtagOf(revision));
}

absl::Status CheckEtag(absl::string_view kind, absl::string_view id, absl::string_view given,
                       const std::string* stored) {
  if (given.empty()) return absl::OkStatus();
  if (stored == nullptr) {
    return absl::AbortedError(
        absl::StrCat(kind, " ", id, ": etag \"", given, "\" given but there is no stored ", kind));
  }
  if (given != *stored) {
    return absl::AbortedError(absl::StrCat(kind, " ", id, ": etag \"", given,
                                           "\" is stale; the stored etag is \"", *stored, "\""));
  }
  return absl::OkStatus();
}

}  // namespace

struct CatalogStore::Handles {
  std::vector<rocksdb::ColumnFamilyHandle*> all;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* providers = nullptr;
  rocksdb::ColumnFamilyHandle* offers = nullptr;
  rocksdb::ColumnFamilyHandle* offers_by_provider = nullptr;
  rocksdb::ColumnFamilyHandle* changes = nullptr;
};

absl::StatusOr<std::unique_ptr<CatalogStore>> CatalogStore::Open(const std::string& path,
                                                                 StoreOptions options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.keep_log_file_num = 5;
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.OptimizeLevelStyleCompaction(64 << 20);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, cf_options}, {kProvidersCf, cf_options},
      {kOffersCf, cf_options},  {kOffersByProviderCf, cf_options},
      {kChangesCf, cf_options}};
  auto handles = std::make_unique<Handles>();
  rocksdb::DB* raw = nullptr;
  ATABLE_RETURN_IF_ERROR(FromRocksDb(
      rocksdb::DB::Open(db_options, path, descriptors, &handles->all, &raw),
      absl::StrCat("opening database ", path)));
  std::unique_ptr<rocksdb::DB> db(raw);
  handles->meta = handles->all[0];
  handles->providers = handles->all[1];
  handles->offers = handles->all[2];
  handles->offers_by_provider = handles->all[3];
  handles->changes = handles->all[4];

  uint64_t revision = 0;
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), handles->meta, kRevisionKey, &value);
  if (s.ok()) {
    if (!absl::SimpleAtoi(value, &revision)) {
      for (auto* h : handles->all) db->DestroyColumnFamilyHandle(h);
      return absl::DataLossError(absl::StrCat("database ", path, ": unreadable revision"));
    }
  } else if (!s.IsNotFound()) {
    for (auto* h : handles->all) db->DestroyColumnFamilyHandle(h);
    return FromRocksDb(s, "reading the revision");
  }
  return std::unique_ptr<CatalogStore>(
      new CatalogStore(std::move(db), std::move(handles), options, revision));
}

CatalogStore::CatalogStore(std::unique_ptr<rocksdb::DB> db, std::unique_ptr<Handles> handles,
                           StoreOptions options, uint64_t revision)
    : db_(std::move(db)), cf_(std::move(handles)), options_(options), revision_(revision) {}

CatalogStore::~CatalogStore() {
  rocksdb::FlushOptions flush;
  db_->Flush(flush, cf_->all).PermitUncheckedError();
  for (auto* h : cf_->all) db_->DestroyColumnFamilyHandle(h);
  db_->Close().PermitUncheckedError();
}

uint64_t CatalogStore::revision() const { return revision_.load(std::memory_order_acquire); }

namespace {

// Reads and parses one protobuf value; NOT_FOUND with `what` when absent.
template <typename T>
absl::StatusOr<T> ReadMessage(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                              absl::string_view kind, absl::string_view id) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cf, rocksdb::Slice(id.data(), id.size()),
                              &value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat(kind, " ", id, " not found"));
  ATABLE_RETURN_IF_ERROR(FromRocksDb(s, absl::StrCat("reading ", kind, " ", id)));
  T message;
  if (!message.ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat(kind, " ", id, ": stored value is unreadable"));
  }
  return message;
}

// Like ReadMessage, but an absent value is an empty optional rather than an error.
template <typename T>
absl::StatusOr<std::optional<T>> ReadOptional(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                              absl::string_view kind, absl::string_view id) {
  absl::StatusOr<T> m = ReadMessage<T>(db, cf, kind, id);
  if (absl::IsNotFound(m.status())) return std::optional<T>();
  if (!m.ok()) return m.status();
  return std::optional<T>(*std::move(m));
}

}  // namespace

absl::StatusOr<Provider> CatalogStore::GetProvider(absl::string_view id) const {
  return ReadMessage<Provider>(db_.get(), cf_->providers, "provider", id);
}

absl::StatusOr<Offer> CatalogStore::GetOffer(absl::string_view id) const {
  return ReadMessage<Offer>(db_.get(), cf_->offers, "offer", id);
}

absl::StatusOr<Written<Provider>> CatalogStore::UpsertProvider(const Provider& provider,
                                                               absl::Time now) {
  absl::MutexLock lock(&write_mu_);
  ATABLE_ASSIGN_OR_RETURN(std::optional<Provider> stored,
                          ReadOptional<Provider>(db_.get(), cf_->providers, "provider", provider.id()));
  ATABLE_RETURN_IF_ERROR(CheckEtag("provider", provider.id(), provider.etag(),
                                   stored ? &stored->etag() : nullptr));
  if (stored && SameContent(*stored, provider)) return Written<Provider>{*stored, WriteOutcome::kUnchanged};

  uint64_t revision = revision_ + 1;
  Provider value = provider;
  StampWrite(stored ? &*stored : nullptr, now, revision, &value);
  rocksdb::WriteBatch batch;
  batch.Put(cf_->providers, value.id(), value.SerializeAsString());
  batch.Put(cf_->changes, EncodeRevision(revision),
            EncodeChange(ChangeRecord::Entity::kProvider, false, value.id()));
  batch.Put(cf_->meta, kRevisionKey, absl::StrCat(revision));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  ATABLE_RETURN_IF_ERROR(FromRocksDb(db_->Write(wo, &batch), "writing provider"));
  revision_.store(revision, std::memory_order_release);
  return Written<Provider>{std::move(value), stored ? WriteOutcome::kUpdated : WriteOutcome::kCreated};
}

absl::StatusOr<Written<Offer>> CatalogStore::UpsertOffer(const Offer& offer, absl::Time now) {
  absl::MutexLock lock(&write_mu_);
  ATABLE_ASSIGN_OR_RETURN(std::optional<Provider> provider,
                          ReadOptional<Provider>(db_.get(), cf_->providers, "provider",
                                                 offer.provider_id()));
  if (!provider) {
    return absl::FailedPreconditionError(absl::StrCat(
        "offer.provider_id: provider ", offer.provider_id(), " does not exist; store it first"));
  }
  ATABLE_ASSIGN_OR_RETURN(std::optional<Offer> stored,
                          ReadOptional<Offer>(db_.get(), cf_->offers, "offer", offer.id()));
  ATABLE_RETURN_IF_ERROR(CheckEtag("offer", offer.id(), offer.etag(), stored ? &stored->etag() : nullptr));
  if (stored && SameContent(*stored, offer)) return Written<Offer>{*stored, WriteOutcome::kUnchanged};

  uint64_t revision = revision_ + 1;
  Offer value = offer;
  StampWrite(stored ? &*stored : nullptr, now, revision, &value);
  rocksdb::WriteBatch batch;
  if (stored && stored->provider_id() != value.provider_id()) {
    batch.Delete(cf_->offers_by_provider, IndexKey(stored->provider_id(), value.id()));
  }
  batch.Put(cf_->offers_by_provider, IndexKey(value.provider_id(), value.id()), "");
  batch.Put(cf_->offers, value.id(), value.SerializeAsString());
  batch.Put(cf_->changes, EncodeRevision(revision),
            EncodeChange(ChangeRecord::Entity::kOffer, false, value.id()));
  batch.Put(cf_->meta, kRevisionKey, absl::StrCat(revision));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  ATABLE_RETURN_IF_ERROR(FromRocksDb(db_->Write(wo, &batch), "writing offer"));
  revision_.store(revision, std::memory_order_release);
  return Written<Offer>{std::move(value), stored ? WriteOutcome::kUpdated : WriteOutcome::kCreated};
}

absl::Status CatalogStore::DeleteOffer(absl::string_view id, absl::string_view etag) {
  absl::MutexLock lock(&write_mu_);
  ATABLE_ASSIGN_OR_RETURN(Offer stored, ReadMessage<Offer>(db_.get(), cf_->offers, "offer", id));
  ATABLE_RETURN_IF_ERROR(CheckEtag("offer", id, etag, &stored.etag()));
  uint64_t revision = revision_ + 1;
  rocksdb::WriteBatch batch;
  batch.Delete(cf_->offers, rocksdb::Slice(id.data(), id.size()));
  batch.Delete(cf_->offers_by_provider, IndexKey(stored.provider_id(), id));
  batch.Put(cf_->changes, EncodeRevision(revision), EncodeChange(ChangeRecord::Entity::kOffer, true, id));
  batch.Put(cf_->meta, kRevisionKey, absl::StrCat(revision));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  ATABLE_RETURN_IF_ERROR(FromRocksDb(db_->Write(wo, &batch), "deleting offer"));
  revision_.store(revision, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status CatalogStore::DeleteProvider(absl::string_view id, absl::string_view etag) {
  absl::MutexLock lock(&write_mu_);
  ATABLE_ASSIGN_OR_RETURN(Provider stored,
                          ReadMessage<Provider>(db_.get(), cf_->providers, "provider", id));
  ATABLE_RETURN_IF_ERROR(CheckEtag("provider", id, etag, &stored.etag()));
  ATABLE_ASSIGN_OR_RETURN(std::vector<std::string> offer_ids, ListOfferIds(id));
  uint64_t revision = revision_;
  rocksdb::WriteBatch batch;
  for (const std::string& offer_id : offer_ids) {
    batch.Delete(cf_->offers, offer_id);
    batch.Delete(cf_->offers_by_provider, IndexKey(id, offer_id));
    batch.Put(cf_->changes, EncodeRevision(++revision),
              EncodeChange(ChangeRecord::Entity::kOffer, true, offer_id));
  }
  batch.Delete(cf_->providers, rocksdb::Slice(id.data(), id.size()));
  batch.Put(cf_->changes, EncodeRevision(++revision),
            EncodeChange(ChangeRecord::Entity::kProvider, true, id));
  batch.Put(cf_->meta, kRevisionKey, absl::StrCat(revision));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  ATABLE_RETURN_IF_ERROR(FromRocksDb(db_->Write(wo, &batch), "deleting provider"));
  revision_.store(revision, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> CatalogStore::ListOfferIds(
    absl::string_view provider_id) const {
  std::string prefix = IndexKey(provider_id, "");
  std::vector<std::string> ids;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_->offers_by_provider));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    ids.emplace_back(it->key().data() + prefix.size(), it->key().size() - prefix.size());
  }
  ATABLE_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading the offer index"));
  return ids;
}

namespace {

template <typename T>
absl::Status ForEach(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, absl::string_view kind,
                     const std::function<bool(const T&)>& fn) {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));  // an implicit snapshot
  T message;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (!message.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat(kind, " ", it->key().ToString(), ": unreadable"));
    }
    if (!fn(message)) break;
  }
  return FromRocksDb(it->status(), absl::StrCat("reading ", kind, "s"));
}

}  // namespace

absl::Status CatalogStore::ForEachProvider(const std::function<bool(const Provider&)>& fn) const {
  return ForEach<Provider>(db_.get(), cf_->providers, "provider", fn);
}

absl::Status CatalogStore::ForEachOffer(const std::function<bool(const Offer&)>& fn) const {
  return ForEach<Offer>(db_.get(), cf_->offers, "offer", fn);
}

absl::StatusOr<std::vector<ChangeRecord>> CatalogStore::ReadChanges(uint64_t after,
                                                                    size_t limit) const {
  std::vector<ChangeRecord> changes;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_->changes));
  for (it->Seek(EncodeRevision(after + 1)); it->Valid() && changes.size() < limit; it->Next()) {
    rocksdb::Slice v = it->value();
    if (v.size() < 2) return absl::DataLossError("change log: unreadable record");
    ChangeRecord c;
    c.revision = DecodeRevision(absl::string_view(it->key().data(), it->key().size()));
    c.entity = v[0] == 'p' ? ChangeRecord::Entity::kProvider : ChangeRecord::Entity::kOffer;
    c.deleted = v[1] == 'd';
    c.id.assign(v.data() + 2, v.size() - 2);
    changes.push_back(std::move(c));
  }
  ATABLE_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading the change log"));
  return changes;
}

absl::Status CatalogStore::VerifyIndexes() const {
  // One snapshot for every read, so concurrent writes cannot fake a disagreement.
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  absl::Status result;
  std::vector<std::string> expected;  // index keys the offers call for, in offer-id order
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_->offers));
    for (it->SeekToFirst(); it->Valid() && result.ok(); it->Next()) {
      Offer o;
      std::string unused;
      if (!o.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        result = absl::DataLossError(absl::StrCat("offer ", it->key().ToString(), ": unreadable"));
      } else if (o.id() != it->key().ToString()) {
        result = absl::DataLossError(absl::StrCat("offer ", it->key().ToString(), ": id mismatch"));
      } else if (!db_->Get(ro, cf_->providers, o.provider_id(), &unused).ok()) {
        result = absl::DataLossError(absl::StrCat("offer ", o.id(), ": provider ", o.provider_id(), " missing"));
      } else {
        expected.push_back(IndexKey(o.provider_id(), o.id()));
      }
    }
  }
  std::sort(expected.begin(), expected.end());
  if (result.ok()) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, cf_->offers_by_provider));
    size_t i = 0;
    for (it->SeekToFirst(); it->Valid() && result.ok(); it->Next(), ++i) {
      if (i >= expected.size() || it->key().ToString() != expected[i]) {
        result = absl::DataLossError(absl::StrCat("offer index: unexpected entry ",
                                                  absl::CHexEscape(it->key().ToString())));
      }
    }
    if (result.ok() && i != expected.size()) {
      result = absl::DataLossError(absl::StrCat("offer index: ", expected.size() - i, " entries missing"));
    }
  }
  db_->ReleaseSnapshot(snapshot);
  return result;
}

}  // namespace atable
