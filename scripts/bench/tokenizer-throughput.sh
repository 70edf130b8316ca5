#!/usr/bin/env bash
# Encoding throughput of vdep's pure-Java tokenizer.json reader against Hugging Face's Rust
# tokenizers (DJL 0.38.0), one thread, on the repository's docs (English technical prose).
# The tokenizer is LLaMA-style: a SentencePiece BPE model with LLaMA's settings (byte fallback,
# split digits) and 8000 pieces, trained on the same docs and converted as transformers'
# LlamaConverter does (scripts/fixtures/make_tokenizer_json_fixtures.py --convert). Needs
# /usr/bin/python3 with sentencepiece and a built checkout (mvn -o -q -pl vdep-train -am test-compile).
# Usage: scripts/bench/tokenizer-throughput.sh [seconds-per-measurement]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat "$root"/docs/*.md "$root"/README.md > "$work/text.txt"
/usr/bin/python3 - "$work" <<'PY'
import sys, sentencepiece as spm
w = sys.argv[1]
spm.SentencePieceTrainer.train(input=f"{w}/text.txt", model_prefix=f"{w}/sp", vocab_size=8000, model_type="bpe",
    byte_fallback=True, split_digits=True, normalization_rule_name="identity", remove_extra_whitespaces=False,
    add_dummy_prefix=True, unk_id=0, bos_id=1, eos_id=2, pad_id=-1, num_threads=1, minloglevel=2,
    max_sentence_length=100000, train_extremely_large_corpus=False)
PY
/usr/bin/python3 "$root/scripts/fixtures/make_tokenizer_json_fixtures.py" --convert "$work/sp.model" "$work/tokenizer.json"
cd "$root"
mvn -o -q -B -pl vdep-train dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$work/cp.txt" >/dev/null
java -Xmx2g -cp "vdep-train/target/test-classes:vdep-train/target/classes:$(cat "$work/cp.txt")" \
  io.github.vdep.train.data.TokenizerThroughputBenchmark "$work/tokenizer.json" "$work/text.txt" "${1:-5}"
