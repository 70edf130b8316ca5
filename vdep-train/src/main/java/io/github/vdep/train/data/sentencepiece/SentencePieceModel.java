package io.github.vdep.train.data.sentencepiece;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * A SentencePiece BPE model ({@code tokenizer.model}) and its encoder, as
 * {@code SentencePieceProcessor} runs it.
 *
 * <p>The file is a {@code ModelProto} protobuf; the few fields used are read by hand: the pieces
 * (text, score, type), the trainer spec's {@code model_type} and {@code byte_fallback}, and the
 * normalizer spec's {@code add_dummy_prefix}, {@code remove_extra_whitespaces},
 * {@code escape_whitespaces} and {@code precompiled_charsmap}. Only what LLaMA's tokenizers use is
 * supported: BPE, no normalisation table ({@code identity}), no whitespace collapsing; others are
 * refused with a message naming the file and the setting.
 *
 * <p>Encoding ({@code bpe_model.cc}): the text is normalised (spaces become {@code ▁}, and a
 * {@code ▁} is put in front when {@code add_dummy_prefix}), split into characters (user-defined
 * pieces kept whole), and adjacent symbols are merged while their concatenation is a piece,
 * highest score first and leftmost first among equal scores. A symbol that is not a piece becomes
 * the unknown id, or with byte fallback its UTF-8 bytes as {@code <0xXX>} pieces.
 */
public final class SentencePieceModel {

    /** A piece's kind, as {@code ModelProto.SentencePiece.Type} numbers them. */
    public enum Kind {
        /** An ordinary piece (type 1). */
        NORMAL,
        /** The unknown piece (type 2). */
        UNKNOWN,
        /** A control symbol such as {@code <s>}, never produced from text (type 3). */
        CONTROL,
        /** A user-defined symbol, always kept whole (type 4). */
        USER_DEFINED,
        /** A piece the encoder does not emit (type 5). */
        UNUSED,
        /** A byte-fallback piece {@code <0xXX>} (type 6). */
        BYTE
    }

    /** The whitespace marker U+2581. */
    public static final char SPACE = '\u2581';

    private final Path file;
    private final String[] pieces;
    private final float[] scores;
    private final Kind[] kinds;
    private final Map<String, Integer> mergeable = new HashMap<>();
    private final Map<String, Integer> byPiece = new HashMap<>();
    private final int[] byteIds = new int[256];
    private final List<String> userDefined = new ArrayList<>();
    private final int unkId;
    private final boolean byteFallback;
    private final boolean addDummyPrefix;

