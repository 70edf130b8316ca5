package io.github.vdep.train.data.tokenizerjson;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A {@code post_processor} of {@code tokenizer.json}, for single texts. */
interface PostProcessor {

    /**
     * @param text              the text that was encoded
     * @param e                 its encoding
     * @param addSpecialTokens  whether to add the template's special tokens
     * @return the processed encoding
     */
    Encoding process(String text, Encoding e, boolean addSpecialTokens);

    /**
     * Reads a post-processor.
     *
     * @param file the tokenizer file (for messages)
     * @param node the JSON object
     * @return the post-processor, or null for JSON null
     * @throws IllegalArgumentException for an unsupported or malformed one
     */
    static PostProcessor parse(Path file, JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        String section = "post_processor";
        return switch (node.path("type").asText()) {
            case "Sequence" -> {
                List<PostProcessor> parts = new ArrayList<>();
                for (JsonNode n : node.path("processors")) {
                    PostProcessor p = parse(file, n);
                    if (p != null) {
                        parts.add(p);
                    }
                }
                yield (text, e, add) -> {
                    Encoding cur = e;
                    for (PostProcessor p : parts) {
                        cur = p.process(text, cur, add);
                    }
                    return cur;
                };
            }
            case "ByteLevel" -> {
                boolean trim = node.path("trim_offsets").asBoolean(true);
                boolean prefix = node.path("add_prefix_space").asBoolean(true);
                yield (text, e, add) -> trim ? trimOffsets(text, e, prefix) : e;
            }
            case "TemplateProcessing" -> template(file, node);
            default -> throw Components.unsupported(file, section, node);
        };
    }

    private static PostProcessor template(Path file, JsonNode node) {
        String section = "post_processor";
        JsonNode single = node.path("single");
        if (!single.isArray()) {
            throw Components.invalid(file, section, "TemplateProcessing.single must be a list");
        }
        List<int[]> pieces = new ArrayList<>(); // null entry = the sequence; else ids
        List<String[]> tokens = new ArrayList<>();
        for (JsonNode p : single) {
            if (p.has("Sequence")) {
                if (!"A".equals(p.get("Sequence").path("id").asText("A"))) {
                    throw Components.invalid(file, section, "TemplateProcessing.single uses sequence "
                            + p.get("Sequence").path("id").asText() + " (only A for single texts)");
                }
                pieces.add(null);
                tokens.add(null);
            } else if (p.has("SpecialToken")) {
                String id = p.get("SpecialToken").path("id").asText();
                JsonNode sp = node.path("special_tokens").path(id);
                if (!sp.path("ids").isArray() || !sp.path("tokens").isArray()) {
                    throw Components.invalid(file, section, "TemplateProcessing special token '" + id + "' is not defined");
                }
                int[] ids = new int[sp.get("ids").size()];
                String[] toks = new String[ids.length];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = sp.get("ids").get(i).asInt();
                    toks[i] = sp.get("tokens").path(i).asText();
                }
                pieces.add(ids);
                tokens.add(toks);
            } else {
                throw Components.invalid(file, section, "TemplateProcessing piece " + p);
            }
        }
        return (text, e, add) -> {
            if (!add) {
                return e;
            }
            Encoding.Builder b = new Encoding.Builder(e.size() + 4);
            for (int k = 0; k < pieces.size(); k++) {
                int[] ids = pieces.get(k);
                if (ids == null) {
                    for (int i = 0; i < e.size(); i++) {
                        b.add(e.ids()[i], e.tokens()[i], e.starts()[i], e.ends()[i]);
                    }
                } else {
                    for (int i = 0; i < ids.length; i++) {
                        b.add(ids[i], tokens.get(k)[i], 0, 0);
                    }
                }
            }
            return b.build();
        };
    }

    /**
     * The ByteLevel processor's {@code trim_offsets}: ranges lose their leading and trailing spaces,
     * counted in code points as the Rust library counts them.
     */
    private static Encoding trimOffsets(String text, Encoding e, boolean addPrefixSpace) {
        int space = ByteLevelAlphabet.charOf(' ');
        int[] starts = new int[e.size()];
        int[] ends = new int[e.size()];
        for (int i = 0; i < e.size(); i++) {
            starts[i] = text.codePointCount(0, e.starts()[i]);
            ends[i] = text.codePointCount(0, e.ends()[i]);
        }
        for (int i = 0; i < e.size(); i++) {
            String t = e.tokens()[i];
            int[] cps = t.codePoints().toArray();
            int leading = 0;
            while (leading < cps.length && (cps[leading] == space || SplitPattern.isWhitespace(cps[leading]))) {
                leading++;
            }
            int trailing = 0;
            while (trailing < cps.length
                    && (cps[cps.length - 1 - trailing] == space || SplitPattern.isWhitespace(cps[cps.length - 1 - trailing]))) {
                trailing++;
            }
            if (leading > 0) {
                boolean isFirst = i == 0 || starts[i] == 0;
                if (isFirst && addPrefixSpace && leading == 1) {
                    leading = 0;
                }
                starts[i] = Math.min(starts[i] + leading, ends[i]);
            }
            if (trailing > 0 && ends[i] >= trailing) {
                ends[i] = Math.max(ends[i] - trailing, starts[i]);
            }
        }
        for (int i = 0; i < e.size(); i++) {
            starts[i] = text.offsetByCodePoints(0, starts[i]);
            ends[i] = text.offsetByCodePoints(0, ends[i]);
        }
        return new Encoding(e.ids(), e.tokens(), starts, ends);
    }
}
