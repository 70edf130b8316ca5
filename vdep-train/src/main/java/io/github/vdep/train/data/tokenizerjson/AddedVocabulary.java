package io.github.vdep.train.data.tokenizerjson;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code added_tokens} of {@code tokenizer.json}, found in a text before the model runs: those
 * with {@code normalized: false} in the original text, the others in the normalised text, each
 * leftmost-longest, with the {@code single_word}, {@code lstrip} and {@code rstrip} rules of the
 * Rust {@code AddedVocabulary}.
 */
final class AddedVocabulary {

    /** One added token. */
    record AddedToken(String content, boolean singleWord, boolean lstrip, boolean rstrip, boolean normalized,
            boolean special) {
    }

    /** A piece of text, with the added token it is (id) or -1. */
    record Piece(NormalizedText text, int id) {
    }

    private final Map<String, Integer> ids = new LinkedHashMap<>();
    private final Map<Integer, AddedToken> byId = new HashMap<>();
    private final Matcher raw;
    private final Matcher normalizedMatcher;

    private AddedVocabulary(List<AddedToken> tokens, TokenModel model, TextNormalizer normalizer) {
        int vocabSize = model.vocab().size();
        List<AddedToken> special = new ArrayList<>();
        java.util.Set<String> specialContents = new java.util.HashSet<>();
        List<AddedToken> plain = new ArrayList<>();
        for (AddedToken t : tokens) {
            if (t.special() && !t.content().isEmpty() && specialContents.add(t.content())) {
                special.add(t);
            }
        }
        int maxAdded = -1;
        for (AddedToken t : tokens) {
            if (t.content().isEmpty() || ids.containsKey(t.content())) {
                continue;
            }
            // Rust's add_tokens: the model's id if it has the token, else the next free id.
            Integer id = ids.get(t.content());
            if (id == null) {
                id = model.vocab().get(t.content());
            }
            if (id == null) {
                id = maxAdded < 0 ? vocabSize : (maxAdded >= vocabSize || vocabSize == 0) ? maxAdded + 1 : vocabSize;
            }
            ids.put(t.content(), id);
            maxAdded = Math.max(maxAdded, id);
            byId.put(id, t);
            if (!specialContents.contains(t.content())) {
                plain.add(t);
            }
        }
        List<AddedToken> all = new ArrayList<>(special);
        all.addAll(plain);
        List<String> rawPatterns = new ArrayList<>();
        List<Integer> rawIds = new ArrayList<>();
        List<String> normPatterns = new ArrayList<>();
        List<Integer> normIds = new ArrayList<>();
        for (AddedToken t : all) {
            Integer id = tokenToId(t.content(), model);
            if (t.normalized()) {
                normPatterns.add(normalizer == null ? t.content() : normalizer.normalize(t.content()));
                normIds.add(id);
            } else {
                rawPatterns.add(t.content());
                rawIds.add(id);
            }
        }
        raw = new Matcher(rawPatterns, rawIds);
        normalizedMatcher = new Matcher(normPatterns, normIds);
    }

    private Integer tokenToId(String content, TokenModel model) {
        Integer id = ids.get(content);
        return id != null ? id : model.vocab().get(content);
    }

    /** Reads {@code added_tokens}. */
    static AddedVocabulary parse(Path file, JsonNode list, TokenModel model, TextNormalizer normalizer) {
        List<AddedToken> tokens = new ArrayList<>();
        if (list != null && !list.isNull()) {
            if (!list.isArray()) {
                throw Components.invalid(file, "added_tokens", "must be a list");
            }
            for (JsonNode t : list) {
                if (!t.hasNonNull("content")) {
                    throw Components.invalid(file, "added_tokens", "an entry has no content");
                }
                tokens.add(new AddedToken(t.get("content").asText(), t.path("single_word").asBoolean(false),
                        t.path("lstrip").asBoolean(false), t.path("rstrip").asBoolean(false),
                        t.path("normalized").asBoolean(true), t.path("special").asBoolean(false)));
            }
        }
        return new AddedVocabulary(tokens, model, normalizer);
    }

    /** @return the added tokens (content to id) */
    Map<String, Integer> ids() {
        return ids;
    }

    /** @return the content of an added token id, or null */
    String token(int id) {
        AddedToken t = byId.get(id);
        return t == null ? null : t.content();
    }

