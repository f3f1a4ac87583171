package io.cnnlens.jobs.tune;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FSDataOutputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The search's record of finished trials: one JSON file per trial id under {@code <out>/_tune/<search>/}, written by
 * the task that trained it (to a temporary name, then renamed: a file is there whole or not at all; the first attempt
 * to finish wins, a re-run attempt of the same trial leaves the record as it is). The driver reads them to skip what a
 * previous, interrupted run of the same search already trained.
 */
public final class TrialStore {

    private static final ObjectMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

    private TrialStore() {
    }

    static void put(String dir, TrialRecord r, Configuration conf) {
        Path d = new Path(dir);
        try {
            FileSystem fs = d.getFileSystem(conf);
            fs.mkdirs(d);
            Path target = new Path(d, r.id() + ".json");
            if (fs.exists(target)) {
                return;
            }
            Path tmp = new Path(d, "." + r.id() + ".json.tmp-" + java.util.UUID.randomUUID());
            try (FSDataOutputStream o = fs.create(tmp, false)) {
                o.write(JSON.writeValueAsBytes(r));
            }
            if (!fs.rename(tmp, target)) {
                fs.delete(tmp, false);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record trial " + r.id() + " under " + dir + ": " + e.getMessage(), e);
        }
    }

    static Map<String, TrialRecord> all(String dir, Configuration conf) {
        Map<String, TrialRecord> out = new LinkedHashMap<>();
        Path d = new Path(dir);
        try {
            FileSystem fs = d.getFileSystem(conf);
            if (!fs.exists(d)) {
                return out;
            }
            for (FileStatus st : fs.listStatus(d)) {
                String name = st.getPath().getName();
                if (!name.endsWith(".json") || name.startsWith(".")) {
                    continue;
                }
                try (FSDataInputStream in = fs.open(st.getPath())) {
                    TrialRecord r = JSON.readValue(in.readAllBytes(), TrialRecord.class);
                    out.put(r.id(), r);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the recorded trials under " + dir + ": " + e.getMessage(), e);
        }
        return out;
    }
}
