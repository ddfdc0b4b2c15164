// The Catalog service through gRPC, against a real server on a port picked by the OS.
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "atable/v1/catalog.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/server.h"
#include "tests/test_util.h"

namespace atable {
namespace {

class CatalogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ServerOptions options;
    options.require_keys = false;  // keys and roles: auth_test
    options.listen = "127.0.0.1:0";
    options.data_dir = dir_.Sub("data");
    auto server = AtableServer::Start(options);
    ASSERT_OK(server);
    server_ = *std::move(server);
    ASSERT_GT(server_->port(), 0);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
    stub_ = v1::Catalog::NewStub(channel_);
  }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    return context;
  }

  grpc::Status PutProvider(const v1::Provider& p, v1::Provider* out = nullptr) {
    v1::UpsertProviderRequest request;
    *request.mutable_provider() = p;
    v1::Provider response;
    grpc::Status s = stub_->UpsertProvider(Context().get(), request, &response);
    if (out != nullptr) *out = response;
    return s;
  }
  grpc::Status PutOffer(const v1::Offer& o, v1::Offer* out = nullptr) {
    v1::UpsertOfferRequest request;
    *request.mutable_offer() = o;
    v1::Offer response;
    grpc::Status s = stub_->UpsertOffer(Context().get(), request, &response);
    if (out != nullptr) *out = response;
    return s;
  }
  grpc::Status GetOffer(const std::string& id, v1::Offer* out) {
    v1::GetOfferRequest request;
    request.set_id(id);
    return stub_->GetOffer(Context().get(), request, out);
  }
  grpc::Status GetProvider(const std::string& id, v1::Provider* out) {
    v1::GetProviderRequest request;
    request.set_id(id);
    return stub_->GetProvider(Context().get(), request, out);
  }

  static v1::Provider Provider(const std::string& id) {
    v1::Provider p;
    p.set_id(id);
    p.set_name("Buron de Salers");
    p.set_kind(v1::BUSINESS_KIND_PRODUCER);
    p.mutable_location()->set_latitude(45.14);
    p.mutable_location()->set_longitude(2.49);
    return p;
  }
  static v1::Offer Offer(const std::string& id, const std::string& provider_id) {
    v1::Offer o;
    o.set_id(id);
    o.set_provider_id(provider_id);
    o.set_kind(v1::OFFER_KIND_ACTIVITY);
    o.set_sub_kind(v1::OFFER_SUB_KIND_GASTRONOMY);
    o.set_title("Dégustation de Salers");
    v1::Price* price = o.add_prices();
    price->set_min_amount_cents(1200);
    price->set_max_amount_cents(1200);
    price->set_unit(v1::PRICE_UNIT_PER_PERSON);
    return o;
  }

  testing::TempDir dir_;
  std::unique_ptr<AtableServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Catalog::Stub> stub_;
};

TEST_F(CatalogServiceTest, HealthIsServing) {
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(Context().get(), request, &response).ok());
  EXPECT_EQ(grpc::health::v1::HealthCheckResponse::SERVING, response.status());
}

TEST_F(CatalogServiceTest, UpsertsAndGetsProvidersAndOffers) {
  v1::Provider stored;
  ASSERT_TRUE(PutProvider(Provider("p1"), &stored).ok());
  EXPECT_EQ("1", stored.etag());
  EXPECT_GT(stored.create_time().seconds(), 0);
  v1::Provider got;
  ASSERT_TRUE(GetProvider("p1", &got).ok());
  EXPECT_EQ("Buron de Salers", got.name());

  v1::Offer offer;
  ASSERT_TRUE(PutOffer(Offer("o1", "p1"), &offer).ok());
  EXPECT_EQ("2", offer.etag());
  v1::Offer read;
  ASSERT_TRUE(GetOffer("o1", &read).ok());
  EXPECT_EQ("Dégustation de Salers", read.title());
  // The offer has no location of its own: it is where its provider is.
  EXPECT_DOUBLE_EQ(45.14, read.location().latitude());

  // The same upsert again changes nothing.
  ASSERT_TRUE(PutOffer(Offer("o1", "p1"), &offer).ok());
  EXPECT_EQ("2", offer.etag());
  EXPECT_EQ(2u, server_->store()->revision());
}

