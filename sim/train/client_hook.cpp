#include "sim/train/client_hook.h"

#include <torch/types.h>

#include <functional>

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

// A gradient term from a flat buffer, seen per parameter on the pass's device: each parameter's
// gradient gets term(parameter, its view of the buffer).
class BufferTerm : public ClientHook {
 public:
  using Term = std::function<void(torch::Tensor& grad, const torch::Tensor& parameter, const torch::Tensor& view)>;
  BufferTerm(FlatParams buffer, Term term) : buffer_(std::move(buffer)), term_(std::move(term)) {}
  void begin(const std::vector<at::Tensor>& parameters, const c10::Device& device) override {
    parameters_ = parameters;
    views_ = parameter_views(buffer_, parameters, device);
  }
  void adjust_gradients() override {
    torch::NoGradGuard no_grad;
    for (std::size_t k = 0; k < parameters_.size(); ++k) {
      torch::Tensor grad = parameters_[k].mutable_grad();
      if (grad.defined()) term_(grad, parameters_[k], views_[k]);
    }
  }

 private:
  FlatParams buffer_;  // the views alias it on the CPU
  Term term_;
  std::vector<torch::Tensor> parameters_, views_;
};

}  // namespace

std::shared_ptr<ClientHook> proximal_hook(double mu, FlatParams anchor) {
  return std::make_shared<BufferTerm>(std::move(anchor), [mu](torch::Tensor& grad, const torch::Tensor& w, const torch::Tensor& a) {
    grad.add_(w.detach() - a, mu);
  });
}

std::shared_ptr<ClientHook> correction_hook(FlatParams correction) {
  return std::make_shared<BufferTerm>(std::move(correction),
                                      [](torch::Tensor& grad, const torch::Tensor&, const torch::Tensor& c) { grad.add_(c); });
}

}  // namespace fedglioma::sim
