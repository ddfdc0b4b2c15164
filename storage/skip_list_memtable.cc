#include "storage/skip_list_memtable.h"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "rocksdb/memtablerep.h"
#include "rocksdb/slice.h"
#include "rocksdb/version.h"

// Two of RocksDB's internal types, which Debian does not install, are relied upon below: the
// Allocator interface memtables allocate from, and the first member of a LookupKey. Both have kept
// their shape since LevelDB; this checks that the library is the one they were read from.
static_assert(ROCKSDB_MAJOR == 7, "check memory/allocator.h and db/lookup_key.h of this RocksDB");

namespace rocksdb {
// memory/allocator.h: the arena a memtable allocates its entries from (MemTableRep::allocator_),
// and the base of the Arena that RocksDB passes to GetIterator (its only base).
class Allocator {
 public:
  virtual ~Allocator() {}
  virtual char* Allocate(size_t bytes) = 0;
  virtual char* AllocateAligned(size_t bytes, size_t huge_page_size = 0,
                                Logger* logger = nullptr) = 0;
  virtual size_t BlockSize() const = 0;
};
}  // namespace rocksdb

namespace atable {
namespace {

using rocksdb::KeyHandle;
using rocksdb::MemTableRep;
using rocksdb::Slice;

constexpr int kMaxHeight = 12;
constexpr uint32_t kBranching = 4;  // a node reaches the next level up with probability 1/4

// A node of the list. Its entry (the length-prefixed internal key and value, as RocksDB encodes
// them) follows it in memory; the links of its levels 1 .. height-1 precede it, so that a node's
// address and entry do not depend on its height.
struct Node {
  // The link of level 0. Before the node is inserted, it holds the node's height instead.
  std::atomic<Node*> next0;

  const char* Entry() const { return reinterpret_cast<const char*>(this + 1); }
  std::atomic<Node*>* Link(int level) {
    return reinterpret_cast<std::atomic<Node*>*>(reinterpret_cast<char*>(&next0) -
                                                 level * sizeof(std::atomic<Node*>));
  }
  // For readers: everything written before the node was linked is visible.
  Node* Next(int level) { return Link(level)->load(std::memory_order_acquire); }
  // For the one writer.
  Node* NextForWriter(int level) { return Link(level)->load(std::memory_order_relaxed); }
};

class SkipListRep final : public MemTableRep {
 public:
  SkipListRep(const KeyComparator& compare, rocksdb::Allocator* allocator)
      : MemTableRep(allocator), compare_(compare), head_(NewNode(kMaxHeight, 0)) {
    for (Node*& n : splice_) n = head_;
  }

  KeyHandle Allocate(const size_t len, char** buf) override {
    const int height = RandomHeight();
    Node* node = NewNode(height, len);
    node->next0.store(reinterpret_cast<Node*>(static_cast<uintptr_t>(height)),
                      std::memory_order_relaxed);
    *buf = const_cast<char*>(node->Entry());
    return node;
  }

  void Insert(KeyHandle handle) override { InsertKey(handle); }
  void InsertWithHint(KeyHandle handle, void** /*hint*/) override { InsertKey(handle); }
  bool InsertKeyWithHint(KeyHandle handle, void** /*hint*/) override { return InsertKey(handle); }

  // Links the node `handle` (from Allocate, its entry filled in); false if its key is present.
  bool InsertKey(KeyHandle handle) override {
    Node* x = static_cast<Node*>(handle);
    const Slice key = compare_.decode_key(x->Entry());
    const int max_height = max_height_.load(std::memory_order_relaxed);
    Node* prev[kMaxHeight];
    if (FollowsLastInsert(key)) {
      // splice_[i] is the last node of level i at or before the last insert, and no node lies
      // between that insert and `key`: the same nodes precede `key` on every level.
      for (int level = 0; level < max_height; ++level) prev[level] = splice_[level];
    } else {
      Node* n = head_;
      for (int level = max_height - 1; level >= 0; --level) {
        for (Node* next = n->NextForWriter(level); next != nullptr;
             next = n->NextForWriter(level)) {
          const int c = compare_(next->Entry(), key);
          if (c == 0) return false;
          if (c > 0) break;
          n = next;
        }
        prev[level] = n;
      }
    }
    const int height =
        static_cast<int>(reinterpret_cast<uintptr_t>(x->next0.load(std::memory_order_relaxed)));
    if (height > max_height) {
      for (int level = max_height; level < height; ++level) prev[level] = head_;
      // Readers that see the new height before the links find the head's empty links: harmless.
      max_height_.store(height, std::memory_order_relaxed);
    }
    for (int level = 0; level < height; ++level) {
      x->Link(level)->store(prev[level]->NextForWriter(level), std::memory_order_relaxed);
      prev[level]->Link(level)->store(x, std::memory_order_release);  // publishes x and its entry
    }
    for (int level = 0; level < height; ++level) splice_[level] = x;
    for (int level = height; level < max_height; ++level) splice_[level] = prev[level];
    last_ = x;
    return true;
  }

  bool Contains(const char* entry) const override {
    const Slice key = compare_.decode_key(entry);
    Node* n = FindGreaterOrEqual(key);
    return n != nullptr && compare_(n->Entry(), key) == 0;
  }

  void Get(const rocksdb::LookupKey& k, void* callback_args,
           bool (*callback_func)(void* arg, const char* entry)) override {
    // db/lookup_key.h: a LookupKey starts with a pointer to its memtable key (length-prefixed).
    const char* memtable_key = *reinterpret_cast<const char* const*>(&k);
    for (Node* n = FindGreaterOrEqual(compare_.decode_key(memtable_key));
         n != nullptr && callback_func(callback_args, n->Entry()); n = n->Next(0)) {
    }
  }