TEST_F(CatalogServiceTest, InvalidInputNamesTheFieldAndStoresNothing) {
  ASSERT_TRUE(PutProvider(Provider("p1")).ok());
  ASSERT_TRUE(PutOffer(Offer("o1", "p1")).ok());
  uint64_t revision = server_->store()->revision();

  v1::Offer bad = Offer("o1", "p1");
  bad.set_title("Changed");
  bad.mutable_prices(0)->set_min_amount_cents(-5);
  grpc::Status s = PutOffer(bad);
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_EQ("offer.prices[0].min_amount_cents: must not be negative", s.error_message());

  bad = Offer("o1", "p1");
  bad.mutable_capacity()->set_min_persons(10);
  bad.mutable_capacity()->set_max_persons(4);
  s = PutOffer(bad);
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_EQ("offer.capacity.max_persons: is below min_persons", s.error_message());

  v1::Provider far = Provider("p1");
  far.mutable_location()->set_latitude(123);
  s = PutProvider(far);
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_EQ("provider.location.latitude: must be in [-90, 90]", s.error_message());

  v1::Provider nameless = Provider("p1");
  nameless.clear_name();
  EXPECT_EQ("provider.name: is required", PutProvider(nameless).error_message());
  EXPECT_EQ("provider.id: is required", PutProvider(Provider("")).error_message());
  v1::UpsertOfferRequest empty;
  v1::Offer unused;
  s = stub_->UpsertOffer(Context().get(), empty, &unused);
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_EQ("offer: is required", s.error_message());
  v1::Provider huge = Provider("p1");
  for (int i = 0; i < 1000; ++i) huge.add_labels("label");
  EXPECT_EQ("provider.labels: has 1000 items, more than 50", PutProvider(huge).error_message());

  s = PutOffer(Offer("o2", "ghost"));
  EXPECT_EQ(grpc::StatusCode::FAILED_PRECONDITION, s.error_code());

  EXPECT_EQ(revision, server_->store()->revision());
  v1::Offer read;
  ASSERT_TRUE(GetOffer("o1", &read).ok());
  EXPECT_EQ("Dégustation de Salers", read.title());
  EXPECT_EQ(1200, read.prices(0).min_amount_cents());
}

TEST_F(CatalogServiceTest, InvalidUtf8OnTheWireNamesTheField) {
  ASSERT_TRUE(PutProvider(Provider("p1")).ok());
  ASSERT_TRUE(PutOffer(Offer("o1", "p1")).ok());
  v1::Provider p = Provider("p1");
  p.set_name("Caf\xE9 du Lac");  // Latin-1, as a careless partner might send
  grpc::Status s = PutProvider(p);
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_EQ("provider.name: is not valid UTF-8", s.error_message());
  v1::Offer o = Offer("o1", "p1");
  o.add_prices()->set_season("\xFF");
  s = PutOffer(o);
  EXPECT_EQ("offer.prices[1].season: is not valid UTF-8", s.error_message());
  o = Offer("o1", "p1");
  (*o.mutable_descriptions())["fr"] = "\xC3";
  EXPECT_EQ("offer.descriptions[fr]: is not valid UTF-8", PutOffer(o).error_message());
  v1::Offer unused;
  EXPECT_EQ("id: is not valid UTF-8", GetOffer("o\xE9", &unused).error_message());
  EXPECT_EQ("Buron de Salers", server_->store()->GetProvider("p1")->name());
}

TEST_F(CatalogServiceTest, GarbageBytesAreRefused) {
  grpc::GenericStub generic(channel_);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  const char garbage[] = "\x0A\xFF\xFF\xFF\xFF\x0F";  // field 1, a length beyond the end
  grpc::Slice slice(garbage, sizeof(garbage) - 1);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  generic.UnaryCall(&context, "/atable.v1.Catalog/UpsertOffer", grpc::StubOptions(), &request,
                    &response, [&](grpc::Status s) {
                      std::lock_guard<std::mutex> lock(mu);
                      status = s;
                      done = true;
                      cv.notify_one();
                    });
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, status.error_code());
  EXPECT_EQ("request: is not a valid atable.v1.UpsertOfferRequest message", status.error_message());
}

