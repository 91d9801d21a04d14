#!/usr/bin/env python3
"""pytorch_baseline.py — issue 5's yardstick: the same training step in PyTorch, on this machine.

Not part of the build or the tests (glulab needs no Python). It trains the reference model of
../shared/reference-model.md (pre-norm decoder, RMSNorm, tied embeddings, causal attention,
the eight FFN variants, AdamW with bias correction and decoupled decay, clipping at 1.0, the
warm-up + cosine schedule) on random batches of bytes, and prints one JSON line per run with the
median tokens/s over the timed steps, like `glulab bench --json`. Random bytes cost the same
arithmetic as the corpus, and the timing needs no data file.

Written the way a PyTorch user would (nanoGPT style: explicit masked softmax, since 1.13 has no
fused attention), in PyTorch's fastest configuration on Debian: python3-torch with the OpenMP
build of OpenBLAS (package libopenblas0-openmp). Threads are set with torch.set_num_threads.

    /usr/bin/python3 experiments/pytorch_baseline.py --preset small --ffn swiglu --threads 2

With --matmul it times torch.mm (that is, OpenBLAS) on the small preset's training products instead,
in the three forms training needs, and torch.bmm on attention's batched products, as a yardstick
for glulab's gemm benchmark (./build/run_tests -tc='gemm: benchmark*' --no-skip): one line per
product, the median GFLOP/s.
"""
import argparse
import json
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

PRESETS = {  # d, heads, blocks, context T
    "tiny": (48, 4, 2, 64),
    "small": (192, 6, 4, 128),
    "base": (384, 6, 6, 256),
}
GATED = {"glu", "bilinear", "reglu", "geglu", "swiglu"}
ACT = {
    "relu": F.relu, "gelu": lambda z: F.gelu(z, approximate="tanh"), "swish": F.silu,
    "glu": torch.sigmoid, "bilinear": lambda z: z, "reglu": F.relu,
    "geglu": lambda z: F.gelu(z, approximate="tanh"), "swiglu": F.silu,
}


def rmsnorm(x, g):
    # RMSNorm(x; g) = x / sqrt(mean(x^2) + 1e-5) * g
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-5) * g


class Model(torch.nn.Module):
    def __init__(self, preset, ffn):
        super().__init__()
        d, self.H, n, self.T = PRESETS[preset]
        self.ffn = ffn
        d_ff = 8 * d // 3 if ffn in GATED else 4 * d
        normal = lambda *shape, std=0.02: torch.nn.Parameter(torch.randn(*shape) * std)
        out_std = 0.02 / math.sqrt(2 * n)
        self.E, self.P = normal(256, d), normal(self.T, d)
        self.blocks = torch.nn.ModuleList()
        for _ in range(n):
            b = torch.nn.ParameterDict({
                "g1": torch.nn.Parameter(torch.ones(d)), "g2": torch.nn.Parameter(torch.ones(d)),
                "Wq": normal(d, d), "Wk": normal(d, d), "Wv": normal(d, d), "Wo": normal(d, d, std=out_std),
                "W1": normal(d, d_ff), "W2": normal(d_ff, d, std=out_std),
            })
            if ffn in GATED:
                b["V"] = normal(d, d_ff)
            self.blocks.append(b)
        self.gf = torch.nn.Parameter(torch.ones(d))

    def attention(self, x, b):
        B, T, d = x.shape
        hd = d // self.H
        heads = lambda y: y.view(B, T, self.H, hd).transpose(1, 2)  # (B, H, T, hd)
        q, k, v = heads(x @ b["Wq"]), heads(x @ b["Wk"]), heads(x @ b["Wv"])
        s = (q @ k.transpose(-2, -1)) / math.sqrt(hd)
        mask = torch.ones(T, T, dtype=torch.bool).triu(1)
        p = s.masked_fill(mask, float("-inf")).softmax(-1)
        return (p @ v).transpose(1, 2).reshape(B, T, d) @ b["Wo"]

    def feed_forward(self, x, b):
        a = ACT[self.ffn](x @ b["W1"])
        if self.ffn in GATED:
            a = a * (x @ b["V"])
        return a @ b["W2"]

    def forward(self, tokens, targets):
        h = self.E[tokens] + self.P[: tokens.shape[1]]
        for b in self.blocks:
            h = h + self.attention(rmsnorm(h, b["g1"]), b)
            h = h + self.feed_forward(rmsnorm(h, b["g2"]), b)
        logits = rmsnorm(h, self.gf) @ self.E.t()
        return F.cross_entropy(logits.view(-1, 256), targets.reshape(-1))


def learning_rate(s, steps):
    if s < 100:
        return 1e-3 * s / 100
    return 1e-4 + 0.5 * (1e-3 - 1e-4) * (1 + math.cos(math.pi * (s - 100) / max(1, steps - 1 - 100)))


