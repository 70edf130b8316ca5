#!/usr/bin/env python3
"""Checks a model directory vdep saved (train's final/) the way Hugging Face transformers reads it.

    /usr/bin/python3 scripts/golden/check_hf_save.py SAVED_DIR [FP32_DIR] [--max-shard-size BYTES]

Independent of vdep's code: a small pure-Python safetensors reader and torch (the `safetensors`
and `transformers` packages are not needed). Checks, as transformers' save_pretrained writes and
from_pretrained reads a checkpoint:
  - one shard is `model.safetensors` with no index; more are `model-0000k-of-0000n.safetensors`
    (k = 1..n, each named) with `model.safetensors.index.json` holding exactly
    {"metadata": {"total_size": ...}, "weight_map": {...}}, byte-identical to
    json.dumps(index, indent=2, sort_keys=True) + "\\n"; total_size is the sum of the tensors'
    bytes; every tensor is in the shard the weight_map names and only there;
  - each shard: an 8-byte-aligned header, `__metadata__` {"format": "pt"}, contiguous in-bounds
    offsets, every tensor in the dtype config.json's torch_dtype (and text_config's) names;
  - with --max-shard-size: no shard holds more bytes unless it holds a single tensor;
  - with FP32_DIR (the same weights saved in float32): every BF16 (or F16) tensor equals torch's
    fp32_tensor.to(torch.bfloat16) bit for bit (NaN-ness only for NaNs, whose bits torch itself
    sets differently on its scalar and vector paths).
Prints one line per check group and exits 1 at the first failure.
"""
import json
import os
import re
import struct
import sys

import torch

DTYPES = {"F32": (torch.float32, 4), "BF16": (torch.bfloat16, 2), "F16": (torch.float16, 2)}
TORCH_NAMES = {"float32": "F32", "bfloat16": "BF16", "float16": "F16"}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def read_safetensors(path):
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    if n % 8:
        fail(f"{path}: header length {n} is not a multiple of 8")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", None)
    data = raw[8 + n:]
    spans = sorted((e["data_offsets"][0], e["data_offsets"][1], name) for name, e in header.items())
    pos = 0
    for b, t, name in spans:
        if b != pos:
            fail(f"{path}: {name} starts at {b}, not {pos}")
        pos = t
    if pos != len(data):
        fail(f"{path}: {len(data) - pos} bytes after the last tensor")
    tensors = {}
    for name, e in header.items():
        if e["dtype"] not in DTYPES:
            fail(f"{path}: {name} has dtype {e['dtype']}")
        dt, size = DTYPES[e["dtype"]]
        b, t = e["data_offsets"]
        count = 1
        for d in e["shape"]:
            count *= d
        if t - b != count * size:
            fail(f"{path}: {name}: {t - b} bytes for shape {e['shape']} of {e['dtype']}")
        buf = bytearray(data[b:t])
        x = torch.frombuffer(buf, dtype=dt) if count else torch.empty(0, dtype=dt)
        tensors[name] = (e["dtype"], x.reshape(e["shape"]), t - b)
    return meta, tensors


