import io.cnnlens.index.GraphShard;
import io.cnnlens.index.IndexManifest;
import io.cnnlens.index.Item;

import java.nio.file.Files;
import java.nio.file.Path;

/** Prints the first N image ids of an index's shards (manifest order). Usage: ListIds.java <index dir> N */
public class ListIds {
    public static void main(String[] a) throws Exception {
        Path index = Path.of(a[0]);
        int n = Integer.parseInt(a[1]);
        IndexManifest m = IndexManifest.fromJson(Files.readString(index.resolve(IndexManifest.FILE)));
        for (IndexManifest.Shard s : m.shards()) {
            try (GraphShard g = GraphShard.open(index.resolve("shards").resolve(s.name()), m.metricValue())) {
                for (Item it : g.items()) {
                    if (n-- <= 0) {
                        return;
                    }
                    System.out.println(it.imageId());
                }
            }
        }
    }
}
