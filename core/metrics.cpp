#include "core/metrics.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <numeric>

#include "core/random.h"

namespace fedglioma {
namespace {

using Size3 = std::array<std::int64_t, 3>;

// Foreground voxels with at least one 6-neighbour in the background (or on the grid border).
std::vector<std::uint8_t> surface(const std::uint8_t* mask, const Size3& size) {
  const std::int64_t nx = size[0], ny = size[1], nz = size[2];
  std::vector<std::uint8_t> out(static_cast<std::size_t>(nx * ny * nz), 0);
  auto at = [&](std::int64_t x, std::int64_t y, std::int64_t z) -> bool {
    if (x < 0 || y < 0 || z < 0 || x >= nx || y >= ny || z >= nz) return false;
    return mask[(z * ny + y) * nx + x] != 0;
  };
  for (std::int64_t z = 0; z < nz; ++z)
    for (std::int64_t y = 0; y < ny; ++y)
      for (std::int64_t x = 0; x < nx; ++x) {
        if (!at(x, y, z)) continue;
        const bool interior = at(x - 1, y, z) && at(x + 1, y, z) && at(x, y - 1, z) &&
                              at(x, y + 1, z) && at(x, y, z - 1) && at(x, y, z + 1);
        out[static_cast<std::size_t>((z * ny + y) * nx + x)] = interior ? 0 : 1;
      }
  return out;
}

// One pass of the Felzenszwalb-Huttenlocher lower-envelope transform along a line of `n`
// squared distances `f` with sample spacing `h` (mm): d[i] = min_j f[j] + (h*(i-j))^2.
void edt_1d(const double* f, double* d, std::int64_t n, double h, std::vector<std::int64_t>& v,
            std::vector<double>& z) {
  const double inf = std::numeric_limits<double>::infinity();
  v.assign(static_cast<std::size_t>(n), 0);
  z.assign(static_cast<std::size_t>(n + 1), 0.0);
  // Abscissa of the intersection of the parabolas rooted at samples p and q.
  auto intersect = [&](std::int64_t p, std::int64_t q) {
    const double xp = h * static_cast<double>(p), xq = h * static_cast<double>(q);
    return ((f[q] + xq * xq) - (f[p] + xp * xp)) / (2.0 * (xq - xp));
  };
  std::int64_t k = -1;
  for (std::int64_t q = 0; q < n; ++q) {
    if (!std::isfinite(f[q])) continue;
    double s = -inf;
    while (k >= 0 && (s = intersect(v[k], q)) <= z[k]) --k;
    ++k;
    v[k] = q;
    z[k] = k == 0 ? -inf : s;
    z[k + 1] = inf;
  }
  if (k < 0) {
    std::fill(d, d + n, inf);
    return;
  }
  std::int64_t j = 0;
  for (std::int64_t q = 0; q < n; ++q) {
    const double x = h * static_cast<double>(q);
    while (z[j + 1] < x) ++j;
    const double diff = x - h * static_cast<double>(v[j]);
    d[q] = diff * diff + f[v[j]];
  }
}

// Squared Euclidean distance (mm^2) from every voxel to the nearest non-zero voxel of `seeds`.
std::vector<double> squared_distance_map(const std::vector<std::uint8_t>& seeds, const Size3& size,
                                         const std::array<double, 3>& spacing) {
  const double inf = std::numeric_limits<double>::infinity();
  const std::int64_t nx = size[0], ny = size[1], nz = size[2];
  std::vector<double> dist(seeds.size());
  for (std::size_t i = 0; i < seeds.size(); ++i) dist[i] = seeds[i] ? 0.0 : inf;
  std::vector<std::int64_t> v;
  std::vector<double> z;
  const std::int64_t longest = std::max({nx, ny, nz});
  std::vector<double> line(static_cast<std::size_t>(longest)),
      out(static_cast<std::size_t>(longest));
  // Separable passes along x, y, z; each line is gathered, transformed and scattered back.
  const std::int64_t counts[3] = {nx, ny, nz};
  const std::int64_t strides[3] = {1, nx, nx * ny};
  for (int axis = 0; axis < 3; ++axis) {
    const std::int64_t n = counts[axis], stride = strides[axis];
    const int a1 = (axis + 1) % 3, a2 = (axis + 2) % 3;
    for (std::int64_t i2 = 0; i2 < counts[a2]; ++i2)
      for (std::int64_t i1 = 0; i1 < counts[a1]; ++i1) {
        const std::int64_t base = i1 * strides[a1] + i2 * strides[a2];
        for (std::int64_t q = 0; q < n; ++q) line[q] = dist[base + q * stride];
        edt_1d(line.data(), out.data(), n, spacing[axis], v, z);
        for (std::int64_t q = 0; q < n; ++q) dist[base + q * stride] = out[q];
      }
  }
  return dist;
}

}  // namespace

double dice(const std::uint8_t* prediction, const std::uint8_t* truth, std::size_t n) {
  std::size_t both = 0, p = 0, t = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const bool a = prediction[i] != 0, b = truth[i] != 0;
    p += a;
    t += b;
    both += a && b;
  }
  if (p + t == 0) return 1.0;
  return 2.0 * static_cast<double>(both) / static_cast<double>(p + t);
}

