// Trust, through gRPC against a real server: API keys and roles (every RPC with every kind of
// caller), TLS and mutual TLS, oversized and malformed requests, and backups restored.
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <functional>
#include <map>
#include <memory>

#include "absl/strings/str_cat.h"
#include "atable/v1/admin.grpc.pb.h"
#include "atable/v1/catalog.grpc.pb.h"
#include "atable/v1/matchmaking.grpc.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/auth.h"
#include "server/server.h"
#include "tests/test_util.h"

namespace atable {
namespace {

using grpc::StatusCode;

v1::Provider MakeProvider(const std::string& id) {
  v1::Provider p;
  p.set_id(id);
  p.set_name("Ferme " + id);
  p.set_kind(v1::BUSINESS_KIND_PRODUCER);
  return p;
}

v1::Offer MakeOffer(const std::string& provider_id, const std::string& id) {
  v1::Offer o;
  o.set_id(id);
  o.set_provider_id(provider_id);
  o.set_kind(v1::OFFER_KIND_ACTIVITY);
  o.set_sub_kind(v1::OFFER_SUB_KIND_GASTRONOMY);
  o.set_title("Dégustation " + id);
  return o;
}

class TrustTest : public ::testing::Test {
 protected:
  void Start(ServerOptions options = {}) {
    options.listen = options.listen == ServerOptions().listen ? "127.0.0.1:0" : options.listen;
    options.data_dir = dir_.Sub("data");
    auto server = AtableServer::Start(options);
    ASSERT_OK(server);
    server_ = *std::move(server);
    channel_ = grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials());
  }

  std::string Key(v1::Role role, const std::string& provider = "") {
    v1::CreateKeyRequest request;
    request.set_role(role);
    request.set_provider_id(provider);
    auto created = server_->keys()->Create(request, absl::Now());
    EXPECT_OK(created);
    return created.ok() ? created->secret() : "";
  }

  std::unique_ptr<grpc::ClientContext> Context(const std::string& key) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    if (!key.empty()) context->AddMetadata("authorization", "Bearer " + key);
    return context;
  }

  // The fixtures each call may touch, written straight to the store.
  void Reset() {
    absl::Time now = absl::Now();
    for (const char* p : {"p-right", "p-other"}) {
      ASSERT_OK(server_->store()->UpsertProvider(MakeProvider(p), now));
      ASSERT_OK(server_->store()->UpsertOffer(MakeOffer(p, absl::StrCat(p, "/o1")), now));
    }
    v1::Buyer buyer;
    buyer.set_id("b1");
    buyer.set_name("Coffrets");
    buyer.set_kind(v1::BUYER_KIND_GIFT_BOX);
    ASSERT_OK(server_->store()->UpsertBuyer(buyer, now));
  }

  testing::TempDir dir_;
  std::unique_ptr<AtableServer> server_;
  std::shared_ptr<grpc::Channel> channel_;
};

