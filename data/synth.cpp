#include "data/synth.h"

#include <algorithm>
#include <cmath>

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

SynthCase synthesize_case(const SiteProfile& site, int size, std::uint64_t case_seed) {
  Rng rng(case_seed);
  SynthCase out;

  // Labels, with the dependencies seen in real cohorts (WHO CNS 2021 and TCGA/UCSF tables).
  const bool idh = rng.bernoulli(site.p_idh_mutant);
  const double g = rng.uniform();
  const int grade = idh ? (g < 0.5 ? 2 : g < 0.85 ? 3 : 4) : (g < 0.08 ? 2 : g < 0.2 ? 3 : 4);
  const bool codeleted = idh && rng.bernoulli(0.45);
  const bool methylated = rng.bernoulli(idh ? 0.8 : 0.45);
  out.labels = {idh ? 1 : 0, codeleted ? 1 : 0, methylated ? 1 : 0, grade};

  // Head and brain anatomy, in normalised coordinates [-1, 1].
  const double head_scale = rng.uniform(0.93, 1.03);
  const Vec3 head_radii{0.80 * head_scale, 0.92 * head_scale, 0.78 * head_scale};
  const Vec3 head_shift{rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03)};
  const double ventricle_scale = rng.uniform(0.8, 1.25);
  const double gyri_phase = rng.uniform(0, 6.283);

  // Tumour: IDH-mutant tumours are larger and non-enhancing with little oedema; wild-type
  // tumours have a smaller core with wide oedema. Co-deleted tumours sit frontal and cortical.
  const double side = rng.bernoulli(0.5) ? 1.0 : -1.0;
  Vec3 centre{side * rng.uniform(0.15, 0.33), rng.uniform(-0.3, 0.3), rng.uniform(-0.2, 0.3)};
  if (codeleted) centre = {side * rng.uniform(0.25, 0.4), rng.uniform(0.3, 0.5), rng.uniform(0.0, 0.3)};
  const double core_radius = idh ? rng.uniform(0.19, 0.29) : rng.uniform(0.13, 0.22);
  double oedema_factor = idh ? rng.uniform(1.15, 1.45) : rng.uniform(1.55, 2.15);
  if (methylated) oedema_factor *= 0.93;  // the deliberately weak MGMT signature
  const double oedema_radius = core_radius * oedema_factor;
  const Lobes core_lobes = draw_lobes(rng, rng.uniform(0.1, 0.3));
  const Lobes oedema_lobes = draw_lobes(rng, rng.uniform(0.15, 0.35));
  const double patch_phase[3] = {rng.uniform(0, 6.283), rng.uniform(0, 6.283), rng.uniform(0, 6.283)};
  std::vector<Vec3> calcifications;
  if (codeleted) {
    const int count = 4 + static_cast<int>(rng.below(4));
    for (int i = 0; i < count; ++i) {
      Vec3 d{rng.normal(), rng.normal(), rng.normal()};
      const double r = core_radius * 0.75 * std::cbrt(rng.uniform()) / std::max(norm(d), 1e-9);
      calcifications.push_back({centre.x + d.x * r, centre.y + d.y * r, centre.z + d.z * r});
    }
  }

  // Acquisition: smooth multiplicative bias field and noise, strengths set by the site.
  double bias[4];
  for (double& b : bias) b = rng.normal() * site.bias_sd;

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
        const Vec3 h{(p.x - head_shift.x) / head_radii.x, (p.y - head_shift.y) / head_radii.y,
                     (p.z - head_shift.z) / head_radii.z};
        const double rh = norm(h);
        Tissue tissue = kBackground;
        if (rh > 1.0) {
          tissue = kBackground;
        } else if (rh > 0.92) {
          tissue = kScalp;
        } else if (rh > 0.86) {
          tissue = kSkull;
        } else if (rh > 0.83) {
          tissue = kCsf;
        } else {
          const double cortex = 0.70 + 0.04 * std::sin(14 * p.x + gyri_phase) * std::sin(14 * p.y) * std::sin(14 * p.z);
          tissue = rh > cortex ? kGrey : kWhite;
          for (double vx : {-0.12, 0.12}) {
            const Vec3 v{(p.x - vx) / (0.07 * ventricle_scale), (p.y - 0.02) / (0.22 * ventricle_scale),
                         (p.z - 0.05) / (0.11 * ventricle_scale)};
            if (norm(v) < 1.0) tissue = kCsf;
          }
        }
        double value[4];
        for (int m = 0; m < 4; ++m) value[m] = kIntensity[tissue][m];

        const bool in_brain = rh <= 0.83;
        if (in_brain) {
          const Vec3 d{p.x - centre.x, p.y - centre.y, p.z - centre.z};
          const double r = norm(d);
          const double rc = r / (core_radius * core_lobes(d, r));
          const double ro = r / (oedema_radius * oedema_lobes(d, r));
          if (rc <= 1.0) {
            out.mask.voxels[idx] = 1;
            for (int m = 0; m < 4; ++m) value[m] = kIntensity[kCore][m];
            if (grade == 4) {
              if (rc < 0.55) {
                for (int m = 0; m < 4; ++m) value[m] = kIntensity[kNecrosis][m];
              } else {
                value[1] = kEnhancingT1c;  // the enhancing rim
              }
            } else if (grade == 3) {
              const double patches = std::sin(7 * p.x + patch_phase[0]) * std::sin(7 * p.y + patch_phase[1]) *
                                     std::sin(7 * p.z + patch_phase[2]);
              if (patches > 0.35) value[1] = kPatchyT1c;
            }
            if (idh && rc < 0.8 && !(grade == 4 && rc < 0.55)) value[3] = kMismatchFlair;
            for (const Vec3& c : calcifications) {
              const Vec3 dc{p.x - c.x, p.y - c.y, p.z - c.z};
              if (norm(dc) < calc_radius)
                for (int m = 0; m < 4; ++m) value[m] = kCalcification;
            }
          } else if (ro <= 1.0) {
            out.mask.voxels[idx] = 1;
            for (int m = 0; m < 4; ++m) value[m] = kIntensity[kOedema][m];
          }
        }
        head[idx] = tissue != kBackground;
        const double field = std::exp(bias[0] * p.x + bias[1] * p.y + bias[2] * p.z +
                                      bias[3] * (p.x * p.x + p.y * p.y - 0.5));
        for (int m = 0; m < 4; ++m)
          signal[m][idx] = site.scale[m] * field * std::pow(value[m], site.gamma);
      }

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
    image.voxels.resize(voxels);
    for (std::size_t v = 0; v < voxels; ++v) {
      // Noise inside the head only: the background stays exactly zero, as in skull-stripped and
      // background-masked public data.
      const double noisy = signal[m][v] + (head[v] ? rng.normal() * site.noise * site.scale[m] : 0.0);
      image.voxels[v] = head[v] ? static_cast<float>(std::max(noisy, 1.0)) : 0.0f;
    }
  }
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
