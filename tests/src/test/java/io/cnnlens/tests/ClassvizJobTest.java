package io.cnnlens.tests;

import io.cnnlens.jobs.synthesis.ClassvizJob;
import io.cnnlens.synthesis.ClassVisualisation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ClassvizJobTest extends SparkTestBase {

    @TempDir
    Path tmp;

    @Test
    void visualisationsReachTheirClassAndAreWritten() throws Exception {
        ClassVisualisation cv = new ClassVisualisation(300, 100, 1e-4, 4, 1.0, 0, 0, 1);
        ClassvizJob.Summary s = ClassvizJob.run(spark, tmp.toString(), "bundled", null, List.of("trouser", "8"), cv);
        assertEquals(2, s.results().size());
        for (ClassvizJob.Result r : s.results()) {
            assertTrue(r.probability() >= 0.9, r.target() + " p = " + r.probability());
        }
        assertEquals(List.of("trouser", "bag"), s.results().stream().map(ClassvizJob.Result::target).toList());
        assertEquals(2, spark.read().parquet(s.table()).count());
        assertTrue(Files.size(Path.of(s.pictures(), "trouser.png")) > 100);
        assertTrue(Files.size(Path.of(s.pictures(), "classviz-grid.png")) > 5_000);
        // an intermediate channel through the same machinery: its activation grows from the start
        ClassvizJob.Summary ch = ClassvizJob.run(spark, tmp.resolve("ch").toString(), "bundled", "conv3", List.of("5"),
                new ClassVisualisation(100, 100, 1e-4, 4, 1.0, 0, 0, 1));
        assertTrue(ch.results().get(0).score() > 0);
        assertThrows(IllegalArgumentException.class, () -> ClassvizJob.run(spark, tmp.toString(), "bundled", null, List.of("boots"), cv));
    }
}
