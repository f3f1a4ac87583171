package io.cnnlens.tests;

import dev.ludovic.netlib.blas.NativeBLAS;
import io.cnnlens.embedding.PcaProjection;
import io.cnnlens.natives.OpenBlas;
import org.apache.commons.math3.linear.Array2DRowRealMatrix;
import org.apache.commons.math3.linear.EigenDecomposition;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Spark MLlib's native BLAS and Smile's PCA in one JVM (docs/natives.md). Where the system has
 * an OpenBLAS (Debian's, which CI installs with python3-torch), MLlib loading it first used to end
 * the JVM at PCA's first LAPACK call ("undefined symbol: LAPACKE_dsyevd"). Each order runs in a
 * child JVM, since the natives load once per JVM and the old failure killed it.
 */
class OpenBlasOrderTest {

    static final int ROWS = 300;
    static final int DIMS = 24;

    static double[][] sample() {
        SplittableRandom r = new SplittableRandom(7);
        double[][] x = new double[ROWS][DIMS];
        for (double[] row : x) {
            for (int j = 0; j < DIMS; j++) {
                row[j] = r.nextGaussian() * (1 + j % 5); // unequal variances: distinct eigenvalues
            }
        }
        return x;
    }

    /** The child: MLlib's BLAS first or the bundled OpenBLAS first, then MLlib's BLAS, then PCA. */
    public static final class Child {
        public static void main(String[] args) {
            if (args[0].equals("bundled-first")) {
                OpenBlas.loadFirst();
            }
            String netlib;
            try {
                NativeBLAS b = NativeBLAS.getInstance();
                double[] c = new double[4];
                b.dgemm("N", "N", 2, 2, 2, 1, new double[] {1, 2, 3, 4}, 2, new double[] {1, 0, 0, 1}, 2, 0, c, 2);
                netlib = "native " + Arrays.toString(c);
            } catch (Throwable t) {
                netlib = "none";
            }
            System.out.println("netlib=" + netlib);
            System.out.println("foreign=" + !OpenBlas.foreignLibraries().isEmpty());
            try {
                PcaProjection p = PcaProjection.fit(sample(), 3);
                System.out.println("pca=" + p.explained()[0] + "," + p.explained()[1] + "," + p.explained()[2]);
            } catch (IllegalStateException e) {
                System.out.println("refused=" + e.getMessage());
            }
        }
    }

    /** The reference: eigenvalues of the sample covariance by commons-math, as variance fractions. */
    static double[] referenceExplained() {
        double[][] x = sample();
        double[] mean = new double[DIMS];
        for (double[] row : x) {
            for (int j = 0; j < DIMS; j++) {
                mean[j] += row[j] / ROWS;
            }
        }
        double[][] cov = new double[DIMS][DIMS];
        for (double[] row : x) {
            for (int i = 0; i < DIMS; i++) {
                for (int j = 0; j < DIMS; j++) {
                    cov[i][j] += (row[i] - mean[i]) * (row[j] - mean[j]) / (ROWS - 1);
                }
            }
        }
        double[] ev = new EigenDecomposition(new Array2DRowRealMatrix(cov)).getRealEigenvalues().clone();
        Arrays.sort(ev);
        double total = Arrays.stream(ev).sum();
        return new double[] {ev[DIMS - 1] / total, ev[DIMS - 2] / total, ev[DIMS - 3] / total};
    }

    static List<String> child(String order) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx256m");
        cmd.add("-XX:TieredStopAtLevel=1");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Child.class.getName());
        cmd.add(order);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child finished");
        assertEquals(0, p.exitValue(), "the child JVM ended abnormally:\n" + out);
        return out.lines().filter(l -> l.matches("^(netlib|foreign|pca|refused)=.*")).toList();
    }

    static String value(List<String> lines, String key) {
        return lines.stream().filter(l -> l.startsWith(key + "=")).map(l -> l.substring(key.length() + 1))
                .findFirst().orElse(null);
    }

    static void assertPca(List<String> lines) {
        String pca = value(lines, "pca");
        assertTrue(pca != null, "PCA ran: " + lines);
        double[] got = Arrays.stream(pca.split(",")).mapToDouble(Double::parseDouble).toArray();
        double[] want = referenceExplained();
        for (int a = 0; a < 3; a++) {
            assertEquals(want[a], got[a], 1e-9, "explained variance of axis " + a);
        }
    }

    @Test
    void pcaRunsBesideMllibsNativeBlasWhenTheBundledOpenBlasLoadsFirst() throws Exception {
        assertPca(child("bundled-first"));
    }

    @Test
    void pcaRefusesClearlyInsteadOfEndingTheJvmWhenAnotherOpenBlasCameFirst() throws Exception {
        List<String> lines = child("mllib-first");
        if (value(lines, "foreign").equals("true")) {
            String refused = value(lines, "refused");
            assertTrue(refused != null && refused.contains("another OpenBLAS was loaded into this JVM before"),
                    "a clear refusal: " + lines);
        } else {
            assertPca(lines); // no system OpenBLAS here: nothing to conflict with
        }
    }
}