    private SentencePieceModel(Path file, List<String> pieces, List<Float> scores, List<Kind> kinds, boolean byteFallback,
            boolean addDummyPrefix) {
        this.file = file;
        this.pieces = pieces.toArray(String[]::new);
        this.scores = new float[scores.size()];
        for (int i = 0; i < this.scores.length; i++) {
            this.scores[i] = scores.get(i);
        }
        this.kinds = kinds.toArray(Kind[]::new);
        this.byteFallback = byteFallback;
        this.addDummyPrefix = addDummyPrefix;
        java.util.Arrays.fill(byteIds, -1);
        int unk = -1;
        for (int i = 0; i < this.pieces.length; i++) {
            String p = this.pieces[i];
            byPiece.putIfAbsent(p, i);
            switch (this.kinds[i]) {
                case NORMAL, USER_DEFINED, UNUSED -> mergeable.putIfAbsent(p, i);
                case UNKNOWN -> unk = i;
                case BYTE -> {
                    if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
                        byteIds[Integer.parseInt(p.substring(3, 5), 16)] = i;
                    }
                }
                default -> { }
            }
            if (this.kinds[i] == Kind.USER_DEFINED) {
                userDefined.add(p);
            }
        }
        if (unk < 0) {
            throw new IllegalArgumentException(file + ": the model has no unknown piece");
        }
        this.unkId = unk;
        if (byteFallback) {
            for (int b = 0; b < 256; b++) {
                if (byteIds[b] < 0) {
                    throw new IllegalArgumentException(file + ": byte_fallback is set but piece <0x"
                            + String.format("%02X", b) + "> is missing");
                }
            }
        }
        userDefined.sort((a, b) -> b.length() - a.length());
    }

    /**
     * Reads a {@code tokenizer.model}.
     *
     * @param file the ModelProto file
     * @return the model
     * @throws IllegalArgumentException if the file is missing, not a ModelProto, or uses settings
     *     this encoder does not implement (the message names the file and the setting)
     */
    public static SentencePieceModel load(Path file) {
        byte[] data;
        try {
            data = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException("SentencePiece model not found: " + file, e);
        } catch (IOException e) {
            throw new IllegalArgumentException("Cannot read SentencePiece model " + file + ": " + e.getMessage(), e);
        }
        try {
            return parse(file, ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN));
        } catch (RuntimeException e) {
            if (e instanceof IllegalArgumentException && e.getMessage() != null && e.getMessage().startsWith(file.toString())) {
                throw e;
            }
            throw new IllegalArgumentException(file + " is not a valid SentencePiece model (ModelProto): " + e.getMessage(), e);
        }
    }

    private static SentencePieceModel parse(Path file, ByteBuffer in) {
        List<String> pieces = new ArrayList<>();
        List<Float> scores = new ArrayList<>();
        List<Kind> kinds = new ArrayList<>();
        int modelType = 1; // UNIGRAM is the proto default
        boolean byteFallback = false;
        boolean dummyPrefix = true;
        boolean removeExtraWhitespaces = true;
        boolean escapeWhitespaces = true;
        String normalizer = "";
        int charsmapLength = 0;
        boolean sawPiece = false;
        while (in.hasRemaining()) {
            long tag = varint(in);
            int field = (int) (tag >>> 3);
            int wire = (int) (tag & 7);
            if (field == 1 && wire == 2) { // repeated SentencePiece pieces
                ByteBuffer p = sub(in);
                String piece = "";
                float score = 0;
                int type = 1;
                while (p.hasRemaining()) {
                    long t = varint(p);
                    int f = (int) (t >>> 3);
                    int w = (int) (t & 7);
                    if (f == 1 && w == 2) {
                        piece = utf8(sub(p));
                    } else if (f == 2 && w == 5) {
                        score = p.getFloat();
                    } else if (f == 3 && w == 0) {
                        type = (int) varint(p);
                    } else {
                        skip(p, w);
                    }
                }
                if (type < 1 || type > 6) {
                    throw new IllegalArgumentException("piece " + pieces.size() + " has unknown type " + type);
                }
                pieces.add(piece);
                scores.add(score);
                kinds.add(Kind.values()[type - 1]);
                sawPiece = true;
            } else if (field == 2 && wire == 2) { // TrainerSpec
                ByteBuffer t = sub(in);
                while (t.hasRemaining()) {
                    long tg = varint(t);
                    int f = (int) (tg >>> 3);
                    int w = (int) (tg & 7);
                    if (f == 3 && w == 0) {
                        modelType = (int) varint(t);
                    } else if (f == 35 && w == 0) {
                        byteFallback = varint(t) != 0;
                    } else {
                        skip(t, w);
                    }
                }
            } else if (field == 3 && wire == 2) { // NormalizerSpec
                ByteBuffer n = sub(in);
                while (n.hasRemaining()) {
                    long tg = varint(n);
                    int f = (int) (tg >>> 3);
                    int w = (int) (tg & 7);
                    if (f == 1 && w == 2) {
                        normalizer = utf8(sub(n));
                    } else if (f == 2 && w == 2) {
                        charsmapLength = sub(n).remaining();
                    } else if (f == 3 && w == 0) {
                        dummyPrefix = varint(n) != 0;
                    } else if (f == 4 && w == 0) {
                        removeExtraWhitespaces = varint(n) != 0;
                    } else if (f == 5 && w == 0) {
                        escapeWhitespaces = varint(n) != 0;
                    } else {
                        skip(n, w);
                    }
                }
            } else {
                skip(in, wire);
            }
        }
        if (!sawPiece) {
            throw new IllegalArgumentException("it holds no pieces");
        }
        if (modelType != 2) {
            throw new IllegalArgumentException(file + ": model_type " + modelType
                    + " is not supported; only BPE (2), LLaMA's type, is implemented");
        }
        if (charsmapLength > 0) {
            throw new IllegalArgumentException(file + ": normalizer '" + normalizer
                    + "' with a precompiled character map is not supported; only identity normalisation (LLaMA's) is");
        }
        if (removeExtraWhitespaces) {
            throw new IllegalArgumentException(file + ": remove_extra_whitespaces is not supported (LLaMA's models turn it off)");
        }
        if (!escapeWhitespaces) {
            throw new IllegalArgumentException(file + ": escape_whitespaces false is not supported (LLaMA's models escape spaces)");
        }
        return new SentencePieceModel(file, pieces, scores, kinds, byteFallback, dummyPrefix);
    }

    /** @return the file this model was read from */
    public Path file() {
        return file;
    }

    /** @return the number of pieces */
    public int size() {
        return pieces.length;
    }

    /**
     * @param id a piece id
     * @return the piece text, e.g. {@code ▁the} or {@code <0x0A>}
     */
    public String piece(int id) {
        return pieces[id];
    }

    /**
     * @param id a piece id
     * @return its score (for BPE: minus its merge rank)
     */
    public float score(int id) {
        return scores[id];
    }

    /**
     * @param id a piece id
     * @return its kind
     */
    public Kind kind(int id) {
        return kinds[id];
    }

    /** @return the unknown piece's id */
    public int unkId() {
        return unkId;
    }

    /** @return whether unknown characters become their UTF-8 bytes */
    public boolean byteFallback() {
        return byteFallback;
    }

    /** @return whether a {@code ▁} is put before the text */
    public boolean addDummyPrefix() {
        return addDummyPrefix;
    }

    /**
     * Looks a piece up as {@code PieceToId} does.
     *
     * @param piece the piece text
     * @return its id, or the unknown id when there is no such piece
     */
    public int pieceToId(String piece) {
        Integer id = byPiece.get(piece);
        return id == null ? unkId : id;
    }

    /**
     * Encodes text as {@code SentencePieceProcessor.encode(text)} does.
     *
     * @param text the text
     * @param dummyPrefix whether to put a {@code ▁} in front (the model's {@code add_dummy_prefix}
     *        for plain encoding)
     * @return the pieces, each with its character range in {@code text}
     */
    public List<Piece> encode(String text, boolean dummyPrefix) {
        if (text.isEmpty()) {
            return List.of();
        }
        // Normalise: spaces to ▁, one ▁ in front; remember where each normalised char came from.
        StringBuilder norm = new StringBuilder(text.length() + 1);
        List<Integer> origin = new ArrayList<>(text.length() + 1);
        if (dummyPrefix) {
            norm.append(SPACE);
            origin.add(0);
        }
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            norm.append(c == ' ' ? SPACE : c);
            origin.add(i);
        }
        String s = norm.toString();
        // Symbols: code points, or whole user-defined pieces (frozen).
        List<int[]> symbols = new ArrayList<>(); // {start, end, frozen}
        for (int i = 0; i < s.length(); ) {
            int len = 0;
            for (String u : userDefined) {
                if (s.startsWith(u, i)) {
                    len = u.length();
                    break;
                }
            }
            boolean frozen = len > 0;
            if (!frozen) {
                len = Character.charCount(s.codePointAt(i));
            }
            symbols.add(new int[] {i, i + len, frozen ? 1 : 0});
            i += len;
        }
        int n = symbols.size();
        int[] start = new int[n];
        int[] end = new int[n];
        boolean[] frozen = new boolean[n];
        int[] prev = new int[n];
        int[] next = new int[n];
        for (int i = 0; i < n; i++) {
            start[i] = symbols.get(i)[0];
            end[i] = symbols.get(i)[1];
            frozen[i] = symbols.get(i)[2] == 1;
            prev[i] = i - 1;
            next[i] = i + 1 < n ? i + 1 : -1;
        }
        // Agenda: highest score first, then leftmost.
        PriorityQueue<long[]> agenda = new PriorityQueue<>((a, b) -> {
            float sa = Float.intBitsToFloat((int) a[2]);
            float sb = Float.intBitsToFloat((int) b[2]);
            if (sa != sb) {
                return sa > sb ? -1 : 1;
            }
            return Long.compare(a[0], b[0]);
        });
        Map<String, String[]> revMerge = new HashMap<>();
        for (int i = 1; i < n; i++) {
            addPair(s, agenda, start, end, frozen, i - 1, i, revMerge);
        }
        while (!agenda.isEmpty()) {
            long[] top = agenda.poll();
            int left = (int) top[0];
            int right = (int) top[1];
            int size = (int) top[3];
            if (start[left] == end[left] || start[right] == end[right]
                    || (end[left] - start[left]) + (end[right] - start[right]) != size || next[left] != right) {
                continue;
            }
            end[left] = end[right];
            start[right] = end[right]; // emptied
            next[left] = next[right];
            if (next[right] >= 0) {
                prev[next[right]] = left;
            }
            if (prev[left] >= 0) {
                addPair(s, agenda, start, end, frozen, prev[left], left, revMerge);
            }
            if (next[left] >= 0) {
                addPair(s, agenda, start, end, frozen, left, next[left], revMerge);
            }
        }
        List<Piece> out = new ArrayList<>();
        for (int i = 0; i >= 0 && n > 0; i = next[i]) {
            resegment(s, start[i], end[i], origin, text.length(), revMerge, out);
        }
        return Collections.unmodifiableList(out);
    }

    private void addPair(String s, PriorityQueue<long[]> agenda, int[] start, int[] end, boolean[] frozen, int left, int right,
            Map<String, String[]> revMerge) {
        if (frozen[left] || frozen[right]) {
            return;
        }
        String merged = s.substring(start[left], end[right]);
        Integer id = mergeable.get(merged);
        if (id == null) {
            return;
        }
        if (kinds[id] == Kind.UNUSED) {
            revMerge.put(merged, new String[] {s.substring(start[left], end[left]), s.substring(start[right], end[right])});
        }
        agenda.add(new long[] {left, right, Float.floatToIntBits(scores[id]), merged.length()});
    }

    /** Emits a final symbol: unused pieces split back into what they merged, unknowns into bytes. */
    private void resegment(String s, int from, int to, List<Integer> origin, int textLength, Map<String, String[]> revMerge,
            List<Piece> out) {
        String w = s.substring(from, to);
        Integer id = mergeable.get(w);
        if (id != null && kinds[id] == Kind.UNUSED && revMerge.containsKey(w)) {
            String[] parts = revMerge.get(w);
            resegment(s, from, from + parts[0].length(), origin, textLength, revMerge, out);
            resegment(s, from + parts[0].length(), to, origin, textLength, revMerge, out);
            return;
        }
        int charStart = origin.get(from);
        int charEnd = to < origin.size() ? origin.get(to) : textLength;
        int pid = id != null ? id : pieceToId(w);
        if (pid == unkId && byteFallback) {
            for (byte b : w.getBytes(StandardCharsets.UTF_8)) {
                out.add(new Piece(byteIds[b & 0xff], charStart, charEnd));
            }
        } else {
            out.add(new Piece(pid, charStart, charEnd));
        }
    }

    /**
     * Decodes ids as {@code SentencePieceProcessor.decode} does: byte pieces are joined into UTF-8
     * (invalid sequences become U+FFFD), {@code ▁} becomes a space, the leading space of a dummy
     * prefix is dropped, and control and unknown pieces give nothing (unknown: U+2047).
     *
     * @param ids piece ids
     * @param dropLeadingSpace whether to drop one leading space (the dummy prefix)
     * @return the text
     */
    public String decode(int[] ids, boolean dropLeadingSpace) {
        StringBuilder sb = new StringBuilder();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int id : ids) {
            if (id < 0 || id >= pieces.length) {
                throw new IllegalArgumentException("id " + id + " is outside the vocabulary of " + file + " (" + pieces.length + " pieces)");
            }
            if (kinds[id] == Kind.BYTE) {
                bytes.write(Integer.parseInt(pieces[id].substring(3, 5), 16));
                continue;
            }
            flushBytes(bytes, sb);
            switch (kinds[id]) {
                case CONTROL -> { }
                case UNKNOWN -> sb.append('\u2047');
                default -> sb.append(pieces[id].replace(SPACE, ' '));
            }
        }
        flushBytes(bytes, sb);
        if (dropLeadingSpace && sb.length() > 0 && sb.charAt(0) == ' ') {
            sb.deleteCharAt(0);
        }
        return sb.toString();
    }

    private static void flushBytes(ByteArrayOutputStream bytes, StringBuilder sb) {
        if (bytes.size() == 0) {
            return;
        }
        byte[] b = bytes.toByteArray();
        bytes.reset();
        try {
            sb.append(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)));
        } catch (CharacterCodingException e) {
            sb.append(new String(b, StandardCharsets.UTF_8));
        }
    }

    /**
     * One encoded piece.
     *
     * @param id the piece id
     * @param start first UTF-16 index in the text it covers
     * @param end one past the last
     */
    public record Piece(int id, int start, int end) {
    }

    // ---------------------------------------------------------------- protobuf wire format

    private static long varint(ByteBuffer in) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            byte b = in.get();
            v |= (long) (b & 0x7f) << shift;
            if ((b & 0x80) == 0) {
                return v;
            }
        }
        throw new IllegalArgumentException("varint longer than 10 bytes");
    }

    private static ByteBuffer sub(ByteBuffer in) {
        long len = varint(in);
        if (len < 0 || len > in.remaining()) {
            throw new IllegalArgumentException("field length " + len + " exceeds the " + in.remaining() + " bytes left");
        }
        ByteBuffer s = in.slice().order(ByteOrder.LITTLE_ENDIAN);
        s.limit((int) len);
        in.position(in.position() + (int) len);
        return s;
    }

    private static void skip(ByteBuffer in, int wire) {
        switch (wire) {
            case 0 -> varint(in);
            case 1 -> in.position(in.position() + 8);
            case 2 -> sub(in);
            case 5 -> in.position(in.position() + 4);
            default -> throw new IllegalArgumentException("unsupported protobuf wire type " + wire);
        }
    }

    private static String utf8(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.get(a);
        return new String(a, StandardCharsets.UTF_8);
    }
}
