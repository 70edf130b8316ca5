package io.github.vdep.train.data.tokenizerjson;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A {@code decoder} of {@code tokenizer.json}: turns token strings back into text pieces (Rust's {@code decode_chain}). */
interface Decoder {

    /**
     * @param tokens the token strings
     * @return the decoded pieces (joined by the caller)
     */
    List<String> decodeChain(List<String> tokens);

    /**
     * Reads a decoder.
     *
     * @param file the tokenizer file (for messages)
     * @param node the JSON object
     * @return the decoder, or null for JSON null
     * @throws IllegalArgumentException for an unsupported or malformed one
     */
    static Decoder parse(Path file, JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        String section = "decoder";
        return switch (node.path("type").asText()) {
            case "Sequence" -> {
                List<Decoder> parts = new ArrayList<>();
                for (JsonNode n : node.path("decoders")) {
                    Decoder d = parse(file, n);
                    if (d != null) {
                        parts.add(d);
                    }
                }
                yield tokens -> {
                    List<String> cur = tokens;
                    for (Decoder d : parts) {
                        cur = d.decodeChain(cur);
                    }
                    return cur;
                };
            }
            case "Replace" -> {
                SplitPattern pattern = Components.pattern(file, section, node);
                String content = Components.text(file, section, node, "content");
                yield tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (String t : tokens) {
                        StringBuilder sb = new StringBuilder(t.length());
                        for (SplitPattern.Match m : pattern.find(t)) {
                            if (m.isMatch()) {
                                sb.append(content);
                            } else {
                                sb.append(t, m.start(), m.end());
                            }
                        }
                        out.add(sb.toString());
                    }
                    return out;
                };
            }
            case "ByteFallback" -> Decoder::byteFallback;
            case "Fuse" -> tokens -> List.of(String.join("", tokens));
            case "Strip" -> {
                int content = Components.oneChar(file, section, node, "content");
                int start = node.path("start").asInt(0);
                int stop = node.path("stop").asInt(0);
                yield tokens -> strip(tokens, content, start, stop);
            }
            case "ByteLevel" -> Decoder::byteLevel;
            case "Metaspace" -> {
                int replacement = Components.oneChar(file, section, node, "replacement");
                boolean prepend = !PreTokenizer.prependScheme(file, section, node).equals("never");
                yield tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (int i = 0; i < tokens.size(); i++) {
                        StringBuilder sb = new StringBuilder();
                        String t = tokens.get(i);
                        for (int k = 0; k < t.length(); ) {
                            int c = t.codePointAt(k);
                            k += Character.charCount(c);
                            if (c == replacement) {
                                if (!(i == 0 && prepend)) {
                                    sb.append(' ');
                                }
                            } else {
                                sb.appendCodePoint(c);
                            }
                        }
                        out.add(sb.toString());
                    }
                    return out;
                };
            }
            case "WordPiece" -> {
                String prefix = node.path("prefix").asText("##");
                boolean cleanup = node.path("cleanup").asBoolean(true);
                yield tokens -> {
                    List<String> out = new ArrayList<>(tokens.size());
                    for (int i = 0; i < tokens.size(); i++) {
                        String t = tokens.get(i);
                        if (i != 0) {
                            t = t.startsWith(prefix) ? t.substring(prefix.length()) : " " + t;
                        }
                        out.add(cleanup ? cleanup(t) : t);
                    }
                    return out;
                };
            }
            default -> throw Components.unsupported(file, section, node);
        };
    }

    private static List<String> byteFallback(List<String> tokens) {
        List<String> out = new ArrayList<>(tokens.size());
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String t : tokens) {
            int b = -1;
            if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
                try {
                    b = Integer.parseInt(t.substring(3, 5), 16);
                } catch (NumberFormatException e) {
                    b = -1;
                }
            }
            if (b >= 0) {
                bytes.write(b);
            } else {
                flushBytes(bytes, out);
                out.add(t);
            }
        }
        flushBytes(bytes, out);
        return out;
    }

    private static void flushBytes(ByteArrayOutputStream bytes, List<String> out) {
        if (bytes.size() == 0) {
            return;
        }
        byte[] b = bytes.toByteArray();
        bytes.reset();
        String s = Utf8.decodeStrict(b);
        if (s != null) {
            out.add(s);
        } else {
            for (int i = 0; i < b.length; i++) {
                out.add("\uFFFD");
            }
        }
    }

    private static List<String> strip(List<String> tokens, int content, int start, int stop) {
        List<String> out = new ArrayList<>(tokens.size());
        for (String t : tokens) {
            int[] cps = t.codePoints().toArray();
            int startCut = 0;
            for (int i = 0; i < Math.min(start, cps.length); i++) {
                if (cps[i] == content) {
                    startCut = i + 1;
                } else {
                    break;
                }
            }
            int stopCut = cps.length;
            for (int i = 0; i < stop && i < cps.length; i++) {
                int index = cps.length - i - 1;
                if (cps[index] == content) {
                    stopCut = index;
                } else {
                    break;
                }
            }
            out.add(startCut >= stopCut ? "" : new String(cps, startCut, stopCut - startCut));
        }
        return out;
    }

    private static List<String> byteLevel(List<String> tokens) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (String t : tokens) {
            int[] cps = t.codePoints().toArray();
            byte[] mapped = new byte[cps.length];
            boolean all = true;
            for (int i = 0; i < cps.length && all; i++) {
                int b = ByteLevelAlphabet.byteOf(cps[i]);
                all = b >= 0;
                mapped[i] = (byte) b;
            }
            bytes.writeBytes(all ? mapped : t.getBytes(StandardCharsets.UTF_8));
        }
        return List.of(Utf8.decodeLossy(bytes.toByteArray()));
    }

    /** WordPiece's clean-up of spaces before punctuation and contractions. */
    private static String cleanup(String s) {
        return s.replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",").replace(" ' ", "'")
                .replace(" n't", "n't").replace(" 'm", "'m").replace(" do not", " don't").replace(" 's", "'s")
                .replace(" 've", "'ve").replace(" 're", "'re");
    }
}