double hd95(const std::uint8_t* prediction, const std::uint8_t* truth, const Size3& size,
            const std::array<double, 3>& spacing) {
  const std::size_t n = static_cast<std::size_t>(size[0] * size[1] * size[2]);
  const bool p_empty = std::none_of(prediction, prediction + n, [](std::uint8_t v) { return v; });
  const bool t_empty = std::none_of(truth, truth + n, [](std::uint8_t v) { return v; });
  if (p_empty && t_empty) return 0.0;
  if (p_empty || t_empty) return kHd95OneEmpty;
  const auto sp = surface(prediction, size);
  const auto st = surface(truth, size);
  const auto to_truth = squared_distance_map(st, size, spacing);
  const auto to_prediction = squared_distance_map(sp, size, spacing);
  std::vector<double> distances;
  for (std::size_t i = 0; i < n; ++i) {
    if (sp[i]) distances.push_back(std::sqrt(to_truth[i]));
    if (st[i]) distances.push_back(std::sqrt(to_prediction[i]));
  }
  // The 95th percentile with linear interpolation between order statistics (numpy's default).
  std::sort(distances.begin(), distances.end());
  const double pos = 0.95 * static_cast<double>(distances.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, distances.size() - 1);
  return distances[lo] + (pos - static_cast<double>(lo)) * (distances[hi] - distances[lo]);
}

std::optional<double> roc_auc(const std::vector<double>& scores, const std::vector<int>& labels) {
  const std::size_t n = scores.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  // Mid-ranks for ties, then the Mann-Whitney U of the positives.
  double positive_rank_sum = 0.0;
  std::size_t positives = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) ++j;
    const double mid_rank = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t k = i; k <= j; ++k) {
      if (labels[order[k]] == 1) {
        positive_rank_sum += mid_rank;
        ++positives;
      }
    }
    i = j + 1;
  }
  const std::size_t negatives = n - positives;
  if (positives == 0 || negatives == 0) return std::nullopt;
  const double np = static_cast<double>(positives), nn = static_cast<double>(negatives);
  return (positive_rank_sum - np * (np + 1.0) / 2.0) / (np * nn);
}

namespace {

// Mid-rank of every value among `values` (ties share the mean of their ranks), 1-based.
std::vector<double> mid_ranks(const std::vector<double>& values) {
  const std::size_t n = values.size();
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return values[a] < values[b]; });
  std::vector<double> ranks(n);
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i;
    while (j + 1 < n && values[order[j + 1]] == values[order[i]]) ++j;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = 0.5 * static_cast<double>(i + j) + 1.0;
    i = j + 1;
  }
  return ranks;
}

double sample_variance(const std::vector<double>& v) {
  double m = 0.0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double ss = 0.0;
  for (double x : v) ss += (x - m) * (x - m);
  return ss / static_cast<double>(v.size() - 1);
}

