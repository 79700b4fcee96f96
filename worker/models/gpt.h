#pragma once
// A GPT-style decoder-only transformer (GPT-2 layout):
//   token + position embeddings → dropout
//   → layers × [x + attn(LN(x)), x + MLP(LN(x))]  (pre-norm blocks)
//   → LN → logits = h · token_embeddingᵀ  (head tied to the embedding)
// Attention is causal multi-head self-attention through
// at::scaled_dot_product_attention(is_causal); the MLP is d_ff wide with
// GELU. Parameters register in a fixed order (embeddings, blocks in order,
// final norm), which the parameter digest and flat buffers rely on.
//
// Initialisation (ResetParameters) follows GPT-2: weights and embeddings
// N(0, 0.02), the two residual projections of each block N(0, 0.02 /
// sqrt(2 · layers)), biases 0, norms 1/0; drawn from the generator given,
// so every rank can build identical weights without touching the global RNG.
// With that init the first loss is close to ln(vocab).
//
// For ZeRO the model splits into units (Units(), UnitForwardOrder()):
//   unit 0     "root": tok_emb, pos_emb, ln_f. The head is tied to tok_emb,
//              so the embeddings and the head belong to one unit, which
//              runs first (Embed) and last (HeadLoss), like FSDP's root.
//   unit 1+i   "blocks.i": the i-th transformer block (recomputable).
// Embed → blocks → HeadLoss computes exactly what Loss computes.
//
// Not thread-safe: one module per rank.

#include <torch/torch.h>

#include <vector>

#include "common/config/job_config.h"
#include "worker/models/model_unit.h"

namespace dstrain::models {

struct GptOptions {
  int vocab = 256;
  int layers = 4;
  int d_model = 128;
  int heads = 4;
  int seq_len = 128;  // longest sequence (position table size)
  int d_ff = 512;
  double dropout = 0.0;

  static GptOptions FromConfig(const config::ModelConfig& m);
};

class CausalSelfAttentionImpl : public torch::nn::Module {
 public:
  CausalSelfAttentionImpl(int d_model, int heads, double dropout);
  torch::Tensor forward(const torch::Tensor& x);  // [B, T, C] → [B, T, C]

  // The fused q/k/v projection has no bias of its own: a key bias adds
  // q·b_k to every score of a query row, which softmax cancels, so its true
  // gradient is exactly 0 and AdamW would turn rounding noise into lr-sized
  // steps (sharded and unsharded runs would then drift apart). Like
  // Whisper, only queries and values get a bias; the key's is a zero buffer.
  torch::nn::Linear qkv{nullptr};
  torch::Tensor q_bias;
  torch::Tensor v_bias;
  torch::nn::Linear proj{nullptr};  // residual projection

 private:
  torch::Tensor k_bias_;
  int heads_;
  double dropout_;
};
TORCH_MODULE(CausalSelfAttention);

class MlpImpl : public torch::nn::Module {
 public:
  MlpImpl(int d_model, int d_ff, double dropout);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Linear fc{nullptr};
  torch::nn::Linear proj{nullptr};  // residual projection

 private:
  double dropout_;
};
TORCH_MODULE(Mlp);

class BlockImpl : public torch::nn::Module {
 public:
  BlockImpl(const GptOptions& o);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::LayerNorm ln1{nullptr};
  CausalSelfAttention attn{nullptr};
  torch::nn::LayerNorm ln2{nullptr};
  Mlp mlp{nullptr};
};
TORCH_MODULE(Block);

class GptImpl : public torch::nn::Module {
 public:
  explicit GptImpl(const GptOptions& o);

  // idx: [B, T] int64 token ids, T <= seq_len → logits [B, T, vocab].
  torch::Tensor forward(const torch::Tensor& idx);
  // Mean cross-entropy of next-token prediction; targets [B, T] int64.
  torch::Tensor Loss(const torch::Tensor& idx, const torch::Tensor& targets);

  // The pieces of forward/Loss, for running unit by unit.
  // idx [B, T] → token + position embeddings (+ dropout) [B, T, C].
  torch::Tensor Embed(const torch::Tensor& idx);
  // x [B, T, C] → final norm, tied head: logits [B, T, vocab].
  torch::Tensor Head(const torch::Tensor& x);
  // Head, then the mean cross-entropy against targets [B, T].
  torch::Tensor HeadLoss(const torch::Tensor& x, const torch::Tensor& targets);
  // Block i's forward.
  torch::Tensor RunBlock(int i, const torch::Tensor& x);

  // Units for ZeRO (see the header comment) and the forward's unit order:
  // {0, 1, ..., layers, 0}.
  std::vector<ModelUnit> Units();
  std::vector<int> UnitForwardOrder() const;

  // GPT-2 initialisation from `gen` (see the header comment).
  void ResetParameters(at::Generator& gen);

  const GptOptions& options() const { return options_; }

  torch::nn::Embedding tok_emb{nullptr};
  torch::nn::Embedding pos_emb{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm ln_f{nullptr};

 private:
  GptOptions options_;
};
TORCH_MODULE(Gpt);

}  // namespace dstrain::models
