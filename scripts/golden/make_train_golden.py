#!/usr/bin/env python3
"""Golden reference of two optimizer steps on the tiny LLaVA (stage `finetune`).

Starting from the committed llava-tiny fixture (model.safetensors + inputs.safetensors, written by
make_llava_golden.py, whose hand-written float64 reference of the model is reused here by import),
computes in float64, for SGD and for AdamW, two consecutive steps on the same batch:

    step 1: VDEP mode   loss = text_loss + alpha * image_loss   (alpha from inputs.safetensors)
    step 2: LLaVA mode  loss = text_loss

Stage `finetune`: vision tower frozen (no gradients, no updates); projector + language model train.
Global-L2-norm gradient clipping, max norm 1.0 (torch.nn.utils.clip_grad_norm_ semantics).
Constant learning rate.
    SGD:   lr 0.05, no momentum, no weight decay
    AdamW: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.1 on parameters with ndim >= 2
           only (torch.optim.AdamW semantics, decoupled decay, PyTorch bias correction)

Writes  <OUT>/expected.safetensors  (all F32):
    {sgd,adamw}.loss [2], .text_loss [2], .image_loss [1], .grad_norm [2],
    {sgd,adamw}.<param name>  final weights after step 2, trainable parameters only.

Self-check: the steps are implemented by hand AND with torch.optim.SGD / torch.optim.AdamW +
clip_grad_norm_ on independent float64 copies; everything must agree to 1e-12.

Usage:  /usr/bin/python3 scripts/golden/make_train_golden.py [OUTPUT_DIR]
Default OUTPUT_DIR: <repo>/vdep-train/src/test/resources/golden/train-steps
See scripts/golden/README.md ("Training-step golden") for the exact conventions.
"""
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_llava_golden as ref  # noqa: E402  (model reference, safetensors reader/writer)

REPO_ROOT = ref.REPO_ROOT
MODEL_DIR = os.path.join(REPO_ROOT, "vdep-models", "src", "test", "resources", "golden", "llava-tiny")
DEFAULT_OUT = os.path.join(REPO_ROOT, "vdep-train", "src", "test", "resources", "golden", "train-steps")

MAX_NORM = 1.0
CLIP_EPS = 1e-6  # clip_grad_norm_: scale = max_norm / (total_norm + 1e-6), applied if < 1
MODES = ("vdep", "llava")  # step 1, step 2

SGD_LR = 0.05
ADAMW_LR = 1e-3
ADAMW_BETAS = (0.9, 0.999)
ADAMW_EPS = 1e-8
ADAMW_WD = 0.1

TOL = 1e-12


def is_trainable(name):
    """Stage `finetune`: projector + language model train; the vision tower is frozen."""
    return name.startswith("multi_modal_projector.") or name.startswith("language_model.")


def decays(t):
    """Weight decay only on tensors with >= 2 dims (matrices, embeddings)."""
    return t.dim() >= 2


def load_fixture():
    mp, meta = ref.load_safetensors(os.path.join(MODEL_DIR, "model.safetensors"))
    assert meta == {"format": "pt"}
    ip, _ = ref.load_safetensors(os.path.join(MODEL_DIR, "inputs.safetensors"))
    names = [n for n, _, _ in ref.param_specs()]
    assert set(mp) == set(names), "model.safetensors does not hold the expected parameters"
    params = {n: torch.from_numpy(np.array(mp[n], dtype=np.float32)) for n in names}
    inp = {k: torch.from_numpy(np.array(v)) for k, v in ip.items()}
    alpha = float(inp["alpha"].reshape(-1)[0])
    return names, params, inp, alpha


def losses(p, inp, alpha, mode):
    out = ref.forward(p, inp)
    text, image = out["text_loss"], out["image_loss"]
    loss = text + alpha * image if mode == "vdep" else text
    return loss, text, image


# ------------------------------------------------------------------------------------------
# hand-written optimizer steps
# ------------------------------------------------------------------------------------------

def hand_clip(grads):
    total = math.sqrt(sum(float((g * g).sum()) for g in grads.values()))
    scale = MAX_NORM / (total + CLIP_EPS)
    clipped = scale < 1.0
    if clipped:
        grads = {n: g * scale for n, g in grads.items()}
    return total, clipped, grads


