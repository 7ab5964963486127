#include "data/synth.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/random.h"
#include "data/nifti_io.h"

namespace fedglioma::data {
namespace {

namespace fs = std::filesystem;

// Tissue classes and their relative intensities per modality (t1, t1c, t2, flair), chosen to
// follow the usual appearance: CSF dark on T1 and FLAIR but bright on T2; oedema bright on T2
// and FLAIR; enhancing tumour bright on T1c only; necrosis fluid-like.
enum Tissue { kBackground, kScalp, kSkull, kCsf, kGrey, kWhite, kOedema, kCore, kNecrosis, kTissueCount };
constexpr double kIntensity[kTissueCount][4] = {
    {0.00, 0.00, 0.00, 0.00},  // background
    {0.95, 0.95, 0.55, 0.70},  // scalp
    {0.08, 0.08, 0.06, 0.06},  // skull
    {0.22, 0.22, 1.00, 0.12},  // CSF
    {0.55, 0.57, 0.55, 0.58},  // grey matter
    {0.80, 0.80, 0.38, 0.45},  // white matter
    {0.45, 0.45, 0.85, 0.88},  // oedema
    {0.40, 0.42, 0.82, 0.82},  // solid tumour
    {0.20, 0.20, 0.95, 0.35},  // necrosis
};
constexpr double kEnhancingT1c = 1.35;
constexpr double kPatchyT1c = 1.0;
constexpr double kMismatchFlair = 0.42;
constexpr double kCalcification = 0.12;
constexpr double kFovMm = 192.0;

struct Vec3 {
  double x, y, z;
};

double norm(const Vec3& v) { return std::sqrt(v.x * v.x + v.y * v.y + v.z * v.z); }

// A smooth, lobulated radial profile so that tumours are not perfect spheres.
struct Lobes {
  double amplitude;
  double phase[3];
  double operator()(const Vec3& d, double r) const {
    if (r < 1e-9) return 1.0;
    return 1.0 + amplitude * (std::sin(3.0 * d.x / r + phase[0]) + std::sin(3.0 * d.y / r + phase[1]) +
                              std::sin(3.0 * d.z / r + phase[2])) / 3.0;
  }
};

Lobes draw_lobes(Rng& rng, double amplitude) {
  return {amplitude, {rng.uniform(0, 6.283), rng.uniform(0, 6.283), rng.uniform(0, 6.283)}};
}

// Separable [1 2 1]/4 smoothing, a stand-in for the scanner's point-spread function.
void smooth(std::vector<double>& v, int n) {
  std::vector<double> tmp(v.size());
  const std::int64_t strides[3] = {1, n, static_cast<std::int64_t>(n) * n};
  for (std::int64_t stride : strides) {
    for (std::int64_t i = 0; i < static_cast<std::int64_t>(v.size()); ++i) {
      const std::int64_t coord = (i / stride) % n;
      const double left = coord > 0 ? v[i - stride] : v[i];
      const double right = coord + 1 < n ? v[i + stride] : v[i];
      tmp[i] = 0.25 * left + 0.5 * v[i] + 0.25 * right;
    }
    v.swap(tmp);
  }
}

std::string site_name(int index) { return index < 0 ? "external" : "site-" + std::string(1, static_cast<char>('a' + index)); }

}  // namespace

SiteProfile site_profile(int index, int sites, std::uint64_t seed) {
  const bool external = index < 0;
  Rng rng(derive_seed(seed, 0, static_cast<std::uint64_t>(index + 1), RngPurpose::kSynthCohort));
  SiteProfile p;
  p.name = site_name(index);
  for (double& s : p.scale) s = 1000.0 * (external ? rng.uniform(0.45, 2.2) : rng.uniform(0.6, 1.6));
  p.gamma = external ? rng.uniform(0.8, 1.25) : rng.uniform(0.88, 1.12);
  p.bias_sd = external ? rng.uniform(0.2, 0.3) : rng.uniform(0.05, 0.2);
  p.noise = external ? rng.uniform(0.05, 0.08) : rng.uniform(0.02, 0.06);
  static constexpr double kIdhPrevalence[] = {0.30, 0.50, 0.40, 0.25, 0.45, 0.35};
  p.p_idh_mutant = external ? 0.4 : kIdhPrevalence[index % 6];
  // Like the public datasets, some sites do not record every marker (UPenn-GBM has no 1p/19q,
  // EGD no MGMT): with two or more sites, site-b has no 1p/19q and site-c no MGMT labels.
  p.records_codeletion = !(index == 1 && sites >= 2);
  p.records_mgmt = !(index == 2 && sites >= 3);
  return p;
}

namespace {

// What one case is made of, drawn from its generator in a fixed order: labels, anatomy, tumour,
// acquisition. The voxels follow from these draws and, last, the noise.
struct CaseDraws {
  bool idh = false, codeleted = false, methylated = false;
  int grade = 4;
  Vec3 head_radii{0, 0, 0}, head_shift{0, 0, 0};
  double ventricle_scale = 1.0, gyri_phase = 0.0;
  Vec3 centre{0, 0, 0};
  double core_radius = 0.0, oedema_radius = 0.0;
  Lobes core_lobes{0, {0, 0, 0}}, oedema_lobes{0, {0, 0, 0}};
  double patch_phase[3] = {0, 0, 0};
  std::vector<Vec3> calcifications;
  double bias[4] = {0, 0, 0, 0};
};

CaseDraws draw_case(const SiteProfile& site, Rng& rng) {
  CaseDraws d;
  // Labels, with the dependencies seen in real cohorts (WHO CNS 2021 and TCGA/UCSF tables).
  d.idh = rng.bernoulli(site.p_idh_mutant);
  const double g = rng.uniform();
  d.grade = d.idh ? (g < 0.5 ? 2 : g < 0.85 ? 3 : 4) : (g < 0.08 ? 2 : g < 0.2 ? 3 : 4);
  d.codeleted = d.idh && rng.bernoulli(0.45);
  d.methylated = rng.bernoulli(d.idh ? 0.8 : 0.45);

  // Head and brain anatomy, in normalised coordinates [-1, 1].
  const double head_scale = rng.uniform(0.93, 1.03);
  d.head_radii = {0.80 * head_scale, 0.92 * head_scale, 0.78 * head_scale};
  d.head_shift = {rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03)};
  d.ventricle_scale = rng.uniform(0.8, 1.25);
  d.gyri_phase = rng.uniform(0, 6.283);

