// report.html from a run folder written here in the formats of docs/files.md: every section, the
// escaping of data, gaps and clipped bands in the charts, one-line notes for files a run did not
// write, and the refusals of `fedglioma report`.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "core/error.h"
#include "experiments/cli_report.h"
#include "sim/report/report_html.h"
#include "tests/support/fixtures.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const char* const kOddSite = "<b>&\"x";  // a site id that needs escaping everywhere
const std::vector<std::string> kMarkerNames = {"idh", "codeletion_1p19q", "mgmt", "grade"};

void write(const fs::path& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

json interval(double lo, double hi) { return json::array({lo, hi}); }

// One evaluated set (SET in docs/files.md); `dice` none: a diverged model, every metric null.
json set_json(int n, std::optional<double> dice, double auc, double auc_hi = 0.95) {
  json s = {{"n", n}, {"dice_median", nullptr}, {"hd95_median", 12.0}};
  s["dice_mean"] = dice ? json(*dice) : json(nullptr);
  s["dice_mean_ci"] = {{"method", "bootstrap"},
                       {"interval", dice ? interval(*dice - 0.1, *dice + 0.08) : json(nullptr)}};
  if (!dice) s["dice_mean_ci"]["reason"] = "the model diverged";
  for (const std::string& m : kMarkerNames) {
    s["auc"][m] = dice ? json(auc) : json(nullptr);
    s["auc_n"][m] = {{"positive", 3}, {"negative", n - 3}};
    s["auc_ci"][m] = {{"delong", dice ? interval(auc - 0.25, auc_hi) : json(nullptr)}, {"bootstrap", nullptr}};
    if (!dice) s["auc_ci"][m]["reason"] = "the model diverged";
    s["calibration"][m] = {{"brier", 0.2}, {"ece", 0.08}};
    s["rates"][m] = {{"at_0.5", nullptr}, {"youden", nullptr}, {"at_val_threshold", nullptr}};
  }
  if (!dice) {
    s["status"] = "diverged";
    s["reason"] = "non-finite loss";
  }
  return s;
}

json round_json(int round, std::optional<double> val_dice, double external_dice, bool evaluated = true) {
  json r = {{"round", round},
            {"seconds", 2.0 + round},
            {"clients",
             {{{"id", "site-a"}, {"samples", 6}, {"train_loss", 3.0 - 0.4 * round}, {"status", "ok"}},
              {{"id", kOddSite}, {"samples", 5}, {"train_loss", nullptr}, {"status", "dropped out"}}}}};
  if (!evaluated) return r;
  json spread = {{"worst", 0.61}, {"best", 0.83}, {"sd", 0.11}, {"sites", 2}, {"undefined", 0}};
  json fairness = {{"dice_mean", spread}, {"auc", json::object()}};
  for (const std::string& m : kMarkerNames) fairness["auc"][m] = spread;
  r["eval"] = {{"val", set_json(8, val_dice, 0.7)},
               {"external", set_json(4, external_dice, 0.8, 1.2)},  // an upper bound past 1: clipped
               {"test", set_json(4, 0.5, 0.6)},
               {"sites", {{"site-a", set_json(4, 0.83, 0.75)}, {kOddSite, set_json(4, 0.61, 0.65)}}},
               {"personal", {{"site-a", {{"val", set_json(4, 0.85, 0.7)}, {"external", set_json(4, 0.6, 0.7)}}}}},
               {"fairness", {{"sites", fairness}, {"personal", fairness}}}};
  return r;
}

// A finished five-round run: round 3 not evaluated, round 4's validation diverged, round 2 selected.
fs::path fake_run(const std::string& name) {
  const fs::path dir = fedglioma::testing::temp_dir(name) / "fedper-demo";
  fs::create_directories(dir);
  write(dir / ".fedglioma-run", "");
  write(dir / "config.resolved.json",
        json{{"federation",
              {{"strategy", {{"name", "fedper"}, {"personal_layers", 2}}}, {"mode", "federated"}, {"rounds", 5}}},
             {"partition", {{"scheme", "natural"}}},
             {"model", {{"name", "multitask_unet3d"}}},
             {"runtime", {{"seed", 3}}}}
            .dump());
  std::string rounds;
  const std::vector<json> all = {round_json(1, 0.5, 0.4), round_json(2, 0.8, 0.55), round_json(3, 0, 0, false),
                                 round_json(4, std::nullopt, 0.6), round_json(5, 0.7, 0.65)};
  for (const json& r : all) rounds += r.dump() + "\n";
  write(dir / "rounds.jsonl", rounds);
  json selected = all[1];
  selected["rule"] = "val.dice_mean";
  selected["score"] = 0.8;
  write(dir / "summary.json", json{{"rounds", 5},
                                   {"seconds_total", 3725.0},
                                   {"seconds_last_process", 61.5},
                                   {"processes", 2},
                                   {"peak_rss_mb", 812.4},
                                   {"final", all[4]},
                                   {"selected", selected},
                                   {"identity", {{"config", "c0ffee12"}, {"data", "da7a5e7"}}},
                                   {"numerics", {{"cpu_numerics", "portable"}, {"threads_per_worker", 1}}},
                                   {"warnings", {"SCAFFOLD with Adam <momentum>"}}}
                                  .dump());
  write(dir / "cross_site.csv",
        "model,data,n,dice_mean,dice_mean_bootstrap_lo,dice_mean_bootstrap_hi,dice_median,hd95_median,status\n"
        "site-a,site-a,4,0.83,0.7,0.9,0.84,10,ok\n"
        "site-a,\"" +
            std::string("<b>&\"\"x") +
            "\",4,0.52,0.4,0.6,0.5,12,ok\n"
            "\"<b>&\"\"x\",site-a,4,,,,,,diverged\n"
            "global,external,4,0.61,0.5,0.7,0.6,11,ok\n");
  std::string roc = "model,round,predictor,split,site,marker,n_positive,n_negative,auc,threshold,fpr,tpr\n";
  std::string calibration =
      "model,round,predictor,split,site,marker,bin,bin_lower,bin_upper,n,mean_predicted,fraction_positive,brier,ece\n";
  for (const auto& [model, round] : {std::pair{"selected", 2}, {"final", 5}})
    for (const char* split : {"val", "external"})
      for (const std::string& m : kMarkerNames) {
        const std::string head = std::string(model) + "," + std::to_string(round) + ",global," + split + ",all," + m;
        roc += head + ",3,5,0.733,inf,0,0\n" + head + ",3,5,0.733,0.7,0.2,0.667\n" + head + ",3,5,0.733,0.2,1,1\n";
        calibration += head + ",1,0.1,0.2,5,0.15,0.2,0.19,0.07\n" + head + ",8,0.8,0.9,3,0.85,0.667,0.19,0.07\n";
      }
  write(dir / "roc.csv", roc);
  write(dir / "calibration.csv", calibration);
  write(dir / "cases.csv",
        "model,round,predictor,case_id,site,split,dice,hd95,volume_pred_ml,volume_ref_ml,p_idh,p_codeletion_1p19q,"
        "p_mgmt,p_grade,y_idh,y_codeletion_1p19q,y_mgmt,y_grade\n"
        "selected,2,global,case-good,site-a,val,0.91,4,30,31,0.9,0.1,0.5,0.8,1,0,1,1\n"
        "selected,2,global,\"case, worst\",site-a,val,0.12,40,3,30,0.2,0.1,0.5,0.8,1,0,,1\n"
        "final,5,global,case-final-only,site-a,val,0.01,40,3,30,0.2,0.1,0.5,0.8,1,0,1,1\n");
  return dir;
}

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

std::string unbase64(const std::string& text) {
  static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  unsigned bits = 0;
  int have = 0;
  for (const char c : text) {
    if (c == '=') break;
    bits = bits << 6 | static_cast<unsigned>(kAlphabet.find(c));
    if ((have += 6) >= 8) out += static_cast<char>((bits >> (have -= 8)) & 0xFF);
  }
  return out;
}

// The page's images as (alt text, SVG document).
std::vector<std::pair<std::string, std::string>> images(const std::string& html) {
  std::vector<std::pair<std::string, std::string>> out;
  const std::regex img(R"re(<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]*)" alt="([^"]*)">)re");
  for (std::sregex_iterator it(html.begin(), html.end(), img), end; it != end; ++it)
    out.emplace_back((*it)[2], unbase64((*it)[1]));
  return out;
}

