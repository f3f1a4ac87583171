package io.cnnlens.tests;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit's scheduling manifests in deploy/ validated offline against the JSON schemas in
 * deploy/schemas/ (JSON Schema 2020-12, networknt json-schema-validator), and the cron line's
 * shape; a broken copy of each manifest must fail, so the schemas do refuse something.
 */
class DeployManifestsTest {

    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    static Path deploy() {
        return SparkTestBase.home().resolve("deploy");
    }

    static List<Error> validate(String schemaFile, JsonNode doc) throws Exception {
        JsonNode schemaNode = new ObjectMapper().readTree(deploy().resolve("schemas").resolve(schemaFile).toFile());
        Schema schema = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(schemaNode);
        return schema.validate(doc);
    }

    @Test
    void cronJobAndScheduledSparkApplicationMatchTheirSchemas() throws Exception {
        JsonNode cron = YAML.readTree(deploy().resolve("k8s/audit-cronjob.yaml").toFile());
        assertEquals(List.of(), validate("cronjob-batch-v1.schema.json", cron));
        JsonNode ssa = YAML.readTree(deploy().resolve("k8s/audit-scheduledsparkapplication.yaml").toFile());
        assertEquals(List.of(), validate("scheduledsparkapplication-v1beta2.schema.json", ssa));
        // the existing features CronJob is held to the same schema
        assertEquals(List.of(), validate("cronjob-batch-v1.schema.json",
                YAML.readTree(deploy().resolve("k8s/features-cronjob.yaml").toFile())));

        // both run the audit with spark-submit's k8s master / the operator, in cluster mode
        List<String> command = new ArrayList<>();
        cron.at("/spec/jobTemplate/spec/template/spec/containers/0/command").forEach(n -> command.add(n.asText()));
        assertTrue(command.get(0).endsWith("spark-submit") && command.stream().anyMatch(c -> c.startsWith("--master=k8s://"))
                && command.contains("audit"), command.toString());
        assertEquals("audit", ssa.at("/spec/template/arguments/0").asText());
        assertEquals("Forbid", cron.at("/spec/concurrencyPolicy").asText());
    }

    @Test
    void brokenManifestsAreRefused() throws Exception {
        ObjectNode cron = (ObjectNode) YAML.readTree(deploy().resolve("k8s/audit-cronjob.yaml").toFile());
        ((ObjectNode) cron.get("spec")).put("concurrencyPolicy", "Never");
        ((ObjectNode) cron.get("spec")).put("schedul", "daily");
        List<Error> e = validate("cronjob-batch-v1.schema.json", cron);
        assertTrue(e.size() >= 2, e.toString());
        ObjectNode ssa = (ObjectNode) YAML.readTree(deploy().resolve("k8s/audit-scheduledsparkapplication.yaml").toFile());
        ((ObjectNode) ssa.at("/spec/template")).put("mode", "local");
        ((ObjectNode) ssa.at("/spec/template/executor")).put("instances", "eight");
        assertTrue(validate("scheduledsparkapplication-v1beta2.schema.json", ssa).size() >= 2);
    }

    @Test
    void cronLineHasFiveTimeFieldsAndRunsTheAudit() throws Exception {
        List<String> lines = Files.readAllLines(deploy().resolve("audit.cron")).stream()
                .filter(l -> !l.isBlank() && !l.startsWith("#") && !l.contains("=") || l.matches("^[0-9*].*")).toList();
        assertEquals(1, lines.size(), lines.toString());
        String[] f = lines.get(0).trim().split("\\s+", 6);
        assertEquals(6, f.length);
        assertTrue(f[0].matches("[0-9*/,-]+") && f[1].matches("[0-9*/,-]+") && f[4].matches("[0-9*/,-]+"), lines.get(0));
        assertTrue(f[5].contains("spark-submit.sh") && f[5].contains(" audit ") && f[5].contains("--thresholds"), f[5]);
        assertFalse(f[5].contains("\n"));
    }
}
