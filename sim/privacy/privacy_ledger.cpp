#include "sim/privacy/privacy_ledger.h"

#include <algorithm>

#include "core/error.h"
#include "core/double_text.h"

namespace fedglioma::sim {

PrivacyLedger::PrivacyLedger(std::vector<std::string> site_ids, double delta)
    : ids_(std::move(site_ids)), delta_(delta), accounts_(ids_.size()) {}

void PrivacyLedger::charge(const std::vector<std::size_t>& sites, double q, double z) {
  const std::vector<double> step = subsampled_gaussian_rdp(q, z, default_rdp_orders());
  for (std::size_t i : sites) {
    std::vector<double> rdp = accounts_.at(i).rdp();
    for (std::size_t k = 0; k < rdp.size(); ++k) rdp[k] += step[k];
    accounts_[i].set_rdp(std::move(rdp));
  }
}

PrivacySpent PrivacyLedger::site(std::size_t i) const { return accounts_.at(i).spent(delta_); }

PrivacySpent PrivacyLedger::run() const {
  PrivacySpent most{0.0, default_rdp_orders().front()};
  for (const RdpAccountant& a : accounts_) {
    const PrivacySpent s = a.spent(delta_);
    if (s.epsilon > most.epsilon) most = s;
  }
  return most;
}

double PrivacyLedger::site_after(std::size_t i, double q, double z) const {
  RdpAccountant next = accounts_.at(i);
  next.add(q, z);
  return next.spent(delta_).epsilon;
}

double PrivacyLedger::run_after(const std::vector<std::size_t>& sites, double q, double z) const {
  PrivacyLedger next = *this;
  next.charge(sites, q, z);
  return next.run().epsilon;
}

void PrivacyLedger::save(StateBundle& out) const {
  for (std::size_t i = 0; i < ids_.size(); ++i) out.texts["dp/rdp/" + ids_[i]] = doubles_text(accounts_[i].rdp());
}

void PrivacyLedger::load(const StateBundle& in) {
  for (std::size_t i = 0; i < ids_.size(); ++i) {
    const auto text = in.texts.find("dp/rdp/" + ids_[i]);
    std::vector<double> rdp;
    try {
      if (text != in.texts.end()) rdp = doubles_from(text->second);
    } catch (const std::invalid_argument&) {
      rdp.clear();
    }
    if (rdp.size() != default_rdp_orders().size())
      throw IoError("the checkpoint holds no privacy account of site " + ids_[i]);
    accounts_[i].set_rdp(std::move(rdp));
  }
}

}  // namespace fedglioma::sim
