#include "storage/catalog_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <deque>
#include <filesystem>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/backup_engine.h"
#include "rocksdb/write_batch.h"
#include "server/core/status_macros.h"
#include "server/core/wire.h"
#include "storage/rocksdb_status.h"
#include "storage/skip_list_memtable.h"

namespace atable {
namespace {

using google::protobuf::util::MessageDifferencer;
using v1::Offer;
using v1::Provider;

constexpr char kRevisionKey[] = "meta/revision";
constexpr char kPrunedThroughKey[] = "meta/changes_pruned_through";
constexpr char kProvidersCf[] = "providers";
constexpr char kOffersCf[] = "offers";
constexpr char kOffersByProviderCf[] = "offers_by_provider";
constexpr char kChangesCf[] = "changes";
constexpr char kBuyersCf[] = "buyers";
constexpr char kEventsCf[] = "events";
constexpr char kKeyPrefix[] = "key/";

// Whether files in the folder `dir` (created if missing) can be opened with O_DIRECT.
bool SupportsDirectIo(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::string probe = (std::filesystem::path(dir) / ".direct-io-probe").string();
  int fd = open(probe.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_DIRECT, 0600);
  if (fd < 0) return false;
  close(fd);
  unlink(probe.c_str());
  return true;
}

std::string EncodeRevision(uint64_t revision) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, revision >>= 8) key[i] = static_cast<char>(revision & 0xFF);
  return key;
}

uint64_t DecodeRevision(const char* p) {
  uint64_t revision = 0;
  for (size_t i = 0; i < 8; ++i) revision = (revision << 8) | static_cast<uint8_t>(p[i]);
  return revision;
}

std::string IndexKey(absl::string_view provider_id, absl::string_view offer_id) {
  return absl::StrCat(provider_id, absl::string_view("\0", 1), offer_id);
}

// Change record value: entity ('p'/'o'), operation ('u'/'d'), commit time (8 bytes, microseconds
// since the epoch, big-endian), id. Its head is all but the id.
std::string ChangeHead(ChangeRecord::Entity entity, bool deleted, absl::Time time) {
  std::string value;
  value.push_back(entity == ChangeRecord::Entity::kProvider ? 'p' : 'o');
  value.push_back(deleted ? 'd' : 'u');
  value += EncodeRevision(static_cast<uint64_t>(absl::ToUnixMicros(time)));
  return value;
}

std::string EncodeChange(ChangeRecord::Entity entity, bool deleted, absl::Time time,
                         absl::string_view id) {
  return absl::StrCat(ChangeHead(entity, deleted, time), id);
}

rocksdb::Slice SliceOf(absl::string_view s) { return {s.data(), s.size()}; }

// Puts the change record of `id` (`head` is its ChangeHead) at `revision`, from its parts: a batch
// of records builds no string for each.
void PutChange(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* changes, uint64_t revision,
               absl::string_view head, absl::string_view id) {
  const std::string key = EncodeRevision(revision);
  const rocksdb::Slice key_part = SliceOf(key);
  const rocksdb::Slice value[] = {SliceOf(head), SliceOf(id)};
  batch->Put(changes, rocksdb::SliceParts(&key_part, 1), rocksdb::SliceParts(value, 2));
}

// Puts IndexKey(provider_id, offer_id), from its parts.
void PutIndexKey(rocksdb::WriteBatch* batch, rocksdb::ColumnFamilyHandle* cf,
                 absl::string_view provider_id, absl::string_view offer_id) {
  const rocksdb::Slice key[] = {SliceOf(provider_id), rocksdb::Slice("\0", 1), SliceOf(offer_id)};
  const rocksdb::Slice empty;
  batch->Put(cf, rocksdb::SliceParts(key, 3), rocksdb::SliceParts(&empty, 1));
}

bool DecodeChange(const rocksdb::Slice& key, const rocksdb::Slice& value, ChangeRecord* c) {
  if (key.size() != 8 || value.size() < 10) return false;
  c->revision = DecodeRevision(key.data());
  c->entity = value[0] == 'p' ? ChangeRecord::Entity::kProvider : ChangeRecord::Entity::kOffer;
  c->deleted = value[1] == 'd';
  c->commit_time = absl::FromUnixMicros(static_cast<int64_t>(DecodeRevision(value.data() + 2)));
  c->id.assign(value.data() + 10, value.size() - 10);
  return true;
}

std::string EtagOf(uint64_t revision) { return absl::StrCat(revision); }

uint64_t RevisionOfEtag(const std::string& etag) {
  uint64_t revision = 0;
  return absl::SimpleAtoi(etag, &revision) ? revision : 0;
}

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

// The time of a write as protobuf holds and writes it, worked out once for all the records of a
// batch.
struct WriteTime {
  explicit WriteTime(absl::Time now)
      : timestamp(google::protobuf::util::TimeUtil::NanosecondsToTimestamp(absl::ToUnixNanos(now))),
        serialized(timestamp.SerializeAsString()) {}
  google::protobuf::Timestamp timestamp;
  std::string serialized;
};

