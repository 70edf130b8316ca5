package io.github.vdep.train.data.tokenizerjson;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/** A {@code pre_tokenizer} of {@code tokenizer.json}: cuts a normalised piece into the pieces the model sees. */
interface PreTokenizer {

    /** GPT-2's pattern, used by the ByteLevel pre-tokenizer. */
    Pattern GPT2 = Pattern.compile("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
            SplitPattern.REGEX_FLAGS);

    /**
     * @param piece one piece
     * @param out   where its pieces go (empty ones are dropped by the caller)
     */
    void split(NormalizedText piece, List<NormalizedText> out);

    /** Applies this pre-tokenizer to every piece. */
    default List<NormalizedText> splitAll(List<NormalizedText> pieces) {
        List<NormalizedText> out = new ArrayList<>(pieces.size() * 2);
        List<NormalizedText> tmp = new ArrayList<>();
        for (NormalizedText p : pieces) {
            tmp.clear();
            split(p, tmp);
            for (NormalizedText t : tmp) {
                if (!t.isEmpty()) {
                    out.add(t);
                }
            }
        }
        return out;
    }

    /**
     * Reads a pre-tokenizer.
     *
     * @param file the tokenizer file (for messages)
     * @param node the JSON object
     * @return the pre-tokenizer, or null for JSON null
     * @throws IllegalArgumentException for an unsupported or malformed one
     */
    static PreTokenizer parse(Path file, JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        String section = "pre_tokenizer";
        return switch (node.path("type").asText()) {
            case "Sequence" -> {
                List<PreTokenizer> parts = new ArrayList<>();
                for (JsonNode n : node.path("pretokenizers")) {
                    PreTokenizer p = parse(file, n);
                    if (p != null) {
                        parts.add(p);
                    }
                }
                yield new PreTokenizer() {
                    @Override
                    public void split(NormalizedText piece, List<NormalizedText> out) {
                        out.addAll(splitAll(List.of(piece)));
                    }

                    @Override
                    public List<NormalizedText> splitAll(List<NormalizedText> pieces) {
                        List<NormalizedText> cur = pieces;
                        for (PreTokenizer p : parts) {
                            cur = p.splitAll(cur);
                        }
                        return cur;
                    }
                };
            }
            case "Metaspace" -> metaspace(file, node);
            case "ByteLevel" -> {
                boolean prefix = node.path("add_prefix_space").asBoolean(true);
                boolean useRegex = node.path("use_regex").asBoolean(true);
                yield (piece, out) -> {
                    if (prefix && !piece.text().startsWith(" ")) {
                        piece.prepend(" ");
                    }
                    List<NormalizedText> parts = useRegex
                            ? piece.split(SplitPattern.regex(GPT2), NormalizedText.Behavior.ISOLATED) : List.of(piece);
                    for (NormalizedText p : parts) {
                        ByteLevelAlphabet.toByteChars(p);
                        out.add(p);
                    }
                };
            }
            case "Split" -> {
                SplitPattern pattern = Components.pattern(file, section, node);
                NormalizedText.Behavior behavior = behavior(file, node.path("behavior").asText());
                SplitPattern p = node.path("invert").asBoolean(false) ? SplitPattern.invert(pattern) : pattern;
                yield (piece, out) -> out.addAll(piece.split(p, behavior));
            }
            case "Whitespace" -> {
                SplitPattern p = SplitPattern.invert(SplitPattern.regex(Pattern.compile("\\w+|[^\\w\\s]+",
                        SplitPattern.REGEX_FLAGS)));
                yield (piece, out) -> out.addAll(piece.split(p, NormalizedText.Behavior.REMOVED));
            }
            case "WhitespaceSplit" -> {
                SplitPattern p = SplitPattern.chars(SplitPattern::isWhitespace);
                yield (piece, out) -> out.addAll(piece.split(p, NormalizedText.Behavior.REMOVED));
            }
            case "BertPreTokenizer" -> {
                SplitPattern ws = SplitPattern.chars(SplitPattern::isWhitespace);
                SplitPattern punct = SplitPattern.chars(SplitPattern::isPunctuation);
                yield (piece, out) -> {
                    for (NormalizedText p : piece.split(ws, NormalizedText.Behavior.REMOVED)) {
                        out.addAll(p.split(punct, NormalizedText.Behavior.ISOLATED));
                    }
                };
            }
            case "Digits" -> {
                SplitPattern p = SplitPattern.chars(SplitPattern::isNumeric);
                NormalizedText.Behavior b = node.path("individual_digits").asBoolean(false)
                        ? NormalizedText.Behavior.ISOLATED : NormalizedText.Behavior.CONTIGUOUS;
                yield (piece, out) -> out.addAll(piece.split(p, b));
            }
            case "Punctuation" -> {
                SplitPattern p = SplitPattern.chars(SplitPattern::isPunctuation);
                NormalizedText.Behavior b = node.hasNonNull("behavior") ? behavior(file, node.get("behavior").asText())
                        : NormalizedText.Behavior.ISOLATED;
                yield (piece, out) -> out.addAll(piece.split(p, b));
            }
            default -> throw Components.unsupported(file, section, node);
        };
    }

    private static PreTokenizer metaspace(Path file, JsonNode node) {
        String section = "pre_tokenizer";
        int replacement = Components.oneChar(file, section, node, "replacement");
        String rep = new String(Character.toChars(replacement));
        String scheme = prependScheme(file, section, node);
        boolean split = node.path("split").asBoolean(true);
        SplitPattern space = SplitPattern.chars(c -> c == ' ');
        SplitPattern repPattern = SplitPattern.chars(c -> c == replacement);
        return (piece, out) -> {
            piece.replace(space, rep);
            boolean prepend = switch (scheme) {
                case "always" -> true;
                case "first" -> piece.originalStart() == 0;
                default -> false;
            };
            if (prepend && !piece.text().startsWith(rep)) {
                piece.prepend(rep);
            }
            if (split) {
                out.addAll(piece.split(repPattern, NormalizedText.Behavior.MERGED_WITH_NEXT));
            } else {
                out.add(piece);
            }
        };
    }

    /** Metaspace's {@code prepend_scheme} ({@code always}, {@code first}, {@code never}), or the older {@code add_prefix_space}. */
    static String prependScheme(Path file, String section, JsonNode node) {
        String scheme = node.hasNonNull("prepend_scheme") ? node.get("prepend_scheme").asText() : "always";
        if (node.has("add_prefix_space") && !node.get("add_prefix_space").asBoolean(true)) {
            scheme = "never";
        }
        if (!scheme.equals("always") && !scheme.equals("first") && !scheme.equals("never")) {
            throw Components.invalid(file, section, "prepend_scheme '" + scheme + "' is not always, first or never");
        }
        return scheme;
    }

    private static NormalizedText.Behavior behavior(Path file, String name) {
        return switch (name) {
            case "Removed" -> NormalizedText.Behavior.REMOVED;
            case "Isolated" -> NormalizedText.Behavior.ISOLATED;
            case "MergedWithPrevious" -> NormalizedText.Behavior.MERGED_WITH_PREVIOUS;
            case "MergedWithNext" -> NormalizedText.Behavior.MERGED_WITH_NEXT;
            case "Contiguous" -> NormalizedText.Behavior.CONTIGUOUS;
            default -> throw Components.invalid(file, "pre_tokenizer", "split behavior '" + name + "'");
        };
    }
}