TEST_F(TrustTest, EveryRpcGivesEachCallerExactlyItsStatus) {
  Start();
  const std::string reader = Key(v1::ROLE_READER), other = Key(v1::ROLE_PROVIDER, "p-other"),
                    right = Key(v1::ROLE_PROVIDER, "p-right"), organizer = Key(v1::ROLE_ORGANIZER);
  auto catalog = v1::Catalog::NewStub(channel_);
  auto matchmaking = v1::Matchmaking::NewStub(channel_);
  auto admin = v1::Admin::NewStub(channel_);
  v1::Event event;
  event.set_id("ev");
  event.set_name("Rencontres");
  event.set_date("2026-12-10");
  event.mutable_slots()->set_start("09:00");
  event.mutable_slots()->set_minutes(15);
  event.mutable_slots()->set_count(4);
  event.set_tables(2);
  for (const char* id : {"p-right", "b1"}) {
    v1::EventParticipant* p = event.add_participants();
    p->set_id(id);
    p->set_role(id[0] == 'b' ? "buyer" : "provider");
  }
  v1::EventMeeting* m = event.add_meetings();
  m->set_a("p-right");
  m->set_b("b1");
  m->set_session("any");

  using Call = std::function<StatusCode(const std::string& key)>;
  struct Row {
    const char* rpc;
    Call call;
    std::vector<StatusCode> expected;  // no key, reader, another provider, the right provider, organizer
    int rejected_for_other = 0;        // ImportOffers: records refused to another provider's key
    bool without_offers = false;       // DeleteProvider: p-right's offers are deleted first
  };
  constexpr StatusCode OK = StatusCode::OK, UN = StatusCode::UNAUTHENTICATED, PD = StatusCode::PERMISSION_DENIED;
  const std::vector<StatusCode> reads = {UN, OK, OK, OK, OK}, writes = {UN, PD, PD, OK, OK},
                                organizing = {UN, PD, PD, PD, OK};
  int64_t last_rejected = 0;
  std::vector<Row> rows = {
      {"GetProvider", [&](const std::string& k) {
         v1::GetProviderRequest r; r.set_id("p-right"); v1::Provider out;
         return catalog->GetProvider(Context(k).get(), r, &out).error_code(); }, reads},
      {"GetOffer", [&](const std::string& k) {
         v1::GetOfferRequest r; r.set_id("p-right/o1"); v1::Offer out;
         return catalog->GetOffer(Context(k).get(), r, &out).error_code(); }, reads},
      {"SearchOffers", [&](const std::string& k) {
         v1::SearchOffersRequest r; r.set_text("degustation"); v1::SearchOffersResponse out;
         return catalog->SearchOffers(Context(k).get(), r, &out).error_code(); }, reads},
      {"ListChanges", [&](const std::string& k) {
         auto context = Context(k);
         auto stream = catalog->ListChanges(context.get(), v1::ListChangesRequest());
         v1::Change change;
         while (stream->Read(&change)) {}
         return stream->Finish().error_code(); }, reads},
      {"UpsertProvider", [&](const std::string& k) {
         v1::UpsertProviderRequest r; *r.mutable_provider() = MakeProvider("p-right");
         r.mutable_provider()->set_name("Ferme rénovée"); v1::Provider out;
         return catalog->UpsertProvider(Context(k).get(), r, &out).error_code(); }, writes},
      {"UpsertOffer", [&](const std::string& k) {
         v1::UpsertOfferRequest r; *r.mutable_offer() = MakeOffer("p-right", "p-right/o2"); v1::Offer out;
         return catalog->UpsertOffer(Context(k).get(), r, &out).error_code(); }, writes},
      {"DeleteOffer", [&](const std::string& k) {
         v1::DeleteOfferRequest r; r.set_id("p-right/o1"); google::protobuf::Empty out;
         return catalog->DeleteOffer(Context(k).get(), r, &out).error_code(); }, writes},
      {"DeleteProvider", [&](const std::string& k) {
         v1::DeleteProviderRequest r; r.set_id("p-right"); google::protobuf::Empty out;
         return catalog->DeleteProvider(Context(k).get(), r, &out).error_code(); }, writes, 0, true},
      {"ImportOffers", [&](const std::string& k) {
         auto context = Context(k);
         v1::ImportOffersResponse out;
         auto writer = catalog->ImportOffers(context.get(), &out);
         v1::ImportOffersRequest r;
         *r.add_records()->mutable_provider() = MakeProvider("p-right");
         *r.add_records()->mutable_offer() = MakeOffer("p-right", "p-right/o3");
         writer->Write(r);
         writer->WritesDone();
         StatusCode code = writer->Finish().error_code();
         last_rejected = out.rejected();
         return code; }, {UN, PD, OK, OK, OK}, 2},
      {"UpsertBuyer", [&](const std::string& k) {
         v1::UpsertBuyerRequest r; r.mutable_buyer()->set_id("b2"); r.mutable_buyer()->set_name("CE");
         r.mutable_buyer()->set_kind(v1::BUYER_KIND_WORKS_COUNCIL); v1::Buyer out;
         return matchmaking->UpsertBuyer(Context(k).get(), r, &out).error_code(); }, organizing},
      {"GetBuyer", [&](const std::string& k) {
         v1::GetBuyerRequest r; r.set_id("b1"); v1::Buyer out;
         return matchmaking->GetBuyer(Context(k).get(), r, &out).error_code(); }, organizing},
      {"ListBuyers", [&](const std::string& k) {
         v1::ListBuyersResponse out;
         return matchmaking->ListBuyers(Context(k).get(), v1::ListBuyersRequest(), &out).error_code(); }, organizing},
      {"DeleteBuyer", [&](const std::string& k) {
         v1::DeleteBuyerRequest r; r.set_id("b1"); google::protobuf::Empty out;
         return matchmaking->DeleteBuyer(Context(k).get(), r, &out).error_code(); }, organizing},
      {"SuggestPairs", [&](const std::string& k) {
         v1::SuggestPairsResponse out;
         return matchmaking->SuggestPairs(Context(k).get(), v1::SuggestPairsRequest(), &out).error_code(); },
       organizing},
      {"UpsertEvent", [&](const std::string& k) {
         v1::UpsertEventRequest r; *r.mutable_event() = event; v1::Event out;
         return matchmaking->UpsertEvent(Context(k).get(), r, &out).error_code(); }, organizing},
      {"GetEvent", [&](const std::string& k) {
         v1::GetEventRequest r; r.set_id("ev"); v1::Event out;
         return matchmaking->GetEvent(Context(k).get(), r, &out).error_code(); }, organizing},
      {"BuildSchedule", [&](const std::string& k) {
         auto context = Context(k);
         v1::BuildScheduleRequest r; r.set_event_id("ev"); r.set_time_limit_seconds(5);
         auto stream = matchmaking->BuildSchedule(context.get(), r);
         v1::BuildScheduleResponse message;
         while (stream->Read(&message)) {}
         return stream->Finish().error_code(); }, organizing},
      {"GetAgenda", [&](const std::string& k) {
         v1::GetAgendaRequest r; r.set_event_id("ev"); v1::Agenda out;
         return matchmaking->GetAgenda(Context(k).get(), r, &out).error_code(); }, organizing},
      {"CreateKey", [&](const std::string& k) {
         v1::CreateKeyRequest r; r.set_role(v1::ROLE_READER); v1::CreateKeyResponse out;
         return admin->CreateKey(Context(k).get(), r, &out).error_code(); }, organizing},
      {"ListKeys", [&](const std::string& k) {
         v1::ListKeysResponse out;
         return admin->ListKeys(Context(k).get(), v1::ListKeysRequest(), &out).error_code(); }, organizing},
      {"RevokeKey", [&](const std::string& k) {
         v1::RevokeKeyRequest r; r.set_id("000000000000"); google::protobuf::Empty out;
         return admin->RevokeKey(Context(k).get(), r, &out).error_code(); }, {UN, PD, PD, PD, StatusCode::NOT_FOUND}},
      {"CreateBackup", [&](const std::string& k) {
         v1::CreateBackupRequest r; r.set_directory(dir_.Sub("backups")); v1::CreateBackupResponse out;
         return admin->CreateBackup(Context(k).get(), r, &out).error_code(); }, organizing},
  };
  const std::vector<std::pair<const char*, std::string>> callers = {
      {"no key", ""}, {"reader", reader}, {"another provider", other}, {"the provider", right}, {"organizer", organizer}};
  for (const Row& row : rows) {
    for (size_t c = 0; c < callers.size(); ++c) {
      Reset();
      if (row.without_offers) {
        auto ids = server_->store()->ListOfferIds("p-right");
        for (const std::string& id : *ids) EXPECT_OK(server_->store()->DeleteOffer(id));
      }
      uint64_t revision = server_->store()->revision();
      StatusCode code = row.call(callers[c].second);
      EXPECT_EQ(row.expected[c], code) << row.rpc << " by " << callers[c].first;
      if (code == StatusCode::UNAUTHENTICATED || code == StatusCode::PERMISSION_DENIED) {
        EXPECT_EQ(revision, server_->store()->revision()) << row.rpc << " by " << callers[c].first << " wrote";
      }
      if (row.rejected_for_other > 0 && c == 2) {
        EXPECT_EQ(row.rejected_for_other, last_rejected);
      }
    }
  }
  // Health stays open.
  auto health = grpc::health::v1::Health::NewStub(channel_);
  grpc::health::v1::HealthCheckResponse status;
  EXPECT_TRUE(health->Check(Context("").get(), grpc::health::v1::HealthCheckRequest(), &status).ok());
}

