package io.github.vdep.examples.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code vdep} command line: training, the demo, evaluation, generation and benchmarks. */
@Command(name = "vdep", mixinStandardHelpOptions = true, version = "vdep 0.1.0",
        description = "VDEP (Vision Dynamic Embedding-Guided Pretraining) for LLaVA-style models on the JVM.",
        subcommands = {DemoCommand.class, TrainCommand.class, AblateCommand.class, GenerateCommand.class, EvalCommand.class, AttentionMapCommand.class, BenchCommand.class,
                InfoCommand.class, SelfCheckCommand.class, CommandLine.HelpCommand.class})
public final class VdepCli implements Runnable {

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    /** Runs a command line and returns its exit code (tests call this). */
    public static int execute(String... args) {
        CommandLine cli = new CommandLine(new VdepCli());
        cli.setExecutionExceptionHandler(new ErrorHandler());
        return cli.execute(args);
    }

    @Override
    public void run() {
        new CommandLine(this).usage(System.out);
    }
}
