package io.github.vdep.train.data.tokenizerjson;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** UTF-8 decoding as Rust's {@code String::from_utf8} (strict) and {@code from_utf8_lossy}. */
final class Utf8 {

    private Utf8() {
    }

    /** @return the text, or null if the bytes are not valid UTF-8 */
    static String decodeStrict(byte[] b) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** @return the text with each maximal invalid subsequence replaced by U+FFFD */
    static String decodeLossy(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
