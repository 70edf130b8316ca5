package io.github.vdep.train.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;

/** Test tokenizers, records and images for the data pipeline tests. */
final class DataTestSupport {

    /** Words of the test corpus besides Vicuna's system prompt. */
    static final String CORPUS = "USER ASSISTANT : \n What is this ? It is a red cat . Describe the image briefly "
            + "Why is the sky blue Because of light ! Thanks hello world Where are we home Yes no Tell me more "
            + "\u00e9t\u00e9 \uD83D\uDE00";

    private DataTestSupport() {
    }

    /** The word-level test tokenizer's builder: specials 0..4, then the system prompt's words, then the corpus. */
    static WordLevelTokenizerBuilder wordLevel() {
        return new WordLevelTokenizerBuilder().addText(VicunaV1Template.SYSTEM).addText(CORPUS);
    }

    /** Writes the word-level tokenizer into {@code dir} and loads it. */
    static HfTokenizer wordLevelTokenizer(Path dir) {
        return HfTokenizer.load(wordLevel().write(dir.resolve("tokenizer.json")));
    }

    /** Ids of tokens of the word-level vocabulary. */
    static int[] ids(Map<String, Integer> vocab, List<String> tokens) {
        int[] out = new int[tokens.size()];
        for (int i = 0; i < out.length; i++) {
            Integer id = vocab.get(tokens.get(i));
            if (id == null) {
                throw new IllegalArgumentException("not in the test vocabulary: '" + tokens.get(i) + "'");
            }
            out[i] = id;
        }
        return out;
    }

    /** Concatenates token lists. */
    @SafeVarargs
    static List<String> concat(List<String>... parts) {
        List<String> out = new ArrayList<>();
        for (List<String> p : parts) {
            out.addAll(p);
        }
        return out;
    }

    static List<String> repeat(String token, int n) {
        return java.util.Collections.nCopies(n, token);
    }

    static List<String> words(String... tokens) {
        return Arrays.asList(tokens);
    }

    /**
     * A tiny LLaMA-style BPE tokenizer.json: normaliser Prepend("▁") + Replace(" ", "▁"), no
     * pre-tokenizer, byte fallback (only {@code <0x0A>} present), merges building {@code ▁hello}
     * and {@code ▁world}.
     */
    static Map<String, Integer> bpeVocab() {
        Map<String, Integer> v = new LinkedHashMap<>();
        for (String t : List.of("<unk>", "<s>", "</s>", "<0x0A>", "\u2581")) {
            v.put(t, v.size());
        }
        for (char c : "helowrd:USERAITN".toCharArray()) {
            v.putIfAbsent(String.valueOf(c), v.size());
        }
        for (String[] m : bpeMerges()) {
            v.putIfAbsent(m[0] + m[1], v.size());
        }
        return v;
    }

    private static String[][] bpeMerges() {
        String s = "\u2581";
        return new String[][] {{s, "h"}, {"l", "l"}, {s + "h", "e"}, {s + "he", "ll"}, {s + "hell", "o"},
                {s, "w"}, {"o", "r"}, {s + "w", "or"}, {s + "wor", "l"}, {s + "worl", "d"}};
    }

    static Path writeBpeTokenizer(Path dir) {
        StringBuilder vocab = new StringBuilder();
        bpeVocab().forEach((k, id) -> vocab.append(vocab.length() == 0 ? "" : ",").append('"').append(k)
                .append("\":").append(id));
        StringBuilder merges = new StringBuilder();
        for (String[] m : bpeMerges()) {
            merges.append(merges.length() == 0 ? "" : ",").append('"').append(m[0]).append(' ').append(m[1])
                    .append('"');
        }
        String added = "{\"id\":%d,\"content\":\"%s\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                + "\"normalized\":false,\"special\":true}";
        String json = "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,\"added_tokens\":["
                + String.format(added, 0, "<unk>") + "," + String.format(added, 1, "<s>") + ","
                + String.format(added, 2, "</s>") + "],"
                + "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\u2581\"},"
                + "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\u2581\"}]},"
                + "\"pre_tokenizer\":null,\"post_processor\":null,"
                + "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\u2581\"},"
                + "\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \","
                + "\"start\":1,\"stop\":0}]},"
                + "\"model\":{\"type\":\"BPE\",\"dropout\":null,\"unk_token\":\"<unk>\",\"continuing_subword_prefix\":null,"
                + "\"end_of_word_suffix\":null,\"fuse_unk\":true,\"byte_fallback\":true,\"vocab\":{" + vocab
                + "},\"merges\":[" + merges + "]}}";
        try {
            Path file = dir.resolve("bpe-tokenizer.json");
            Files.writeString(file, json);
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes a PNG of the given size whose pixels depend on {@code seed}. */
    static Path writePng(Path file, int width, int height, int seed) {
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int r = (x * 37 + seed * 11) & 0xff;
                int g = (y * 53 + seed * 29) & 0xff;
                int b = (x * y + seed * 7) & 0xff;
                img.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        try {
            Files.createDirectories(file.getParent());
            if (!ImageIO.write(img, "png", file.toFile())) {
                throw new IllegalStateException("no PNG writer");
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes a small PNG whose header declares {@code width x height} pixels but whose data is a
     * few bytes: a decompression bomb's header (decoding it would allocate the whole raster).
     */
    static Path writePngHeaderOnly(Path file, int width, int height) {
        try {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
            java.nio.ByteBuffer ihdr = java.nio.ByteBuffer.allocate(13).putInt(width).putInt(height)
                    .put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
            chunk(out, "IHDR", ihdr.array());
            java.util.zip.Deflater deflater = new java.util.zip.Deflater();
            deflater.setInput(new byte[64]);
            deflater.finish();
            byte[] idat = new byte[128];
            int n = deflater.deflate(idat);
            chunk(out, "IDAT", java.util.Arrays.copyOf(idat, n));
            chunk(out, "IEND", new byte[0]);
            Files.createDirectories(file.getParent());
            Files.write(file, out.toByteArray());
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void chunk(java.io.ByteArrayOutputStream out, String type, byte[] data) throws IOException {
        java.nio.ByteBuffer len = java.nio.ByteBuffer.allocate(4).putInt(data.length);
        out.write(len.array());
        byte[] t = type.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        out.write(t);
        out.write(data);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(t);
        crc.update(data);
        out.write(java.nio.ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
    }

    static ConversationRecord imageRecord(String id, String image, String question, String answer) {
        return new ConversationRecord(id, image, List.of(new Turn("human", question + "\n<image>"),
                new Turn("gpt", answer)));
    }

    static ConversationRecord textRecord(String id, String question, String answer) {
        return new ConversationRecord(id, null, List.of(new Turn("human", question), new Turn("gpt", answer)));
    }
}