def hand_sgd_step(w, grads, state):
    for n in w:
        w[n] = w[n] - SGD_LR * grads[n]


def hand_adamw_step(w, grads, state):
    b1, b2 = ADAMW_BETAS
    state["t"] = state.get("t", 0) + 1
    t = state["t"]
    bc1 = 1.0 - b1 ** t
    bc2 = 1.0 - b2 ** t
    for n in w:
        g = grads[n]
        m = state.setdefault("m." + n, torch.zeros_like(g))
        v = state.setdefault("v." + n, torch.zeros_like(g))
        m = b1 * m + (1.0 - b1) * g
        v = b2 * v + (1.0 - b2) * g * g
        state["m." + n], state["v." + n] = m, v
        x = w[n]
        if decays(x):
            x = x * (1.0 - ADAMW_LR * ADAMW_WD)  # decoupled decay, before the Adam update
        denom = v.sqrt() / math.sqrt(bc2) + ADAMW_EPS
        w[n] = x - (ADAMW_LR / bc1) * m / denom


def run_hand(names, params, inp, alpha, step_fn, dtype=torch.float64):
    frozen = {n: params[n].to(dtype) for n in names if not is_trainable(n)}
    w = {n: params[n].to(dtype).clone() for n in names if is_trainable(n)}
    state = {}
    rec = {"loss": [], "text_loss": [], "image_loss": [], "grad_norm": [], "clipped": []}
    for mode in MODES:
        leaves = {n: t.clone().requires_grad_(True) for n, t in w.items()}
        loss, text, image = losses({**frozen, **leaves}, inp, alpha, mode)
        gs = torch.autograd.grad(loss, [leaves[n] for n in w], allow_unused=True)
        grads = {n: (torch.zeros_like(w[n]) if g is None else g) for n, g in zip(w, gs)}
        total, clipped, grads = hand_clip(grads)
        step_fn(w, grads, state)
        rec["loss"].append(loss.item())
        rec["text_loss"].append(text.item())
        if mode == "vdep":
            rec["image_loss"].append(image.item())
        rec["grad_norm"].append(total)
        rec["clipped"].append(clipped)
    return rec, w


# ------------------------------------------------------------------------------------------
# the same with torch.optim + clip_grad_norm_ (independent float64 copies)
# ------------------------------------------------------------------------------------------

def run_torch(names, params, inp, alpha, kind):
    p = {n: params[n].to(torch.float64).clone().requires_grad_(is_trainable(n)) for n in names}
    train = [n for n in names if is_trainable(n)]
    if kind == "sgd":
        opt = torch.optim.SGD([p[n] for n in train], lr=SGD_LR, momentum=0.0, weight_decay=0.0)
    else:
        opt = torch.optim.AdamW(
            [{"params": [p[n] for n in train if decays(p[n])], "weight_decay": ADAMW_WD},
             {"params": [p[n] for n in train if not decays(p[n])], "weight_decay": 0.0}],
            lr=ADAMW_LR, betas=ADAMW_BETAS, eps=ADAMW_EPS)
    rec = {"loss": [], "text_loss": [], "image_loss": [], "grad_norm": []}
    for mode in MODES:
        opt.zero_grad(set_to_none=True)
        loss, text, image = losses(p, inp, alpha, mode)
        loss.backward()
        for n in names:
            if not is_trainable(n):
                assert p[n].grad is None, f"frozen {n} got a gradient"
        total = torch.nn.utils.clip_grad_norm_([p[n] for n in train], MAX_NORM)
        opt.step()
        rec["loss"].append(loss.item())
        rec["text_loss"].append(text.item())
        if mode == "vdep":
            rec["image_loss"].append(image.item())
        rec["grad_norm"].append(float(total))
    for n in names:
        if not is_trainable(n):
            assert torch.equal(p[n].detach(), params[n].to(torch.float64)), f"frozen {n} changed"
    return rec, {n: p[n].detach() for n in train}


