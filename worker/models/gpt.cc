#include "worker/models/gpt.h"

#include <cmath>
#include <string_view>

#include "common/strings.h"

namespace dstrain::models {
namespace F = torch::nn::functional;

GptOptions GptOptions::FromConfig(const config::ModelConfig& m) {
  GptOptions o;
  o.vocab = m.vocab;
  o.layers = m.layers;
  o.d_model = m.d_model;
  o.heads = m.heads;
  o.seq_len = m.seq_len;
  o.d_ff = m.d_ff > 0 ? m.d_ff : 4 * m.d_model;
  o.dropout = m.dropout;
  return o;
}

CausalSelfAttentionImpl::CausalSelfAttentionImpl(int d_model, int heads,
                                                 double dropout)
    : heads_(heads), dropout_(dropout) {
  qkv = register_module(
      "qkv", torch::nn::Linear(
                 torch::nn::LinearOptions(d_model, 3 * d_model).bias(false)));
  q_bias = register_parameter("q_bias", torch::zeros({d_model}));
  v_bias = register_parameter("v_bias", torch::zeros({d_model}));
  k_bias_ = register_buffer("k_bias", torch::zeros({d_model}));
  proj = register_module("proj", torch::nn::Linear(d_model, d_model));
}

torch::Tensor CausalSelfAttentionImpl::forward(const torch::Tensor& x) {
  const int64_t b = x.size(0), t = x.size(1), c = x.size(2);
  const int64_t hd = c / heads_;
  // [B, T, 3, H, hd] → three [B, H, T, hd] views.
  const torch::Tensor bias =
      at::cat({q_bias, k_bias_.to(q_bias.dtype()), v_bias});
  const torch::Tensor qkv_out =
      F::linear(x, qkv->weight, bias).view({b, t, 3, heads_, hd});
  const torch::Tensor q = qkv_out.select(2, 0).transpose(1, 2);
  const torch::Tensor k = qkv_out.select(2, 1).transpose(1, 2);
  const torch::Tensor v = qkv_out.select(2, 2).transpose(1, 2);
  const torch::Tensor y = at::scaled_dot_product_attention(
      q, k, v, /*attn_mask=*/{}, is_training() ? dropout_ : 0.0,
      /*is_causal=*/true);
  torch::Tensor out = proj->forward(y.transpose(1, 2).reshape({b, t, c}));
  return dropout_ > 0
             ? F::dropout(out, F::DropoutFuncOptions().p(dropout_).training(
                                   is_training()))
             : out;
}

MlpImpl::MlpImpl(int d_model, int d_ff, double dropout) : dropout_(dropout) {
  fc = register_module("fc", torch::nn::Linear(d_model, d_ff));
  proj = register_module("proj", torch::nn::Linear(d_ff, d_model));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  torch::Tensor out = proj->forward(torch::gelu(fc->forward(x)));
  return dropout_ > 0
             ? F::dropout(out, F::DropoutFuncOptions().p(dropout_).training(
                                   is_training()))
             : out;
}

BlockImpl::BlockImpl(const GptOptions& o) {
  const std::vector<int64_t> shape{o.d_model};
  ln1 = register_module(
      "ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions(shape)));
  attn = register_module("attn",
                         CausalSelfAttention(o.d_model, o.heads, o.dropout));
  ln2 = register_module(
      "ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions(shape)));
  mlp = register_module("mlp", Mlp(o.d_model, o.d_ff, o.dropout));
}

torch::Tensor BlockImpl::forward(const torch::Tensor& x) {
  torch::Tensor h = x + attn->forward(ln1->forward(x));
  return h + mlp->forward(ln2->forward(h));
}

GptImpl::GptImpl(const GptOptions& o) : options_(o) {
  tok_emb =
      register_module("tok_emb", torch::nn::Embedding(o.vocab, o.d_model));
  pos_emb =
      register_module("pos_emb", torch::nn::Embedding(o.seq_len, o.d_model));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int i = 0; i < o.layers; ++i) blocks->push_back(Block(o));
  ln_f = register_module(
      "ln_f", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.d_model})));
}

