// Partners' view of the catalog over gRPC: bulk import, paged search under concurrent writes,
// and a replica kept in sync with ListChanges.
#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "atable/v1/catalog.grpc.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/core/demo_catalog.h"
#include "server/server.h"
#include "tests/test_util.h"

namespace atable {
namespace {

using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;

class CatalogSyncTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start(ServerOptions options = {}) {
    options.require_keys = false;  // keys and roles: auth_test
    stub_.reset();
    server_.reset();
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    auto server = AtableServer::Start(options);
    ASSERT_OK(server);
    server_ = *std::move(server);
    stub_ = v1::Catalog::NewStub(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }

  static std::unique_ptr<grpc::ClientContext> Context(int seconds = 30) {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
    return c;
  }

  DemoCatalog Generated(int providers, uint64_t seed) {
    auto communes = CommuneIndex::FromCsv(testing::ReadFileOrDie(testing::ProjectPath("server/demo/cantal-communes.csv")));
    EXPECT_OK(communes);
    return GenerateCatalog(*communes, providers, seed);
  }

  // Sends the records, 7 to a message.
  v1::ImportOffersResponse Import(const std::vector<v1::ImportRecord>& records) {
    v1::ImportOffersResponse response;
    auto context = Context();
    auto writer = stub_->ImportOffers(context.get(), &response);
    for (size_t i = 0; i < records.size(); i += 7) {
      v1::ImportOffersRequest message;
      for (size_t j = i; j < records.size() && j < i + 7; ++j) *message.add_records() = records[j];
      EXPECT_TRUE(writer->Write(message));
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    EXPECT_TRUE(s.ok()) << s.error_message();
    return response;
  }

  static std::vector<v1::ImportRecord> Records(const DemoCatalog& c) {
    std::vector<v1::ImportRecord> records;
    for (const auto& p : c.providers) *records.emplace_back().mutable_provider() = p;
    for (const auto& o : c.offers) *records.emplace_back().mutable_offer() = o;
    return records;
  }

  // The server's catalog, read from the store.
  void ServerCatalog(std::map<std::string, v1::Provider>* providers, std::map<std::string, v1::Offer>* offers) {
    EXPECT_OK(server_->store()->ForEachProvider([&](const v1::Provider& p) { (*providers)[p.id()] = p; return true; }));
    EXPECT_OK(server_->store()->ForEachOffer([&](const v1::Offer& o) { (*offers)[o.id()] = o; return true; }));
  }

  testing::TempDir dir_;
  std::unique_ptr<AtableServer> server_;
  std::unique_ptr<v1::Catalog::Stub> stub_;
};

// A partner's copy of the catalog, built from changes.
struct Replica {
  std::map<std::string, v1::Provider> providers;
  std::map<std::string, v1::Offer> offers;
  std::string token;
  int applied = 0;
  void Apply(const v1::Change& c) {
    if (c.has_provider()) {
      if (c.type() == v1::CHANGE_TYPE_DELETE) providers.erase(c.provider().id());
      else providers[c.provider().id()] = c.provider();
    } else {
      if (c.type() == v1::CHANGE_TYPE_DELETE) offers.erase(c.offer().id());
      else offers[c.offer().id()] = c.offer();
    }
    token = c.resume_token();
    ++applied;
  }
};

template <typename M>
void ExpectSameMaps(const std::map<std::string, M>& a, const std::map<std::string, M>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (const auto& [id, m] : a) {
    auto it = b.find(id);
    ASSERT_NE(b.end(), it) << id;
    EXPECT_TRUE(MessageDifferencer::Equals(m, it->second)) << id;
  }
}

TEST_F(CatalogSyncTest, ImportCountsAndRejectsRecordByRecordAndIsIdempotent) {
  DemoCatalog catalog = Generated(60, 1);
  std::vector<v1::ImportRecord> records = Records(catalog);
  size_t good = records.size();
  v1::ImportRecord bad_place;
  *bad_place.mutable_provider() = catalog.providers[0];
  bad_place.mutable_provider()->set_id("far-away");
  bad_place.mutable_provider()->mutable_location()->set_latitude(123);
  records.insert(records.begin() + 3, bad_place);  // index 3
  v1::ImportRecord orphan;
  *orphan.mutable_offer() = catalog.offers[0];
  orphan.mutable_offer()->set_id("orphan");
  orphan.mutable_offer()->set_provider_id("nobody");
  records.push_back(orphan);
  records.emplace_back();  // an empty record

  v1::ImportOffersResponse first = Import(records);
  EXPECT_EQ(static_cast<int64_t>(good), first.created());
  EXPECT_EQ(0, first.updated());
  EXPECT_EQ(0, first.unchanged());
  EXPECT_EQ(3, first.rejected());
  ASSERT_EQ(3, first.rejected_records_size());
  EXPECT_EQ("index: 3 id: \"far-away\" field: \"provider.location.latitude\" reason: \"must be in [-90, 90]\"",
            first.rejected_records(0).ShortDebugString());
  EXPECT_EQ(static_cast<int64_t>(records.size() - 2), first.rejected_records(1).index());
  EXPECT_EQ("offer.provider_id", first.rejected_records(1).field());
  EXPECT_EQ("provider nobody does not exist; store it first", first.rejected_records(1).reason());
  EXPECT_EQ("record", first.rejected_records(2).field());
  uint64_t revision = server_->store()->revision();

  v1::ImportOffersResponse second = Import(records);
  EXPECT_EQ(0, second.created());
  EXPECT_EQ(static_cast<int64_t>(good), second.unchanged());
  EXPECT_EQ(3, second.rejected());
  EXPECT_EQ(revision, server_->store()->revision());
  EXPECT_OK(server_->store()->VerifyIndexes());

  // A changed title is an update.
  records[good].mutable_offer()->set_title("Nouveau titre");
  EXPECT_EQ(1, Import(records).updated());
}

// The server parses each record where it lies in the message, into records it reuses once their
// batch is published (more providers than it keeps records of that kind for, so that some records
// let go of a provider's memory and take offers); a record written with more than its one message
// (an unknown field here) is read as a whole instead, and a refused one names its field either way.
TEST_F(CatalogSyncTest, ImportStoresEachRecordAsSentWhateverItsEncoding) {
  DemoCatalog catalog = Generated(3500, 6);
  std::vector<v1::ImportRecord> records = Records(catalog);
  ASSERT_GT(catalog.offers.size(), 3000u);  // offers parsed into records of published batches
  const size_t first_offer = catalog.providers.size();
  v1::ImportRecord& extra = records[first_offer + 1];
  extra.GetReflection()->MutableUnknownFields(&extra)->AddVarint(15, 7);
  v1::ImportRecord bad_text;
  *bad_text.mutable_offer() = catalog.offers[2];
  bad_text.mutable_offer()->set_id("bad-text");
  bad_text.mutable_offer()->set_title("G\xEEte");  // Latin-1, not UTF-8
  records.insert(records.begin() + static_cast<long>(first_offer + 2), bad_text);

  v1::ImportOffersResponse response = Import(records);
  const auto sent_records = static_cast<int64_t>(catalog.providers.size() + catalog.offers.size());
  EXPECT_EQ(sent_records, response.created());
  ASSERT_EQ(1, response.rejected_records_size());
  EXPECT_EQ(static_cast<int64_t>(first_offer + 2), response.rejected_records(0).index());
  EXPECT_EQ("offer.title", response.rejected_records(0).field());
  EXPECT_EQ("is not valid UTF-8", response.rejected_records(0).reason());

  std::map<std::string, v1::Provider> providers;
  std::map<std::string, v1::Offer> offers;
  ServerCatalog(&providers, &offers);
  auto sent = [](auto m) {  // what a client set: without the fields the server stamps
    m.clear_create_time();
    m.clear_update_time();
    m.clear_etag();
    return m;
  };
  std::map<std::string, v1::Provider> stored_providers;
  std::map<std::string, v1::Offer> stored_offers;
  for (const auto& [id, p] : providers) stored_providers[id] = sent(p);
  for (const auto& [id, o] : offers) stored_offers[id] = sent(o);
  std::map<std::string, v1::Provider> given_providers;
  std::map<std::string, v1::Offer> given_offers;
  for (const auto& p : catalog.providers) given_providers[p.id()] = p;
  for (const auto& o : catalog.offers) given_offers[o.id()] = o;
  ExpectSameMaps(given_providers, stored_providers);
  ExpectSameMaps(given_offers, stored_offers);
  EXPECT_OK(server_->store()->VerifyIndexes());
}

// Providers each followed by their offers, over several batches: records of both kinds are
// parsed again into records of published batches of their kind; a record whose first field is
// of one kind and whose last is of the other (the last one counts) is taken as the last one.
TEST_F(CatalogSyncTest, ImportInterleavingKindsStoresEachRecordAsSent) {
  DemoCatalog catalog = Generated(1500, 8);
  std::map<std::string, std::vector<const v1::Offer*>> offers_of;
  for (const auto& o : catalog.offers) offers_of[o.provider_id()].push_back(&o);
  std::vector<v1::ImportRecord> records;
  for (const auto& p : catalog.providers) {
    *records.emplace_back().mutable_provider() = p;
    for (const v1::Offer* o : offers_of[p.id()]) *records.emplace_back().mutable_offer() = *o;
  }
  ASSERT_GT(records.size(), 3500u);
  v1::Provider late_provider = catalog.providers[1];
  late_provider.set_id("offer-then-provider");
  v1::ImportRecord offer_then_provider;
  *offer_then_provider.mutable_offer() = catalog.offers[3];
  offer_then_provider.GetReflection()
      ->MutableUnknownFields(&offer_then_provider)
      ->AddLengthDelimited(v1::ImportRecord::kProviderFieldNumber,
                           late_provider.SerializeAsString());
  v1::Offer late_offer = catalog.offers[4];
  late_offer.set_id("provider-then-offer");
  v1::ImportRecord provider_then_offer;
  *provider_then_offer.mutable_provider() = catalog.providers[2];
  provider_then_offer.GetReflection()
      ->MutableUnknownFields(&provider_then_offer)
      ->AddLengthDelimited(v1::ImportRecord::kOfferFieldNumber, late_offer.SerializeAsString());
  records.insert(records.begin() + 2500, offer_then_provider);
  records.insert(records.begin() + 3100, provider_then_offer);

  v1::ImportOffersResponse response = Import(records);
  EXPECT_EQ(0, response.rejected());
  EXPECT_EQ(static_cast<int64_t>(records.size()), response.created());
  std::map<std::string, v1::Provider> providers;
  std::map<std::string, v1::Offer> offers;
  ServerCatalog(&providers, &offers);
  std::map<std::string, v1::Provider> given_providers{{late_provider.id(), late_provider}};
  std::map<std::string, v1::Offer> given_offers{{late_offer.id(), late_offer}};
  for (const auto& p : catalog.providers) given_providers[p.id()] = p;
  for (const auto& o : catalog.offers) given_offers[o.id()] = o;
  for (auto& [id, p] : providers) {
    p.clear_create_time();
    p.clear_update_time();
    p.clear_etag();
  }
  for (auto& [id, o] : offers) {
    o.clear_create_time();
    o.clear_update_time();
    o.clear_etag();
  }
  ExpectSameMaps(given_providers, providers);
  ExpectSameMaps(given_offers, offers);
  EXPECT_OK(server_->store()->VerifyIndexes());
}

// The server stores a record's bytes as they were sent with its own stamps after them: whatever
// times and etag an imported record carries, the store, searches and the change log all show the
// server's (first creation time, last update time, revision etag).
TEST_F(CatalogSyncTest, ImportedRecordsCarryTheServersStamps) {
  DemoCatalog catalog = Generated(30, 9);
  std::map<std::string, std::vector<v1::Offer>> offers_of;
  for (const auto& o : catalog.offers) offers_of[o.provider_id()].push_back(o);
  v1::Provider provider;
  std::vector<v1::Offer> offers;  // two offers of one provider
  for (const auto& p : catalog.providers) {
    if (offers_of[p.id()].size() < 2) continue;
    provider = p;
    offers.assign(offers_of[p.id()].begin(), offers_of[p.id()].begin() + 2);
    break;
  }
  ASSERT_EQ(2u, offers.size());
  google::protobuf::Timestamp long_ago;
  long_ago.set_seconds(978307200);  // 2001-01-01
  long_ago.set_nanos(123);
  *provider.mutable_create_time() = long_ago;
  *provider.mutable_update_time() = long_ago;
  *offers[1].mutable_update_time() = long_ago;
  const int64_t start = absl::ToUnixSeconds(absl::Now());
  auto records_of = [&] {
    std::vector<v1::ImportRecord> records;
    *records.emplace_back().mutable_provider() = provider;
    for (const v1::Offer& o : offers) *records.emplace_back().mutable_offer() = o;
    return records;
  };
  ASSERT_EQ(3, Import(records_of()).created());

  // Every reader's copy of the offer: GetOffer's and a search's (with the provider's location),
  // the store's and the change log's latest (as stored).
  auto read = [&](const std::string& id) {
    std::vector<v1::Offer> copies(4);
    absl::StatusOr<v1::Offer> stored = server_->store()->GetOffer(id);
    EXPECT_OK(stored);
    if (stored.ok()) copies[3] = *stored;
    v1::GetOfferRequest get;
    get.set_id(id);
    EXPECT_TRUE(stub_->GetOffer(Context().get(), get, &copies[0]).ok());
    v1::SearchOffersRequest q;
    q.set_provider_id(provider.id());
    v1::SearchOffersResponse page;
    EXPECT_TRUE(stub_->SearchOffers(Context().get(), q, &page).ok());
    for (const auto& r : page.results()) {
      if (r.offer().id() == id) copies[1] = r.offer();
    }
    auto context = Context();
    auto reader = stub_->ListChanges(context.get(), v1::ListChangesRequest());
    v1::Change change;
    while (reader->Read(&change)) {
      if (change.has_offer() && change.offer().id() == id) copies[2] = change.offer();
    }
    EXPECT_TRUE(reader->Finish().ok());
    EXPECT_TRUE(MessageDifferencer::Equals(copies[0], copies[1])) << copies[1].ShortDebugString();
    EXPECT_TRUE(MessageDifferencer::Equals(copies[3], copies[2])) << copies[2].ShortDebugString();
    EXPECT_EQ(copies[0].etag(), copies[3].etag());
    return copies[0];
  };
  std::vector<v1::Offer> first;
  for (const v1::Offer& o : offers) {
    first.push_back(read(o.id()));
    EXPECT_GE(first.back().create_time().seconds(), start) << o.id();
    EXPECT_EQ(first.back().create_time().ShortDebugString(),
              first.back().update_time().ShortDebugString());
    EXPECT_FALSE(first.back().etag().empty());
  }
  absl::StatusOr<v1::Provider> stored_provider = server_->store()->GetProvider(provider.id());
  ASSERT_OK(stored_provider);
  EXPECT_GE(stored_provider->create_time().seconds(), start);
  EXPECT_GE(stored_provider->update_time().seconds(), start);

  // Updates with the stored etag: one as sent before, one as read back (every stamp set).
  offers[0].set_title("Nouveau titre");
  offers[0].set_etag(first[0].etag());
  offers[1] = first[1];
  offers[1].set_title("Autre titre");
  *offers[1].mutable_create_time() = long_ago;
  absl::SleepFor(absl::Milliseconds(2));
  v1::ImportOffersResponse second = Import(records_of());
  EXPECT_EQ(0, second.rejected()) << second.ShortDebugString();
  EXPECT_EQ(2, second.updated());
  for (size_t i = 0; i < offers.size(); ++i) {
    v1::Offer now = read(offers[i].id());
    EXPECT_EQ(offers[i].title(), now.title());
    EXPECT_EQ(first[i].create_time().ShortDebugString(), now.create_time().ShortDebugString());
    EXPECT_GT(TimeUtil::TimestampToNanoseconds(now.update_time()),
              TimeUtil::TimestampToNanoseconds(first[i].update_time()));
    EXPECT_NE(first[i].etag(), now.etag());
    EXPECT_EQ(absl::StrCat(server_->store()->revision() - (offers.size() - 1 - i)), now.etag());
  }
}

// Several write batches (1,000 records each) in one stream: each batch is written while the next
// is read, so counts, rejections and their order must come out as if written one by one.
TEST_F(CatalogSyncTest, ImportSpanningManyBatchesCountsEveryRecordInOrder) {
  DemoCatalog catalog = Generated(1500, 4);
  std::vector<v1::ImportRecord> records = Records(catalog);
  const size_t good = records.size();
  ASSERT_GT(good, 3500u);
  auto bad_latitude = [&](size_t at) {
    v1::ImportRecord bad;
    *bad.mutable_provider() = catalog.providers[at % catalog.providers.size()];
    bad.mutable_provider()->set_id(absl::StrCat("bad-", at));
    bad.mutable_provider()->mutable_location()->set_latitude(100);
    records.insert(records.begin() + static_cast<long>(at), bad);
  };
  bad_latitude(10);    // first batch
  bad_latitude(1500);  // second
  bad_latitude(3200);  // fourth
  // An offer whose provider comes later in the stream is refused: a stream is applied in order.
  v1::ImportRecord early;
  *early.mutable_offer() = catalog.offers[0];
  early.mutable_offer()->set_id("too-early");
  early.mutable_offer()->set_provider_id("late-provider");
  records.insert(records.begin() + 5, early);
  v1::ImportRecord late;
  *late.mutable_provider() = catalog.providers[0];
  late.mutable_provider()->set_id("late-provider");
  records.push_back(late);
  // The same offer twice, far apart: created, then updated.
  v1::ImportRecord again;
  *again.mutable_offer() = catalog.offers[7];
  again.mutable_offer()->set_title("Titre corrigé");
  records.push_back(again);

  v1::ImportOffersResponse first = Import(records);
  EXPECT_EQ(static_cast<int64_t>(good + 1), first.created());  // + late-provider
  EXPECT_EQ(1, first.updated());
  EXPECT_EQ(4, first.rejected());
  ASSERT_EQ(4, first.rejected_records_size());
  EXPECT_EQ(5, first.rejected_records(0).index());
  EXPECT_EQ("too-early", first.rejected_records(0).id());
  EXPECT_EQ("offer.provider_id", first.rejected_records(0).field());
  EXPECT_EQ(11, first.rejected_records(1).index());  // shifted by the record inserted at 5
  EXPECT_EQ("bad-10", first.rejected_records(1).id());
  EXPECT_EQ("bad-1500", first.rejected_records(2).id());
  EXPECT_EQ("bad-3200", first.rejected_records(3).id());
  EXPECT_LT(first.rejected_records(2).index(), first.rejected_records(3).index());
  EXPECT_OK(server_->store()->VerifyIndexes());
  auto stored = server_->store()->GetOffer(catalog.offers[7].id());
  ASSERT_OK(stored);
  EXPECT_EQ("Titre corrigé", stored->title());
  EXPECT_EQ(static_cast<size_t>(catalog.offers.size()), server_->store()->index().live_offers());

  // Again: the offer given twice changes back and forth (two updates), the early offer now finds
  // its provider (created), everything else is as stored.
  uint64_t revision = server_->store()->revision();
  v1::ImportOffersResponse second = Import(records);
  EXPECT_EQ(1, second.created());
  EXPECT_EQ(2, second.updated());
  EXPECT_EQ(static_cast<int64_t>(good), second.unchanged());
  EXPECT_EQ(3, second.rejected());
  EXPECT_EQ(revision + 3, server_->store()->revision());
}

TEST_F(CatalogSyncTest, PagingUnderConcurrentWritesReturnsEveryOfferOnce) {
  DemoCatalog catalog = Generated(300, 2);
  Import(Records(catalog));
  std::set<std::string> stable;  // offers the writer never touches
  std::vector<v1::Offer> churn;
  for (size_t i = 0; i < catalog.offers.size(); ++i) {
    if (i % 3 == 0) churn.push_back(catalog.offers[i]);
    else stable.insert(catalog.offers[i].id());
  }
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    auto stub = v1::Catalog::NewStub(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    for (int round = 0; !stop; ++round) {
      for (size_t i = 0; i < churn.size() && !stop; ++i) {
        auto context = Context();
        if ((i + round) % 4 == 0) {
          v1::DeleteOfferRequest del;
          del.set_id(churn[i].id());
          google::protobuf::Empty e;
          stub->DeleteOffer(context.get(), del, &e);
        } else {
          v1::UpsertOfferRequest put;
          *put.mutable_offer() = churn[i];
          put.mutable_offer()->mutable_prices(0)->set_min_amount_cents(100 + (round * 7919 + i * 104729) % 90000);
          put.mutable_offer()->mutable_prices(0)->set_max_amount_cents(200000);
          v1::Offer out;
          stub->UpsertOffer(context.get(), put, &out);
        }
      }
    }
  });
  for (auto sort : {v1::SORT_ORDER_PRICE_ASCENDING, v1::SORT_ORDER_UNSPECIFIED, v1::SORT_ORDER_UPDATE_TIME}) {
    v1::SearchOffersRequest q;
    q.set_sort(sort);
    q.set_page_size(17);
    std::multiset<std::string> seen;
    do {
      v1::SearchOffersResponse page;
      grpc::Status s = stub_->SearchOffers(Context().get(), q, &page);
      ASSERT_TRUE(s.ok()) << s.error_message();
      for (const auto& r : page.results()) seen.insert(r.offer().id());
      q.set_page_token(page.next_page_token());
      std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let writes land between pages
    } while (!q.page_token().empty());
    for (const std::string& id : stable) EXPECT_EQ(1u, seen.count(id)) << id << " sort " << sort;
    for (const std::string& id : seen) EXPECT_EQ(1u, seen.count(id)) << id << " came twice, sort " << sort;
  }
  stop = true;
  writer.join();
  EXPECT_GT(server_->store()->revision(), catalog.offers.size() + catalog.providers.size() + 50);
}

// Providers imported through the stream (their words worked out on the reading thread) are found
// as those written one by one are: by the words of their name and of their commune, in any case
// and accents, and by their commune's name in any spelling.
TEST_F(CatalogSyncTest, ImportedProvidersAreFoundByNameAndCommune) {
  DemoCatalog catalog = Generated(40, 6);
  const std::vector<std::pair<std::string, std::string>> places = {
      {"Gîte de l'Étang Fleuri", "Chaudes-Aigues"},
      {"Ferme Auberge du Pré Haut", "Saint-Flour"},
      {"Hôtel Les Écureuils", "Vic-sur-Cère"},
  };
  std::map<std::string, int> offers_of;
  for (const v1::Offer& o : catalog.offers) ++offers_of[o.provider_id()];
  for (size_t i = 0; i < places.size(); ++i) {
    catalog.providers[i].set_name(places[i].first);
    catalog.providers[i].mutable_address()->set_commune(places[i].second);
  }
  ASSERT_EQ(static_cast<int64_t>(catalog.offers.size() + catalog.providers.size()),
            Import(Records(catalog)).created());
  auto count = [&](const std::string& provider_id, const std::string& text,
                   const std::string& commune) {
    v1::SearchOffersRequest q;
    q.set_provider_id(provider_id);
    q.set_text(text);
    q.set_commune(commune);
    v1::SearchOffersResponse page;
    grpc::Status s = stub_->SearchOffers(Context().get(), q, &page);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return page.total_count();
  };
  const std::string first = catalog.providers[0].id(), second = catalog.providers[1].id(),
                    third = catalog.providers[2].id();
  ASSERT_GT(offers_of[first], 0);
  ASSERT_GT(offers_of[second], 0);
  ASSERT_GT(offers_of[third], 0);
  EXPECT_EQ(offers_of[first], count(first, "ETANG fleuri", ""));
  EXPECT_EQ(offers_of[first], count(first, "chaudes aigues", "CHAUDES AIGUES"));
  EXPECT_EQ(offers_of[second], count(second, "pre haut saint flour", "saint-flour"));
  EXPECT_EQ(offers_of[third], count(third, "ecureuils vic cere", "Vic sur Cère"));
  EXPECT_EQ(0, count(first, "ecureuils", ""));
  EXPECT_EQ(0, count(third, "", "Saint-Flour"));
}

TEST_F(CatalogSyncTest, SearchIsServedWithFacetsAndDistances) {
  DemoCatalog catalog = Generated(200, 3);
  Import(Records(catalog));
  v1::SearchOffersRequest q;
  q.add_kinds(v1::OFFER_KIND_LODGING);
  q.mutable_near()->mutable_point()->set_latitude(44.9245);
  q.mutable_near()->mutable_point()->set_longitude(2.4416);
  q.mutable_near()->set_radius_km(40);
  q.set_sort(v1::SORT_ORDER_DISTANCE);
  q.set_include_facets(true);
  v1::SearchOffersResponse page;
  ASSERT_TRUE(stub_->SearchOffers(Context().get(), q, &page).ok());
  ASSERT_GT(page.results_size(), 0);
  EXPECT_GE(page.total_count(), page.results_size());
  EXPECT_GT(page.results(0).distance_km(), 0);
  EXPECT_TRUE(page.results(0).offer().has_location());
  EXPECT_EQ(5, page.facets_size());
  EXPECT_EQ(absl::StrCat("c", server_->store()->revision()), page.resume_token());

  q.set_page_size(5000);
  grpc::Status s = stub_->SearchOffers(Context().get(), q, &page);
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_EQ("page_size: must be in 0-1000", s.error_message());
}

TEST_F(CatalogSyncTest, ReplicaFromListChangesEqualsTheCatalog) {
  DemoCatalog catalog = Generated(80, 4);
  Import(Records(catalog));
  // Updates, offer deletes, a provider delete (with its offers), a re-created offer.
  for (int i = 0; i < 20; ++i) {
    v1::UpsertOfferRequest put;
    *put.mutable_offer() = catalog.offers[i];
    put.mutable_offer()->set_title(absl::StrCat("Titre ", i));
    v1::Offer out;
    ASSERT_TRUE(stub_->UpsertOffer(Context().get(), put, &out).ok());
  }
  google::protobuf::Empty e;
  v1::DeleteOfferRequest del_offer;
  del_offer.set_id(catalog.offers[30].id());
  ASSERT_TRUE(stub_->DeleteOffer(Context().get(), del_offer, &e).ok());
  v1::DeleteProviderRequest del_provider;
  del_provider.set_id(catalog.providers[7].id());
  ASSERT_TRUE(stub_->DeleteProvider(Context().get(), del_provider, &e).ok());

  Replica replica;
  v1::ListChangesRequest request;
  auto context = Context();
  auto reader = stub_->ListChanges(context.get(), request);
  v1::Change change;
  while (reader->Read(&change)) replica.Apply(change);
  ASSERT_TRUE(reader->Finish().ok());
  std::map<std::string, v1::Provider> providers;
  std::map<std::string, v1::Offer> offers;
  ServerCatalog(&providers, &offers);
  ExpectSameMaps(providers, replica.providers);
  ExpectSameMaps(offers, replica.offers);
  // Superseded changes are skipped: fewer changes than revisions.
  EXPECT_LT(replica.applied, static_cast<int>(server_->store()->revision()));
}

// Two imports (several batches each, written ahead of their indexing), unary upserts and a
// partner reading the change log, all at once: every record lands, searches count them all, and
// the partner's copy ends equal to the catalog.
TEST_F(CatalogSyncTest, ConcurrentImportsUpsertsAndChangeReadsAgree) {
  DemoCatalog a = Generated(1500, 11), b = Generated(1500, 12);
  for (auto& p : b.providers) p.set_id("b-" + p.id());
  for (auto& o : b.offers) {
    o.set_id("b-" + o.id());
    o.set_provider_id("b-" + o.provider_id());
  }
  std::vector<v1::ImportRecord> records_a = Records(a), records_b = Records(b);
  ASSERT_GT(records_a.size(), 3000u);
  std::atomic<bool> writing{true};
  Replica replica;
  std::thread reader([&] {  // reads whatever is published, again and again, from its last token
    auto catch_up = [&] {
      v1::ListChangesRequest request;
      request.set_resume_token(replica.token);
      auto context = Context();
      auto stream = stub_->ListChanges(context.get(), request);
      v1::Change change;
      while (stream->Read(&change)) replica.Apply(change);
      grpc::Status s = stream->Finish();
      EXPECT_TRUE(s.ok()) << s.error_message();
    };
    while (writing) catch_up();
    catch_up();
  });
  v1::ImportOffersResponse response_a, response_b;
  std::thread import_a([&] { response_a = Import(records_a); });
  std::thread import_b([&] { response_b = Import(records_b); });
  int upserted = 0;
  for (int i = 0; i < 40; ++i) {
    v1::UpsertProviderRequest provider;
    *provider.mutable_provider() = a.providers[0];
    provider.mutable_provider()->set_id(absl::StrCat("u-", i));
    v1::Provider stored_provider;
    ASSERT_TRUE(stub_->UpsertProvider(Context().get(), provider, &stored_provider).ok());
    v1::UpsertOfferRequest offer;
    *offer.mutable_offer() = a.offers[0];
    offer.mutable_offer()->set_id(absl::StrCat("u-", i, "/1"));
    offer.mutable_offer()->set_provider_id(absl::StrCat("u-", i));
    v1::Offer stored_offer;
    grpc::Status s = stub_->UpsertOffer(Context().get(), offer, &stored_offer);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ++upserted;
  }
  import_a.join();
  import_b.join();
  writing = false;
  reader.join();

  EXPECT_EQ(static_cast<int64_t>(records_a.size()), response_a.created());
  EXPECT_EQ(static_cast<int64_t>(records_b.size()), response_b.created());
  EXPECT_EQ(0, response_a.rejected() + response_b.rejected());
  const size_t offers = a.offers.size() + b.offers.size() + static_cast<size_t>(upserted);
  v1::SearchOffersRequest all;
  v1::SearchOffersResponse page;
  ASSERT_TRUE(stub_->SearchOffers(Context().get(), all, &page).ok());
  EXPECT_EQ(static_cast<int64_t>(offers), page.total_count());
  EXPECT_EQ(server_->store()->revision(), records_a.size() + records_b.size() + 2 * static_cast<size_t>(upserted));
  EXPECT_OK(server_->store()->VerifyIndexes());
  std::map<std::string, v1::Provider> providers;
  std::map<std::string, v1::Offer> stored;
  ServerCatalog(&providers, &stored);
  EXPECT_EQ(offers, stored.size());
  ExpectSameMaps(providers, replica.providers);
  ExpectSameMaps(stored, replica.offers);
}

TEST_F(CatalogSyncTest, FollowStreamCutAndResumedEndsEqual) {
  DemoCatalog catalog = Generated(40, 5);
  std::vector<v1::ImportRecord> records = Records(catalog);
  Import(records);
  Replica replica;
  {  // Initial copy: a search walk, then follow from its resume token.
    v1::SearchOffersRequest q;
    q.set_page_size(1000);
    v1::SearchOffersResponse page;
    ASSERT_TRUE(stub_->SearchOffers(Context().get(), q, &page).ok());
    for (const auto& r : page.results()) replica.offers[r.offer().id()] = r.offer();
    for (const auto& p : catalog.providers) replica.providers[p.id()] = *server_->store()->GetProvider(p.id());
    replica.token = page.resume_token();
    for (auto& [id, o] : replica.offers) {
      if (!server_->store()->GetOffer(id)->has_location()) o.clear_location();  // search shows the provider's
    }
  }
  std::atomic<bool> done{false};
  std::thread writer([&] {
    auto stub = v1::Catalog::NewStub(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
    for (int i = 0; i < 150; ++i) {
      auto context = Context();
      const v1::Offer& base = catalog.offers[i % catalog.offers.size()];
      if (i % 10 == 9) {
        v1::DeleteOfferRequest del;
        del.set_id(base.id());
        google::protobuf::Empty e;
        stub->DeleteOffer(context.get(), del, &e);
      } else {
        v1::UpsertOfferRequest put;
        *put.mutable_offer() = base;
        put.mutable_offer()->set_title(absl::StrCat("Version ", i));
        v1::Offer out;
        stub->UpsertOffer(context.get(), put, &out);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    done = true;
  });
  // Follow, cutting the stream every 25 changes and resuming from the last token.
  while (true) {
    v1::ListChangesRequest request;
    request.set_resume_token(replica.token);
    request.set_follow(true);
    grpc::ClientContext context;  // a short life: when caught up, the stream just waits
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
    auto reader = stub_->ListChanges(&context, request);
    v1::Change change;
    int n = 0;
    bool caught_up = false;
    while (n < 25 && reader->Read(&change)) {
      replica.Apply(change);
      ++n;
      if (done && replica.token == absl::StrCat("c", server_->store()->revision())) {
        caught_up = true;
        break;
      }
    }
    context.TryCancel();
    reader->Finish();
    if (caught_up) break;
    if (done && replica.token == absl::StrCat("c", server_->store()->revision())) break;
  }
  writer.join();
  std::map<std::string, v1::Provider> providers;
  std::map<std::string, v1::Offer> offers;
  ServerCatalog(&providers, &offers);
  ExpectSameMaps(providers, replica.providers);
  ExpectSameMaps(offers, replica.offers);
}

TEST_F(CatalogSyncTest, TokensOlderThanTheRetainedHistoryMustResync) {
  ServerOptions options;
  options.require_keys = false;
  options.change_retention = absl::Minutes(1);
  Start(options);
  Import(Records(Generated(5, 6)));
  server_->RunMaintenance(absl::Now() + absl::Hours(1));  // everything is past retention
  v1::ListChangesRequest request;
  auto context = Context();
  auto reader = stub_->ListChanges(context.get(), request);
  v1::Change change;
  EXPECT_FALSE(reader->Read(&change));
  grpc::Status s = reader->Finish();
  EXPECT_EQ(grpc::StatusCode::FAILED_PRECONDITION, s.error_code());
  EXPECT_NE(std::string::npos, s.error_message().find("resync with SearchOffers")) << s.error_message();
  // A token from a fresh search still works.
  v1::SearchOffersResponse page;
  ASSERT_TRUE(stub_->SearchOffers(Context().get(), v1::SearchOffersRequest(), &page).ok());
  request.set_resume_token(page.resume_token());
  auto context2 = Context();
  auto reader2 = stub_->ListChanges(context2.get(), request);
  EXPECT_FALSE(reader2->Read(&change));
  EXPECT_TRUE(reader2->Finish().ok());
  // A malformed token.
  request.set_resume_token("nonsense");
  auto context3 = Context();
  auto reader3 = stub_->ListChanges(context3.get(), request);
  EXPECT_FALSE(reader3->Read(&change));
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, reader3->Finish().error_code());
}

TEST_F(CatalogSyncTest, IndexIsRebuiltAfterRestart) {
  DemoCatalog catalog = Generated(50, 8);
  Import(Records(catalog));
  v1::SearchOffersRequest q;
  q.add_kinds(v1::OFFER_KIND_ACTIVITY);
  q.set_text("visite");
  v1::SearchOffersResponse before, after;
  ASSERT_TRUE(stub_->SearchOffers(Context().get(), q, &before).ok());
  Start();
  ASSERT_TRUE(stub_->SearchOffers(Context().get(), q, &after).ok());
  EXPECT_EQ(before.total_count(), after.total_count());
  ASSERT_EQ(before.results_size(), after.results_size());
  for (int i = 0; i < before.results_size(); ++i) {
    EXPECT_EQ(before.results(i).offer().id(), after.results(i).offer().id());
  }
}

}  // namespace
}  // namespace atable
