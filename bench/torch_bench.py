#!/usr/bin/python3
"""PyTorch peer of `vdep bench`: the same LLaVA-style model, preset, batch, loss, optimizer and
stage, timed the same way (median of timed optimizer steps after warm-up steps).

Run with Debian's python3-torch (OpenBLAS):  /usr/bin/python3 bench/torch_bench.py --preset tiny --json
On a GPU (torch >= 2.0):  python3 bench/torch_bench.py --device cuda --preset base [--compile] --json

On CUDA (--device cuda) the step is what a PyTorch user would run: BF16 autocast (--precision bf16,
the default there; frozen modules held in BF16, trained ones in FP32 master weights as LLaVA does),
F.scaled_dot_product_attention (its flash / memory-efficient kernels; K/V heads repeated for GQA
where enable_gqa is not available), fused AdamW, and optionally torch.compile (--compile) of the
vision tower and the LLaMA decoder. It reports torch.cuda.max_memory_allocated as peak memory and
measures the BF16 (or FP32) matmul rate of the same GPU (--matmul-size, default 8192 there) with
CUDA events, for MFU. On the CPU nothing changes from before: FP32, the hand-written attention
below, OpenBLAS.

The architecture is written out by hand, as vdep implements it:
  * CLIP-style ViT: patch conv (no bias), class + learned position embeddings, pre_layrnorm,
    pre-LN encoder layers (q/k/v/out with bias, softmax attention, fc1 -> quick_gelu -> fc2);
    features of the penultimate layer (LLaVA's vision_feature_layer -2, the last layer is not
    run), CLS dropped. Frozen.
  * mlp2x_gelu projector: Linear(w, H) -> exact GELU -> Linear(H, H).
  * LLaMA: RMSNorm (eps 1e-5), rotary embeddings (rotate-half, theta 1e4), grouped-query causal
    attention (no bias; the query heads of a KV group share one batched matmul, as vdep does),
    SwiGLU MLP, final norm, untied LM head.
  * loss: shifted text cross-entropy (mean over supervised tokens) plus, in vdep mode, alpha (1)
    times the MSE between the final-norm hidden state at position p-1 and the detached projected
    image embedding at p, over every image position.
  * step: forward, backward, clip_grad_norm_(1.0), AdamW (betas 0.9/0.999, eps 1e-8, no weight
    decay; lr 1e-3 pretrain, 2e-5 finetune), zero_grad(set_to_none=True).
  * stages: pretrain trains the projector, finetune the projector and the LLM.
FLOPs are counted with the same formula as vdep's FlopCount (matmuls only).
"""
import argparse
import contextlib
import json
import math
import os
import platform
import resource
import statistics
import sys
import time


def _threads_from_argv(default):
    for i, a in enumerate(sys.argv):
        if a == "--threads" and i + 1 < len(sys.argv):
            return sys.argv[i + 1]
        if a.startswith("--threads="):
            return a.split("=", 1)[1]
    return default


# OpenBLAS (Debian's libblas.so.3) reads its thread count when torch loads it; torch.set_num_threads
# only sets the intra-op (OpenMP) pool. Fix both before the import, as ND4J is configured.
_THREADS = _threads_from_argv(os.environ.get("VDEP_BENCH_THREADS", str(os.cpu_count() or 1)))
os.environ["OPENBLAS_NUM_THREADS"] = _THREADS
os.environ["OMP_NUM_THREADS"] = _THREADS

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

PRESETS = {
    # name: image, patch, vision width, vision layers, vision heads, vision mlp,
    #       hidden, layers, heads, kv heads, intermediate, vocab, batch, seq
    "tiny": dict(image=64, patch=8, vw=128, vlayers=4, vheads=4, vmlp=512,
                 hidden=256, layers=4, heads=8, kv=4, inter=688, vocab=4096, batch=8, seq=128),
    "small": dict(image=224, patch=16, vw=384, vlayers=6, vheads=6, vmlp=1536,
                  hidden=768, layers=8, heads=12, kv=4, inter=2048, vocab=8192, batch=4, seq=256),
    # TinyLLaVA-like: CLIP ViT-L/14-336, TinyLlama-shaped LLaMA (vdep's BenchPreset.BASE)
    "base": dict(image=336, patch=14, vw=1024, vlayers=24, vheads=16, vmlp=4096,
                 hidden=2048, layers=22, heads=32, kv=4, inter=5632, vocab=32000, batch=4, seq=2048),
    # LLaVA-1.5-7B: the same tower, LLaMA-7B (vdep's BenchPreset.LLAVA_7B)
    "llava-7b": dict(image=336, patch=14, vw=1024, vlayers=24, vheads=16, vmlp=4096,
                     hidden=4096, layers=32, heads=32, kv=32, inter=11008, vocab=32000, batch=1, seq=2048),
}
FEATURE_LAYER = -2
BOS = 1
# set by main(): use F.scaled_dot_product_attention (CUDA) instead of the explicit softmax(QK^T)V
USE_SDPA = False
SDPA_GQA = False  # torch >= 2.5: SDPA groups the query heads itself (no repeated K/V)


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