# The small preset's products (B T = 2048, d = 192, d_ff = 512 or 768): name, M, N, K, A and B
# stored transposed or not, as in glulab's gemm benchmark.
MATMUL_SHAPES = [
    ("x W", 2048, 192, 192, False, False), ("x W", 2048, 512, 192, False, False),
    ("x W", 2048, 768, 192, False, False), ("x W", 2048, 192, 512, False, False),
    ("x W", 2048, 192, 768, False, False), ("dY W^T", 2048, 192, 192, False, True),
    ("dY W^T", 2048, 192, 512, False, True), ("dY W^T", 2048, 512, 192, False, True),
    ("dY W^T", 2048, 192, 768, False, True), ("X^T dY", 192, 192, 2048, True, False),
    ("X^T dY", 192, 512, 2048, True, False), ("X^T dY", 512, 192, 2048, True, False),
    ("X^T dY", 192, 768, 2048, True, False), ("X^T dY", 768, 192, 2048, True, False),
]


# Attention's batched products, as in the benchmark's last three rows: 96 items (batch 16 x 6
# heads), each T = 128 by hd = 32. torch.bmm, with a transposed operand as a transposed view.
ATTENTION_SHAPES = [
    ("attn q k^T", 96, 128, 128, 32, False, True), ("attn P v", 96, 128, 32, 128, False, False),
    ("attn P^T dO", 96, 128, 32, 128, True, False),
]


def median_seconds(product, reps):
    times = []
    for r in range(reps + 5):  # the first 5 warm up
        start = time.perf_counter()
        product()
        times.append(time.perf_counter() - start)
    return statistics.median(times[5:])


def print_rate(name, count, M, N, K, threads, seconds):
    print(json.dumps({"framework": f"pytorch {torch.__version__}", "product": name, "items": count, "M": M, "N": N,
                      "K": K, "threads": threads, "gflops": round(2 * count * M * N * K / seconds / 1e9, 1)}))


def time_matmuls(threads, reps):
    for name, M, N, K, trans_a, trans_b in MATMUL_SHAPES:
        a = torch.randn(K, M).t() if trans_a else torch.randn(M, K)
        b = torch.randn(N, K).t() if trans_b else torch.randn(K, N)
        c = torch.empty(M, N)
        print_rate(name, 1, M, N, K, threads, median_seconds(lambda: torch.mm(a, b, out=c), reps))
    for name, count, M, N, K, trans_a, trans_b in ATTENTION_SHAPES:
        a = torch.randn(count, K, M).transpose(1, 2) if trans_a else torch.randn(count, M, K)
        b = torch.randn(count, N, K).transpose(1, 2) if trans_b else torch.randn(count, K, N)
        c = torch.empty(count, M, N)
        print_rate(name, count, M, N, K, threads, median_seconds(lambda: torch.bmm(a, b, out=c), reps))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="small", choices=PRESETS)
    ap.add_argument("--ffn", default="swiglu", choices=ACT)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--matmul", action="store_true", help="time torch.mm on the small preset's products instead")
    args = ap.parse_args()
    if args.threads < 1 or args.steps < 1 or args.warmup < 0:
        sys.exit("error: --threads and --steps must be at least 1, --warmup at least 0")

    torch.set_num_threads(args.threads)
    if args.matmul:
        return time_matmuls(args.threads, max(args.steps, 50))
    torch.manual_seed(args.seed)
    model = Model(args.preset, args.ffn)
    decayed = [p for name, p in model.named_parameters() if not name.split(".")[-1].startswith("g")]
    gains = [p for name, p in model.named_parameters() if name.split(".")[-1].startswith("g")]
    opt = torch.optim.AdamW([{"params": decayed, "weight_decay": 0.1}, {"params": gains, "weight_decay": 0.0}],
                            lr=1e-3, betas=(0.9, 0.95), eps=1e-8)
    B, T = 16, model.T
    total = args.warmup + args.steps
    times = []
    for s in range(total):
        batch = torch.randint(0, 256, (B, T + 1))
        start = time.perf_counter()
        for group in opt.param_groups:
            group["lr"] = learning_rate(s, total)
        loss = model(batch[:, :-1], batch[:, 1:])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if s >= args.warmup:
            times.append(time.perf_counter() - start)
    step = statistics.median(times)
    print(json.dumps({
        "framework": f"pytorch {torch.__version__}", "preset": args.preset, "ffn": args.ffn,
        "threads": args.threads, "steps": args.steps, "parameters": sum(p.numel() for p in model.parameters()),
        "step_ms": round(step * 1e3, 3), "tokens_per_sec": round(B * T / step, 1), "final_loss": round(loss.item(), 4),
    }))


if __name__ == "__main__":
    main()