// numpy.percentile's default (linear) interpolation of sorted values.
double percentile(const std::vector<double>& sorted, double q) {
  const double position = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(position));
  const std::size_t above = std::min(below + 1, sorted.size() - 1);
  return sorted[below] + (position - static_cast<double>(below)) * (sorted[above] - sorted[below]);
}

}  // namespace

std::optional<Interval> auc_ci_delong(const std::vector<double>& scores, const std::vector<int>& labels) {
  std::vector<double> pos, neg;
  for (std::size_t i = 0; i < scores.size(); ++i) (labels[i] == 1 ? pos : neg).push_back(scores[i]);
  if (pos.size() < 2 || neg.size() < 2) return std::nullopt;
  // Structural components through mid-ranks (Sun and Xu 2014): V10 for positives, V01 for negatives.
  std::vector<double> all = pos;
  all.insert(all.end(), neg.begin(), neg.end());
  const std::vector<double> r_all = mid_ranks(all), r_pos = mid_ranks(pos), r_neg = mid_ranks(neg);
  const double m = static_cast<double>(pos.size()), n = static_cast<double>(neg.size());
  std::vector<double> v10(pos.size()), v01(neg.size());
  double auc = 0.0;
  for (std::size_t i = 0; i < pos.size(); ++i) {
    v10[i] = (r_all[i] - r_pos[i]) / n;
    auc += v10[i];
  }
  auc /= m;
  for (std::size_t j = 0; j < neg.size(); ++j) v01[j] = 1.0 - (r_all[pos.size() + j] - r_neg[j]) / m;
  const double sd = std::sqrt(sample_variance(v10) / m + sample_variance(v01) / n);
  constexpr double z = 1.959963984540054;  // the 97.5th percentile of the standard normal
  return Interval{std::max(0.0, auc - z * sd), std::min(1.0, auc + z * sd)};
}

namespace {

// The 2.5th and 97.5th percentiles of `statistic(scores, labels)` over `resamples` stratified
// bootstrap draws: each group of case indices is resampled with replacement to its own size,
// groups in order, from one generator seeded with `seed`.
template <typename Score, typename Statistic>
Interval stratified_bootstrap(const std::vector<Score>& scores, const std::vector<int>& labels,
                              const std::vector<std::vector<std::size_t>>& groups, int resamples, std::uint64_t seed,
                              const Statistic& statistic) {
  Rng rng(seed);
  std::vector<double> values;
  std::vector<Score> s;
  std::vector<int> y;
  for (int b = 0; b < resamples; ++b) {
    s.clear();
    y.clear();
    for (const auto& group : groups)
      for (std::size_t k = 0; k < group.size(); ++k) {
        const std::size_t i = group[rng.below(group.size())];
        s.push_back(scores[i]);
        y.push_back(labels[i]);
      }
    values.push_back(statistic(s, y));
  }
  std::sort(values.begin(), values.end());
  return Interval{percentile(values, 2.5), percentile(values, 97.5)};
}

}  // namespace

std::optional<Interval> auc_ci_bootstrap(const std::vector<double>& scores, const std::vector<int>& labels,
                                         int resamples, std::uint64_t seed) {
  std::vector<std::size_t> pos, neg;
  for (std::size_t i = 0; i < scores.size(); ++i) (labels[i] == 1 ? pos : neg).push_back(i);
  if (pos.size() < 2 || neg.size() < 2 || resamples < 1) return std::nullopt;
  return stratified_bootstrap(scores, labels, {pos, neg}, resamples, seed,
                              [](const std::vector<double>& s, const std::vector<int>& y) { return *roc_auc(s, y); });
}

std::optional<Interval> mean_ci_bootstrap(const std::vector<double>& values, int resamples, std::uint64_t seed) {
  if (values.size() < 2 || resamples < 1 ||
      std::all_of(values.begin(), values.end(), [&](double v) { return v == values.front(); }))
    return std::nullopt;
  std::vector<std::size_t> all(values.size());
  std::iota(all.begin(), all.end(), 0);
  const std::vector<int> unused(values.size(), 0);
  return stratified_bootstrap(values, unused, {all}, resamples, seed,
                              [](const std::vector<double>& v, const std::vector<int>&) { return *mean(v); });
}