class ClipLayer(nn.Module):
    def __init__(self, w, heads, mlp):
        super().__init__()
        self.heads = heads
        self.q = nn.Linear(w, w)
        self.k = nn.Linear(w, w)
        self.v = nn.Linear(w, w)
        self.o = nn.Linear(w, w)
        self.ln1 = nn.LayerNorm(w, eps=1e-5)
        self.ln2 = nn.LayerNorm(w, eps=1e-5)
        self.fc1 = nn.Linear(w, mlp)
        self.fc2 = nn.Linear(mlp, w)

    def forward(self, x):
        b, t, w = x.shape
        hd = w // self.heads
        h = self.ln1(x)
        q = self.q(h).view(b, t, self.heads, hd).transpose(1, 2)
        k = self.k(h).view(b, t, self.heads, hd).transpose(1, 2)
        v = self.v(h).view(b, t, self.heads, hd).transpose(1, 2)
        if USE_SDPA:
            a = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(b, t, w)
        else:
            p = torch.softmax((q @ k.transpose(-1, -2)) * hd ** -0.5, dim=-1)
            a = (p @ v).transpose(1, 2).reshape(b, t, w)
        x = x + self.o(a)
        return x + self.fc2(quick_gelu(self.fc1(self.ln2(x))))


class ClipVision(nn.Module):
    def __init__(self, c):
        super().__init__()
        w = c["vw"]
        self.patch = nn.Conv2d(3, w, c["patch"], stride=c["patch"], bias=False)
        n = (c["image"] // c["patch"]) ** 2
        self.cls = nn.Parameter(torch.randn(w) * 0.02)
        self.pos = nn.Parameter(torch.randn(n + 1, w) * 0.02)
        self.pre_ln = nn.LayerNorm(w, eps=1e-5)
        self.layers = nn.ModuleList(ClipLayer(w, c["vheads"], c["vmlp"]) for _ in range(c["vlayers"]))
        self.run_layers = c["vlayers"] + 1 + FEATURE_LAYER

    def forward(self, pixels):
        x = self.patch(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], 1, -1), x], dim=1) + self.pos
        x = self.pre_ln(x)
        for layer in self.layers[: self.run_layers]:
            x = layer(x)
        return x[:, 1:]


