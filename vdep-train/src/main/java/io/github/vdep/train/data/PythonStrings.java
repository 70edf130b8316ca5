package io.github.vdep.train.data;

/** Python's {@code str} whitespace semantics, for reproducing LLaVA's text handling. */
final class PythonStrings {

    private PythonStrings() {
    }

    /** Python's {@code str.isspace} for one UTF-16 unit (all Python whitespace is in the BMP). */
    static boolean isSpace(char c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == '\u0085';
    }

    /** Python's {@code str.strip()}. */
    static String strip(String s) {
        int a = 0;
        int b = s.length();
        while (a < b && isSpace(s.charAt(a))) {
            a++;
        }
        while (b > a && isSpace(s.charAt(b - 1))) {
            b--;
        }
        return s.substring(a, b);
    }

    /** Number of non-overlapping occurrences of {@code needle}, as Python's {@code str.count}. */
    static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + needle.length())) {
            n++;
        }
        return n;
    }
}
