#!/usr/bin/env bash
# Runs `vdep bench` (Java) and bench/torch_bench.py (PyTorch) back to back on this machine and
# prints, per case, the median step times, the median of the per-repetition Java/PyTorch ratios,
# MFU and peak RSS. Every raw result is kept as JSON Lines under bench/results/.
#
#   bench/compare.sh                        # all cases: tiny+small x vdep+llava x pretrain+finetune
#   bench/compare.sh --preset tiny --mode vdep --stage finetune --reps 5
#   bench/compare.sh --device cuda [--compile]   # on a GPU: small+base, step-time ratio, tokens/s, MFU, peak memory
#
# Options: --preset P, --mode M, --stage S (each repeatable; default all), --reps R (default 3),
# --steps N (default 10), --warmup W (default 15: the JVM's JIT compiles the hot code over about the
# first 15 steps; PyTorch gets the same warm-up), --threads T (default: all cores; sets
# OMP_NUM_THREADS / OPENBLAS_NUM_THREADS for Java and torch.set_num_threads for PyTorch),
# --out FILE (default bench/results/compare-<time>.jsonl), --no-native-tuning (both sides without
# the OpenMP and malloc settings that ./vdep makes by default; see docs/performance.md).
# GPU options: --device cuda|cuda:N (both sides on that GPU; default presets small and base),
# --precision fp32|bf16 (both sides; default fp32, because vdep's CUDA BF16 kernels are not built
# yet and `vdep bench --precision bf16` says so in one line; PyTorch then runs FP32 with TF32 off),
# --compile (also time PyTorch under torch.compile, reported as a third column), --batch-size B.
# On CUDA, MFU is model FLOPs per step / step time / the BF16 (or FP32) matmul rate PyTorch
# measures on the same GPU in the same run, for both sides; peak memory is each side's
# peak_memory_mb (vdep: its caching allocator's peak; PyTorch: torch.cuda.max_memory_allocated).
# Build first: mvn -q -B -DskipTests package. Java options: VDEP_JAVA_OPTS (see ./vdep).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
python="${VDEP_BENCH_PYTHON:-/usr/bin/python3}"

presets=() modes=() stages=()
reps=3 steps=10 warmup=15 threads="$(nproc)" out="" tuning=1 device=cpu precision=fp32 compile=0 batch=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --preset) presets+=("$2"); shift 2 ;;
    --mode) modes+=("$2"); shift 2 ;;
    --stage) stages+=("$2"); shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --no-native-tuning) tuning=0; shift ;;
    --device) device="$2"; shift 2 ;;
    --precision) precision="$2"; shift 2 ;;
    --compile) compile=1; shift ;;
    --batch-size) batch="$2"; shift 2 ;;
    -h|--help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
if [[ "$device" == cpu ]]; then
  [[ ${#presets[@]} -gt 0 ]] || presets=(tiny small)
  [[ "$compile" == 0 ]] || { echo "compare.sh: --compile is for --device cuda" >&2; exit 2; }
else
  [[ ${#presets[@]} -gt 0 ]] || presets=(small base)
fi
[[ ${#modes[@]} -gt 0 ]] || modes=(vdep llava)
[[ ${#stages[@]} -gt 0 ]] || stages=(pretrain finetune)
if [[ ! -f "$root/vdep-examples/target/vdep.jar" ]]; then
  echo "compare.sh: build first: mvn -q -B -DskipTests package" >&2
  exit 2
fi
mkdir -p "$here/results"
[[ -n "$out" ]] || out="$here/results/compare-$(date -u +%Y%m%dT%H%M%SZ).jsonl"
: > "$out"

export OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
# Both sides run in the same environment: by default with the native settings that ./vdep sets
# (PyTorch also uses libgomp, OpenBLAS and glibc's malloc, and gains from them at least as much);
# with --no-native-tuning, both without them.
if [[ "$tuning" == 1 ]]; then
  export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"
  export MALLOC_MMAP_THRESHOLD_="${MALLOC_MMAP_THRESHOLD_:-33554432}"
  export MALLOC_TRIM_THRESHOLD_="${MALLOC_TRIM_THRESHOLD_:-17179869184}"
  export MALLOC_TOP_PAD_="${MALLOC_TOP_PAD_:-134217728}"
else
  export VDEP_NATIVE_TUNING=0
fi
if [[ "$device" != cpu ]]; then
  echo "# $device, precision $precision: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -n 1)" >&2
fi
echo "# $(date -u) $(uname -n): $threads threads, $reps reps x $steps steps (+$warmup warm-up); OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-} MALLOC_MMAP_THRESHOLD_=${MALLOC_MMAP_THRESHOLD_:-} MALLOC_TRIM_THRESHOLD_=${MALLOC_TRIM_THRESHOLD_:-} MALLOC_TOP_PAD_=${MALLOC_TOP_PAD_:-}; load: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
extra=()
[[ -z "$batch" ]] || extra+=(--batch-size "$batch")
# vdep's matmul rate is the CPU's (ND4J); on a GPU MFU uses PyTorch's measurement of the same GPU
java_mm=()
[[ "$device" == cpu ]] || java_mm=(--matmul-size 0)
# each side's JSON line; a side that fails ends the comparison with its own one-line error
run_side() {
  local name="$1" line rc err
  shift
  err="$(mktemp)"
  line="$("$@" 2>"$err" | tail -n 1)"; rc=${PIPESTATUS[0]}
  if [[ "$rc" != 0 || "$line" != \{* ]]; then
    echo "compare.sh: $name failed (exit $rc): $(grep -E 'error' "$err" | tail -n 1)" >&2
    rm -f "$err"
    exit 2
  fi
  rm -f "$err"
  printf '%s' "$line"
}
run_java() { run_side "vdep bench" "$root/vdep" bench --json --preset "$1" --mode "$2" --stage "$3" --steps "$steps" --warmup "$warmup" \
    --device "$device" --precision "$precision" "${java_mm[@]}" "${extra[@]}"; }
run_torch() { run_side "torch_bench.py" "$python" "$here/torch_bench.py" --json --preset "$1" --mode "$2" --stage "$3" --steps "$steps" \
    --warmup "$warmup" --threads "$threads" --device "$device" --precision "$precision" "${extra[@]}" "${@:4}"; }
for p in "${presets[@]}"; do
  for m in "${modes[@]}"; do
    for s in "${stages[@]}"; do
      for ((r = 1; r <= reps; r++)); do
        # alternate which side goes first so drift in machine load does not favour one
        if (( r % 2 == 1 )); then
          j="$(run_java "$p" "$m" "$s")" || exit 2; t="$(run_torch "$p" "$m" "$s")" || exit 2
        else
          t="$(run_torch "$p" "$m" "$s")" || exit 2; j="$(run_java "$p" "$m" "$s")" || exit 2
        fi
        tc="null"
        if [[ "$compile" == 1 ]]; then tc="$(run_torch "$p" "$m" "$s" --compile)" || exit 2; fi
        printf '{"rep": %d, "load": "%s", "java": %s, "pytorch": %s, "pytorch_compiled": %s}\n' "$r" "$(cut -d' ' -f1 /proc/loadavg)" \
            "$j" "$t" "$tc" >> "$out"
        echo "# $p $m $s rep $r done" >&2
      done
    done
  done
done
"$python" "$here/summarize.py" "$out"
echo "# raw results: $out" >&2
