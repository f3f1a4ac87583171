package io.cnnlens.model;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClassTargetsTest {

    static final List<String> LABELS = List.of("T-shirt/top", "Trouser", "Pullover", "3", "Coat");

    @Test
    void namesThenIndices() {
        assertEquals(1, ClassTargets.index("Trouser", LABELS));
        assertEquals(4, ClassTargets.index(" Coat ", LABELS));
        assertEquals(2, ClassTargets.index("2", LABELS));
        assertEquals(3, ClassTargets.index("3", LABELS), "a class called 3 is that class");
        assertEquals(0, ClassTargets.index("0", LABELS));
        assertEquals(-1, ClassTargets.indexOf("5", LABELS));
        assertEquals(-1, ClassTargets.indexOf("-1", LABELS));
        assertEquals(-1, ClassTargets.indexOf("99999999999", LABELS));
        assertEquals(-1, ClassTargets.indexOf(null, LABELS));
        assertArrayEquals(new int[] {4, 0, 1}, ClassTargets.indices("Coat, 0,Trouser", LABELS));
    }

    @Test
    void unknownTargetsAreClearMessages() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ClassTargets.index("boots", LABELS, "predicted", "label"));
        assertEquals("unknown target 'boots': use predicted, label, a class index 0..4 or one of the model's classes "
                + "[T-shirt/top, Trouser, Pullover, 3, Coat]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> ClassTargets.indices("Coat,7", LABELS, "least-likely"));
        assertTrue(e.getMessage().startsWith("unknown target '7': use least-likely, a class index 0..4"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ClassTargets.indices("Coat,", LABELS));
        List<String> many = java.util.stream.IntStream.range(0, 20).mapToObj(i -> "c" + i).toList();
        assertTrue(ClassTargets.unknown("x", many).endsWith("c11] …"));
    }
}
