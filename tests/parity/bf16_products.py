"""Accurate 16-bit products for the torch references on any CPU.

torch 1.13 runs bfloat16 matrix products and convolutions on oneDNN only on
CPUs with AVX-512; elsewhere (an AVX2-only AMD EPYC, say) its fallback kernels
accumulate in bfloat16: a (64 x 1024) @ (1024 x 64) product is off by up to
3,000 ulps of its result. Such a reference cannot judge dlt's kernels, which
accumulate in float32 as torch's oneDNN path does.

`accurate_products()` measures this once. Where the products are inaccurate it
replaces them, for the duration of the block, by the same call in float32 on
operands rounded to the 16-bit dtype, with the results rounded to that dtype:
one rounding of an exactly accumulated result, which is what an accurate
kernel returns. The 16-bit dtype is the autocast dtype inside an autocast
region (for the products autocast runs in 16 bits), else the dtype of the
call's 16-bit operands. Gradients follow through the casts, so they are
rounded where autocast rounds them. Where torch's own products are accurate,
nothing is replaced.
"""
import contextlib
import functools

import torch
import torch.nn.functional as F

LOW = (torch.bfloat16, torch.float16)


@functools.lru_cache(maxsize=None)
def products_accumulate_in_16_bits():
    """True when torch's bfloat16 matmul or conv2d misses the exact result by
    more than two ulps (an accurate kernel stays within one)."""
    gen = torch.Generator().manual_seed(0)
    a = torch.randn(32, 512, generator=gen).bfloat16()
    b = torch.randn(512, 32, generator=gen).bfloat16()
    x = torch.randn(1, 64, 8, 8, generator=gen).bfloat16()
    w = torch.randn(8, 64, 3, 3, generator=gen).bfloat16()
    with torch.autocast("cpu", enabled=False):
        pairs = [(a @ b, a.double() @ b.double()),
                 (F.conv2d(x, w), F.conv2d(x.double(), w.double()))]
    for got, exact in pairs:
        ulps = (got.double() - exact).abs() / (exact.abs() * 2.0 ** -8).clamp(min=2.0 ** -8)
        if ulps.max().item() > 2:
            return True
    return False


def _is_float_tensor(value):
    return isinstance(value, torch.Tensor) and value.is_floating_point()


def _low_dtype(args, autocast_lowers):
    if torch.is_autocast_cpu_enabled():
        return torch.get_autocast_cpu_dtype() if autocast_lowers else None
    return next((a.dtype for a in args if _is_float_tensor(a) and a.dtype in LOW), None)


def _accurate(product, autocast_lowers):
    """product (its operands tensors, or values it passes through) with the
    accurate 16-bit arithmetic described above; its result is one tensor."""
    @functools.wraps(product)
    def call(*args, **kwargs):
        low = _low_dtype(args + tuple(kwargs.values()), autocast_lowers)
        if low is None:
            return product(*args, **kwargs)
        rounded = lambda a: a.to(low).float() if _is_float_tensor(a) else a  # noqa: E731
        with torch.autocast("cpu", enabled=False):
            out = product(*map(rounded, args), **{k: rounded(v) for k, v in kwargs.items()})
        return out.to(low)
    return call


# (owner, attribute, whether torch 1.13's CPU autocast runs it in 16 bits) of
# every product the references call; the others keep float32 under autocast.
# The recurrent layers are among those, so their _VF calls are left alone.
_PRODUCTS = [(F, "linear", True), (F, "conv1d", True), (F, "conv2d", True),
             (F, "conv_transpose2d", False), (torch, "matmul", True), (torch, "bmm", True),
             (torch, "mm", True), (torch.Tensor, "__matmul__", True), (torch.Tensor, "matmul", True)]


@contextlib.contextmanager
def accurate_products():
    if not products_accumulate_in_16_bits():
        yield
        return
    # (owner, name, product, lowers, whether the owner itself defines it)
    saved = [(owner, name, getattr(owner, name), lowers, name in vars(owner))
             for owner, name, lowers in _PRODUCTS]
    try:
        for owner, name, product, lowers, _ in saved:
            setattr(owner, name, _accurate(product, lowers))
        yield
    finally:
        for owner, name, product, _, own in saved:
            if own:
                setattr(owner, name, product)
            else:
                delattr(owner, name)  # inherited: the base class's again
