package io.cnnlens.index;

import java.lang.management.ManagementFactory;
import java.util.Locale;

/**
 * The two inner loops of the index (docs/index.md#distance-kernels): squared Euclidean distance and
 * dot product of a query against one stored vector of a flat array. Two implementations give the
 * same results up to float rounding: a scalar one with eight independent sums (the JIT keeps them
 * in registers and the loop is not bound by one add's latency), and one on the JDK's vector API
 * ({@code jdk.incubator.vector}, SIMD lanes: 16 floats with AVX-512), used when the JVM was started
 * with {@code --add-modules jdk.incubator.vector} and runs the C2 compiler (without C2 the vector API
 * is interpreted and far slower than the scalar loop). {@code -Dcnnlens.vector=scalar} forces the
 * scalar one.
 */
public abstract class VectorKernels {

    /** The system property that forces a kernel: {@code scalar} or {@code panama}. */
    public static final String PROPERTY = "cnnlens.vector";

    private static final VectorKernels INSTANCE = choose();

    /** The kernels this JVM uses. */
    public static VectorKernels get() {
        return INSTANCE;
    }

    /** The scalar kernels (always available). */
    public static VectorKernels scalar() {
        return Scalar.INSTANCE;
    }

    /** {@code scalar} or {@code panama (<lanes> floats)}. */
    public abstract String name();

    /** Σ (a[aOff + i] − b[bOff + i])² over i &lt; d. */
    public abstract float squaredDistance(float[] a, int aOff, float[] b, int bOff, int d);

    /** Σ a[aOff + i] · b[bOff + i] over i &lt; d. */
    public abstract float dot(float[] a, int aOff, float[] b, int bOff, int d);

    private static VectorKernels choose() {
        String forced = System.getProperty(PROPERTY, "").toLowerCase(Locale.ROOT);
        if (forced.equals("scalar")) {
            return Scalar.INSTANCE;
        }
        boolean module = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        if (forced.equals("panama") && !module) {
            throw new IllegalStateException("-D" + PROPERTY + "=panama needs the JVM option --add-modules jdk.incubator.vector");
        }
        if (module && (forced.equals("panama") || optimisingCompiler())) {
            try {
                return (VectorKernels) Class.forName("io.cnnlens.index.PanamaVectorKernels").getDeclaredConstructor().newInstance();
            } catch (ReflectiveOperationException | LinkageError e) {
                if (forced.equals("panama")) {
                    throw new IllegalStateException("the vector API kernels cannot be loaded: " + e, e);
                }
            }
        }
        return Scalar.INSTANCE;
    }

    /** Whether methods reach C2: not {@code -Xint}, not {@code -XX:TieredStopAtLevel} below 4. */
    private static boolean optimisingCompiler() {
        if (String.valueOf(System.getProperty("java.vm.info")).contains("interpreted")) {
            return false;
        }
        try {
            var bean = ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class);
            boolean tiered = Boolean.parseBoolean(bean.getVMOption("TieredCompilation").getValue());
            int stop = Integer.parseInt(bean.getVMOption("TieredStopAtLevel").getValue());
            return !tiered || stop >= 4;
        } catch (RuntimeException | LinkageError e) {
            return true; // not HotSpot: its JIT is assumed to compile the vector API
        }
    }

    /** Eight independent partial sums, added pairwise at the end. */
    static final class Scalar extends VectorKernels {
        static final Scalar INSTANCE = new Scalar();

        @Override
        public String name() {
            return "scalar";
        }

        @Override
        public float squaredDistance(float[] a, int aOff, float[] b, int bOff, int d) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            int i = 0;
            for (; i + 7 < d; i += 8) {
                float d0 = a[aOff + i] - b[bOff + i], d1 = a[aOff + i + 1] - b[bOff + i + 1];
                float d2 = a[aOff + i + 2] - b[bOff + i + 2], d3 = a[aOff + i + 3] - b[bOff + i + 3];
                float d4 = a[aOff + i + 4] - b[bOff + i + 4], d5 = a[aOff + i + 5] - b[bOff + i + 5];
                float d6 = a[aOff + i + 6] - b[bOff + i + 6], d7 = a[aOff + i + 7] - b[bOff + i + 7];
                s0 += d0 * d0;
                s1 += d1 * d1;
                s2 += d2 * d2;
                s3 += d3 * d3;
                s4 += d4 * d4;
                s5 += d5 * d5;
                s6 += d6 * d6;
                s7 += d7 * d7;
            }
            for (; i < d; i++) {
                float e = a[aOff + i] - b[bOff + i];
                s0 += e * e;
            }
            return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        }

        @Override
        public float dot(float[] a, int aOff, float[] b, int bOff, int d) {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
            int i = 0;
            for (; i + 7 < d; i += 8) {
                s0 += a[aOff + i] * b[bOff + i];
                s1 += a[aOff + i + 1] * b[bOff + i + 1];
                s2 += a[aOff + i + 2] * b[bOff + i + 2];
                s3 += a[aOff + i + 3] * b[bOff + i + 3];
                s4 += a[aOff + i + 4] * b[bOff + i + 4];
                s5 += a[aOff + i + 5] * b[bOff + i + 5];
                s6 += a[aOff + i + 6] * b[bOff + i + 6];
                s7 += a[aOff + i + 7] * b[bOff + i + 7];
            }
            for (; i < d; i++) {
                s0 += a[aOff + i] * b[bOff + i];
            }
            return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
        }
    }
}
