// Single-file Java program for tests/bench/photo-features.sh: the model's forward-only throughput in
// cnnlens (DJL, PyTorch engine), configured as the features job's tasks run it: <tasks> threads, each
// with its own ModelForward and <intra-op> PyTorch threads, batches of <batch> seeded random images,
// the taps the job asks for (features, logits, conv spatial max). 2 warm-up batches per thread, then
// about <seconds> of batches. Usage (the project's classpath):
//   java -cp <classpath> tests/bench/ForwardOnly.java <spec.properties> <tasks> <intra-op> <batch> <seconds>
// Prints "forward: N images, S s, R images/s".
import ai.djl.Device;
import io.cnnlens.model.LoadedModel;
import io.cnnlens.model.ModelForward;
import io.cnnlens.model.ModelSpec;
import io.cnnlens.model.TorchRuntime;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;

public class ForwardOnly {
    public static void main(String[] a) throws Exception {
        ModelSpec spec = ModelSpec.load(Path.of(a[0]));
        int tasks = Integer.parseInt(a[1]);
        int intraOp = Integer.parseInt(a[2]);
        int batch = Integer.parseInt(a[3]);
        double seconds = Double.parseDouble(a[4]);
        int per = spec.channels() * spec.height() * spec.width();
        List<String> taps = List.of(spec.featuresTap(), spec.logitsTap());
        List<String> conv = spec.convTap().isEmpty() ? List.of() : List.of(spec.convTap());
        AtomicLong images = new AtomicLong();
        try (LoadedModel model = LoadedModel.load(spec, Device.cpu(), false)) {
            long[] start = new long[1];
            Thread[] threads = new Thread[tasks];
            java.util.concurrent.CyclicBarrier ready = new java.util.concurrent.CyclicBarrier(tasks, () -> start[0] = System.nanoTime());
            for (int t = 0; t < tasks; t++) {
                int seed = t;
                threads[t] = new Thread(() -> {
                    TorchRuntime.setIntraOpThreads(intraOp);
                    float[] x = new float[batch * per];
                    Random r = new Random(seed);
                    for (int i = 0; i < x.length; i++) {
                        x[i] = (float) r.nextGaussian();
                    }
                    try (ModelForward f = model.newForward()) {
                        for (int w = 0; w < 2; w++) {
                            f.run(x, batch, taps, conv);
                        }
                        ready.await();
                        while ((System.nanoTime() - start[0]) / 1e9 < seconds) {
                            f.run(x, batch, taps, conv);
                            images.addAndGet(batch);
                        }
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                threads[t].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            double s = (System.nanoTime() - start[0]) / 1e9;
            System.out.println(String.format(Locale.ROOT, "forward: %d images, %.1f s, %.1f images/s", images.get(), s, images.get() / s));
        }
    }
}