// Stamps `value` as written at `time` and `revision` (its create_time kept from `stored`) and
// leaves its stored form in `bytes`. When `bytes` holds the value as received and it came without
// times of its own, the stamps are appended to those bytes (a parser keeps the last value of a
// field, so they read as the stamped value); otherwise the value is serialized.
template <typename T>
void StampWrite(const T* stored, const WriteTime& time, uint64_t revision, T* value,
                std::string* bytes) {
  const bool append = !bytes->empty() && !value->has_create_time() && !value->has_update_time();
  *value->mutable_create_time() = stored != nullptr ? stored->create_time() : time.timestamp;
  *value->mutable_update_time() = time.timestamp;
  value->set_etag(EtagOf(revision));
  if (!append) {
    value->SerializeToString(bytes);  // into the room `bytes` has
    return;
  }
  PutBytes(T::kCreateTimeFieldNumber,
           stored != nullptr ? stored->create_time().SerializeAsString() : time.serialized, bytes);
  PutBytes(T::kUpdateTimeFieldNumber, time.serialized, bytes);
  PutBytes(T::kEtagFieldNumber, value->etag(), bytes);
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

// Reads and parses one protobuf value; NOT_FOUND when absent.
template <typename T>
absl::StatusOr<T> ReadMessage(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                              absl::string_view kind, absl::string_view id) {
  std::string value;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), cf, rocksdb::Slice(id.data(), id.size()), &value);
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

struct CatalogStore::Handles {
  std::vector<rocksdb::ColumnFamilyHandle*> all;
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* providers = nullptr;
  rocksdb::ColumnFamilyHandle* offers = nullptr;
  rocksdb::ColumnFamilyHandle* offers_by_provider = nullptr;
  rocksdb::ColumnFamilyHandle* changes = nullptr;
  rocksdb::ColumnFamilyHandle* buyers = nullptr;
  rocksdb::ColumnFamilyHandle* events = nullptr;
};

absl::StatusOr<std::unique_ptr<CatalogStore>> CatalogStore::Open(const std::string& path,
                                                                 StoreOptions options) {
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.keep_log_file_num = 5;
  db_options.max_background_jobs = 2;
  // All memtables together stay under 64 MiB (the search index already holds the catalog in
  // memory; RocksDB need not hold it twice). At 1M offers, 128 MiB imported no faster and left
  // the server 84 MiB larger on average.
  db_options.db_write_buffer_size = 64 << 20;
  // Flushes and compactions write past the page cache when the folder allows it: the tables they
  // write are read back through the block cache (and rarely: the search index answers queries).
  // Copying them into newly allocated cache pages took 6 % of a 1M-offer import's CPU samples;
  // without it the import used a tenth less CPU a record (bench/README.md).
  if (SupportsDirectIo(path)) {
    db_options.use_direct_io_for_flush_and_compaction = true;
    db_options.compaction_readahead_size = 2 << 20;
  }
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.OptimizeLevelStyleCompaction(64 << 20);
  // Memtable inserts without the checks that Debian's RocksDB leaves compiled in: a third of an
  // import's writing (storage/skip_list_memtable.h). Writes go through one writer anyway.
  cf_options.memtable_factory = NewSkipListMemTableFactory();
  db_options.allow_concurrent_memtable_write = false;
  cf_options.max_write_buffer_number = 3;
  rocksdb::BlockBasedTableOptions table;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, cf_options}, {kProvidersCf, cf_options},
      {kOffersCf, cf_options}, {kOffersByProviderCf, cf_options}, {kChangesCf, cf_options},
      {kBuyersCf, cf_options}, {kEventsCf, cf_options}};
  auto handles = std::make_unique<Handles>();
  rocksdb::DB* raw = nullptr;
  ATABLE_RETURN_IF_ERROR(FromRocksDb(rocksdb::DB::Open(db_options, path, descriptors, &handles->all, &raw),
                                     absl::StrCat("opening database ", path)));
  std::unique_ptr<rocksdb::DB> db(raw);
  handles->meta = handles->all[0];
  handles->providers = handles->all[1];
  handles->offers = handles->all[2];
  handles->offers_by_provider = handles->all[3];
  handles->changes = handles->all[4];
  handles->buyers = handles->all[5];
  handles->events = handles->all[6];

  uint64_t meta[2] = {0, 0};
  const char* keys[2] = {kRevisionKey, kPrunedThroughKey};
  for (int i = 0; i < 2; ++i) {
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), handles->meta, keys[i], &value);
    absl::Status error;
    if (s.ok() && !absl::SimpleAtoi(value, &meta[i])) {
      error = absl::DataLossError(absl::StrCat("database ", path, ": unreadable ", keys[i]));
    } else if (!s.ok() && !s.IsNotFound()) {
      error = FromRocksDb(s, absl::StrCat("reading ", keys[i]));
    }
    if (!error.ok()) {
      for (auto* h : handles->all) db->DestroyColumnFamilyHandle(h);
      return error;
    }
  }
  std::unique_ptr<CatalogStore> store(new CatalogStore(std::move(db), std::move(handles), options, meta[0]));
  store->pruned_through_ = meta[1];
  ATABLE_RETURN_IF_ERROR(store->LoadIndex());
  return store;
}

