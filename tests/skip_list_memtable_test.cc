#include "storage/skip_list_memtable.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_format.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/options.h"
#include "rocksdb/write_batch.h"
#include "tests/test_util.h"

namespace atable {
namespace {

// A RocksDB database whose memtable is the skip list under test, checked against a std::map of
// what was written. The memtable is large enough to hold everything until Flush().
class SkipListMemTableTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void TearDown() override { db_.reset(); }

  void Open() {
    db_.reset();
    rocksdb::Options options;
    options.create_if_missing = true;
    options.memtable_factory = NewSkipListMemTableFactory();
    options.allow_concurrent_memtable_write = false;
    rocksdb::DB* raw = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.Sub("db"), &raw).ok());
    db_.reset(raw);
  }

  void Put(const std::string& key, const std::string& value) {
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), key, value).ok());
    model_[key] = value;
  }
  void Delete(const std::string& key) {
    ASSERT_TRUE(db_->Delete(rocksdb::WriteOptions(), key).ok());
    model_.erase(key);
  }
  void Flush() { ASSERT_TRUE(db_->Flush(rocksdb::FlushOptions()).ok()); }

  std::optional<std::string> Get(const std::string& key,
                                 const rocksdb::Snapshot* snapshot = nullptr) {
    rocksdb::ReadOptions ro;
    ro.snapshot = snapshot;
    std::string value;
    rocksdb::Status s = db_->Get(ro, key, &value);
    EXPECT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
    if (!s.ok()) return std::nullopt;
    return value;
  }

  // Every key and value, read forward and backward, equals the model; so do Get and the seeks
  // to `probes`.
  void ExpectMatchesModel(const std::vector<std::string>& probes) {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
    std::vector<std::pair<std::string, std::string>> forward, backward;
    for (it->SeekToFirst(); it->Valid(); it->Next())
      forward.emplace_back(it->key().ToString(), it->value().ToString());
    for (it->SeekToLast(); it->Valid(); it->Prev())
      backward.emplace_back(it->key().ToString(), it->value().ToString());
    ASSERT_TRUE(it->status().ok());
    std::reverse(backward.begin(), backward.end());
    std::vector<std::pair<std::string, std::string>> expected(model_.begin(), model_.end());
    EXPECT_EQ(forward, expected);
    EXPECT_EQ(backward, expected);
    for (const std::string& probe : probes) {
      auto found = model_.find(probe);
      EXPECT_EQ(Get(probe),
                found == model_.end() ? std::nullopt : std::optional<std::string>(found->second))
          << probe;
      it->Seek(probe);
      auto at_or_after = model_.lower_bound(probe);
      ASSERT_EQ(it->Valid(), at_or_after != model_.end()) << probe;
      if (it->Valid()) {
        EXPECT_EQ(it->key().ToString(), at_or_after->first);
      }
      it->SeekForPrev(probe);
      auto after = model_.upper_bound(probe);
      ASSERT_EQ(it->Valid(), after != model_.begin()) << probe;
      if (it->Valid()) {
        EXPECT_EQ(it->key().ToString(), std::prev(after)->first);
      }
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::map<std::string, std::string> model_;
};

std::string Key(int n) { return absl::StrFormat("k%06d", n); }

TEST_F(SkipListMemTableTest, KeysInOrderOutOfOrderAndRewritten) {
  std::mt19937 rng(7);
  std::vector<std::string> probes = {"", "a", "k", "z", Key(0), Key(2500), Key(9999)};
  for (int n = 0; n < 2000; ++n)
    Put(Key(n * 2), "in order " + std::to_string(n));  // even keys, ascending
  for (int i = 0; i < 2000; ++i) {
    const int n = static_cast<int>(rng() % 5000);
    Put(Key(n), "random " + std::to_string(i));  // new odd keys, and rewrites
    probes.push_back(Key(n));
    probes.push_back(Key(n) + "x");
  }
  for (int n = 4999; n >= 4000; --n) Put(Key(n), "descending");
  for (int i = 0; i < 500; ++i) Delete(Key(static_cast<int>(rng() % 5000)));
  ExpectMatchesModel(probes);
  Flush();  // the flush reads the whole memtable in order
  ExpectMatchesModel(probes);
}

TEST_F(SkipListMemTableTest, WriteBatchesAndTheLogReplayedAtReopen) {
  rocksdb::WriteBatch batch;
  for (int n = 0; n < 3000; ++n) {
    const std::string key = Key((n * 7919) % 3000);  // every key once, scattered
    batch.Put(key, "v" + std::to_string(n));
    model_[key] = "v" + std::to_string(n);
    if (batch.Count() == 500) {
      ASSERT_TRUE(db_->Write(rocksdb::WriteOptions(), &batch).ok());
      batch.Clear();
    }
  }
  Delete(Key(17));
  ExpectMatchesModel({Key(17), Key(18), Key(2999), "zz"});
  Open();  // not flushed: the write-ahead log is replayed into a new memtable
  ExpectMatchesModel({Key(17), Key(18), Key(2999), "zz"});
}

TEST_F(SkipListMemTableTest, SnapshotsReadOlderVersionsOfAKey) {
  Put("a", "1");
  const rocksdb::Snapshot* first = db_->GetSnapshot();
  Put("a", "2");
  Put("b", "1");
  const rocksdb::Snapshot* second = db_->GetSnapshot();
  Delete("a");
  EXPECT_EQ(Get("a", first), "1");
  EXPECT_EQ(Get("b", first), std::nullopt);
  EXPECT_EQ(Get("a", second), "2");
  EXPECT_EQ(Get("a"), std::nullopt);
  EXPECT_EQ(Get("b"), "1");
  db_->ReleaseSnapshot(first);
  db_->ReleaseSnapshot(second);
}

// Readers walk the list while one writer inserts: every read sees keys in order, and a key once
// seen stays.
TEST_F(SkipListMemTableTest, ReadsDuringWrites) {
  constexpr int kKeys = 20000;
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};
  auto reader = [&] {
    size_t last_count = 0;
    while (!done.load()) {
      std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions()));
      std::string previous;
      size_t count = 0;
      for (it->SeekToFirst(); it->Valid(); it->Next(), ++count) {
        if (count > 0 && it->key().ToString() <= previous) failures++;
        previous = it->key().ToString();
      }
      if (count < last_count) failures++;
      last_count = count;
      std::string value;
      if (count > 0 && !db_->Get(rocksdb::ReadOptions(), previous, &value).ok()) failures++;
    }
  };
  std::thread r1(reader), r2(reader);
  std::mt19937 rng(11);
  for (int i = 0; i < kKeys; ++i) {
    const int n = i % 2 == 0 ? i : static_cast<int>(rng() % kKeys);
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), Key(n), "v").ok());
  }
  done = true;
  r1.join();
  r2.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace atable
