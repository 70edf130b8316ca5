package io.github.vdep.train.data.tokenizerjson;

import java.util.ArrayList;
import java.util.List;

/**
 * A piece of text being normalised, with the range of the original text each of its characters
 * came from: the {@code NormalizedString} of Hugging Face's {@code tokenizers}, in Java units.
 *
 * <p>Alignments are kept per UTF-16 unit of the normalised text (both halves of a surrogate pair
 * share one) as absolute UTF-16 offsets into the original text. The edits follow the Rust
 * library's {@code transform_range} rules, so token offsets come out as the Rust library's do:
 * a replaced character keeps the alignment of the character it replaces, an inserted one takes
 * that of the character before it.
 */
final class NormalizedText {

    private String text;
    private int[] alStart;
    private int[] alEnd;
    private final int origStart;
    private final int origEnd;

    private NormalizedText(String text, int[] alStart, int[] alEnd, int origStart, int origEnd) {
        this.text = text;
        this.alStart = alStart;
        this.alEnd = alEnd;
        this.origStart = origStart;
        this.origEnd = origEnd;
    }

    /** A whole original text, each character aligned to itself. */
    static NormalizedText of(String original) {
        int n = original.length();
        int[] s = new int[n];
        int[] e = new int[n];
        for (int i = 0; i < n; ) {
            int w = Character.charCount(original.codePointAt(i));
            for (int k = 0; k < w; k++) {
                s[i + k] = i;
                e[i + k] = i + w;
            }
            i += w;
        }
        return new NormalizedText(original, s, e, 0, n);
    }

    /** @return the normalised text */
    String text() {
        return text;
    }

    boolean isEmpty() {
        return text.isEmpty();
    }

    /** @return where this piece starts in the original text */
    int originalStart() {
        return origStart;
    }

    /** Original start of the normalised range {@code [start, end)} (which must not be empty). */
    int originalStartOf(int start) {
        return alStart[start];
    }

    /** Original end of the normalised range ending at {@code end} (exclusive, after a non-empty range). */
    int originalEndOf(int end) {
        return alEnd[end - 1];
    }

    /**
     * The normalised range {@code [start, end)} as a piece of its own, its original range being
     * that of its characters (Rust's {@code slice}).
     */
    NormalizedText slice(int start, int end) {
        int n = end - start;
        int[] s = new int[n];
        int[] e = new int[n];
        System.arraycopy(alStart, start, s, 0, n);
        System.arraycopy(alEnd, start, e, 0, n);
        int os = n == 0 ? origStart : alStart[start];
        int oe = n == 0 ? origStart : alEnd[end - 1];
        return new NormalizedText(text.substring(start, end), s, e, os, oe);
    }

    /**
     * Replaces the normalised range {@code [start, end)} by new characters, each with a change
     * code: 0 replaces the next old character, 1 inserts, {@code -n} replaces the next old
     * character and removes {@code n} more. {@code initialOffset} old characters are removed first.
     */
    void transformRange(int start, int end, int[] cps, int[] changes, int count, int initialOffset) {
        int pos = start;
        for (int k = 0; k < initialOffset && pos < end; k++) {
            pos += Character.charCount(text.codePointAt(pos));
        }
        StringBuilder sb = new StringBuilder(count + 4);
        IntList ns = new IntList(count + 4);
        IntList ne = new IntList(count + 4);
        for (int i = 0; i < count; i++) {
            int c = cps[i];
            int change = changes[i];
            int idx = pos;
            int as;
            int ae;
            if (change > 0) {
                if (idx < 1) {
                    as = origStart;
                    ae = origStart;
                } else {
                    as = alStart[idx - 1];
                    ae = alEnd[idx - 1];
                }
            } else if (idx < alStart.length) {
                as = alStart[idx];
                ae = alEnd[idx];
            } else {
                throw new IllegalStateException("normalisation replaced past the end of the text");
            }
            if (change <= 0 && pos < end) {
                pos += Character.charCount(text.codePointAt(pos));
            }
            for (int k = 0; k < -change && pos < end; k++) {
                pos += Character.charCount(text.codePointAt(pos));
            }
            sb.appendCodePoint(c);
            int w = Character.charCount(c);
            for (int k = 0; k < w; k++) {
                ns.add(as);
                ne.add(ae);
            }
        }
        splice(start, end, sb.toString(), ns, ne);
    }

    /** {@link #transformRange} over the whole text. */
    void transform(int[] cps, int[] changes, int count, int initialOffset) {
        transformRange(0, text.length(), cps, changes, count, initialOffset);
    }

    private void splice(int start, int end, String replacement, IntList ns, IntList ne) {
        int tail = text.length() - end;
        int n = start + ns.size() + tail;
        int[] s = new int[n];
        int[] e = new int[n];
        System.arraycopy(alStart, 0, s, 0, start);
        System.arraycopy(alEnd, 0, e, 0, start);
        System.arraycopy(ns.array(), 0, s, start, ns.size());
        System.arraycopy(ne.array(), 0, e, start, ne.size());
        System.arraycopy(alStart, end, s, start + ns.size(), tail);
        System.arraycopy(alEnd, end, e, start + ns.size(), tail);
        text = text.substring(0, start) + replacement + text.substring(end);
        alStart = s;
        alEnd = e;
    }