CatalogStore::CatalogStore(std::unique_ptr<rocksdb::DB> db, std::unique_ptr<Handles> handles,
                           StoreOptions options, uint64_t revision)
    : db_(std::move(db)),
      cf_(std::move(handles)),
      options_(options),
      index_(std::make_unique<OfferIndex>()),
      written_revision_(revision),
      records_batch_(std::make_unique<rocksdb::WriteBatch>()),
      revision_(revision) {}

CatalogStore::~CatalogStore() {
  db_->Flush(rocksdb::FlushOptions(), cf_->all).PermitUncheckedError();
  for (auto* h : cf_->all) db_->DestroyColumnFamilyHandle(h);
  db_->Close().PermitUncheckedError();
}

absl::Status CatalogStore::LoadIndex() {
  ATABLE_RETURN_IF_ERROR(ForEachProvider([this](const Provider& p) {
    index_->UpsertProvider(p, RevisionOfEtag(p.etag()));
    return true;
  }));
  ATABLE_RETURN_IF_ERROR(ForEachOffer([this](const Offer& o) {
    index_->UpsertOffer(o, RevisionOfEtag(o.etag()));
    return true;
  }));
  uint64_t revision = revision_.load();
  index_->SetRevision(revision);
  index_->Compact(revision);  // nothing older than now can be read consistently
  return absl::OkStatus();
}

uint64_t CatalogStore::revision() const { return revision_.load(std::memory_order_acquire); }

uint64_t CatalogStore::oldest_resumable_revision() const { return pruned_through_.load(); }

void CatalogStore::AddCommitListener(std::function<void(uint64_t)> listener) {
  absl::MutexLock lock(&publish_mu_);
  listeners_.push_back(std::move(listener));
}

absl::Status CatalogStore::Commit(rocksdb::WriteBatch* batch, uint64_t revision,
                                  const std::function<void()>& apply) {
  AwaitPublished(nullptr);  // the index takes changes in revision order
  ATABLE_RETURN_IF_ERROR(WriteToDb(batch, revision));
  Publish(revision, apply);
  return absl::OkStatus();
}

absl::Status CatalogStore::WriteToDb(rocksdb::WriteBatch* batch, uint64_t revision) {
  batch->Put(cf_->meta, kRevisionKey, absl::StrCat(revision));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  ATABLE_RETURN_IF_ERROR(FromRocksDb(db_->Write(wo, batch), "writing"));
  written_revision_ = revision;
  return absl::OkStatus();
}

void CatalogStore::Publish(uint64_t revision, const std::function<void()>& apply) {
  absl::MutexLock lock(&publish_mu_);
  apply();
  index_->SetRevision(revision);
  revision_.store(revision, std::memory_order_release);
  for (const auto& listener : listeners_) listener(revision);
}

void CatalogStore::AwaitPublished(const void* pipeline) {
  auto published = [this, pipeline]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(pending_mu_) {
    return pending_batches_ == 0 || (pipeline != nullptr && pending_pipeline_ == pipeline);
  };
  absl::MutexLock lock(&pending_mu_);
  pending_mu_.Await(absl::Condition(&published));
}

void CatalogStore::LookUpStored(RecordBatch records, StoredIds* out) const {
  StoredIds& stored = *out;
  size_t length = 0;
  for (const CatalogRecord* r : records) {
    length += r->is_provider ? r->provider.id().size()
                             : r->offer.id().size() + r->offer.provider_id().size();
  }
  stored.ids.reserve(length);  // so that the views below stay valid
  stored.providers.reserve(records.size());
  stored.offers.reserve(records.size());
  auto add = [&](absl::flat_hash_map<absl::string_view, bool>* ids, const std::string& id) {
    stored.ids.append(id);
    if (!ids->emplace(absl::string_view(stored.ids).substr(stored.ids.size() - id.size()), false)
             .second) {
      stored.ids.resize(stored.ids.size() - id.size());  // seen before
    }
  };
  for (const CatalogRecord* record : records) {
    const CatalogRecord& r = *record;
    if (r.is_provider) {
      add(&stored.providers, r.provider.id());
    } else {
      add(&stored.offers, r.offer.id());
      add(&stored.providers, r.offer.provider_id());
    }
  }
  {
    absl::MutexLock lock(&pending_mu_);
    if (pending_batches_ > 0) {
      for (auto& [id, known] : stored.providers) known = pending_providers_.contains(id);
      for (auto& [id, known] : stored.offers) known = pending_offers_.contains(id);
    }
  }
  // After: a publication indexes an id before it stops being pending, so none is missed.
  index_->LookUpIds(&stored.providers, &stored.offers);
}

