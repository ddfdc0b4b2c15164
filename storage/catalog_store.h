// CatalogStore: the durable home of providers and offers, in RocksDB.
//
// Layout: one column family per entity ("providers", "offers", keyed by id, protobuf values), the
// index "offers_by_provider" (provider id, NUL, offer id), "buyers", "events", and the change log "changes" (8-byte
// big-endian revision -> entity type, operation, commit time, id). The default column family holds
// the last revision and how far the change log was pruned. Every change of an entity gets the
// next revision, and an entity, its index entries, its change record and the revision are written
// in one WriteBatch, so they never disagree.
//
// The store also keeps the search index (OfferIndex) in memory: rebuilt from the column families
// at open, and brought up to date with each write batch before the write returns, under the same
// lock, so a search never sees a write half applied. A bulk writer may instead publish each batch
// (index, revision(), commit listeners) in a second step, overlapping with writing the next
// batch: see WriteUnpublished.
//
// Thread-safe: reads run concurrently; writes are serialised.
#ifndef ATABLE_STORAGE_CATALOG_STORE_H_
#define ATABLE_STORAGE_CATALOG_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "atable/v1/catalog.pb.h"
#include "atable/v1/matchmaking.pb.h"
#include "server/core/offer_index.h"

namespace rocksdb {
class ColumnFamilyHandle;
class DB;
class WriteBatch;
}  // namespace rocksdb

namespace atable {

// What an upsert did to the stored entity.
enum class WriteOutcome { kCreated, kUpdated, kUnchanged };

// The stored entity after an upsert, and what the upsert did.
template <typename T>
struct Written {
  T value;
  WriteOutcome outcome;
};

// One entry of the change log.
struct ChangeRecord {
  enum class Entity { kProvider, kOffer };
  uint64_t revision = 0;
  Entity entity = Entity::kProvider;
  std::string id;
  bool deleted = false;
  absl::Time commit_time;
};

// A provider or an offer to write, and then what became of it.
struct CatalogRecord {
  bool is_provider = false;
  v1::Provider provider;  // when is_provider
  v1::Offer offer;        // otherwise
  // Optional: PrepareOfferText(offer), or PrepareProviderText(provider), worked out by the caller
  // beforehand (on its own thread).
  std::optional<OfferText> offer_text;
  std::optional<ProviderText> provider_text;
  // Filled by CatalogStore::Write: OK or why this record was refused, what the write did, and the
  // revision it was written at (created or updated).
  absl::Status status;
  WriteOutcome outcome = WriteOutcome::kUnchanged;
  uint64_t revision = 0;
  // Before a write, optionally: the provider or offer serialized as the caller received it (the
  // store then appends the write's stamps rather than serializing the message again). After a
  // write that created or updated the record: the bytes stored.
  std::string stored_bytes;
};

// Records to write together, in order; the store works on them where they are (they need not be
// contiguous, so that a caller can keep them in a pool of its own).
using RecordBatch = absl::Span<CatalogRecord* const>;

struct StoreOptions {
  // fsync the write-ahead log on every write batch (survives power loss, slower).
  bool sync = false;
};

class CatalogStore {
 public:
  // Opens (creating if needed) the database in the folder `path`. UNAVAILABLE when another
  // process holds it; DATA_LOSS when it is corrupt.
  static absl::StatusOr<std::unique_ptr<CatalogStore>> Open(const std::string& path,
                                                            StoreOptions options = {});

  CatalogStore(const CatalogStore&) = delete;
  CatalogStore& operator=(const CatalogStore&) = delete;
  // Flushes and closes the database.
  ~CatalogStore();

  // Returns the provider `id`, or NOT_FOUND.
  absl::StatusOr<v1::Provider> GetProvider(absl::string_view id) const;

  // Creates or replaces the provider `provider.id()` (which the caller has validated). Output-only
  // fields of `provider` are ignored; the stored value gets create_time (kept on replace),
  // update_time = `now` and a new etag, unless nothing but output-only fields differ, in which
  // case nothing is written (kUnchanged). ABORTED if `provider.etag()` is set and is not the
  // stored etag (or there is no stored provider).
  absl::StatusOr<Written<v1::Provider>> UpsertProvider(const v1::Provider& provider, absl::Time now);

  // Deletes the provider `id` and all its offers. NOT_FOUND if absent; ABORTED if `etag` is set
  // and is not the stored etag.
  absl::Status DeleteProvider(absl::string_view id, absl::string_view etag = "");

  // Returns the offer `id` as stored (without the provider's location filled in), or NOT_FOUND.
  absl::StatusOr<v1::Offer> GetOffer(absl::string_view id) const;

