#include "client/catalog_commands.h"

#include <cmath>
#include <map>
#include <cstdio>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "atable/v1/catalog.grpc.pb.h"
#include "client/format.h"
#include "google/protobuf/util/time_util.h"

namespace atable::cli {
namespace {

// The arguments of the catalog commands (CLI11 writes into them while parsing).
struct Args {
  std::string id, file, etag;
  // offers search
  std::vector<std::string> kinds, sub_kinds, tags, any_tags, labels, fields;
  std::string unit, provider, commune, insee, postcode, departement, near, box, open_from, open_to;
  std::string text, sort = "relevance", page_token;
  double min_price = 0, max_price = 0, radius = 20;
  int persons = 0, min_class = 0, page_size = 20;
  bool all = false, facets = false;
  // watch
  std::string from;
  bool follow = false;
};

// "self-catering" -> OFFER_SUB_KIND_SELF_CATERING through the enum's descriptor.
template <typename Enum>
bool ParseEnumWord(const google::protobuf::EnumDescriptor* descriptor, const std::string& prefix,
                   const std::string& word, Enum* out) {
  std::string name = prefix + absl::AsciiStrToUpper(absl::StrReplaceAll(word, {{"-", "_"}}));
  const google::protobuf::EnumValueDescriptor* value = descriptor->FindValueByName(name);
  if (value == nullptr || value->number() == 0) return false;
  *out = static_cast<Enum>(value->number());
  return true;
}

// Lists the words an enum accepts: "lodging, activity, package, other".
std::string EnumWords(const google::protobuf::EnumDescriptor* descriptor, const std::string& prefix) {
  std::vector<std::string> words;
  for (int i = 1; i < descriptor->value_count(); ++i) {
    std::string w = absl::AsciiStrToLower(descriptor->value(i)->name().substr(prefix.size()));
    words.push_back(absl::StrReplaceAll(w, {{"_", "-"}}));
  }
  return absl::StrJoin(words, ", ");
}

bool ParseDate(const std::string& text, v1::Date* date) {
  std::vector<std::string> parts = absl::StrSplit(text, '-');
  int y, m, d;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &y) || !absl::SimpleAtoi(parts[1], &m) ||
      !absl::SimpleAtoi(parts[2], &d)) {
    return false;
  }
  date->set_year(y);
  date->set_month(m);
  date->set_day(d);
  return true;
}

bool ParseNumbers(const std::string& text, size_t count, std::vector<double>* out) {
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    double x;
    if (!absl::SimpleAtod(part, &x)) return false;
    out->push_back(x);
  }
  return out->size() == count;
}

int Usage(const std::string& message) {
  std::fprintf(stderr, "atable: %s\n", message.c_str());
  return kExitUsage;
}