absl::StatusOr<Provider> CatalogStore::GetProvider(absl::string_view id) const {
  return ReadMessage<Provider>(db_.get(), cf_->providers, "provider", id);
}

absl::StatusOr<Offer> CatalogStore::GetOffer(absl::string_view id) const {
  return ReadMessage<Offer>(db_.get(), cf_->offers, "offer", id);
}

absl::Status CatalogStore::Write(RecordBatch records, absl::Time now) {
  absl::MutexLock lock(&write_mu_);
  AwaitPublished(nullptr);
  ATABLE_ASSIGN_OR_RETURN(uint64_t revision, WriteRecords(records, now));
  if (revision != 0) Publish(revision, [&] { IndexRecords(records); });
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> CatalogStore::WriteUnpublished(RecordBatch records, absl::Time now,
                                                        const void* pipeline) {
  absl::MutexLock lock(&write_mu_);
  AwaitPublished(pipeline);
  ATABLE_ASSIGN_OR_RETURN(uint64_t revision, WriteRecords(records, now));
  if (revision == 0) return revision;
  absl::MutexLock pending(&pending_mu_);
  ++pending_batches_;
  pending_pipeline_ = pipeline;
  ForEachWrittenId(records, [&](auto* set, absl::string_view id) { set->insert(id); });
  return revision;
}

void CatalogStore::PublishWritten(RecordBatch records, uint64_t revision) {
  Publish(revision, [&] { IndexRecords(records); });
  absl::MutexLock pending(&pending_mu_);
  ForEachWrittenId(records, [&](auto* set, absl::string_view id) { set->erase(id); });
  if (--pending_batches_ == 0) pending_pipeline_ = nullptr;
}

template <typename Fn>
void CatalogStore::ForEachWrittenId(RecordBatch records, Fn fn) {
  for (const CatalogRecord* record : records) {
    const CatalogRecord& r = *record;
    if (!r.status.ok() || r.outcome == WriteOutcome::kUnchanged) continue;
    if (r.is_provider) {
      fn(&pending_providers_, r.provider.id());
    } else {
      fn(&pending_offers_, r.offer.id());
    }
  }
}

absl::StatusOr<uint64_t> CatalogStore::WriteRecords(RecordBatch records, absl::Time now) {
  // The latest version of each id this batch touches: a record written earlier in the batch, or
  // what is stored (read once), or nullptr when there is none. Which ids are stored is looked up
  // first, so only what exists is read.
  // The maps' keys view stored_ids.ids.
  StoredIds stored_ids;
  LookUpStored(records, &stored_ids);
  absl::flat_hash_map<absl::string_view, const Provider*> providers(stored_ids.providers.size());
  absl::flat_hash_map<absl::string_view, const Offer*> offers(stored_ids.offers.size());
  std::deque<Provider> read_providers;
  std::deque<Offer> read_offers;
  auto latest = [&]<typename T>(absl::flat_hash_map<absl::string_view, const T*>& seen,
                                std::deque<T>& read, rocksdb::ColumnFamilyHandle* cf,
                                const char* what,
                                const absl::flat_hash_map<absl::string_view, bool>& stored,
                                const std::string& id) -> absl::StatusOr<const T**> {
    auto it = seen.find(id);
    if (it != seen.end()) return &it->second;
    const auto known = stored.find(id);  // every id of the records is there
    const T* found = nullptr;
    if (known->second) {
      ATABLE_ASSIGN_OR_RETURN(std::optional<T> value, ReadOptional<T>(db_.get(), cf, what, id));
      if (value) found = &read.emplace_back(*std::move(value));
    }
    return &seen.emplace(known->first, found).first->second;
  };
  // Where the latest version of the id is noted (nullptr: none).
  auto provider_of = [&](const std::string& id) {
    return latest(providers, read_providers, cf_->providers, "provider", stored_ids.providers, id);
  };
  auto offer_of = [&](const std::string& id) {
    return latest(offers, read_offers, cf_->offers, "offer", stored_ids.offers, id);
  };
  auto provider_exists = [&](const std::string& id) {
    auto it = providers.find(id);
    return it != providers.end() ? it->second != nullptr : stored_ids.providers.at(id);
  };

  uint64_t revision = written_revision_;
  const WriteTime write_time(now);
  const std::string provider_change = ChangeHead(ChangeRecord::Entity::kProvider, false, now);
  const std::string offer_change = ChangeHead(ChangeRecord::Entity::kOffer, false, now);
  rocksdb::WriteBatch& batch = *records_batch_;
  batch.Clear();
  for (CatalogRecord* record : records) {
    CatalogRecord& r = *record;
    r.status = absl::OkStatus();
    if (r.is_provider) {
      ATABLE_ASSIGN_OR_RETURN(const Provider** latest_provider, provider_of(r.provider.id()));
      const Provider* stored = *latest_provider;
      r.status = CheckEtag("provider", r.provider.id(), r.provider.etag(), stored ? &stored->etag() : nullptr);
      if (!r.status.ok()) continue;
      if (stored && SameContent(*stored, r.provider)) {
        r.provider = *stored;
        r.outcome = WriteOutcome::kUnchanged;
        continue;
      }
      r.outcome = stored ? WriteOutcome::kUpdated : WriteOutcome::kCreated;
      r.revision = ++revision;
      StampWrite(stored, write_time, revision, &r.provider, &r.stored_bytes);
      batch.Put(cf_->providers, r.provider.id(), r.stored_bytes);
      PutChange(&batch, cf_->changes, revision, provider_change, r.provider.id());
      *latest_provider = &r.provider;
    } else {
      if (!provider_exists(r.offer.provider_id())) {
        r.status = absl::FailedPreconditionError(absl::StrCat(
            "offer.provider_id: provider ", r.offer.provider_id(), " does not exist; store it first"));
        continue;
      }
      ATABLE_ASSIGN_OR_RETURN(const Offer** latest_offer, offer_of(r.offer.id()));
      const Offer* stored = *latest_offer;
      r.status = CheckEtag("offer", r.offer.id(), r.offer.etag(), stored ? &stored->etag() : nullptr);
      if (!r.status.ok()) continue;
      if (stored && SameContent(*stored, r.offer)) {
        r.offer = *stored;
        r.outcome = WriteOutcome::kUnchanged;
        continue;
      }
      r.outcome = stored ? WriteOutcome::kUpdated : WriteOutcome::kCreated;
      r.revision = ++revision;
      StampWrite(stored, write_time, revision, &r.offer, &r.stored_bytes);
      if (stored && stored->provider_id() != r.offer.provider_id()) {
        batch.Delete(cf_->offers_by_provider, IndexKey(stored->provider_id(), r.offer.id()));
      }
      PutIndexKey(&batch, cf_->offers_by_provider, r.offer.provider_id(), r.offer.id());
      batch.Put(cf_->offers, r.offer.id(), r.stored_bytes);
      PutChange(&batch, cf_->changes, revision, offer_change, r.offer.id());
      *latest_offer = &r.offer;
    }
  }
  if (revision == written_revision_) return 0;  // nothing to write
  absl::Status written = WriteToDb(&batch, revision);
  // A batch of records with large descriptions would otherwise hold its room for good.
  constexpr size_t kMaxKeptBatchBytes = 8 << 20;
  if (batch.GetDataSize() > kMaxKeptBatchBytes)
    records_batch_ = std::make_unique<rocksdb::WriteBatch>();
  ATABLE_RETURN_IF_ERROR(written);
  return revision;
}

void CatalogStore::IndexRecords(RecordBatch records) {
  for (const CatalogRecord* record : records) {
    const CatalogRecord& r = *record;
    if (!r.status.ok() || r.outcome == WriteOutcome::kUnchanged) continue;
    if (r.is_provider) {
      index_->UpsertProvider(r.provider, r.revision, r.provider_text ? &*r.provider_text : nullptr);
    } else {
      // The index copies the bytes the writer serialized into the version's own block, on the
      // publishing thread: the writer's string, moved in, would keep the index's bytes in the
      // writing thread's malloc arena among its short-lived buffers (at 1M offers the server's
      // RSS after an import was 1,462 MiB that way, 1,390-1,402 with copies).
      index_->UpsertOffer(r.offer, r.revision, r.offer_text ? &*r.offer_text : nullptr,
                          r.stored_bytes);
    }
  }
}

absl::StatusOr<Written<Provider>> CatalogStore::UpsertProvider(const Provider& provider, absl::Time now) {
  CatalogRecord record;
  record.is_provider = true;
  record.provider = provider;
  CatalogRecord* const records[] = {&record};
  ATABLE_RETURN_IF_ERROR(Write(records, now));
  ATABLE_RETURN_IF_ERROR(record.status);
  return Written<Provider>{std::move(record.provider), record.outcome};
}

absl::StatusOr<Written<Offer>> CatalogStore::UpsertOffer(const Offer& offer, absl::Time now) {
  CatalogRecord record;
  record.offer = offer;
  CatalogRecord* const records[] = {&record};
  ATABLE_RETURN_IF_ERROR(Write(records, now));
  ATABLE_RETURN_IF_ERROR(record.status);
  return Written<Offer>{std::move(record.offer), record.outcome};
}

absl::Status CatalogStore::DeleteOffer(absl::string_view id, absl::string_view etag) {
  absl::MutexLock lock(&write_mu_);
  ATABLE_ASSIGN_OR_RETURN(Offer stored, ReadMessage<Offer>(db_.get(), cf_->offers, "offer", id));
  ATABLE_RETURN_IF_ERROR(CheckEtag("offer", id, etag, &stored.etag()));
  uint64_t revision = written_revision_ + 1;
  absl::Time now = absl::Now();
  rocksdb::WriteBatch batch;
  batch.Delete(cf_->offers, rocksdb::Slice(id.data(), id.size()));
  batch.Delete(cf_->offers_by_provider, IndexKey(stored.provider_id(), id));
  batch.Put(cf_->changes, EncodeRevision(revision), EncodeChange(ChangeRecord::Entity::kOffer, true, now, id));
  return Commit(&batch, revision, [&] { index_->RemoveOffer(id, revision); });
}

absl::Status CatalogStore::DeleteProvider(absl::string_view id, absl::string_view etag) {
  absl::MutexLock lock(&write_mu_);
  ATABLE_ASSIGN_OR_RETURN(Provider stored, ReadMessage<Provider>(db_.get(), cf_->providers, "provider", id));
  ATABLE_RETURN_IF_ERROR(CheckEtag("provider", id, etag, &stored.etag()));
  ATABLE_ASSIGN_OR_RETURN(std::vector<std::string> offer_ids, ListOfferIds(id));
  uint64_t revision = written_revision_;
  absl::Time now = absl::Now();
  rocksdb::WriteBatch batch;
  for (const std::string& offer_id : offer_ids) {
    batch.Delete(cf_->offers, offer_id);
    batch.Delete(cf_->offers_by_provider, IndexKey(id, offer_id));
    batch.Put(cf_->changes, EncodeRevision(++revision),
              EncodeChange(ChangeRecord::Entity::kOffer, true, now, offer_id));
  }
  batch.Delete(cf_->providers, rocksdb::Slice(id.data(), id.size()));
  batch.Put(cf_->changes, EncodeRevision(++revision), EncodeChange(ChangeRecord::Entity::kProvider, true, now, id));
  uint64_t first = written_revision_ + 1;
  return Commit(&batch, revision, [&] {
    for (size_t i = 0; i < offer_ids.size(); ++i) index_->RemoveOffer(offer_ids[i], first + i);
    index_->RemoveProvider(id, revision);
  });
}

absl::StatusOr<Written<v1::Buyer>> CatalogStore::UpsertBuyer(const v1::Buyer& buyer, absl::Time now) {
  absl::MutexLock lock(&write_mu_);
  ATABLE_ASSIGN_OR_RETURN(std::optional<v1::Buyer> stored,
                          ReadOptional<v1::Buyer>(db_.get(), cf_->buyers, "buyer", buyer.id()));
  ATABLE_RETURN_IF_ERROR(CheckEtag("buyer", buyer.id(), buyer.etag(), stored ? &stored->etag() : nullptr));
  if (stored && SameContent(*stored, buyer)) return Written<v1::Buyer>{*stored, WriteOutcome::kUnchanged};
  uint64_t revision = written_revision_ + 1;
  v1::Buyer value = buyer;
  std::string bytes;
  StampWrite(stored ? &*stored : nullptr, WriteTime(now), revision, &value, &bytes);
  rocksdb::WriteBatch batch;
  batch.Put(cf_->buyers, value.id(), bytes);
  ATABLE_RETURN_IF_ERROR(Commit(&batch, revision, [] {}));
  return Written<v1::Buyer>{std::move(value), stored ? WriteOutcome::kUpdated : WriteOutcome::kCreated};
}

absl::StatusOr<v1::Buyer> CatalogStore::GetBuyer(absl::string_view id) const {
  return ReadMessage<v1::Buyer>(db_.get(), cf_->buyers, "buyer", id);
}

absl::Status CatalogStore::DeleteBuyer(absl::string_view id, absl::string_view etag) {
  absl::MutexLock lock(&write_mu_);
  ATABLE_ASSIGN_OR_RETURN(v1::Buyer stored, ReadMessage<v1::Buyer>(db_.get(), cf_->buyers, "buyer", id));
  ATABLE_RETURN_IF_ERROR(CheckEtag("buyer", id, etag, &stored.etag()));
  rocksdb::WriteBatch batch;
  batch.Delete(cf_->buyers, rocksdb::Slice(id.data(), id.size()));
  return Commit(&batch, written_revision_ + 1, [] {});
}

absl::StatusOr<std::vector<v1::Buyer>> CatalogStore::ListBuyers(absl::string_view after_id, size_t limit) const {
  std::vector<v1::Buyer> buyers;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_->buyers));
  it->Seek(rocksdb::Slice(after_id.data(), after_id.size()));
  if (it->Valid() && !after_id.empty() && it->key() == rocksdb::Slice(after_id.data(), after_id.size())) it->Next();
  for (; it->Valid() && buyers.size() < limit; it->Next()) {
    v1::Buyer& b = buyers.emplace_back();
    if (!b.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError(absl::StrCat("buyer ", it->key().ToString(), ": unreadable"));
    }
  }
  ATABLE_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading buyers"));
  return buyers;
}

