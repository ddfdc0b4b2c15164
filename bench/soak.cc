// soak: a bounded run of mixed load against a running atable-server at saturation: partner
// searches, offer upserts, change-feed followers and schedule builds, all at once. Every interval
// it prints the calls, the errors, p50/p99 latencies and the server's RSS (read from /proc), so a
// leak or a slow-down over time shows. Driven by bench/soak, which starts the server.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "atable/v1/catalog.grpc.pb.h"
#include "atable/v1/matchmaking.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "server/core/communes.h"
#include "server/core/demo_catalog.h"
#include "server/core/rng.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "The server's address");
ABSL_FLAG(std::string, token, "", "An organizer key");
ABSL_FLAG(int, pid, 0, "The server's process id, for its RSS");
ABSL_FLAG(int, seconds, 600, "How long the run lasts");
ABSL_FLAG(int, interval, 30, "Seconds between two reports");
ABSL_FLAG(int, searchers, 3, "Concurrent search clients");
ABSL_FLAG(int, writers, 1, "Concurrent upsert clients");
ABSL_FLAG(int, followers, 2, "Change-feed followers");
ABSL_FLAG(int, providers, 20000, "Generated providers imported before the run (about 2 offers each)");
ABSL_FLAG(std::string, communes, "", "Gazetteer for the generated catalog (client/data/...)");
ABSL_FLAG(std::string, event, "cantal-2026", "Event whose schedule is rebuilt in a loop ('' for none)");

namespace atable {
namespace {

using Clock = std::chrono::steady_clock;

// Latencies and counts of one kind of call over one interval.
struct Window {
  std::vector<double> ms;
  long errors = 0;
};

class Recorder {
 public:
  void Add(const std::string& kind, double ms, bool ok) {
    std::lock_guard<std::mutex> lock(mu_);
    Window& w = windows_[kind];
    w.ms.push_back(ms);
    if (!ok) ++w.errors, ++total_errors_;
  }
  std::map<std::string, Window> Take() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(windows_, {});
  }
  long total_errors() {
    std::lock_guard<std::mutex> lock(mu_);
    return total_errors_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, Window> windows_;
  long total_errors_ = 0;
};

double Percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  size_t k = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

long RssMiB(int pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6)) / 1024;
  }
  return -1;
}

std::unique_ptr<grpc::ClientContext> Context(int seconds = 30) {
  auto c = std::make_unique<grpc::ClientContext>();
  c->set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(seconds));
  if (!absl::GetFlag(FLAGS_token).empty()) c->AddMetadata("authorization", "Bearer " + absl::GetFlag(FLAGS_token));
  return c;
}

std::vector<v1::SearchOffersRequest> Searches() {
  std::vector<v1::SearchOffersRequest> out;
  v1::SearchOffersRequest q;
  q.add_sub_kinds(v1::OFFER_SUB_KIND_SELF_CATERING);
  q.set_persons(6);
  q.mutable_price()->set_unit(v1::PRICE_UNIT_PER_WEEK);
  q.mutable_price()->set_max_amount_cents(90000);
  q.set_sort(v1::SORT_ORDER_PRICE_ASCENDING);
  out.push_back(q);
  q.Clear();
  q.add_kinds(v1::OFFER_KIND_ACTIVITY);
  q.add_tags_any("spa");
  q.add_tags_any("gastronomy");
  q.mutable_near()->mutable_point()->set_latitude(44.93);
  q.mutable_near()->mutable_point()->set_longitude(2.44);
  q.mutable_near()->set_radius_km(40);
  q.set_sort(v1::SORT_ORDER_DISTANCE);
  out.push_back(q);
  q.Clear();
  q.set_text("gite");
  q.set_departement("15");
  out.push_back(q);
  q.Clear();
  q.set_text("chaudes aigues");
  q.set_include_facets(true);
  out.push_back(q);
  for (auto& r : out) r.set_page_size(50);
  return out;
}