class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class LlamaLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, self.heads, self.kv = c["hidden"], c["heads"], c["kv"]
        self.hd = h // self.heads
        self.q = nn.Linear(h, self.heads * self.hd, bias=False)
        self.k = nn.Linear(h, self.kv * self.hd, bias=False)
        self.v = nn.Linear(h, self.kv * self.hd, bias=False)
        self.o = nn.Linear(self.heads * self.hd, h, bias=False)
        self.gate = nn.Linear(h, c["inter"], bias=False)
        self.up = nn.Linear(h, c["inter"], bias=False)
        self.down = nn.Linear(c["inter"], h, bias=False)
        self.n1 = RMSNorm(h)
        self.n2 = RMSNorm(h)

    def forward(self, x, cos, sin, mask):
        b, t, _ = x.shape
        hd, rep = self.hd, self.heads // self.kv
        h = self.n1(x)
        q = self.q(h).view(b, t, self.heads, hd).transpose(1, 2)
        k = self.k(h).view(b, t, self.kv, hd).transpose(1, 2)
        v = self.v(h).view(b, t, self.kv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if USE_SDPA:
            if SDPA_GQA:
                a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
            else:
                a = F.scaled_dot_product_attention(q, k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1), is_causal=True)
            a = a.transpose(1, 2).reshape(b, t, self.heads * hd)
            x = x + self.o(a)
            h = self.n2(x)
            return x + self.down(F.silu(self.gate(h)) * self.up(h))
        # the rep query heads of a KV group as one [rep*T, hd] block: no repeated K/V copies
        qg = q.reshape(b, self.kv, rep * t, hd)
        s = (qg @ k.transpose(-1, -2)) * hd ** -0.5 + mask
        a = torch.softmax(s, dim=-1) @ v
        a = a.view(b, self.heads, t, hd).transpose(1, 2).reshape(b, t, self.heads * hd)
        x = x + self.o(a)
        h = self.n2(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed = nn.Embedding(c["vocab"], c["hidden"])
        self.layers = nn.ModuleList(LlamaLayer(c) for _ in range(c["layers"]))
        self.norm = RMSNorm(c["hidden"])
        self.lm_head = nn.Linear(c["hidden"], c["vocab"], bias=False)
        hd = c["hidden"] // c["heads"]
        t = c["seq"]
        inv = 1.0 / (10000.0 ** (torch.arange(0, hd, 2, dtype=torch.float32) / hd))
        ang = torch.outer(torch.arange(t, dtype=torch.float32), inv)
        emb = torch.cat((ang, ang), dim=-1)
        self.register_buffer("cos", emb.cos(), persistent=False)
        self.register_buffer("sin", emb.sin(), persistent=False)
        rep = c["heads"] // c["kv"]
        causal = torch.full((t, t), -1e9).triu(1)
        self.register_buffer("mask", causal.repeat(rep, 1), persistent=False)  # [rep*T, T]

    def decode(self, x):
        for layer in self.layers:
            x = layer(x, self.cos, self.sin, self.mask)
        return self.norm(x)


class Llava(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.vision = ClipVision(c)
        self.proj1 = nn.Linear(c["vw"], c["hidden"])
        self.proj2 = nn.Linear(c["hidden"], c["hidden"])
        self.lm = Llama(c)
        for name, p in self.named_parameters():
            if name.endswith("weight") and p.dim() >= 2 and not name.startswith("proj"):
                nn.init.normal_(p, std=0.02)


def flop_count(c, stage):
    """vdep's FlopCount.of (matmul FLOPs, 2 m k n each); see its documentation."""
    lin = lambda m, i, o: 2 * m * i * o
    vision_trains, llm_trains = stage == "full", stage != "pretrain"
    imgs, n = c["batch"], (c["image"] // c["patch"]) ** 2
    pos, w, f = n + 1, c["vw"], c["vmlp"]
    hidden, d = c["hidden"], c["hidden"] // c["heads"]
    qw, kvw = c["heads"] * d, c["kv"] * d
    tokens, t = c["batch"] * c["seq"], c["seq"]
    patch = lin(imgs * n, 3 * c["patch"] ** 2, w)
    v_lin = 4 * lin(imgs * pos, w, w) + lin(imgs * pos, w, f) + lin(imgs * pos, f, w)
    v_att = 2 * 2 * imgs * pos * pos * w
    v_layers = c["vlayers"] + 1 + FEATURE_LAYER
    vision = patch + v_layers * (v_lin + v_att)
    p1, p2 = lin(imgs * n, w, hidden), lin(imgs * n, hidden, hidden)
    l_lin = 2 * lin(tokens, hidden, qw) + 2 * lin(tokens, hidden, kvw) + 3 * lin(tokens, hidden, c["inter"])
    l_att = 2 * 2 * c["batch"] * t * t * qw
    # LM head at the positions with a supervised next token only, as vdep's training step
    head = lin(c["batch"] * (t - 1 - n), hidden, c["vocab"])
    llm = c["layers"] * (l_lin + l_att) + head
    bwd = (c["layers"] * l_lin + head) * (2 if llm_trains else 1) + c["layers"] * 2 * l_att
    bwd += 2 * p2 + p1 * (2 if vision_trains else 1)
    if vision_trains:
        bwd += v_layers * (2 * v_lin + 2 * v_att) + patch
    return dict(vision_forward=vision, projector_forward=p1 + p2, llm_forward=llm, backward=bwd)


def synthetic(c, gen):
    b, t, n = c["batch"], c["seq"], (c["image"] // c["patch"]) ** 2
    image_token = c["vocab"] - 1
    ids = torch.randint(3, c["vocab"] - 1, (b, t), generator=gen)
    ids[:, 0] = BOS
    ids[:, 1:1 + n] = image_token
    labels = ids.clone()
    labels[:, : 1 + n] = -100
    pixels = torch.randn(b, 3, c["image"], c["image"], generator=gen)
    return ids, labels, pixels


def matmul_rate(n, trials=5):
    a, b = torch.rand(n, n) - 0.5, torch.rand(n, n) - 0.5
    out = torch.empty(n, n)
    start, warm = time.perf_counter(), 0
    while warm < 2 or time.perf_counter() - start < 0.1:
        torch.mm(a, b, out=out)
        warm += 1
    reps = max(1, math.ceil(0.2 / ((time.perf_counter() - start) / warm)))
    rates = []
    for _ in range(trials):
        t0 = time.perf_counter()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        rates.append(2.0 * n ** 3 * reps / (time.perf_counter() - t0) / 1e9)
    return statistics.median(rates)


def matmul_rate_cuda(n, dtype, device, trials=5):
    """Median matmul rate (GFLOP/s) of n x n x n products in dtype on the GPU, timed with CUDA events."""
    a = torch.rand(n, n, device=device, dtype=dtype) - 0.5
    b = torch.rand(n, n, device=device, dtype=dtype) - 0.5
    out = torch.empty(n, n, device=device, dtype=dtype)
    for _ in range(3):
        torch.mm(a, b, out=out)
    torch.cuda.synchronize(device)
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    torch.mm(a, b, out=out)
    end.record()
    end.synchronize()
    reps = max(1, math.ceil(200.0 / max(start.elapsed_time(end), 1e-3)))  # about 0.2 s per trial
    rates = []
    for _ in range(trials):
        start.record()
        for _ in range(reps):
            torch.mm(a, b, out=out)
        end.record()
        end.synchronize()
        rates.append(2.0 * n ** 3 * reps / (start.elapsed_time(end) / 1e3) / 1e9)
    return statistics.median(rates)


def error(msg):
    """One line on stderr and exit status 2, as vdep's commands report an unusable device."""
    print(f"torch_bench.py: error: {msg}", file=sys.stderr)
    sys.exit(2)


def torch_version():
    return tuple(int(x) for x in torch.__version__.split("+")[0].split(".")[:2] if x.isdigit())


def check_device(args):
    """The torch.device to run on, or one line saying why it cannot be used."""
    if args.device == "cpu":
        if args.compile:
            error("--compile is for --device cuda (this benchmark's CPU numbers are eager PyTorch)")
        return torch.device("cpu")
    if not args.device.startswith("cuda"):
        error(f"--device '{args.device}' is not cpu, cuda or cuda:N")
    if not torch.cuda.is_available():
        why = "this torch is built without CUDA" if torch.version.cuda is None else "no CUDA device or driver is visible"
        error(f"--device {args.device}: torch {torch.__version__} cannot use CUDA here ({why})")
    dev = torch.device(args.device)
    if dev.index is not None and dev.index >= torch.cuda.device_count():
        error(f"--device {args.device}: only {torch.cuda.device_count()} CUDA device(s)")
    if torch_version() < (2, 0):
        error(f"--device {args.device}: needs torch >= 2.0 (scaled_dot_product_attention, fused AdamW); this is {torch.__version__}")
    return dev


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--preset", default="tiny", choices=sorted(PRESETS))
    ap.add_argument("--mode", default="vdep", choices=["vdep", "llava"])
    ap.add_argument("--stage", default="finetune", choices=["pretrain", "finetune"])
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=15)
    ap.add_argument("--threads", type=int, default=int(_THREADS), help="intra-op and OpenBLAS threads (default: all cores)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--matmul-size", type=int, default=None, help="n of the n^3 matmul timed for MFU (default 1024 on the CPU, 8192 on CUDA)")
    ap.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    ap.add_argument("--precision", choices=["fp32", "bf16"], default=None,
                    help="bf16: autocast to bfloat16 with FP32 master weights (default bf16 on CUDA, fp32 on the CPU)")
    ap.add_argument("--batch-size", type=int, default=None, help="samples per step (default: the preset's)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the vision tower and the decoder (CUDA only; reported as compile: true)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    dev = check_device(args)
    cuda = dev.type == "cuda"
    precision = args.precision or ("bf16" if cuda else "fp32")
    matmul_size = args.matmul_size if args.matmul_size is not None else (8192 if cuda else 1024)
    global USE_SDPA, SDPA_GQA
    USE_SDPA = cuda
    SDPA_GQA = cuda and torch_version() >= (2, 5)
    amp_dtype = torch.bfloat16 if precision == "bf16" else None

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    c = dict(PRESETS[args.preset])
    if args.batch_size is not None:
        if args.batch_size < 1:
            error(f"--batch-size {args.batch_size}: must be >= 1")
        c["batch"] = args.batch_size
    if cuda:
        torch.cuda.set_device(dev)
        torch.backends.cuda.matmul.allow_tf32 = False  # FP32 means FP32, as in vdep's parity checks
        torch.backends.cudnn.allow_tf32 = False
        try:
            with torch.device(dev):  # built on the GPU: a 7B model is not staged through host memory
                model = Llava(c)
        except torch.cuda.OutOfMemoryError as e:
            error(f"--device {args.device}: out of memory building the {args.preset} model: {str(e).splitlines()[0]}")
    else:
        model = Llava(c)
    model.vision.requires_grad_(False)
    model.lm.requires_grad_(args.stage != "pretrain")
    if amp_dtype is not None:
        # frozen modules are kept in BF16 only (no FP32 copy), trained ones as FP32 master weights
        model.vision.to(amp_dtype)
        if args.stage == "pretrain":
            model.lm.to(amp_dtype)
    trainable = [p for p in model.parameters() if p.requires_grad]
    lr = 1e-3 if args.stage == "pretrain" else 2e-5
    opt = torch.optim.AdamW(trainable, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, **({"fused": True} if cuda else {}))
    if args.compile:
        model.vision = torch.compile(model.vision)
        model.lm.decode = torch.compile(model.lm.decode)
    gen = torch.Generator().manual_seed(args.seed + 100)
    batches = [tuple(x.to(dev) for x in synthetic(c, gen)) for _ in range(2)]
    b, t, n, hidden = c["batch"], c["seq"], (c["image"] // c["patch"]) ** 2, c["hidden"]

    def now():
        if cuda:
            torch.cuda.synchronize(dev)  # phase boundaries: the GPU's work is done, not only queued
        return time.perf_counter()

    def autocast():
        if amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=dev.type, dtype=amp_dtype)

    def step(batch):
        ids, labels, pixels = batch
        t0 = now()
        with autocast():
            feats = model.vision(pixels.to(amp_dtype) if amp_dtype is not None else pixels)
        t1 = now()
        with autocast():
            loss = text_and_image_loss(ids, labels, feats)
        t2 = now()
        loss.backward()
        t3 = now()
        torch.nn.utils.clip_grad_norm_(trainable, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        t4 = now()
        return loss.item(), (t1 - t0, t2 - t1, t3 - t2, t4 - t3)

    def text_and_image_loss(ids, labels, feats):
        img = model.proj2(F.gelu(model.proj1(feats)))  # [b, n, H]
        emb = model.lm.embed(ids)
        emb = torch.cat([emb[:, :1], img, emb[:, 1 + n:]], dim=1)  # splice the image embeddings
        hid = model.lm.decode(emb)
        # the LM head only where the next token is supervised, as vdep's training step does
        # (the loss and its gradients are those of the full logits)
        targets = labels[:, 1:].reshape(-1)
        keep = targets != -100
        logits = model.lm.lm_head(hid[:, :-1].reshape(-1, hidden)[keep])
        # the losses in FP32, as autocast runs cross_entropy and mse_loss
        loss = F.cross_entropy(logits.float(), targets[keep])
        if args.mode == "vdep":
            loss = loss + 1.0 * F.mse_loss(hid[:, :n].float(), img.detach().float())
        return loss

    totals, cpus, phases, losses = [], [], [], []
    try:
        for i in range(args.warmup):
            step(batches[i % 2])
        for i in range(args.steps):
            c0 = time.process_time()
            t0 = now()
            l, ph = step(batches[(args.warmup + i) % 2])
            totals.append(now() - t0)
            cpus.append(time.process_time() - c0)
            phases.append(ph)
            losses.append(l)
    except RuntimeError as e:  # torch.cuda.OutOfMemoryError is one
        if cuda and "out of memory" in str(e):
            error(f"--device {args.device}: out of GPU memory in a {args.preset} step (batch {b}): {str(e).splitlines()[0]}")
        raise
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    peak_device = torch.cuda.max_memory_allocated(dev) if cuda else None
    if matmul_size <= 0:
        mm = float("nan")
    elif cuda:
        mm = matmul_rate_cuda(matmul_size, amp_dtype or torch.float32, dev)
    else:
        mm = matmul_rate(matmul_size)
    med = statistics.median(totals)
    flops = flop_count(c, args.stage)
    total_flops = sum(flops.values())
    achieved = total_flops / med / 1e9
    result = {
        "impl": "pytorch",
        "preset": args.preset,
        "mode": args.mode,
        "stage": args.stage,
        "precision": precision,
        "device": str(dev),
        "compile": args.compile,
        "batch": b,
        "warmup_steps": args.warmup,
        "steps": args.steps,
        "median_step_s": med,
        "median_step_cpu_s": statistics.median(cpus),
        "step_s": totals,
        "tokens_per_s": b * t / med,
        "flops_per_step": total_flops,
        "flops": flops,
        "achieved_gflops": achieved,
        "matmul_gflops": mm,
        "matmul_size": matmul_size,
        "matmul_dtype": "bf16" if amp_dtype is not None and cuda else "fp32",
        "mfu": achieved / mm,
        "phases_s": {k: statistics.median(p[i] for p in phases)
                     for i, k in enumerate(["vision", "llm_forward", "backward", "optimizer"])},
        "peak_rss_mb": peak / (1024 * 1024),
        # vdep bench's key: the device's peak (torch.cuda.max_memory_allocated) on CUDA, the RSS on the CPU
        "peak_memory_mb": (peak_device if cuda else peak) / (1024 * 1024),
        "memory_measure": "torch.cuda.max_memory_allocated" if cuda else "peak RSS",
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainable_parameters": sum(p.numel() for p in trainable),
        "first_loss": losses[0],
        "last_loss": losses[-1],
        "environment": {
            "torch": torch.__version__,
            "threads": str(torch.get_num_threads()),
            "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "?"),
            "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "(auto)"),
            "blas": torch.__config__.show().split("BLAS_INFO=")[1].split(",")[0] if "BLAS_INFO=" in torch.__config__.show() else "?",
            "python": platform.python_version(),
            "os": platform.system() + " " + platform.machine(),
            **({"gpu": torch.cuda.get_device_name(dev), "cuda": str(torch.version.cuda),
                "sdpa_gqa": str(SDPA_GQA)} if cuda else {}),
        },
    }
    if args.json:
        print(json.dumps(result))
    else:
        print_human(result)


def print_human(r):
    ph = r["phases_s"]
    print(f"pytorch {r['preset']} {r['mode']} {r['stage']} {r['precision']} on {r['device']}{' (compiled)' if r['compile'] else ''}:"
          f" {r['steps']} steps after {r['warmup_steps']} warm-up, batch {r['batch']}")
    print(f"  median step      {r['median_step_s'] * 1e3:10.1f} ms")
    print(f"  tokens/s         {r['tokens_per_s']:10.0f}")
    print(f"  FLOPs/step       {r['flops_per_step'] / 1e9:10.2f} GFLOP")
    print(f"  achieved         {r['achieved_gflops']:10.2f} GFLOP/s")
    print(f"  matmul rate      {r['matmul_gflops']:10.2f} GFLOP/s ({r['matmul_size']}^3 {r['matmul_dtype']})")
    print(f"  MFU              {r['mfu'] * 100:10.1f} %")
    print(f"  phases (ms)      vision {ph['vision'] * 1e3:.1f}, llm forward {ph['llm_forward'] * 1e3:.1f}, "
          f"backward {ph['backward'] * 1e3:.1f}, optimizer {ph['optimizer'] * 1e3:.1f}")
    print(f"  peak RSS         {r['peak_rss_mb']:10.1f} MiB")
    print(f"  peak memory      {r['peak_memory_mb']:10.1f} MiB ({r['memory_measure']})")


if __name__ == "__main__":
    sys.exit(main())
