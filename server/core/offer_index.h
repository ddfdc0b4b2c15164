// OfferIndex: the in-memory search index of the catalog, kept by the store beside RocksDB.
//
// Each change of an offer (or of the provider it inherits its place and name from) adds a new
// version of the offer with the revision it was born at; the version it replaces dies at that
// revision. Posting lists (per kind, sub-kind, tag, label, commune, postcode, département,
// provider, map cell and word) only grow, so a search can read the catalog as of any revision
// since the last compaction: that is what makes paging stable under concurrent writes. A search
// starts from the posting lists of its most selective filter and checks every filter on each
// candidate; it never reads RocksDB.
//
// Thread-safe: searches share a reader lock, changes take the writer lock, letting searches that
// already wait for it in first.
#ifndef ATABLE_SERVER_CORE_OFFER_INDEX_H_
#define ATABLE_SERVER_CORE_OFFER_INDEX_H_

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/inlined_vector.h"
#include "absl/hash/hash.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "atable/v1/catalog.pb.h"
#include "server/core/block_pool.h"
#include "server/core/chunked_vector.h"
#include "server/core/helper_thread.h"
#include "server/core/large_memory.h"

namespace atable {

// Limits of SearchOffers.
inline constexpr int kDefaultPageSize = 50;
inline constexpr int kMaxPageSize = 1000;

// One page of a search.
struct SearchOutcome {
  struct Hit {
    std::string offer_bytes;  // the serialized offer (the read mask's fields), location filled
                              // from its provider if absent
    double distance_km = 0;   // when the query had a point
    double relevance = 0;     // when the query had text
  };
  std::vector<Hit> hits;
  std::string next_page_token;  // empty on the last page
  int64_t total_count = 0;
  std::vector<v1::Facet> facets;
  uint64_t revision = 0;  // the revision the walk reads
  int64_t candidates = 0;  // versions the search checked (its work, for tests and monitoring)
};

// The words and tags of an offer as the index reads them, worked out without the index's lock so
// that an import can prepare them on another thread than the one writing. Each is a piece of one
// accent-free lower-case text, so that an OfferText reused from offer to offer allocates nothing.
struct OfferText {
  struct Piece {
    uint32_t at = 0, size = 0;  // in `folded`
  };
  std::string folded;              // the tags, the title and the descriptions, folded
  std::vector<Piece> tags;         // each tag
  std::vector<Piece> title_words;  // TextWords of the title
  std::vector<Piece> body_words;   // TextWords of every description
  absl::string_view operator[](Piece p) const { return {folded.data() + p.at, p.size}; }
};
OfferText PrepareOfferText(const v1::Offer& offer);
// The same into `text`, whose lists keep the room they had (for a caller that reuses them).
void PrepareOfferText(const v1::Offer& offer, OfferText* text);

// The words and commune of a provider as the index reads them, worked out without the index's
// lock (as OfferText is for an offer).
struct ProviderText {
  using Piece = OfferText::Piece;
  std::string folded;             // the name and the commune, folded, then the commune normalized
  std::vector<Piece> name_words;  // TextWords of the name and the commune
  Piece commune;                  // NormalizePlaceName of the commune
  absl::string_view operator[](Piece p) const { return {folded.data() + p.at, p.size}; }
};
// Fills `text` (its lists keep the room they had).
void PrepareProviderText(const v1::Provider& provider, ProviderText* text);

class OfferIndex {
 public:
  OfferIndex() = default;
  OfferIndex(const OfferIndex&) = delete;
  OfferIndex& operator=(const OfferIndex&) = delete;

  // Records the provider as of `revision`; offers already indexed under it get new versions if
  // their searchable facts (name, place) change.
  // `text`, when given, is what PrepareProviderText gives.
  void UpsertProvider(const v1::Provider& provider, uint64_t revision,
                      const ProviderText* text = nullptr);
  // Forgets the provider; its offers must have been removed first.
  void RemoveProvider(absl::string_view id, uint64_t revision);
  // Adds a version of the offer as of `revision`. Its provider must have been upserted before.
  // `text`, when given, is PrepareOfferText(offer); `bytes`, when not empty, the serialized offer.
  void UpsertOffer(const v1::Offer& offer, uint64_t revision, const OfferText* text = nullptr,
                   absl::string_view bytes = "");
  // Ends the current version of the offer at `revision` (no-op if absent).
  void RemoveOffer(absl::string_view id, uint64_t revision);
  // Declares that every change up to `revision` is applied (searches of page one read here).
  void SetRevision(uint64_t revision);

