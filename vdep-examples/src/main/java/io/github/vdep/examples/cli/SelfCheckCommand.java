package io.github.vdep.examples.cli;

import io.github.vdep.core.autograd.Parameter;
import io.github.vdep.core.autograd.Tape;
import io.github.vdep.core.autograd.Tensor;
import io.github.vdep.core.backend.Backends;
import io.github.vdep.core.check.PrimitiveChecks;
import io.github.vdep.core.device.Device;
import io.github.vdep.core.llava.LlavaInputs;
import io.github.vdep.core.llava.LlavaModel;
import io.github.vdep.core.llava.LlavaOutput;
import io.github.vdep.core.ops.F;
import io.github.vdep.examples.demo.DemoDataset;
import io.github.vdep.examples.demo.DemoModel;
import io.github.vdep.models.hf.LlavaCheckpoint;
import io.github.vdep.models.hf.SafeTensorsFile;
import io.github.vdep.train.data.Batch;
import io.github.vdep.train.data.DataPosition;
import io.github.vdep.train.optim.LrSchedule;
import io.github.vdep.train.schedule.AlphaSchedule;
import io.github.vdep.train.trainer.BatchSource;
import io.github.vdep.train.trainer.Stage;
import io.github.vdep.train.trainer.StepMetrics;
import io.github.vdep.train.trainer.TrainConfig;
import io.github.vdep.train.trainer.Trainer;
import io.github.vdep.train.trainer.TrainingListener;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code vdep selfcheck --device D}: checks that vdep computes correctly on a device, using only
 * what the distribution carries (the PyTorch golden fixtures are resources of the jar):
 * <ol>
 *   <li>every primitive, forward and backward, against the reference path on random inputs with
 *       odd sizes ({@link PrimitiveChecks}; 1e-5 relative);</li>
 *   <li>the tiny LLaVA's forward and backward against the committed PyTorch golden
 *       (scripts/golden/make_llava_golden.py; 1e-4 relative, as LlavaGoldenTest);</li>
 *   <li>two training steps with SGD and with AdamW against PyTorch
 *       (scripts/golden/make_train_golden.py; 1e-4, as TrainStepParityTest);</li>
 *   <li>{@code vdep train} for 6 steps against 3 steps then {@code --resume} to 6: the same weights.</li>
 * </ol>
 * It prints one table and exits 1 if anything falls short (2 if the device cannot be used).
 */
@Command(name = "selfcheck", mixinStandardHelpOptions = true,
        description = "Check every primitive, the tiny LLaVA and training steps on a device against the CPU path and PyTorch references; exit 1 on any failure.")
public final class SelfCheckCommand implements Callable<Integer> {
    static final double GOLDEN_TOLERANCE = 1e-4;
    /** Resumed and uninterrupted runs should agree to the last bit; this allows for nothing but float noise. */
    static final double RESUME_TOLERANCE = 1e-6;

    @Mixin
    DeviceOption device;

    @Option(names = "--quick", description = "only the primitives and the golden forward/backward (no training runs)")
    boolean quick;

    @Option(names = "--tf32", description = "TF32 matrix products on CUDA (off by default; the tolerances assume it off)")
    boolean tf32;

    /** One row of the summary. */
    record Row(String group, String check, double error, double tolerance, String detail) {
        boolean passed() {
            return error <= tolerance;
        }
    }

    @Override
    public Integer call() throws IOException {
        Device dev = device.device();
        if (tf32 && !dev.isCpu()) {
            io.github.vdep.core.cuda.CudaRuntime.setTf32(true);
        }
        PrintStream out = System.out;
        out.println("vdep selfcheck on " + Backends.forDevice(dev).description());
        out.println("primitives against " + PrimitiveChecks.reference(dev) + "; the model and training against PyTorch references");
        List<Row> rows = run(dev, quick, out);
        Table t = Table.of("group", "check", "max rel. error", "tolerance", "result", "worst");
        int failed = 0;
        for (Row r : rows) {
            t.row(r.group(), r.check(), fmt(r.error()), fmt(r.tolerance()), r.passed() ? "ok" : "FAIL", r.detail());
            failed += r.passed() ? 0 : 1;
        }
        t.print(out);
        out.printf("%d checks on %s: %s%n", rows.size(), dev, failed == 0 ? "all passed" : failed + " FAILED");
        return failed == 0 ? 0 : 1;
    }