std::string image(const std::string& html, const std::string& alt) {
  for (const auto& [a, svg] : images(html))
    if (a == alt) return svg;
  FAIL("no image '" << alt << "'");
  return "";
}

std::string section_of(const std::string& html, const std::string& id) {
  const std::size_t start = html.find("<section id=\"" + id + "\">");
  REQUIRE(start != std::string::npos);
  return html.substr(start, html.find("</section>", start) - start);
}

}  // namespace

TEST_CASE("report.html shows every section of a run folder", "[report]") {
  // Prepare
  const fs::path run = fake_run("report-sections");

  // Execute
  const std::string html = fedglioma::sim::report_html(run);

  // Assert: a page that needs nothing else, its error hook first and its check last.
  REQUIRE(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<meta name=\"generator\" content=\"fedglioma report\">") != std::string::npos);
  CHECK(html.find("window.onerror") < html.find("<style>"));
  CHECK(html.find("document.body.dataset.reportCheck") > html.find("</main>"));
  CHECK(count(html, "<script") == 2);
  for (const char* outside : {"src=\"http", "href=\"http", "<link", "@import", "url(http", "<script src"})
    CHECK(html.find(outside) == std::string::npos);
  const auto all_images = images(html);
  CHECK(count(html, "<img") == all_images.size());
  CHECK(all_images.size() == 1 + 4 + 1 + 1 + 16 + 1);  // Dice, AUCs, loss; cross-site; ROC and reliability; seconds
  for (const auto& [alt, svg] : all_images) {
    CHECK(svg.rfind("<svg xmlns=\"http://www.w3.org/2000/svg\"", 0) == 0);
    CHECK(svg.size() > 6);
    CHECK(svg.compare(svg.size() - 6, 6, "</svg>") == 0);
  }

  // 1. The run.
  const std::string head = section_of(html, "run");
  for (const char* fact : {"fedper (personal_layers = 2)", "federated", "natural", "c0ffee12", "da7a5e7",
                           "cpu_numerics", "portable", "SCAFFOLD with Adam &lt;momentum&gt;", "2 (site-a, &lt;b&gt;"})
    CHECK_THAT(head, Catch::Contains(fact));
  CHECK_THAT(html, Catch::Contains("<h1>fedper-demo</h1>"));
  // 2. Selected against final.
  const std::string selection = section_of(html, "selection");
  CHECK_THAT(selection, Catch::Contains("Selected: round 2, by val.dice_mean = 0.800. Final: round 5."));
  CHECK(count(selection, "<td>validation</td>") == 2);
  CHECK(count(selection, "<td>test</td>") == 2);
  CHECK_THAT(selection, Catch::Contains("0.800<span class=\"sub\">[0.700, 0.880]</span>"));
  CHECK_THAT(selection, Catch::Contains("3+ / 5\xE2\x88\x92"));
  // 3. Curves: one per chart, with the n of each set and the selected round marked.
  const std::string curves = section_of(html, "curves");
  CHECK_THAT(curves, Catch::Contains("bootstrap interval"));
  CHECK_THAT(image(html, "mean Dice per round"), Catch::Contains("n = 8 validation, 4 external"));
  CHECK_THAT(image(html, "mean Dice per round"), Catch::Contains("selected (round 2)"));
  CHECK_THAT(image(html, "IDH AUC per round"), Catch::Contains("3+/5"));
  CHECK_THAT(image(html, "training loss per round"), Catch::Contains("mean train_loss"));
  // 4. Sites, fairness, own models, worst cases (the selected model's, lowest Dice first).
  const std::string sites = section_of(html, "sites");
  CHECK_THAT(sites, Catch::Contains("<td>&lt;b&gt;&amp;&quot;x</td>"));
  CHECK_THAT(sites, Catch::Contains("Fairness across sites"));
  CHECK_THAT(sites, Catch::Contains("0.610"));
  CHECK_THAT(sites, Catch::Contains("The sites' own models"));
  CHECK(sites.find("case, worst") < sites.find("case-good"));
  CHECK(sites.find("case-final-only") == std::string::npos);
  // 5. Cross-site, 6. ROC and calibration, 7. timing, 8. regenerating.
  const std::string cross = image(html, "cross-site mean Dice");
  CHECK_THAT(cross, Catch::Contains(">0.830</text>"));
  CHECK_THAT(cross, Catch::Contains(">n=4</text>"));
  CHECK_THAT(cross, Catch::Contains("fill=\"url(#hatch)\""));  // the diverged cell and the ones not evaluated
  CHECK_THAT(image(html, "IDH ROC val"), Catch::Contains("selected (round 2): AUC 0.733"));
  CHECK_THAT(image(html, "IDH ROC val"), Catch::Contains("final (round 5): AUC 0.733"));
  CHECK_THAT(image(html, "MGMT reliability external"), Catch::Contains("Brier 0.190, ECE 0.070"));
  CHECK_THAT(image(html, "MGMT reliability external"), Catch::Contains("n = 8 in 2 non-empty bins"));
  const std::string timing = section_of(html, "timing");
  CHECK_THAT(timing, Catch::Contains("1 h 02 min (3725 s)"));
  CHECK_THAT(timing, Catch::Contains("812 MB"));
  CHECK_THAT(section_of(html, "regenerate"), Catch::Contains("fedglioma report RUN_DIR"));
}