  // Every byte comes from the memtable's arena, which counts it.
  size_t ApproximateMemoryUsage() override { return 0; }

  class Iterator final : public MemTableRep::Iterator {
   public:
    explicit Iterator(const SkipListRep* list) : list_(list) {}

    bool Valid() const override { return node_ != nullptr; }
    const char* key() const override { return node_->Entry(); }
    void Next() override { node_ = node_->Next(0); }
    void Prev() override {
      node_ = list_->FindLessThan(list_->compare_.decode_key(node_->Entry()));
    }
    void Seek(const Slice& internal_key, const char* memtable_key) override {
      node_ = list_->FindGreaterOrEqual(
          memtable_key != nullptr ? list_->compare_.decode_key(memtable_key) : internal_key);
    }
    void SeekForPrev(const Slice& internal_key, const char* memtable_key) override {
      const Slice target =
          memtable_key != nullptr ? list_->compare_.decode_key(memtable_key) : internal_key;
      node_ = list_->FindGreaterOrEqual(target);
      if (node_ == nullptr || list_->compare_(node_->Entry(), target) != 0)
        node_ = list_->FindLessThan(target);
    }
    void SeekToFirst() override { node_ = list_->head_->Next(0); }
    void SeekToLast() override { node_ = list_->FindLast(); }

   private:
    const SkipListRep* list_;
    Node* node_ = nullptr;
  };

  MemTableRep::Iterator* GetIterator(rocksdb::Arena* arena) override {
    if (arena == nullptr) return new Iterator(this);
    // RocksDB destroys an iterator made in its arena without freeing it (the arena does).
    void* memory = reinterpret_cast<rocksdb::Allocator*>(arena)->AllocateAligned(sizeof(Iterator));
    return new (memory) Iterator(this);
  }

 private:
  Node* NewNode(int height, size_t entry_size) {
    const size_t links = sizeof(std::atomic<Node*>) * static_cast<size_t>(height - 1);
    char* memory = allocator_->AllocateAligned(links + sizeof(Node) + entry_size);
    Node* node = reinterpret_cast<Node*>(memory + links);
    for (int level = 0; level < height; ++level)
      new (node->Link(level)) std::atomic<Node*>(nullptr);
    return node;
  }

  int RandomHeight() {
    int height = 1;
    while (height < kMaxHeight) {
      random_ ^= random_ << 13;  // xorshift32
      random_ ^= random_ >> 17;
      random_ ^= random_ << 5;
      if (random_ % kBranching != 0) break;
      ++height;
    }
    return height;
  }

  // Whether `key` sorts right after the last insert, with no node between them.
  bool FollowsLastInsert(const Slice& key) const {
    if (last_ == nullptr || compare_(last_->Entry(), key) >= 0) return false;
    Node* next = last_->NextForWriter(0);
    return next == nullptr || compare_(next->Entry(), key) > 0;
  }

  // The first node at or after `key`, or nullptr.
  Node* FindGreaterOrEqual(const Slice& key) const {
    Node* n = head_;
    Node* known_after = nullptr;  // a node already found at or after `key` on a higher level
    for (int level = max_height_.load(std::memory_order_relaxed) - 1;; --level) {
      Node* next = n->Next(level);
      while (next != nullptr && next != known_after) {
        const int c = compare_(next->Entry(), key);
        if (c == 0) return next;
        if (c > 0) break;
        n = next;
        next = n->Next(level);
      }
      if (level == 0) return next;
      known_after = next;
    }
  }

  // The last node before `key`, or nullptr.
  Node* FindLessThan(const Slice& key) const {
    Node* n = head_;
    Node* known_after = nullptr;
    for (int level = max_height_.load(std::memory_order_relaxed) - 1; level >= 0; --level) {
      Node* next = n->Next(level);
      while (next != nullptr && next != known_after && compare_(next->Entry(), key) < 0) {
        n = next;
        next = n->Next(level);
      }
      known_after = next;
    }
    return n == head_ ? nullptr : n;
  }

  // The last node, or nullptr.
  Node* FindLast() const {
    Node* n = head_;
    for (int level = max_height_.load(std::memory_order_relaxed) - 1; level >= 0; --level) {
      for (Node* next = n->Next(level); next != nullptr; next = n->Next(level)) n = next;
    }
    return n == head_ ? nullptr : n;
  }

  const KeyComparator& compare_;
  Node* const head_;
  std::atomic<int> max_height_{1};
  // The writer's state: the last node inserted, and on each level the last node at or before it.
  Node* last_ = nullptr;
  Node* splice_[kMaxHeight];
  uint32_t random_ = 0x2545F491;
};

class SkipListFactory final : public rocksdb::MemTableRepFactory {
 public:
  MemTableRep* CreateMemTableRep(const MemTableRep::KeyComparator& compare,
                                 rocksdb::Allocator* allocator,
                                 const rocksdb::SliceTransform* /*prefix_extractor*/,
                                 rocksdb::Logger* /*logger*/) override {
    return new SkipListRep(compare, allocator);
  }
  const char* Name() const override { return "AtableSkipListFactory"; }
};

}  // namespace

std::shared_ptr<rocksdb::MemTableRepFactory> NewSkipListMemTableFactory() {
  return std::make_shared<SkipListFactory>();
}

}  // namespace atable