    /** All checks on {@code dev}; progress lines go to {@code log}. */
    static List<Row> run(Device dev, boolean quick, PrintStream log) throws IOException {
        List<Row> rows = new ArrayList<>();
        log.println("[1/4] primitives ...");
        for (PrimitiveChecks.Result r : PrimitiveChecks.run(dev)) {
            rows.add(new Row("primitive", r.name(), r.error(), r.tolerance(), r.worst()));
        }
        Path fixtures = Files.createTempDirectory("vdep-selfcheck");
        try {
            Path model = extract(fixtures, "llava-tiny", "config.json", "model.safetensors", "inputs.safetensors", "outputs.safetensors");
            Path steps = extract(fixtures, "train-steps", "expected.safetensors");
            log.println("[2/4] tiny LLaVA against PyTorch ...");
            rows.addAll(golden(dev, model));
            if (!quick) {
                log.println("[3/4] two training steps against PyTorch ...");
                for (String optimizer : List.of("sgd", "adamw")) {
                    rows.addAll(trainSteps(dev, model, steps.resolve("expected.safetensors"), optimizer, fixtures));
                }
                log.println("[4/4] vdep train 6 steps against 3 + --resume 3 ...");
                rows.add(resume(dev, fixtures));
            }
        } finally {
            deleteTree(fixtures);
        }
        return rows;
    }

    private static String fmt(double v) {
        return Double.isInfinite(v) ? "inf" : String.format(Locale.ROOT, "%.2e", v);
    }

    // ---------------------------------------------------------------- fixtures

