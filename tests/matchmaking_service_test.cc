// The Matchmaking service through gRPC against a real server on an OS-picked port.
#include <set>

#include "atable/v1/matchmaking.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/test_util.h"

namespace atable {
namespace {

class MatchmakingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.require_keys = false;  // keys and roles: auth_test
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    options.demo_dir = testing::ProjectPath("server/demo");
    auto server = AtableServer::Start(options);
    ASSERT_OK(server);
    server_ = *std::move(server);
    stub_ = v1::Matchmaking::NewStub(grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  }
  static std::unique_ptr<grpc::ClientContext> Context() {
    auto c = std::make_unique<grpc::ClientContext>();
    c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return c;
  }
  grpc::Status Put(const v1::Buyer& b, v1::Buyer* out = nullptr) {
    v1::UpsertBuyerRequest request;
    *request.mutable_buyer() = b;
    v1::Buyer response;
    grpc::Status s = stub_->UpsertBuyer(Context().get(), request, &response);
    if (out) *out = response;
    return s;
  }
  static v1::Buyer SpaBuyer(const std::string& id) {
    v1::Buyer b;
    b.set_id(id);
    b.set_name("Coffrets Évasion");
    b.set_kind(v1::BUYER_KIND_GIFT_BOX);
    v1::Need* n = b.add_needs();
    n->set_id("duo");
    n->add_sub_kinds(v1::OFFER_SUB_KIND_WELLNESS);
    n->set_group_size(2);
    return b;
  }

  testing::TempDir dir_;
  std::unique_ptr<AtableServer> server_;
  std::unique_ptr<v1::Matchmaking::Stub> stub_;
};

TEST_F(MatchmakingServiceTest, StoresBuyers) {
  v1::Buyer stored;
  ASSERT_TRUE(Put(SpaBuyer("b1"), &stored).ok());
  EXPECT_FALSE(stored.etag().empty());
  v1::GetBuyerRequest get;
  get.set_id("b1");
  v1::Buyer read;
  ASSERT_TRUE(stub_->GetBuyer(Context().get(), get, &read).ok());
  EXPECT_EQ("duo", read.needs(0).id());
  get.set_id("nope");
  grpc::Status s = stub_->GetBuyer(Context().get(), get, &read);
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND, s.error_code());
  EXPECT_EQ("buyer nope not found", s.error_message());

  v1::Buyer stale = stored;
  stale.set_name("Renamed");
  ASSERT_TRUE(Put(stale).ok());
  EXPECT_EQ(grpc::StatusCode::ABORTED, Put(stale).error_code());  // the etag read is now stale

  v1::DeleteBuyerRequest del;
  del.set_id("b1");
  google::protobuf::Empty e;
  EXPECT_TRUE(stub_->DeleteBuyer(Context().get(), del, &e).ok());
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND, stub_->DeleteBuyer(Context().get(), del, &e).error_code());
}

TEST_F(MatchmakingServiceTest, ValidationNamesTheField) {
  v1::Buyer b = SpaBuyer("b1");
  b.mutable_needs(0)->set_group_size(-3);
  grpc::Status s = Put(b);
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_EQ("buyer.needs[0].group_size: must be in 0-100000", s.error_message());
  b = SpaBuyer("b1");
  b.add_needs()->set_id("duo");
  EXPECT_EQ("buyer.needs[1].id: repeats an earlier need's id", Put(b).error_message());
  b = SpaBuyer("b1");
  b.mutable_needs(0)->mutable_area()->mutable_circle()->set_radius_km(0);
  EXPECT_EQ("buyer.needs[0].area.circle.radius_km: must be in (0, 1000]", Put(b).error_message());
  b = SpaBuyer("b1");
  b.mutable_needs(0)->mutable_price()->set_min_amount_cents(500);
  b.mutable_needs(0)->mutable_price()->set_max_amount_cents(100);
  EXPECT_EQ("buyer.needs[0].price.max_amount_cents: is below min_amount_cents", Put(b).error_message());
  b = SpaBuyer("");
  EXPECT_EQ("buyer.id: is required", Put(b).error_message());
}

TEST_F(MatchmakingServiceTest, ListsBuyersPageByPage) {
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(Put(SpaBuyer("b" + std::to_string(i))).ok());
  v1::ListBuyersRequest request;
  request.set_page_size(3);
  std::vector<std::string> ids;
  do {
    v1::ListBuyersResponse page;
    ASSERT_TRUE(stub_->ListBuyers(Context().get(), request, &page).ok());
    for (const auto& b : page.buyers()) ids.push_back(b.id());
    request.set_page_token(page.next_page_token());
  } while (!request.page_token().empty());
  // With the demo's four buyers, in id order.
  EXPECT_EQ((std::vector<std::string>{"b0", "b1", "b2", "b3", "b4", "b5", "b6", "demo-ce", "demo-giftbox",
                                      "demo-rentals", "demo-seller"}),
            ids);
}

TEST_F(MatchmakingServiceTest, SuggestsPairsFromTheCatalog) {
  ASSERT_TRUE(Put(SpaBuyer("spa-box")).ok());
  v1::SuggestPairsRequest request;
  request.add_buyer_ids("spa-box");
  request.set_top_per_buyer(5);
  v1::SuggestPairsResponse response;
  grpc::Status s = stub_->SuggestPairs(Context().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(5, response.pairs_size());
  for (const auto& p : response.pairs()) {
    EXPECT_EQ("spa-box", p.buyer_id());
    EXPECT_GT(p.score(), 0);
    ASSERT_GT(p.needs_size(), 0);
    EXPECT_FALSE(p.reason().empty());
    ASSERT_GT(p.needs(0).offer_ids_size(), 0);
    auto offer = server_->store()->GetOffer(p.needs(0).offer_ids(0));
    ASSERT_OK(offer);
    EXPECT_EQ(v1::OFFER_SUB_KIND_WELLNESS, offer->sub_kind());
  }
  EXPECT_GE(response.pairs(0).score(), response.pairs(4).score());

  request.add_buyer_ids("ghost");
  s = stub_->SuggestPairs(Context().get(), request, &response);
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND, s.error_code());
  EXPECT_EQ("buyer ghost not found", s.error_message());
  request.clear_buyer_ids();
  request.set_top_per_buyer(500);
  s = stub_->SuggestPairs(Context().get(), request, &response);
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_EQ("top_per_buyer: must be in 0-200", s.error_message());
  request.set_top_per_buyer(5);
  request.add_provider_ids("nobody");
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND, stub_->SuggestPairs(Context().get(), request, &response).error_code());
}

TEST_F(MatchmakingServiceTest, SuggestsPairsAmongAnEventsParticipants) {
  v1::SuggestPairsRequest request;
  request.set_event_id("cantal-2026");  // the demo day
  request.set_top_per_buyer(3);
  v1::SuggestPairsResponse response;
  grpc::Status s = stub_->SuggestPairs(Context().get(), request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_GT(response.pairs_size(), 0);
  std::set<std::string> participants = {"demo-seller", "demo-rentals", "demo-giftbox", "demo-ce"};
  for (const auto& p : response.pairs()) EXPECT_TRUE(participants.count(p.buyer_id())) << p.buyer_id();
  // The event's requests rank first.
  EXPECT_NE(v1::REQUEST_STATUS_NONE, response.pairs(0).request());
  request.add_buyer_ids("demo-ce");
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, stub_->SuggestPairs(Context().get(), request, &response).error_code());
  request.clear_buyer_ids();
  request.set_event_id("no-such-event");
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND, stub_->SuggestPairs(Context().get(), request, &response).error_code());
}

}  // namespace
}  // namespace atable
