package io.cnnlens.audit;

import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class AuditThresholdsTest {

    @Test
    void upperAndLowerBoundsAndUnmeasuredMetrics() {
        AuditThresholds t = AuditThresholds.parse("max.leakage.pairs = 0\nmin.drift.p_value=0.01\nmax.label_issues.fraction=0.05\n");
        Map<String, Double> m = new HashMap<>(Map.of("leakage.pairs", 3.0, "label_issues.fraction", 0.04));
        m.put("drift.p_value", null);
        List<AuditThresholds.Crossed> c = t.check(m);
        assertEquals(1, c.size());
        assertEquals("leakage.pairs", c.get(0).threshold().metric());
        m.put("drift.p_value", 0.001);
        assertEquals(2, t.check(m).size());
    }

    @Test
    void typosAndBadValuesAreErrors() {
        assertThrows(IllegalArgumentException.class, () -> AuditThresholds.parse("maximum.x=1"));
        assertThrows(IllegalArgumentException.class, () -> AuditThresholds.parse("max.x=lots"));
        assertThrows(IllegalArgumentException.class, () -> AuditThresholds.parse("max.lekage.pairs=0").check(Map.of("leakage.pairs", 0.0)));
    }
}