TEST_F(TrustTest, ProvidersCannotTakeOverOffersAndRevokedKeysStopWorking) {
  Start();
  Reset();
  const std::string other = Key(v1::ROLE_PROVIDER, "p-other");
  auto catalog = v1::Catalog::NewStub(channel_);
  // Moving p-right's offer under p-other is writing p-right's record.
  v1::UpsertOfferRequest steal;
  *steal.mutable_offer() = MakeOffer("p-other", "p-right/o1");
  v1::Offer out;
  grpc::Status s = catalog->UpsertOffer(Context(other).get(), steal, &out);
  EXPECT_EQ(StatusCode::PERMISSION_DENIED, s.error_code());
  EXPECT_NE(std::string::npos, s.error_message().find("belongs to provider p-right")) << s.error_message();
  EXPECT_EQ("p-right", server_->store()->GetOffer("p-right/o1")->provider_id());

  v1::GetOfferRequest get;
  get.set_id("p-other/o1");
  EXPECT_TRUE(catalog->GetOffer(Context(other).get(), get, &out).ok());
  std::string id = other.substr(7, 12);
  ASSERT_OK(server_->keys()->Revoke(id));
  EXPECT_EQ(StatusCode::UNAUTHENTICATED, catalog->GetOffer(Context(other).get(), get, &out).error_code());
  EXPECT_EQ(StatusCode::UNAUTHENTICATED, catalog->GetOffer(Context("atable_nope").get(), get, &out).error_code());
  std::string forged = other;
  forged.back() = forged.back() == '0' ? '1' : '0';
  EXPECT_EQ(StatusCode::UNAUTHENTICATED, catalog->GetOffer(Context(forged).get(), get, &out).error_code());

  // Keys survive a restart, stored only as hashes.
  const std::string reader = Key(v1::ROLE_READER);
  server_.reset();
  Start();
  EXPECT_TRUE(v1::Catalog::NewStub(channel_)->GetOffer(Context(reader).get(), get, &out).ok());
  auto stored = server_->store()->ListKeys();
  ASSERT_OK(stored);
  for (const std::string& value : *stored) {
    EXPECT_EQ(std::string::npos, value.find(reader.substr(20))) << "a secret is stored in clear";
  }
}

