#!/usr/bin/env python3
"""Golden-reference generator for vdep's LLaVA model (the llm.c test_gpt2 pattern).

Builds a tiny LLaVA (CLIP vision tower + 2-layer GELU projector + LLaMA) with
deterministic float32 weights, runs a HAND-WRITTEN PyTorch reference of the
Hugging Face semantics (LlavaForConditionalGeneration = CLIPVisionModel +
LlavaMultiModalProjector + LlamaForCausalLM) in float64 on those exact
float32 values, computes the VDEP losses (text CE + alpha * next-embedding MSE)
and their gradients with autograd, and writes:

    config.json            llava-hf style config of the tiny model
    model.safetensors      all parameters, F32, llava-hf (older) key layout
    inputs.safetensors     input_ids, attention_mask, labels (I64), pixel_values, alpha (F32)
    outputs.safetensors    logits, hidden_states, vision_features, image_features,
                           text_loss, image_loss, loss, grad.<param>, llava_grad.<param> (F32)

Usage:  /usr/bin/python3 scripts/golden/make_llava_golden.py [OUTPUT_DIR]
Default OUTPUT_DIR: <repo>/vdep-models/src/test/resources/golden/llava-tiny
Needs only torch + numpy (Debian: apt-get install python3-torch libopenblas0-pthread).
See scripts/golden/README.md for the exact conventions.
"""
import json
import math
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEFAULT_OUT = os.path.join(REPO_ROOT, "vdep-models", "src", "test", "resources", "golden", "llava-tiny")

SEED = 1234
ALPHA = 0.5

CONFIG = {
    "architectures": ["LlavaForConditionalGeneration"],
    "model_type": "llava",
    "image_token_index": 100,
    "projector_hidden_act": "gelu",
    "vision_feature_layer": -2,
    "vision_feature_select_strategy": "default",
    "image_seq_length": 16,
    "ignore_index": -100,
    "pad_token_id": 0,
    "tie_word_embeddings": False,
    "torch_dtype": "float32",
    "text_config": {
        "model_type": "llama",
        "architectures": ["LlamaForCausalLM"],
        "hidden_size": 64,
        "intermediate_size": 96,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "vocab_size": 128,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "max_position_embeddings": 256,
        "tie_word_embeddings": False,
        "hidden_act": "silu",
        "bos_token_id": 1,
        "eos_token_id": 2,
        "pad_token_id": 0,
    },
    "vision_config": {
        "model_type": "clip_vision_model",
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 3,
        "num_attention_heads": 4,
        "image_size": 32,
        "patch_size": 8,
        "num_channels": 3,
        "layer_norm_eps": 1e-5,
        "hidden_act": "quick_gelu",
        "projection_dim": 32,
    },
}

VC = CONFIG["vision_config"]
TC = CONFIG["text_config"]
IMAGE_TOKEN = CONFIG["image_token_index"]
IGNORE = CONFIG["ignore_index"]
N_IMG = CONFIG["image_seq_length"]

# --------------------------------------------------------------------------------------
# safetensors, by hand
# --------------------------------------------------------------------------------------
_DT = {torch.float32: ("F32", "<f4"), torch.int64: ("I64", "<i8")}
_NP = {"F32": "<f4", "I64": "<i8"}