  // Creates or replaces the offer `offer.id()`, like UpsertProvider. FAILED_PRECONDITION if the
  // provider `offer.provider_id()` does not exist.
  absl::StatusOr<Written<v1::Offer>> UpsertOffer(const v1::Offer& offer, absl::Time now);

  // Deletes the offer `id`. NOT_FOUND if absent; ABORTED if `etag` is set and stale.
  absl::Status DeleteOffer(absl::string_view id, absl::string_view etag = "");

  // Creates or replaces many records in one atomic write: each record is checked as by
  // UpsertProvider/UpsertOffer (an offer's provider may come earlier in `records`); a refused
  // record gets its status (FAILED_PRECONDITION, ABORTED) and is skipped, the others are stored
  // and replaced in `records` by their stored value. Records must be validated by the caller.
  // Returns an error only if the database write itself failed (then nothing was stored).
  absl::Status Write(RecordBatch records, absl::Time now);

  // Writes `records` to the database as Write does, but leaves publishing them (the search index,
  // revision(), the commit listeners) to PublishWritten, so that one thread can write the next
  // batch while another indexes this one. Returns the revision the batch ends at, or 0 when
  // nothing needed writing (then there is nothing to publish). Every batch written must then be
  // passed, with that revision, to PublishWritten, in the order written, and `records` must stay
  // unchanged until then. The batches of one `pipeline` (any address that names the caller) may
  // be written ahead of their publishing; any other write waits until they are published.
  absl::StatusOr<uint64_t> WriteUnpublished(RecordBatch records, absl::Time now,
                                            const void* pipeline);
  // Publishes a batch written by WriteUnpublished: from then on searches see it.
  void PublishWritten(RecordBatch records, uint64_t revision);

  // Buyers: stored like providers (etag, timestamps, idempotent upserts), outside the change log.
  absl::StatusOr<Written<v1::Buyer>> UpsertBuyer(const v1::Buyer& buyer, absl::Time now);
  absl::StatusOr<v1::Buyer> GetBuyer(absl::string_view id) const;
  absl::Status DeleteBuyer(absl::string_view id, absl::string_view etag = "");
  // Up to `limit` buyers with ids after `after_id`, in id order.
  absl::StatusOr<std::vector<v1::Buyer>> ListBuyers(absl::string_view after_id, size_t limit) const;

  // Events and their current schedules (column family "events": "e/<id>" and "s/<id>").
  absl::StatusOr<Written<v1::Event>> UpsertEvent(const v1::Event& event);
  absl::StatusOr<v1::Event> GetEvent(absl::string_view id) const;
  // Stores `schedule` as the current schedule of its event (which must exist: NOT_FOUND).
  absl::Status PutSchedule(const v1::EventSchedule& schedule);
  // The current schedule of the event; NOT_FOUND if none was built.
  absl::StatusOr<v1::EventSchedule> GetSchedule(absl::string_view event_id) const;

  // API keys (default column family, "key/<id>" -> the caller's bytes), outside the change log.
  absl::Status PutKey(absl::string_view id, absl::string_view value);
  // NOT_FOUND when there is no such key.
  absl::Status DeleteKey(absl::string_view id);
  // Every stored key value, in id order.
  absl::StatusOr<std::vector<std::string>> ListKeys() const;

  // Backs the database up into `dir` with RocksDB's BackupEngine (online: writes go on; each
  // backup adds only new files). Returns the backup's id, revision and size.
  struct BackupInfo {
    uint32_t id = 0;
    uint64_t revision = 0;
    uint64_t size_bytes = 0;
  };
  absl::StatusOr<BackupInfo> Backup(const std::string& dir);
  // Restores the latest backup of `backup_dir` into `data_dir`, which must not hold a database
  // (FAILED_PRECONDITION), and checks the backup's files first (DATA_LOSS if one is damaged).
  static absl::Status RestoreLatestBackup(const std::string& backup_dir, const std::string& data_dir);

  // Returns the ids of the offers of `provider_id`, in id order (empty for an unknown provider).
  absl::StatusOr<std::vector<std::string>> ListOfferIds(absl::string_view provider_id) const;

  // Calls `fn` for every provider (resp. offer) in id order, on one consistent snapshot; stops
  // early when `fn` returns false.
  absl::Status ForEachProvider(const std::function<bool(const v1::Provider&)>& fn) const;
  absl::Status ForEachOffer(const std::function<bool(const v1::Offer&)>& fn) const;

  // Returns up to `limit` change records with a revision above `after` and at most revision()
  // (published), in revision order. FAILED_PRECONDITION if `after` is older than the retained
  // history (see PruneChanges).
  absl::StatusOr<std::vector<ChangeRecord>> ReadChanges(uint64_t after, size_t limit) const;