absl::StatusOr<Written<v1::Event>> CatalogStore::UpsertEvent(const v1::Event& event) {
  absl::MutexLock lock(&write_mu_);
  std::string key = absl::StrCat("e/", event.id());
  ATABLE_ASSIGN_OR_RETURN(std::optional<v1::Event> stored, ReadOptional<v1::Event>(db_.get(), cf_->events, "event", key));
  ATABLE_RETURN_IF_ERROR(CheckEtag("event", event.id(), event.etag(), stored ? &stored->etag() : nullptr));
  v1::Event value = event;
  value.clear_etag();
  if (stored) {
    v1::Event old = *stored;
    old.clear_etag();
    if (MessageDifferencer::Equals(old, value)) return Written<v1::Event>{*stored, WriteOutcome::kUnchanged};
  }
  uint64_t revision = written_revision_ + 1;
  value.set_etag(EtagOf(revision));
  rocksdb::WriteBatch batch;
  batch.Put(cf_->events, key, value.SerializeAsString());
  ATABLE_RETURN_IF_ERROR(Commit(&batch, revision, [] {}));
  return Written<v1::Event>{std::move(value), stored ? WriteOutcome::kUpdated : WriteOutcome::kCreated};
}

absl::StatusOr<v1::Event> CatalogStore::GetEvent(absl::string_view id) const {
  absl::StatusOr<v1::Event> e = ReadMessage<v1::Event>(db_.get(), cf_->events, "event", absl::StrCat("e/", id));
  if (absl::IsNotFound(e.status())) return absl::NotFoundError(absl::StrCat("event ", id, " not found"));
  return e;
}

