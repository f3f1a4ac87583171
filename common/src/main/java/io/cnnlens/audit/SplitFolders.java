package io.cnnlens.audit;

import java.util.Locale;
import java.util.Set;

/**
 * The split an image belongs to, from the folders of its path: the nearest folder named
 * {@code train}, {@code val}, {@code valid}, {@code validation} or {@code test} (any case), or
 * null when none is. Two near-duplicates in different splits are leakage (docs/methods.md#near-duplicates).
 */
public final class SplitFolders {

    public static final Set<String> NAMES = Set.of("train", "val", "valid", "validation", "test");

    private SplitFolders() {
    }

    public static String of(String path) {
        if (path == null) {
            return null;
        }
        String[] parts = path.split("/");
        for (int i = parts.length - 2; i >= 0; i--) {
            String p = parts[i].toLowerCase(Locale.ROOT);
            if (NAMES.contains(p)) {
                return p.startsWith("val") ? "val" : p;
            }
        }
        return null;
    }
}
