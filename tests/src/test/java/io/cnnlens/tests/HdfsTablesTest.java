package io.cnnlens.tests;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Map;

/**
 * {@code features} reading its images from and committing its tables into a real HDFS: Hadoop's
 * MiniDFSCluster (one NameNode, one DataNode) on loopback in the test JVM. Delta commits on HDFS
 * through its HDFSLogStore (an atomic rename that fails if the target exists).
 */
class HdfsTablesTest extends StoreTablesScenario {

    @TempDir
    static Path clusterDir;

    @TempDir
    Path tmp;

    private static MiniDFSCluster cluster;
    private static Map<String, String> settings;

    @BeforeAll
    static void startHdfs() throws Exception {
        Configuration conf = new Configuration();
        conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, clusterDir.toString());
        conf.set("dfs.namenode.rpc-bind-host", "127.0.0.1");
        conf.set("dfs.namenode.http-address", "127.0.0.1:0");
        conf.set("dfs.datanode.address", "127.0.0.1:0");
        conf.set("dfs.datanode.http.address", "127.0.0.1:0");
        conf.set("dfs.datanode.ipc.address", "127.0.0.1:0");
        conf.setInt("dfs.replication", 1);
        // a file closes once its block is written, without waiting for the DataNode's block
        // report (the client would otherwise retry from 400 ms on, for each of Delta's small files)
        conf.setInt("dfs.namenode.file.close.num-committed-allowed", 1);
        cluster = new MiniDFSCluster.Builder(conf, clusterDir.toFile()).numDataNodes(1).storagesPerDatanode(1).build();
        cluster.waitActive();
        settings = Map.of("dfs.replication", "1");
        configure(settings);
    }

    @AfterAll
    static void stopHdfs() {
        if (cluster != null) {
            cluster.shutdown();
        }
    }

    @Test
    void featuresOnHdfsCountsAndADriverKilledMidCommit() throws Exception {
        String base = "hdfs://127.0.0.1:" + cluster.getNameNodePort() + "/cnnlens";
        featuresOnTheStoreAndADriverKilledMidCommit(base, settings, tmp);
    }
}