    /** Copies /golden/{name}/{files} out of the jar into dir/name. */
    static Path extract(Path dir, String name, String... files) throws IOException {
        Path d = Files.createDirectories(dir.resolve(name));
        for (String f : files) {
            String res = "/golden/" + name + "/" + f;
            try (InputStream in = SelfCheckCommand.class.getResourceAsStream(res)) {
                if (in == null) {
                    throw new IOException("the golden fixture " + res + " is not in this build of vdep");
                }
                Files.copy(in, d.resolve(f));
            }
        }
        return d;
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory: nothing to do
        }
    }

    // ---------------------------------------------------------------- the golden model

    private static INDArray host(Tensor t) {
        return t.onCpu() ? t.value() : t.to(Device.CPU).value();
    }

    private static INDArray hostGrad(Parameter p) {
        if (p.onCpu()) {
            return p.grad();
        }
        return p.deviceGrad() == null ? null : Backends.device(p.device()).download(p.deviceGrad());
    }

    /** max |got - ref| / max |ref| as LlavaGoldenTest measures it (0 where the absolute error is below 1e-7). */
    static double relative(INDArray ref, INDArray got) {
        if (got == null || !Arrays.equals(ref.shape(), got.shape())) {
            return Double.POSITIVE_INFINITY;
        }
        INDArray r = ref.castTo(DataType.DOUBLE);
        INDArray g = got.castTo(DataType.DOUBLE);
        if (!Double.isFinite(g.sumNumber().doubleValue())) {
            return Double.POSITIVE_INFINITY;
        }
        double scale = r.amaxNumber().doubleValue();
        double err = r.sub(g).amaxNumber().doubleValue();
        if (err < 1e-7) {
            return 0;
        }
        return scale == 0 ? err : err / scale;
    }

    private static double relative(double ref, double got) {
        return Double.isFinite(got) ? Math.abs(got - ref) / Math.abs(ref) : Double.POSITIVE_INFINITY;
    }

    static List<Row> golden(Device dev, Path dir) {
        List<Row> rows = new ArrayList<>();
        try (SafeTensorsFile inputs = SafeTensorsFile.open(dir.resolve("inputs.safetensors"));
             SafeTensorsFile expected = SafeTensorsFile.open(dir.resolve("outputs.safetensors"))) {
            LlavaModel model = LlavaCheckpoint.load(dir).model();
            model.to(dev);
            LlavaInputs batch = new LlavaInputs(inputs.load("input_ids"), inputs.load("attention_mask"), inputs.load("pixel_values"));
            try {
                LlavaOutput out = Tape.noGrad(() -> model.forward(batch));
                for (String[] what : new String[][] {{"logits", "logits"}, {"hidden_states", "hidden"}, {"image_features", "features"}}) {
                    Tensor t = switch (what[1]) {
                        case "logits" -> out.logits();
                        case "hidden" -> out.hidden();
                        default -> out.imageFeatures();
                    };
                    rows.add(new Row("llava-tiny", "forward " + what[0], relative(expected.load(what[0]), host(t)), GOLDEN_TOLERANCE, ""));
                }
                Tensor vision = Tape.noGrad(() -> model.visionTower().encode(inputs.load("pixel_values")));
                rows.add(new Row("llava-tiny", "forward vision_features", relative(expected.load("vision_features"), host(vision)), GOLDEN_TOLERANCE, ""));
            } catch (RuntimeException e) {
                rows.add(failure("llava-tiny", "forward", e));
            }
            double alpha = inputs.load("alpha").getDouble(0);
            long[] labels = inputs.load("labels").dup('c').reshape(-1).toLongVector();
            try {
                model.zeroGrad();
                double[] losses;
                try (Tape tape = Tape.record()) {
                    LlavaOutput out = model.forward(batch);
                    Tensor text = textLoss(out, labels);
                    Tensor image = imageLoss(out);
                    Tensor loss = F.add(text, F.scale(image, alpha));
                    losses = new double[] {text.item(), image.item(), loss.item()};
                    tape.backward(loss);
                }
                double lossErr = Math.max(relative(expected.load("text_loss").getDouble(0), losses[0]),
                        Math.max(relative(expected.load("image_loss").getDouble(0), losses[1]), relative(expected.load("loss").getDouble(0), losses[2])));
                rows.add(new Row("llava-tiny", "VDEP loss (text, image, total)", lossErr, GOLDEN_TOLERANCE, ""));
                rows.add(gradients(model, expected, "grad.", "VDEP loss gradients"));
            } catch (RuntimeException e) {
                rows.add(failure("llava-tiny", "VDEP loss and gradients", e));
            }
            try {
                model.zeroGrad();
                try (Tape tape = Tape.record()) {
                    tape.backward(textLoss(model.forward(batch), labels));
                }
                rows.add(gradients(model, expected, "llava_grad.", "text-only gradients"));
            } catch (RuntimeException e) {
                rows.add(failure("llava-tiny", "text-only gradients", e));
            }
            model.zeroGrad();
        } catch (RuntimeException e) {
            rows.add(failure("llava-tiny", "loading the golden fixture", e));
        }
        return rows;
    }

    private static Row gradients(LlavaModel model, SafeTensorsFile expected, String prefix, String name) {
        double worst = 0;
        String which = "";
        int compared = 0;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            INDArray ref = expected.load(prefix + e.getKey());
            INDArray got = hostGrad(e.getValue());
            double err;
            if (got == null) {
                // never reached (layers after the selected vision feature layer): the reference must be zero
                err = ref.amaxNumber().doubleValue() < 1e-7 ? 0 : Double.POSITIVE_INFINITY;
            } else {
                err = relative(ref, got);
            }
            if (err > worst || Double.isNaN(err)) {
                worst = Double.isNaN(err) ? Double.POSITIVE_INFINITY : err;
                which = e.getKey();
            }
            compared++;
        }
        return new Row("llava-tiny", name + " (" + compared + " parameters)", worst, GOLDEN_TOLERANCE, which);
    }

    /** Causal LM cross-entropy: logits at t against labels at t+1 (as LlavaGoldenTest). */
    private static Tensor textLoss(LlavaOutput out, long[] labels) {
        int t = (int) out.logits().size(1);
        int[] targets = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            targets[i] = (i % t == t - 1) ? F.IGNORE_INDEX : (int) labels[i + 1];
        }
        return F.crossEntropy(out.logits(), targets);
    }

    /** Next-embedding MSE: hidden state at p+i-2 predicts the (detached) image feature v_i. */
    private static Tensor imageLoss(LlavaOutput out) {
        int[] rows = Arrays.stream(out.imageRows()).flatMapToInt(Arrays::stream).map(r -> r - 1).toArray();
        long h = out.hidden().size(2);
        Tensor pred = F.gatherRows(F.reshape(out.hidden(), -1, h), rows);
        Tensor target = F.detach(F.reshape(out.imageFeatures(), -1, h));
        return F.mse(pred, target);
    }

    private static Row failure(String group, String check, Throwable e) {
        String m = e.getClass().getSimpleName() + ": " + e.getMessage();
        int nl = m.indexOf('\n');
        return new Row(group, check, Double.POSITIVE_INFINITY, GOLDEN_TOLERANCE, "failed: " + (nl < 0 ? m : m.substring(0, nl)));
    }

    // ---------------------------------------------------------------- training steps

    /** Two steps (VDEP then LLaVA mode, finetune stage, clipping at 1.0) as TrainStepParityTest. */
    static List<Row> trainSteps(Device dev, Path modelDir, Path expectedFile, String optimizer, Path work) {
        String group = "train " + optimizer;
        List<Row> rows = new ArrayList<>();
        try (SafeTensorsFile inputs = SafeTensorsFile.open(modelDir.resolve("inputs.safetensors"));
             SafeTensorsFile ref = SafeTensorsFile.open(expectedFile)) {
            LlavaModel model = LlavaCheckpoint.load(modelDir).model();
            TrainConfig.Builder b = TrainConfig.defaults(Stage.FINETUNE, 2, Files.createTempDirectory(work, "train-" + optimizer)).toBuilder();
            b.optimizer = optimizer;
            b.lr = optimizer.equals("sgd") ? 0.05 : 1e-3;
            b.weightDecay = optimizer.equals("sgd") ? 0.0 : 0.1;
            b.lrSchedule = LrSchedule.Kind.CONSTANT;
            b.warmupRatio = 0;
            b.gradClip = 1.0;
            b.batchSize = 2;
            b.alpha = AlphaSchedule.constant(inputs.load("alpha").getDouble(0));
            b.device = dev;
            Batch batch = new Batch(inputs.load("input_ids"), inputs.load("attention_mask"), inputs.load("labels"), inputs.load("pixel_values"),
                    new int[] {0, 1}, List.of("a", "b"), new DataPosition(0, 0));
            List<StepMetrics> steps = new ArrayList<>();
            new Trainer(model, b.build(), repeating(batch), new TrainingListener() {
                @Override
                public void onStep(StepMetrics m) {
                    steps.add(m);
                }
            }).run();
            INDArray loss = ref.load(optimizer + ".loss");
            INDArray text = ref.load(optimizer + ".text_loss");
            INDArray norm = ref.load(optimizer + ".grad_norm");
            double lossErr = 0;
            for (int i = 0; i < 2; i++) {
                lossErr = Math.max(lossErr, relative(loss.getDouble(i), steps.get(i).loss()));
                lossErr = Math.max(lossErr, relative(text.getDouble(i), steps.get(i).textLoss()));
            }
            lossErr = Math.max(lossErr, relative(ref.load(optimizer + ".image_loss").getDouble(0), steps.get(0).imageLoss()));
            rows.add(new Row(group, "losses of 2 steps", lossErr, GOLDEN_TOLERANCE, ""));
            double normErr = Math.max(relative(norm.getDouble(0), steps.get(0).gradNorm()), relative(norm.getDouble(1), steps.get(1).gradNorm()));
            rows.add(new Row(group, "gradient norms of 2 steps", normErr, GOLDEN_TOLERANCE, ""));
            double worst = 0;
            String which = "";
            int compared = 0;
            for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
                if (!e.getValue().trainable()) {
                    continue;
                }
                INDArray expected = ref.load(optimizer + "." + e.getKey());
                INDArray got = host(e.getValue());
                // relative L2 error (TrainStepParityTest's measure; AdamW's first steps move weights by about lr * sign(g))
                double rel = expected.sub(got).norm2Number().doubleValue() / expected.norm2Number().doubleValue();
                if (!(rel <= worst)) {
                    worst = Double.isNaN(rel) ? Double.POSITIVE_INFINITY : rel;
                    which = e.getKey();
                }
                compared++;
            }
            rows.add(new Row(group, "weights after 2 steps (" + compared + " parameters, relative L2)", worst, GOLDEN_TOLERANCE, which));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            rows.add(failure(group, "two training steps", e));
        }
        return rows;
    }

    private static BatchSource repeating(Batch batch) {
        return from -> new Iterator<>() {
            long consumed = from.consumed();

            @Override
            public boolean hasNext() {
                return true;
            }

            @Override
            public Batch next() {
                consumed += 2;
                return new Batch(batch.inputIds(), batch.attentionMask(), batch.labels(), batch.pixelValues(), batch.imageSample(),
                        batch.sampleIds(), new DataPosition(0, consumed));
            }
        };
    }

    // ---------------------------------------------------------------- kill and resume

    /**
     * {@code vdep train --device D} for 6 steps, against 3 steps then {@code --resume} to 6, on
     * the demo's generated data and tiny model (a constant schedule makes the 3-step run the
     * first half of the 6-step one).
     */
    static Row resume(Device dev, Path work) {
        String name = "train 6 steps = 3 steps + --resume to 6";
        PrintStream savedOut = System.out, savedErr = System.err;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        try {
            DemoDataset.Files data = DemoDataset.generate(work.resolve("data"), 24, 4, DemoModel.IMAGE_SIZE, 3);
            Path init = DemoModel.create(work.resolve("init"), data.tokenizer(), data.vocabSize(), 3);
            Path straight = work.resolve("straight"), resumed = work.resolve("resumed");
            PrintStream quiet = new PrintStream(log, true);
            System.setOut(quiet);
            System.setErr(quiet);
            int a = VdepCli.execute(trainArgs(dev, init, data, straight, "6"));
            int b = a == 0 ? VdepCli.execute(trainArgs(dev, init, data, resumed, "3")) : a;
            int c = b == 0 ? VdepCli.execute(concat(trainArgs(dev, init, data, resumed, "6"), "--resume")) : b;
            System.setOut(savedOut);
            System.setErr(savedErr);
            if (c != 0) {
                return new Row("train", name, Double.POSITIVE_INFINITY, RESUME_TOLERANCE, "vdep train exited " + c + ": " + lastLine(log.toString()));
            }
            Map<String, Parameter> x = LlavaCheckpoint.load(straight.resolve("final")).model().namedParameters();
            Map<String, Parameter> y = LlavaCheckpoint.load(resumed.resolve("final")).model().namedParameters();
            double worst = 0;
            String which = "";
            for (Map.Entry<String, Parameter> e : x.entrySet()) {
                double err = relative(e.getValue().value(), y.get(e.getKey()).value());
                double exact = e.getValue().value().castTo(DataType.DOUBLE).sub(y.get(e.getKey()).value().castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
                double scale = e.getValue().value().amaxNumber().doubleValue();
                err = Math.max(err, scale == 0 ? exact : exact / scale); // relative() forgives below 1e-7: not here
                if (err > worst) {
                    worst = err;
                    which = e.getKey();
                }
            }
            return new Row("train", name, worst, RESUME_TOLERANCE, worst == 0 ? "bit-identical" : which);
        } catch (IOException | RuntimeException e) {
            return failure("train", name, e);
        } finally {
            System.setOut(savedOut);
            System.setErr(savedErr);
        }
    }

    private static String[] trainArgs(Device dev, Path init, DemoDataset.Files data, Path out, String steps) {
        return new String[] {"train", "--model", init.toString(), "--data", data.train().toString(), "--images", data.dir().toString(), "--template",
            "vicuna_v1", "--stage", "finetune", "--lr", "3e-3", "--batch-size", "4", "--steps", steps, "--out", out.toString(), "--seed", "5",
            "--warmup-ratio", "0", "--lr-schedule", "constant", "--save-every", "3", "--device", dev.toString()};
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static String lastLine(String s) {
        String[] lines = s.strip().split("\n");
        return lines.length == 0 ? "" : lines[lines.length - 1];
    }
}