absl::Status CatalogStore::PutSchedule(const v1::EventSchedule& schedule) {
  absl::MutexLock lock(&write_mu_);
  ATABLE_RETURN_IF_ERROR(GetEvent(schedule.event_id()).status());
  rocksdb::WriteBatch batch;
  batch.Put(cf_->events, absl::StrCat("s/", schedule.event_id()), schedule.SerializeAsString());
  return Commit(&batch, written_revision_ + 1, [] {});
}

absl::Status CatalogStore::PutKey(absl::string_view id, absl::string_view value) {
  rocksdb::WriteOptions options;
  options.sync = true;  // a created key is a promise made once: its secret is never shown again
  return FromRocksDb(db_->Put(options, cf_->meta, absl::StrCat(kKeyPrefix, id), rocksdb::Slice(value.data(), value.size())), "storing key");
}

absl::Status CatalogStore::DeleteKey(absl::string_view id) {
  std::string key = absl::StrCat(kKeyPrefix, id), value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_->meta, key, &value);
  if (s.IsNotFound()) return absl::NotFoundError(absl::StrCat("key ", id, " not found"));
  ATABLE_RETURN_IF_ERROR(FromRocksDb(s, "reading key"));
  rocksdb::WriteOptions options;
  options.sync = true;
  return FromRocksDb(db_->Delete(options, cf_->meta, key), "revoking key");
}

