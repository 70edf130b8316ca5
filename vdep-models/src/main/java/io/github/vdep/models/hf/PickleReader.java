package io.github.vdep.models.hf;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * A restricted interpreter for Python pickles (protocols 0 to 5, binary opcodes), enough for what
 * {@code torch.save} writes and nothing that can run code.
 *
 * <p>A pickle is a program for a stack machine; the dangerous part of it is that {@code GLOBAL}
 * imports any Python callable and {@code REDUCE} calls it. Here {@code GLOBAL} and
 * {@code STACK_GLOBAL} only look names up in a fixed table of {@link Callable}s given by the
 * caller (for PyTorch files: the tensor rebuild functions, the storage types and
 * {@code collections.OrderedDict}); any other name is refused with a {@link CheckpointException}
 * naming the file and the global, e.g. {@code "model.bin: refusing pickle global posix.system"},
 * before anything is built. The opcodes that instantiate classes directly ({@code INST},
 * {@code OBJ}, {@code NEWOBJ}, {@code NEWOBJ_EX}), the extension registry ({@code EXT1/2/4}), the
 * text persistent id ({@code PERSID}), out-of-band buffers, and the escaped text opcodes
 * ({@code STRING}, {@code UNICODE}) are refused as well. {@code BUILD} (setting an object's state)
 * is accepted only on dicts, where it is what {@code Module.state_dict()}'s {@code _metadata}
 * attribute pickles to, and the state is dropped.
 *
 * <p>Python values become: {@code None} → {@code null}, bool → {@link Boolean}, int →
 * {@link Long} (or {@link BigInteger} beyond 64 bits), float → {@link Double}, str →
 * {@link String}, bytes → {@code byte[]}, list → {@link ArrayList}, tuple → {@link Tuple}, dict →
 * {@link LinkedHashMap} (insertion order kept), set → {@link LinkedHashSet}. Persistent ids
 * ({@code BINPERSID}) are handed to the caller's function.
 */
final class PickleReader {

    /** A Python tuple (immutable, distinct from a list). */
    record Tuple(List<Object> items) {
        Tuple {
            items = Collections.unmodifiableList(new ArrayList<>(items));
        }

        Object get(int i) {
            return items.get(i);
        }

        int size() {
            return items.size();
        }
    }

    /** An allowed global: called by {@code REDUCE} with the argument tuple. */
    @FunctionalInterface
    interface Callable {
        Object call(Tuple args);
    }

    /** Strings, byte strings and long integers longer than this are not from a weight file. */
    private static final int MAX_LENGTH = Integer.MAX_VALUE - 8;

    private static final Object MARK = new Object() {
        @Override
        public String toString() {
            return "MARK";
        }
    };

    private final Path file;
    private final InputStream in;
    private final Map<String, Object> globals;
    private final Function<Object, Object> persistentLoad;
    private final List<Object> stack = new ArrayList<>();
    private final List<Integer> marks = new ArrayList<>();
    private final Map<Long, Object> memo = new HashMap<>();
    private long position;

    /**
     * @param file the file being read, for error messages
     * @param in the pickle's bytes; reading stops right after its {@code STOP} opcode
     * @param globals the allowed globals by {@code "module.name"}: {@link Callable}s, or plain
     *        marker objects that may be passed around but not called
     * @param persistentLoad resolves a persistent id; null refuses them
     */
    PickleReader(Path file, InputStream in, Map<String, Object> globals, Function<Object, Object> persistentLoad) {
        this.file = Objects.requireNonNull(file, "file");
        this.in = Objects.requireNonNull(in, "in");
        this.globals = Map.copyOf(globals);
        this.persistentLoad = persistentLoad;
    }

    /**
     * Runs the pickle to its {@code STOP} opcode.
     *
     * @return the unpickled value
     * @throws CheckpointException on a refused global or opcode, a malformed pickle, or an I/O error
     */
    Object load() {
        try {
            return run();
        } catch (EOFException e) {
            throw error("pickle ends unexpectedly at byte " + position + "; the file is truncated or corrupt", e);
        } catch (IOException e) {
            throw error("pickle could not be read: " + e, e);
        } catch (ClassCastException | IndexOutOfBoundsException e) {
            throw error("malformed pickle near byte " + position + ": " + e.getMessage(), e);
        }
    }

    /**
     * Returns the number of bytes consumed so far.
     *
     * @return bytes read from the stream
     */
    long position() {
        return position;
    }

    @SuppressWarnings("unchecked")
    private Object run() throws IOException {
        while (true) {
            int op = readByte();
            switch (op) {
                case 0x80 -> { // PROTO
                    int proto = readByte();
                    if (proto > 5) {
                        throw error("pickle protocol " + proto + " is newer than the 5 this reader knows");
                    }
                }
                case 0x95 -> readLong8(); // FRAME: a length hint only
                case '.' -> { // STOP
                    return pop();
                }
                case '(' -> marks.add(stack.size()); // MARK
                case '0' -> pop(); // POP
                case '1' -> popMark(); // POP_MARK
                case '2' -> push(peek()); // DUP
                case 'N' -> push(null);
                case 0x88 -> push(Boolean.TRUE);
                case 0x89 -> push(Boolean.FALSE);
                case 'J' -> push((long) readInt4()); // BININT
                case 'K' -> push((long) readByte()); // BININT1
                case 'M' -> push((long) (readByte() | (readByte() << 8))); // BININT2
                case 0x8a -> push(readLong(readByte())); // LONG1
                case 0x8b -> push(readLong(checkLength(readInt4()))); // LONG4
                case 'G' -> push(ByteBuffer.wrap(readBytes(8)).order(ByteOrder.BIG_ENDIAN).getDouble()); // BINFLOAT
                case 'I' -> push(parseIntLine(readLine())); // INT (protocol 0; also True/False)
                case 'L' -> push(narrow(new BigInteger(stripSuffix(readLine(), "L")))); // LONG (protocol 0)
                case 'F' -> push(Double.parseDouble(readLine())); // FLOAT (protocol 0)
                case 'X' -> push(new String(readBytes(checkLength(readInt4())), StandardCharsets.UTF_8)); // BINUNICODE
                case 0x8c -> push(new String(readBytes(readByte()), StandardCharsets.UTF_8)); // SHORT_BINUNICODE
                case 0x8d -> push(new String(readBytes(checkLength(readLong8())), StandardCharsets.UTF_8)); // BINUNICODE8
                // Python 2 byte strings: torch wrote them as str; latin-1 keeps every byte.
                case 'T' -> push(new String(readBytes(checkLength(readInt4())), StandardCharsets.ISO_8859_1)); // BINSTRING
                case 'U' -> push(new String(readBytes(readByte()), StandardCharsets.ISO_8859_1)); // SHORT_BINSTRING
                case 'B' -> push(readBytes(checkLength(readInt4()))); // BINBYTES
                case 'C' -> push(readBytes(readByte())); // SHORT_BINBYTES
                case 0x8e, 0x96 -> push(readBytes(checkLength(readLong8()))); // BINBYTES8, BYTEARRAY8
                case ')' -> push(new Tuple(List.of())); // EMPTY_TUPLE
                case 0x85 -> push(tupleOf(1));
                case 0x86 -> push(tupleOf(2));
                case 0x87 -> push(tupleOf(3));
                case 't' -> push(new Tuple(popMark())); // TUPLE
                case ']' -> push(new ArrayList<>()); // EMPTY_LIST
                case 'l' -> push(new ArrayList<>(popMark())); // LIST
                case 'a' -> { // APPEND
                    Object v = pop();
                    ((List<Object>) peek()).add(v);
                }
                case 'e' -> { // APPENDS
                    List<Object> items = popMark();
                    ((List<Object>) peek()).addAll(items);
                }
                case '}' -> push(new LinkedHashMap<>()); // EMPTY_DICT
                case 'd' -> { // DICT
                    Map<Object, Object> m = new LinkedHashMap<>();
                    putAll(m, popMark());
                    push(m);
                }
                case 's' -> { // SETITEM
                    Object v = pop();
                    Object k = pop();
                    ((Map<Object, Object>) peek()).put(hashable(k), v);
                }
                case 'u' -> { // SETITEMS
                    List<Object> items = popMark();
                    putAll((Map<Object, Object>) peek(), items);
                }
                case 0x8f -> push(new LinkedHashSet<>()); // EMPTY_SET
                case 0x90 -> { // ADDITEMS
                    List<Object> items = popMark();
                    for (Object o : items) {
                        ((Set<Object>) peek()).add(hashable(o));
                    }
                }
                case 0x91 -> push(Collections.unmodifiableSet(new LinkedHashSet<>(popMark()))); // FROZENSET
                case 'q' -> memo.put((long) readByte(), peek()); // BINPUT
                case 'r' -> memo.put(readInt4() & 0xffffffffL, peek()); // LONG_BINPUT
                case 'p' -> memo.put(Long.parseLong(readLine()), peek()); // PUT
                case 0x94 -> memo.put((long) memo.size(), peek()); // MEMOIZE
                case 'h' -> push(memoGet(readByte())); // BINGET
                case 'j' -> push(memoGet(readInt4() & 0xffffffffL)); // LONG_BINGET
                case 'g' -> push(memoGet(Long.parseLong(readLine()))); // GET
                case 'c' -> { // GLOBAL
                    String module = readLine();
                    String name = readLine();
                    push(global(module, name));
                }
                case 0x93 -> { // STACK_GLOBAL
                    Object name = pop();
                    Object module = pop();
                    if (!(module instanceof String m) || !(name instanceof String n)) {
                        throw error("malformed pickle: STACK_GLOBAL needs two strings");
                    }
                    push(global(m, n));
                }
                case 'R' -> { // REDUCE
                    Object args = pop();
                    Object target = pop();
                    if (!(target instanceof Callable callable)) {
                        throw error("refusing to call " + describe(target) + " from the pickle; only tensor"
                                + " rebuild functions and OrderedDict are called");
                    }
                    if (!(args instanceof Tuple tuple)) {
                        throw error("malformed pickle: REDUCE arguments are not a tuple");
                    }
                    push(callable.call(tuple));
                }
                case 'b' -> { // BUILD
                    pop(); // the state of an OrderedDict is its instance __dict__ (state_dict's _metadata): not needed
                    Object target = peek();
                    if (!(target instanceof Map)) {
                        throw error("refusing to set the state of " + describe(target)
                                + " from the pickle; only dicts (a state dict's _metadata) accept it");
                    }
                }
                case 'Q' -> { // BINPERSID
                    Object pid = pop();
                    if (persistentLoad == null) {
                        throw error("refusing a persistent id in a pickle that should have none");
                    }
                    push(persistentLoad.apply(pid));
                }
                case 'i', 'o', 0x81, 0x92 -> throw error("refusing pickle opcode " + opcodeName(op)
                        + ", which instantiates a class; only tensors, storages, OrderedDict and plain containers are read");
                default -> throw error("refusing pickle opcode " + opcodeName(op) + " at byte " + (position - 1)
                        + "; it is not one that torch.save writes for tensors and state dicts");
            }
        }
    }

    private Object global(String module, String name) {
        String qualified = module + "." + name;
        Object g = globals.get(qualified);
        if (g == null) {
            throw error("refusing pickle global " + qualified
                    + ": only tensors, storages, OrderedDict and plain containers are read, and nothing in the file is executed");
        }
        return g;
    }

    private static String describe(Object o) {
        if (o == null) {
            return "None";
        }
        return o instanceof String s ? "the string '" + s + "'" : "a " + o.getClass().getSimpleName();
    }

    private static String opcodeName(int op) {
        return switch (op) {
            case 'i' -> "INST";
            case 'o' -> "OBJ";
            case 0x81 -> "NEWOBJ";
            case 0x92 -> "NEWOBJ_EX";
            case 0x82, 0x83, 0x84 -> "EXT";
            case 'P' -> "PERSID";
            case 'S' -> "STRING";
            case 'V' -> "UNICODE";
            case 0x97 -> "NEXT_BUFFER";
            case 0x98 -> "READONLY_BUFFER";
            default -> op >= 0x20 && op < 0x7f ? "'" + (char) op + "'" : String.format("0x%02x", op);
        };
    }

    private void putAll(Map<Object, Object> m, List<Object> items) {
        if (items.size() % 2 != 0) {
            throw error("malformed pickle: odd number of items for a dict");
        }
        for (int i = 0; i < items.size(); i += 2) {
            m.put(hashable(items.get(i)), items.get(i + 1));
        }
    }

    /** Lists and dicts cannot be keys in Python either; refusing them keeps hashing well defined. */
    private Object hashable(Object key) {
        if (key instanceof List || key instanceof Map || key instanceof Set || key instanceof byte[]) {
            throw error("malformed pickle: unhashable dict key or set item (" + describe(key) + ")");
        }
        return key;
    }

    private Tuple tupleOf(int n) {
        if (stack.size() < n + (marks.isEmpty() ? 0 : marks.get(marks.size() - 1))) {
            throw error("malformed pickle: stack underflow at byte " + position);
        }
        List<Object> top = new ArrayList<>(stack.subList(stack.size() - n, stack.size()));
        stack.subList(stack.size() - n, stack.size()).clear();
        return new Tuple(top);
    }

    private Object memoGet(long key) {
        if (!memo.containsKey(key)) {
            throw error("malformed pickle: memo key " + key + " used before it was set");
        }
        return memo.get(key);
    }

    private void push(Object o) {
        stack.add(o);
    }

    private Object peek() {
        if (stack.isEmpty() || (!marks.isEmpty() && marks.get(marks.size() - 1) == stack.size())) {
            throw error("malformed pickle: stack underflow at byte " + position);
        }
        return stack.get(stack.size() - 1);
    }

    private Object pop() {
        Object o = peek();
        stack.remove(stack.size() - 1);
        return o;
    }

    private List<Object> popMark() {
        if (marks.isEmpty()) {
            throw error("malformed pickle: no MARK on the stack at byte " + position);
        }
        int at = marks.remove(marks.size() - 1);
        List<Object> items = new ArrayList<>(stack.subList(at, stack.size()));
        stack.subList(at, stack.size()).clear();
        return items;
    }

    private int readByte() throws IOException {
        int b = in.read();
        if (b < 0) {
            throw new EOFException();
        }
        position++;
        return b;
    }

    private int readInt4() throws IOException {
        return ByteBuffer.wrap(readBytes(4)).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private long readLong8() throws IOException {
        return ByteBuffer.wrap(readBytes(8)).order(ByteOrder.LITTLE_ENDIAN).getLong();
    }

    private int checkLength(long n) {
        if (n < 0 || n > MAX_LENGTH) {
            throw error("malformed pickle: length " + n + " at byte " + position);
        }
        return (int) n;
    }

    private byte[] readBytes(int n) throws IOException {
        // readNBytes grows its buffer as data arrives, so a forged length cannot allocate gigabytes.
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new EOFException();
        }
        position += n;
        return b;
    }

    private String readLine() throws IOException {
        StringBuilder sb = new StringBuilder();
        for (int c = readByte(); c != '\n'; c = readByte()) {
            if (sb.length() > 1000) {
                throw error("malformed pickle: text argument longer than 1000 bytes at byte " + position);
            }
            sb.append((char) c);
        }
        return sb.toString();
    }

    /** Two's complement little-endian, as LONG1/LONG4 store it. */
    private Object readLong(int n) throws IOException {
        if (n == 0) {
            return 0L;
        }
        byte[] le = readBytes(n);
        byte[] be = new byte[n];
        for (int i = 0; i < n; i++) {
            be[i] = le[n - 1 - i];
        }
        return narrow(new BigInteger(be));
    }

    private static Object narrow(BigInteger v) {
        return v.bitLength() < 64 ? (Object) v.longValue() : v;
    }

    private static String stripSuffix(String s, String suffix) {
        return s.endsWith(suffix) ? s.substring(0, s.length() - suffix.length()) : s;
    }

    private Object parseIntLine(String line) {
        if (line.equals("00")) {
            return Boolean.FALSE;
        }
        if (line.equals("01")) {
            return Boolean.TRUE;
        }
        try {
            return narrow(new BigInteger(line));
        } catch (NumberFormatException e) {
            throw error("malformed pickle: INT argument '" + line + "'", e);
        }
    }

    private CheckpointException error(String detail) {
        return new CheckpointException(file, detail);
    }

    private CheckpointException error(String detail, Throwable cause) {
        return new CheckpointException(file, detail, cause);
    }
}