void Run() {
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_server), grpc::InsecureChannelCredentials());
  auto catalog = v1::Catalog::NewStub(channel);
  auto matchmaking = v1::Matchmaking::NewStub(channel);

  // The catalog first: generated providers and offers through ImportOffers.
  if (absl::GetFlag(FLAGS_providers) > 0) {
    std::ifstream in(absl::GetFlag(FLAGS_communes));
    std::stringstream text;
    text << in.rdbuf();
    absl::StatusOr<CommuneIndex> communes = CommuneIndex::FromCsv(text.str());
    if (!communes.ok()) {
      std::fprintf(stderr, "soak: %s\n", communes.status().ToString().c_str());
      std::exit(2);
    }
    DemoCatalog generated = GenerateCatalog(*communes, absl::GetFlag(FLAGS_providers), 7);
    auto context = Context(600);
    v1::ImportOffersResponse summary;
    auto writer = catalog->ImportOffers(context.get(), &summary);
    v1::ImportOffersRequest message;
    auto flush = [&] {
      writer->Write(message);
      message.clear_records();
    };
    for (const auto& p : generated.providers) {
      *message.add_records()->mutable_provider() = p;
      if (message.records_size() == 500) flush();
    }
    for (const auto& o : generated.offers) {
      *message.add_records()->mutable_offer() = o;
      if (message.records_size() == 500) flush();
    }
    flush();
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    std::printf("loaded: %lld created, %lld unchanged, %lld rejected (%s)\n", static_cast<long long>(summary.created()),
                static_cast<long long>(summary.unchanged()), static_cast<long long>(summary.rejected()),
                s.ok() ? "ok" : s.error_message().c_str());
  }

  Recorder rec;
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  const auto searches = Searches();
  for (int i = 0; i < absl::GetFlag(FLAGS_searchers); ++i) {
    threads.emplace_back([&, i] {
      Rng rng(100 + i);
      while (!stop) {
        const auto& q = searches[rng.Below(static_cast<int>(searches.size()))];
        v1::SearchOffersResponse r;
        auto t0 = Clock::now();
        grpc::Status s = catalog->SearchOffers(Context().get(), q, &r);
        rec.Add("search", std::chrono::duration<double, std::milli>(Clock::now() - t0).count(), s.ok());
      }
    });
  }
  for (int i = 0; i < absl::GetFlag(FLAGS_writers); ++i) {
    threads.emplace_back([&, i] {
      Rng rng(200 + i);
      long n = 0;
      v1::UpsertProviderRequest provider;
      provider.mutable_provider()->set_id(absl::StrCat("soak-", i));
      provider.mutable_provider()->set_name("Soak");
      v1::Provider stored;
      (void)catalog->UpsertProvider(Context().get(), provider, &stored);
      while (!stop) {
        v1::UpsertOfferRequest r;
        v1::Offer* o = r.mutable_offer();
        o->set_id(absl::StrCat("soak-", i, "/", n++ % 5000));  // rewrites a bounded set: a flat working set
        o->set_provider_id(absl::StrCat("soak-", i));
        o->set_kind(v1::OFFER_KIND_ACTIVITY);
        o->set_sub_kind(v1::OFFER_SUB_KIND_OUTDOOR_SPORT);
        o->set_title(absl::StrCat("Randonnée ", rng.Below(1000)));
        v1::Price* p = o->add_prices();
        p->set_min_amount_cents(1000 + static_cast<int64_t>(rng.Below(5000)));
        p->set_max_amount_cents(p->min_amount_cents() + 500);
        p->set_unit(v1::PRICE_UNIT_PER_PERSON);
        v1::Offer out;
        auto t0 = Clock::now();
        grpc::Status s = catalog->UpsertOffer(Context().get(), r, &out);
        rec.Add("upsert", std::chrono::duration<double, std::milli>(Clock::now() - t0).count(), s.ok());
      }
    });
  }
  std::atomic<long> followed{0};
  std::vector<std::unique_ptr<grpc::ClientContext>> follow_contexts(absl::GetFlag(FLAGS_followers));
  std::mutex follow_mu;
  for (int i = 0; i < absl::GetFlag(FLAGS_followers); ++i) {
    threads.emplace_back([&, i] {
      std::string resume;
      while (!stop) {
        auto context = Context(absl::GetFlag(FLAGS_seconds) + 60);
        {
          std::lock_guard<std::mutex> lock(follow_mu);
          follow_contexts[i] = std::move(context);
        }
        v1::ListChangesRequest request;
        request.set_follow(true);
        request.set_resume_token(resume);
        auto stream = catalog->ListChanges(follow_contexts[i].get(), request);
        v1::Change change;
        while (stream->Read(&change)) {
          resume = change.resume_token();
          ++followed;
        }
        grpc::Status s = stream->Finish();
        if (!stop) rec.Add("follow", 0, s.ok());
      }
    });
  }
  if (!absl::GetFlag(FLAGS_event).empty()) {
    threads.emplace_back([&] {
      uint64_t seed = 1;
      while (!stop) {
        v1::BuildScheduleRequest r;
        r.set_event_id(absl::GetFlag(FLAGS_event));
        r.set_seed(seed++);
        r.set_time_limit_seconds(5);
        r.set_use_suggestions(true);
        auto context = Context(60);
        auto t0 = Clock::now();
        auto stream = matchmaking->BuildSchedule(context.get(), r);
        v1::BuildScheduleResponse m;
        while (stream->Read(&m)) {}
        grpc::Status s = stream->Finish();
        rec.Add("schedule", std::chrono::duration<double, std::milli>(Clock::now() - t0).count(), s.ok());
      }
    });
  }

  const int pid = absl::GetFlag(FLAGS_pid);
  const int interval = absl::GetFlag(FLAGS_interval), total = absl::GetFlag(FLAGS_seconds);
  std::printf("%6s %9s %8s %8s %9s %8s %9s %9s %7s %7s\n", "t(s)", "search/s", "p50 ms", "p99 ms", "upsert/s",
              "p99 ms", "changes/s", "schedules", "errors", "RSS MiB");
  long first_rss = -1, last_rss = -1, peak_rss = 0;
  std::vector<double> p99s;
  auto start = Clock::now();
  for (int t = interval; t <= total; t += interval) {
    std::this_thread::sleep_until(start + std::chrono::seconds(t));
    auto w = rec.Take();
    long changes = followed.exchange(0);
    long rss = pid > 0 ? RssMiB(pid) : -1;
    if (t >= 60 && first_rss < 0) first_rss = rss;
    last_rss = rss;
    peak_rss = std::max(peak_rss, rss);
    long errors = 0;
    for (auto& [kind, win] : w) errors += win.errors;
    double p99 = Percentile(w["search"].ms, 0.99);
    p99s.push_back(p99);
    std::printf("%6d %9.0f %8.2f %8.2f %9.0f %8.2f %9.0f %9zu %7ld %7ld\n", t,
                w["search"].ms.size() / static_cast<double>(interval), Percentile(w["search"].ms, 0.5), p99,
                w["upsert"].ms.size() / static_cast<double>(interval), Percentile(w["upsert"].ms, 0.99),
                changes / static_cast<double>(interval), w["schedule"].ms.size(), errors, rss);
    std::fflush(stdout);
  }
  stop = true;
  {
    std::lock_guard<std::mutex> lock(follow_mu);
    for (auto& c : follow_contexts) {
      if (c) c->TryCancel();
    }
  }
  for (auto& t : threads) t.join();
  std::vector<double> sorted = p99s;
  std::sort(sorted.begin(), sorted.end());
  std::printf("soak: %d s, errors %ld; search p99 per interval: median %.2f ms, max %.2f ms; RSS after "
              "warm-up %ld MiB, at the end %ld MiB (%+ld), peak %ld MiB\n",
              total, rec.total_errors(), sorted.empty() ? 0 : sorted[sorted.size() / 2],
              sorted.empty() ? 0 : sorted.back(), first_rss, last_rss, last_rss - first_rss, peak_rss);
}

}  // namespace
}  // namespace atable

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  atable::Run();
  return 0;
}