  // Tumour: IDH-mutant tumours are larger and non-enhancing with little oedema; wild-type
  // tumours have a smaller core with wide oedema. Co-deleted tumours sit frontal and cortical.
  const double side = rng.bernoulli(0.5) ? 1.0 : -1.0;
  d.centre = {side * rng.uniform(0.15, 0.33), rng.uniform(-0.3, 0.3), rng.uniform(-0.2, 0.3)};
  if (d.codeleted) d.centre = {side * rng.uniform(0.25, 0.4), rng.uniform(0.3, 0.5), rng.uniform(0.0, 0.3)};
  d.core_radius = d.idh ? rng.uniform(0.19, 0.29) : rng.uniform(0.13, 0.22);
  double oedema_factor = d.idh ? rng.uniform(1.15, 1.45) : rng.uniform(1.55, 2.15);
  if (d.methylated) oedema_factor *= 0.93;  // the deliberately weak MGMT signature
  d.oedema_radius = d.core_radius * oedema_factor;
  d.core_lobes = draw_lobes(rng, rng.uniform(0.1, 0.3));
  d.oedema_lobes = draw_lobes(rng, rng.uniform(0.15, 0.35));
  for (double& phase : d.patch_phase) phase = rng.uniform(0, 6.283);
  if (d.codeleted) {
    const int count = 4 + static_cast<int>(rng.below(4));
    for (int i = 0; i < count; ++i) {
      Vec3 dir{rng.normal(), rng.normal(), rng.normal()};
      const double r = d.core_radius * 0.75 * std::cbrt(rng.uniform()) / std::max(norm(dir), 1e-9);
      d.calcifications.push_back({d.centre.x + dir.x * r, d.centre.y + dir.y * r, d.centre.z + dir.z * r});
    }
  }