def load_dir(d, max_shard=None):
    files = sorted(f for f in os.listdir(d) if f.startswith("model") and (f.endswith(".safetensors") or f.endswith(".json")))
    index_path = os.path.join(d, "model.safetensors.index.json")
    out = {}
    if os.path.exists(index_path):
        if "model.safetensors" in files:
            fail(f"{d}: both model.safetensors and an index")
        text = open(index_path, encoding="utf-8").read()
        index = json.loads(text)
        if set(index) != {"metadata", "weight_map"} or set(index["metadata"]) != {"total_size"}:
            fail(f"{index_path}: keys {sorted(index)} / metadata {sorted(index.get('metadata', {}))}")
        if text != json.dumps(index, indent=2, sort_keys=True) + "\n":
            fail(f"{index_path}: not formatted as json.dumps(indent=2, sort_keys=True) + newline")
        shards = sorted(set(index["weight_map"].values()))
        n = len(shards)
        want = [f"model-{k:05d}-of-{n:05d}.safetensors" for k in range(1, n + 1)]
        if shards != want:
            fail(f"{d}: shards {shards}, expected {want}")
        extra = set(files) - set(want) - {"model.safetensors.index.json"}
        if extra:
            fail(f"{d}: weight files the index does not name: {sorted(extra)}")
        total = 0
        for s in shards:
            meta, tensors = read_safetensors(os.path.join(d, s))
            if meta != {"format": "pt"}:
                fail(f"{s}: __metadata__ {meta}")
            named = {k for k, v in index["weight_map"].items() if v == s}
            if named != set(tensors):
                fail(f"{s}: holds {sorted(set(tensors) ^ named)[:5]} against the weight_map")
            size = sum(t[2] for t in tensors.values())
            if max_shard is not None and size > max_shard and len(tensors) > 1:
                fail(f"{s}: {size} bytes in {len(tensors)} tensors exceeds --max-shard-size {max_shard}")
            total += size
            out.update(tensors)
        if total != index["metadata"]["total_size"]:
            fail(f"{index_path}: total_size {index['metadata']['total_size']} but the shards hold {total} bytes")
        print(f"ok  index: {n} shards named model-0000k-of-{n:05d}, {len(out)} tensors, total_size {total}, json.dumps formatting")
    else:
        if files != ["model.safetensors"]:
            fail(f"{d}: no index, weight files {files}")
        meta, out = read_safetensors(os.path.join(d, "model.safetensors"))
        if meta != {"format": "pt"}:
            fail(f"model.safetensors: __metadata__ {meta}")
        print(f"ok  single file: model.safetensors, {len(out)} tensors")
    return out


def main():
    args = [a for a in sys.argv[1:]]
    max_shard = None
    if "--max-shard-size" in args:
        i = args.index("--max-shard-size")
        max_shard = int(args[i + 1])
        del args[i:i + 2]
    if not args:
        print(__doc__)
        sys.exit(2)
    saved = args[0]
    config = json.load(open(os.path.join(saved, "config.json")))
    torch_dtype = config.get("torch_dtype")
    if torch_dtype not in TORCH_NAMES:
        fail(f"config.json torch_dtype {torch_dtype!r}")
    if config.get("text_config", {}).get("torch_dtype", torch_dtype) != torch_dtype:
        fail("text_config.torch_dtype differs from torch_dtype")
    tensors = load_dir(saved, max_shard)
    want = TORCH_NAMES[torch_dtype]
    wrong = [n for n, (dt, _, _) in tensors.items() if dt != want]
    if wrong:
        fail(f"{len(wrong)} tensors are not {want} as torch_dtype {torch_dtype} says, e.g. {wrong[0]}")
    print(f"ok  dtypes: all {len(tensors)} tensors {want}, config.json torch_dtype {torch_dtype}")
    if len(args) > 1:
        ref = load_dir(args[1])
        if set(ref) != set(tensors):
            fail(f"tensor names differ from {args[1]}: {sorted(set(ref) ^ set(tensors))[:5]}")
        target = DTYPES[want][0]
        values = 0
        for name, (_, x, _) in tensors.items():
            r = ref[name][1]
            if r.dtype != torch.float32 or r.shape != x.shape:
                fail(f"{name}: reference is {r.dtype} {list(r.shape)}")
            expect = r.to(target)
            nan = torch.isnan(r)
            if not torch.equal(torch.isnan(x.float()), nan):
                fail(f"{name}: NaNs differ")
            view = torch.int16 if target != torch.float32 else torch.int32
            if not torch.equal(expect[~nan].view(view), x[~nan].view(view)):
                bad = (expect.view(view) != x.view(view)) & ~nan
                i = int(bad.flatten().nonzero()[0])
                fail(f"{name}[{i}]: {x.flatten()[i].item()} but torch gives {expect.flatten()[i].item()} from {r.flatten()[i].item()}")
            values += x.numel()
        print(f"ok  values: {values} values equal torch's float32 .to({target}) of {args[1]} bit for bit (torch {torch.__version__})")


if __name__ == "__main__":
    main()
