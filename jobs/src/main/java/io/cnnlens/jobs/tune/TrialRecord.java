package io.cnnlens.jobs.tune;

import java.util.Map;

/**
 * One finished trial as the search records it (a JSON file per trial while the search runs, so a restarted search resumes;
 * rows of the tune tables at the end). A diverged trial is a record like any other.
 */
public record TrialRecord(String id, String round, int rung, int index, Map<String, String> recipe, String status, String note,
                          double bestValAcc, double lastValAcc, double lastTrainAcc, double seconds, double imagesPerSecond,
                          float[] loss, double[] trainAcc, double[] valAcc, double[] valLoss, String diagnosis, String evidence,
                          String host, int attempt, double testAcc) implements java.io.Serializable {
}
