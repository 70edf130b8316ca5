#!/usr/bin/env bash
# Soak test of checkpoint/resume (docs/reliability.md): trains the demo's model on the demo's data
# (the `vdep demo` VDEP run's settings) for STEPS steps with a checkpoint every SAVE_EVERY steps,
# SIGKILLs it KILLS times and resumes it each time with --resume, then compares the final weights
# byte for byte with an uninterrupted run's. Odd-numbered kills wait for a checkpoint write to be
# under way (its .tmp-step-* directory exists) and land inside it; even-numbered ones land at a
# random moment. Exit status 0 when the final weights are bit-identical.
#
#   scripts/soak.sh [STEPS=2000] [SAVE_EVERY=50] [KILLS=5]
#   env: SOAK_DIR (work directory, default a new temporary one), SOAK_SEED (kill timing seed),
#        VDEP_JAVA_OPTS (as for ./vdep)
# Build first: mvn -q -B -DskipTests package
set -euo pipefail
cd "$(dirname "$0")/.."
steps="${1:-2000}"
save_every="${2:-50}"
kills="${3:-5}"
seed="${SOAK_SEED:-$RANDOM}"
work="${SOAK_DIR:-$(mktemp -d -t vdep-soak.XXXXXX)}"
jar="$PWD/vdep-examples/target/vdep.jar"
[[ -f "$jar" ]] || { echo "soak: $jar not found; build first: mvn -q -B -DskipTests package" >&2; exit 2; }
RANDOM="$seed"
mkdir -p "$work/app"
# a private copy of the build, so that rebuilding during the soak cannot change what it runs
cp "$jar" "$work/app/vdep.jar" && rm -rf "$work/app/lib" && cp -r "$(dirname "$jar")/lib" "$work/app/lib"
jar="$work/app/vdep.jar"
log() { printf '%s soak: %s\n' "$(date -u +%H:%M:%S)" "$*" | tee -a "$work/soak.log"; }
log "steps $steps, checkpoint every $save_every, $kills kills, kill seed $seed, work dir $work"

# The demo's data (480 training scenes, seed 42) and initial model, as `vdep demo` makes them.
if [[ ! -f "$work/model-init/config.json" ]]; then
  cat > "$work/gen.jsh" <<JSH
var data = io.github.vdep.examples.demo.DemoDataset.generate(java.nio.file.Path.of("$work/data"), 480, 60,
        io.github.vdep.examples.demo.DemoModel.IMAGE_SIZE, 42);
io.github.vdep.examples.demo.DemoModel.create(java.nio.file.Path.of("$work/model-init"), data.tokenizer(), data.vocabSize(), 42);
/exit
JSH
  jshell --class-path "$jar" "$work/gen.jsh" > "$work/gen.log" 2>&1
fi

train_args() {
  echo train --model "$work/model-init" --data "$work/data/train.json" --images "$work/data" --template vicuna_v1 \
    --stage finetune --lr 3e-3 --warmup-ratio 0.05 --batch-size 16 --steps "$steps" --seed 42 --monitor-image-loss \
    --alpha 1.0 --mode-ratio 1:1 --save-every "$save_every" --out "$1"
}
java_opts=(${VDEP_JAVA_OPTS:--Xmx2g -Dorg.bytedeco.javacpp.maxbytes=4G -Dorg.bytedeco.javacpp.maxphysicalbytes=6G})
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}"

# 1. the uninterrupted reference
if [[ ! -f "$work/straight/final/model.safetensors" ]]; then
  start=$SECONDS
  java "${java_opts[@]}" -jar "$jar" $(train_args "$work/straight") > "$work/straight.log" 2>&1
  log "uninterrupted run: $((SECONDS - start)) s"
fi

# 2. the interrupted run: start, kill, resume, ... then run to the end
out="$work/killed"
rm -rf "$out"
start=$SECONDS
for ((k = 1; k <= kills; k++)); do
  java "${java_opts[@]}" -jar "$jar" $(train_args "$out") --resume >> "$work/killed.log" 2>&1 &
  pid=$!
  if (( k % 2 == 1 )); then
    # wait for a checkpoint write to begin (after a random number of further checkpoints), then kill inside it
    # (a partial copy left by an earlier kill is recognised by its inode and ignored)
    skip=$(( RANDOM % 3 ))
    seen="$(stat -c '%n:%i' "$out"/checkpoints/.tmp-step-* 2>/dev/null || true)"
    while kill -0 "$pid" 2>/dev/null; do
      tmp=$(compgen -G "$out/checkpoints/.tmp-step-*" | head -1 || true)
      key=$( [[ -n "$tmp" ]] && stat -c '%n:%i' "$tmp" 2>/dev/null || true)
      if [[ -n "$key" && "$seen" != *"$key"* ]]; then
        if (( skip == 0 )); then
          kill -9 "$pid"
          how="during the write of $(basename "$tmp")"
          break
        fi
        skip=$((skip - 1))
        seen="$seen $key"
      fi
    done
  else
    delay=$(( 5 + RANDOM % 40 ))
    sleep "$delay"
    kill -9 "$pid" 2>/dev/null || true
    how="at a random moment, ${delay} s after the start"
  fi
  wait "$pid" 2>/dev/null || true
  left=$(ls -a "$out/checkpoints" 2>/dev/null | tr '\n' ' ')
  done_steps=$(wc -l < "$out/metrics.jsonl" 2>/dev/null || echo 0)
  log "kill $k $how (metrics lines $done_steps; checkpoints: $left)"
done
java "${java_opts[@]}" -jar "$jar" $(train_args "$out") --resume >> "$work/killed.log" 2>&1
log "interrupted run (with $kills kills and resumes): $((SECONDS - start)) s"

# 3. the comparison
if cmp "$work/straight/final/model.safetensors" "$out/final/model.safetensors"; then
  log "PASS: final weights bit-identical ($(sha256sum < "$out/final/model.safetensors" | cut -c1-16)); metrics lines $(wc -l < "$out/metrics.jsonl") of $steps"
else
  log "FAIL: final weights differ"
  exit 1
fi
