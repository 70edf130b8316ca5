package io.github.vdep.train.data;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Encoding throughput of vdep's pure-Java tokenizer against Hugging Face's Rust tokenizers (DJL),
 * one thread, on the paragraphs of a text file (as the data pipeline encodes one turn at a time).
 * A benchmark, not a test: run by scripts/bench/tokenizer-throughput.sh.
 *
 * <p>Usage: {@code TokenizerThroughputBenchmark tokenizer.json text-file [seconds-per-round]}.
 */
public final class TokenizerThroughputBenchmark {

    private TokenizerThroughputBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (System.getProperty("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
        Path file = Path.of(args[0]);
        String all = Files.readString(Path.of(args[1]));
        double seconds = args.length > 2 ? Double.parseDouble(args[2]) : 5;
        List<String> texts = new ArrayList<>();
        for (String p : all.split("\n\n")) {
            if (!p.isBlank()) {
                texts.add(p);
            }
        }
        // Both libraries cache the BPE result of words shorter than 256 characters; with LLaMA's
        // tokenizer.json (no pre-tokenizer) a word is a whole paragraph, so repeated passes over short
        // paragraphs are cache hits. The long paragraphs alone measure the merging itself.
        List<String> longTexts = texts.stream().filter(t -> t.length() >= 256).toList();
        try (HfTokenizer java = HfTokenizer.load(file, SpecialTokenIds.of(0, 0, 0));
                HuggingFaceTokenizer rust = HuggingFaceTokenizer.newInstance(file,
                        Map.of("addSpecialTokens", "false", "truncation", "false", "padding", "false"))) {
            measure("all paragraphs", texts, java, rust, seconds);
            measure("paragraphs of 256+ chars (never cached)", longTexts, java, rust, seconds);
        }
    }

    private static void measure(String what, List<String> texts, HfTokenizer java, HuggingFaceTokenizer rust,
            double seconds) {
        long chars = texts.stream().mapToLong(String::length).sum();
        {
            long tokens = 0;
            for (String t : texts) {
                int[] j = java.encode(t);
                long[] r = rust.encode(t, false, false).getIds();
                if (!Arrays.equals(Arrays.stream(j).asLongStream().toArray(), r)) {
                    throw new IllegalStateException("different ids for: " + t);
                }
                tokens += j.length;
            }
            System.out.printf("%s: %d paragraphs, %d chars, %d tokens (ids equal)%n", what, texts.size(), chars, tokens);
            for (int round = 0; round < 3; round++) {
                double jt = time(seconds, () -> texts.forEach(java::encode));
                double rt = time(seconds, () -> texts.forEach(t -> rust.encode(t, false, false)));
                double jw = time(seconds, () -> texts.forEach(java::encodeWithOffsets));
                System.out.printf("round %d: java %.2f MB/s (%.0f ktokens/s), java with offsets %.2f MB/s, "
                        + "rust/DJL %.2f MB/s (%.0f ktokens/s)%n", round, chars / jt / 1e6, tokens / jt / 1e3,
                        chars / jw / 1e6, chars / rt / 1e6, tokens / rt / 1e3);
            }
        }
    }

    /** Seconds per pass over the texts, averaged over as many passes as fit in {@code seconds}. */
    private static double time(double seconds, Runnable pass) {
        pass.run();
        long start = System.nanoTime();
        int n = 0;
        while (System.nanoTime() - start < seconds * 1e9) {
            pass.run();
            n++;
        }
        return (System.nanoTime() - start) / 1e9 / n;
    }
}
