// catalog_bench: the partner-facing catalog at scale. Generates a seeded catalog of the communes of
// Auvergne, imports it into a fresh atable-server through ImportOffers, runs a fixed mix of
// partners' searches over gRPC beside an empty call (the health check), and, given a PostgreSQL
// connection, loads the same data there with COPY and runs the same mix through libpq with the
// same concurrency. Prints every figure; see bench/README.md for the method.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <regex>
#include <sstream>
#include <thread>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "atable/v1/catalog.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "server/core/demo_catalog.h"
#include "server/core/offer_index.h"
#include "server/core/text.h"
#include "server/core/validation.h"
#ifdef ATABLE_BENCH_PG
#include <libpq-fe.h>
#endif

ABSL_FLAG(std::string, server_binary, "build-bench/server/atable-server", "atable-server to start");
ABSL_FLAG(std::string, communes, "../shared/data/communes/auvergne_communes.csv", "Communes CSV");
ABSL_FLAG(int, offers, 1000000, "Offers to generate (about two per provider)");
ABSL_FLAG(int, clients, 4, "Concurrent clients (threads, one channel or connection each)");
ABSL_FLAG(double, seconds, 10, "Length of each measured run");
ABSL_FLAG(std::string, data_dir, "/tmp/atable-bench-data", "Data folder of the server (wiped)");
ABSL_FLAG(std::string, only, "", "Run only the mix's queries whose name contains this");
ABSL_FLAG(bool, in_process, false,
          "Only time OfferIndex::Search on an index built in this process (no server, no gRPC)");
ABSL_FLAG(int, build_rounds, 0,
          "With --in_process: build the index this many times more, each build timed apart "
          "(providers, then offers), before the queries");
ABSL_FLAG(bool, facets, false, "Ask for the facet counts wherever the mix asks for the total count");
ABSL_FLAG(std::string, pg, "", "libpq connection string of an empty PostgreSQL database; empty: skip");

