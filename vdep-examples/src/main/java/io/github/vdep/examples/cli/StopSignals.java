package io.github.vdep.examples.cli;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT (what Slurm, Kubernetes and Ctrl-C send) as a request to stop: the first one
 * sets {@link #requested()}, so that training finishes its current optimizer step, writes a
 * checkpoint and exits with {@link TrainCommand#EXIT_STOPPED}; a second one exits at once. Closing
 * restores the handlers that were there before (the demo runs training in-process).
 */
final class StopSignals implements AutoCloseable {
    private final Map<Signal, SignalHandler> previous = new LinkedHashMap<>();
    private final PrintStream console;
    private volatile String received;

    private StopSignals(PrintStream console) {
        this.console = console;
    }

    /** Installs the handlers for TERM and INT (a signal the platform lacks is left alone). */
    static StopSignals install(PrintStream console) {
        StopSignals s = new StopSignals(console);
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal signal = new Signal(name);
                s.previous.put(signal, Signal.handle(signal, s::handle));
            } catch (IllegalArgumentException e) {
                // not available here (or reserved by the JVM's options); the default handling stays
            }
        }
        return s;
    }

    private void handle(Signal signal) {
        if (received != null) {
            console.println("vdep train: second SIG" + signal.getName() + "; exiting now without a new checkpoint");
            Runtime.getRuntime().halt(128 + signal.getNumber());
        }
        received = "SIG" + signal.getName();
        console.println("vdep train: " + received + " received; finishing the current step, writing a checkpoint, then exiting with status "
                + TrainCommand.EXIT_STOPPED + " (send it again to exit at once)");
    }

    /** @return whether a stop was requested */
    boolean requested() {
        return received != null;
    }

    /** @return the signal received, e.g. {@code SIGTERM}, or null */
    String received() {
        return received;
    }

    @Override
    public void close() {
        previous.forEach(Signal::handle);
    }
}