torch::Tensor GptImpl::Embed(const torch::Tensor& idx) {
  const int64_t t = idx.size(1);
  TORCH_CHECK(t <= options_.seq_len, "sequence of ", t,
              " tokens is longer than model.seq_len ", options_.seq_len);
  const torch::Tensor pos = torch::arange(t, idx.options());
  torch::Tensor x = tok_emb->forward(idx) + pos_emb->forward(pos);
  if (options_.dropout > 0) {
    x = F::dropout(
        x, F::DropoutFuncOptions().p(options_.dropout).training(is_training()));
  }
  return x;
}

torch::Tensor GptImpl::RunBlock(int i, const torch::Tensor& x) {
  return blocks[i]->as<Block>()->forward(x);
}

torch::Tensor GptImpl::Head(const torch::Tensor& x) {
  return at::matmul(ln_f->forward(x), tok_emb->weight.t());
}

torch::Tensor GptImpl::HeadLoss(const torch::Tensor& x,
                                const torch::Tensor& targets) {
  const torch::Tensor logits = Head(x);
  return at::cross_entropy_loss(logits.reshape({-1, options_.vocab}),
                                targets.reshape({-1}));
}

torch::Tensor GptImpl::forward(const torch::Tensor& idx) {
  torch::Tensor x = Embed(idx);
  for (int i = 0; i < options_.layers; ++i) x = RunBlock(i, x);
  return Head(x);
}

torch::Tensor GptImpl::Loss(const torch::Tensor& idx,
                            const torch::Tensor& targets) {
  torch::Tensor x = Embed(idx);
  for (int i = 0; i < options_.layers; ++i) x = RunBlock(i, x);
  return HeadLoss(x, targets);
}

std::vector<ModelUnit> GptImpl::Units() {
  std::vector<ModelUnit> units(1 + options_.layers);
  units[0].name = "root";
  for (int i = 0; i < options_.layers; ++i) {
    units[1 + i].name = "blocks." + std::to_string(i);
    units[1 + i].recomputable = true;
  }
  for (const auto& item : named_parameters(/*recurse=*/true)) {
    const std::string& name = item.key();
    int unit = 0;
    if (name.rfind("blocks.", 0) == 0) {
      // "blocks.<i>.…": our own names, so the index is always there.
      unit = 1 + ParseInteger<int>(
                     std::string_view(name).substr(7, name.find('.', 7) - 7))
                     .value();
    }
    units[unit].params.emplace_back(name, item.value());
  }
  return units;
}

std::vector<int> GptImpl::UnitForwardOrder() const {
  std::vector<int> order;
  order.push_back(0);
  for (int i = 0; i < options_.layers; ++i) order.push_back(1 + i);
  order.push_back(0);
  return order;
}

void GptImpl::ResetParameters(at::Generator& gen) {
  torch::NoGradGuard no_grad;
  const double std = 0.02;
  const double resid_std = std / std::sqrt(2.0 * options_.layers);
  tok_emb->weight.normal_(0.0, std, gen);
  pos_emb->weight.normal_(0.0, std, gen);
  for (const auto& m : *blocks) {
    Block b = Block(std::dynamic_pointer_cast<BlockImpl>(m));
    for (torch::nn::LayerNorm ln : {b->ln1, b->ln2}) {
      ln->weight.fill_(1.0);
      ln->bias.zero_();
    }
    b->attn->qkv->weight.normal_(0.0, std, gen);
    b->attn->q_bias.zero_();
    b->attn->v_bias.zero_();
    b->attn->proj->weight.normal_(0.0, resid_std, gen);
    b->attn->proj->bias.zero_();
    b->mlp->fc->weight.normal_(0.0, std, gen);
    b->mlp->fc->bias.zero_();
    b->mlp->proj->weight.normal_(0.0, resid_std, gen);
    b->mlp->proj->bias.zero_();
  }
  ln_f->weight.fill_(1.0);
  ln_f->bias.zero_();
}

}  // namespace dstrain::models
