#!/usr/bin/python3
"""Summarises bench/compare.sh results (JSON Lines: one {"java": ..., "pytorch": ...} per repetition).

Prints one row per case: the median step time of each side, the median of the per-repetition
Java/PyTorch step-time ratios (the number to compare with the targets), MFU, and peak RSS.
"""
import collections
import json
import statistics
import sys


def main(path):
    cases = collections.OrderedDict()
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        j, t = r["java"], r["pytorch"]
        cases.setdefault((j["preset"], j["mode"], j["stage"]), []).append((j, t))
    head = ("case", "reps", "java ms", "torch ms", "java/torch", "java MFU", "torch MFU", "matmul GF/s j/t", "RSS MiB j/t", "RSS ratio")
    rows = [head]
    for (p, m, s), runs in cases.items():
        med = lambda xs: statistics.median(xs)
        jms = med([j["median_step_s"] for j, _ in runs]) * 1e3
        tms = med([t["median_step_s"] for _, t in runs]) * 1e3
        ratio = med([j["median_step_s"] / t["median_step_s"] for j, t in runs])
        rows.append((f"{p} {m} {s}", str(len(runs)), f"{jms:.1f}", f"{tms:.1f}", f"{ratio:.2f}",
                     f"{med([j['mfu'] for j, _ in runs]) * 100:.1f}%", f"{med([t['mfu'] for _, t in runs]) * 100:.1f}%",
                     f"{med([j['matmul_gflops'] for j, _ in runs]):.0f}/{med([t['matmul_gflops'] for _, t in runs]):.0f}",
                     f"{med([j['peak_rss_mb'] for j, _ in runs]):.0f}/{med([t['peak_rss_mb'] for _, t in runs]):.0f}",
                     f"{med([j['peak_rss_mb'] / t['peak_rss_mb'] for j, t in runs]):.2f}"))
        if any(j["flops_per_step"] != t["flops_per_step"] for j, t in runs):
            print(f"warning: {p} {m} {s}: Java and PyTorch count different FLOPs", file=sys.stderr)
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    for k, r in enumerate(rows):
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print()
    print("phases, medians in ms (vision / LLM forward / backward / optimizer):")
    for (p, m, s), runs in cases.items():
        fmt = lambda side: " / ".join(f"{statistics.median([x[side]['phases_s'][k] for x in runs_d]) * 1e3:.1f}"
                                      for k in ("vision", "llm_forward", "backward", "optimizer"))
        runs_d = [{"j": j, "t": t} for j, t in runs]
        print(f"  {p} {m} {s}: java {fmt('j')}; pytorch {fmt('t')}")


if __name__ == "__main__":
    main(sys.argv[1])