namespace atable {
namespace {

using Clock = std::chrono::steady_clock;

double Since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

long RssKb(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

// CPU seconds the process has used (user + system).
double CpuSeconds(pid_t pid) {
  std::ifstream in(absl::StrCat("/proc/", pid, "/stat"));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = stat.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(stat.substr(close + 2));
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && fields >> f; ++i) {
    if (i == 14) utime = std::stol(f);
    if (i == 15) stime = std::stol(f);
  }
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

// CPU seconds this process has used (user + system, every thread).
double OwnCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * (u.ru_utime.tv_usec + u.ru_stime.tv_usec);
}

// Waits until the server is idle (its background compactions done: under 5 % of a core for 2 s),
// at most `limit_s`; returns the seconds waited.
double WaitUntilIdle(pid_t pid, double limit_s) {
  auto start = std::chrono::steady_clock::now();
  int quiet = 0;
  double last = CpuSeconds(pid), waited = 0;
  while (quiet < 2 && waited < limit_s) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
    double now = CpuSeconds(pid);
    quiet = now - last < 0.05 ? quiet + 1 : 0;
    last = now;
    waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  return waited;
}

struct Stats {
  double p50_us = 0, p99_us = 0, per_second = 0;
  size_t calls = 0, errors = 0;
  double server_cpu_us = -1, client_cpu_us = -1;  // CPU a call, when measured
};

// Runs `call(client, i)` from `clients` threads for `seconds`; each call is timed.
Stats Measure(int clients, double seconds, const std::function<bool(int, uint64_t)>& call) {
  std::vector<std::vector<double>> latencies(clients);
  std::atomic<size_t> errors{0};
  auto t0 = Clock::now();
  auto end = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (uint64_t i = static_cast<uint64_t>(c) * 7919; Clock::now() < end; ++i) {
        auto start = Clock::now();
        if (!call(c, i)) ++errors;
        latencies[c].push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
      }
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = Since(t0);
  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  Stats s;
  s.calls = all.size();
  s.errors = errors;
  if (!all.empty()) {
    s.p50_us = all[all.size() / 2];
    s.p99_us = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  }
  s.per_second = static_cast<double>(all.size()) / elapsed;
  return s;
}

void Print(const std::string& name, int clients, const Stats& s) {
  std::printf("%-34s clients %d  calls %7zu  errors %zu  p50 %8.0f us  p99 %8.0f us  %9.0f calls/s",
              name.c_str(), clients, s.calls, s.errors, s.p50_us, s.p99_us, s.per_second);
  if (s.server_cpu_us >= 0) {
    std::printf("  CPU a call: server %.0f us, client %.0f us", s.server_cpu_us, s.client_cpu_us);
  }
  std::printf("\n");
}

// One client calling `empty` and `call` in alternating blocks of 250 ms for `seconds` in all, so
// that both meet the same minutes of a machine whose speed drifts, each block keeping its own
// calls' warm state (an empty call right after a search takes longer than after another empty
// call): the p50 of each, and how many calls of each were timed.
struct Interleaved {
  double empty_p50_us = 0, call_p50_us = 0;
  size_t empty_calls = 0, calls = 0, errors = 0;
};
Interleaved MeasureInterleaved(double seconds, const std::function<bool(int, uint64_t)>& empty,
                               const std::function<bool(int, uint64_t)>& call) {
  const auto block = std::chrono::milliseconds(250);
  std::vector<double> us[2];
  Interleaved r;
  uint64_t i[2] = {0, 0};  // each kind counts its own calls: the mix's queries follow in turn
  auto end = Clock::now() +
             std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  for (int kind = 0; Clock::now() < end; kind = 1 - kind) {
    const auto& f = kind == 0 ? empty : call;
    for (auto block_end = Clock::now() + block; Clock::now() < block_end; ++i[kind]) {
      auto start = Clock::now();
      if (!f(0, i[kind])) ++r.errors;
      us[kind].push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    }
  }
  for (auto& v : us) std::sort(v.begin(), v.end());
  r.empty_calls = us[0].size(), r.calls = us[1].size();
  if (!us[0].empty()) r.empty_p50_us = us[0][us[0].size() / 2];
  if (!us[1].empty()) r.call_p50_us = us[1][us[1].size() / 2];
  return r;
}

// Measure(), also reporting the CPU the server (process `pid`) and this process used a call.
Stats MeasureWithCpu(pid_t pid, int clients, double seconds, const std::function<bool(int, uint64_t)>& call) {
  const double server0 = CpuSeconds(pid), client0 = OwnCpuSeconds();
  Stats s = Measure(clients, seconds, call);
  if (s.calls > 0) {
    s.server_cpu_us = 1e6 * (CpuSeconds(pid) - server0) / static_cast<double>(s.calls);
    s.client_cpu_us = 1e6 * (OwnCpuSeconds() - client0) / static_cast<double>(s.calls);
  }
  return s;
}

// One query of the partners' mix, as filters both engines understand.
struct MixQuery {
  std::string name;
  std::vector<v1::OfferSubKind> sub_kinds;
  v1::OfferKind kind = v1::OFFER_KIND_UNSPECIFIED;
  v1::PriceUnit unit = v1::PRICE_UNIT_UNSPECIFIED;
  int64_t price_min = 0, price_max = 0;
  int persons = 0;
  int min_class = 0;
  std::string departement;
  std::vector<std::string> tags_any, tags_all;
  bool near = false;
  double lat = 0, lon = 0, radius_km = 0;
  bool july = false;  // open in July 2027
  std::string text;
  v1::SortOrder sort = v1::SORT_ORDER_UNSPECIFIED;
};

std::vector<MixQuery> PartnerMix() {
  struct Town { double lat, lon; };
  const Town clermont{45.7797, 3.0863}, aurillac{44.9245, 2.4416}, le_puy{45.0434, 3.8856},
      vichy{46.1277, 3.4259}, saint_flour{45.0279, 3.0832}, issoire{45.5442, 3.2490};
  std::vector<MixQuery> mix;
  auto near = [](MixQuery q, Town t, double km) {
    q.near = true, q.lat = t.lat, q.lon = t.lon, q.radius_km = km;
    return q;
  };
  MixQuery rental;  // a holiday-rental platform: self-catering for 6, under 900 EUR a week
  rental.name = "rental: gite 6p <900/wk 30km";
  rental.sub_kinds = {v1::OFFER_SUB_KIND_SELF_CATERING};
  rental.persons = 6, rental.unit = v1::PRICE_UNIT_PER_WEEK, rental.price_max = 90000;
  rental.sort = v1::SORT_ORDER_PRICE_ASCENDING;
  mix.push_back(near(rental, aurillac, 30));
  mix.push_back(near(rental, clermont, 30));
  MixQuery rental2;
  rental2.name = "rental: gite/guesthouse 4p dept 63";
  rental2.sub_kinds = {v1::OFFER_SUB_KIND_SELF_CATERING, v1::OFFER_SUB_KIND_GUESTHOUSE};
  rental2.persons = 4, rental2.departement = "63", rental2.sort = v1::SORT_ORDER_PRICE_ASCENDING;
  mix.push_back(rental2);
  MixQuery giftbox;  // a gift-box maker: experiences for two under 75 EUR a person
  giftbox.name = "giftbox: spa/tasting duo <75pp 50km";
  giftbox.sub_kinds = {v1::OFFER_SUB_KIND_WELLNESS, v1::OFFER_SUB_KIND_GASTRONOMY};
  giftbox.persons = 2, giftbox.unit = v1::PRICE_UNIT_PER_PERSON, giftbox.price_max = 7500;
  giftbox.tags_any = {"couple", "tasting"};
  giftbox.sort = v1::SORT_ORDER_PRICE_ASCENDING;
  mix.push_back(near(giftbox, vichy, 50));
  MixQuery adventure;
  adventure.name = "giftbox: outdoor 50-150pp dept 15";
  adventure.sub_kinds = {v1::OFFER_SUB_KIND_OUTDOOR_SPORT};
  adventure.persons = 2, adventure.unit = v1::PRICE_UNIT_PER_PERSON;
  adventure.price_min = 5000, adventure.price_max = 15000, adventure.departement = "15";
  mix.push_back(adventure);
  MixQuery council;  // a works council: group stays for 40 in July
  council.name = "council: group stays 40p july";
  council.sub_kinds = {v1::OFFER_SUB_KIND_GROUP_LODGING, v1::OFFER_SUB_KIND_HOLIDAY_VILLAGE, v1::OFFER_SUB_KIND_CAMPSITE};
  council.persons = 40, council.july = true, council.sort = v1::SORT_ORDER_PRICE_ASCENDING;
  mix.push_back(near(council, issoire, 60));
  MixQuery family;
  family.name = "council: family leisure 30p 40km";
  family.kind = v1::OFFER_KIND_ACTIVITY;
  family.tags_all = {"family"}, family.persons = 30;
  mix.push_back(near(family, le_puy, 40));
  MixQuery seller;  // an online seller: 3-star hotels and better
  seller.name = "seller: hotels 3*+ dept 63";
  seller.sub_kinds = {v1::OFFER_SUB_KIND_HOTEL};
  seller.min_class = 3, seller.departement = "63", seller.sort = v1::SORT_ORDER_CLASSIFICATION;
  mix.push_back(seller);
  MixQuery gite_text;
  gite_text.name = "text: gite 20km";
  gite_text.text = "gite";
  mix.push_back(near(gite_text, saint_flour, 20));
  MixQuery town_text;
  town_text.name = "text: chaudes aigues";
  town_text.text = "chaudes aigues";
  mix.push_back(town_text);
  MixQuery tasting_text;
  tasting_text.name = "text: degustation fromage";
  tasting_text.text = "degustation fromage";
  tasting_text.kind = v1::OFFER_KIND_ACTIVITY;
  mix.push_back(tasting_text);
  return mix;
}

v1::SearchOffersRequest ToRequest(const MixQuery& m) {
  v1::SearchOffersRequest q;
  for (auto s : m.sub_kinds) q.add_sub_kinds(s);
  if (m.kind) q.add_kinds(m.kind);
  if (m.unit || m.price_min || m.price_max) {
    q.mutable_price()->set_unit(m.unit);
    q.mutable_price()->set_min_amount_cents(m.price_min);
    q.mutable_price()->set_max_amount_cents(m.price_max);
  }
  q.set_persons(m.persons);
  q.set_min_classification(m.min_class);
  q.set_departement(m.departement);
  for (const auto& t : m.tags_any) q.add_tags_any(t);
  for (const auto& t : m.tags_all) q.add_tags_all(t);
  if (m.near) {
    q.mutable_near()->mutable_point()->set_latitude(m.lat);
    q.mutable_near()->mutable_point()->set_longitude(m.lon);
    q.mutable_near()->set_radius_km(m.radius_km);
  }
  if (m.july) {
    auto* o = q.mutable_open();
    o->mutable_start()->set_year(2027), o->mutable_start()->set_month(7), o->mutable_start()->set_day(1);
    o->mutable_end()->set_year(2027), o->mutable_end()->set_month(7), o->mutable_end()->set_day(31);
  }
  q.set_text(m.text);
  q.set_sort(m.sort);
  q.set_page_size(50);
  return q;
}

#ifdef ATABLE_BENCH_PG
std::string ToSql(const MixQuery& m) {
  std::vector<std::string> where;
  std::string unit = m.unit ? absl::StrCat(" AND p.unit = ", static_cast<int>(m.unit)) : "";
  if (!m.sub_kinds.empty()) {
    std::vector<int> v(m.sub_kinds.begin(), m.sub_kinds.end());
    where.push_back(absl::StrCat("o.sub_kind IN (", absl::StrJoin(v, ","), ")"));
  }
  if (m.kind) where.push_back(absl::StrCat("o.kind = ", static_cast<int>(m.kind)));
  if (m.unit || m.price_min || m.price_max) {
    where.push_back(absl::StrCat("EXISTS (SELECT 1 FROM prices p WHERE p.offer_id = o.id", unit,
                                 " AND p.max_cents >= ", m.price_min,
                                 m.price_max ? absl::StrCat(" AND p.min_cents <= ", m.price_max) : "", ")"));
  }
  if (m.persons) where.push_back(absl::StrFormat("o.max_persons >= %d AND o.min_persons <= %d", m.persons, m.persons));
  if (m.min_class) where.push_back(absl::StrCat("o.class_level >= ", m.min_class));
  if (!m.departement.empty()) where.push_back(absl::StrCat("o.dept = '", m.departement, "'"));
  auto array = [](const std::vector<std::string>& v) {
    return absl::StrCat("ARRAY['", absl::StrJoin(v, "','"), "']::text[]");
  };
  if (!m.tags_any.empty()) where.push_back(absl::StrCat("o.tags && ", array(m.tags_any)));
  if (!m.tags_all.empty()) where.push_back(absl::StrCat("o.tags @> ", array(m.tags_all)));
  std::string point = absl::StrFormat("ll_to_earth(%f, %f)", m.lat, m.lon);
  if (m.near) {
    where.push_back(absl::StrFormat("earth_box(%s, %f) @> ll_to_earth(o.lat, o.lon)", point, m.radius_km * 1000));
    where.push_back(absl::StrFormat("earth_distance(%s, ll_to_earth(o.lat, o.lon)) <= %f", point, m.radius_km * 1000));
  }
  if (m.july) {
    where.push_back("(o.open_ranges IS NULL OR EXISTS (SELECT 1 FROM unnest(o.open_ranges) r "
                    "WHERE r && daterange('2027-07-01', '2027-07-31', '[]')))");
  }
  if (!m.text.empty()) {
    std::vector<std::string> words = TextWords(m.text);
    words.back() += ":*";
    where.push_back(absl::StrCat("o.tsv @@ to_tsquery('simple', '", absl::StrJoin(words, " & "), "')"));
  }
  std::string order = "o.id";
  std::string price = absl::StrCat("(SELECT min(p.min_cents) FROM prices p WHERE p.offer_id = o.id", unit, ")");
  switch (m.sort) {
    case v1::SORT_ORDER_PRICE_ASCENDING: order = absl::StrCat(price, " NULLS LAST, o.id"); break;
    case v1::SORT_ORDER_CLASSIFICATION: order = "o.class_level DESC, o.id"; break;
    default: break;
  }
  return absl::StrCat("SELECT o.id, o.payload, count(*) OVER () FROM offers o WHERE ",
                      where.empty() ? "true" : absl::StrJoin(where, " AND "), " ORDER BY ", order, " LIMIT 50");
}

bool Exec(PGconn* c, const std::string& sql) {
  PGresult* r = PQexec(c, sql.c_str());
  bool ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK ||
            PQresultStatus(r) == PGRES_COPY_IN;
  if (!ok) std::fprintf(stderr, "postgres: %s\n%s\n", PQerrorMessage(c), sql.substr(0, 300).c_str());
  PQclear(r);
  return ok;
}

std::string CopyField(const std::string& s) {
  return absl::StrReplaceAll(s, {{"\\", "\\\\"}, {"\t", " "}, {"\n", " "}, {"\r", " "}});
}

std::string Bytea(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string out = "\\\\x";
  for (unsigned char c : bytes) out += {kHex[c >> 4], kHex[c & 15]};
  return out;
}

void RunPostgres(const DemoCatalog& catalog, const std::vector<MixQuery>& mix, double atable_qps,
                 double import_seconds) {
  std::string conninfo = absl::GetFlag(FLAGS_pg);
  PGconn* c = PQconnectdb(conninfo.c_str());
  if (PQstatus(c) != CONNECTION_OK) {
    std::fprintf(stderr, "postgres: %s\n", PQerrorMessage(c));
    return;
  }
  Exec(c, "CREATE EXTENSION IF NOT EXISTS unaccent; CREATE EXTENSION IF NOT EXISTS cube; "
          "CREATE EXTENSION IF NOT EXISTS earthdistance;");
  Exec(c, "CREATE OR REPLACE FUNCTION f_unaccent(text) RETURNS text AS "
          "$$ SELECT public.unaccent('public.unaccent', $1) $$ LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT");
  Exec(c, "DROP TABLE IF EXISTS prices; DROP TABLE IF EXISTS offers;");
  Exec(c, "CREATE TABLE offers (id text PRIMARY KEY, provider_id text, kind int, sub_kind int, title text, "
          "body text, dept text, insee text, lat float8, lon float8, min_persons int, max_persons int, "
          "class_level int, tags text[], labels text[], open_ranges daterange[], payload bytea, "
          "tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', f_unaccent(title || ' ' || body))) STORED)");
  Exec(c, "CREATE TABLE prices (offer_id text, unit int, min_cents bigint, max_cents bigint)");
  std::map<std::string, const v1::Provider*> providers;
  for (const auto& p : catalog.providers) providers[p.id()] = &p;

  auto t0 = Clock::now();
  Exec(c, "COPY offers (id, provider_id, kind, sub_kind, title, body, dept, insee, lat, lon, min_persons, "
          "max_persons, class_level, tags, labels, open_ranges, payload) FROM STDIN");
  std::string buffer;
  auto flush = [&](bool force) {
    if (buffer.size() > (1 << 20) || (force && !buffer.empty())) {
      PQputCopyData(c, buffer.data(), static_cast<int>(buffer.size()));
      buffer.clear();
    }
  };
  auto date = [](const v1::Date& d) { return absl::StrFormat("%04d-%02d-%02d", d.year(), d.month(), d.day()); };
  for (const v1::Offer& o : catalog.offers) {
    const v1::Provider& p = *providers[o.provider_id()];
    std::string body = p.name() + " " + p.address().commune();
    for (const auto& [l, d] : o.descriptions()) body += " " + d;
    std::vector<std::string> ranges;
    for (const auto& r : o.opening_periods()) ranges.push_back(absl::StrCat("\"[", date(r.start()), ",", date(r.end()), "]\""));
    const v1::GeoPoint& at = o.has_location() ? o.location() : p.location();
    absl::StrAppend(&buffer, CopyField(o.id()), "\t", CopyField(o.provider_id()), "\t", o.kind(), "\t", o.sub_kind(), "\t",
                    CopyField(o.title()), "\t", CopyField(body), "\t", p.address().insee_code().substr(0, 2), "\t",
                    p.address().insee_code(), "\t", at.latitude(), "\t", at.longitude(), "\t",
                    o.capacity().min_persons(), "\t", o.capacity().max_persons(), "\t", o.classification().level(), "\t",
                    "{", absl::StrJoin(o.tags(), ","), "}\t{", absl::StrJoin(o.labels(), ",", [](std::string* out, const std::string& l) {
                      absl::StrAppend(out, "\"", l, "\"");
                    }), "}\t", ranges.empty() ? "\\N" : absl::StrCat("{", absl::StrJoin(ranges, ","), "}"), "\t",
                    Bytea(o.SerializeAsString()), "\n");
    flush(false);
  }
  flush(true);
  PQputCopyEnd(c, nullptr);
  PQclear(PQgetResult(c));
  Exec(c, "COPY prices FROM STDIN");
  for (const v1::Offer& o : catalog.offers) {
    for (const auto& pr : o.prices()) absl::StrAppend(&buffer, CopyField(o.id()), "\t", pr.unit(), "\t", pr.min_amount_cents(), "\t", pr.max_amount_cents(), "\n");
    flush(false);
  }
  flush(true);
  PQputCopyEnd(c, nullptr);
  PQclear(PQgetResult(c));
  double copy_seconds = Since(t0);
  auto t1 = Clock::now();
  for (const char* sql : {
           "CREATE INDEX ON offers (sub_kind)", "CREATE INDEX ON offers (kind)", "CREATE INDEX ON offers (dept)",
           "CREATE INDEX ON offers (insee)", "CREATE INDEX ON offers (max_persons)",
           "CREATE INDEX ON offers (class_level)", "CREATE INDEX ON offers USING gin (tags)",
           "CREATE INDEX ON offers USING gin (tsv)", "CREATE INDEX ON offers USING gist (ll_to_earth(lat, lon))",
           "CREATE INDEX ON prices (offer_id, unit, min_cents)", "ANALYZE offers", "ANALYZE prices"}) {
    Exec(c, sql);
  }
  double index_seconds = Since(t1);
  std::printf("postgres load: COPY %.1f s, indexes and ANALYZE %.1f s, total %.1f s (%.0f offers/s); "
              "atable import / postgres COPY+indexes time ratio %.2f\n",
              copy_seconds, index_seconds, copy_seconds + index_seconds,
              static_cast<double>(catalog.offers.size()) / (copy_seconds + index_seconds),
              import_seconds / (copy_seconds + index_seconds));
  PQfinish(c);

  std::vector<std::string> sqls;
  for (const MixQuery& m : mix) sqls.push_back(ToSql(m));
  int clients = absl::GetFlag(FLAGS_clients);
  std::vector<PGconn*> conns;
  for (int i = 0; i < clients; ++i) conns.push_back(PQconnectdb(conninfo.c_str()));
  // Per query of the mix, one client: rows and latency.
  for (size_t i = 0; i < mix.size(); ++i) {
    Stats s = Measure(1, 1.0, [&](int k, uint64_t) {
      PGresult* r = PQexec(conns[k], sqls[i].c_str());
      bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
      PQclear(r);
      return ok;
    });
    Print("postgres " + mix[i].name, 1, s);
  }
  for (int n : {1, clients}) {
    Stats s = Measure(n, absl::GetFlag(FLAGS_seconds), [&](int k, uint64_t i) {
      PGresult* r = PQexec(conns[k], sqls[i % sqls.size()].c_str());
      bool ok = PQresultStatus(r) == PGRES_TUPLES_OK;
      PQclear(r);
      return ok;
    });
    Print("postgres mix", n, s);
    if (n == clients) std::printf("throughput ratio atable / postgres with %d clients: %.2f\n", n, atable_qps / s.per_second);
  }
  for (PGconn* conn : conns) PQfinish(conn);
}
#endif

// Each query of the mix three ways: with the total count (every match read; with --facets, the
// facet counts too, atable only); as a first page without it (read in price order and stopped
// early where the query allows); and as that page carrying the fields a partner's result list
// shows (read_mask) instead of whole offers.
void MixRequests(const std::vector<MixQuery>& mix, std::vector<v1::SearchOffersRequest>* requests,
                 std::vector<v1::SearchOffersRequest>* first_pages,
                 std::vector<v1::SearchOffersRequest>* listing_pages) {
  for (const auto& m : mix) {
    requests->push_back(ToRequest(m));
    first_pages->push_back(requests->back());
    if (absl::GetFlag(FLAGS_facets)) requests->back().set_include_facets(true);
    first_pages->back().set_skip_total_count(true);
    listing_pages->push_back(first_pages->back());
    for (const char* field : {"id", "provider_id", "kind", "sub_kind", "title", "capacity", "prices",
                              "classification", "location"}) {
      listing_pages->back().mutable_read_mask()->add_paths(field);
    }
  }
}

// --in_process: the mix straight to an OfferIndex built in this process, without gRPC, RocksDB
// or a second process: what searching alone costs. Median of 200 runs of each query, each way.
int RunInProcess(const DemoCatalog& catalog, const std::vector<MixQuery>& mix) {
  // What an import asks of the thread that reads its stream, a record at a time: parsing (into a
  // message reused from record to record, as the server does), validation, and an offer's words;
  // medians of 5 passes over the first 100,000 offers and providers.
  {
    const size_t n =
        std::min<size_t>(100000, std::min(catalog.offers.size(), catalog.providers.size()));
    std::vector<std::string> offer_bytes, provider_bytes;
    for (size_t i = 0; i < n; ++i) {
      offer_bytes.push_back(catalog.offers[i].SerializeAsString());
      provider_bytes.push_back(catalog.providers[i].SerializeAsString());
    }
    auto median_us = [&](const std::function<bool(size_t)>& step) {
      std::vector<double> passes;
      for (int pass = 0; pass < 5; ++pass) {
        auto start = Clock::now();
        size_t ok = 0;
        for (size_t i = 0; i < n; ++i) ok += step(i);
        passes.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() /
                         static_cast<double>(n));
        if (ok != n) std::fprintf(stderr, "a step failed on %zu records\n", n - ok);
      }
      std::sort(passes.begin(), passes.end());
      return passes[2];
    };
    v1::Offer offer;
    v1::Provider provider;
    OfferText text;
    const double parse_offer =
        median_us([&](size_t i) { return offer.ParseFromString(offer_bytes[i]); });
    const double parse_provider =
        median_us([&](size_t i) { return provider.ParseFromString(provider_bytes[i]); });
    const double check_offer =
        median_us([&](size_t i) { return ValidateOffer(catalog.offers[i]).ok(); });
    const double check_provider =
        median_us([&](size_t i) { return ValidateProvider(catalog.providers[i]).ok(); });
    const double words =
        median_us([&](size_t i) { return PrepareOfferText(catalog.offers[i], &text), true; });
    std::printf(
        "a record read by an import, in this process: offer parsed %.2f us, validated %.2f us, its "
        "words %.2f us; provider parsed %.2f us, validated %.2f us\n",
        parse_offer, check_offer, words, parse_provider, check_provider);
  }
  auto t0 = Clock::now();
  OfferIndex index;
  uint64_t revision = 0;
  for (const auto& provider : catalog.providers) index.UpsertProvider(provider, ++revision);
  for (const auto& offer : catalog.offers) index.UpsertOffer(offer, ++revision);
  index.SetRevision(revision);
  std::printf("index of %zu offers built in this process in %.1f s\n", catalog.offers.size(), Since(t0));
  // Further builds, for a median less at the mercy of the machine's noisy minutes.
  if (const int rounds = absl::GetFlag(FLAGS_build_rounds); rounds > 0) {
    std::vector<double> provider_s, offer_s;
    for (int round = 0; round < rounds; ++round) {
      auto again = std::make_unique<OfferIndex>();
      uint64_t r = 0;
      auto start = Clock::now();
      for (const auto& provider : catalog.providers) again->UpsertProvider(provider, ++r);
      provider_s.push_back(Since(start));
      start = Clock::now();
      for (const auto& offer : catalog.offers) again->UpsertOffer(offer, ++r);
      offer_s.push_back(Since(start));
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::printf(
        "index built %d times more: providers median %.2f s (%.2f us each), offers median %.2f s "
        "(%.2f us each; fastest %.2f s, slowest %.2f s)\n",
        rounds, median(provider_s),
        1e6 * median(provider_s) / static_cast<double>(catalog.providers.size()), median(offer_s),
        1e6 * median(offer_s) / static_cast<double>(catalog.offers.size()),
        *std::min_element(offer_s.begin(), offer_s.end()),
        *std::max_element(offer_s.begin(), offer_s.end()));
  }
  std::vector<v1::SearchOffersRequest> requests, first_pages, listing_pages;
  MixRequests(mix, &requests, &first_pages, &listing_pages);
  // One search, timed into `us`; false if it failed. `matches` and `checked` (versions the
  // search checked), when given, are set from its outcome.
  auto timed = [&](const v1::SearchOffersRequest& request, std::vector<double>* us,
                   int64_t* matches, int64_t* checked = nullptr) {
    auto start = Clock::now();
    absl::StatusOr<SearchOutcome> out = index.Search(request);
    us->push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
    if (out.ok() && matches != nullptr) *matches = out->total_count;
    if (out.ok() && checked != nullptr) *checked = out->candidates;
    return out.ok();
  };
  auto median_us = [&](const v1::SearchOffersRequest& request, int64_t* matches,
                       int64_t* checked = nullptr) {
    std::vector<double> us;
    for (int i = 0; i < 200; ++i) {
      if (!timed(request, &us, matches, checked)) return -1.0;
    }
    std::sort(us.begin(), us.end());
    return us[us.size() / 2];
  };
  double sums[3] = {0, 0, 0};
  for (size_t i = 0; i < mix.size(); ++i) {
    int64_t matches = 0, checked = 0, checked_all = 0;
    double with_total = median_us(requests[i], &matches, &checked_all);
    double first_page = median_us(first_pages[i], nullptr, &checked);
    double listing = median_us(listing_pages[i], nullptr);
    if (with_total < 0 || first_page < 0 || listing < 0) {
      return std::fprintf(stderr, "%s: the search failed\n", mix[i].name.c_str()), 1;
    }
    std::printf(
        "%-40s matches %7lld  p50 %7.0f us (first page without total %7.0f us, "
        "listing fields %7.0f us)  checked %lld (%.0f ns each), first page %lld\n",
        mix[i].name.c_str(), static_cast<long long>(matches), with_total, first_page, listing,
        static_cast<long long>(checked_all), 1e3 * with_total / static_cast<double>(std::max<int64_t>(1, checked_all)),
        static_cast<long long>(checked));
    sums[0] += with_total, sums[1] += first_page, sums[2] += listing;
  }
  std::printf("in-process Search, mean of the queries' medians: with totals %.0f us, first pages %.0f us, "
              "listing fields %.0f us\n",
              sums[0] / mix.size(), sums[1] / mix.size(), sums[2] / mix.size());
  // Walks every page of `request` five times: the median time in ms (-1 if a page failed), and
  // the walk's pages and offers.
  auto walk_ms = [&](const v1::SearchOffersRequest& request, size_t* pages, size_t* offers) {
    std::vector<double> walks_ms;
    for (int round = 0; round < 5; ++round) {
      v1::SearchOffersRequest page = request;
      *pages = *offers = 0;
      auto start = Clock::now();
      do {
        absl::StatusOr<SearchOutcome> out = index.Search(page);
        if (!out.ok()) {
          std::fprintf(stderr, "the walk failed: %s\n", out.status().ToString().c_str());
          return -1.0;
        }
        ++*pages, *offers += out->hits.size();
        page.set_page_token(out->next_page_token);
      } while (!page.page_token().empty());
      walks_ms.push_back(1e3 * Since(start));
    }
    std::sort(walks_ms.begin(), walks_ms.end());
    return walks_ms[2];
  };
  // The first page of each query around a point sorted by distance instead (closest first, as a
  // map's list shows them), without the total count, and its next page.
  {
    std::string each;
    double sum = 0;
    int n = 0;
    for (size_t i = 0; i < mix.size(); ++i) {
      if (!first_pages[i].has_near()) continue;
      v1::SearchOffersRequest request = first_pages[i];
      request.set_sort(v1::SORT_ORDER_DISTANCE);
      absl::StatusOr<SearchOutcome> first = index.Search(request);
      if (!first.ok())
        return std::fprintf(stderr, "%s: the search failed\n", mix[i].name.c_str()), 1;
      int64_t checked = 0;
      const double first_us = median_us(request, nullptr, &checked);
      request.set_page_token(first->next_page_token);
      const double next_us = request.page_token().empty() ? 0 : median_us(request, nullptr);
      absl::StrAppend(&each, each.empty() ? "" : "; ", mix[i].name, " ", static_cast<int>(first_us),
                      " / ", static_cast<int>(next_us), " us (", checked, " checked)");
      sum += first_us, ++n;
    }
    if (n > 0) {
      std::printf(
          "in-process first pages by distance, without the total count, mean %.0f us; first / "
          "second page: %s\n",
          sum / n, each.c_str());
    }
    // Every page of 50 of the first of them, closest first.
    for (size_t i = 0; i < mix.size(); ++i) {
      if (!first_pages[i].has_near()) continue;
      v1::SearchOffersRequest request = first_pages[i];
      request.set_sort(v1::SORT_ORDER_DISTANCE);
      size_t pages = 0, offers = 0;
      const double ms = walk_ms(request, &pages, &offers);
      if (ms < 0) return 1;
      std::printf("in-process walk of \"%s\" by distance, %zu pages of 50: median %.1f ms\n",
                  mix[i].name.c_str(), pages, ms);
      break;
    }
  }
  // A partner copying every match of a query: the whole walk in pages of 1,000, in the default
  // order and in the query's own, with the total count (each page reports it) and without, for the
  // mix's query with the most matches.
  {
    size_t widest = 0;
    int64_t most = -1;
    for (size_t i = 0; i < mix.size(); ++i) {
      int64_t matches = 0;
      std::vector<double> unused;
      if (timed(requests[i], &unused, &matches) && matches > most) most = matches, widest = i;
    }
    for (int variant = 0; variant < 4; ++variant) {
      const bool with_total = variant % 2 == 0, default_order = variant < 2;
      v1::SearchOffersRequest request = requests[widest];
      if (default_order) request.clear_sort();
      request.set_page_size(1000);
      request.set_skip_total_count(!with_total);
      size_t pages = 0, offers = 0;
      const double ms = walk_ms(request, &pages, &offers);
      if (ms < 0) return 1;
      std::printf(
          "in-process walk of \"%s\" (%zu offers, %zu pages of 1000) in %s order %s the total "
          "count: "
          "median %.1f ms (%.0f us a page)\n",
          mix[widest].name.c_str(), offers, pages,
          default_order ? "the default" : v1::SortOrder_Name(requests[widest].sort()).c_str(),
          with_total ? "with" : "without", ms, 1e3 * ms / static_cast<double>(pages));
    }
  }
  // The same queries in turn, as the mix runs over gRPC: each finds the caches holding the others'.
  for (const auto* list : {&requests, &first_pages, &listing_pages}) {
    std::vector<double> us;
    std::vector<std::vector<double>> each(list->size());  // per query, its times in turn
    for (int round = 0; round < 200; ++round) {
      for (size_t i = 0; i < list->size(); ++i) {
        timed((*list)[i], &us, nullptr);
        each[i].push_back(us.back());
      }
    }
    std::sort(us.begin(), us.end());
    std::string medians;
    for (std::vector<double>& times : each) {
      std::sort(times.begin(), times.end());
      absl::StrAppend(&medians, medians.empty() ? "" : " / ",
                      static_cast<int>(times[times.size() / 2]));
    }
    std::printf(
        "in-process Search, the mix in turn (%s): p50 %.0f us, p99 %.0f us; each query's p50 %s "
        "us\n",
        list == &requests      ? "with totals"
        : list == &first_pages ? "first pages"
                               : "listing fields",
        us[us.size() / 2], us[us.size() * 99 / 100], medians.c_str());
  }
  return 0;
}

int Run() {
  auto communes_text = [] {
    std::ifstream in(absl::GetFlag(FLAGS_communes));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }();
  absl::StatusOr<CommuneIndex> communes = CommuneIndex::FromCsv(communes_text);
  if (!communes.ok()) {
    std::fprintf(stderr, "%s\n", communes.status().ToString().c_str());
    return 1;
  }
  int wanted = absl::GetFlag(FLAGS_offers);
  auto t0 = Clock::now();
  // About 1.7 offers per provider: generate enough providers, then trim to the count wanted.
  DemoCatalog catalog = GenerateCatalog(*communes, static_cast<int>(wanted / 1.6) + 10, 2026);
  while (static_cast<int>(catalog.offers.size()) > wanted) catalog.offers.pop_back();
  std::printf("generated %zu providers, %zu offers in %zu communes in %.1f s\n", catalog.providers.size(),
              catalog.offers.size(), communes->communes().size(), Since(t0));

  // The mix, checked before any server starts.
  std::vector<MixQuery> mix = PartnerMix();
  if (!absl::GetFlag(FLAGS_only).empty()) {  // a few queries alone, e.g. to profile them
    mix.erase(std::remove_if(mix.begin(), mix.end(),
                             [](const MixQuery& m) { return !absl::StrContains(m.name, absl::GetFlag(FLAGS_only)); }),
              mix.end());
    if (mix.empty()) return std::fprintf(stderr, "no query of the mix is named like --only\n"), 2;
  }
  if (absl::GetFlag(FLAGS_in_process)) return RunInProcess(catalog, mix);

  // A fresh server, with an organizer key (imports need a writer; searches are checked as well).
  std::string data = absl::GetFlag(FLAGS_data_dir);
  std::system(absl::StrCat("rm -rf ", data, " ", data, ".log").c_str());
  std::string token;
  {
    std::string cmd = absl::StrCat(absl::GetFlag(FLAGS_server_binary), " keys create --data ", data,
                                   " --role organizer --description catalog-bench 2>/dev/null");
    FILE* keys = popen(cmd.c_str(), "r");
    char line[256] = {0};
    if (keys != nullptr && std::fgets(line, sizeof line, keys) != nullptr) token = line;
    if (keys != nullptr) pclose(keys);
    while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
    if (token.empty()) {
      std::fprintf(stderr, "could not create an API key with %s\n", cmd.c_str());
      return 1;
    }
  }
  const std::string bearer = "Bearer " + token;
  pid_t pid = fork();
  if (pid == 0) {
    std::string cmd = absl::StrCat("exec ", absl::GetFlag(FLAGS_server_binary), " --listen 127.0.0.1:0 --data ", data,
                                   " 2> ", data, ".log");
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  std::string address;
  for (int i = 0; i < 400 && address.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    std::ifstream log(data + ".log");
    std::stringstream s;
    s << log.rdbuf();
    std::smatch m;
    std::string text = s.str();
    if (std::regex_search(text, m, std::regex("serving on (127\\.0\\.0\\.1:[0-9]+)"))) address = m[1];
  }
  if (address.empty()) {
    std::fprintf(stderr, "the server did not start\n");
    return 1;
  }
  std::printf("server pid %d on %s, RSS at start %ld MiB\n", pid, address.c_str(), RssKb(pid) / 1024);

  // Import: the messages (500 records each) are built first, as a partner's system would have
  // them ready; the clock runs while they stream (serialized by gRPC as they go).
  std::vector<v1::ImportOffersRequest> messages;
  {
    v1::ImportOffersRequest message;
    auto cut = [&](bool force) {
      if (message.records_size() >= 500 || (force && message.records_size() > 0)) {
        messages.push_back(std::move(message));
        message.Clear();
      }
    };
    for (const auto& p : catalog.providers) {
      *message.add_records()->mutable_provider() = p;
      cut(false);
    }
    for (const auto& o : catalog.offers) {
      *message.add_records()->mutable_offer() = o;
      cut(false);
    }
    cut(true);
  }
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = v1::Catalog::NewStub(channel);
  t0 = Clock::now();
  const double server_cpu0 = CpuSeconds(pid), client_cpu0 = OwnCpuSeconds();
  {
    grpc::ClientContext context;
    context.AddMetadata("authorization", bearer);
    v1::ImportOffersResponse summary;
    auto writer = stub->ImportOffers(&context, &summary);
    double providers_seconds = 0;  // when the last message with a provider was taken
    for (const v1::ImportOffersRequest& message : messages) {
      if (!writer->Write(message)) break;
      if (message.records(0).has_provider()) providers_seconds = Since(t0);
    }
    writer->WritesDone();
    grpc::Status s = writer->Finish();
    double seconds = Since(t0);
    std::printf("import: %lld created, %lld rejected (%s) in %.1f s: %.0f offers/s (%.0f records/s)\n",
                static_cast<long long>(summary.created()), static_cast<long long>(summary.rejected()),
                s.ok() ? "ok" : s.error_message().c_str(), seconds, catalog.offers.size() / seconds,
                (catalog.offers.size() + catalog.providers.size()) / seconds);
    std::printf(
        "import: the providers' messages taken by %.1f s (%.0f%% of the stream's records)\n",
        providers_seconds,
        100.0 * catalog.providers.size() / (catalog.offers.size() + catalog.providers.size()));
    const double server_cpu = CpuSeconds(pid) - server_cpu0, client_cpu = OwnCpuSeconds() - client_cpu0;
    std::printf("import CPU: server %.1f s (%.1f us a record, %.2f cores), this client %.1f s\n", server_cpu,
                1e6 * server_cpu / static_cast<double>(catalog.offers.size() + catalog.providers.size()),
                server_cpu / seconds, client_cpu);
    if (!s.ok() || summary.rejected() > 0) {
      std::fprintf(stderr, "the import failed: %s\n", s.ok() ? "records were rejected" : s.error_message().c_str());
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
      return 1;
    }
  }
  double import_seconds = Since(t0);
  messages = {};  // the memory goes back before the next phases
  std::printf("server RSS after import: %ld MiB\n", RssKb(pid) / 1024);

  // Queries, once the server has settled (RocksDB compacts what the import wrote in the background).
  std::printf("server idle after %.0f s of background work\n", WaitUntilIdle(pid, 300));
  std::vector<v1::SearchOffersRequest> requests, first_pages, listing_pages;
  MixRequests(mix, &requests, &first_pages, &listing_pages);
  int clients = absl::GetFlag(FLAGS_clients);
  std::vector<std::unique_ptr<v1::Catalog::Stub>> stubs;
  std::vector<std::unique_ptr<grpc::health::v1::Health::Stub>> health;
  for (int i = 0; i < clients; ++i) {
    grpc::ChannelArguments args;
    args.SetInt("atable.client", i);  // distinct channels, distinct connections
    auto ch = grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
    stubs.push_back(v1::Catalog::NewStub(ch));
    health.push_back(grpc::health::v1::Health::NewStub(ch));
  }
  // One SearchOffers call on client k's channel, with the API key.
  auto search = [&](int k, const v1::SearchOffersRequest& request, v1::SearchOffersResponse* response) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", bearer);
    return stubs[k]->SearchOffers(&context, request, response).ok();
  };
  // A call of the list's queries in turn; the list must outlive the returned function.
  auto searcher = [&](const std::vector<v1::SearchOffersRequest>& list) {
    const std::vector<v1::SearchOffersRequest>* queries = &list;
    return [&, queries](int k, uint64_t i) {
      v1::SearchOffersResponse response;
      return search(k, (*queries)[i % queries->size()], &response);
    };
  };
  auto empty = [&](int k, uint64_t) {
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckResponse response;
    return health[k]->Check(&context, grpc::health::v1::HealthCheckRequest(), &response).ok();
  };
  Measure(clients, 1.0, searcher(requests));  // warm-up
  for (size_t i = 0; i < mix.size(); ++i) {
    // Each variant alone: `one` calls the same request over and over.
    auto one = [&](const v1::SearchOffersRequest& request) {
      return [&, query = &request](int k, uint64_t) {
        v1::SearchOffersResponse r;
        return search(k, *query, &r);
      };
    };
    v1::SearchOffersResponse response, listing;  // for the count of matches and the pages' sizes
    search(0, requests[i], &response);
    search(0, listing_pages[i], &listing);
    Stats s = Measure(1, 1.0, one(requests[i]));
    Stats f = Measure(1, 1.0, one(first_pages[i]));
    Stats l = Measure(1, 1.0, one(listing_pages[i]));
    std::printf("%-40s matches %7lld  p50 %7.0f us (first page without total %7.0f us, listing fields %7.0f us)"
                "  p99 %7.0f us  errors %zu  pages of %zu / %zu bytes\n",
                mix[i].name.c_str(), static_cast<long long>(response.total_count()), s.p50_us, f.p50_us, l.p50_us,
                s.p99_us, s.errors + f.errors + l.errors, response.ByteSizeLong(), listing.ByteSizeLong());
  }
  double seconds = absl::GetFlag(FLAGS_seconds);
  double atable_qps = 0;
  for (int n : {1, clients}) {
    Stats e = MeasureWithCpu(pid, n, seconds, empty);
    Print("empty call (health check)", n, e);
    Stats s = MeasureWithCpu(pid, n, seconds, searcher(requests));
    Print("SearchOffers mix", n, s);
    std::printf("SearchOffers / empty call: p50 ratio %.2f, throughput ratio %.2f\n", s.p50_us / e.p50_us,
                s.per_second / e.per_second);
    Stats f = MeasureWithCpu(pid, n, seconds, searcher(first_pages));
    Print("SearchOffers mix, no totals", n, f);
    std::printf("SearchOffers without totals / empty call: p50 ratio %.2f\n", f.p50_us / e.p50_us);
    Stats l = MeasureWithCpu(pid, n, seconds, searcher(listing_pages));
    Print("SearchOffers mix, listing fields", n, l);
    std::printf("SearchOffers listing fields / empty call: p50 ratio %.2f\n", l.p50_us / e.p50_us);
    atable_qps = s.per_second;
  }
  // The ratios again, each variant's calls and empty calls in alternating blocks on one client.
  for (const auto* list : {&requests, &first_pages, &listing_pages}) {
    Interleaved r = MeasureInterleaved(seconds, empty, searcher(*list));
    std::printf(
        "interleaved with empty calls, 1 client: SearchOffers mix%-16s p50 %7.0f us, empty call "
        "p50 %5.0f us: ratio %.2f  (%zu and %zu calls, errors %zu)\n",
        list == &requests      ? ""
        : list == &first_pages ? ", no totals"
                               : ", listing fields",
        r.call_p50_us, r.empty_p50_us, r.call_p50_us / r.empty_p50_us, r.calls, r.empty_calls,
        r.errors);
  }
  std::printf("server RSS after queries: %ld MiB\n", RssKb(pid) / 1024);
  kill(pid, SIGTERM);
  waitpid(pid, nullptr, 0);
#ifdef ATABLE_BENCH_PG
  if (!absl::GetFlag(FLAGS_pg).empty()) RunPostgres(catalog, mix, atable_qps, import_seconds);
#else
  (void)import_seconds;
  (void)atable_qps;
#endif
  return 0;
}

}  // namespace
}  // namespace atable

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  setvbuf(stdout, nullptr, _IOLBF, 0);  // figures appear as they are measured
  return atable::Run();
}