TEST_F(CatalogServiceTest, UnknownIdsAreNotFound) {
  v1::Offer offer;
  grpc::Status s = GetOffer("nope", &offer);
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND, s.error_code());
  EXPECT_EQ("offer nope not found", s.error_message());
  v1::Provider provider;
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND, GetProvider("nope", &provider).error_code());
  google::protobuf::Empty empty;
  v1::DeleteOfferRequest del_offer;
  del_offer.set_id("nope");
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND, stub_->DeleteOffer(Context().get(), del_offer, &empty).error_code());
  v1::DeleteProviderRequest del_provider;
  del_provider.set_id("nope");
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND,
            stub_->DeleteProvider(Context().get(), del_provider, &empty).error_code());
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, GetOffer("", &offer).error_code());
}

TEST_F(CatalogServiceTest, StaleEtagIsAborted) {
  v1::Provider first;
  ASSERT_TRUE(PutProvider(Provider("p1"), &first).ok());
  v1::Offer o1;
  ASSERT_TRUE(PutOffer(Offer("o1", "p1"), &o1).ok());

  v1::Offer edit = o1;  // carries the etag read
  edit.set_title("Dégustation de Salers et Cantal");
  v1::Offer second;
  ASSERT_TRUE(PutOffer(edit, &second).ok());
  edit.set_title("A concurrent edit from the old copy");
  grpc::Status s = PutOffer(edit);
  EXPECT_EQ(grpc::StatusCode::ABORTED, s.error_code());

  google::protobuf::Empty empty;
  v1::DeleteOfferRequest del;
  del.set_id("o1");
  del.set_etag(o1.etag());
  EXPECT_EQ(grpc::StatusCode::ABORTED, stub_->DeleteOffer(Context().get(), del, &empty).error_code());
  v1::Offer read;
  ASSERT_TRUE(GetOffer("o1", &read).ok());
  EXPECT_EQ("Dégustation de Salers et Cantal", read.title());
  del.set_etag(second.etag());
  EXPECT_TRUE(stub_->DeleteOffer(Context().get(), del, &empty).ok());
}

TEST_F(CatalogServiceTest, DeletingAProviderDeletesItsOffers) {
  ASSERT_TRUE(PutProvider(Provider("p1")).ok());
  ASSERT_TRUE(PutOffer(Offer("o1", "p1")).ok());
  ASSERT_TRUE(PutOffer(Offer("o2", "p1")).ok());
  google::protobuf::Empty empty;
  v1::DeleteProviderRequest del;
  del.set_id("p1");
  ASSERT_TRUE(stub_->DeleteProvider(Context().get(), del, &empty).ok());
  v1::Offer offer;
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND, GetOffer("o1", &offer).error_code());
  EXPECT_EQ(grpc::StatusCode::NOT_FOUND, GetOffer("o2", &offer).error_code());
  EXPECT_OK(server_->store()->VerifyIndexes());
}

// `offer` with only the named fields set.
v1::Offer OnlyFields(const v1::Offer& offer, const std::set<std::string>& names) {
  v1::Offer out = offer;
  const google::protobuf::Reflection* reflection = out.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  reflection->ListFields(out, &fields);
  for (const auto* field : fields) {
    if (names.count(field->name()) == 0) reflection->ClearField(&out, field);
  }
  return out;
}