  // Acquisition: smooth multiplicative bias field and noise, strengths set by the site.
  for (double& b : d.bias) b = rng.normal() * site.bias_sd;
  return d;
}

// The healthy tissue at normalised point p; `rh` gets p's radius in units of the head's.
Tissue anatomy_at(const Vec3& p, const CaseDraws& d, double& rh) {
  const Vec3 h{(p.x - d.head_shift.x) / d.head_radii.x, (p.y - d.head_shift.y) / d.head_radii.y,
               (p.z - d.head_shift.z) / d.head_radii.z};
  rh = norm(h);
  if (rh > 1.0) return kBackground;
  if (rh > 0.92) return kScalp;
  if (rh > 0.86) return kSkull;
  if (rh > 0.83) return kCsf;
  const double cortex = 0.70 + 0.04 * std::sin(14 * p.x + d.gyri_phase) * std::sin(14 * p.y) * std::sin(14 * p.z);
  Tissue tissue = rh > cortex ? kGrey : kWhite;
  for (double vx : {-0.12, 0.12}) {
    const Vec3 v{(p.x - vx) / (0.07 * d.ventricle_scale), (p.y - 0.02) / (0.22 * d.ventricle_scale),
                 (p.z - 0.05) / (0.11 * d.ventricle_scale)};
    if (norm(v) < 1.0) tissue = kCsf;
  }
  return tissue;
}

// The BraTS 2023 labels the synthetic masks use: necrotic / non-enhancing core, oedema, enhancing.
constexpr std::uint8_t kLabelCore = 1, kLabelOedema = 2, kLabelEnhancing = 3;

// The tumour label of brain point p (0: not tumour); where it is tumour, its intensities
// replace `value`. The enhancing tumour is the rim around grade 4's necrosis and grade 3's
// patches, bright on T1c; the rest of the core is non-enhancing (or necrotic).
std::uint8_t tumour_at(const Vec3& p, const CaseDraws& d, double calc_radius, double value[4]) {
  const Vec3 dp{p.x - d.centre.x, p.y - d.centre.y, p.z - d.centre.z};
  const double r = norm(dp);
  const double rc = r / (d.core_radius * d.core_lobes(dp, r));
  const double ro = r / (d.oedema_radius * d.oedema_lobes(dp, r));
  if (rc > 1.0) {
    if (ro > 1.0) return 0;
    for (int m = 0; m < 4; ++m) value[m] = kIntensity[kOedema][m];
    return kLabelOedema;
  }
  std::uint8_t label = kLabelCore;
  for (int m = 0; m < 4; ++m) value[m] = kIntensity[kCore][m];
  if (d.grade == 4) {
    if (rc < 0.55) {
      for (int m = 0; m < 4; ++m) value[m] = kIntensity[kNecrosis][m];
    } else {
      value[1] = kEnhancingT1c;  // the enhancing rim
      label = kLabelEnhancing;
    }
  } else if (d.grade == 3) {
    const double patches = std::sin(7 * p.x + d.patch_phase[0]) * std::sin(7 * p.y + d.patch_phase[1]) *
                           std::sin(7 * p.z + d.patch_phase[2]);
    if (patches > 0.35) {
      value[1] = kPatchyT1c;
      label = kLabelEnhancing;
    }
  }
  if (d.idh && rc < 0.8 && !(d.grade == 4 && rc < 0.55)) value[3] = kMismatchFlair;
  for (const Vec3& c : d.calcifications) {
    const Vec3 dc{p.x - c.x, p.y - c.y, p.z - c.z};
    if (norm(dc) < calc_radius)
      for (int m = 0; m < 4; ++m) value[m] = kCalcification;
  }
  return label;
}

// The images from the noiseless signal: smoothed (the scanner's point-spread function), with
// noise inside the head only; the background stays exactly zero, as in skull-stripped and
// background-masked public data.
void write_images(SynthCase& out, std::array<std::vector<double>, 4>& signal, const std::vector<std::uint8_t>& head,
                  const SiteProfile& site, int n, Rng& rng) {
  Geometry geometry;
  const double spacing = kFovMm / n;
  geometry.size = {n, n, n};
  geometry.spacing = {spacing, spacing, spacing};
  geometry.origin = {-(n - 1) * spacing / 2, -(n - 1) * spacing / 2, -(n - 1) * spacing / 2};
  out.mask.geometry = geometry;
  for (int m = 0; m < 4; ++m) {
    smooth(signal[m], n);
    FloatVolume& image = out.images[m];
    image.geometry = geometry;
    image.voxels.resize(head.size());
    for (std::size_t v = 0; v < head.size(); ++v) {
      const double noisy = signal[m][v] + (head[v] ? rng.normal() * site.noise * site.scale[m] : 0.0);
      image.voxels[v] = head[v] ? static_cast<float>(std::max(noisy, 1.0)) : 0.0f;
    }
  }
}

}  // namespace