absl::StatusOr<std::vector<std::string>> CatalogStore::ListKeys() const {
  std::vector<std::string> values;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_->meta));
  for (it->Seek(kKeyPrefix); it->Valid() && it->key().starts_with(kKeyPrefix); it->Next()) {
    values.push_back(it->value().ToString());
  }
  ATABLE_RETURN_IF_ERROR(FromRocksDb(it->status(), "listing keys"));
  return values;
}

absl::StatusOr<CatalogStore::BackupInfo> CatalogStore::Backup(const std::string& dir) {
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::BackupEngineOptions options(dir);
  options.sync = true;
  ATABLE_RETURN_IF_ERROR(FromRocksDb(rocksdb::BackupEngine::Open(rocksdb::Env::Default(), options, &raw),
                                     absl::StrCat("opening backup folder ", dir)));
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  BackupInfo info;
  info.revision = revision();
  rocksdb::CreateBackupOptions create;
  create.flush_before_backup = true;
  ATABLE_RETURN_IF_ERROR(FromRocksDb(engine->CreateNewBackup(create, db_.get(), &info.id), "backing up"));
  rocksdb::BackupInfo backup;
  if (engine->GetLatestBackupInfo(&backup).ok()) {
    info.id = backup.backup_id;
    info.size_bytes = backup.size;
  }
  return info;
}

