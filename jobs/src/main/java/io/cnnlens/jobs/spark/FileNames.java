package io.cnnlens.jobs.spark;

/** Names of the files jobs write (pictures named after layers, classes or input files). */
public final class FileNames {

    private FileNames() {
    }

    /** {@code s} with every character outside {@code [A-Za-z0-9._-]} replaced by '_', safe on any file system. */
    public static String safe(String s) {
        return s.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}