  // Runs the query. Page one reads the latest revision; later pages the revision in their token.
  // INVALID_ARGUMENT names a bad field of the query or a token that does not belong to it;
  // FAILED_PRECONDITION when the token's revision has been compacted away.
  absl::StatusOr<SearchOutcome> Search(const v1::SearchOffersRequest& query) const;

  // Drops the versions that died at or before `horizon` and rebuilds the posting lists; tokens
  // of walks older than `horizon` stop working. Call when dead_versions() grows large.
  void Compact(uint64_t horizon);

  // Whether the provider, or the offer, is in the catalog as of the last change applied (lets the
  // store skip reading what it would not find).
  bool HasProvider(absl::string_view id) const;
  bool HasOffer(absl::string_view id) const;
  // Sets `known[id]` for every id of the map (providers, then offers) under one lock.
  void LookUpIds(absl::flat_hash_map<absl::string_view, bool>* providers,
                 absl::flat_hash_map<absl::string_view, bool>* offers) const;

  // Counts, for monitoring and compaction decisions.
  size_t live_offers() const;
  size_t dead_versions() const;

 private:
  // What the index knows of a provider.
  struct Provider {
    uint32_t interned = 0;             // its id, as interned in provider_ids_
    std::vector<uint32_t> name_words;  // words of its name and commune
    bool present = false;              // false once removed (its slot stays, for its id)
    bool has_location = false;
    double lat = 0, lon = 0;
    uint32_t insee = 0, postcode = 0, departement = 0, commune = 0;  // commune as NormalizePlaceName gives it
    bool SameFacts(const Provider& o) const {
      return name_words == o.name_words && has_location == o.has_location && lat == o.lat &&
             lon == o.lon && insee == o.insee && postcode == o.postcode && commune == o.commune;
    }
  };

  // One version of an offer: its searchable facts, its id and its stored bytes. Its lists, bytes
  // and id share one block of the index's pool, allocated once (a version never changes but for
  // `died`) and given back by the index when it drops the version. A search's check reads a version
  // only for what its Hot facts lack (tags, labels, words, many prices): the block and its sizes,
  // in the version's first cache line.
  struct alignas(64) Version {
    Version() = default;
    Version(Version&&) = default;
    Version& operator=(Version&&) = default;
    Version(const Version&) = delete;
    Version& operator=(const Version&) = delete;

    struct PriceEntry {
      int unit;
      int64_t min, max;
    };
    using Period = std::pair<int32_t, int32_t>;  // opening days, inclusive
    // The first line: what a check may read (and the coordinates, copied in Hot).
    double lat = 0, lon = 0;
    // In this order: prices, opening periods, facts (interned ids, each list sorted and unique:
    // tags, labels, title words, then the other words: descriptions, provider name and commune),
    // the offer as stored, and its id.
    std::byte* data = nullptr;  // in the index's pool, DataBytes() long
    uint32_t n_prices = 0, n_open = 0, n_facts = 0, n_bytes = 0;
    uint16_t n_tags = 0, n_labels = 0, n_title = 0, n_id = 0;
    bool has_location = false;
    bool inherited_location = false;  // the location is the provider's
    int64_t update_micros = 0;
    // The second line: what making, posting and compacting versions read (filters read their
    // copies in Hot).
    uint64_t born = 0, died = std::numeric_limits<uint64_t>::max();
    uint32_t provider = 0;
    int kind = 0, sub_kind = 0;
    int32_t min_persons = 0, max_persons = 0;
    int class_level = 0, class_scheme = 0;
    uint32_t insee = 0, postcode = 0, departement = 0, commune = 0;

