// What clients keep across rounds: in RAM up to a budget, on disk beyond it, snapshotted for
// checkpoints without copying what is on disk.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <thread>

#include "core/error.h"
#include "sim/state/client_state.h"
#include "tests/support/fixtures.h"

namespace fs = std::filesystem;
using fedglioma::sim::ClientStateStore;

namespace {

std::vector<float> values(std::size_t n, float first) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = first + static_cast<float>(i);
  return v;
}

nlink_t links_of(const fs::path& file) {
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  return st.st_nlink;
}

}  // namespace

TEST_CASE("client state stays in RAM up to its budget and lives on disk beyond it", "[sim][client_state]") {
  const fs::path spill = fedglioma::testing::temp_dir("client-state-budget") / "spill";
  ClientStateStore store(spill, 810);  // room for two 100-float buffers, not three
  store.put(0, "scaffold.c", values(100, 0));
  store.put(1, "scaffold.c", values(100, 1));
  store.put(2, "scaffold.c", values(100, 2));
  store.put_text(2, "optimizer", "moments of client 2");
  REQUIRE(store.ram_bytes() == 800);
  REQUIRE(store.disk_bytes() == 400 + 19);
  REQUIRE(fs::exists(spill / "2-scaffold.c.state"));
  REQUIRE(fs::exists(spill / "2-optimizer.state"));
  REQUIRE_FALSE(fs::exists(spill / "0-scaffold.c.state"));
  // Where an entry lives never shows in its value.
  for (std::size_t c = 0; c < 3; ++c) REQUIRE(store.buffer(c, "scaffold.c") == values(100, static_cast<float>(c)));
  REQUIRE(store.text(2, "optimizer") == "moments of client 2");
  REQUIRE(store.buffer(3, "scaffold.c").empty());
  REQUIRE_FALSE(store.contains(3, "scaffold.c"));

  // A smaller value that now fits moves back into RAM and its file goes.
  store.put(2, "scaffold.c", values(2, 7));
  REQUIRE_FALSE(fs::exists(spill / "2-scaffold.c.state"));
  REQUIRE(store.ram_bytes() == 808);
  REQUIRE(store.buffer(2, "scaffold.c") == values(2, 7));

  // Readers on several threads at once see the same values.
  std::vector<std::thread> readers;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t)
    readers.emplace_back([&, t] {
      for (int k = 0; k < 20; ++k)
        ok[t] += store.buffer(1, "scaffold.c") == values(100, 1) && store.text(2, "optimizer") == "moments of client 2";
    });
  for (auto& r : readers) r.join();
  REQUIRE(ok == std::vector<int>(4, 20));

  store.clear();
  REQUIRE_FALSE(fs::exists(spill));
  REQUIRE(store.ram_bytes() + store.disk_bytes() == 0);
  REQUIRE_THROWS_AS(store.put(0, "Bad/Name", {}), std::logic_error);
}

TEST_CASE("a client-state snapshot links the spilled files and keeps its values after later writes",
          "[sim][client_state]") {
  const fs::path dir = fedglioma::testing::temp_dir("client-state-snapshot");
  ClientStateStore store(dir / "spill", 400);
  store.put(0, "local.model", values(100, 0));  // in RAM
  store.put(1, "local.model", values(100, 1));  // on disk
  store.put_text(1, "optimizer", "old");        // on disk
  const std::string entries = store.snapshot(dir / "snap");
  REQUIRE(fs::exists(dir / "snap" / "in_ram.state"));
  REQUIRE(links_of(dir / "snap" / "1-local.model.state") == 2);  // linked, not copied

  // Later rounds replace the spilled files; the snapshot keeps the old ones.
  store.put(1, "local.model", values(100, 50));
  store.put_text(1, "optimizer", "new");
  store.put(0, "local.model", values(100, 60));
  REQUIRE(links_of(dir / "snap" / "1-local.model.state") == 1);

  ClientStateStore restored(dir / "spill-restored", 0);  // another budget: everything on disk now
  restored.restore(dir / "snap", entries);
  REQUIRE(restored.buffer(0, "local.model") == values(100, 0));
  REQUIRE(restored.buffer(1, "local.model") == values(100, 1));
  REQUIRE(restored.text(1, "optimizer") == "old");
  REQUIRE(restored.ram_bytes() == 0);

  // A snapshot missing a file is refused, naming it.
  fs::remove(dir / "snap" / "1-optimizer.state");
  REQUIRE_THROWS_WITH(restored.restore(dir / "snap", entries), Catch::Contains("1-optimizer.state") &&
                                                                  Catch::Contains("missing"));
}
