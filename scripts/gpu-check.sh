#!/usr/bin/env bash
# Checks vdep on an NVIDIA GPU, offline: builds the CUDA kernels with this machine's nvcc, shows
# what vdep sees (vdep info), then runs `vdep selfcheck --device cuda`: every primitive forward
# and backward against the CPU path (1e-5 relative), the tiny LLaVA forward/backward and two
# training steps against the committed PyTorch references (1e-4), and `vdep train --device cuda`
# for 6 steps against 3 steps plus --resume (same weights). Prints one summary table at the end
# and exits non-zero if anything falls short.
#
#   scripts/gpu-check.sh [cuda|cuda:N] [--speed]
#
# --speed (optional, from a checkout only; never changes the exit status): after the checks, time
# vdep against PyTorch on the same GPU with bench/compare.sh --device (presets small and base,
# VDEP finetune, one repetition each; also PyTorch under torch.compile) and show its table. Needs
# a python3 with a CUDA build of torch >= 2.0 (VDEP_BENCH_PYTHON, default python3 on the PATH).
#
# Runs from a built checkout (./vdep, after mvn -DskipTests package) or from the unpacked
# self-contained distribution (bin/vdep; no JDK or Maven needed there). Needs nvcc (PATH,
# CUDA_HOME/bin or /usr/local/cuda/bin), the NVIDIA driver, and cuBLAS from a CUDA toolkit.
# Everything it writes goes to $VDEP_GPU_CHECK_OUT (default ./gpu-check-out), including the
# full log gpu-check.log.
#
# Environment: VDEP_CUDA_ARCHS (default "80 90"; e.g. "89" for an L4/RTX 40xx), NVCC,
# VDEP_CUDA_WERROR (default 0 here: a newer nvcc's new warnings should not stop the check).
set -uo pipefail
device=cuda speed=0
for a in "$@"; do
  case "$a" in
    --speed) speed=1 ;;
    *) device="$a" ;;
  esac
done
here="$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)"
out="$(mkdir -p "${VDEP_GPU_CHECK_OUT:-gpu-check-out}" && cd "${VDEP_GPU_CHECK_OUT:-gpu-check-out}" && pwd)"
log="$out/gpu-check.log"
: > "$log"

# Where vdep and the CUDA sources are: a distribution (bin/vdep, cuda/) or a checkout (./vdep, vdep-core/src/main/cuda).
vdep="" cuda_src="" jdk="" headers=""
for root in "$here/.." "$here"; do
  if [[ -x "$root/bin/vdep" && -f "$root/cuda/build.sh" ]]; then
    vdep="$root/bin/vdep"; cuda_src="$root/cuda"
    [[ -d "$root/cuda/jni-headers" ]] && headers="$root/cuda/jni-headers"
    export VDEP_JNI_INCLUDE="${VDEP_JNI_INCLUDE:-$root/cuda/include}"
    break
  fi
  if [[ -x "$root/vdep" && -f "$root/vdep-core/src/main/cuda/build.sh" ]]; then
    vdep="$root/vdep"; cuda_src="$root/vdep-core/src/main/cuda"
    [[ -d "$root/vdep-core/target/jni-headers" ]] && headers="$root/vdep-core/target/jni-headers"
    if command -v javac >/dev/null 2>&1; then jdk="$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")"; fi
    break
  fi
done
if [[ -z "$vdep" ]]; then
  echo "gpu-check: neither a distribution (bin/vdep, cuda/build.sh) nor a built checkout (./vdep) around $here" >&2
  exit 2
fi

declare -a steps results details
failed=0
record() {  # step, result (ok/FAIL), detail
  steps+=("$1"); results+=("$2"); details+=("$3")
  [[ "$2" == ok || "$2" == info || "$2" == skip ]] || failed=1
}

# 1. build the kernels here
lib="$out/lib"
start=$(date +%s)
echo "== building the CUDA kernels ($cuda_src -> $lib)" | tee -a "$log"
if VDEP_CUDA_WERROR="${VDEP_CUDA_WERROR:-0}" bash "$cuda_src/build.sh" "$lib" "$jdk" "$headers" >>"$log" 2>&1 && [[ -f "$lib/libvdepcuda.so" ]]; then
  record "build libvdepcuda.so" ok "$(tail -1 "$log")"
