package io.cnnlens.jobs.audit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Optional;

/**
 * The last audit before this one: the newest folder under {@code <out>/audit/} (by name; the
 * default names are UTC times, so they sort by time) with a {@code summary.json}, which a run
 * writes only after its tables are committed. A run that died earlier is not a previous audit.
 */
record PreviousAudit(String name, String dir, JsonNode summary) {

    static Optional<PreviousAudit> latest(FileSystem fs, Path auditRoot, String except) {
        try {
            if (!fs.exists(auditRoot)) {
                return Optional.empty();
            }
            FileStatus[] runs = fs.listStatus(auditRoot);
            Arrays.sort(runs, Comparator.comparing((FileStatus s) -> s.getPath().getName()).reversed());
            for (FileStatus run : runs) {
                Path summary = new Path(run.getPath(), AuditJob.SUMMARY);
                if (run.isDirectory() && !run.getPath().getName().equals(except) && fs.exists(summary)) {
                    try (InputStream in = fs.open(summary)) {
                        return Optional.of(new PreviousAudit(run.getPath().getName(), run.getPath().toString(),
                                new ObjectMapper().readTree(in)));
                    }
                }
            }
            return Optional.empty();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the previous audits under " + auditRoot + ": " + e.getMessage(), e);
        }
    }

    long featuresVersion() {
        return summary.path("features_version").asLong(-1);
    }

    double classShare(String label) {
        return summary.path("class_share").path(label).asDouble(0);
    }
}
