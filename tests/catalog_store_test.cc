#include "storage/catalog_store.h"

#include <atomic>
#include <thread>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/test_util.h"

namespace atable {
namespace {

const absl::Time kT1 = absl::FromUnixSeconds(1'800'000'000);
const absl::Time kT2 = kT1 + absl::Hours(1);

v1::Provider MakeProvider(const std::string& id) {
  v1::Provider p;
  p.set_id(id);
  p.set_name("Provider " + id);
  p.mutable_location()->set_latitude(45.0);
  p.mutable_location()->set_longitude(2.5);
  return p;
}

v1::Offer MakeOffer(const std::string& id, const std::string& provider_id) {
  v1::Offer o;
  o.set_id(id);
  o.set_provider_id(provider_id);
  o.set_kind(v1::OFFER_KIND_ACTIVITY);
  o.set_title("Offer " + id);
  return o;
}

class CatalogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<CatalogStore>> store = CatalogStore::Open(dir_.Sub("db"));
    ASSERT_OK(store);
    store_ = *std::move(store);
  }

  // "provider-id: offer-id offer-id" for every provider, from the index.
  std::string Print() {
    std::vector<std::string> lines;
    EXPECT_OK(store_->ForEachProvider([&](const v1::Provider& p) {
      auto ids = store_->ListOfferIds(p.id());
      EXPECT_OK(ids);
      lines.push_back(absl::StrCat(p.id(), ": ", absl::StrJoin(*ids, " ")));
      return true;
    }));
    EXPECT_OK(store_->VerifyIndexes());
    return absl::StrJoin(lines, "; ");
  }

  std::string Changes(uint64_t after = 0) {
    auto changes = store_->ReadChanges(after, 1000);
    EXPECT_OK(changes);
    std::vector<std::string> out;
    for (const ChangeRecord& c : *changes) {
      out.push_back(absl::StrCat(c.revision, c.deleted ? " del " : " put ",
                                 c.entity == ChangeRecord::Entity::kProvider ? "p:" : "o:", c.id));
    }
    return absl::StrJoin(out, ", ");
  }

