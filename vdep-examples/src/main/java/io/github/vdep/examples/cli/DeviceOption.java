package io.github.vdep.examples.cli;

import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.device.Device;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The {@code --device cpu|cuda|cuda:N} option every command has. {@link #device()} checks that the
 * device can be used before any work starts: if not, the command ends with one line saying why
 * and exit status 2 ({@link ErrorHandler}); vdep never falls back to the CPU.
 */
final class DeviceOption {
    @Option(names = "--device", defaultValue = "cpu", converter = DeviceConverter.class, paramLabel = "DEVICE",
            description = "cpu, cuda (GPU 0) or cuda:N (default ${DEFAULT-VALUE}); see `vdep info`")
    Device device;

    /** The chosen device, checked to be usable (opening its backend). */
    Device device() {
        Backends.require(device);
        return device;
    }

    /** Parses the option's value; a bad value is a usage error naming the accepted forms. */
    static final class DeviceConverter implements CommandLine.ITypeConverter<Device> {
        @Override
        public Device convert(String value) {
            try {
                return Device.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }
}