std::optional<std::string> auc_interval_missing(std::size_t positives, std::size_t negatives) {
  if (positives >= 2 && negatives >= 2) return std::nullopt;
  auto count = [](std::size_t n, const char* what) {
    return std::to_string(n) + " " + what + (n == 1 ? "" : "s");
  };
  return count(positives, "positive") + " and " + count(negatives, "negative") +
         ": an AUC interval needs at least 2 of each";
}

std::vector<std::optional<double>> roc_auc_one_vs_rest(const std::vector<std::vector<double>>& scores,
                                                       const std::vector<int>& labels, int classes) {
  std::vector<std::optional<double>> out;
  std::vector<double> column(scores.size());
  std::vector<int> is_class(labels.size());
  for (int c = 0; c < classes; ++c) {
    for (std::size_t i = 0; i < scores.size(); ++i) {
      column[i] = scores[i][static_cast<std::size_t>(c)];
      is_class[i] = labels[i] == c ? 1 : 0;
    }
    out.push_back(roc_auc(column, is_class));
  }
  return out;
}

std::optional<double> roc_auc_ovr_macro(const std::vector<std::vector<double>>& scores, const std::vector<int>& labels,
                                        int classes) {
  double sum = 0.0;
  for (const std::optional<double>& auc : roc_auc_one_vs_rest(scores, labels, classes)) {
    if (!auc) return std::nullopt;
    sum += *auc;
  }
  return sum / static_cast<double>(classes);
}

std::optional<Interval> auc_ovr_macro_ci_bootstrap(const std::vector<std::vector<double>>& scores,
                                                   const std::vector<int>& labels, int classes, int resamples,
                                                   std::uint64_t seed) {
  std::vector<std::vector<std::size_t>> groups(static_cast<std::size_t>(classes));
  for (std::size_t i = 0; i < labels.size(); ++i)
    if (labels[i] >= 0 && labels[i] < classes) groups[static_cast<std::size_t>(labels[i])].push_back(i);
  for (const auto& g : groups)
    if (g.empty()) return std::nullopt;
  if (resamples < 1) return std::nullopt;
  return stratified_bootstrap(scores, labels, groups, resamples, seed,
                              [classes](const std::vector<std::vector<double>>& s, const std::vector<int>& y) {
                                return *roc_auc_ovr_macro(s, y, classes);
                              });
}

std::optional<ThresholdRates> rates_at(const std::vector<double>& scores, const std::vector<int>& labels,
                                       double threshold) {
  double tp = 0, fn = 0, tn = 0, fp = 0;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    const bool predicted = scores[i] >= threshold;
    if (labels[i] == 1) {
      (predicted ? tp : fn) += 1;
    } else {
      (predicted ? fp : tn) += 1;
    }
  }
  if (tp + fn == 0 || tn + fp == 0) return std::nullopt;
  ThresholdRates r;
  r.threshold = threshold;
  r.sensitivity = tp / (tp + fn);
  r.specificity = tn / (tn + fp);
  r.balanced_accuracy = 0.5 * (r.sensitivity + r.specificity);
  return r;
}

std::optional<ThresholdRates> youden(const std::vector<double>& scores, const std::vector<int>& labels) {
  std::vector<double> thresholds = scores;
  std::sort(thresholds.begin(), thresholds.end(), std::greater<double>());
  thresholds.erase(std::unique(thresholds.begin(), thresholds.end()), thresholds.end());
  std::optional<ThresholdRates> best;
  for (double t : thresholds) {
    const auto r = rates_at(scores, labels, t);
    if (!r) return std::nullopt;
    if (!best || r->sensitivity + r->specificity > best->sensitivity + best->specificity) best = r;
  }
  return best;
}

std::optional<double> median(std::vector<double> values) {
  if (values.empty()) return std::nullopt;
  std::sort(values.begin(), values.end());
  const std::size_t m = values.size() / 2;
  return values.size() % 2 ? values[m] : 0.5 * (values[m - 1] + values[m]);
}

std::optional<double> mean(const std::vector<double>& values) {
  if (values.empty()) return std::nullopt;
  return std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
}

}  // namespace fedglioma