SynthCase synthesize_case(const SiteProfile& site, int size, std::uint64_t case_seed) {
  Rng rng(case_seed);
  const CaseDraws d = draw_case(site, rng);
  SynthCase out;
  out.labels = {d.idh ? 1 : 0, d.codeleted ? 1 : 0, d.methylated ? 1 : 0, d.grade};

  const int n = size;
  const std::size_t voxels = static_cast<std::size_t>(n) * n * n;
  std::array<std::vector<double>, 4> signal;
  for (auto& s : signal) s.assign(voxels, 0.0);
  std::vector<std::uint8_t> head(voxels, 0);
  out.mask.voxels.assign(voxels, 0);
  const double calc_radius = std::max(0.07, 1.6 / n);
  for (int k = 0; k < n; ++k)
    for (int j = 0; j < n; ++j)
      for (int i = 0; i < n; ++i) {
        const std::size_t idx = (static_cast<std::size_t>(k) * n + j) * n + i;
        const Vec3 p{(i + 0.5) / n * 2 - 1, (j + 0.5) / n * 2 - 1, (k + 0.5) / n * 2 - 1};
        double rh = 0.0;
        const Tissue tissue = anatomy_at(p, d, rh);
        double value[4];
        for (int m = 0; m < 4; ++m) value[m] = kIntensity[tissue][m];
        if (rh <= 0.83) out.mask.voxels[idx] = tumour_at(p, d, calc_radius, value);
        head[idx] = tissue != kBackground;
        const double field = std::exp(d.bias[0] * p.x + d.bias[1] * p.y + d.bias[2] * p.z +
                                      d.bias[3] * (p.x * p.x + p.y * p.y - 0.5));
        for (int m = 0; m < 4; ++m) signal[m][idx] = site.scale[m] * field * std::pow(value[m], site.gamma);
      }
  write_images(out, signal, head, site, n, rng);
  return out;
}

fs::path write_synthetic_cohort(const SynthOptions& options) {
  if (options.sites < 1) throw ConfigError("--sites must be at least 1");
  if (options.cases_per_site < 1) throw ConfigError("--cases-per-site must be at least 1");
  if (options.external_cases < 0) throw ConfigError("--external-cases must be 0 or more");
  if (options.sites > 26) throw ConfigError("--sites must be at most 26 (sites are named site-a .. site-z)");
  if (options.size < 8 || options.size > 512) throw ConfigError("--size must be within [8, 512] voxels");
  std::error_code ec;
  fs::create_directories(options.out, ec);
  if (ec) throw IoError("cannot create '" + options.out.string() + "': " + ec.message());

  Manifest manifest;
  manifest.base_dir = fs::absolute(options.out);
  for (int s = 0; s < options.sites + 1; ++s) {
    const int index = s < options.sites ? s : -1;
    const int count = index < 0 ? options.external_cases : options.cases_per_site;
    const SiteProfile site = site_profile(index, options.sites, options.seed);
    for (int c = 0; c < count; ++c) {
      const std::uint64_t case_seed =
          derive_seed(options.seed, static_cast<std::uint64_t>(index + 1), static_cast<std::uint64_t>(c),
                      RngPurpose::kSynthCase);
      const SynthCase synth = synthesize_case(site, options.size, case_seed);
      char id[64];
      std::snprintf(id, sizeof id, "%s-%03d", site.name.c_str(), c);
      const fs::path dir = manifest.base_dir / site.name / id;
      fs::create_directories(dir, ec);
      if (ec) throw IoError("cannot create '" + dir.string() + "': " + ec.message());
      Case record;
      record.id = id;
      record.site = site.name;
      record.split = index < 0 ? "external" : "train";
      for (std::size_t m = 0; m < kModalities.size(); ++m) {
        record.images[m] = dir / (std::string(kModalities[m]) + ".nii.gz");
        write_image(record.images[m], synth.images[m]);
      }
      record.mask = dir / "mask.nii.gz";
      record.label_convention = "brats2023";
      write_labels(*record.mask, synth.mask);
      record.labels = synth.labels;
      if (!site.records_codeletion) record.labels.codeletion_1p19q.reset();
      if (!site.records_mgmt) record.labels.mgmt.reset();
      manifest.cases.push_back(std::move(record));
    }
  }
  const fs::path manifest_path = manifest.base_dir / "manifest.json";
  save_manifest(manifest, manifest_path);
  return manifest_path;
}

}  // namespace fedglioma::data
