#include "sim/train/client_hook.h"

#include <torch/types.h>

namespace fedglioma::sim {

std::vector<at::Tensor> parameter_views(const FlatParams& flat, const std::vector<at::Tensor>& parameters,
                                        const c10::Device& device) {
  std::vector<torch::Tensor> views;
  if (flat.empty()) return views;
  std::int64_t count = 0;
  for (const auto& p : parameters) count += p.numel();
  const torch::Tensor all =
      torch::from_blob(const_cast<float*>(flat.data()), {count}, torch::kFloat32).to(device);
  std::int64_t offset = 0;
  for (const auto& p : parameters) {
    views.push_back(all.slice(0, offset, offset + p.numel()).view(p.sizes()));
    offset += p.numel();
  }
  return views;
}

namespace {

class Proximal : public ClientHook {
 public:
  Proximal(double mu, FlatParams anchor) : mu_(mu), anchor_(std::move(anchor)) {}
  void begin(const std::vector<at::Tensor>& parameters, const c10::Device& device) override {
    parameters_ = parameters;
    views_ = parameter_views(anchor_, parameters, device);
  }
  void adjust_gradients() override {
    torch::NoGradGuard no_grad;
    for (std::size_t k = 0; k < parameters_.size(); ++k) {
      torch::Tensor grad = parameters_[k].mutable_grad();
      if (grad.defined()) grad.add_(parameters_[k].detach() - views_[k], mu_);
    }
  }

 private:
  double mu_;
  FlatParams anchor_;  // the views alias it on the CPU
  std::vector<torch::Tensor> parameters_, views_;
};

}  // namespace

std::shared_ptr<ClientHook> proximal_hook(double mu, FlatParams anchor) {
  return std::make_shared<Proximal>(mu, std::move(anchor));
}

}  // namespace fedglioma::sim
