package io.github.vdep.train.data.tokenizerjson;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The BPE model of Hugging Face's {@code tokenizers}: characters (or their UTF-8 bytes as
 * {@code <0xXX>} tokens with byte fallback, or the unknown token) merged pair by pair in the order
 * of {@code merges}, lowest rank first and leftmost first among equal ranks, exactly as the Rust
 * {@code Word::merge_all} does. Token ranges are computed from UTF-8 byte lengths as in Rust and
 * then mapped to UTF-16 units.
 */
final class BpeModel implements TokenModel {

    /** As the Rust library: at most this many cached words, and only words shorter than {@link #CACHE_MAX_LENGTH}. */
    private static final int CACHE_CAPACITY = 10_000;
    private static final int CACHE_MAX_LENGTH = 256;

    private final Path file;
    private final Map<String, Integer> vocab;
    private final String[] reverse;
    private final MergeMap merges;
    private final String unk;
    private final String prefix;
    private final String suffix;
    private final boolean fuseUnk;
    private final boolean byteFallback;
    private final boolean ignoreMerges;
    private final int[] byteIds = new int[256];
    private final Map<String, int[]> cache = new ConcurrentHashMap<>();

    private BpeModel(Path file, Map<String, Integer> vocab, MergeMap merges, String unk, String prefix, String suffix,
            boolean fuseUnk, boolean byteFallback, boolean ignoreMerges) {
        this.file = file;
        this.vocab = vocab;
        this.reverse = TokenModel.reverse(vocab);
        this.merges = merges;
        this.unk = unk;
        this.prefix = prefix;
        this.suffix = suffix;
        this.fuseUnk = fuseUnk;
        this.byteFallback = byteFallback;
        this.ignoreMerges = ignoreMerges;
        for (int b = 0; b < 256; b++) {
            Integer id = vocab.get(String.format("<0x%02X>", b));
            byteIds[b] = id == null ? -1 : id;
        }
    }

    static BpeModel parse(Path file, JsonNode node) {
        String section = "model";
        JsonNode dropout = node.get("dropout");
        if (dropout != null && !dropout.isNull() && dropout.asDouble() != 0.0) {
            throw Components.unsupportedSetting(file, section, "BPE dropout " + dropout.asText()
                    + " (only null: vdep tokenizes deterministically)");
        }
        Map<String, Integer> vocab = TokenModel.vocabObject(file, node);
        String prefix = textOrNull(node, "continuing_subword_prefix");
        String suffix = textOrNull(node, "end_of_word_suffix");
        JsonNode list = node.path("merges");
        if (!list.isArray()) {
            throw Components.invalid(file, section, "BPE model.merges must be a list");
        }
        MergeMap merges = new MergeMap(list.size());
        int prefixLen = prefix == null ? 0 : prefix.length();
        int rank = 0;
        for (JsonNode m : list) {
            String a;
            String b;
            if (m.isTextual()) {
                String s = m.textValue();
                int sp = s.indexOf(' ');
                if (sp < 0 || s.indexOf(' ', sp + 1) >= 0) {
                    throw Components.invalid(file, section, "merge " + rank + " '" + s + "' is not two tokens");
                }
                a = s.substring(0, sp);
                b = s.substring(sp + 1);
            } else if (m.isArray() && m.size() == 2) {
                a = m.get(0).asText();
                b = m.get(1).asText();
            } else {
                throw Components.invalid(file, section, "merge " + rank + " is neither \"a b\" nor [a, b]");
            }
            Integer aId = vocab.get(a);
            Integer bId = vocab.get(b);
            String merged = a + (b.length() >= prefixLen ? b.substring(prefixLen) : "");
            Integer newId = vocab.get(merged);
            if (aId == null || bId == null || newId == null) {
                throw Components.invalid(file, section, "merge " + rank + " uses a token not in the vocabulary: '"
                        + (aId == null ? a : bId == null ? b : merged) + "'");
            }
            merges.put(aId, bId, rank, newId);
            rank++;
        }
        return new BpeModel(file, vocab, merges, textOrNull(node, "unk_token"), prefix, suffix,
                node.path("fuse_unk").asBoolean(false), node.path("byte_fallback").asBoolean(false),
                node.path("ignore_merges").asBoolean(false));
    }

