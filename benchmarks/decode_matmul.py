"""What a decoding pass of the default model waits for on this CPU: memory bandwidth, or the matrix multiply kernel.

A decoding pass multiplies a few rows (sequences x tokens fed) by every weight matrix once. If the weights only
had to stream from memory, a pass would cost the model's bytes over the memory's read rate; this script measures
both sides of that, with torch's default threads:

- the read rate: ``sum()`` over a 256 MB tensor (it reads each byte once);
- ``F.linear`` at a decoding pass's shapes (SmolLM2-135M: 576 -> 1,536, 1,536 -> 576, 576 -> 576), cycling over 30
  distinct weights as the 30 layers do, against one weight used again and again (cache-hot);
- the LM head (576 -> 49,152) at 1 to 64 rows, through ``F.linear`` (MKL sgemm) and through oneDNN's linear
  (``torch.utils.mkldnn``), with the largest difference between the two.

    python benchmarks/decode_matmul.py
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from functools import partial

import torch


def ms(fn: Callable[[], object], repeat: int) -> float:
    """Mean milliseconds of ``fn`` after 3 warm-up calls."""
    for _ in range(3):
        fn()
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) / repeat * 1e3


def cycling(x: torch.Tensor, weights: list[torch.Tensor]) -> Callable[[], torch.Tensor]:
    """A call of ``F.linear(x, w)`` with the next weight of ``weights`` each time, as a pass goes through layers."""
    turn = itertools.count()
    return lambda: torch.nn.functional.linear(x, weights[next(turn) % len(weights)])


def dense_through(layer: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``layer`` (converted by torch.utils.mkldnn) applied to ``x``, back as a plain tensor."""
    return layer(x.to_mkldnn()).to_dense()


def main() -> None:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, {torch.backends.cpu.get_cpu_capability()}")
    big = torch.randn(64 * 2**20)  # 256 MB
    read = ms(lambda: big.sum(), 10)
    print(f"read rate: sum over 256 MB in {read:.1f} ms = {big.numel() * 4 / read / 1e6:.1f} GB/s")

    print("\nF.linear at 15 rows (5 sequences x 3 tokens), ms per call:")
    print("| weight | 30 distinct weights | one weight (cache-hot) | GFLOP/s distinct | weight GB/s distinct |")
    print("|---|---|---|---|---|")
    x = {576: torch.randn(15, 576), 1536: torch.randn(15, 1536)}
    for n_in, n_out in ((576, 1536), (1536, 576), (576, 576)):
        weights = [torch.randn(n_out, n_in) for _ in range(30)]
        distinct = ms(cycling(x[n_in], weights), 300)
        hot = ms(cycling(x[n_in], weights[:1]), 300)
        flop = 2 * 15 * n_in * n_out
        print(
            f"| {n_in} x {n_out} | {distinct:.3f} | {hot:.3f} | {flop / distinct / 1e6:.0f} "
            f"| {n_in * n_out * 4 / distinct / 1e6:.1f} |"
        )

    from torch.utils import mkldnn

    head = torch.nn.Linear(576, 49152, bias=False)
    onednn = mkldnn.to_mkldnn(head)
    print("\nLM head 576 x 49,152 (113 MB), ms per call:")
    print("| rows | F.linear (MKL) | oneDNN | largest difference |")
    print("|---|---|---|---|")
    with torch.inference_mode():
        for n in (1, 3, 15, 30, 64):
            h = torch.randn(n, 576)
            mkl = ms(partial(head, h), 10)
            dnn = ms(partial(dense_through, onednn, h), 10)
            gap = (head(h) - dense_through(onednn, h)).abs().max().item()
            print(f"| {n} | {mkl:.1f} | {dnn:.1f} | {gap:.1e} |")


if __name__ == "__main__":
    main()
