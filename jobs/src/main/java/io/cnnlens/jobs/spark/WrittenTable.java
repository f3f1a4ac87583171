package io.cnnlens.jobs.spark;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.when;

/**
 * Driver-side reads of a table a job has just written (its counts, the few images of its
 * picture) whose memory does not grow with the table: no grouping by image, so no aggregation
 * hash map keyed by path (whose content grows with the number of images, and which takes Spark
 * memory pages per task however small it is; in local mode those pages are the executor's
 * heap). Counts are keyless aggregations (one buffer per task), and the picture's images come
 * from a top-k query (a bounded heap of k rows per task).
 */
public final class WrittenTable {

    private WrittenTable() {
    }

    /**
     * The number of rows whose {@code column} equals each of {@code values}, in their order, in
     * one pass over that column.
     */
    public static long[] countsOf(Dataset<Row> table, String column, List<String> values) {
        return countsWhere(table, values.stream().map(v -> col(column).equalTo(v)).toList());
    }

    /**
     * The images of a table where every image has one row for each entry of {@code rowsOfAnImage}
     * (the values of {@code column} an image's rows have, repeated as often as it has rows of
     * that value), counted from the rows of each value without grouping by image;
     * {@code images} is −1 when the values' counts do not agree.
     */
    public static ImageCount images(Dataset<Row> table, String column, List<String> rowsOfAnImage) {
        Map<String, Long> per = new LinkedHashMap<>();
        rowsOfAnImage.forEach(v -> per.merge(v, 1L, Long::sum));
        List<String> values = new ArrayList<>(per.keySet());
        long[] c = countsOf(table, column, values);
        Map<String, Long> counted = new LinkedHashMap<>();
        long images = values.isEmpty() ? -1 : c[0] / per.get(values.get(0));
        for (int i = 0; i < c.length; i++) {
            counted.put(values.get(i), c[i]);
            if (c[i] != images * per.get(values.get(i))) {
                images = -1;
            }
        }
        return new ImageCount(images, counted);
    }

    /** {@code images}: −1 when {@code rows} (the rows of each value) do not agree on one number. */
    public record ImageCount(long images, Map<String, Long> rows) {
    }

    /** The number of rows where each condition holds, in one keyless pass. */
    public static long[] countsWhere(Dataset<Row> table, List<Column> conditions) {
        if (conditions.isEmpty()) {
            return new long[0];
        }
        Column[] aggs = new Column[conditions.size()];
        for (int i = 0; i < aggs.length; i++) {
            aggs[i] = count(when(conditions.get(i), 1));
        }
        Row r = table.agg(aggs[0], java.util.Arrays.copyOfRange(aggs, 1, aggs.length)).first();
        long[] out = new long[aggs.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = r.getLong(i);
        }
        return out;
    }

    /**
     * The first {@code k} distinct values of {@code column} in ascending order, as
     * {@code select(column).distinct().orderBy(column).limit(k)} gives them, for a table where
     * every value occurs in {@code rowsPerValue} rows: the first {@code k · rowsPerValue} rows in
     * that order hold them, so a top-k query of that many rows (no distinct over the whole
     * table) finds them.
     */
    public static List<String> firstDistinct(Dataset<Row> table, String column, int k, long rowsPerValue) {
        if (k <= 0) {
            return List.of();
        }
        int take = (int) Math.min(Integer.MAX_VALUE - 8, (long) k * Math.max(1, rowsPerValue));
        Set<String> out = new LinkedHashSet<>();
        for (Row r : table.select(column).orderBy(column).limit(take).collectAsList()) {
            out.add(r.getString(0));
            if (out.size() == k) {
                break;
            }
        }
        return new ArrayList<>(out);
    }
}