else
  record "build libvdepcuda.so" FAIL "$(tail -1 "$log") (see $log)"
fi
export VDEP_CUDA_LIB="$lib"

# 2. what vdep sees
echo "== vdep info" | tee -a "$log"
if "$vdep" info 2>&1 | tee -a "$log" | grep -q "^cuda:"; then
  record "vdep info" ok "$(grep -m1 '^cuda:' "$log")"
else
  record "vdep info" FAIL "$(grep -m1 '^CUDA' "$log" || echo 'no CUDA line')"
fi

# 3. the self-check (primitives, golden model, training steps, train + resume)
echo "== vdep selfcheck --device $device" | tee -a "$log"
start=$(date +%s)
"$vdep" selfcheck --device "$device" 2>&1 | tee -a "$log"
rc=${PIPESTATUS[0]}
summary="$(grep -E '^[0-9]+ checks on ' "$log" | tail -1)"
if [[ "$rc" == 0 ]]; then
  record "vdep selfcheck --device $device" ok "${summary:-passed} in $(( $(date +%s) - start )) s"
else
  record "vdep selfcheck --device $device" FAIL "exit $rc: ${summary:-$(tail -1 "$log")}"
fi

# 4. optional: speed against PyTorch on the same GPU (information only: never fails the check)
if [[ "$speed" == 1 ]]; then
  py="${VDEP_BENCH_PYTHON:-python3}"
  if [[ ! -f "$root/bench/compare.sh" ]]; then
    record "speed vs PyTorch (optional)" skip "bench/compare.sh is in a checkout, not in the distribution"
  elif ! "$py" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() and int(torch.__version__.split(".")[0]) >= 2 else 1)' 2>>"$log"; then
    record "speed vs PyTorch (optional)" skip "$py has no CUDA build of torch >= 2.0 (set VDEP_BENCH_PYTHON)"
  else
    echo "== speed: bench/compare.sh --device $device" | tee -a "$log"
    for preset in small base; do
      if VDEP_BENCH_PYTHON="$py" bash "$root/bench/compare.sh" --device "$device" --preset "$preset" --mode vdep --stage finetune --reps 1 \
          --steps 5 --warmup 3 --compile --out "$out/compare-$preset.jsonl" 2>&1 | tee -a "$log" | tail -n 4 > "$out/compare-$preset.txt"; then
        record "speed $preset (optional)" info "$(grep -m1 "^$preset " "$out/compare-$preset.txt" | tr -s ' ')"
      else
        record "speed $preset (optional)" info "did not run: $(grep -m1 'compare.sh:' "$log" || tail -n 1 "$out/compare-$preset.txt")"
      fi
    done
  fi
fi

# one summary table
{
  echo
  echo "gpu-check summary ($(date -u +%Y-%m-%dT%H:%MZ), $(uname -n))"
  w1=0; w3=0
  for i in "${!steps[@]}"; do
    (( ${#steps[$i]} > w1 )) && w1=${#steps[$i]}
    (( ${#details[$i]} > w3 )) && w3=${#details[$i]}
  done
  line="+$(printf '%*s' $((w1 + 2)) '' | tr ' ' -)+------+$(printf '%*s' $((w3 + 2)) '' | tr ' ' -)+"
  echo "$line"
  printf "| %-${w1}s | %-4s | %-${w3}s |\n" "step" "ok?" "detail"
  echo "$line"
  for i in "${!steps[@]}"; do
    printf "| %-${w1}s | %-4s | %-${w3}s |\n" "${steps[$i]}" "${results[$i]}" "${details[$i]}"
  done
  echo "$line"
  if [[ "$failed" == 0 ]]; then echo "gpu-check: all passed"; else echo "gpu-check: FAILED (full log: $log)"; fi
} | tee -a "$log"
exit "$failed"
