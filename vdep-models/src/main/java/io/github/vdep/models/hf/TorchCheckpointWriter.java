package io.github.vdep.models.hf;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Writes a dict of float32 tensors as {@code torch.save} does (zip format, pickle protocol 2):
 * an {@code OrderedDict} whose values are rebuilt by {@code torch._utils._rebuild_tensor_v2} from
 * one {@code FloatStorage} each. {@code torch.load} reads the result, and so does
 * {@link TorchCheckpointFile}. Used for LLaVA's {@code mm_projector.bin}. The file is written to a
 * temporary name and moved into place.
 */
public final class TorchCheckpointWriter {

    private static final String ARCHIVE = "archive/";

    private TorchCheckpointWriter() {
    }

    /**
     * Writes the tensors, in the map's iteration order, as float32.
     *
     * @param file the destination (replaced atomically)
     * @param tensors names and values; any floating-point type is converted to float32
     * @throws IOException if writing fails
     */
    public static void write(Path file, Map<String, INDArray> tensors) throws IOException {
        ByteArrayOutputStream pickle = new ByteArrayOutputStream();
        pickle.write(new byte[] {(byte) 0x80, 2});
        global(pickle, "collections", "OrderedDict");
        pickle.write(')');
        pickle.write('R');
        pickle.write('(');
        int key = 0;
        for (Map.Entry<String, INDArray> e : tensors.entrySet()) {
            INDArray t = e.getValue();
            unicode(pickle, e.getKey());
            global(pickle, "torch._utils", "_rebuild_tensor_v2");
            pickle.write('(');
            pickle.write('(');
            unicode(pickle, "storage");
            global(pickle, "torch", "FloatStorage");
            unicode(pickle, Integer.toString(key++));
            unicode(pickle, "cpu");
            integer(pickle, t.length());
            pickle.write('t');
            pickle.write('Q');
            integer(pickle, 0);
            tuple(pickle, t.shape());
            tuple(pickle, org.nd4j.linalg.factory.Nd4j.getStrides(t.shape(), 'c'));
            pickle.write(0x89); // requires_grad False
            global(pickle, "collections", "OrderedDict");
            pickle.write(')');
            pickle.write('R');
            pickle.write('t');
            pickle.write('R');
        }
        pickle.write('u');
        pickle.write('.');

        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(tmp))) {
            stored(zip, ARCHIVE + "data.pkl", pickle.toByteArray());
            stored(zip, ARCHIVE + "byteorder", "little".getBytes(StandardCharsets.US_ASCII));
            key = 0;
            for (INDArray t : tensors.values()) {
                float[] values = (t.dataType() == DataType.FLOAT ? t : t.castTo(DataType.FLOAT)).dup('c').data().asFloat();
                ByteBuffer bytes = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                bytes.asFloatBuffer().put(values);
                stored(zip, ARCHIVE + "data/" + key++, bytes.array());
            }
            stored(zip, ARCHIVE + "version", "3\n".getBytes(StandardCharsets.US_ASCII));
        }
        Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static void stored(ZipOutputStream zip, String name, byte[] data) throws IOException {
        ZipEntry entry = new ZipEntry(name);
        entry.setMethod(ZipEntry.STORED); // torch.save stores entries uncompressed
        entry.setSize(data.length);
        entry.setCompressedSize(data.length);
        CRC32 crc = new CRC32();
        crc.update(data);
        entry.setCrc(crc.getValue());
        entry.setTime(315532800000L); // 1980-01-01, the zip epoch: reproducible files
        zip.putNextEntry(entry);
        zip.write(data);
        zip.closeEntry();
    }

    private static void global(OutputStream out, String module, String name) throws IOException {
        out.write('c');
        out.write((module + "\n" + name + "\n").getBytes(StandardCharsets.US_ASCII));
    }

    private static void unicode(OutputStream out, String s) throws IOException {
        byte[] b = s.getBytes(StandardCharsets.UTF_8);
        out.write('X');
        out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(b.length).array());
        out.write(b);
    }

    private static void integer(OutputStream out, long v) throws IOException {
        if (v >= 0 && v < (1L << 31)) {
            out.write('J');
            out.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array());
        } else {
            byte[] be = BigInteger.valueOf(v).toByteArray();
            out.write(0x8a); // LONG1: little-endian two's complement
            out.write(be.length);
            for (int i = be.length - 1; i >= 0; i--) {
                out.write(be[i]);
            }
        }
    }

    private static void tuple(OutputStream out, long[] values) throws IOException {
        out.write('(');
        for (long v : values) {
            integer(out, v);
        }
        out.write('t');
    }
}
