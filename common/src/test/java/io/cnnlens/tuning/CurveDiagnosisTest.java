package io.cnnlens.tuning;

import org.junit.jupiter.api.Test;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class CurveDiagnosisTest {

    /** How many of 100 labelled synthetic curves per pattern get their own label back; printed, and each pattern ≥ 90 %. */
    @Test
    void labelledSyntheticCurvesAreReadRight() {
        Random rnd = new Random(7);
        Map<String, Integer> right = new LinkedHashMap<>();
        int total = 0;
        int all = 0;
        for (String label : CurveDiagnosis.LABELS) {
            int ok = 0;
            Map<String, Integer> confused = new LinkedHashMap<>();
            for (int i = 0; i < 100; i++) {
                SyntheticCurves.Curve c = SyntheticCurves.make(label, rnd);
                String got = CurveDiagnosis.diagnose(c.loss(), c.trainAcc(), c.valAcc()).label();
                if (got.equals(label)) {
                    ok++;
                } else {
                    confused.merge(got, 1, Integer::sum);
                }
            }
            right.put(label, ok);
            total += ok;
            all += 100;
            System.out.println("diagnosis " + label + ": " + ok + "/100 right; wrong as " + confused);
        }
        System.out.printf("diagnosis on labelled synthetic curves: %d/%d right%n", total, all);
        right.forEach((label, ok) -> assertTrue(ok >= 90, label + ": only " + ok + "/100 right"));
    }

    @Test
    void findingsCarryTheirNumbers() {
        float[] loss = new float[100];
        for (int i = 0; i < loss.length; i++) {
            loss[i] = i < 50 ? 2.3f : Float.NaN;
        }
        CurveDiagnosis.Diagnosis d = CurveDiagnosis.diagnose(loss, new double[0], new double[0]);
        assertEquals("lr-too-high", d.label());
        assertTrue(d.text().contains("iteration 51"), d.text());
    }
}