// Builds the request from the flags; returns an exit code other than 0 on a bad flag.
int BuildSearch(const Args& a, v1::SearchOffersRequest* q) {
  for (const std::string& k : a.kinds) {
    v1::OfferKind kind;
    if (!ParseEnumWord(v1::OfferKind_descriptor(), "OFFER_KIND_", k, &kind)) {
      return Usage(absl::StrCat("--kind ", k, ": expected one of ", EnumWords(v1::OfferKind_descriptor(), "OFFER_KIND_")));
    }
    q->add_kinds(kind);
  }
  for (const std::string& k : a.sub_kinds) {
    v1::OfferSubKind sub;
    if (!ParseEnumWord(v1::OfferSubKind_descriptor(), "OFFER_SUB_KIND_", k, &sub)) {
      return Usage(absl::StrCat("--sub-kind ", k, ": expected one of ",
                                EnumWords(v1::OfferSubKind_descriptor(), "OFFER_SUB_KIND_")));
    }
    q->add_sub_kinds(sub);
  }
  for (const auto& t : a.tags) q->add_tags_all(t);
  for (const auto& t : a.any_tags) q->add_tags_any(t);
  for (const auto& l : a.labels) q->add_labels(l);
  if (!a.unit.empty() || a.min_price > 0 || a.max_price > 0) {
    v1::PriceUnit unit = v1::PRICE_UNIT_UNSPECIFIED;
    if (!a.unit.empty() && !ParseEnumWord(v1::PriceUnit_descriptor(), "PRICE_UNIT_PER_", a.unit, &unit)) {
      return Usage(absl::StrCat("--unit ", a.unit, ": expected night, week, person, person-per-night, group or stay"));
    }
    q->mutable_price()->set_unit(unit);
    q->mutable_price()->set_min_amount_cents(std::llround(a.min_price * 100));
    q->mutable_price()->set_max_amount_cents(std::llround(a.max_price * 100));
  }
  q->set_persons(a.persons);
  q->set_min_classification(a.min_class);
  q->set_provider_id(a.provider);
  q->set_commune(a.commune);
  q->set_insee_code(a.insee);
  q->set_postcode(a.postcode);
  q->set_departement(a.departement);
  if (!a.near.empty()) {
    std::vector<double> v;
    if (!ParseNumbers(a.near, 2, &v)) return Usage("--near: expected LAT,LON such as 44.9245,2.4416");
    q->mutable_near()->mutable_point()->set_latitude(v[0]);
    q->mutable_near()->mutable_point()->set_longitude(v[1]);
    q->mutable_near()->set_radius_km(a.radius);
  }
  if (!a.box.empty()) {
    std::vector<double> v;
    if (!ParseNumbers(a.box, 4, &v)) return Usage("--box: expected SOUTH,WEST,NORTH,EAST in degrees");
    q->mutable_within()->mutable_south_west()->set_latitude(v[0]);
    q->mutable_within()->mutable_south_west()->set_longitude(v[1]);
    q->mutable_within()->mutable_north_east()->set_latitude(v[2]);
    q->mutable_within()->mutable_north_east()->set_longitude(v[3]);
  }
  if (!a.open_from.empty() || !a.open_to.empty()) {
    std::string to = a.open_to.empty() ? a.open_from : a.open_to;
    std::string from = a.open_from.empty() ? a.open_to : a.open_from;
    if (!ParseDate(from, q->mutable_open()->mutable_start()) || !ParseDate(to, q->mutable_open()->mutable_end())) {
      return Usage("--open-from/--open-to: expected YYYY-MM-DD");
    }
  }
  q->set_text(a.text);
  static const std::map<std::string, v1::SortOrder> kSorts = {
      {"relevance", v1::SORT_ORDER_RELEVANCE}, {"price", v1::SORT_ORDER_PRICE_ASCENDING},
      {"price-desc", v1::SORT_ORDER_PRICE_DESCENDING}, {"distance", v1::SORT_ORDER_DISTANCE},
      {"classification", v1::SORT_ORDER_CLASSIFICATION}, {"updated", v1::SORT_ORDER_UPDATE_TIME}};
  auto sort = kSorts.find(a.sort);
  if (sort == kSorts.end()) {
    return Usage("--sort: expected relevance, price, price-desc, distance, classification or updated");
  }
  q->set_sort(sort->second);
  q->set_page_size(a.page_size);
  q->set_page_token(a.page_token);
  q->set_include_facets(a.facets);
  for (const std::string& list : a.fields) {
    for (absl::string_view f : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      q->mutable_read_mask()->add_paths(std::string(absl::StripAsciiWhitespace(f)));
    }
  }
  return kExitOk;
}

// The Offer fields the results table shows: a table page asks for these only.
constexpr const char* kTableFields[] = {"id", "title", "kind", "sub_kind", "capacity", "prices"};

std::string Shorten(const std::string& s, size_t width) {
  // Cut on a code point boundary.
  size_t chars = 0, i = 0;
  for (; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && chars++ == width - 1 && i + 1 < s.size()) {
      return s.substr(0, i) + "…";
    }
  }
  return s;
}

// Pads to `width` columns, counting code points.
std::string Pad(const std::string& s, size_t width) {
  size_t chars = 0;
  for (char c : s) chars += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return chars >= width ? s : s + std::string(width - chars, ' ');
}

