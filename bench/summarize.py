#!/usr/bin/python3
"""Summarises bench/compare.sh results (JSON Lines: one {"java": ..., "pytorch": ...} per repetition).

Prints one row per case: the median step time of each side, the median of the per-repetition
Java/PyTorch step-time ratios (the number to compare with the targets), MFU, and peak RSS.
"""
import collections
import json
import statistics
import sys


def table(rows):
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for k, r in enumerate(rows):
        print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
        if k == 0:
            print("  ".join("-" * w for w in widths))


def gpu(cases):
    """--device cuda: step-time ratios (eager, and compiled where timed), tokens/s, MFU against
    PyTorch's matmul rate measured on the same GPU in the same run (both sides), peak memory."""
    med = statistics.median
    compiled = any(c is not None for runs in cases.values() for _, _, c in runs)
    head = ["case", "reps", "java ms", "torch ms", "java/torch"]
    if compiled:
        head += ["compiled ms", "java/compiled"]
    head += ["tokens/s j/t", "MFU j/t", "matmul TF/s", "peak MiB j/t"]
    rows = [tuple(head)]
    for (p, m, s), runs in cases.items():
        rate = med([t["matmul_gflops"] for _, t, _ in runs])
        jms = med([j["median_step_s"] for j, _, _ in runs])
        tms = med([t["median_step_s"] for _, t, _ in runs])
        row = [f"{p} {m} {s}", str(len(runs)), f"{jms * 1e3:.1f}", f"{tms * 1e3:.1f}",
               f"{med([j['median_step_s'] / t['median_step_s'] for j, t, _ in runs]):.2f}"]
        if compiled:
            cs = [(j, c) for j, _, c in runs if c is not None]
            row += [f"{med([c['median_step_s'] for _, c in cs]) * 1e3:.1f}" if cs else "-",
                    f"{med([j['median_step_s'] / c['median_step_s'] for j, c in cs]):.2f}" if cs else "-"]
        jpeak = [j.get("peak_memory_mb") for j, _, _ in runs]
        jmem = f"{med(jpeak):.0f}" if all(x is not None and x >= 0 for x in jpeak) else "n/a"
        row += [f"{med([j['tokens_per_s'] for j, _, _ in runs]):.0f}/{med([t['tokens_per_s'] for _, t, _ in runs]):.0f}",
                f"{runs[0][0]['flops_per_step'] / jms / (rate * 1e9) * 100:.1f}%/{runs[0][1]['flops_per_step'] / tms / (rate * 1e9) * 100:.1f}%",
                f"{rate / 1e3:.0f} {runs[0][1].get('matmul_dtype', '?')}",
                f"{jmem}/{med([t['peak_memory_mb'] for _, t, _ in runs]):.0f}"]
        rows.append(tuple(row))
        if any(j["flops_per_step"] != t["flops_per_step"] for j, t, _ in runs):
            print(f"warning: {p} {m} {s}: Java and PyTorch count different FLOPs", file=sys.stderr)
    t0 = next(iter(cases.values()))[0][1]
    print(f"{t0['device']} ({t0['environment'].get('gpu', '?')}, CUDA {t0['environment'].get('cuda', '?')}, torch {t0['environment']['torch']}),"
          f" precision {t0['precision']}")
    table(rows)


def main(path):
    cases = collections.OrderedDict()
    for line in open(path):
        line = line.strip()
        if not line:
            continue
        r = json.loads(line)
        j, t = r["java"], r["pytorch"]
        cases.setdefault((j["preset"], j["mode"], j["stage"]), []).append((j, t, r.get("pytorch_compiled")))
    if any(t.get("device", "cpu") != "cpu" for runs in cases.values() for _, t, _ in runs):
        gpu(cases)
        return
    cases = collections.OrderedDict((k, [(j, t) for j, t, _ in v]) for k, v in cases.items())
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