TEST_F(TrustTest, OversizedAndMalformedRequestsChangeNothing) {
  Start();
  Reset();
  const std::string organizer = Key(v1::ROLE_ORGANIZER);
  auto catalog = v1::Catalog::NewStub(channel_);
  uint64_t revision = server_->store()->revision();
  v1::Offer before = *server_->store()->GetOffer("p-right/o1");
  auto put = [&](const v1::Offer& o) {
    v1::UpsertOfferRequest r;
    *r.mutable_offer() = o;
    v1::Offer out;
    return catalog->UpsertOffer(Context(organizer).get(), r, &out);
  };
  v1::Offer huge = before;
  (*huge.mutable_descriptions())["fr"] = std::string(9 << 20, 'a');  // beyond the 8 MiB message limit
  EXPECT_EQ(StatusCode::RESOURCE_EXHAUSTED, put(huge).error_code());
  v1::Offer long_title = before;
  long_title.set_title(std::string(5000, 'x'));
  grpc::Status s = put(long_title);
  EXPECT_EQ(StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_NE(std::string::npos, s.error_message().find("offer.title")) << s.error_message();
  v1::Offer many_tags = before;
  for (int i = 0; i < 500; ++i) many_tags.add_tags(absl::StrCat("t", i));
  s = put(many_tags);
  EXPECT_EQ(StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_NE(std::string::npos, s.error_message().find("offer.tags")) << s.error_message();
  v1::SearchOffersRequest search;
  search.set_page_size(5000);
  v1::SearchOffersResponse page;
  s = catalog->SearchOffers(Context(organizer).get(), search, &page);
  EXPECT_EQ(StatusCode::INVALID_ARGUMENT, s.error_code());
  EXPECT_NE(std::string::npos, s.error_message().find("page_size")) << s.error_message();
  // Invalid UTF-8 and a truncated message, sent as raw bytes.
  grpc::GenericStub generic(channel_);
  for (std::string bytes : {std::string("\x0a\x05\x0a\x03\xff\xfe\x41", 7), std::string("\x0a\x40\x0a\x03", 4)}) {
    grpc::Slice slice(bytes);
    grpc::ByteBuffer request(&slice, 1), response;
    grpc::Status status;
    bool done = false;
    std::mutex mu;
    std::condition_variable cv;
    auto context = Context(organizer);
    generic.UnaryCall(context.get(), "/atable.v1.Catalog/UpsertOffer", grpc::StubOptions(), &request, &response,
                      [&](grpc::Status st) {
                        std::lock_guard<std::mutex> lock(mu);
                        status = st;
                        done = true;
                        cv.notify_one();
                      });
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
    EXPECT_EQ(StatusCode::INVALID_ARGUMENT, status.error_code()) << status.error_message();
  }
  EXPECT_EQ(revision, server_->store()->revision());
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(before, *server_->store()->GetOffer("p-right/o1")));
}

TEST_F(TrustTest, BackupsRestoreEveryRecord) {
  Start();
  const std::string organizer = Key(v1::ROLE_ORGANIZER);
  absl::Time now = absl::Now();
  for (int p = 0; p < 20; ++p) {
    std::string pid = absl::StrCat("prov-", p);
    ASSERT_OK(server_->store()->UpsertProvider(MakeProvider(pid), now));
    for (int o = 0; o < 30; ++o) ASSERT_OK(server_->store()->UpsertOffer(MakeOffer(pid, absl::StrCat(pid, "/", o)), now));
  }
  std::vector<std::string> providers, offers;
  ASSERT_OK(server_->store()->ForEachProvider([&](const v1::Provider& p) { return providers.push_back(p.SerializeAsString()), true; }));
  ASSERT_OK(server_->store()->ForEachOffer([&](const v1::Offer& o) { return offers.push_back(o.SerializeAsString()), true; }));
  v1::CreateBackupRequest request;
  request.set_directory(dir_.Sub("backups"));
  v1::CreateBackupResponse backup;
  ASSERT_TRUE(v1::Admin::NewStub(channel_)->CreateBackup(Context(organizer).get(), request, &backup).ok());
  EXPECT_EQ(server_->store()->revision(), backup.revision());
  EXPECT_GT(backup.size_bytes(), 0u);
  // Writes after the backup are not in it.
  ASSERT_OK(server_->store()->UpsertOffer(MakeOffer("prov-0", "prov-0/late"), now));
  server_.reset();

  EXPECT_EQ(absl::StatusCode::kFailedPrecondition,
            CatalogStore::RestoreLatestBackup(dir_.Sub("backups"), dir_.Sub("data")).code());
  ASSERT_OK(CatalogStore::RestoreLatestBackup(dir_.Sub("backups"), dir_.Sub("restored")));
  auto restored = CatalogStore::Open(dir_.Sub("restored"));
  ASSERT_OK(restored);
  EXPECT_EQ(backup.revision(), (*restored)->revision());
  std::vector<std::string> got_providers, got_offers;
  ASSERT_OK((*restored)->ForEachProvider([&](const v1::Provider& p) { return got_providers.push_back(p.SerializeAsString()), true; }));
  ASSERT_OK((*restored)->ForEachOffer([&](const v1::Offer& o) { return got_offers.push_back(o.SerializeAsString()), true; }));
  EXPECT_EQ(providers, got_providers);
  EXPECT_EQ(offers, got_offers);
  EXPECT_OK((*restored)->VerifyIndexes());
  EXPECT_EQ(1u, (*restored)->ListKeys()->size()) << "keys come back with the data";
}

// Certificates made for the test by the openssl command: a CA, a server certificate for
// localhost and 127.0.0.1, and a client certificate.
class TlsTest : public TrustTest {
 protected:
  void SetUp() override {
    std::string d = dir_.path();
    std::string script = absl::StrCat(
        "cd ", d, " && ( openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 ",
        "-subj '/CN=atable test CA' && ",
        "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost && ",
        "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > san.ext && ",
        "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 ",
        "-extfile san.ext && ",
        "openssl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=partner && ",
        "openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out client.pem -days 2 && ",
        "openssl req -x509 -newkey rsa:2048 -nodes -keyout other-ca.key -out other-ca.pem -days 2 -subj /CN=other",
        " ) > openssl.log 2>&1");
    ASSERT_EQ(0, std::system(script.c_str())) << testing::ReadFileOrDie(d + "/openssl.log");
  }
  std::string Pem(const std::string& name) { return testing::ReadFileOrDie(dir_.Sub(name)); }
  ServerOptions TlsOptions(bool mutual) {
    ServerOptions options;
    options.require_keys = false;
    options.tls_cert_file = dir_.Sub("server.pem");
    options.tls_key_file = dir_.Sub("server.key");
    if (mutual) options.tls_client_ca_file = dir_.Sub("ca.pem");
    return options;
  }
  StatusCode Health(std::shared_ptr<grpc::ChannelCredentials> credentials) {
    auto channel = grpc::CreateChannel(server_->address(), credentials);
    grpc::health::v1::HealthCheckResponse status;
    auto context = Context("");
    context->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    return grpc::health::v1::Health::NewStub(channel)
        ->Check(context.get(), grpc::health::v1::HealthCheckRequest(), &status)
        .error_code();
  }
};

TEST_F(TlsTest, ServesTlsAndRefusesPlaintext) {
  Start(TlsOptions(false));
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = Pem("ca.pem");
  EXPECT_EQ(StatusCode::OK, Health(grpc::SslCredentials(ssl)));
  EXPECT_EQ(StatusCode::UNAVAILABLE, Health(grpc::InsecureChannelCredentials()));
  grpc::SslCredentialsOptions wrong_ca;
  wrong_ca.pem_root_certs = Pem("other-ca.pem");  // a CA that did not sign the server's certificate
  EXPECT_EQ(StatusCode::UNAVAILABLE, Health(grpc::SslCredentials(wrong_ca)));
}

TEST_F(TlsTest, MutualTlsNeedsAClientCertificate) {
  Start(TlsOptions(true));
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = Pem("ca.pem");
  EXPECT_EQ(StatusCode::UNAVAILABLE, Health(grpc::SslCredentials(ssl)));
  ssl.pem_cert_chain = Pem("client.pem");
  ssl.pem_private_key = Pem("client.key");
  EXPECT_EQ(StatusCode::OK, Health(grpc::SslCredentials(ssl)));
  EXPECT_EQ(StatusCode::UNAVAILABLE, Health(grpc::InsecureChannelCredentials()));
}

TEST_F(TlsTest, PlaintextStaysOnLoopbackUnlessInsecureIsSaid) {
  ServerOptions options;
  options.listen = "0.0.0.0:0";
  options.data_dir = dir_.Sub("data");
  auto refused = AtableServer::Start(options);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(absl::StatusCode::kFailedPrecondition, refused.status().code());
  EXPECT_NE(std::string::npos, refused.status().message().find("--insecure")) << refused.status();
  options.insecure = true;
  EXPECT_OK(AtableServer::Start(options));
}

}  // namespace
}  // namespace atable
