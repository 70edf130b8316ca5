#!/usr/bin/env bash
# Checks vdep on an NVIDIA GPU, offline: builds the CUDA kernels with this machine's nvcc, shows
# what vdep sees (vdep info), then runs `vdep selfcheck --device cuda`: every primitive forward
# and backward against the CPU path (1e-5 relative), the tiny LLaVA forward/backward and two
# training steps against the committed PyTorch references (1e-4), and `vdep train --device cuda`
# for 6 steps against 3 steps plus --resume (same weights); then NCCL: a one-rank communicator
# (any GPU) and, with 2+ GPUs and mpirun, a 2-rank job against one process with twice the batch.
# Prints one summary table at the end and exits non-zero if anything falls short (a skipped NCCL
# step, for no libnccl.so.2 or a single GPU, says why and does not).
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
# CUDA_HOME/bin or /usr/local/cuda/bin), the NVIDIA driver, and cuBLAS from a CUDA toolkit; for
# the NCCL steps libnccl.so.2 (NVIDIA's libnccl2 package, or pip's nvidia-nccl-cu12/cu13 with its
# lib directory on LD_LIBRARY_PATH) and, for 2 ranks, Open MPI's mpirun.
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
record() {  # step, result (ok/FAIL/skip), detail; a skip says why and does not fail the check
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

# 4. NCCL: data-parallel training on GPUs. One rank (any GPU): a communicator of one rank, asked for
# with --ddp-backend nccl, runs NCCL's init, broadcast and all-reduce inside the trainer and must
# train like a plain run (step losses within 1e-6; whether the weights are bit-identical is
# reported). Two ranks (2+ GPUs and mpirun): mpirun -n 2 with
# --batch-size 4 per rank must train like one process with --batch-size 8, step by step (losses
# within 1e-4 relative; the weights differ by float summation order only).
echo "== NCCL (data parallel on GPUs)" | tee -a "$log"
gpus="$("$vdep" info 2>/dev/null | grep -c '^cuda:[0-9]' || true)"
nccl_dir="$out/nccl"
rm -rf "$nccl_dir"; mkdir -p "$nccl_dir"
# the demo's data and tiny model (made on the CPU: about a minute)
if "$vdep" demo --quick --device cpu --out "$nccl_dir/demo" --steps 1 --vision-steps 1 >>"$log" 2>&1; then
  init="$(ls -d "$nccl_dir"/demo/model-init/seed-* 2>/dev/null | head -1)"
else
  init=""
fi
nccl_train() {  # out, batch size, extra args...
  local o="$1" b="$2"; shift 2
  "$vdep" train --model "$init" --data "$nccl_dir/demo/data/train.json" --images "$nccl_dir/demo/data" --template vicuna_v1 \
    --stage finetune --lr 3e-3 --steps 6 --seed 5 --warmup-ratio 0 --lr-schedule constant --batch-size "$b" --out "$o" "$@"
}
losses() { grep -o '"loss":[^,}]*' "$1/metrics.jsonl" | cut -d: -f2; }
compare_losses() {  # run a, run b: "<largest relative difference of the step losses> <steps>", or none
  paste <(losses "$1") <(losses "$2") | awk '
    NF < 2 { bad = 1 }
    { d = $1 - $2; if (d < 0) d = -d; m = ($1 < 0 ? -$1 : $1); if (m < 1) m = 1; r = d / m; if (r > w) w = r; n++ }
    END { if (n == 0 || bad) print "none"; else printf "%.2e %d", w, n }'
}
if [[ -z "$init" ]]; then
  record "NCCL, 1 rank" FAIL "could not make the demo's data and model (see $log)"
else
  start=$(date +%s)
  if nccl_train "$nccl_dir/plain" 4 --device "$device" >>"$log" 2>&1 && \
     nccl_train "$nccl_dir/one-rank" 4 --device "$device" --ddp-backend nccl >"$nccl_dir/one-rank.log" 2>&1; then
    cat "$nccl_dir/one-rank.log" >> "$log"
    same="weights bit-identical"
    cmp -s "$nccl_dir/plain/final/model.safetensors" "$nccl_dir/one-rank/final/model.safetensors" || same="weights not bit-identical"
    worst="$(compare_losses "$nccl_dir/plain" "$nccl_dir/one-rank")"
    if [[ "$worst" != none ]] && awk -v w="${worst% *}" 'BEGIN { exit !(w <= 1e-6) }'; then
      record "NCCL, 1 rank (--ddp-backend nccl)" ok "$(grep -o 'NCCL [0-9.]* on cuda:[0-9]*' "$nccl_dir/one-rank.log" | head -1): losses of ${worst#* } steps within ${worst% *} of a plain run, $same, in $(( $(date +%s) - start )) s"
    else
      record "NCCL, 1 rank (--ddp-backend nccl)" FAIL "losses differ from a plain run's by ${worst% *} relative (limit 1e-6), $same"
    fi
  else
    cat "$nccl_dir/one-rank.log" >> "$log" 2>/dev/null
    why="$(grep -h 'error' "$nccl_dir/one-rank.log" 2>/dev/null | tail -1)"
    if [[ "$why" == *"libnccl.so.2 not found"* ]]; then
      record "NCCL, 1 rank (--ddp-backend nccl)" skip "${why:0:160}"
    else
      record "NCCL, 1 rank (--ddp-backend nccl)" FAIL "${why:-vdep train failed (see $log)}"
    fi
  fi
  if (( gpus < 2 )); then
    record "NCCL, 2 ranks (mpirun -n 2)" skip "$gpus GPU(s): one rank per GPU needs 2"
  elif ! command -v mpirun >/dev/null 2>&1; then
    record "NCCL, 2 ranks (mpirun -n 2)" skip "no mpirun (apt-get install openmpi-bin)"
  else
    start=$(date +%s)
    asroot=(); [[ "$(id -u)" == 0 ]] && asroot=(--allow-run-as-root)
    # each rank: the same command; --device cuda becomes cuda:LOCAL_RANK
    { declare -p vdep init nccl_dir; declare -f nccl_train; echo 'nccl_train "$nccl_dir/two4" 4 --device cuda'; } > "$nccl_dir/rank.sh"
    if nccl_train "$nccl_dir/single8" 8 --device cuda >>"$log" 2>&1 && \
       mpirun "${asroot[@]}" --bind-to none -n 2 bash "$nccl_dir/rank.sh" >>"$log" 2>&1; then
      worst="$(compare_losses "$nccl_dir/single8" "$nccl_dir/two4")"
      if [[ "$worst" != none ]] && awk -v w="${worst% *}" 'BEGIN { exit !(w <= 1e-4) }'; then
        record "NCCL, 2 ranks (mpirun -n 2)" ok "losses of ${worst#* } steps match 1 process x 8 within ${worst% *} relative, in $(( $(date +%s) - start )) s"
      else
        record "NCCL, 2 ranks (mpirun -n 2)" FAIL "losses differ from 1 process x 8 by ${worst% *} relative (limit 1e-4)"
      fi
    else
      record "NCCL, 2 ranks (mpirun -n 2)" FAIL "a run failed: $(grep -h 'error' "$log" | tail -1)"
    fi
  fi
fi

# 5. optional: speed against PyTorch on the same GPU (information only: never fails the check)
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
