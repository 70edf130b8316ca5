package io.github.vdep.examples.cli;

import io.github.vdep.core.device.Device;
import io.github.vdep.core.device.Precision;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The {@code --precision fp32|bf16} option of train, eval, generate and bench. A precision the
 * device cannot run ends the command with one line and exit status 2 ({@link ErrorHandler}),
 * never a silent FP32 run.
 */
final class PrecisionOption {
    @Option(names = "--precision", converter = PrecisionConverter.class, paramLabel = "PRECISION",
            description = "fp32 or bf16 (default fp32 on every device for now: bf16 is refused on the CPU, and on CUDA until its BF16"
                    + " kernels exist; see docs/performance.md)")
    Precision precision;

    /** The precision asked for, or the device's default, checked to run on {@code device}. */
    Precision precision(Device device) {
        Precision p = precision != null ? precision : Precision.defaultFor(device);
        p.requireSupported(device);
        return p;
    }

    /** Parses the option's value; a bad value is a usage error naming the accepted values. */
    static final class PrecisionConverter implements CommandLine.ITypeConverter<Precision> {
        @Override
        public Precision convert(String value) {
            try {
                return Precision.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