    /** Puts {@code s} before the text, aligned to its first character (nothing when empty). */
    void prepend(String s) {
        if (text.isEmpty() || s.isEmpty()) {
            return;
        }
        int first = text.codePointAt(0);
        int[] cps = s.codePoints().toArray();
        int[] all = new int[cps.length + 1];
        int[] changes = new int[cps.length + 1];
        for (int i = 0; i < cps.length; i++) {
            all[i] = cps[i];
            changes[i] = i == 0 ? 0 : 1;
        }
        all[cps.length] = first;
        changes[cps.length] = 1;
        transformRange(0, Character.charCount(first), all, changes, all.length, 0);
    }

    /**
     * Replaces every match of {@code pattern} by {@code content}; the new characters take the
     * alignment of the last matched character (Rust's {@code replace}).
     */
    void replace(SplitPattern pattern, String content) {
        List<SplitPattern.Match> matches = pattern.find(text);
        boolean any = false;
        for (SplitPattern.Match m : matches) {
            any |= m.isMatch();
        }
        if (!any) {
            return;
        }
        StringBuilder sb = new StringBuilder(text.length() + 8);
        IntList ns = new IntList(text.length() + 8);
        IntList ne = new IntList(text.length() + 8);
        int cl = content.length();
        for (SplitPattern.Match m : matches) {
            if (!m.isMatch()) {
                sb.append(text, m.start(), m.end());
                for (int i = m.start(); i < m.end(); i++) {
                    ns.add(alStart[i]);
                    ne.add(alEnd[i]);
                }
                continue;
            }
            int as = m.end() < 1 ? origStart : alStart[m.end() - 1];
            int ae = m.end() < 1 ? origStart : alEnd[m.end() - 1];
            sb.append(content);
            for (int i = 0; i < cl; i++) {
                ns.add(as);
                ne.add(ae);
            }
        }
        text = sb.toString();
        alStart = ns.toArray();
        alEnd = ne.toArray();
    }

    /** Split behaviours of the Rust library ({@code SplitDelimiterBehavior}). */
    enum Behavior {
        REMOVED, ISOLATED, MERGED_WITH_PREVIOUS, MERGED_WITH_NEXT, CONTIGUOUS
    }

    /** Splits on the pattern's matches, handling the matched parts as {@code behavior} says; empty pieces are dropped. */
    List<NormalizedText> split(SplitPattern pattern, Behavior behavior) {
        List<SplitPattern.Match> matches = pattern.find(text);
        List<int[]> splits = new ArrayList<>(matches.size()); // start, end, remove
        switch (behavior) {
            case ISOLATED -> matches.forEach(m -> splits.add(new int[] {m.start(), m.end(), 0}));
            case REMOVED -> matches.forEach(m -> splits.add(new int[] {m.start(), m.end(), m.isMatch() ? 1 : 0}));
            case CONTIGUOUS -> {
                boolean previous = false;
                for (SplitPattern.Match m : matches) {
                    if (m.isMatch() == previous && !splits.isEmpty()) {
                        splits.get(splits.size() - 1)[1] = m.end();
                    } else {
                        splits.add(new int[] {m.start(), m.end(), 0});
                    }
                    previous = m.isMatch();
                }
            }
            case MERGED_WITH_PREVIOUS -> {
                boolean previous = false;
                for (SplitPattern.Match m : matches) {
                    if (m.isMatch() && !previous && !splits.isEmpty()) {
                        splits.get(splits.size() - 1)[1] = m.end();
                    } else {
                        splits.add(new int[] {m.start(), m.end(), 0});
                    }
                    previous = m.isMatch();
                }
            }
            case MERGED_WITH_NEXT -> {
                boolean previous = false;
                for (int i = matches.size() - 1; i >= 0; i--) {
                    SplitPattern.Match m = matches.get(i);
                    if (m.isMatch() && !previous && !splits.isEmpty()) {
                        splits.get(splits.size() - 1)[0] = m.start();
                    } else {
                        splits.add(new int[] {m.start(), m.end(), 0});
                    }
                    previous = m.isMatch();
                }
                java.util.Collections.reverse(splits);
            }
            default -> throw new IllegalStateException(behavior.toString());
        }
        List<NormalizedText> out = new ArrayList<>(splits.size());
        for (int[] s : splits) {
            if (s[2] == 0 && s[1] > s[0]) {
                out.add(slice(s[0], s[1]));
            }
        }
        return out;
    }

    /** A growable int array. */
    static final class IntList {
        private int[] a;
        private int n;

        IntList(int capacity) {
            a = new int[Math.max(4, capacity)];
        }

        void add(int v) {
            if (n == a.length) {
                a = java.util.Arrays.copyOf(a, a.length * 2);
            }
            a[n++] = v;
        }

        int size() {
            return n;
        }

        int get(int i) {
            return a[i];
        }

        int[] array() {
            return a;
        }

        int[] toArray() {
            return java.util.Arrays.copyOf(a, n);
        }
    }
}