  // Deletes the change records committed before `cutoff`. Returns how many were deleted.
  absl::StatusOr<uint64_t> PruneChanges(absl::Time cutoff);

  // The oldest revision ReadChanges can resume after (0 until the log is first pruned).
  uint64_t oldest_resumable_revision() const;

  // The search index, as up to date as revision().
  const OfferIndex& index() const { return *index_; }
  OfferIndex& mutable_index() { return *index_; }

  // Calls `listener(revision)` after every committed write once it is published, on the
  // publishing thread, while no other publication runs: it must be quick and must not write to the
  // store.
  void AddCommitListener(std::function<void(uint64_t)> listener);

  // The revision of the last write published (0 for a store never written).
  uint64_t revision() const;

  // Checks that the offer index and the offers agree (every offer indexed under its provider,
  // every index entry pointing to such an offer, every offer's provider present). For tests and
  // consistency checks; reads the whole store.
  absl::Status VerifyIndexes() const;

 private:
  struct Handles;
  CatalogStore(std::unique_ptr<rocksdb::DB> db, std::unique_ptr<Handles> handles,
               StoreOptions options, uint64_t revision);

  // Commits `batch` (which ends at `revision`) and publishes it, `apply` updating the index.
  absl::Status Commit(rocksdb::WriteBatch* batch, uint64_t revision,
                      const std::function<void()>& apply) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Writes `batch`, which ends at `revision`, to the database.
  absl::Status WriteToDb(rocksdb::WriteBatch* batch, uint64_t revision) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Applies `apply` to the index and makes `revision` the store's, then tells the listeners.
  void Publish(uint64_t revision, const std::function<void()>& apply);
  // Checks and writes the records (see Write); returns the revision the batch ends at, 0 if
  // nothing was written.
  absl::StatusOr<uint64_t> WriteRecords(RecordBatch records, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Applies written records to the index.
  void IndexRecords(RecordBatch records);
  // Waits until no batch written by another writer than `pipeline` (nullptr: any) awaits publishing.
  void AwaitPublished(const void* pipeline) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);
  // Which providers and offers `records` name (their own ids, and their offers' providers) are
  // stored: written and not yet published, or known to the index. The maps' keys view `ids` (a
  // short string's characters move with it: a StoredIds is filled where it stays).
  struct StoredIds {
    std::string ids;  // the ids, end to end (records change as they are written)
    absl::flat_hash_map<absl::string_view, bool> providers, offers;
  };
  // Fills an empty `stored`.
  void LookUpStored(RecordBatch records, StoredIds* stored) const;
  // Calls `fn(pending set, id)` for each record of a written batch that changed the store.
  template <typename Fn>
  void ForEachWrittenId(RecordBatch records, Fn fn) ABSL_EXCLUSIVE_LOCKS_REQUIRED(pending_mu_);
  absl::Status LoadIndex();

  std::unique_ptr<rocksdb::DB> db_;
  std::unique_ptr<Handles> cf_;
  StoreOptions options_;
  std::unique_ptr<OfferIndex> index_;
  mutable absl::Mutex write_mu_;
  uint64_t written_revision_ ABSL_GUARDED_BY(write_mu_);  // the last revision written to the database
  // The batch WriteRecords fills, reused so that its buffer keeps the room it grew to.
  std::unique_ptr<rocksdb::WriteBatch> records_batch_ ABSL_GUARDED_BY(write_mu_);
  // Batches written but not yet published (all by one pipeline) and the ids they wrote.
  mutable absl::Mutex pending_mu_ ABSL_ACQUIRED_AFTER(write_mu_);
  int pending_batches_ ABSL_GUARDED_BY(pending_mu_) = 0;
  const void* pending_pipeline_ ABSL_GUARDED_BY(pending_mu_) = nullptr;
  absl::flat_hash_set<absl::string_view> pending_providers_ ABSL_GUARDED_BY(pending_mu_);
  absl::flat_hash_set<absl::string_view> pending_offers_ ABSL_GUARDED_BY(pending_mu_);
  // Held while publishing, so that publications (and adding listeners) never overlap.
  absl::Mutex publish_mu_;
  std::vector<std::function<void(uint64_t)>> listeners_ ABSL_GUARDED_BY(publish_mu_);
  std::atomic<uint64_t> pruned_through_{0};
  // The last revision published: set after the batch that used it is durable in the WAL and
  // applied to the index.
  std::atomic<uint64_t> revision_;
};

}  // namespace atable

#endif  // ATABLE_STORAGE_CATALOG_STORE_H_