def main():
    out_dir = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(ref.SEED)  # nothing random is drawn; kept for symmetry with make_llava_golden
    names, params, inp, alpha = load_fixture()
    assert alpha == ref.ALPHA, f"alpha in inputs.safetensors is {alpha}, reference uses {ref.ALPHA}"
    train = [n for n in names if is_trainable(n)]
    n_train = sum(params[n].numel() for n in train)
    print(f"trainable: {len(train)} tensors, {n_train} scalars; frozen: {len(names) - len(train)} tensors")

    # step 1 must reproduce the llava-tiny fixture's VDEP losses and (trainable part of) its gradients
    outs, _ = ref.load_safetensors(os.path.join(MODEL_DIR, "outputs.safetensors"))
    committed_norm = math.sqrt(sum(float((outs["grad." + n].astype(np.float64) ** 2).sum()) for n in train))

    expected = {}
    for kind, step_fn in (("sgd", hand_sgd_step), ("adamw", hand_adamw_step)):
        rec, w = run_hand(names, params, inp, alpha, step_fn)
        trec, tw = run_torch(names, params, inp, alpha, kind)
        for k in ("loss", "text_loss", "image_loss", "grad_norm"):
            for a, b in zip(rec[k], trec[k]):
                assert abs(a - b) <= TOL * max(1.0, abs(a)), f"{kind}.{k}: hand {a!r} torch {b!r}"
        worst = max((w[n] - tw[n]).abs().max().item() for n in train)
        assert worst <= TOL, f"{kind}: final weights differ from torch.optim by {worst}"
        for k in ("loss", "text_loss", "image_loss"):
            c = float(outs[k][0])
            assert abs(rec[k][0] - c) <= 1e-6 * abs(c), f"step 1 {k} {rec[k][0]} vs llava-tiny outputs {c}"
        assert abs(rec["grad_norm"][0] - committed_norm) <= 1e-6 * committed_norm, "step 1 grad norm vs llava-tiny"
        moved = max((w[n] - params[n].to(torch.float64)).abs().max().item() for n in train)
        assert moved > 1e-4, f"{kind}: weights did not move"
        # step 2 loss is the text loss of the weights after step 1: must differ from step 1's
        assert rec["text_loss"][0] != rec["text_loss"][1]
        print(f"{kind}: hand vs torch.optim OK (max weight diff {worst:.1e}; max |dw| {moved:.4e})")
        # informational: the same steps run in float32 (what a float32 implementation can reach)
        rec32, w32 = run_hand(names, params, inp, alpha, step_fn, dtype=torch.float32)
        d32 = torch.cat([(w[n] - w32[n].double()).abs().flatten() for n in train])
        rel = lambda k: max(abs(a - b) / abs(a) for a, b in zip(rec[k], rec32[k]))
        print(f"  float32 rerun: max |weight diff| {d32.max().item():.2e} ({int((d32 > 1e-5).sum())} > 1e-5, "
              f"{int((d32 > 1e-6).sum())} > 1e-6 of {d32.numel()}); max rel diff loss {rel('loss'):.1e}, "
              f"grad_norm {rel('grad_norm'):.1e}")
        for i, mode in enumerate(MODES):
            extra = f" image_loss {rec['image_loss'][0]:.10f}" if mode == "vdep" else ""
            print(f"  step {i + 1} [{mode:5s}] loss {rec['loss'][i]:.10f} text_loss {rec['text_loss'][i]:.10f}"
                  f"{extra} grad_norm {rec['grad_norm'][i]:.10f} clipped {rec['clipped'][i]}")
        f32 = lambda xs: torch.tensor(xs, dtype=torch.float64).to(torch.float32)
        for k in ("loss", "text_loss", "image_loss", "grad_norm"):
            expected[f"{kind}.{k}"] = f32(rec[k])
        for n in train:
            expected[f"{kind}.{n}"] = w[n].to(torch.float32).contiguous()

    path = os.path.join(out_dir, "expected.safetensors")
    ref.save_safetensors(path, expected)
    got, meta = ref.load_safetensors(path)
    assert meta == {"format": "pt"} and set(got) == set(expected)
    for k, v in expected.items():
        assert got[k].shape == tuple(v.shape) and got[k].tobytes() == v.numpy().tobytes(), k
    print(f"wrote {path}: {len(expected)} tensors, {os.path.getsize(path)} bytes")


if __name__ == "__main__":
    main()