absl::Status CatalogStore::RestoreLatestBackup(const std::string& backup_dir, const std::string& data_dir) {
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::path(data_dir) / "CURRENT", ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat(data_dir, " already holds a database: restore into a new folder"));
  }
  if (!std::filesystem::is_directory(backup_dir, ec)) {
    return absl::NotFoundError(absl::StrCat("no backup folder ", backup_dir));
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  ATABLE_RETURN_IF_ERROR(FromRocksDb(
      rocksdb::BackupEngineReadOnly::Open(rocksdb::Env::Default(), rocksdb::BackupEngineOptions(backup_dir), &raw),
      absl::StrCat("opening backup folder ", backup_dir)));
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  rocksdb::BackupInfo latest;
  if (!engine->GetLatestBackupInfo(&latest).ok()) {
    return absl::NotFoundError(absl::StrCat("no backup in ", backup_dir));
  }
  rocksdb::Status verified = engine->VerifyBackup(latest.backup_id, /*verify_with_checksum=*/true);
  if (!verified.ok()) {
    return absl::DataLossError(absl::StrCat("backup ", latest.backup_id, " in ", backup_dir,
                                            " is damaged: ", verified.ToString()));
  }
  return FromRocksDb(engine->RestoreDBFromLatestBackup(data_dir, data_dir), "restoring");
}

absl::StatusOr<v1::EventSchedule> CatalogStore::GetSchedule(absl::string_view event_id) const {
  absl::StatusOr<v1::EventSchedule> s =
      ReadMessage<v1::EventSchedule>(db_.get(), cf_->events, "schedule", absl::StrCat("s/", event_id));
  if (absl::IsNotFound(s.status())) {
    return absl::NotFoundError(absl::StrCat("event ", event_id, " has no schedule yet"));
  }
  return s;
}

absl::StatusOr<std::vector<std::string>> CatalogStore::ListOfferIds(absl::string_view provider_id) const {
  std::string prefix = IndexKey(provider_id, "");
  std::vector<std::string> ids;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_->offers_by_provider));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    ids.emplace_back(it->key().data() + prefix.size(), it->key().size() - prefix.size());
  }
  ATABLE_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading the offer index"));
  return ids;
}

absl::Status CatalogStore::ForEachProvider(const std::function<bool(const Provider&)>& fn) const {
  return ForEach<Provider>(db_.get(), cf_->providers, "provider", fn);
}

absl::Status CatalogStore::ForEachOffer(const std::function<bool(const Offer&)>& fn) const {
  return ForEach<Offer>(db_.get(), cf_->offers, "offer", fn);
}

absl::StatusOr<std::vector<ChangeRecord>> CatalogStore::ReadChanges(uint64_t after, size_t limit) const {
  if (after < pruned_through_.load()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "resume_token: revision ", after, " is older than the retained change history (it starts after ",
        pruned_through_.load(), "); resync with SearchOffers, then follow from its resume_token"));
  }
  const uint64_t published = revision();  // read first: what is written after it is not shown
  std::vector<ChangeRecord> changes;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_->changes));
  for (it->Seek(EncodeRevision(after + 1)); it->Valid() && changes.size() < limit; it->Next()) {
    ChangeRecord c;
    if (!DecodeChange(it->key(), it->value(), &c)) return absl::DataLossError("change log: unreadable record");
    if (c.revision > published) break;
    changes.push_back(std::move(c));
  }
  ATABLE_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading the change log"));
  return changes;
}

absl::StatusOr<uint64_t> CatalogStore::PruneChanges(absl::Time cutoff) {
  absl::MutexLock lock(&write_mu_);
  uint64_t last = 0, count = 0;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf_->changes));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    ChangeRecord c;
    if (!DecodeChange(it->key(), it->value(), &c)) return absl::DataLossError("change log: unreadable record");
    if (c.commit_time >= cutoff) break;
    last = c.revision;
    ++count;
  }
  ATABLE_RETURN_IF_ERROR(FromRocksDb(it->status(), "reading the change log"));
  if (count == 0) return 0;
  rocksdb::WriteBatch batch;
  batch.DeleteRange(cf_->changes, EncodeRevision(0), EncodeRevision(last + 1));
  batch.Put(cf_->meta, kPrunedThroughKey, absl::StrCat(last));
  rocksdb::WriteOptions wo;
  wo.sync = options_.sync;
  ATABLE_RETURN_IF_ERROR(FromRocksDb(db_->Write(wo, &batch), "pruning the change log"));
  pruned_through_ = last;
  return count;
}

absl::Status CatalogStore::VerifyIndexes() const {
  // One snapshot for every read, so concurrent writes cannot fake a disagreement.
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  rocksdb::ReadOptions ro;
  ro.snapshot = snapshot;
  absl::Status result;
  std::vector<std::string> expected;  // index keys the offers call for
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
        result = absl::DataLossError(
            absl::StrCat("offer index: unexpected entry ", absl::CHexEscape(it->key().ToString())));
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
