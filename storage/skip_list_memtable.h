// A RocksDB memtable: a skip list that RocksDB's write path fills, one write at a time, while
// reads walk it without locks.
//
// Why not RocksDB's own skip list: Debian builds RocksDB with its assertions compiled in, and its
// skip list then checks the whole path of every insert against the comparator, some 16 extra
// comparisons of about 150 instructions each: more than half the instructions of the catalog's
// memtable inserts (bench/README.md). This one makes only the comparisons an insert needs, and
// first tries the place right after the previous insert, so keys written in order (the change
// log's revisions, the ids of an import sorted by id) take two comparisons; any other key takes a
// search from the top, as in any skip list.
//
// Contract: the column families using it need DBOptions::allow_concurrent_memtable_write = false
// (RocksDB refuses to open otherwise). Any comparator works.
#ifndef ATABLE_STORAGE_SKIP_LIST_MEMTABLE_H_
#define ATABLE_STORAGE_SKIP_LIST_MEMTABLE_H_

#include <memory>

namespace rocksdb {
class MemTableRepFactory;
}  // namespace rocksdb

namespace atable {

// The factory to set as ColumnFamilyOptions::memtable_factory.
std::shared_ptr<rocksdb::MemTableRepFactory> NewSkipListMemTableFactory();

}  // namespace atable

#endif  // ATABLE_STORAGE_SKIP_LIST_MEMTABLE_H_
