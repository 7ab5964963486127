#include <catch2/catch.hpp>

#include "core/error.h"
#include "data/sample_store.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using namespace fedglioma::data;

namespace {

struct Cohort {
  Manifest manifest = load_manifest(fedglioma::testing::tiny_cohort());
  std::vector<const Case*> records;
  PreprocessOptions options;
  std::uint64_t per_case = 0;
  Cohort() {
    for (const Case& c : manifest.cases) records.push_back(&c);
    options.size = {16, 16, 16};
    options.spacing = {12, 12, 12};
    Geometry grid;
    grid.size = options.size;
    per_case = SampleStore::sample_bytes(grid);
  }
  /// Case 0's T1 copied to `dir` and the manifest pointed at the copy, which a test then edits or
  /// removes; returns the copy.
  fs::path own_first_t1(const fs::path& dir) {
    const fs::path copy = dir / "t1.nii.gz";
    fs::copy_file(manifest.cases[0].images[0], copy);
    manifest.cases[0].images[0] = copy;
    return copy;
  }
};

}  // namespace

TEST_CASE("a store within its RAM budget holds every case in memory", "[data][store]") {
  const Cohort cohort;
  const SampleStore store(cohort.records, cohort.options, SampleCache(fedglioma::testing::cache_dir()),
                          cohort.per_case * cohort.records.size(), 1);
  REQUIRE_FALSE(store.streaming());
  const Sample& first = store.samples().front();
  REQUIRE(first.image.size() == 4 * 16 * 16 * 16);
  REQUIRE(store.fetch(first).get() == &first);
  REQUIRE(store.disk_reads() == 0);
}

TEST_CASE("a store over its RAM budget streams cases from the disk cache and keeps the recent ones",
          "[data][store]") {
  const Cohort cohort;
  const SampleCache cache(fedglioma::testing::cache_dir());
  const SampleStore resident(cohort.records, cohort.options, cache, cohort.per_case * cohort.records.size(), 1);
  const SampleStore store(cohort.records, cohort.options, cache, 2 * cohort.per_case, 1);
  REQUIRE(store.streaming());
  const auto& samples = store.samples();
  REQUIRE(samples.size() == cohort.records.size());
  for (std::size_t i = 0; i < samples.size(); ++i) {
    REQUIRE(samples[i].id == resident.samples()[i].id);
    REQUIRE(samples[i].image.empty());  // metadata only
  }
  const auto a = store.fetch(samples[0]);
  REQUIRE(a->image == resident.samples()[0].image);
  REQUIRE(a->mask == resident.samples()[0].mask);
  REQUIRE(store.disk_reads() == 1);
  store.fetch(samples[1]);
  store.fetch(samples[0]);  // still held: no read
  REQUIRE(store.disk_reads() == 2);
  store.fetch(samples[2]);  // the budget holds two: case 1 (least recent) leaves memory
  store.fetch(samples[0]);
  REQUIRE(store.disk_reads() == 3);
  store.fetch(samples[1]);
  REQUIRE(store.disk_reads() == 4);
  REQUIRE_THROWS_AS(store.fetch(resident.samples()[0]), std::invalid_argument);  // another store's sample
}

TEST_CASE("streaming without a disk cache is refused naming the budget", "[data][store]") {
  const Cohort cohort;
  REQUIRE_THROWS_WITH(SampleStore(cohort.records, cohort.options, SampleCache(""), cohort.per_case, 1),
                      Catch::Contains("data.cache_ram_gb") && Catch::Contains("data.cache_dir"));
}

TEST_CASE("the prefetcher hands out a schedule in order, reading ahead in the background", "[data][store]") {
  const Cohort cohort;
  const SampleStore store(cohort.records, cohort.options, SampleCache(fedglioma::testing::cache_dir()),
                          3 * cohort.per_case, 2);
  REQUIRE(store.streaming());
  std::vector<const Sample*> schedule;
  for (int repeat = 0; repeat < 2; ++repeat)
    for (const Sample& s : store.samples()) schedule.push_back(&s);
  Prefetcher prefetcher(store, schedule, 2);
  for (const Sample* expected : schedule) {
    const auto got = prefetcher.next();
    REQUIRE(got->id == expected->id);
    REQUIRE(got->image.size() == 4 * 16 * 16 * 16);
  }
  REQUIRE_THROWS_AS(prefetcher.next(), std::out_of_range);
}

TEST_CASE("a streamed case whose source and cache entry vanished fails with the file named", "[data][store]") {
  const fs::path dir = fedglioma::testing::temp_dir("store-vanished");
  Cohort cohort;
  const fs::path copy = cohort.own_first_t1(dir);
  const SampleCache cache(dir / "cache");
  const SampleStore store(cohort.records, cohort.options, cache, cohort.per_case, 1);
  fs::remove(cache.entry_path(cohort.manifest.cases[0], cohort.options));
  fs::remove(copy);
  Prefetcher prefetcher(store, {&store.samples()[0]}, 1);
  REQUIRE_THROWS_WITH(prefetcher.next(), Catch::Contains("t1.nii.gz"));
}

TEST_CASE("a streamed case whose source was edited during the run stops it, naming the case", "[data][store]") {
  // A resident run never rereads its sources; a streaming one must not train on edited ones.
  const fs::path dir = fedglioma::testing::temp_dir("store-edited");
  Cohort cohort;
  const fs::path copy = cohort.own_first_t1(dir);
  const SampleStore store(cohort.records, cohort.options, SampleCache(dir / "cache"), cohort.per_case, 1);
  REQUIRE(store.streaming());
  store.fetch(store.samples()[0]);
  store.fetch(store.samples()[1]);  // the budget holds one case: case 0 leaves memory
  fs::copy_file(cohort.manifest.cases[1].images[0], copy, fs::copy_options::overwrite_existing);  // edited
  REQUIRE_THROWS_AS(store.fetch(store.samples()[0]), fedglioma::DataChangedError);
  REQUIRE_THROWS_WITH(store.fetch(store.samples()[0]), Catch::Contains("case '" + cohort.manifest.cases[0].id + "'") &&
                                                           Catch::Contains("changed while the run was going"));
}

TEST_CASE("a store loads only the cases it is asked for and keeps the others' records", "[data][store]") {
  const Cohort cohort;
  std::vector<bool> needed(cohort.records.size(), false);
  needed[1] = needed[3] = true;
  for (const std::uint64_t budget : {cohort.per_case * 16, cohort.per_case})  // resident, then streaming
  {
    INFO("budget " << budget);
    const SampleStore store(cohort.records, cohort.options, SampleCache(fedglioma::testing::cache_dir()), budget, 1,
                            {}, needed);
    REQUIRE(store.samples().size() == cohort.records.size());
    const Sample& other = store.samples()[0];
    REQUIRE_FALSE(store.loaded(0));
    REQUIRE(other.id == cohort.records[0]->id);
    REQUIRE(other.site == cohort.records[0]->site);
    REQUIRE(other.image.empty());
    REQUIRE_THROWS_AS(store.fetch(other), std::logic_error);
    REQUIRE(store.loaded(3));
    REQUIRE(store.fetch(store.samples()[3])->image.size() == 4 * 16 * 16 * 16);
    REQUIRE(store.samples()[3].fingerprint != 0);
  }
}
