#!/usr/bin/env python3
"""PyTorch's float32 -> bfloat16 rounding, as a fixture for vdep's BF16 save path.

Writes vdep-models/src/test/resources/golden/bf16/rounding.safetensors with
  input     F32  [N]  edge cases (ties both ways, the largest finite float, values that round
                      to infinity, infinities, NaNs, zeros, subnormals) and seeded normals
                      at several scales
  expected  BF16 [N]  torch's input.to(torch.bfloat16), bit for bit
The safetensors file is written by hand (no `safetensors` package needed).

    /usr/bin/python3 scripts/golden/make_bf16_golden.py [OUTPUT_FILE]
"""
import json
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(HERE, "..", "..", "vdep-models", "src", "test", "resources", "golden", "bf16",
                           "rounding.safetensors")


def bits_to_f32(bits):
    return torch.tensor(bits, dtype=torch.int32).view(torch.float32)


def inputs():
    edge = [
        0x00000000, 0x80000000,  # +0, -0
        0x3f800000,  # 1
        0x3f808000,  # 1 + half an ulp of bf16, bf16 mantissa even: tie rounds down
        0x3f818000,  # tie with an odd mantissa: rounds up
        0x3f808001, 0x3f807fff,  # just above / below a tie
        0x7f7fffff, 0xff7fffff,  # the largest finite floats: round to +-infinity
        0x7f7f7fff,  # just below the rounding-to-infinity boundary
        0x7f800000, 0xff800000,  # infinities
        0x7fc00000, 0xffc00000, 0x7f800001, 0x7fbfffff,  # NaNs: quiet, negative, signalling payloads
        0x00000001, 0x00008000, 0x00018000, 0x007fffff, 0x80400000,  # subnormals
        0x00800000,  # smallest normal
    ]
    e = bits_to_f32([b if b < 2**31 else b - 2**32 for b in edge])
    g = torch.Generator().manual_seed(1234)
    parts = [e]
    for scale in (1e-30, 1e-3, 0.02, 1.0, 300.0, 1e30):
        parts.append(torch.randn(1024, generator=g, dtype=torch.float32) * scale)
    return torch.cat(parts)


def save(path, tensors):
    names = {torch.float32: "F32", torch.bfloat16: "BF16"}
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    off = 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().astype("<f4").tobytes()
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(raw)]}
        blobs.append(raw)
        off += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_OUT
    x = inputs()
    y = x.to(torch.bfloat16)
    save(out, {"input": x, "expected": y})
    print(f"wrote {out}: {x.numel()} values, torch {torch.__version__}")


if __name__ == "__main__":
    main()