TEST_CASE("report.html escapes data, leaves gaps for missing values and clips bands to [0, 1]", "[report]") {
  const std::string html = fedglioma::sim::report_html(fake_run("report-escaping"));

  // The odd site id is text everywhere: in the page and inside every image.
  CHECK(html.find(kOddSite) == std::string::npos);
  CHECK(html.find("&lt;b&gt;&amp;&quot;x") != std::string::npos);
  for (const auto& [alt, svg] : images(html)) CHECK(svg.find(kOddSite) == std::string::npos);
  CHECK_THAT(image(html, "cross-site mean Dice"), Catch::Contains("&lt;b&gt;&amp;&quot;x"));

  // Validation Dice: rounds 1, 2 | 4 diverged (a gap) | 5 a lone dot; round 3 was not evaluated.
  const std::string dice = image(html, "mean Dice per round");
  const std::regex line(R"re(<polyline fill="none" stroke="#0072B2"[^>]*points="([^"]*)")re");
  std::vector<std::string> runs;
  for (std::sregex_iterator it(dice.begin(), dice.end(), line), end; it != end; ++it) runs.push_back((*it)[1]);
  REQUIRE(runs.size() == 1);
  CHECK(count(runs[0], ",") == 2);
  CHECK(count(dice, "<circle") == 3 + 4);  // validation's three points, external's four

  // External AUC's DeLong upper bound 1.2 is drawn at the top of the axis, never above it.
  const std::string auc = image(html, "IDH AUC per round");
  std::smatch axis;
  REQUIRE(std::regex_search(auc, axis, std::regex(R"re(<line x1="60" y1="([\d.]+)" x2="60" y2="([\d.]+)")re")));
  const double top = std::stod(axis[1]), bottom = std::stod(axis[2]);
  const std::regex polygon(R"re(<polygon[^>]*points="([^"]*)")re");
  const std::regex pair(R"re([-\d.]+,([-\d.]+))re");
  int bands = 0;
  for (std::sregex_iterator it(auc.begin(), auc.end(), polygon), end; it != end; ++it, ++bands) {
    const std::string points = (*it)[1];
    for (std::sregex_iterator p(points.begin(), points.end(), pair); p != end; ++p) {
      CHECK(std::stod((*p)[1]) >= top);
      CHECK(std::stod((*p)[1]) <= bottom);
    }
  }
  CHECK(bands == 2);  // validation's band breaks at round 4; external's is whole
}

TEST_CASE("a file the run did not write is one line in its section", "[report]") {
  // Prepare: no tables, no rounds.jsonl, and a run without validation cases.
  const fs::path run = fake_run("report-missing");
  for (const char* name : {"cross_site.csv", "roc.csv", "calibration.csv", "cases.csv", "rounds.jsonl"})
    fs::remove(run / name);
  json summary = json::parse(read(run / "summary.json"));
  summary["selected"] = summary["final"];
  summary["selected"]["rule"] = "final";
  summary["selected"]["reason"] = "no validation cases";
  summary.erase("identity");
  summary["peak_rss_mb"] = nullptr;
  write(run / "summary.json", summary.dump());

  // Execute
  const std::string html = fedglioma::sim::report_html(run);

  // Assert
  CHECK_THAT(section_of(html, "cross-site"),
             Catch::Contains("cross_site.csv: not written by this run (no models of the sites&#39; own)"));
  CHECK_THAT(section_of(html, "roc"), Catch::Contains("roc.csv: not written by this run"));
  CHECK_THAT(section_of(html, "roc"), Catch::Contains("calibration.csv: not written by this run"));
  CHECK_THAT(section_of(html, "sites"), Catch::Contains("cases.csv: not written by this run"));
  CHECK_THAT(section_of(html, "curves"), Catch::Contains("rounds.jsonl: not written by this run"));
  CHECK_THAT(section_of(html, "selection"), Catch::Contains("by final (no validation cases)"));
  CHECK_THAT(section_of(html, "selection"), Catch::Contains("The selected model is the final one."));
  CHECK_THAT(section_of(html, "run"), Catch::Contains("not recorded in summary.json"));
  CHECK_THAT(section_of(html, "timing"), Catch::Contains("not measured"));
  CHECK(count(section_of(html, "cross-site"), "class=\"absent\"") == 1);
}

TEST_CASE("fedglioma report writes RUN_DIR/report.html and replaces only a report", "[report]") {
  const fs::path run = fake_run("report-cli");
  std::ostringstream console;

  // The default output, then written again over itself.
  const fs::path out = fedglioma::experiments::run_report({run, {}}, console);
  CHECK(out == run / "report.html");
  CHECK(fedglioma::sim::is_report_html(read(out)));
  CHECK_THAT(console.str(), Catch::Contains("wrote " + out.string()));
  CHECK(fedglioma::experiments::run_report({run, out}, console) == out);

  // An existing file that is not a report is never overwritten.
  const fs::path notes = run.parent_path() / "notes.html";
  write(notes, "<html>my notes</html>");
  CHECK_THROWS_WITH(fedglioma::experiments::run_report({run, notes}, console),
                    Catch::Contains(notes.string()) && Catch::Contains("is not a fedglioma report"));
  CHECK(read(notes) == "<html>my notes</html>");
  CHECK_THROWS_AS(fedglioma::experiments::run_report({run, notes}, console), fedglioma::ConfigError);

  // A folder that does not exist, and a folder given as the file.
  const fs::path nowhere = run.parent_path() / "missing" / "report.html";
  CHECK_THROWS_WITH(fedglioma::experiments::run_report({run, nowhere}, console),
                    Catch::Contains((run.parent_path() / "missing").string()) && Catch::Contains("does not exist"));
  CHECK_FALSE(fs::exists(nowhere.parent_path()));
  CHECK_THROWS_WITH(fedglioma::experiments::run_report({run, run}, console), Catch::Contains("is not a file"));
}

TEST_CASE("fedglioma report refuses a folder that is not a finished run, naming what it lacks", "[report]") {
  std::ostringstream console;
  const fs::path plain = fedglioma::testing::temp_dir("report-plain");
  write(plain / "summary.json", "{}");
  CHECK_THROWS_WITH(fedglioma::experiments::run_report({plain, {}}, console),
                    Catch::Contains(plain.string()) && Catch::Contains("is not a finished run folder") &&
                        Catch::Contains(".fedglioma-run"));
  CHECK_FALSE(fs::exists(plain / "report.html"));

  const fs::path running = fake_run("report-running");
  fs::remove(running / "summary.json");
  CHECK_THROWS_AS(fedglioma::experiments::run_report({running, {}}, console), fedglioma::ConfigError);
  CHECK_THROWS_WITH(fedglioma::experiments::run_report({running, {}}, console),
                    Catch::Contains("is not a finished run folder") && Catch::Contains("summary.json"));
  CHECK_FALSE(fs::exists(running / "report.html"));

  // Damaged JSON: an IoError naming the file (and the line).
  const fs::path damaged = fake_run("report-damaged");
  write(damaged / "rounds.jsonl", read(damaged / "rounds.jsonl") + "{\"round\": 6, \"sec\n");
  CHECK_THROWS_WITH(fedglioma::experiments::run_report({damaged, {}}, console),
                    Catch::Contains((damaged / "rounds.jsonl").string() + "' line 6"));
  write(damaged / "summary.json", "{\"rounds\": ");
  CHECK_THROWS_AS(fedglioma::experiments::run_report({damaged, {}}, console), fedglioma::IoError);
  CHECK_THROWS_WITH(fedglioma::experiments::run_report({damaged, {}}, console), Catch::Contains("summary.json"));
  CHECK_FALSE(fs::exists(damaged / "report.html"));
}

TEST_CASE("a run on the virtual clock also plots Dice against simulated hours", "[report]") {
  const fs::path run = fake_run("report-clock");
  REQUIRE(fedglioma::sim::report_html(run).find("against simulated hours") == std::string::npos);
  std::ifstream in(run / "rounds.jsonl");
  std::string clocked;
  for (std::string line; std::getline(in, line);) {
    json r = json::parse(line);
    r["clock_seconds"] = 1800 * r["round"].get<int>();  // round 2 ends at 1 h, round 4 at 2 h
    clocked += r.dump() + "\n";
  }
  in.close();
  write(run / "rounds.jsonl", clocked);
  const std::string svg = image(fedglioma::sim::report_html(run), "mean Dice against simulated hours");
  CHECK_THAT(svg, Catch::Contains("simulated hours"));
  CHECK_THAT(svg, Catch::Contains("validation"));
}
