package io.github.vdep.train.data.tokenizerjson;

import java.nio.charset.StandardCharsets;

/** GPT-2's byte-to-character table: each of the 256 bytes as a printable character. */
final class ByteLevelAlphabet {

    private static final int[] BYTE_TO_CHAR = new int[256];
    private static final int[] CHAR_TO_BYTE = new int[324];

    static {
        java.util.Arrays.fill(CHAR_TO_BYTE, -1);
        int n = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            int c = printable ? b : 256 + n++;
            BYTE_TO_CHAR[b] = c;
            CHAR_TO_BYTE[c] = b;
        }
    }

    private ByteLevelAlphabet() {
    }

    /** @return the character standing for byte {@code b} (0..255) */
    static int charOf(int b) {
        return BYTE_TO_CHAR[b];
    }

    /** @return the byte a character stands for, or -1 */
    static int byteOf(int c) {
        return c >= 0 && c < CHAR_TO_BYTE.length ? CHAR_TO_BYTE[c] : -1;
    }

    /** Replaces each character by the characters of its UTF-8 bytes, all aligned to it. */
    static void toByteChars(NormalizedText t) {
        String s = t.text();
        byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
        int[] cps = new int[bytes.length];
        int[] changes = new int[bytes.length];
        int n = 0;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            i += Character.charCount(cp);
            int len = cp < 0x80 || Character.isSurrogate((char) cp) ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
            for (int k = 0; k < len; k++) {
                cps[n] = BYTE_TO_CHAR[bytes[n] & 0xff];
                changes[n] = k > 0 ? 1 : 0;
                n++;
            }
        }
        t.transform(cps, changes, n, 0);
    }
}