    // Allocates `data` from `pool` for lists, bytes and id of these sizes, to be filled through
    // the Mutable views.
    void Allocate(BlockPool* pool, uint32_t prices, uint32_t open, uint32_t facts, uint32_t bytes,
                  uint16_t id);
    size_t DataBytes() const { return IdAt() + n_id; }
    PriceEntry* MutablePrices() { return reinterpret_cast<PriceEntry*>(data); }
    Period* MutableOpen() { return reinterpret_cast<Period*>(data + OpenAt()); }
    uint32_t* MutableFacts() { return reinterpret_cast<uint32_t*>(data + FactsAt()); }
    char* MutableBytes() { return reinterpret_cast<char*>(data + BytesAt()); }
    char* MutableId() { return reinterpret_cast<char*>(data + IdAt()); }

    absl::string_view id() const { return {reinterpret_cast<const char*>(data + IdAt()), n_id}; }
    absl::Span<const PriceEntry> prices() const {
      return {reinterpret_cast<const PriceEntry*>(data), n_prices};
    }
    absl::Span<const Period> open() const {
      return {reinterpret_cast<const Period*>(data + OpenAt()), n_open};
    }
    absl::Span<const uint32_t> facts() const {
      return {reinterpret_cast<const uint32_t*>(data + FactsAt()), n_facts};
    }
    absl::string_view bytes() const {
      return {reinterpret_cast<const char*>(data + BytesAt()), n_bytes};
    }
    absl::Span<const uint32_t> tags() const { return facts().subspan(0, n_tags); }
    absl::Span<const uint32_t> labels() const { return facts().subspan(n_tags, n_labels); }
    absl::Span<const uint32_t> title_words() const {
      return facts().subspan(size_t{n_tags} + n_labels, n_title);
    }
    absl::Span<const uint32_t> body_words() const {
      return facts().subspan(size_t{n_tags} + n_labels + n_title);
    }

    bool VisibleAt(uint64_t revision) const { return born <= revision && revision < died; }

   private:
    size_t OpenAt() const { return n_prices * sizeof(PriceEntry); }
    size_t FactsAt() const { return OpenAt() + n_open * sizeof(Period); }
    size_t BytesAt() const { return FactsAt() + n_facts * sizeof(uint32_t); }
    size_t IdAt() const { return BytesAt() + n_bytes; }
  };
  static_assert(sizeof(Version) == 128, "a version fills two cache lines");

  // The facts the filters read, packed in two cache lines per version and kept beside versions_
  // (same ordinal), so that checking a candidate touches the Version and its block only for the
  // filters that need them (tags, labels, words) or for prices and opening periods too many to
  // copy here. The first line holds what every check reads; the second what a check reads once
  // the first line's filters passed, and only for queries that ask for it.
  static constexpr int kHotPrices = 3, kHotOpen = 2;
  static constexpr uint8_t kNotCopied = 255;  // n_prices, n_open: read the version's block
  struct alignas(64) Hot {
    // The first line.
    uint64_t born = 0, died = std::numeric_limits<uint64_t>::max();
    double lat = 0, lon = 0;  // the version's own, to the bit
    int32_t min_persons = 0, max_persons = 0;
    uint32_t insee = 0, postcode = 0, departement = 0, commune = 0;
    uint8_t kind = 0, sub_kind = 0, class_level = 0, class_scheme = 0;
    bool has_location = false;
    uint8_t n_prices = 0;  // prices copied below, or kNotCopied
    uint8_t n_open = 0;    // opening periods copied below, or kNotCopied
    bool tags_in_bits = false;  // each of the version's tags has a bit: `tags` lists them all
    // The second line.
    alignas(64) int64_t update_micros = 0;
    uint32_t provider = 0;
    int32_t price_min[kHotPrices] = {}, price_max[kHotPrices] = {};
    Version::Period open[kHotOpen] = {};
    uint8_t price_unit[kHotPrices] = {};
    uint64_t tags = 0;  // bit b set when the version has the tag of bit b (see tag_bits_)
  };
  static_assert(sizeof(Hot) == 128, "packed facts fill two cache lines");

