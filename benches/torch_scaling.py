#!/usr/bin/env python3
"""torch on the cases of examples/thread_scaling.rs, at the same thread counts
(optional; not run by CI). Medians of 25 calls per thread count; the counts
take turns in blocks of six calls (the first untimed), as in the Rust example.

Usage: python3 benches/torch_scaling.py [1,2,4,...]
The arrays come from numpy with its huge-page advice off, so that both sides
run on ordinary 4 KiB pages (see compare_torch.py).
"""

import os
import statistics
import sys
import time

import torch

try:
    import numpy as np
except ImportError:  # torch's own generator and allocator then
    np = None
import torch.nn.functional as F


BLOCK, BLOCKS = 6, 5


def medians(fn, counts):
    """Median seconds of fn at each thread count, the counts taking turns."""
    times = [[] for _ in counts]
    for _ in range(BLOCKS):
        for t, acc in zip(counts, times):
            torch.set_num_threads(t)
            fn()
            for _ in range(BLOCK - 1):
                start = time.perf_counter()
                fn()
                acc.append(time.perf_counter() - start)
    return [statistics.median(acc) for acc in times]


def main():
    cores = os.cpu_count() or 1
    if len(sys.argv) > 1:
        counts = [int(t) for t in sys.argv[1].split(",")]
    else:
        counts, t = [], 1
        while t < cores:
            counts.append(t)
            t *= 2
        counts.append(cores)
    if np is not None:
        core = getattr(np, "_core", None) or np.core
        core.multiarray._set_madvise_hugepage(False)
        rng = np.random.default_rng(0x5EED)

        def rand_f32(*shape):
            return torch.from_numpy((rng.integers(0, 2000, shape) * 0.01 - 10.0).astype(np.float32))

        def rand_idx(bound, *shape):
            return torch.from_numpy(rng.integers(0, bound, shape).astype(np.int64))
    else:
        torch.manual_seed(0x5EED)

        def rand_f32(*shape):
            return torch.randint(0, 2000, shape).float() * 0.01 - 10.0

        def rand_idx(bound, *shape):
            return torch.randint(0, bound, shape)

    sq, sq_idx = rand_f32(2048, 2048), rand_idx(2048, 2048, 2048)
    logits, labels = rand_f32(65536, 1000), rand_idx(1000, 65536)
    pick_idx = labels.view(-1, 1)
    tokens, token_idx = rand_f32(32, 1024, 256), rand_idx(1024, 32, 256, 1).expand(32, 256, 256)
    halfs = rand_f32(4096, 4096).half()
    half_idx = rand_idx(4096, 4096, 4096)
    out_sq, out_pick = torch.empty(2048, 2048), torch.empty(65536, 1)
    out_tk, out_h = torch.empty(32, 256, 256), torch.empty(4096, 4096, dtype=torch.float16)
    dest, dest0 = torch.zeros(2048, 2048), torch.zeros(2048, 2048)
    sq_idx32 = sq_idx.int()
    topk_src, topk_idx = rand_f32(8192, 1024), rand_idx(1024, 8192, 16)
    out_topk = torch.empty(8192, 16)
    bytes_ = rand_idx(256, 4096, 4096).to(torch.uint8)
    byte_idx = rand_idx(4096, 4096, 1024)
    out_u8 = torch.empty(4096, 1024, dtype=torch.uint8)
    sq_t = sq.t()
    xr = logits.clone().requires_grad_(True)

    cases = [
        ("last_perm", lambda: torch.gather(sq, 1, sq_idx, out=out_sq)),
        ("last_perm_i32", lambda: torch.gather(sq, 1, sq_idx32, out=out_sq)),
        ("last_topk", lambda: torch.gather(topk_src, 1, topk_idx, out=out_topk)),
        ("u8_last", lambda: torch.gather(bytes_, 1, byte_idx, out=out_u8)),
        ("transposed_src", lambda: torch.gather(sq_t, 1, sq_idx, out=out_sq)),
        ("dim0_random", lambda: torch.gather(sq, 0, sq_idx, out=out_sq)),
        ("ce_pick", lambda: torch.gather(logits, 1, pick_idx, out=out_pick)),
        ("expanded_tokens", lambda: torch.gather(tokens, 1, token_idx, out=out_tk)),
        ("f16_last", lambda: torch.gather(halfs, 1, half_idx, out=out_h)),
        ("ce_fwd", lambda: F.cross_entropy(logits, labels)),
        ("ce_bwd", None),
        ("scatter_add_last", lambda: dest.scatter_add_(1, sq_idx, sq)),
        ("scatter_add_dim0", lambda: dest0.scatter_add_(0, sq_idx, sq)),
    ]
    print("| case | engine | " + " | ".join(f"t{t}" for t in counts) + f" | t1 / t{counts[-1]} |")
    print("|---|---|" + "---|" * len(counts) + "---|")
    for name, fn in cases:
        if name == "ce_bwd":
            loss = F.cross_entropy(xr, labels)
            fn = lambda: torch.autograd.grad(loss, xr, retain_graph=True)  # noqa: E731
        times = medians(fn, counts)
        cells = " | ".join(f"{s * 1e3:.3f} ms" for s in times)
        print(f"| {name} | torch | {cells} | {times[0] / times[-1]:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