TEST_F(CatalogServiceTest, ReadMaskKeepsOnlyTheNamedFields) {
  ASSERT_TRUE(PutProvider(Provider("buron")).ok());
  v1::Offer located = Offer("buron/1", "buron");
  (*located.mutable_descriptions())["fr"] = "Visite et dégustation au buron.";
  located.mutable_capacity()->set_max_persons(12);
  located.add_tags("tasting");
  located.mutable_location()->set_latitude(45.15);
  located.mutable_location()->set_longitude(2.5);
  ASSERT_TRUE(PutOffer(located).ok());
  ASSERT_TRUE(PutOffer(Offer("buron/2", "buron")).ok());  // located where its provider is

  v1::SearchOffersRequest request;
  request.add_sub_kinds(v1::OFFER_SUB_KIND_GASTRONOMY);
  request.mutable_near()->mutable_point()->set_latitude(45.14);
  request.mutable_near()->mutable_point()->set_longitude(2.49);
  request.mutable_near()->set_radius_km(20);
  v1::SearchOffersResponse full;
  ASSERT_TRUE(stub_->SearchOffers(Context().get(), request, &full).ok());
  ASSERT_EQ(2, full.results_size());
  ASSERT_TRUE(full.results(1).offer().has_location());  // the provider's

  for (const std::set<std::string>& names : std::vector<std::set<std::string>>{
           {"id", "title", "location"}, {"id", "prices", "capacity", "tags"}, {"descriptions"}}) {
    v1::SearchOffersRequest masked = request;
    for (const std::string& name : names) masked.mutable_read_mask()->add_paths(name);
    v1::SearchOffersResponse page;
    ASSERT_TRUE(stub_->SearchOffers(Context().get(), masked, &page).ok());
    ASSERT_EQ(full.results_size(), page.results_size());
    for (int i = 0; i < page.results_size(); ++i) {
      EXPECT_EQ(OnlyFields(full.results(i).offer(), names).SerializeAsString(),
                page.results(i).offer().SerializeAsString());
      EXPECT_EQ(full.results(i).distance_km(), page.results(i).distance_km());
    }
  }
  // "*" is every field.
  v1::SearchOffersRequest star = request;
  star.mutable_read_mask()->add_paths("*");
  v1::SearchOffersResponse page;
  ASSERT_TRUE(stub_->SearchOffers(Context().get(), star, &page).ok());
  EXPECT_EQ(full.SerializeAsString(), page.SerializeAsString());

  // A walk may change its mask between pages.
  request.set_page_size(1);
  request.mutable_read_mask()->add_paths("id");
  ASSERT_TRUE(stub_->SearchOffers(Context().get(), request, &page).ok());
  ASSERT_FALSE(page.next_page_token().empty());
  request.set_page_token(page.next_page_token());
  request.mutable_read_mask()->add_paths("title");
  ASSERT_TRUE(stub_->SearchOffers(Context().get(), request, &page).ok());
  ASSERT_EQ(1, page.results_size());
  EXPECT_EQ("buron/2", page.results(0).offer().id());
  EXPECT_EQ("Dégustation de Salers", page.results(0).offer().title());
  EXPECT_EQ(0, page.results(0).offer().prices_size());

  // A path that is not a top-level field of Offer is refused, named.
  request.clear_page_token();
  request.mutable_read_mask()->add_paths("capacity.max_persons");
  grpc::Status s = stub_->SearchOffers(Context().get(), request, &page);
  EXPECT_EQ(grpc::StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_NE(std::string::npos, s.error_message().find("read_mask.paths[2]")) << s.error_message();
}

TEST_F(CatalogServiceTest, ServesTheDemoCatalog) {
  server_.reset();
  testing::TempDir demo_data;
  ServerOptions options;
  options.require_keys = false;
  options.listen = "127.0.0.1:0";
  options.data_dir = demo_data.Sub("data");
  options.demo_dir = testing::ProjectPath("server/demo");
  auto server = AtableServer::Start(options);
  ASSERT_OK(server);
  stub_ = v1::Catalog::NewStub(grpc::CreateChannel((*server)->address(), grpc::InsecureChannelCredentials()));
  v1::Offer offer;
  ASSERT_TRUE(GetOffer("af-15110-arev-hotel/stay", &offer).ok());
  EXPECT_EQ("Arev Hôtel", offer.title());
  EXPECT_EQ(2, offer.classification().level());
  EXPECT_GT(offer.prices(0).min_amount_cents(), 0);
  uint64_t revision = (*server)->store()->revision();
  EXPECT_GT(revision, 1000u);
  // A second start on the same folder does not load the demo again.
  server->reset();
  server = AtableServer::Start(options);
  ASSERT_OK(server);
  EXPECT_EQ(revision, (*server)->store()->revision());
}

}  // namespace
}  // namespace atable