  // Sets of ordinals found by a string key held in the array the ordinals index (an offer's id in
  // versions_, an interned string in names_): the set holds 4 bytes an element rather than a copy
  // of its key. An ordinal must be in the array before it is inserted.
  static absl::string_view KeyOf(const Version& v) { return v.id(); }
  static absl::string_view KeyOf(const std::string& s) { return s; }
  template <typename T>
  struct KeyHash {
    using is_transparent = void;
    const ChunkedVector<T>* items;
    size_t operator()(absl::string_view key) const { return absl::Hash<absl::string_view>()(key); }
    size_t operator()(uint32_t o) const { return (*this)(KeyOf((*items)[o])); }
  };
  template <typename T>
  struct KeyEq {
    using is_transparent = void;
    const ChunkedVector<T>* items;
    absl::string_view Key(uint32_t o) const { return KeyOf((*items)[o]); }
    bool operator()(uint32_t a, uint32_t b) const { return a == b || Key(a) == Key(b); }
    bool operator()(uint32_t a, absl::string_view b) const { return Key(a) == b; }
    bool operator()(absl::string_view a, uint32_t b) const { return a == Key(b); }
  };
  template <typename T>
  using KeyedSet = absl::flat_hash_set<uint32_t, KeyHash<T>, KeyEq<T>, LargeAllocator<uint32_t>>;

  // The first eight bytes of an offer id as a number ordered as the ids are (a shorter id padded
  // with zero bytes): ids whose prefixes differ compare as their prefixes do.
  static uint64_t IdPrefix(absl::string_view id) {
    uint64_t prefix = 0;
    for (size_t i = 0; i < 8; ++i) {
      prefix = (prefix << 8) | (i < id.size() ? static_cast<uint8_t>(id[i]) : 0);
    }
    return prefix;
  }
  // Whether the id `id`, of prefix `prefix`, sorts before the version of `ordinal`, of prefix
  // `ordinal_prefix`.
  bool IdBefore(uint64_t prefix, absl::string_view id, uint64_t ordinal_prefix,
                uint32_t ordinal) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return prefix != ordinal_prefix ? prefix < ordinal_prefix : id < versions_[ordinal].id();
  }

  // Searching (offer_search.cc): the query in index terms, where its candidates come from, a
  // version that passes every filter, and what checks them.
  struct Query;
  struct Plan;
  struct Match;
  class Checker;