  testing::TempDir dir_;
  std::unique_ptr<CatalogStore> store_;
};

TEST_F(CatalogStoreTest, PutsGetsAndDeletes) {
  EXPECT_EQ(0u, store_->revision());
  auto written = store_->UpsertProvider(MakeProvider("p1"), kT1);
  ASSERT_OK(written);
  EXPECT_EQ(WriteOutcome::kCreated, written->outcome);
  EXPECT_EQ("1", written->value.etag());
  EXPECT_EQ(kT1, absl::FromUnixSeconds(written->value.create_time().seconds()));

  auto got = store_->GetProvider("p1");
  ASSERT_OK(got);
  EXPECT_EQ("Provider p1", got->name());
  ASSERT_OK(store_->UpsertOffer(MakeOffer("o1", "p1"), kT1));
  auto offer = store_->GetOffer("o1");
  ASSERT_OK(offer);
  EXPECT_EQ("Offer o1", offer->title());

  ASSERT_OK(store_->DeleteOffer("o1"));
  EXPECT_EQ(absl::StatusCode::kNotFound, store_->GetOffer("o1").status().code());
  EXPECT_EQ(absl::StatusCode::kNotFound, store_->DeleteOffer("o1").code());
  EXPECT_EQ(absl::StatusCode::kNotFound, store_->GetProvider("nope").status().code());
  EXPECT_EQ("p1: ", Print());
}

TEST_F(CatalogStoreTest, UpsertIsIdempotentAndKeepsCreateTime) {
  ASSERT_OK(store_->UpsertProvider(MakeProvider("p1"), kT1));
  auto same = store_->UpsertProvider(MakeProvider("p1"), kT2);
  ASSERT_OK(same);
  EXPECT_EQ(WriteOutcome::kUnchanged, same->outcome);
  EXPECT_EQ(1u, store_->revision());
  EXPECT_EQ(kT1, absl::FromUnixSeconds(same->value.update_time().seconds()));

  v1::Provider renamed = MakeProvider("p1");
  renamed.set_name("Renamed");
  auto updated = store_->UpsertProvider(renamed, kT2);
  ASSERT_OK(updated);
  EXPECT_EQ(WriteOutcome::kUpdated, updated->outcome);
  EXPECT_EQ(kT1, absl::FromUnixSeconds(updated->value.create_time().seconds()));
  EXPECT_EQ(kT2, absl::FromUnixSeconds(updated->value.update_time().seconds()));
  EXPECT_EQ("2", updated->value.etag());
}

TEST_F(CatalogStoreTest, StaleEtagIsAbortedAndChangesNothing) {
  ASSERT_OK(store_->UpsertProvider(MakeProvider("p1"), kT1));  // etag "1"
  v1::Provider p = MakeProvider("p1");
  p.set_name("Second");
  p.set_etag("1");
  ASSERT_OK(store_->UpsertProvider(p, kT2));  // etag "2"
  p.set_name("Third, from a stale copy");
  EXPECT_EQ(absl::StatusCode::kAborted, store_->UpsertProvider(p, kT2).status().code());
  EXPECT_EQ("Second", store_->GetProvider("p1")->name());
  EXPECT_EQ(absl::StatusCode::kAborted, store_->DeleteProvider("p1", "1").code());
  v1::Provider fresh = MakeProvider("p2");
  fresh.set_etag("7");
  EXPECT_EQ(absl::StatusCode::kAborted, store_->UpsertProvider(fresh, kT1).status().code());
  EXPECT_EQ(2u, store_->revision());
  ASSERT_OK(store_->DeleteProvider("p1", "2"));
}

TEST_F(CatalogStoreTest, OfferNeedsItsProvider) {
  absl::Status s = store_->UpsertOffer(MakeOffer("o1", "ghost"), kT1).status();
  EXPECT_EQ(absl::StatusCode::kFailedPrecondition, s.code());
  EXPECT_EQ("offer.provider_id: provider ghost does not exist; store it first", s.message());
  EXPECT_EQ(0u, store_->revision());
}

TEST_F(CatalogStoreTest, IndexFollowsOffersBetweenProviders) {
  ASSERT_OK(store_->UpsertProvider(MakeProvider("p1"), kT1));
  ASSERT_OK(store_->UpsertProvider(MakeProvider("p2"), kT1));
  ASSERT_OK(store_->UpsertOffer(MakeOffer("o1", "p1"), kT1));
  ASSERT_OK(store_->UpsertOffer(MakeOffer("o2", "p1"), kT1));
  ASSERT_OK(store_->UpsertOffer(MakeOffer("o3", "p2"), kT1));
  EXPECT_EQ("p1: o1 o2; p2: o3", Print());
  ASSERT_OK(store_->UpsertOffer(MakeOffer("o2", "p2"), kT2));  // moves to p2
  EXPECT_EQ("p1: o1; p2: o2 o3", Print());
}

TEST_F(CatalogStoreTest, ProviderIdPrefixesDoNotLeakIntoEachOther) {
  ASSERT_OK(store_->UpsertProvider(MakeProvider("p"), kT1));
  ASSERT_OK(store_->UpsertProvider(MakeProvider("p1"), kT1));
  ASSERT_OK(store_->UpsertOffer(MakeOffer("a", "p1"), kT1));
  EXPECT_EQ("p: ; p1: a", Print());
  ASSERT_OK(store_->DeleteProvider("p"));
  EXPECT_EQ("p1: a", Print());
}

TEST_F(CatalogStoreTest, DeletingAProviderDeletesItsOffersInOneStep) {
  ASSERT_OK(store_->UpsertProvider(MakeProvider("p1"), kT1));
  ASSERT_OK(store_->UpsertProvider(MakeProvider("p2"), kT1));
  ASSERT_OK(store_->UpsertOffer(MakeOffer("o1", "p1"), kT1));
  ASSERT_OK(store_->UpsertOffer(MakeOffer("o2", "p1"), kT1));
  ASSERT_OK(store_->UpsertOffer(MakeOffer("o3", "p2"), kT1));
  ASSERT_OK(store_->DeleteProvider("p1"));
  EXPECT_EQ("p2: o3", Print());
  EXPECT_EQ(absl::StatusCode::kNotFound, store_->GetOffer("o1").status().code());
  EXPECT_EQ("6 del o:o1, 7 del o:o2, 8 del p:p1", Changes(5));
}

TEST_F(CatalogStoreTest, EverythingSurvivesReopenAndRevisionsKeepIncreasing) {
  ASSERT_OK(store_->UpsertProvider(MakeProvider("p1"), kT1));
  ASSERT_OK(store_->UpsertOffer(MakeOffer("o1", "p1"), kT1));
  ASSERT_OK(store_->UpsertOffer(MakeOffer("o2", "p1"), kT1));
  ASSERT_OK(store_->DeleteOffer("o2"));
  EXPECT_EQ(4u, store_->revision());
  Reopen();
  EXPECT_EQ(4u, store_->revision());
  EXPECT_EQ("p1: o1", Print());
  auto offer = store_->GetOffer("o1");
  ASSERT_OK(offer);
  EXPECT_EQ("Offer o1", offer->title());
  EXPECT_EQ("2", offer->etag());
  ASSERT_OK(store_->UpsertOffer(MakeOffer("o3", "p1"), kT2));
  EXPECT_EQ(5u, store_->revision());
  EXPECT_EQ("1 put p:p1, 2 put o:o1, 3 put o:o2, 4 del o:o2, 5 put o:o3", Changes());
}

// A walk reads the catalog as of the revision of its first page: an offer rewritten after it is
// read on the next pages as it was then, and one created after it is not read, whether the writes
// came one record at a time or in batches.
TEST_F(CatalogStoreTest, AWalkReadsEachOfferAsOfItsFirstPage) {
  for (bool batched : {false, true}) {
    SCOPED_TRACE(batched ? "batched" : "one at a time");
    const std::string p = batched ? "pb" : "pa";
    auto write = [&](std::vector<v1::Offer> offers) {
      if (!batched) {
        for (const v1::Offer& o : offers) ASSERT_OK(store_->UpsertOffer(o, kT1));
        return;
      }
      std::vector<CatalogRecord> records(offers.size());
      std::vector<CatalogRecord*> batch;
      for (size_t i = 0; i < offers.size(); ++i) {
        records[i].offer = offers[i];
        batch.push_back(&records[i]);
      }
      ASSERT_OK(store_->Write(batch, kT1));
      for (const CatalogRecord& r : records) ASSERT_OK(r.status);
    };
    ASSERT_OK(store_->UpsertProvider(MakeProvider(p), kT1));
    v1::Offer a = MakeOffer(p + "-a", p), b = MakeOffer(p + "-b", p), c = MakeOffer(p + "-c", p);
    write({a, b, c});
    v1::SearchOffersRequest request;
    request.set_provider_id(p);  // the store is reopened, not emptied
    request.set_page_size(1);
    absl::StatusOr<SearchOutcome> page = store_->index().Search(request);
    ASSERT_OK(page);
    ASSERT_EQ(1u, page->hits.size());
    // Between the pages: the two others retitled in one write, then a new offer.
    b.set_title("Offer b renamed");
    c.set_title("Offer c renamed");
    write({b, c});
    write({MakeOffer(p + "-d", p)});
    std::vector<std::string> titles;
    while (true) {
      for (const SearchOutcome::Hit& hit : page->hits) {
        v1::Offer o;
        ASSERT_TRUE(o.ParseFromString(hit.offer_bytes));
        titles.push_back(o.title());
      }
      if (page->next_page_token.empty()) break;
      request.set_page_token(page->next_page_token);
      page = store_->index().Search(request);
      ASSERT_OK(page);
    }
    std::sort(titles.begin(), titles.end());
    EXPECT_EQ(absl::StrJoin({"Offer " + a.id(), "Offer " + b.id(), "Offer " + c.id()}, "|"),
              absl::StrJoin(titles, "|"));
  }
}

TEST_F(CatalogStoreTest, RefusesASecondOpenOfTheSameFolder) {
  auto second = CatalogStore::Open(dir_.Sub("db"));
  EXPECT_EQ(absl::StatusCode::kUnavailable, second.status().code()) << second.status();
}

TEST_F(CatalogStoreTest, ConcurrentWritersGetDistinctRevisions) {
  ASSERT_OK(store_->UpsertProvider(MakeProvider("p"), kT1));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([this, t] {
      for (int i = 0; i < 50; ++i) {
        ASSERT_OK(store_->UpsertOffer(MakeOffer(absl::StrCat("o", t, "-", i), "p"), kT1));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(201u, store_->revision());
  auto changes = store_->ReadChanges(0, 1000);
  ASSERT_OK(changes);
  ASSERT_EQ(201u, changes->size());
  for (size_t i = 0; i < changes->size(); ++i) EXPECT_EQ(i + 1, (*changes)[i].revision);
  EXPECT_OK(store_->VerifyIndexes());
}


// The two-step write of a bulk writer: a batch written but not yet published is not searchable and
// not in the change log, yet the next batch of the same writer sees its records as stored; any
// other write waits for the publication.
TEST_F(CatalogStoreTest, BatchesWrittenAheadArePublishedInOrderBeforeOtherWrites) {
  auto record_of = [](auto value) {
    CatalogRecord r;
    if constexpr (std::is_same_v<decltype(value), v1::Provider>) {
      r.is_provider = true;
      r.provider = value;
    } else {
      r.offer = value;
    }
    return r;
  };
  auto search_all = [&] {
    v1::SearchOffersRequest request;
    request.set_skip_total_count(true);
    auto out = store_->index().Search(request);
    EXPECT_OK(out);
    return out.ok() ? out->hits.size() : size_t{0};
  };
  const int pipeline = 0;
  std::vector<CatalogRecord> first = {record_of(MakeProvider("p")), record_of(MakeOffer("o1", "p"))};
  std::vector<CatalogRecord*> first_batch = {&first[0], &first[1]};
  auto r1 = store_->WriteUnpublished(first_batch, kT1, &pipeline);
  ASSERT_OK(r1);
  EXPECT_EQ(2u, *r1);
  EXPECT_EQ(0u, store_->revision());
  EXPECT_EQ(0u, search_all());
  EXPECT_EQ("", Changes());
  EXPECT_OK(store_->GetOffer("o1"));  // durable already

  // The offer's provider and the offer itself are pending, not indexed: still found as stored.
  v1::Offer changed = MakeOffer("o1", "p");
  changed.set_title("Renamed");
  std::vector<CatalogRecord> second = {record_of(MakeOffer("o2", "p")), record_of(changed),
                                       record_of(MakeOffer("o3", "nobody"))};
  std::vector<CatalogRecord*> second_batch = {&second[0], &second[1], &second[2]};
  auto r2 = store_->WriteUnpublished(second_batch, kT2, &pipeline);
  ASSERT_OK(r2);
  EXPECT_EQ(4u, *r2);
  EXPECT_EQ(WriteOutcome::kCreated, second[0].outcome);
  EXPECT_EQ(WriteOutcome::kUpdated, second[1].outcome);
  EXPECT_EQ(absl::StatusCode::kFailedPrecondition, second[2].status.code());

  // Another writer waits for both publications.
  std::atomic<bool> other_done{false};
  std::thread other([&] {
    EXPECT_OK(store_->UpsertOffer(MakeOffer("o4", "p"), kT2));
    other_done = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(other_done);
  store_->PublishWritten(first_batch, *r1);
  EXPECT_EQ(2u, store_->revision());
  EXPECT_EQ(1u, search_all());
  EXPECT_EQ("1 put p:p, 2 put o:o1", Changes());
  store_->PublishWritten(second_batch, *r2);
  other.join();
  EXPECT_TRUE(other_done);
  EXPECT_EQ(5u, store_->revision());
  EXPECT_EQ(3u, search_all());
  EXPECT_EQ("1 put p:p, 2 put o:o1, 3 put o:o2, 4 put o:o1, 5 put o:o4", Changes());
  EXPECT_EQ("p: o1 o2 o4", Print());
}

}  // namespace
}  // namespace atable
