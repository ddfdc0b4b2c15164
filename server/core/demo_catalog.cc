#include "server/core/demo_catalog.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "server/core/atout_france.h"
#include "server/core/communes.h"
#include "server/core/rng.h"
#include "server/core/status_macros.h"

namespace atable {
namespace {

using v1::Offer;
using v1::OfferSubKind;
using v1::Provider;

// A kind of generated offer: what it is, how it is called, what it costs.
struct Template {
  v1::OfferKind kind;
  OfferSubKind sub_kind;
  v1::BusinessKind business;
  std::vector<std::string> provider_names;  // "{c}" is replaced by the commune
  std::vector<std::string> titles;
  std::vector<std::string> tags;
  v1::PriceUnit unit;
  int64_t min_price_eur, max_price_eur;
  int min_persons, max_persons_lo, max_persons_hi;
  int open_from_month, open_to_month;  // 0 = all year; a wrap (12 -> 3) is allowed
  int weight;                          // share among generated providers
};

const std::vector<Template>& Templates() {
  using v1::BUSINESS_KIND_ACCOMMODATION;
  using v1::BUSINESS_KIND_ACTIVITY;
  using v1::BUSINESS_KIND_PRODUCER;
  using v1::BUSINESS_KIND_TOUR_OPERATOR;
  static const std::vector<Template> kTemplates = {
      {v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_OUTDOOR_SPORT, BUSINESS_KIND_ACTIVITY,
       {"Volcans Aventure {c}", "Cantal Parapente", "Bureau des guides de {c}", "Eaux vives {c}"},
       {"Vol en parapente biplace", "Canoë sur la Truyère", "Randonnée accompagnée au Puy Mary",
        "Via ferrata et escalade", "VTT électrique dans les monts du Cantal"},
       {"outdoor", "hiking", "adventure", "nature"}, v1::PRICE_UNIT_PER_PERSON, 25, 130, 1, 6, 12,
       4, 10, 24},
      {v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_SNOW_SPORT, BUSINESS_KIND_ACTIVITY,
       {"École de ski de {c}", "Raquettes et traîneaux {c}", "Nordic {c}"},
       {"Cours de ski alpin", "Sortie raquettes à neige au clair de lune", "Initiation au ski de fond",
        "Balade en chiens de traîneau"},
       {"skiing", "snow", "winter", "family"}, v1::PRICE_UNIT_PER_PERSON, 20, 90, 1, 8, 15, 12, 3, 8},
      {v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_WELLNESS, BUSINESS_KIND_ACTIVITY,
       {"Spa des Volcans", "Thermes et bien-être de {c}", "Bulle de sérénité {c}"},
       {"Journée spa thermal en duo", "Massage aux huiles essentielles", "Bain d'eau chaude et hammam",
        "Soin visage et modelage"},
       {"wellness", "spa", "couple", "relaxation"}, v1::PRICE_UNIT_PER_PERSON, 35, 140, 1, 2, 2, 0,
       0, 12},
      {v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_GASTRONOMY, BUSINESS_KIND_PRODUCER,
       {"Ferme fromagère de {c}", "Buron de {c}", "Maison de la Salers", "Saveurs d'Auvergne {c}"},
       {"Dégustation de Cantal AOP et Salers", "Atelier aligot et truffade",
        "Visite de buron et fabrication du fromage", "Dîner du terroir à la ferme"},
       {"gastronomy", "tasting", "cheese", "local-products"}, v1::PRICE_UNIT_PER_PERSON, 8, 55, 1, 10,
       40, 0, 0, 18},
      {v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_CULTURE_HERITAGE, BUSINESS_KIND_ACTIVITY,
       {"Château de {c}", "Musée de {c}", "Patrimoine de {c}"},
       {"Visite guidée du château", "Musée des traditions rurales", "Balade contée dans le village",
        "Visite de l'église romane"},
       {"culture", "heritage", "family", "rainy-day"}, v1::PRICE_UNIT_PER_PERSON, 4, 16, 1, 20, 50,
       0, 0, 12},
      {v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_NATURE, BUSINESS_KIND_ACTIVITY,
       {"Nature et volcans {c}", "Les sentiers de {c}", "Observatoire de {c}"},
       {"Sortie brame du cerf", "Découverte des volcans d'Auvergne", "Balade botanique des estives",
        "Observation des rapaces"},
       {"nature", "hiking", "wildlife", "family"}, v1::PRICE_UNIT_PER_PERSON, 10, 40, 1, 8, 20, 4,
       10, 10},
      {v1::OFFER_KIND_ACTIVITY, v1::OFFER_SUB_KIND_FAMILY_LEISURE, BUSINESS_KIND_ACTIVITY,
       {"Parc aventure de {c}", "Ferme pédagogique de {c}", "Parc animalier de {c}"},
       {"Parcours accrobranche", "Ferme pédagogique", "Parc animalier", "Luge d'été"},
       {"family", "kids", "outdoor", "accessible"}, v1::PRICE_UNIT_PER_PERSON, 6, 25, 1, 30, 120, 4,
       10, 10},
      {v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_SELF_CATERING, BUSINESS_KIND_ACCOMMODATION,
       {"Gîte de {c}", "Gîtes du Puy de {c}", "Meublé des Gentianes {c}", "Gîte des Burons"},
       {"Gîte rural", "Maison de caractère", "Gîte en pierre avec jardin", "Appartement de vacances"},
       {"self-catering", "countryside", "family", "pets-allowed"}, v1::PRICE_UNIT_PER_WEEK, 280, 1400,
       1, 2, 15, 0, 0, 40},
      {v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_GUESTHOUSE, BUSINESS_KIND_ACCOMMODATION,
       {"Chambres d'hôtes de {c}", "La Maison de {c}", "Domaine de {c}"},
       {"Chambre d'hôtes avec petit-déjeuner", "Suite familiale", "Chambre double vue montagne"},
       {"guesthouse", "breakfast", "countryside", "couple"}, v1::PRICE_UNIT_PER_NIGHT, 55, 140, 1, 2,
       5, 0, 0, 16},
      {v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_GROUP_LODGING, BUSINESS_KIND_ACCOMMODATION,
       {"Gîte d'étape de {c}", "Centre d'accueil de {c}", "Gîte de groupe de {c}"},
       {"Gîte de groupe en demi-pension", "Gîte d'étape sur le GR400", "Centre de séjour"},
       {"group", "hiking", "half-board", "family"}, v1::PRICE_UNIT_PER_PERSON_PER_NIGHT, 18, 48, 8,
       15, 80, 0, 0, 8},
      {v1::OFFER_KIND_PACKAGE, v1::OFFER_SUB_KIND_TOUR, BUSINESS_KIND_TOUR_OPERATOR,
       {"Cantal Évasion", "Auvergne Découverte {c}", "Séjours Nature {c}"},
       {"Séjour randonnée 3 jours au cœur des volcans", "Week-end gourmand et thermal",
        "Tour du Cantal à vélo en 5 étapes"},
       {"package", "hiking", "gastronomy", "group"}, v1::PRICE_UNIT_PER_PERSON, 180, 790, 2, 8, 30,
       4, 10, 6},
  };
  return kTemplates;
}

// Classified lodging like Atout France's: generated for test and benchmark catalogs only (the
// demo has the real ones).
const std::vector<Template>& ClassifiedLodgingTemplates() {
  using v1::BUSINESS_KIND_ACCOMMODATION;
  static const std::vector<Template> kTemplates = {
      {v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_HOTEL, BUSINESS_KIND_ACCOMMODATION,
       {"Hôtel de {c}", "Hôtel du Lac", "Auberge de {c}", "Hôtel des Voyageurs"},
       {"Chambre double", "Chambre familiale", "Séjour demi-pension"},
       {"hotel", "restaurant", "business", "family"}, v1::PRICE_UNIT_PER_NIGHT, 50, 240, 1, 20, 160,
       0, 0, 25},
      {v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_CAMPSITE, BUSINESS_KIND_ACCOMMODATION,
       {"Camping de {c}", "Camping du Lac", "Camping les Sapins"},
       {"Emplacement tente ou camping-car", "Mobil-home 6 personnes", "Chalet en bois"},
       {"camping", "outdoor", "family", "swimming-pool"}, v1::PRICE_UNIT_PER_NIGHT, 15, 60, 1, 50,
       600, 4, 9, 20},
      {v1::OFFER_KIND_LODGING, v1::OFFER_SUB_KIND_HOLIDAY_VILLAGE, BUSINESS_KIND_ACCOMMODATION,
       {"Village vacances de {c}", "Domaine de {c}", "Village club des Volcans"},
       {"Séjour en pension complète", "Location de gîte au village", "Séjour groupe"},
       {"group", "family", "half-board", "swimming-pool"}, v1::PRICE_UNIT_PER_PERSON_PER_NIGHT, 35,
       95, 1, 60, 400, 0, 0, 8},
  };
  return kTemplates;
}

const std::vector<std::string>& Streets() {
  static const std::vector<std::string> kStreets = {
      "Le Bourg", "Place de l'Église", "Route des Crêtes", "Chemin des Estives", "Rue du Château",
      "Lieu-dit La Prade", "Avenue de la Gare", "Route du Lioran", "Rue des Tanneurs"};
  return kStreets;
}

void SetDate(v1::Date* d, int y, int m, int day) {
  d->set_year(y);
  d->set_month(m);
  d->set_day(day);
}

int LastDay(int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return kDays[month - 1];
}

// Opening periods of 2027 (and the end of 2026 for a winter season that starts in December).
void AddOpening(const Template& t, Offer* o) {
  if (t.open_from_month == 0) return;
  if (t.open_from_month <= t.open_to_month) {
    v1::DateRange* r = o->add_opening_periods();
    SetDate(r->mutable_start(), 2027, t.open_from_month, 1);
    SetDate(r->mutable_end(), 2027, t.open_to_month, LastDay(t.open_to_month));
  } else {
    v1::DateRange* r = o->add_opening_periods();
    SetDate(r->mutable_start(), 2026, t.open_from_month, 1);
    SetDate(r->mutable_end(), 2027, t.open_to_month, LastDay(t.open_to_month));
  }
}

std::string Replace(std::string pattern, const std::string& commune) {
  size_t at = pattern.find("{c}");
  if (at != std::string::npos) pattern.replace(at, 3, commune);
  return pattern;
}

v1::Price* AddPrice(Offer* o, int64_t min_cents, int64_t max_cents, v1::PriceUnit unit,
                    std::string season) {
  v1::Price* p = o->add_prices();
  p->set_min_amount_cents(min_cents);
  p->set_max_amount_cents(std::max(min_cents, max_cents));
  p->set_unit(unit);
  p->set_season(std::move(season));
  return p;
}

// Indicative prices for an Atout France lodging: the export has none.
void PriceAtoutFranceOffer(Rng& rng, Offer* o) {
  int stars = o->has_classification() ? o->classification().level() : 2;
  switch (o->sub_kind()) {
    case v1::OFFER_SUB_KIND_HOTEL: {
      int64_t base = 3000 + stars * 1500 + rng.Between(0, 2000);
      AddPrice(o, base, base + rng.Between(1000, 4000), v1::PRICE_UNIT_PER_NIGHT, "toute l'année")
          ->set_description("chambre double");
      break;
    }
    case v1::OFFER_SUB_KIND_CAMPSITE: {
      int64_t pitch = 900 + stars * 450 + rng.Between(0, 800);
      AddPrice(o, pitch, pitch + rng.Between(300, 1200), v1::PRICE_UNIT_PER_NIGHT, "été")
          ->set_description("emplacement 2 personnes");
      int64_t week = 25000 + stars * 8000 + rng.Between(0, 15000);
      AddPrice(o, week, week + rng.Between(10000, 30000), v1::PRICE_UNIT_PER_WEEK, "été")
          ->set_description("mobil-home ou chalet");
      break;
    }
    default: {
      int64_t week = 30000 + stars * 9000 + rng.Between(0, 20000);
      AddPrice(o, week, week + rng.Between(15000, 40000), v1::PRICE_UNIT_PER_WEEK, "été")
          ->set_description("logement 4 à 6 personnes");
      int64_t board = 4500 + stars * 500 + rng.Between(0, 1500);
      AddPrice(o, board, board + rng.Between(500, 2000), v1::PRICE_UNIT_PER_PERSON_PER_NIGHT,
               "toute l'année")
          ->set_description("pension complète");
      break;
    }
  }
}

// Tags each offer against the median first price of its sub-kind: the cheapest fifth that is
// also unclassified or low-rated is "budget", offers at or under the median with 3+ stars (or
// under 80 % of it) are "good value", and offers over 140 % of it or with 4+ stars "premium".
void AssignPriceQualityTags(std::vector<Offer>* offers) {
  std::map<std::pair<int, int>, std::vector<int64_t>> prices;  // (sub-kind, unit) -> min prices
  for (const Offer& o : *offers) {
    if (o.prices_size() > 0) prices[{o.sub_kind(), o.prices(0).unit()}].push_back(o.prices(0).min_amount_cents());
  }
  for (auto& [key, v] : prices) std::sort(v.begin(), v.end());
  for (Offer& o : *offers) {
    if (o.prices_size() == 0) continue;
    const std::vector<int64_t>& v = prices[{o.sub_kind(), o.prices(0).unit()}];
    double median = static_cast<double>(v[v.size() / 2]);
    double fifth = static_cast<double>(v[v.size() / 5]);
    double price = static_cast<double>(o.prices(0).min_amount_cents());
    int level = o.has_classification() ? o.classification().level() : 0;
    if (price <= fifth && level <= 2) o.add_price_quality_tags(v1::PRICE_QUALITY_TAG_BUDGET);
    if ((price <= median && level >= 3) || price < 0.8 * median) {
      o.add_price_quality_tags(v1::PRICE_QUALITY_TAG_GOOD_VALUE);
    }
    if (price > 1.4 * median || level >= 4) o.add_price_quality_tags(v1::PRICE_QUALITY_TAG_PREMIUM);
  }
}

void GenerateProvider(int n, absl::string_view id_prefix, const Template& t, const Commune& commune,
                      Rng& rng, DemoCatalog* out) {
  std::string commune_name = DisplayCommuneName(commune.name);
  Provider p;
  p.set_id(absl::StrFormat("%s%04d", id_prefix, n));
  p.set_name(Replace(rng.Pick(t.provider_names), commune_name));
  p.set_kind(t.business);
  p.mutable_address()->set_street(rng.Pick(Streets()));
  p.mutable_address()->set_postcode(commune.postcode);
  p.mutable_address()->set_commune(commune_name);
  p.mutable_address()->set_insee_code(commune.insee);
  p.mutable_address()->set_country_code("FR");
  // Within about 1.5 km of the commune's centroid.
  p.mutable_location()->set_latitude(commune.latitude + rng.Between(-1400, 1400) * 1e-5);
  p.mutable_location()->set_longitude(commune.longitude + rng.Between(-2000, 2000) * 1e-5);
  std::string slug = Slugify(p.name());
  p.mutable_contacts()->set_website(absl::StrCat("https://", slug, ".example"));
  p.mutable_contacts()->set_email(absl::StrCat("contact@", slug, ".example"));
  p.mutable_contacts()->set_phone(absl::StrFormat("+33471%06d", rng.Between(0, 999999)));
  p.add_languages("fr");
  if (rng.Chance(0.6)) p.add_languages("en");
  if (rng.Chance(0.15)) p.add_languages("de");
  if (rng.Chance(0.15)) p.add_languages("nl");
  if (rng.Chance(0.2)) p.add_labels("Qualité Tourisme");
  if (rng.Chance(0.1)) p.add_labels("Tourisme & Handicap");
  if (t.sub_kind == v1::OFFER_SUB_KIND_OUTDOOR_SPORT && rng.Chance(0.4)) p.add_labels("Accueil Vélo");
  (*p.mutable_descriptions())["fr"] =
      absl::StrCat(p.name(), ", à ", commune_name, " dans le Cantal.");

  int offers = t.kind == v1::OFFER_KIND_LODGING ? static_cast<int>(rng.Between(1, 2))
                                                : static_cast<int>(rng.Between(1, 3));
  std::vector<std::string> titles = t.titles;
  for (int k = 0; k < offers && !titles.empty(); ++k) {
    size_t pick = rng.Next() % titles.size();
    Offer o;
    o.set_id(absl::StrCat(p.id(), "/", k + 1));
    o.set_provider_id(p.id());
    o.set_kind(t.kind);
    o.set_sub_kind(t.sub_kind);
    o.set_title(absl::StrCat(titles[pick], " - ", p.name()));
    titles.erase(titles.begin() + static_cast<long>(pick));
    int max_persons = static_cast<int>(rng.Between(t.max_persons_lo, t.max_persons_hi));
    o.mutable_capacity()->set_min_persons(std::min(t.min_persons, max_persons));
    o.mutable_capacity()->set_max_persons(max_persons);
    int64_t price = rng.Between(t.min_price_eur, t.max_price_eur) * 100;
    if (t.unit == v1::PRICE_UNIT_PER_WEEK) price = price * (4 + max_persons) / 10;  // bigger, dearer
    AddPrice(&o, price, price + price * rng.Between(0, 40) / 100, t.unit,
             t.open_from_month == 0 ? "toute l'année" : "saison");
    bool starred = t.sub_kind == v1::OFFER_SUB_KIND_HOTEL || t.sub_kind == v1::OFFER_SUB_KIND_CAMPSITE ||
                   t.sub_kind == v1::OFFER_SUB_KIND_HOLIDAY_VILLAGE;
    if (starred) {
      v1::Classification* c = o.mutable_classification();
      c->set_scheme(v1::CLASSIFICATION_SCHEME_STARS);
      c->set_level(static_cast<int>(rng.Between(1, 5)));
      c->set_name("Atout France");
      o.set_units(static_cast<int>(rng.Between(8, 120)));
    } else if (t.kind == v1::OFFER_KIND_LODGING && t.unit == v1::PRICE_UNIT_PER_WEEK) {
      o.set_units(1);
      if (rng.Chance(0.7)) {
        v1::Classification* c = o.mutable_classification();
        bool gdf = rng.Chance(0.65);
        c->set_scheme(gdf ? v1::CLASSIFICATION_SCHEME_EPIS : v1::CLASSIFICATION_SCHEME_CLES);
        c->set_level(static_cast<int>(rng.Between(1, 4)));
        c->set_name(gdf ? "Gîtes de France" : "Clévacances");
        o.add_labels(c->name());
      }
    } else if (t.kind == v1::OFFER_KIND_LODGING) {
      o.set_units(static_cast<int>(rng.Between(2, 6)));
    }
    for (const std::string& tag : t.tags) {
      if (o.tags_size() < 2 || rng.Chance(0.6)) o.add_tags(tag);
    }
    AddOpening(t, &o);
    for (const std::string& lang : p.languages()) o.add_languages(lang);
    (*o.mutable_descriptions())["fr"] =
        absl::StrCat(o.title(), ". Jusqu'à ", max_persons,
                     " personnes, à ", commune_name, ".");
    out->offers.push_back(std::move(o));
  }
  out->providers.push_back(std::move(p));
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Adds `count` generated providers and their offers, placed in `communes`.
void GenerateProviders(const std::vector<const Commune*>& communes, int count,
                       absl::string_view id_prefix, const std::vector<Template>& templates,
                       Rng& rng, DemoCatalog* out) {
  int total_weight = 0;
  for (const Template& t : templates) total_weight += t.weight;
  for (int n = 1; n <= count; ++n) {
    int w = static_cast<int>(rng.Between(0, total_weight - 1));
    const Template* t = &templates.front();
    for (const Template& candidate : templates) {
      if (w < candidate.weight) {
        t = &candidate;
        break;
      }
      w -= candidate.weight;
    }
    GenerateProvider(n, id_prefix, *t, *rng.Pick(communes), rng, out);
  }
}

}  // namespace

DemoCatalog GenerateCatalog(const CommuneIndex& communes, int providers, uint64_t seed) {
  std::vector<const Commune*> all;
  for (const Commune& c : communes.communes()) all.push_back(&c);
  Rng rng(seed);
  DemoCatalog out;
  std::vector<Template> templates = Templates();
  for (const Template& t : ClassifiedLodgingTemplates()) templates.push_back(t);
  if (!all.empty()) GenerateProviders(all, providers, "gen-", templates, rng, &out);
  AssignPriceQualityTags(&out.offers);
  return out;
}

absl::StatusOr<DemoCatalog> BuildDemoCatalog(absl::string_view atout_france_csv,
                                             absl::string_view communes_csv,
                                             int generated_providers, uint64_t seed) {
  ATABLE_ASSIGN_OR_RETURN(CommuneIndex communes, CommuneIndex::FromCsv(communes_csv));
  ATABLE_ASSIGN_OR_RETURN(std::vector<AtoutFranceRecord> records,
                          ParseAtoutFranceCsv(atout_france_csv));
  Rng rng(seed);
  DemoCatalog out;
  out.atout_france_records = static_cast<int>(records.size());
  for (const AtoutFranceRecord& r : DeduplicateAtoutFrance(std::move(records))) {
    CatalogEntry e = AtoutFranceToCatalog(r, communes);
    if (!e.placed) out.unplaced.push_back(e.provider.name());
    PriceAtoutFranceOffer(rng, &e.offer);
    out.providers.push_back(std::move(e.provider));
    out.offers.push_back(std::move(e.offer));
  }

  std::vector<const Commune*> cantal;
  for (const Commune& c : communes.communes()) {
    if (c.postcode.rfind("15", 0) == 0) cantal.push_back(&c);
  }
  if (cantal.empty() && generated_providers > 0) {
    return absl::InvalidArgumentError("communes: no commune of the Cantal (postcode 15xxx)");
  }
  GenerateProviders(cantal, generated_providers, "demo-", Templates(), rng, &out);
  AssignPriceQualityTags(&out.offers);
  return out;
}

absl::StatusOr<DemoCatalog> LoadDemoCatalog(const std::string& dir) {
  ATABLE_ASSIGN_OR_RETURN(std::string atout, ReadFile(dir + "/cantal-atout-france.csv"));
  ATABLE_ASSIGN_OR_RETURN(std::string communes, ReadFile(dir + "/cantal-communes.csv"));
  return BuildDemoCatalog(atout, communes, 300, 15);
}

}  // namespace atable

namespace atable {

absl::StatusOr<std::vector<v1::Buyer>> LoadDemoBuyers(const std::string& dir) {
  ATABLE_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/buyers.json"));
  v1::ListBuyersResponse list;
  auto status = google::protobuf::util::JsonStringToMessage(text, &list);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(dir, "/buyers.json: ", status.ToString()));
  }
  return std::vector<v1::Buyer>(list.buyers().begin(), list.buyers().end());
}

absl::StatusOr<v1::Event> LoadDemoEvent(const std::string& dir) {
  ATABLE_ASSIGN_OR_RETURN(std::string text, ReadFile(dir + "/event-cantal.json"));
  v1::Event event;
  auto status = google::protobuf::util::JsonStringToMessage(text, &event);
  if (!status.ok()) return absl::InvalidArgumentError(absl::StrCat(dir, "/event-cantal.json: ", status.ToString()));
  return event;
}

}  // namespace atable