void PrintResults(const v1::SearchOffersResponse& page, bool with_distance, bool header) {
  if (header) {
    std::printf("%s %s %s %s %s%s\n", Pad("OFFER", 28).c_str(), Pad("TITLE", 44).c_str(),
                Pad("KIND", 18).c_str(), Pad("PERSONS", 8).c_str(), Pad("PRICE", 30).c_str(),
                with_distance ? "  KM" : "");
  }
  for (const v1::SearchResult& r : page.results()) {
    const v1::Offer& o = r.offer();
    std::string kind = absl::AsciiStrToLower(v1::OfferSubKind_Name(o.sub_kind()).substr(15));
    if (o.sub_kind() == v1::OFFER_SUB_KIND_UNSPECIFIED) kind = absl::AsciiStrToLower(v1::OfferKind_Name(o.kind()).substr(11));
    std::string persons = o.capacity().max_persons() > 0 ? absl::StrCat(o.capacity().max_persons()) : "-";
    std::string price = o.prices_size() > 0 ? FormatPrice(o.prices(0)) : "-";
    std::printf("%s %s %s %s %s", Pad(Shorten(o.id(), 28), 28).c_str(), Pad(Shorten(o.title(), 44), 44).c_str(),
                Pad(absl::StrReplaceAll(kind, {{"_", "-"}}), 18).c_str(), Pad(persons, 8).c_str(),
                Pad(Shorten(price, 30), 30).c_str());
    if (with_distance) std::printf(" %5.1f", r.distance_km());
    std::printf("\n");
  }
}

int Search(const GlobalOptions& options, const Args& a) {
  v1::SearchOffersRequest q;
  if (int code = BuildSearch(a, &q); code != kExitOk) return code;
  if (!options.json && !q.has_read_mask()) {
    for (const char* field : kTableFields) q.mutable_read_mask()->add_paths(field);
  }
  Client client(options);
  auto stub = v1::Catalog::NewStub(client.channel());
  int64_t shown = 0;
  bool first = true;
  while (true) {
    v1::SearchOffersResponse page;
    grpc::Status s = stub->SearchOffers(client.Context().get(), q, &page);
    if (!s.ok()) return client.Fail(s);
    if (options.json) {
      PrintJsonLine(page);
    } else {
      PrintResults(page, q.has_near(), first);
      for (const v1::Facet& f : page.facets()) {
        std::vector<std::string> parts;
        for (const auto& c : f.counts()) parts.push_back(absl::StrCat(c.value(), " ", c.count()));
        std::printf("facet %-14s %s\n", f.name().c_str(), absl::StrJoin(parts, ", ").c_str());
      }
    }
    shown += page.results_size();
    first = false;
    if (!a.all || page.next_page_token().empty()) {
      if (!options.json) {
        std::printf("%lld of %lld offers", static_cast<long long>(shown), static_cast<long long>(page.total_count()));
        if (!page.next_page_token().empty()) std::printf("; next page: --page-token %s", page.next_page_token().c_str());
        std::printf("\n");
      }
      return kExitOk;
    }
    q.set_page_token(page.next_page_token());
    q.set_include_facets(false);
  }
}

int Watch(const GlobalOptions& options, const Args& a) {
  Client client(options);
  auto stub = v1::Catalog::NewStub(client.channel());
  v1::ListChangesRequest request;
  request.set_resume_token(a.from);
  request.set_follow(a.follow);
  auto context = client.Context(/*streaming=*/true);
  auto reader = stub->ListChanges(context.get(), request);
  v1::Change c;
  while (reader->Read(&c)) {
    if (options.json) {
      PrintJsonLine(c);
      continue;
    }
    bool provider = c.has_provider();
    std::string id = provider ? c.provider().id() : c.offer().id();
    std::string name = provider ? c.provider().name() : c.offer().title();
    std::printf("%-10s %s %-6s %-8s %s%s%s\n", c.resume_token().c_str(),
                google::protobuf::util::TimeUtil::ToString(c.commit_time()).substr(0, 19).c_str(),
                c.type() == v1::CHANGE_TYPE_DELETE ? "delete" : "upsert", provider ? "provider" : "offer",
                id.c_str(), name.empty() ? "" : "  ", name.c_str());
    std::fflush(stdout);
  }
  grpc::Status s = reader->Finish();
  return s.ok() ? kExitOk : client.Fail(s);
}

}  // namespace

