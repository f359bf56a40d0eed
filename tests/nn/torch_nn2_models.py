"""Torch twins of dlt's composite layers (MultiHeadAttention, TransformerBlock,
GPT, ResNet, Llama, ViT), for the parity tests in test_transformer.cpp / test_resnet.cpp:
torch_modules.py evaluates the cases' expressions with this module as `nn2`
("nn2.GPT(11, 8, 16, 4, 2, True, True, True)"). Parameter names are dlt's.
"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class MultiHeadAttention(nn.Module):
    def __init__(self, C, heads, causal=True, bias=True):
        super().__init__()
        self.heads, self.causal = heads, causal
        self.fused = False  # fuse_attention(): torch's own fused causal attention
        self.qkv = nn.Linear(C, 3 * C, bias=bias)
        self.proj = nn.Linear(C, C, bias=bias)

    def forward(self, x, key_padding_mask=None):
        B, T, C = x.shape
        H, D = self.heads, C // self.heads
        q, k, v = self.qkv(x).split(C, dim=2)
        q, k, v = (t.view(B, T, H, D).transpose(1, 2) for t in (q, k, v))
        if self.fused and self.causal and key_padding_mask is None:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))
        att = q @ k.transpose(-2, -1) / math.sqrt(D)
        if self.causal:
            future = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
            att = att.masked_fill(future, float("-inf"))
        if key_padding_mask is not None:  # (B, T), True = padding
            att = att.masked_fill(key_padding_mask[:, None, None, :], float("-inf"))
        y = F.softmax(att, dim=-1) @ v
        return self.proj(y.transpose(1, 2).contiguous().view(B, T, C))


def fuse_attention(model):
    """Causal attention through F.scaled_dot_product_attention where this torch
    has it (2.0 and later), as a user of that torch would write it (nanoGPT
    does); the benchmarks' peers. The parity tests keep the explicit softmax
    of the weights, the same formula in every torch."""
    fused = hasattr(F, "scaled_dot_product_attention")
    for m in model.modules():
        if isinstance(m, MultiHeadAttention):
            m.fused = fused
    return model


class MLP(nn.Module):
    def __init__(self, C, ratio, bias, gelu_tanh):
        super().__init__()
        self.fc = nn.Linear(C, ratio * C, bias=bias)
        self.proj = nn.Linear(ratio * C, C, bias=bias)
        self.approximate = "tanh" if gelu_tanh else "none"

    def forward(self, x):
        return self.proj(F.gelu(self.fc(x), approximate=self.approximate))


class TransformerBlock(nn.Module):
    def __init__(self, C, heads, causal=True, bias=True, ratio=4, gelu_tanh=False):
        super().__init__()
        self.ln1 = nn.LayerNorm(C)
        self.attn = MultiHeadAttention(C, heads, causal, bias)
        self.ln2 = nn.LayerNorm(C)
        self.mlp = MLP(C, ratio, bias, gelu_tanh)

    def forward(self, x, key_padding_mask=None):
        x = x + self.attn(self.ln1(x), key_padding_mask)
        return x + self.mlp(self.ln2(x))


class GPT(nn.Module):
    def __init__(self, V, block_size, C, heads, layers, bias, gelu_tanh, tying, ratio=4):
        super().__init__()
        self.tok_emb = nn.Embedding(V, C)
        self.pos_emb = nn.Embedding(block_size, C)
        self.blocks = nn.ModuleList(
            TransformerBlock(C, heads, True, bias, ratio, gelu_tanh) for _ in range(layers))
        self.ln_f = nn.LayerNorm(C)
        self.head = nn.Linear(C, V, bias=False)
        if tying:
            self.head.weight = self.tok_emb.weight

    def forward(self, ids):
        T = ids.shape[1]
        x = self.tok_emb(ids) + self.pos_emb(torch.arange(T))
        for block in self.blocks:
            x = block(x)
        return self.head(self.ln_f(x))


def conv_bn(cin, cout, k, stride):
    return nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(cin, cout, 3, stride)
        self.conv2, self.bn2 = conv_bn(cout, cout, 3, 1)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(*conv_bn(cin, cout, 1, stride))

    def forward(self, x):
        h = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
        return F.relu(h + (self.downsample(x) if self.downsample is not None else x))


class ResNet(nn.Module):
    def __init__(self, cin, classes, widths, blocks):
        super().__init__()
        self.conv1, self.bn1 = conv_bn(cin, widths[0], 3, 1)
        cur = widths[0]
        for i, (w, n) in enumerate(zip(widths, blocks)):
            stride = 1 if i == 0 else 2
            stage = nn.Sequential(*(BasicBlock(cur if j == 0 else w, w, stride if j == 0 else 1)
                                    for j in range(n)))
            setattr(self, f"layer{i + 1}", stage)
            cur = w
        self.stages = len(widths)
        self.fc = nn.Linear(cur, classes)

    def forward(self, x):
        if x.dim() == 3:
            x = x.unsqueeze(1)
        h = F.relu(self.bn1(self.conv1(x)))
        for i in range(self.stages):
            h = getattr(self, f"layer{i + 1}")(h)
        return self.fc(F.adaptive_avg_pool2d(h, 1).flatten(1))


# ---- Llama, written after Meta's reference model.py: complex rotary
# embeddings, K/V repeated for grouped-query attention, float64 tables.

class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def precompute_freqs_cis(dim, end, theta):
    freqs = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
    angles = torch.outer(torch.arange(end, dtype=torch.float64), freqs)
    return torch.polar(torch.ones_like(angles), angles)  # complex128


def apply_rotary_emb(x, freqs_cis):
    x_ = torch.view_as_complex(x.double().reshape(*x.shape[:-1], -1, 2))
    f = freqs_cis[: x.shape[1]].view(1, x.shape[1], 1, x_.shape[-1])
    return torch.view_as_real(x_ * f).flatten(3).type_as(x)


class LlamaAttention(nn.Module):
    def __init__(self, C, heads, kv_heads):
        super().__init__()
        self.heads, self.kv_heads, self.head_dim = heads, kv_heads, C // heads
        self.wq = nn.Linear(C, heads * self.head_dim, bias=False)
        self.wk = nn.Linear(C, kv_heads * self.head_dim, bias=False)
        self.wv = nn.Linear(C, kv_heads * self.head_dim, bias=False)
        self.wo = nn.Linear(heads * self.head_dim, C, bias=False)

    def forward(self, x, freqs_cis):
        B, T, _ = x.shape
        H, Hkv, D = self.heads, self.kv_heads, self.head_dim
        q = apply_rotary_emb(self.wq(x).view(B, T, H, D), freqs_cis)
        k = apply_rotary_emb(self.wk(x).view(B, T, Hkv, D), freqs_cis)
        v = self.wv(x).view(B, T, Hkv, D)
        k, v = (t.repeat_interleave(H // Hkv, dim=2) for t in (k, v))
        q, k, v = (t.transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(2, 3) / math.sqrt(D)
        future = torch.triu(torch.ones(T, T, dtype=torch.bool), 1)
        y = F.softmax(scores.masked_fill(future, float("-inf")), dim=-1) @ v
        return self.wo(y.transpose(1, 2).reshape(B, T, H * D))


class LlamaFeedForward(nn.Module):
    def __init__(self, C, hidden):
        super().__init__()
        self.w1 = nn.Linear(C, hidden, bias=False)
        self.w2 = nn.Linear(hidden, C, bias=False)
        self.w3 = nn.Linear(C, hidden, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


class LlamaBlock(nn.Module):
    def __init__(self, C, heads, kv_heads, hidden, eps):
        super().__init__()
        self.attention_norm = RMSNorm(C, eps)
        self.attention = LlamaAttention(C, heads, kv_heads)
        self.ffn_norm = RMSNorm(C, eps)
        self.feed_forward = LlamaFeedForward(C, hidden)

    def forward(self, x, freqs_cis):
        h = x + self.attention(self.attention_norm(x), freqs_cis)
        return h + self.feed_forward(self.ffn_norm(h))


class Llama(nn.Module):
    def __init__(self, V, block_size, C, heads, kv_heads, layers, hidden, tying, eps=1e-5,
                 theta=10000.0):
        super().__init__()
        self.tok_embeddings = nn.Embedding(V, C)
        self.layers = nn.ModuleList(
            LlamaBlock(C, heads, kv_heads, hidden, eps) for _ in range(layers))
        self.norm = RMSNorm(C, eps)
        self.output = nn.Linear(C, V, bias=False)
        if tying:
            self.output.weight = self.tok_embeddings.weight
        self.freqs_cis = precompute_freqs_cis(C // heads, block_size, theta)

    def forward(self, ids):
        x = self.tok_embeddings(ids)
        for layer in self.layers:
            x = layer(x, self.freqs_cis)
        return self.output(self.norm(x))


class Recurrent(nn.Module):
    """dlt's LSTM / GRU as tests/nn/test_recurrent.cpp's probe shows them: the
    padded output sequence, then h_n (and c_n) of each sample, flattened side
    by side. With lengths, the batch goes through pack_padded_sequence and
    pad_packed_sequence. `rnn` is an nn.LSTM or nn.GRU with batch_first=True."""

    def __init__(self, rnn, lengths=None):
        super().__init__()
        self.rnn = rnn
        self.lengths = lengths

    def forward(self, x):
        if self.lengths is None:
            out, state = self.rnn(x)
        else:
            packed = nn.utils.rnn.pack_padded_sequence(
                x, torch.tensor(self.lengths), batch_first=True, enforce_sorted=False)
            out, state = self.rnn(packed)
            out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True,
                                                      total_length=x.shape[1])
        states = state if isinstance(state, tuple) else (state,)
        parts = [out.flatten(1)] + [s.transpose(0, 1).flatten(1) for s in states]
        return torch.cat(parts, 1)


def padding_mask(lengths, T):
    """(B, T) bool, True at the positions at or past each sequence's length."""
    return torch.arange(T)[None, :] >= torch.tensor(lengths)[:, None]


