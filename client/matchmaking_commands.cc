#include "client/matchmaking_commands.h"

#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "atable/v1/matchmaking.grpc.pb.h"
#include "client/format.h"
#include "google/protobuf/util/json_util.h"

namespace atable::cli {
namespace {

struct Args {
  std::string id, file, etag, event;
  std::vector<std::string> buyers, providers, requests, refusals;
  int top = 10, top_per_provider = 10;
  double min_score = 0;
};

// A buyer file holds one buyer, or {"buyers": [...]}.
bool ReadBuyers(const std::string& path, std::vector<v1::Buyer>* out) {
  std::string text;
  if (!ReadInput(path, &text)) return false;
  v1::Buyer one;
  if (google::protobuf::util::JsonStringToMessage(text, &one).ok()) {
    out->push_back(std::move(one));
    return true;
  }
  v1::ListBuyersResponse many;
  auto status = google::protobuf::util::JsonStringToMessage(text, &many);
  if (!status.ok()) {
    std::fprintf(stderr, "atable: %s holds neither a Buyer nor {\"buyers\": [...]} in JSON: %s\n", path.c_str(),
                 status.ToString().c_str());
    return false;
  }
  for (auto& b : *many.mutable_buyers()) out->push_back(std::move(b));
  return true;
}

bool ParsePairs(const std::vector<std::string>& specs, const char* flag,
                google::protobuf::RepeatedPtrField<v1::MeetingRequest>* out) {
  for (const std::string& spec : specs) {
    std::vector<std::string> parts = absl::StrSplit(spec, absl::MaxSplits(':', 1));
    if (parts.size() != 2 || parts[0].empty() || parts[1].empty()) {
      std::fprintf(stderr, "atable: %s %s: expected FROM:TO (two participant ids)\n", flag, spec.c_str());
      return false;
    }
    v1::MeetingRequest* r = out->Add();
    r->set_from(parts[0]);
    r->set_to(parts[1]);
  }
  return true;
}

std::string BuyerLine(const v1::Buyer& b) {
  std::string kind = v1::BuyerKind_Name(b.kind()).substr(11);
  for (char& c : kind) c = c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return absl::StrCat(b.id(), "  ", b.name(), "  (", kind, ", ", b.needs_size(), b.needs_size() == 1 ? " need)" : " needs)");
}

int Suggest(const GlobalOptions& options, const Args& a) {
  v1::SuggestPairsRequest request;
  for (const auto& b : a.buyers) request.add_buyer_ids(b);
  for (const auto& p : a.providers) request.add_provider_ids(p);
  request.set_top_per_buyer(a.top);
  request.set_top_per_provider(a.top_per_provider);
  request.set_min_score(a.min_score);
  request.set_event_id(a.event);
  if (!ParsePairs(a.requests, "--request", request.mutable_requests()) ||
      !ParsePairs(a.refusals, "--refuse", request.mutable_refusals())) {
    return kExitUsage;
  }
  Client client(options);
  v1::SuggestPairsResponse response;
  grpc::Status s = v1::Matchmaking::NewStub(client.channel())->SuggestPairs(client.Context().get(), request, &response);
  if (!s.ok()) return client.Fail(s);
  if (options.json) {
    std::printf("%s\n", ToJson(response).c_str());
    return kExitOk;
  }
  static const char* kAsked[] = {"", "buyer", "provider", "mutual"};
  std::printf("%-5s %-22s %-30s %-6s %-8s %s\n", "RANK", "BUYER", "PROVIDER", "SCORE", "ASKED", "WHY");
  for (const v1::PairSuggestion& p : response.pairs()) {
    std::printf("%-5d %-22s %-30s %-6.2f %-8s %s\n", p.rank(), p.buyer_id().c_str(), p.provider_id().c_str(), p.score(),
                kAsked[p.request()], p.reason().c_str());
  }
  std::printf("%d pairs\n", response.pairs_size());
  return kExitOk;
}

}  // namespace

void AddMatchmakingCommands(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  auto args = std::make_shared<Args>();
  Args& a = *args;
  CLI::App* buyers = app.add_subcommand("buyers", "Read and write buyers and their needs")->require_subcommand(1);

  CLI::App* put = buyers->add_subcommand(
      "put", "Create or replace buyers from a JSON file: one atable.v1.Buyer, or {\"buyers\": [...]}\n"
             "  example: atable buyers put server/demo/buyers.json");
  put->add_option("file", a.file, "JSON file, - for standard input")->required();
  put->callback([&options, exit_code, args] {
    std::vector<v1::Buyer> list;
    if (!ReadBuyers(args->file, &list)) return void(*exit_code = kExitUsage);
    Client client(options);
    auto stub = v1::Matchmaking::NewStub(client.channel());
    for (const v1::Buyer& b : list) {
      v1::UpsertBuyerRequest request;
      *request.mutable_buyer() = b;
      v1::Buyer stored;
      grpc::Status s = stub->UpsertBuyer(client.Context().get(), request, &stored);
      if (!s.ok()) return void(*exit_code = client.Fail(s));
      std::printf("%s\n", options.json ? ToJson(stored).c_str() : ("stored " + BuyerLine(stored)).c_str());
    }
  });

  CLI::App* get = buyers->add_subcommand("get", "Print a buyer and its needs\n  example: atable buyers get demo-giftbox");
  get->add_option("id", a.id, "Buyer id")->required();
  get->callback([&options, exit_code, args] {
    Client client(options);
    v1::GetBuyerRequest request;
    request.set_id(args->id);
    v1::Buyer b;
    grpc::Status s = v1::Matchmaking::NewStub(client.channel())->GetBuyer(client.Context().get(), request, &b);
    if (!s.ok()) return void(*exit_code = client.Fail(s));
    std::printf("%s\n", ToJson(b).c_str());  // needs are structured: JSON is their readable form
  });

  CLI::App* list = buyers->add_subcommand("list", "List the buyers\n  example: atable buyers list");
  list->callback([&options, exit_code] {
    Client client(options);
    auto stub = v1::Matchmaking::NewStub(client.channel());
    v1::ListBuyersRequest request;
    request.set_page_size(1000);
    do {
      v1::ListBuyersResponse page;
      grpc::Status s = stub->ListBuyers(client.Context().get(), request, &page);
      if (!s.ok()) return void(*exit_code = client.Fail(s));
      for (const auto& b : page.buyers()) {
        if (options.json) {
          PrintJsonLine(b);
        } else {
          std::printf("%s\n", BuyerLine(b).c_str());
        }
      }
      request.set_page_token(page.next_page_token());
    } while (!request.page_token().empty());
  });

  CLI::App* del = buyers->add_subcommand("delete", "Delete a buyer\n  example: atable buyers delete demo-giftbox");
  del->add_option("id", a.id, "Buyer id")->required();
  del->add_option("--etag", a.etag, "Delete only if the buyer still has this etag");
  del->callback([&options, exit_code, args] {
    Client client(options);
    v1::DeleteBuyerRequest request;
    request.set_id(args->id);
    request.set_etag(args->etag);
    google::protobuf::Empty e;
    grpc::Status s = v1::Matchmaking::NewStub(client.channel())->DeleteBuyer(client.Context().get(), request, &e);
    if (!s.ok()) return void(*exit_code = client.Fail(s));
    std::printf("deleted buyer %s\n", args->id.c_str());
  });

  CLI::App* pairs = app.add_subcommand("pairs", "Meeting pairs of buyers and providers")->require_subcommand(1);
  CLI::App* suggest = pairs->add_subcommand(
      "suggest", "Rank the provider-buyer pairs to meet, with the reasons\n"
                 "  example: atable pairs suggest --buyer demo-giftbox --top 5\n"
                 "  example: atable pairs suggest --request demo-giftbox:demo-0001 --refuse demo-0002:demo-ce");
  suggest->add_option("--event", a.event, "The participants of this event (and its requests and refusals)");
  suggest->add_option("--buyer", a.buyers, "Only these buyers (repeat; default all)");
  suggest->add_option("--provider", a.providers, "Only these providers (repeat; default all)");
  suggest->add_option("--top", a.top, "Most pairs per buyer")->capture_default_str();
  suggest->add_option("--top-per-provider", a.top_per_provider, "Most pairs per provider")->capture_default_str();
  suggest->add_option("--request", a.requests, "FROM:TO, a meeting asked for (repeat)");
  suggest->add_option("--refuse", a.refusals, "FROM:TO, a meeting refused (repeat)");
  suggest->add_option("--min-score", a.min_score, "Leave out pairs scoring less (0-1)");
  suggest->callback([&options, exit_code, args] { *exit_code = Suggest(options, *args); });
}

}  // namespace atable::cli