def save_safetensors(path, tensors):
    """tensors: dict name -> torch tensor (float32 or int64). Data in sorted-key order."""
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        dt, npdt = _DT[t.dtype]
        b = t.numpy().astype(npdt, copy=False).tobytes(order="C")
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * ((8 - len(hjson) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    """Tiny independent reader: returns (dict name -> numpy array, metadata)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0, "header length not a multiple of 8"
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None)
    data = raw[8 + n:]
    out = {}
    expect = 0
    for name in sorted(header):
        e = header[name]
        b, t = e["data_offsets"]
        assert b == expect, f"{name}: non-contiguous offsets"
        npdt = np.dtype(_NP[e["dtype"]])
        count = int(np.prod(e["shape"])) if e["shape"] else 1
        assert t - b == count * npdt.itemsize, f"{name}: size mismatch"
        out[name] = np.frombuffer(data[b:t], dtype=npdt).reshape(e["shape"])
        expect = t
    assert expect == len(data), "trailing bytes after last tensor"
    return out, meta


# --------------------------------------------------------------------------------------
# parameters (float32, deterministic)
# --------------------------------------------------------------------------------------

def param_specs():
    """Ordered list of (name, shape, kind). kind in {linear_w, bias, norm_w, norm_b, embed, conv}."""
    D, Dm = VC["hidden_size"], VC["intermediate_size"]
    C, P = VC["num_channels"], VC["patch_size"]
    NP = (VC["image_size"] // P) ** 2
    H, I, V = TC["hidden_size"], TC["intermediate_size"], TC["vocab_size"]
    nh, nkv = TC["num_attention_heads"], TC["num_key_value_heads"]
    hd = H // nh
    s = []
    vm = "vision_tower.vision_model."
    s.append((vm + "embeddings.class_embedding", [D], "embed"))
    s.append((vm + "embeddings.patch_embedding.weight", [D, C, P, P], "conv"))
    s.append((vm + "embeddings.position_embedding.weight", [NP + 1, D], "embed"))
    s.append((vm + "pre_layrnorm.weight", [D], "norm_w"))
    s.append((vm + "pre_layrnorm.bias", [D], "norm_b"))
    for i in range(VC["num_hidden_layers"]):
        L = f"{vm}encoder.layers.{i}."
        for pr in ("q_proj", "k_proj", "v_proj", "out_proj"):
            s.append((L + f"self_attn.{pr}.weight", [D, D], "linear_w"))
            s.append((L + f"self_attn.{pr}.bias", [D], "bias"))
        s.append((L + "layer_norm1.weight", [D], "norm_w"))
        s.append((L + "layer_norm1.bias", [D], "norm_b"))
        s.append((L + "mlp.fc1.weight", [Dm, D], "linear_w"))
        s.append((L + "mlp.fc1.bias", [Dm], "bias"))
        s.append((L + "mlp.fc2.weight", [D, Dm], "linear_w"))
        s.append((L + "mlp.fc2.bias", [D], "bias"))
        s.append((L + "layer_norm2.weight", [D], "norm_w"))
        s.append((L + "layer_norm2.bias", [D], "norm_b"))
    s.append((vm + "post_layernorm.weight", [D], "norm_w"))
    s.append((vm + "post_layernorm.bias", [D], "norm_b"))
    s.append(("multi_modal_projector.linear_1.weight", [H, D], "linear_w"))
    s.append(("multi_modal_projector.linear_1.bias", [H], "bias"))
    s.append(("multi_modal_projector.linear_2.weight", [H, H], "linear_w"))
    s.append(("multi_modal_projector.linear_2.bias", [H], "bias"))
    lm = "language_model.model."
    s.append((lm + "embed_tokens.weight", [V, H], "embed"))
    for i in range(TC["num_hidden_layers"]):
        L = f"{lm}layers.{i}."
        s.append((L + "self_attn.q_proj.weight", [nh * hd, H], "linear_w"))
        s.append((L + "self_attn.k_proj.weight", [nkv * hd, H], "linear_w"))
        s.append((L + "self_attn.v_proj.weight", [nkv * hd, H], "linear_w"))
        s.append((L + "self_attn.o_proj.weight", [H, nh * hd], "linear_w"))
        s.append((L + "mlp.gate_proj.weight", [I, H], "linear_w"))
        s.append((L + "mlp.up_proj.weight", [I, H], "linear_w"))
        s.append((L + "mlp.down_proj.weight", [H, I], "linear_w"))
        s.append((L + "input_layernorm.weight", [H], "norm_w"))
        s.append((L + "post_attention_layernorm.weight", [H], "norm_w"))
    s.append((lm + "norm.weight", [H], "norm_w"))
    s.append(("language_model.lm_head.weight", [V, H], "linear_w"))
    return s


def make_params(gen):
    params = {}
    for name, shape, kind in param_specs():
        r = torch.randn(*shape, generator=gen, dtype=torch.float32)
        if kind == "linear_w":
            t = r * 0.2
        elif kind == "conv":
            t = r * 0.1
        elif kind == "bias":
            t = r * 0.1
        elif kind == "norm_w":
            t = 1.0 + 0.1 * r
        elif kind == "norm_b":
            t = 0.1 * r
        elif kind == "embed":
            t = r * 0.5
        else:
            raise ValueError(kind)
        params[name] = t.to(torch.float32).contiguous()
    return params


# --------------------------------------------------------------------------------------
# inputs
# --------------------------------------------------------------------------------------

def make_inputs(gen):
    B, T = 2, 24
    bos, pad = TC["bos_token_id"], TC["pad_token_id"]

    def txt(n):
        return torch.randint(3, 100, (n,), generator=gen, dtype=torch.int64).tolist()

    img = [IMAGE_TOKEN] * N_IMG
    s0 = [bos] + img + txt(7)
    s1 = [bos] + txt(3) + img + txt(2) + [pad, pad]
    assert len(s0) == T and len(s1) == T
    input_ids = torch.tensor([s0, s1], dtype=torch.int64)
    attention_mask = torch.ones(B, T, dtype=torch.int64)
    attention_mask[1, -2:] = 0
    labels = input_ids.clone()
    labels[:, 0] = IGNORE
    labels[input_ids == IMAGE_TOKEN] = IGNORE
    labels[attention_mask == 0] = IGNORE
    pixel_values = torch.randn(B, VC["num_channels"], VC["image_size"], VC["image_size"],
                               generator=gen, dtype=torch.float32)
    alpha = torch.tensor([ALPHA], dtype=torch.float32)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels,
            "pixel_values": pixel_values, "alpha": alpha}


# --------------------------------------------------------------------------------------
# hand-written reference (plain tensor ops; dtype = whatever the params are, float64 here)
# --------------------------------------------------------------------------------------

def linear(x, w, b=None):
    y = x @ w.transpose(0, 1)
    return y if b is None else y + b


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdim=True)
    var = ((x - mu) ** 2).mean(-1, keepdim=True)  # biased variance
    return (x - mu) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def silu(x):
    return x * torch.sigmoid(x)


def softmax(x):
    m = x.max(-1, keepdim=True).values
    e = torch.exp(x - m)
    return e / e.sum(-1, keepdim=True)


def clip_vision(p, pixel_values):
    """Returns the hidden_states list [pre_layrnorm(emb), layer1, ..., layerL]."""
    vm = "vision_tower.vision_model."
    D, P, nh = VC["hidden_size"], VC["patch_size"], VC["num_attention_heads"]
    eps = VC["layer_norm_eps"]
    B, C, Hh, Ww = pixel_values.shape
    gh, gw = Hh // P, Ww // P
    hd = D // nh
    # patch conv (stride = kernel = P, no bias) as unfold + matmul; patches row-major over the grid
    x = pixel_values.reshape(B, C, gh, P, gw, P).permute(0, 2, 4, 1, 3, 5).reshape(B, gh * gw, C * P * P)
    patches = x @ p[vm + "embeddings.patch_embedding.weight"].reshape(D, C * P * P).transpose(0, 1)
    cls = p[vm + "embeddings.class_embedding"].reshape(1, 1, D).expand(B, 1, D)
    h = torch.cat([cls, patches], dim=1) + p[vm + "embeddings.position_embedding.weight"].unsqueeze(0)
    h = layer_norm(h, p[vm + "pre_layrnorm.weight"], p[vm + "pre_layrnorm.bias"], eps)
    states = [h]
    S = h.shape[1]
    for i in range(VC["num_hidden_layers"]):
        L = f"{vm}encoder.layers.{i}."
        x = layer_norm(h, p[L + "layer_norm1.weight"], p[L + "layer_norm1.bias"], eps)
        q = linear(x, p[L + "self_attn.q_proj.weight"], p[L + "self_attn.q_proj.bias"])
        k = linear(x, p[L + "self_attn.k_proj.weight"], p[L + "self_attn.k_proj.bias"])
        v = linear(x, p[L + "self_attn.v_proj.weight"], p[L + "self_attn.v_proj.bias"])
        q = q.reshape(B, S, nh, hd).transpose(1, 2)
        k = k.reshape(B, S, nh, hd).transpose(1, 2)
        v = v.reshape(B, S, nh, hd).transpose(1, 2)
        att = softmax((q @ k.transpose(-1, -2)) * hd ** -0.5)  # full, non-causal
        o = (att @ v).transpose(1, 2).reshape(B, S, D)
        h = h + linear(o, p[L + "self_attn.out_proj.weight"], p[L + "self_attn.out_proj.bias"])
        x = layer_norm(h, p[L + "layer_norm2.weight"], p[L + "layer_norm2.bias"], eps)
        x = linear(quick_gelu(linear(x, p[L + "mlp.fc1.weight"], p[L + "mlp.fc1.bias"])),
                   p[L + "mlp.fc2.weight"], p[L + "mlp.fc2.bias"])
        h = h + x
        states.append(h)
    # post_layernorm only feeds pooler_output, which LLaVA does not use.
    return states


def projector(p, x):
    x = linear(x, p["multi_modal_projector.linear_1.weight"], p["multi_modal_projector.linear_1.bias"])
    return linear(gelu_erf(x), p["multi_modal_projector.linear_2.weight"], p["multi_modal_projector.linear_2.bias"])


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat([-x2, x1], dim=-1)


def llama(p, inputs_embeds, attention_mask):
    lm = "language_model.model."
    B, T, H = inputs_embeds.shape
    nh, nkv = TC["num_attention_heads"], TC["num_key_value_heads"]
    hd = H // nh
    rep = nh // nkv
    eps = TC["rms_norm_eps"]
    dt = inputs_embeds.dtype
    inv_freq = 1.0 / (TC["rope_theta"] ** (torch.arange(0, hd, 2, dtype=dt) / hd))
    freqs = torch.arange(T, dtype=dt)[:, None] * inv_freq[None, :]
    emb = torch.cat([freqs, freqs], dim=-1)
    cos, sin = emb.cos()[None, None], emb.sin()[None, None]  # [1,1,T,hd]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    allowed = causal[None, None] & (attention_mask[:, None, None, :] != 0)  # [B,1,T,T]
    neg = torch.finfo(dt).min
    h = inputs_embeds
    for i in range(TC["num_hidden_layers"]):
        L = f"{lm}layers.{i}."
        x = rms_norm(h, p[L + "input_layernorm.weight"], eps)
        q = linear(x, p[L + "self_attn.q_proj.weight"]).reshape(B, T, nh, hd).transpose(1, 2)
        k = linear(x, p[L + "self_attn.k_proj.weight"]).reshape(B, T, nkv, hd).transpose(1, 2)
        v = linear(x, p[L + "self_attn.v_proj.weight"]).reshape(B, T, nkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        # HF repeat_kv: query head j uses kv head j // rep
        k = k[:, :, None].expand(B, nkv, rep, T, hd).reshape(B, nh, T, hd)
        v = v[:, :, None].expand(B, nkv, rep, T, hd).reshape(B, nh, T, hd)
        s = (q @ k.transpose(-1, -2)) * hd ** -0.5
        s = torch.where(allowed, s, torch.full_like(s, neg))
        o = (softmax(s) @ v).transpose(1, 2).reshape(B, T, nh * hd)
        h = h + linear(o, p[L + "self_attn.o_proj.weight"])
        x = rms_norm(h, p[L + "post_attention_layernorm.weight"], eps)
        h = h + linear(silu(linear(x, p[L + "mlp.gate_proj.weight"])) * linear(x, p[L + "mlp.up_proj.weight"]),
                       p[L + "mlp.down_proj.weight"])
    hidden = rms_norm(h, p[lm + "norm.weight"], eps)
    logits = linear(hidden, p["language_model.lm_head.weight"])
    return hidden, logits


def image_starts(input_ids):
    starts = []
    for b in range(input_ids.shape[0]):
        idx = (input_ids[b] == IMAGE_TOKEN).nonzero().flatten().tolist()
        assert len(idx) == N_IMG and idx == list(range(idx[0], idx[0] + N_IMG)), "one run of N image tokens"
        assert idx[0] >= 1, "image must not start the sequence (needs a predictor state)"
        starts.append(idx[0])
    return starts


def forward(p, inp, image_target=None):
    """Full LLaVA forward + VDEP losses. image_target: if given, a fixed tensor used as the
    image-loss target (for finite differences of the detached objective); else image_features.detach()."""
    input_ids, attention_mask, labels = inp["input_ids"], inp["attention_mask"], inp["labels"]
    dt = p["language_model.lm_head.weight"].dtype
    states = clip_vision(p, inp["pixel_values"].to(dt))
    vision_features = states[CONFIG["vision_feature_layer"]][:, 1:]  # strategy "default": drop CLS
    image_features = projector(p, vision_features)  # [numImages, N, H]
    embeds = p["language_model.model.embed_tokens.weight"][input_ids]
    # splice: rows with image_token_index replaced by the image features, in order
    mask = (input_ids == IMAGE_TOKEN)
    flat = image_features.reshape(-1, image_features.shape[-1])
    pos = torch.cumsum(mask.reshape(-1).long(), 0) - 1
    src = flat[pos.clamp(min=0)].reshape(embeds.shape)
    embeds = torch.where(mask[..., None], src, embeds)
    hidden, logits = llama(p, embeds, attention_mask)

    # text loss: logits[t] vs labels[t+1], -100 ignored, mean over supervised tokens
    sl = logits[:, :-1].reshape(-1, logits.shape[-1])
    tl = labels[:, 1:].reshape(-1)
    keep = tl != IGNORE
    logp = sl - torch.logsumexp(sl, dim=-1, keepdim=True)
    nll = -logp[keep].gather(1, tl[keep][:, None]).squeeze(1)
    text_loss = nll.sum() / keep.sum()

    # image loss: hidden at p+i-2 predicts v_i (i = 1..N), target detached, MSE over all elements
    target = image_features.detach() if image_target is None else image_target
    preds = torch.stack([hidden[b, s - 1: s - 1 + N_IMG] for b, s in enumerate(image_starts(input_ids))])
    image_loss = ((preds - target) ** 2).mean()
    loss = text_loss + ALPHA * image_loss
    return {"logits": logits, "hidden_states": hidden, "vision_features": vision_features,
            "image_features": image_features, "text_loss": text_loss, "image_loss": image_loss, "loss": loss}


# --------------------------------------------------------------------------------------
# independent cross-check forward built from torch.nn.functional library ops
# --------------------------------------------------------------------------------------

def forward_functional(p, inp):
    input_ids, am, labels = inp["input_ids"], inp["attention_mask"], inp["labels"]
    dt = torch.float64
    vm = "vision_tower.vision_model."
    D, nh_v = VC["hidden_size"], VC["num_attention_heads"]
    pv = inp["pixel_values"].to(dt)
    B = pv.shape[0]
    x = F.conv2d(pv, p[vm + "embeddings.patch_embedding.weight"], stride=VC["patch_size"])
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([p[vm + "embeddings.class_embedding"].expand(B, 1, D), x], 1)
    x = x + F.embedding(torch.arange(x.shape[1]), p[vm + "embeddings.position_embedding.weight"])
    h = F.layer_norm(x, (D,), p[vm + "pre_layrnorm.weight"], p[vm + "pre_layrnorm.bias"], VC["layer_norm_eps"])
    states = [h]
    for i in range(VC["num_hidden_layers"]):
        L = f"{vm}encoder.layers.{i}."
        y = F.layer_norm(h, (D,), p[L + "layer_norm1.weight"], p[L + "layer_norm1.bias"], VC["layer_norm_eps"])
        heads = []
        hd = D // nh_v
        q = F.linear(y, p[L + "self_attn.q_proj.weight"], p[L + "self_attn.q_proj.bias"]) * hd ** -0.5
        k = F.linear(y, p[L + "self_attn.k_proj.weight"], p[L + "self_attn.k_proj.bias"])
        v = F.linear(y, p[L + "self_attn.v_proj.weight"], p[L + "self_attn.v_proj.bias"])
        for j in range(nh_v):
            sl = slice(j * hd, (j + 1) * hd)
            a = torch.softmax(torch.einsum("bqd,bkd->bqk", q[..., sl], k[..., sl]), -1)
            heads.append(torch.einsum("bqk,bkd->bqd", a, v[..., sl]))
        h = h + F.linear(torch.cat(heads, -1), p[L + "self_attn.out_proj.weight"], p[L + "self_attn.out_proj.bias"])
        y = F.layer_norm(h, (D,), p[L + "layer_norm2.weight"], p[L + "layer_norm2.bias"], VC["layer_norm_eps"])
        y = F.linear(y, p[L + "mlp.fc1.weight"], p[L + "mlp.fc1.bias"])
        h = h + F.linear(y * torch.sigmoid(1.702 * y), p[L + "mlp.fc2.weight"], p[L + "mlp.fc2.bias"])
        states.append(h)
    vf = states[-2][:, 1:]
    imf = F.linear(F.gelu(F.linear(vf, p["multi_modal_projector.linear_1.weight"],
                                   p["multi_modal_projector.linear_1.bias"])),
                   p["multi_modal_projector.linear_2.weight"], p["multi_modal_projector.linear_2.bias"])
    e = F.embedding(input_ids, p["language_model.model.embed_tokens.weight"])
    m = (input_ids == IMAGE_TOKEN)[..., None].expand_as(e)
    e = e.masked_scatter(m, imf)
    T, H = input_ids.shape[1], TC["hidden_size"]
    nh, nkv = TC["num_attention_heads"], TC["num_key_value_heads"]
    hd = H // nh
    pos = torch.arange(T, dtype=dt)
    inv = torch.tensor([1.0 / TC["rope_theta"] ** (2 * j / hd) for j in range(hd // 2)], dtype=dt)
    ang = pos[:, None] * inv[None]
    c, s = torch.cos(ang), torch.sin(ang)  # [T, hd/2]
    mask_add = torch.zeros(B, 1, T, T, dtype=dt)
    mask_add = mask_add.masked_fill(torch.triu(torch.ones(T, T, dtype=torch.bool), 1), torch.finfo(dt).min)
    mask_add = mask_add.masked_fill(am[:, None, None, :] == 0, torch.finfo(dt).min)

    def rms(x, w):
        return w * x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + TC["rms_norm_eps"])

    def rope(x):  # x [B, n, T, hd], half-split pairs (j, j + hd/2)
        a, b_ = x[..., : hd // 2], x[..., hd // 2:]
        return torch.cat([a * c - b_ * s, b_ * c + a * s], -1)

    h = e
    for i in range(TC["num_hidden_layers"]):
        L = f"language_model.model.layers.{i}."
        y = rms(h, p[L + "input_layernorm.weight"])
        q = rope(F.linear(y, p[L + "self_attn.q_proj.weight"]).view(B, T, nh, hd).permute(0, 2, 1, 3))
        k = rope(F.linear(y, p[L + "self_attn.k_proj.weight"]).view(B, T, nkv, hd).permute(0, 2, 1, 3))
        v = F.linear(y, p[L + "self_attn.v_proj.weight"]).view(B, T, nkv, hd).permute(0, 2, 1, 3)
        k = k.repeat_interleave(nh // nkv, dim=1)
        v = v.repeat_interleave(nh // nkv, dim=1)
        a = torch.softmax(torch.matmul(q, k.transpose(2, 3)) / math.sqrt(hd) + mask_add, dim=-1)
        h = h + F.linear(torch.matmul(a, v).permute(0, 2, 1, 3).reshape(B, T, H), p[L + "self_attn.o_proj.weight"])
        y = rms(h, p[L + "post_attention_layernorm.weight"])
        h = h + F.linear(F.silu(F.linear(y, p[L + "mlp.gate_proj.weight"])) * F.linear(y, p[L + "mlp.up_proj.weight"]),
                         p[L + "mlp.down_proj.weight"])
    hid = rms(h, p["language_model.model.norm.weight"])
    logits = F.linear(hid, p["language_model.lm_head.weight"])
    tl = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1), ignore_index=IGNORE)
    preds, tgts = [], []
    for b in range(B):
        st = int((input_ids[b] == IMAGE_TOKEN).nonzero()[0])
        preds.append(hid[b, st - 1: st - 1 + N_IMG])
        tgts.append(imf[b].detach())
    il = F.mse_loss(torch.stack(preds), torch.stack(tgts))
    return {"logits": logits, "hidden_states": hid, "vision_features": vf, "image_features": imf,
            "text_loss": tl, "image_loss": il, "loss": tl + ALPHA * il}


# --------------------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------------------

def leaf64(params):
    return {k: v.to(torch.float64).clone().requires_grad_(True) for k, v in params.items()}


def grads_of(scalar, p64, names):
    gs = torch.autograd.grad(scalar, [p64[n] for n in names], allow_unused=True, retain_graph=True)
    return {n: (torch.zeros_like(p64[n]) if g is None else g) for n, g in zip(names, gs)}


def main():
    out_dir = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT
    os.makedirs(out_dir, exist_ok=True)
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    params = make_params(gen)
    inp = make_inputs(gen)
    names = [n for n, _, _ in param_specs()]

    p64 = leaf64(params)
    out = forward(p64, inp)
    g_loss = grads_of(out["loss"], p64, names)
    g_text = grads_of(out["text_loss"], p64, names)

    # ---- self-check 1: independent functional-op implementation agrees (float64) ----
    ref = forward_functional({k: v.detach() for k, v in p64.items()}, inp)
    for k in ("logits", "hidden_states", "vision_features", "image_features", "text_loss", "image_loss", "loss"):
        d = (ref[k] - out[k].detach()).abs().max().item()
        assert d < 1e-10, f"cross-check {k}: max abs diff {d}"
    p64b = leaf64(params)
    ref2 = forward_functional(p64b, inp)
    gref = grads_of(ref2["loss"], p64b, names)
    worst = max((gref[n] - g_loss[n]).abs().max().item() for n in names)
    assert worst < 1e-10, f"cross-check grads: {worst}"
    print(f"cross-check vs torch.nn.functional implementation: OK (max grad diff {worst:.2e})")

    # ---- self-check 2: finite differences in float64 of the detached-target objective ----
    fixed_target = out["image_features"].detach().clone()
    checks = [
        "multi_modal_projector.linear_1.weight",
        "multi_modal_projector.linear_2.bias",
        "vision_tower.vision_model.encoder.layers.0.mlp.fc1.weight",
        "language_model.model.layers.1.self_attn.k_proj.weight",
        "language_model.model.embed_tokens.weight",
    ]
    eps = 1e-6
    for n in checks:
        g = g_loss[n]
        idx = int(g.abs().flatten().argmax())
        base = {k: v.detach().clone() for k, v in p64.items()}

        def f(delta, tgt):
            q = dict(base)
            t = base[n].clone().flatten()
            t[idx] += delta
            q[n] = t.reshape(base[n].shape)
            with torch.no_grad():
                return forward(q, inp, image_target=tgt)["loss"].item()

        fd = (f(eps, fixed_target) - f(-eps, fixed_target)) / (2 * eps)
        an = g.flatten()[idx].item()
        rel = abs(fd - an) / max(abs(an), 1e-12)
        # the same derivative if the target were NOT detached (it moves with the parameter)
        fd_live = (f(eps, None) - f(-eps, None)) / (2 * eps)
        print(f"FD {n}[{idx}]: autograd {an:.10e} fd(detached target) {fd:.10e} rel {rel:.2e} "
              f"| fd(live target) {fd_live:.6e}")
        assert rel < 1e-6, f"finite-difference mismatch on {n}: rel {rel}"
        if not n.startswith("language_model."):
            # upstream of the projector the target moves with the parameter: the non-detached
            # derivative must be visibly different, else this check would prove nothing
            assert abs(fd_live - fd) > 1e-3 * max(1.0, abs(fd)), f"detach not exercised by {n}"

    # ---- self-check 3: structurally zero gradients ----
    emb_g = g_loss["language_model.model.embed_tokens.weight"]
    assert emb_g[TC["pad_token_id"]].abs().max() == 0 and emb_g[IMAGE_TOKEN].abs().max() == 0
    unused = [n for n in names if n.startswith("vision_tower.vision_model.post_layernorm.")
              or n.startswith(f"vision_tower.vision_model.encoder.layers.{VC['num_hidden_layers'] - 1}.")]
    assert all(g_loss[n].abs().max() == 0 and g_text[n].abs().max() == 0 for n in unused)

    print(f"text_loss  = {out['text_loss'].item():.10f}")
    print(f"image_loss = {out['image_loss'].item():.10f}")
    print(f"loss       = {out['loss'].item():.10f}  (alpha = {ALPHA})")

    # ---- write ----
    with open(os.path.join(out_dir, "config.json"), "w") as fh:
        json.dump(CONFIG, fh, indent=2)
        fh.write("\n")
    save_safetensors(os.path.join(out_dir, "model.safetensors"), params)
    save_safetensors(os.path.join(out_dir, "inputs.safetensors"), inp)
    f32 = lambda t: t.detach().to(torch.float32)
    outputs = {k: f32(out[k]) for k in ("logits", "hidden_states", "vision_features", "image_features")}
    for k in ("text_loss", "image_loss", "loss"):
        outputs[k] = f32(out[k]).reshape(1)
    for n in names:
        outputs["grad." + n] = f32(g_loss[n])
        outputs["llava_grad." + n] = f32(g_text[n])
    save_safetensors(os.path.join(out_dir, "outputs.safetensors"), outputs)

    # ---- self-check 4: re-read our own files ----
    for fn, src in (("model.safetensors", params), ("inputs.safetensors", inp), ("outputs.safetensors", outputs)):
        got, meta = load_safetensors(os.path.join(out_dir, fn))
        assert meta == {"format": "pt"}
        assert set(got) == set(src), fn
        for k, v in src.items():
            a = v.detach().cpu().numpy()
            assert got[k].shape == a.shape and got[k].dtype.kind == a.dtype.kind, (fn, k)
            assert got[k].tobytes() == a.astype(got[k].dtype).tobytes(), (fn, k)
    total = 0
    for fn in ("config.json", "model.safetensors", "inputs.safetensors", "outputs.safetensors"):
        sz = os.path.getsize(os.path.join(out_dir, fn))
        total += sz
        print(f"wrote {fn:22s} {sz:9d} bytes")
    print(f"total {total} bytes in {out_dir}")


if __name__ == "__main__":
    main()
