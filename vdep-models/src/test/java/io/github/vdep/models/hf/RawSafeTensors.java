package io.github.vdep.models.hf;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds safetensors bytes by hand, so tests do not depend on {@link SafeTensorsWriter}. */
final class RawSafeTensors {

    private RawSafeTensors() {
    }

    /** Header length prefix, header JSON, data; the declared length is the real one. */
    static byte[] build(String headerJson, byte[] data) {
        byte[] header = headerJson.getBytes(StandardCharsets.UTF_8);
        return build(header.length, header, data);
    }

    /** As {@link #build(String, byte[])} but with any declared header length. */
    static byte[] build(long declaredHeaderLength, byte[] header, byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(declaredHeaderLength).put(header).put(data);
        return b.array();
    }

    static Path write(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes);
        return file;
    }

    /** A little-endian buffer for assembling the data section. */
    static ByteBuffer data(int bytes) {
        return ByteBuffer.allocate(bytes).order(ByteOrder.LITTLE_ENDIAN);
    }
}