    /** @return whether an added token is special */
    boolean isSpecial(String content) {
        Integer id = ids.get(content);
        return id != null && byId.get(id).special();
    }

    /**
     * Cuts the original text at the added tokens and normalises the rest (Rust's
     * {@code extract_and_normalize}).
     */
    List<Piece> extractAndNormalize(String text, TextNormalizer normalizer) {
        List<Piece> first = new ArrayList<>();
        split(NormalizedText.of(text), raw, first);
        List<Piece> out = new ArrayList<>(first.size() + 4);
        for (Piece p : first) {
            if (p.id() >= 0) {
                out.add(p);
                continue;
            }
            if (normalizer != null) {
                normalizer.normalize(p.text());
            }
            split(p.text(), normalizedMatcher, out);
        }
        return out;
    }

    private void split(NormalizedText t, Matcher matcher, List<Piece> out) {
        String s = t.text();
        if (s.isEmpty()) {
            return;
        }
        if (matcher.isEmpty()) {
            out.add(new Piece(t, -1));
            return;
        }
        int startOffset = 0;
        int from = 0;
        while (true) {
            int[] m = matcher.find(s, from);
            if (m == null) {
                break;
            }
            from = m[1];
            int start = m[0];
            int stop = m[1];
            int id = m[2];
            AddedToken token = byId.get(id);
            if (token.singleWord()) {
                boolean startSpace = start == 0 || !isWordChar(s.codePointBefore(start));
                boolean stopSpace = stop == s.length() || !isWordChar(s.codePointAt(stop));
                if (!startSpace || !stopSpace) {
                    continue;
                }
            }
            if (token.lstrip()) {
                int newStart = start;
                while (newStart > 0 && SplitPattern.isWhitespace(s.codePointBefore(newStart))) {
                    newStart -= Character.charCount(s.codePointBefore(newStart));
                }
                start = Math.max(newStart, startOffset);
            }
            if (token.rstrip()) {
                while (stop < s.length() && SplitPattern.isWhitespace(s.codePointAt(stop))) {
                    stop += Character.charCount(s.codePointAt(stop));
                }
            }
            if (startOffset < start) {
                out.add(new Piece(t.slice(startOffset, start), -1));
            }
            out.add(new Piece(t.slice(start, stop), id));
            startOffset = stop;
        }
        if (startOffset != s.length()) {
            out.add(new Piece(t.slice(startOffset, s.length()), -1));
        }
    }

    /** Rust regex's {@code \w}: alphabetic, marks, decimal digits, connector punctuation, join controls. */
    private static boolean isWordChar(int cp) {
        if (Character.isAlphabetic(cp) || Character.isDigit(cp)) {
            return true;
        }
        int t = Character.getType(cp);
        return t == Character.NON_SPACING_MARK || t == Character.COMBINING_SPACING_MARK
                || t == Character.ENCLOSING_MARK || t == Character.CONNECTOR_PUNCTUATION || cp == 0x200C || cp == 0x200D;
    }

    /** Leftmost-longest matching of a set of literal strings (the first listed wins among equal ones). */
    private static final class Matcher {
        private final Map<Character, List<int[]>> byFirst = new HashMap<>(); // pattern index, length
        private final List<String> patterns;
        private final List<Integer> ids;

        Matcher(List<String> patterns, List<Integer> ids) {
            this.patterns = patterns;
            this.ids = ids;
            for (int i = 0; i < patterns.size(); i++) {
                String p = patterns.get(i);
                if (!p.isEmpty()) {
                    byFirst.computeIfAbsent(p.charAt(0), k -> new ArrayList<>()).add(new int[] {i, p.length()});
                }
            }
        }

        boolean isEmpty() {
            return byFirst.isEmpty();
        }

        /** @return {start, end, id} of the next match at or after {@code from}, or null */
        int[] find(String s, int from) {
            for (int i = from; i < s.length(); i++) {
                List<int[]> candidates = byFirst.get(s.charAt(i));
                if (candidates == null) {
                    continue;
                }
                int best = -1;
                int bestLen = -1;
                for (int[] c : candidates) {
                    if (c[1] > bestLen && s.startsWith(patterns.get(c[0]), i)) {
                        best = c[0];
                        bestLen = c[1];
                    }
                }
                if (best >= 0) {
                    return new int[] {i, i + bestLen, ids.get(best)};
                }
            }
            return null;
        }
    }
}
