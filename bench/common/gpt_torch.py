"""The GPT of worker/models/gpt.h in PyTorch, for the benchmarks that run
the same model as dstrain (bench/engine/fsdp_torch.py, bench/gpu/gpt2_small.py):
token + position embeddings, pre-norm blocks [x + attn(LN(x)), x +
MLP(LN(x))], attention with a fused q/k/v projection without bias plus a
query and a value bias (no key bias), causal scaled_dot_product_attention,
an exact-GELU MLP d_ff wide, a final LayerNorm, the head tied to the token
embedding; reset_parameters() is GPT-2's init as dstrain draws it.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint


class Attention(nn.Module):
    def __init__(self, c, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(c, 3 * c, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(c))
        self.v_bias = nn.Parameter(torch.zeros(c))
        self.register_buffer("k_bias", torch.zeros(c))
        self.proj = nn.Linear(c, c)

    def forward(self, x):
        b, t, c = x.shape
        bias = torch.cat([self.q_bias, self.k_bias, self.v_bias])
        qkv = F.linear(x, self.qkv.weight, bias).view(b, t, 3, self.heads,
                                                       c // self.heads)
        q, k, v = (qkv.select(2, i).transpose(1, 2) for i in range(3))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(b, t, c))


class Mlp(nn.Module):
    def __init__(self, c, d_ff):
        super().__init__()
        self.fc = nn.Linear(c, d_ff)
        self.proj = nn.Linear(d_ff, c)

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x)))


class Block(nn.Module):
    def __init__(self, c, heads, d_ff):
        super().__init__()
        self.ln1 = nn.LayerNorm(c)
        self.attn = Attention(c, heads)
        self.ln2 = nn.LayerNorm(c)
        self.mlp = Mlp(c, d_ff)

    def forward(self, x):
        h = x + self.attn(self.ln1(x))
        return h + self.mlp(self.ln2(h))


class Gpt(nn.Module):
    def __init__(self, vocab, layers, c, heads, seq_len, d_ff):
        super().__init__()
        self.vocab = vocab
        self.tok_emb = nn.Embedding(vocab, c)
        self.pos_emb = nn.Embedding(seq_len, c)
        self.blocks = nn.ModuleList(
            Block(c, heads, d_ff) for _ in range(layers))
        self.ln_f = nn.LayerNorm(c)
        self.checkpointing = False

    def reset_parameters(self, gen):
        std = 0.02
        resid = std / math.sqrt(2.0 * len(self.blocks))
        with torch.no_grad():
            self.tok_emb.weight.normal_(0.0, std, generator=gen)
            self.pos_emb.weight.normal_(0.0, std, generator=gen)
            for b in self.blocks:
                b.attn.qkv.weight.normal_(0.0, std, generator=gen)
                b.attn.proj.weight.normal_(0.0, resid, generator=gen)
                b.attn.proj.bias.zero_()
                b.mlp.fc.weight.normal_(0.0, std, generator=gen)
                b.mlp.fc.bias.zero_()
                b.mlp.proj.weight.normal_(0.0, resid, generator=gen)
                b.mlp.proj.bias.zero_()

    def forward(self, idx, targets):
        t = idx.shape[1]
        x = self.tok_emb(idx) + self.pos_emb(
            torch.arange(t, device=idx.device))
        for b in self.blocks:
            # Activation checkpointing: each block's inputs kept, the rest
            # recomputed in backward (dstrain's recompute.enabled).
            x = (checkpoint(b, x, use_reentrant=False)
                 if self.checkpointing and self.training else b(x))
        logits = self.ln_f(x) @ self.tok_emb.weight.t()
        return F.cross_entropy(logits.reshape(-1, self.vocab),
                               targets.reshape(-1))
