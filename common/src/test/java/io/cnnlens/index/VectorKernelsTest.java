package io.cnnlens.index;

import io.github.jbellis.jvector.vector.VectorSimilarityFunction;
import io.github.jbellis.jvector.vector.VectorizationProvider;
import io.github.jbellis.jvector.vector.types.VectorTypeSupport;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The distance kernels against double precision, and the shard's scores against JVector's own definitions. */
class VectorKernelsTest {

    private static final VectorTypeSupport VTS = VectorizationProvider.getInstance().getVectorTypeSupport();

    @Test
    void theBuildsTestJvmUsesTheVectorApiKernels() {
        // the build starts test JVMs with --add-modules jdk.incubator.vector and the full JIT (pom.xml)
        assertTrue(VectorKernels.get().name().startsWith("panama"), VectorKernels.get().name());
    }

    @Test
    void bothKernelsAgreeWithDoublePrecisionAtEveryLengthAndOffset() {
        Random r = new Random(7);
        VectorKernels[] kernels = {VectorKernels.scalar(), new PanamaVectorKernels()};
        for (int d : new int[] {1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 128, 784}) {
            float[] a = new float[d + 5];
            float[] b = new float[2 * d + 3];
            for (int i = 0; i < a.length; i++) {
                a[i] = (float) r.nextGaussian();
            }
            for (int i = 0; i < b.length; i++) {
                b[i] = (float) r.nextGaussian() * 3;
            }
            int aOff = 5, bOff = d + 3;
            double sq = 0, dot = 0, scale = 0;
            for (int i = 0; i < d; i++) {
                double e = (double) a[aOff + i] - b[bOff + i];
                sq += e * e;
                dot += (double) a[aOff + i] * b[bOff + i];
                scale += Math.abs((double) a[aOff + i] * b[bOff + i]);
            }
            for (VectorKernels k : kernels) {
                assertEquals(sq, k.squaredDistance(a, aOff, b, bOff, d), 1e-5 * sq + 1e-6, k.name() + " d " + d);
                assertEquals(dot, k.dot(a, aOff, b, bOff, d), 1e-5 * scale + 1e-6, k.name() + " d " + d);
            }
        }
    }

    @Test
    void shardScoresAreJVectorsScoresForTheMetric() {
        Random r = new Random(11);
        int n = 50, d = 37;
        float[][] v = new float[n][d];
        for (float[] row : v) {
            for (int j = 0; j < d; j++) {
                row[j] = (float) r.nextGaussian();
            }
        }
        v[3] = new float[d]; // a zero vector: cosine 0, as Metric.exact says
        float[] q = new float[d];
        for (int j = 0; j < d; j++) {
            q[j] = (float) r.nextGaussian();
        }
        for (Metric m : Metric.values()) {
            for (VectorKernels k : new VectorKernels[] {VectorKernels.scalar(), VectorKernels.get()}) {
                ShardVectors sv = new ShardVectors(v, m, k);
                var f = sv.scoreFunction(q);
                var build = sv.buildScoreProvider();
                var fromNode = build.searchProviderFor(7).scoreFunction();
                var fromVector = build.searchProviderFor(VTS.createFloatVector(q)).scoreFunction();
                for (int i = 0; i < n; i++) {
                    float expected = i == 3 && m == Metric.COSINE ? 0.5f
                            : m.similarity().compare(VTS.createFloatVector(q), VTS.createFloatVector(v[i]));
                    assertEquals(expected, f.similarityTo(i), 2e-6, m + " " + k.name() + " node " + i);
                    assertEquals(expected, fromVector.similarityTo(i), 2e-6, m + " " + k.name() + " node " + i);
                    float nodeExpected = (i == 3 || i == 7) && m == Metric.COSINE
                            ? (i == 7 ? 1f : 0.5f)
                            : m.similarity().compare(VTS.createFloatVector(v[7]), VTS.createFloatVector(v[i]));
                    assertEquals(nodeExpected, fromNode.similarityTo(i), 2e-6, m + " " + k.name() + " node 7 to " + i);
                    // the distance the search walks by reports the exact one
                    double exact = m.exact(q, v[i]);
                    assertEquals(exact, sv.reported(sv.distanceTo(q).to(i)), 1e-5 * Math.max(1, exact), m + " distance of node " + i);
                }
                assertEquals(sv.dimension(), sv.vector(5).length);
                assertEquals(v[5][4], sv.vector(5)[4]);
            }
        }
    }

    @Test
    void aJvmWithoutTheModuleOrWithoutC2TakesTheScalarKernels() throws Exception {
        assertEquals("scalar", kernelsOf());
        assertEquals("scalar", kernelsOf("--add-modules=jdk.incubator.vector", "-XX:TieredStopAtLevel=1"));
        assertEquals("scalar", kernelsOf("--add-modules=jdk.incubator.vector", "-D" + VectorKernels.PROPERTY + "=scalar"));
        assertTrue(kernelsOf("--add-modules=jdk.incubator.vector").startsWith("panama"));
    }

    /** Prints the kernels a JVM chose. */
    public static final class Print {
        public static void main(String[] args) {
            System.out.print(VectorKernels.get().name());
        }
    }

    private static String kernelsOf(String... jvmOptions) throws Exception {
        java.util.List<String> cmd = new java.util.ArrayList<>();
        cmd.add(java.nio.file.Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(java.util.List.of(jvmOptions));
        cmd.addAll(java.util.List.of("-cp", System.getProperty("java.class.path"), Print.class.getName()));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "exit code of " + cmd);
        return out.trim();
    }
}
