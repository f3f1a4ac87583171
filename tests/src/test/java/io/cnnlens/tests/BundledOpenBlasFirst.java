package io.cnnlens.tests;

import io.cnnlens.natives.OpenBlas;
import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

/**
 * Loads the bundled OpenBLAS when the test JVM's launcher session opens, before any test class:
 * surefire runs every class in one JVM, in an order that varies between machines, and a class
 * that reaches MLlib's native BLAS first would otherwise bring in the system's OpenBLAS
 * ({@link OpenBlas}). Registered in META-INF/services.
 */
public final class BundledOpenBlasFirst implements LauncherSessionListener {

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        OpenBlas.loadFirst();
    }
}