    private static String textOrNull(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    @Override
    public void tokenize(String piece, Tokens out) {
        if (piece.isEmpty()) {
            return;
        }
        if (ignoreMerges) {
            Integer id = vocab.get(piece);
            if (id != null) {
                out.add(id, 0, piece.length());
                return;
            }
        }
        int[] word = cache.get(piece);
        if (word == null) {
            word = mergeWord(piece);
            if (piece.length() < CACHE_MAX_LENGTH && cache.size() < CACHE_CAPACITY) {
                cache.put(piece, word);
            }
        }
        emit(piece, word, out);
    }

    /** Turns (id, byte length) pairs into tokens with UTF-16 ranges of the piece, as Rust's byte offsets map. */
    private static void emit(String piece, int[] word, Tokens out) {
        int n = word.length / 2;
        boolean ascii = true;
        for (int i = 0; i < piece.length() && ascii; i++) {
            ascii = piece.charAt(i) < 0x80;
        }
        if (ascii) {
            int pos = 0;
            for (int i = 0; i < n; i++) {
                int end = Math.min(pos + word[2 * i + 1], piece.length());
                out.add(word[2 * i], Math.min(pos, piece.length()), end);
                pos += word[2 * i + 1];
            }
            return;
        }
        // Unit index of the character holding each byte, and that character's end.
        byte[] utf8 = piece.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int[] charStart = new int[utf8.length];
        int[] charEnd = new int[utf8.length];
        int b = 0;
        for (int i = 0; i < piece.length() && b < utf8.length; ) {
            int cp = piece.codePointAt(i);
            int w = Character.charCount(cp);
            int len = Character.isSurrogate((char) cp) ? 1 : cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            for (int k = 0; k < len && b < utf8.length; k++, b++) {
                charStart[b] = i;
                charEnd[b] = i + w;
            }
            i += w;
        }
        int pos = 0;
        for (int i = 0; i < n; i++) {
            int len = word[2 * i + 1];
            int s = Math.min(pos, utf8.length - 1);
            int e = Math.min(pos + len, utf8.length) - 1;
            if (len == 0 || e < s) {
                int at = pos >= utf8.length ? piece.length() : charStart[pos];
                out.add(word[2 * i], at, at);
            } else {
                out.add(word[2 * i], charStart[s], charEnd[e]);
            }
            pos += len;
        }
    }

    /** The merged word as (id, UTF-8 byte length) pairs. */
    private int[] mergeWord(String w) {
        NormalizedText.IntList ids = new NormalizedText.IntList(w.length());
        NormalizedText.IntList lens = new NormalizedText.IntList(w.length());
        int unkId = -1;
        int unkLen = 0;
        boolean pendingUnk = false;
        for (int i = 0; i < w.length(); ) {
            int cp = w.codePointAt(i);
            int next = i + Character.charCount(cp);
            boolean first = i == 0;
            boolean last = next >= w.length();
            String c = w.substring(i, next);
            int byteLen = Character.isSurrogate((char) cp) ? 3 : cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            String s = c;
            if (!first && prefix != null) {
                s = prefix + s;
            }
            if (last && suffix != null) {
                s = s + suffix;
            }
            i = next;
            Integer id = vocab.get(s);
            if (id != null) {
                if (pendingUnk) {
                    ids.add(unkId);
                    lens.add(unkLen);
                    pendingUnk = false;
                }
                ids.add(id);
                lens.add(byteLen);
                continue;
            }
            if (byteFallback) {
                byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
                boolean all = true;
                for (byte b : bytes) {
                    all &= byteIds[b & 0xff] >= 0;
                }
                if (all) {
                    for (byte b : bytes) {
                        ids.add(byteIds[b & 0xff]);
                        lens.add(1);
                    }
                    continue;
                }
            }
            if (unk != null) {
                Integer u = vocab.get(unk);
                if (u == null) {
                    throw new IllegalArgumentException("Tokenizer " + file + ": the unknown token '" + unk
                            + "' is not in the vocabulary");
                }
                if (pendingUnk && fuseUnk) {
                    unkLen += byteLen;
                } else {
                    if (pendingUnk) {
                        ids.add(unkId);
                        lens.add(unkLen);
                    }
                    unkId = u;
                    unkLen = byteLen;
                    pendingUnk = true;
                }
            }
        }
        if (pendingUnk) {
            ids.add(unkId);
            lens.add(unkLen);
        }
        return mergeAll(ids.toArray(), lens.toArray());
    }

    /** Rust's {@code Word::merge_all}: a priority queue of (rank, position, new id). */
    private int[] mergeAll(int[] c, int[] len) {
        int n = c.length;
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        MergeQueue queue = new MergeQueue(n);
        for (int i = 0; i + 1 < n; i++) {
            long m = merges.get(c[i], c[i + 1]);
            if (m >= 0) {
                queue.push((int) (m >>> 32), i, (int) m);
            }
        }
        while (!queue.isEmpty()) {
            int rank = queue.topRank();
            int pos = queue.topPos();
            int newId = queue.topNewId();
            queue.pop();
            if (len[pos] == 0 || next[pos] == -1) {
                continue;
            }
            int right = next[pos];
            long target = merges.get(c[pos], c[right]);
            if (target < 0 || (int) target != newId) {
                continue;
            }
            c[pos] = newId;
            len[pos] += len[right];
            next[pos] = next[right];
            len[right] = 0;
            if (next[right] > -1 && next[right] < n) {
                prev[next[right]] = pos;
            }
            if (prev[pos] >= 0) {
                int p = prev[pos];
                long m = merges.get(c[p], c[pos]);
                if (m >= 0) {
                    queue.push((int) (m >>> 32), p, (int) m);
                }
            }
            int nx = next[pos];
            if (nx >= 0 && nx < n) {
                long m = merges.get(c[pos], c[nx]);
                if (m >= 0) {
                    queue.push((int) (m >>> 32), pos, (int) m);
                }
            }
            assert rank >= 0;
        }
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (len[i] != 0) {
                kept++;
            }
        }
        int[] out = new int[2 * kept];
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (len[i] != 0) {
                out[k++] = c[i];
                out[k++] = len[i];
            }
        }
        return out;
    }

    @Override
    public String idToToken(int id) {
        return id >= 0 && id < reverse.length ? reverse[id] : null;
    }

    @Override
    public Map<String, Integer> vocab() {
        return vocab;
    }

    /** Pair of ids to (rank, new id), open addressing. */
    private static final class MergeMap {
        private final long[] keys;
        private final long[] values;
        private final int mask;

        MergeMap(int expected) {
            int cap = Integer.highestOneBit(Math.max(16, expected * 2 + 1)) * 2;
            keys = new long[cap];
            values = new long[cap];
            java.util.Arrays.fill(keys, -1L);
            mask = cap - 1;
        }

        private static long key(int a, int b) {
            return ((long) a << 32) | (b & 0xffffffffL);
        }

        private int slot(long k) {
            long h = k * 0x9E3779B97F4A7C15L;
            return (int) (h ^ (h >>> 29)) & mask;
        }

        /** Later merges of the same pair win, as in Rust's map. */
        void put(int a, int b, int rank, int newId) {
            long k = key(a, b);
            int i = slot(k);
            while (keys[i] != -1L && keys[i] != k) {
                i = (i + 1) & mask;
            }
            keys[i] = k;
            values[i] = ((long) rank << 32) | (newId & 0xffffffffL);
        }

        /** @return rank in the high half and new id in the low half, or -1 */
        long get(int a, int b) {
            long k = key(a, b);
            int i = slot(k);
            while (keys[i] != -1L) {
                if (keys[i] == k) {
                    return values[i];
                }
                i = (i + 1) & mask;
            }
            return -1L;
        }
    }

    /** A binary min-heap of merges ordered by rank, then position. */
    private static final class MergeQueue {
        private int[] rank;
        private int[] pos;
        private int[] newId;
        private int size;

        MergeQueue(int capacity) {
            int c = Math.max(4, capacity);
            rank = new int[c];
            pos = new int[c];
            newId = new int[c];
        }

        boolean isEmpty() {
            return size == 0;
        }

        int topRank() {
            return rank[0];
        }

        int topPos() {
            return pos[0];
        }

        int topNewId() {
            return newId[0];
        }

        private boolean less(int i, int j) {
            return rank[i] != rank[j] ? rank[i] < rank[j] : pos[i] < pos[j];
        }

        private void swap(int i, int j) {
            int t = rank[i];
            rank[i] = rank[j];
            rank[j] = t;
            t = pos[i];
            pos[i] = pos[j];
            pos[j] = t;
            t = newId[i];
            newId[i] = newId[j];
            newId[j] = t;
        }

        void push(int r, int p, int id) {
            if (size == rank.length) {
                rank = java.util.Arrays.copyOf(rank, size * 2);
                pos = java.util.Arrays.copyOf(pos, size * 2);
                newId = java.util.Arrays.copyOf(newId, size * 2);
            }
            rank[size] = r;
            pos[size] = p;
            newId[size] = id;
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) / 2;
                if (!less(i, parent)) {
                    break;
                }
                swap(i, parent);
                i = parent;
            }
        }

        void pop() {
            size--;
            if (size == 0) {
                return;
            }
            rank[0] = rank[size];
            pos[0] = pos[size];
            newId[0] = newId[size];
            int i = 0;
            while (true) {
                int l = 2 * i + 1;
                int r = l + 1;
                int m = i;
                if (l < size && less(l, m)) {
                    m = l;
                }
                if (r < size && less(r, m)) {
                    m = r;
                }
                if (m == i) {
                    break;
                }
                swap(i, m);
                i = m;
            }
        }
    }
}