void AddCatalogCommands(CLI::App& app, const GlobalOptions& options, int* exit_code) {
  auto args = std::make_shared<Args>();
  Args& a = *args;

  CLI::App* providers = app.add_subcommand("providers", "Read and write providers")->require_subcommand(1);
  CLI::App* pget = providers->add_subcommand("get", "Print a provider\n  example: atable providers get af-15110-arev-hotel");
  pget->add_option("id", a.id, "Provider id")->required();
  pget->callback([&options, exit_code, args] {
    Client client(options);
    v1::GetProviderRequest request;
    request.set_id(args->id);
    v1::Provider provider;
    grpc::Status s = v1::Catalog::NewStub(client.channel())->GetProvider(client.Context().get(), request, &provider);
    if (!s.ok()) return void(*exit_code = client.Fail(s));
    std::fputs(options.json ? (ToJson(provider) + "\n").c_str() : FormatProvider(provider).c_str(), stdout);
  });
  CLI::App* pput = providers->add_subcommand(
      "put", "Create or replace a provider from a JSON file (atable.v1.Provider, proto field names)\n"
             "  example: atable providers put provider.json");
  pput->add_option("file", a.file, "JSON file, - for standard input")->required();
  pput->callback([&options, exit_code, args] {
    Client client(options);
    v1::UpsertProviderRequest request;
    if (!ReadJsonMessage(args->file, request.mutable_provider())) return void(*exit_code = kExitUsage);
    v1::Provider provider;
    grpc::Status s = v1::Catalog::NewStub(client.channel())->UpsertProvider(client.Context().get(), request, &provider);
    if (!s.ok()) return void(*exit_code = client.Fail(s));
    std::fputs(options.json ? (ToJson(provider) + "\n").c_str() : FormatProvider(provider).c_str(), stdout);
  });
  CLI::App* pdel = providers->add_subcommand("delete", "Delete a provider and all its offers\n  example: atable providers delete demo-0001");
  pdel->add_option("id", a.id, "Provider id")->required();
  pdel->add_option("--etag", a.etag, "Delete only if the provider still has this etag");
  pdel->callback([&options, exit_code, args] {
    Client client(options);
    v1::DeleteProviderRequest request;
    request.set_id(args->id);
    request.set_etag(args->etag);
    google::protobuf::Empty empty;
    grpc::Status s = v1::Catalog::NewStub(client.channel())->DeleteProvider(client.Context().get(), request, &empty);
    if (!s.ok()) return void(*exit_code = client.Fail(s));
    std::printf("deleted provider %s\n", args->id.c_str());
  });

  CLI::App* offers = app.add_subcommand("offers", "Read, write and search offers")->require_subcommand(1);
  CLI::App* oget = offers->add_subcommand("get", "Print an offer\n  example: atable offers get demo-0001/1");
  oget->add_option("id", a.id, "Offer id")->required();
  oget->callback([&options, exit_code, args] {
    Client client(options);
    v1::GetOfferRequest request;
    request.set_id(args->id);
    v1::Offer offer;
    grpc::Status s = v1::Catalog::NewStub(client.channel())->GetOffer(client.Context().get(), request, &offer);
    if (!s.ok()) return void(*exit_code = client.Fail(s));
    std::fputs(options.json ? (ToJson(offer) + "\n").c_str() : FormatOffer(offer).c_str(), stdout);
  });
  CLI::App* oput = offers->add_subcommand(
      "put", "Create or replace an offer from a JSON file (atable.v1.Offer, proto field names)\n"
             "  example: atable offers put offer.json");
  oput->add_option("file", a.file, "JSON file, - for standard input")->required();
  oput->callback([&options, exit_code, args] {
    Client client(options);
    v1::UpsertOfferRequest request;
    if (!ReadJsonMessage(args->file, request.mutable_offer())) return void(*exit_code = kExitUsage);
    v1::Offer offer;
    grpc::Status s = v1::Catalog::NewStub(client.channel())->UpsertOffer(client.Context().get(), request, &offer);
    if (!s.ok()) return void(*exit_code = client.Fail(s));
    std::fputs(options.json ? (ToJson(offer) + "\n").c_str() : FormatOffer(offer).c_str(), stdout);
  });
  CLI::App* odel = offers->add_subcommand("delete", "Delete an offer\n  example: atable offers delete demo-0001/1");
  odel->add_option("id", a.id, "Offer id")->required();
  odel->add_option("--etag", a.etag, "Delete only if the offer still has this etag");
  odel->callback([&options, exit_code, args] {
    Client client(options);
    v1::DeleteOfferRequest request;
    request.set_id(args->id);
    request.set_etag(args->etag);
    google::protobuf::Empty empty;
    grpc::Status s = v1::Catalog::NewStub(client.channel())->DeleteOffer(client.Context().get(), request, &empty);
    if (!s.ok()) return void(*exit_code = client.Fail(s));
    std::printf("deleted offer %s\n", args->id.c_str());
  });

  CLI::App* search = offers->add_subcommand(
      "search",
      "Find offers; every filter is optional and they combine with AND\n"
      "  example: atable offers search --sub-kind self-catering --persons 6 --unit week --max-price 700 \\\n"
      "             --near 44.9245,2.4416 --radius 30 --sort price\n"
      "  example: atable offers search --text \"chaudes aigues\" --facets");
  search->add_option("--kind", a.kinds, "lodging, activity, package or other (repeat for any of)");
  search->add_option("--sub-kind", a.sub_kinds, "hotel, campsite, holiday-village, group-lodging, self-catering, "
                     "guesthouse, tourist-residence, outdoor-sport, snow-sport, wellness, gastronomy, "
                     "culture-heritage, nature, family-leisure, tour, short-break (repeat for any of)");
  search->add_option("--tag", a.tags, "Offers with this tag (repeat: all of them)");
  search->add_option("--any-tag", a.any_tags, "Offers with at least one of these tags (repeat)");
  search->add_option("--label", a.labels, "Offers with this label (repeat: all of them)");
  search->add_option("--unit", a.unit, "Price unit: night, week, person, person-per-night, group, stay");
  search->add_option("--min-price", a.min_price, "Lowest price wanted, in euros");
  search->add_option("--max-price", a.max_price, "Highest price wanted, in euros");
  search->add_option("--persons", a.persons, "Group size the offer must take");
  search->add_option("--min-class", a.min_class, "Lowest classification (stars, épis...), 1-5");
  search->add_option("--provider", a.provider, "Offers of this provider id");
  search->add_option("--commune", a.commune, "Offers in this commune (any spelling)");
  search->add_option("--insee", a.insee, "Offers in the commune of this INSEE code");
  search->add_option("--postcode", a.postcode, "Offers with this postcode");
  search->add_option("--dept", a.departement, "Offers in this département (\"15\")");
  search->add_option("--near", a.near, "LAT,LON: offers around this point (see --radius)");
  search->add_option("--radius", a.radius, "Radius around --near, km")->capture_default_str();
  search->add_option("--box", a.box, "SOUTH,WEST,NORTH,EAST: offers inside this box");
  search->add_option("--open-from", a.open_from, "Offers open at some time from this date, YYYY-MM-DD");
  search->add_option("--open-to", a.open_to, "... to this date, YYYY-MM-DD");
  search->add_option("--text", a.text, "Words to find in titles, descriptions, provider names");
  search->add_option("--sort", a.sort, "relevance, price, price-desc, distance, classification, updated")->capture_default_str();
  search->add_option("--page-size", a.page_size, "Offers per page, at most 1000")->capture_default_str();
  search->add_option("--page-token", a.page_token, "Continue a walk where a previous page ended");
  search->add_flag("--all", a.all, "Walk every page");
  search->add_option("--fields", a.fields,
                     "Offer fields each result carries, comma-separated (id,title,prices...); default: "
                     "every field with --json, the table's columns otherwise");
  search->add_flag("--facets", a.facets, "Also count matches per kind, tag, commune, classification");
  search->callback([&options, exit_code, args] { *exit_code = Search(options, *args); });

  CLI::App* watch = app.add_subcommand(
      "watch", "Print the catalog's changes (creates, updates, deletes) in commit order\n"
               "  example: atable watch --follow\n"
               "  example: atable watch --from c1200 --json");
  watch->add_option("--from", a.from, "Resume token: print the changes after it (default: all retained)");
  watch->add_flag("--follow", a.follow, "Keep printing new changes as they commit");
  watch->callback([&options, exit_code, args] { *exit_code = Watch(options, *args); });
}

}  // namespace atable::cli