  Hot HotOf(const Version& v) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The bits (in Hot::tags) of those of these tags (interned ids) that have one.
  uint64_t TagBits(absl::Span<const uint32_t> tags) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Gives each of these tags that has no bit yet the next free one, while there is one.
  void AssignTagBits(absl::Span<const uint32_t> tags) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The id of `s` in `set` (adding it to names_ and the set if new); 0 for the empty string.
  uint32_t InternIn(KeyedSet<std::string>* set, absl::string_view s)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The id of `s` in `set`, 0 for the empty string, or the largest uint32_t when it is not there.
  static uint32_t LookupIn(const KeyedSet<std::string>& set, absl::string_view s);
  // A string of the offers' and places' vocabulary (a word, tag, label, commune, code).
  uint32_t Intern(absl::string_view s) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return InternIn(&strings_, s);
  }
  uint32_t Lookup(absl::string_view s) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return LookupIn(strings_, s);
  }
  // A provider's id (kept apart: the vocabulary's set stays small, and quick to probe, however
  // many providers there are).
  uint32_t LookupProvider(absl::string_view id) const ABSL_SHARED_LOCKS_REQUIRED(mu_) {
    return LookupIn(provider_ids_, id);
  }
  // Interns a text word and records it among the words prefixes are looked up in.
  uint32_t InternWord(absl::string_view w) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The provider of that id, or nullptr when there is none (or it was removed).
  const Provider* FindProvider(absl::string_view id) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void AddVersion(Version v) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  Version MakeVersion(const v1::Offer& offer, const Provider& provider, uint64_t revision,
                      const OfferText& text, absl::string_view bytes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PostVersion(const Version& v, uint32_t ordinal) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Files the version in the ordered lists (see priced_ and by_id_): by id among every offer of its
  // sub-kind and cell, and among those of its classification level.
  void PostOrdered(const Version& v, uint32_t ordinal) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Entries of a posting list (0 for a key without one).
  size_t ListSize(uint64_t key) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The keys of the title and body lists of each word id of `ids`.
  static std::vector<uint64_t> WordKeys(absl::Span<const uint32_t> ids);
  // The request's filters as the index's ids (`impossible` when one names a value never seen).
  Query ResolveQuery(const v1::SearchOffersRequest& r) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The query's circle: its reach in degrees and the map cells covering it.
  static Plan PlanCircle(const Query& q);
  // The query's two most selective sources of candidates (needed only when the page is not read
  // from the ordered lists).
  void PlanSources(const Query& q, Plan* plan) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Checks every candidate of the plan (each version of its smallest source, or those also in
  // the second smallest when the smallest is large; every version when no filter has a list).
  void CheckPlanned(const Plan& plan, const Checker& check) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Checks the versions of `parts`, lists of ordinals taken in turn; when they are many, shares
  // them with helper_ if it is free.
  void CheckParts(absl::Span<const absl::Span<const uint32_t>> parts, const Checker& check) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Counts of the matches per kind, sub-kind, tag, commune and classification (top 50 each).
  std::vector<v1::Facet> Facets(const std::vector<Match>& matches) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The map cells whose ordered lists hold every possible match of the query (its circle, or its
  // département when every offer there is located); false when there are none such.
  bool OrderedCells(const Query& q, const std::vector<uint64_t>& near_cells, std::vector<uint64_t>* cells) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // A page sorted by price, read from the price-ordered lists in order (from just after
  // `after_price`/`after_id`, the cursor's, if `has_cursor`) until it is full. False when the
  // query does not suit them (then the caller reads every match): a later page of a query whose
  // price range has a lower bound does not, since an offer's key for it may then exceed the price
  // it is listed at.
  bool PageByPrice(const Query& q, int page_size, const std::vector<uint64_t>& near_cells,
                   bool has_cursor, double after_price, const std::string& after_id,
                   const Checker& check, std::vector<Match>* matches) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // A page sorted by distance, read cell by cell from the id-ordered lists of the circle's cells,
  // nearest cells first, until no cell still unread can hold an offer of the page (the one after
  // `after_km`/`after_id`, the cursor's, if `has_cursor`). False when the query does not suit them.
  bool PageByDistance(const Query& q, int page_size, const std::vector<uint64_t>& near_cells,
                      bool has_cursor, double after_km, const std::string& after_id,
                      const Checker& check, std::vector<Match>* matches) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Puts the first `take` matches in page order (by key, then id) at the front of `matches`. Only
  // the matches that can be on the page are ordered, and only their ids are read, in one pass that
  // asks for them ahead (compared inside the sort, ids are read one version after another).
  void SortPage(std::vector<Match>* matches, size_t take) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // The non-empty lists of `lists` (priced_ or by_id_) of each sub-kind and cell, for that unit or
  // level, their first entries already asked for.
  template <typename List>
  static std::vector<const List*> FindLists(const absl::flat_hash_map<uint64_t, List>& lists,
                                            const std::vector<int>& sub_kinds, int unit_or_level,
                                            const std::vector<uint64_t>& cells);
  // The sub-kinds and cells whose id lists hold every possible match of the query; false when
  // there are none such (no kind or sub-kind, or no cells: see OrderedCells).
  bool IdListSources(const Query& q, const std::vector<uint64_t>& near_cells, std::vector<int>* sub_kinds,
                     std::vector<uint64_t>* cells) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // Checks the versions of the id lists of (sub-kind, `level`, cell), merged in id order from just
  // after `after_id`, until `matches` holds `wanted`.
  void MergeIdLists(const std::vector<int>& sub_kinds, const std::vector<uint64_t>& cells, int level,
                    const std::string& after_id, size_t wanted, const Checker& check,
                    std::vector<Match>* matches) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // A page in id order (no sort key), read from the id-ordered lists from just after `after_id`
  // until it is full. False when the query does not suit them.
  bool PageById(const Query& q, int page_size, const std::vector<uint64_t>& near_cells, const std::string& after_id,
                const Checker& check, std::vector<Match>* matches) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  // A page sorted by classification (best level first, then id), read from the id lists of each
  // level from `from_level` down (from just after `after_id` in that one) until it is full. False
  // when the query does not suit them, or unclassified offers may belong on the page.
  bool PageByClassification(const Query& q, int page_size, const std::vector<uint64_t>& near_cells, int from_level,
                            const std::string& after_id, const Checker& check, std::vector<Match>* matches) const
      ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // A page sorted by relevance (a query with words), read from the title and body lists of one
  // of its words, heaviest first, until no version still unread can come on the page (the one
  // after `after_key`/`after_id`, the cursor's, if `has_cursor`). `plan` holds the query's
  // planned sources. False when its candidates are few enough to be checked every one, or the
  // word has a single list (then the caller reads every match).
  bool PageByRelevance(const Query& q, const Plan& plan, int page_size, bool has_cursor,
                       double after_key, const std::string& after_id, const Checker& check,
                       std::vector<Match>* matches) const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  // mu_ taken for reading (searches, lookups). While a reader waits for it, writers about to take
  // it let the reader in first (see WriteLock).
  class ABSL_SCOPED_LOCKABLE ReadLock {
   public:
    explicit ReadLock(const OfferIndex* index) ABSL_SHARED_LOCK_FUNCTION(index->mu_);
    ~ReadLock() ABSL_UNLOCK_FUNCTION();
    ReadLock(const ReadLock&) = delete;
    ReadLock& operator=(const ReadLock&) = delete;

   private:
    absl::Mutex* mu_;
  };
  // mu_ taken for writing, once the readers already waiting for it have had it (waiting at most
  // 200 µs, and at most once a millisecond). A writer that releases mu_ and takes it again, record
  // after record, would otherwise keep a waiting reader out for milliseconds: absl::Mutex hands the
  // lock to no one, and the writer, already running, takes it again before the woken reader does.
  class ABSL_SCOPED_LOCKABLE WriteLock {
   public:
    explicit WriteLock(OfferIndex* index) ABSL_EXCLUSIVE_LOCK_FUNCTION(index->mu_);
    ~WriteLock() ABSL_UNLOCK_FUNCTION();
    WriteLock(const WriteLock&) = delete;
    WriteLock& operator=(const WriteLock&) = delete;

   private:
    absl::Mutex* mu_;
  };

  mutable absl::Mutex mu_;
  mutable std::atomic<int> readers_waiting_{0};  // readers waiting for mu_
  std::atomic<int64_t> readers_let_in_{0};        // when a writer last let them in (ns)
  BlockPool pool_ ABSL_GUARDED_BY(mu_);  // versions' lists, bytes and ids
  ChunkedVector<Version> versions_ ABSL_GUARDED_BY(mu_);                  // by ordinal
  // The facts searches read, in one array (two cache lines a version, the first of them all most
  // candidates need): the search's innermost loop indexes it directly.
  std::vector<Hot, LargeAllocator<Hot>> hot_ ABSL_GUARDED_BY(mu_);  // by ordinal
  // The live versions' ordinals, found by offer id.
  KeyedSet<Version> live_ ABSL_GUARDED_BY(mu_){0, KeyHash<Version>{&versions_},
                                               KeyEq<Version>{&versions_}};
  // Providers in the order they were first seen; provider_slots_[id in provider_ids_] is a
  // provider's place there plus one (0: none).
  ChunkedVector<Provider> providers_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t, LargeAllocator<uint32_t>> provider_slots_ ABSL_GUARDED_BY(mu_);
  // Posting lists by key. Most hold a handful of versions (those of a provider, a rare word), so up
  // to four are kept in the map's own slot, without an allocation of their own.
  using PostingList = absl::InlinedVector<uint32_t, 4>;
  absl::flat_hash_map<uint64_t, PostingList, absl::Hash<uint64_t>, std::equal_to<uint64_t>,
                      LargeAllocator<std::pair<const uint64_t, PostingList>>>
      postings_ ABSL_GUARDED_BY(mu_);
  // Each entry of an ordered list carries its version's IdPrefix, so that filing a version, or
  // merging lists in id order, compares numbers held in the list and reads an id only when two
  // prefixes are equal.
  // Price-ordered lists: per (sub-kind, price unit, map cell), the located versions with a price in
  // that unit by their lowest one (unit 0: any unit), cheapest first; the map cells where each
  // département has versions; how many versions of each département have no location.
  struct Priced {
    double price;
    uint32_t ordinal;
    int32_t max_persons;  // the version's, so that a search for a group passes over offers too
                          // small for it without reading their facts
    uint64_t id_prefix;
  };
  absl::flat_hash_map<uint64_t, std::vector<Priced>> priced_ ABSL_GUARDED_BY(mu_);
  // Id-ordered lists: per (sub-kind, level, map cell), the located versions by offer id, level 0
  // holding every version and levels 1-5 those of that classification level; and the sub-kinds
  // seen with each kind.
  struct ById {
    uint64_t id_prefix;
    uint32_t ordinal;
  };
  absl::flat_hash_map<uint64_t, std::vector<ById>> by_id_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int, absl::flat_hash_set<int>> kind_sub_kinds_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, absl::flat_hash_set<uint64_t>> departement_cells_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<uint32_t, size_t> unlocated_ ABSL_GUARDED_BY(mu_);
  // Interned strings by id (id 0 is the empty string), and the sets that find their ids: the
  // vocabulary, and providers' ids (a string may be in both, under two ids).
  ChunkedVector<std::string> names_ ABSL_GUARDED_BY(mu_);
  KeyedSet<std::string> strings_ ABSL_GUARDED_BY(mu_){0, KeyHash<std::string>{&names_},
                                                      KeyEq<std::string>{&names_}};
  KeyedSet<std::string> provider_ids_ ABSL_GUARDED_BY(mu_){0, KeyHash<std::string>{&names_},
                                                           KeyEq<std::string>{&names_}};
  // The bit of each of the first 64 tags seen (by interned id), in Hot::tags: a version gets the
  // bits of its tags when it is made, and a tag gets its bit when the first version with it is
  // made, so a bit that is not set means the tag is not there.
  absl::flat_hash_map<uint32_t, int> tag_bits_ ABSL_GUARDED_BY(mu_);
  std::array<uint32_t, 64> tag_of_bit_ ABSL_GUARDED_BY(mu_) = {};  // the tag of each bit given
  std::set<std::string> words_ ABSL_GUARDED_BY(mu_);  // every text word, for prefix queries
  std::vector<bool> is_word_ ABSL_GUARDED_BY(mu_);     // by interned id: in words_
  // Lists reused from one version to the next while it is made and posted (under the lock).
  struct Scratch {
    std::vector<uint32_t> tags, labels, title_words, body_words, words;
    std::vector<uint64_t> keys;  // of the posting lists of a version
    std::vector<PostingList*> lists;
  };
  Scratch scratch_ ABSL_GUARDED_BY(mu_);
  uint64_t revision_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t horizon_ ABSL_GUARDED_BY(mu_) = 0;  // walks older than this are gone
  size_t dead_ ABSL_GUARDED_BY(mu_) = 0;
  // Takes a share of a search's candidates when it is free (see CheckParts).
  mutable HelperThread helper_;
};

// Splits text into the words the index knows: accent-free lower case letters and digits, French
// stop words ("de", "la", "les"...) left out.
std::vector<std::string> TextWords(absl::string_view text);
// TextWords(text), appended to `words`.
void AppendTextWords(absl::string_view text, std::vector<std::string>* words);

// Great-circle distance in kilometres.
double DistanceKm(double lat1, double lon1, double lat2, double lon2);

// Great-circle distances from one point (a search's centre to each of its candidates), the
// point's own trigonometry worked out once: Km(lat, lon) is DistanceKm(from_lat, from_lon, lat,
// lon), to the last bit.
class DistancesFrom {
 public:
  DistancesFrom(double lat, double lon);
  double Km(double lat, double lon) const;
  // Bounds of Km over the points of a box (south <= north, west <= east; in degrees): never more
  // than the nearest point's, never less than the farthest's (infinity when the box is a quarter
  // of the globe or more away in longitude).
  double NearestKm(double south, double west, double north, double east) const;
  double FarthestKm(double south, double west, double north, double east) const;

 private:
  double lat_ = 0, lon_ = 0, cos_lat_ = 1;
};

}  // namespace atable

#endif  // ATABLE_SERVER_CORE_OFFER_INDEX_H_
