package io.cnnlens.jobs.spark;

/**
 * Another run committed into the same output folder while this one ran: this run's tables were
 * not made current (readers keep reading the other run's), and it fails instead of mixing the two.
 */
public final class ConcurrentRunException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    public ConcurrentRunException(String out, String job, TableLog.Entry winner) {
        super("another cnnlens run committed into " + out + " while this " + job + " run was running"
                + (winner == null ? "" : " (" + winner.job() + ", run " + winner.runId() + ", committed at "
                + winner.committedAt() + ")")
                + "; this run's tables were not committed and that run's stay current."
                + " Give concurrent runs different --out folders, or re-run this one when the other has finished");
    }
}
