package io.github.vdep.train.data.tokenizerjson;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;

/**
 * NFD, NFKD, NFC and NFKC with the per-character change codes of the Rust crate
 * {@code unicode-normalization-alignments} that Hugging Face's {@code tokenizers} uses, so offsets
 * after normalisation match. Characters are decomposed one by one (Java's normaliser on single
 * code points), runs of non-starters are stably sorted by canonical combining class, and
 * recomposition follows the crate's {@code Recompositions} step for step. Java exposes no combining
 * classes, so they are compared through Java's own canonical reordering of two marks.
 */
final class UnicodeNormalization {

    /** A character with its change code (0 replaces, 1 inserts, -n also removes n). */
    record Change(int cp, int change) {
    }

    private static final int ACUTE = 0x0301; // combining class 230
    private static final int TILDE_OVERLAY = 0x0334; // combining class 1

    private UnicodeNormalization() {
    }

    /** Applies {@code form} to the text, with Rust's alignment rules. */
    static void apply(NormalizedText t, Normalizer.Form form) {
        String s = t.text();
        if (Normalizer.isNormalized(s, form)) {
            return;
        }
        boolean compat = form == Normalizer.Form.NFKC || form == Normalizer.Form.NFKD;
        List<Change> d = decompose(s, compat);
        if (form == Normalizer.Form.NFC || form == Normalizer.Form.NFKC) {
            d = recompose(d);
        }
        int[] cps = new int[d.size()];
        int[] changes = new int[d.size()];
        for (int i = 0; i < cps.length; i++) {
            cps[i] = d.get(i).cp();
            changes[i] = d.get(i).change();
        }
        t.transform(cps, changes, cps.length, 0);
    }

    static List<Change> decompose(String s, boolean compat) {
        Normalizer.Form f = compat ? Normalizer.Form.NFKD : Normalizer.Form.NFD;
        List<Change> out = new ArrayList<>(s.length() + 8);
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            String dec = Normalizer.normalize(new String(Character.toChars(cp)), f);
            boolean first = true;
            for (int k = 0; k < dec.length(); ) {
                int d = dec.codePointAt(k);
                k += Character.charCount(d);
                out.add(new Change(d, first ? 0 : 1));
                first = false;
            }
        }
        // Stable sort of each run of non-starters by combining class (insertion sort).
        int runStart = -1;
        for (int i = 0; i <= out.size(); i++) {
            boolean starter = i == out.size() || isStarter(out.get(i).cp());
            if (!starter && runStart < 0) {
                runStart = i;
            } else if (starter && runStart >= 0) {
                for (int a = runStart + 1; a < i; a++) {
                    Change x = out.get(a);
                    int b = a - 1;
                    while (b >= runStart && cccGreater(out.get(b).cp(), x.cp())) {
                        out.set(b + 1, out.get(b));
                        b--;
                    }
                    out.set(b + 1, x);
                }
                runStart = -1;
            }
        }
        return out;
    }

    /** The crate's {@code Recompositions}. */
    static List<Change> recompose(List<Change> in) {
        List<Change> out = new ArrayList<>(in.size());
        List<Change> buffer = new ArrayList<>();
        Change composee = null;
        Integer lastCcc = null; // a representative character of the last class, compared by cccGreater
        for (Change c : in) {
            boolean chStarter = isStarter(c.cp());
            if (composee == null) {
                if (!chStarter) {
                    out.add(c);
                    continue;
                }
                composee = c;
                continue;
            }
            if (lastCcc == null) {
                int r = compose(composee.cp(), c.cp());
                if (r >= 0) {
                    composee = new Change(r, composee.change() + c.change() - 1);
                    continue;
                }
                if (chStarter) {
                    out.add(composee);
                    composee = c;
                    continue;
                }
                buffer.add(c);
                lastCcc = c.cp();
            } else {
                // blocked when the last class >= this class
                if (!cccGreater(c.cp(), lastCcc)) {
                    if (chStarter) {
                        out.add(composee);
                        composee = c;
                        lastCcc = null;
                        out.addAll(buffer);
                        buffer.clear();
                        continue;
                    }
                    buffer.add(c);
                    lastCcc = c.cp();
                    continue;
                }
                int r = compose(composee.cp(), c.cp());
                if (r >= 0) {
                    composee = new Change(r, composee.change() + c.change() - 1);
                    continue;
                }
                buffer.add(c);
                lastCcc = c.cp();
            }
        }
        if (composee != null) {
            out.add(composee);
        }
        out.addAll(buffer);
        return out;
    }

    /** The primary composite of two characters, or -1. */
    private static int compose(int a, int b) {
        String pair = new String(Character.toChars(a)) + new String(Character.toChars(b));
        String c = Normalizer.normalize(pair, Normalizer.Form.NFC);
        return c.codePointCount(0, c.length()) == 1 ? c.codePointAt(0) : -1;
    }

    /** Whether a (decomposed) character has canonical combining class 0. */
    static boolean isStarter(int cp) {
        return !reorders(ACUTE, cp) && !reorders(cp, TILDE_OVERLAY);
    }

    /** Whether class(a) > class(b), both non-zero (b of class 0 counts as smallest). */
    private static boolean cccGreater(int a, int b) {
        return reorders(a, b);
    }

    /** Whether canonical ordering swaps {@code a b} (class(a) > class(b) > 0). */
    private static boolean reorders(int a, int b) {
        if (a == b) {
            return false;
        }
        String s = new String(Character.toChars(a)) + new String(Character.toChars(b));
        String n = Normalizer.normalize(s, Normalizer.Form.NFD);
        return n.equals(new String(Character.toChars(b)) + new String(Character.toChars(a)));
    }
}
