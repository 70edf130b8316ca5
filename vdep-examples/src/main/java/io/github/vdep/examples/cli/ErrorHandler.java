package io.github.vdep.examples.cli;

import io.github.vdep.core.device.DeviceUnavailableException;
import io.github.vdep.core.device.PrecisionUnsupportedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

/**
 * Turns failures into one clear line on stderr (the stack trace goes to the debug log only), so a
 * bad file or option never ends in a wall of ND4J frames.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ErrorHandler.class);

    @Override
    public int handleExecutionException(Exception e, CommandLine cmd, CommandLine.ParseResult parsed) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        cmd.getErr().println("vdep " + cmd.getCommandName() + ": error: " + message);
        LOG.debug("failure", e);
        // a device (or precision) that cannot be used is a usage problem of this machine, as a bad option is
        return e instanceof DeviceUnavailableException || e instanceof PrecisionUnsupportedException ? 2 : 1;
    }
}