class Padded(nn.Module):
    """`inner` (a block or attention twin above) called with the key padding
    mask of per-sequence lengths, as the dlt test's wrapper calls its child."""

    def __init__(self, inner, lengths):
        super().__init__()
        self.inner, self.lengths = inner, lengths

    def forward(self, x):
        return self.inner(x, padding_mask(self.lengths, x.shape[1]))


class TorchPaddedAttention(nn.Module):
    """dlt's non-causal MultiHeadAttention parameters (inner.qkv, inner.proj)
    run through torch's own F.multi_head_attention_forward, the math of
    nn.MultiheadAttention(batch_first=True) with key_padding_mask: qkv.weight
    is in_proj_weight (q, k, v stacked), proj is out_proj."""

    def __init__(self, C, heads, lengths, bias=True):
        super().__init__()
        self.inner = MultiHeadAttention(C, heads, False, bias)
        self.heads, self.lengths = heads, lengths

    def forward(self, x):
        B, T, C = x.shape
        seq_first = x.transpose(0, 1)  # (T, B, C)
        y, _ = F.multi_head_attention_forward(
            seq_first, seq_first, seq_first, C, self.heads, self.inner.qkv.weight,
            self.inner.qkv.bias, None, None, False, 0.0, self.inner.proj.weight,
            self.inner.proj.bias, training=False, key_padding_mask=padding_mask(self.lengths, T),
            need_weights=False)
        return y.transpose(0, 1)


class PatchEmbed(nn.Module):
    def __init__(self, C, E, P):
        super().__init__()
        self.proj = nn.Conv2d(C, E, P, stride=P)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)  # (B, N, E)


class ViT(nn.Module):
    """timm's VisionTransformer layout (class token, learned position
    embeddings, pre-norm blocks, final norm, head on the class token) with
    dlt's block names."""

    def __init__(self, C, H, W, P, E, heads, layers, classes, ratio=4):
        super().__init__()
        self.patch_embed = PatchEmbed(C, E, P)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, E))
        self.pos_embed = nn.Parameter(torch.zeros(1, (H // P) * (W // P) + 1, E))
        self.blocks = nn.ModuleList(
            TransformerBlock(E, heads, False, True, ratio, False) for _ in range(layers))
        self.norm = nn.LayerNorm(E)
        self.head = nn.Linear(E, classes)

    def forward(self, x):
        if x.dim() == 3:  # (B, H, W) grey images
            x = x.unsqueeze(1)
        x = self.patch_embed(x)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embed
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x)[:, 0])
