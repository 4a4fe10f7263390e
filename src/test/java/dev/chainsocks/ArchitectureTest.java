package dev.chainsocks;

import static com.tngtech.archunit.library.Architectures.layeredArchitecture;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.Architectures.LayeredArchitecture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package layering is the table in docs/architecture.md ("Layers"): this test reads that table and checks the
 * production classes against it, so the documented picture and the enforced rule are one and the same. Packages
 * must also be free of cycles, subpackages included.
 */
class ArchitectureTest {

    private static final Path DOC = Path.of("docs", "architecture.md");
    private static final Pattern ROW = Pattern.compile("^\\|\\s*(\\w+)\\s*\\|([^|]*)\\|([^|]*)\\|\\s*$");

    /** One row of the table: a layer, its packages, the layers it may use. */
    record Layer(String name, List<String> packages, List<String> mayUse) {
    }

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.chainsocks");
    }

    static List<Layer> documentedLayers() throws IOException {
        List<String> lines = Files.readAllLines(DOC, StandardCharsets.UTF_8);
        int begin = lines.indexOf("<!-- layers: begin (read by src/test/java/dev/chainsocks/ArchitectureTest.java) -->");
        int end = lines.indexOf("<!-- layers: end -->");
        assertThat(begin).as("layers table markers in %s", DOC).isNotNegative();
        assertThat(end).as("layers table end marker in %s", DOC).isGreaterThan(begin);
        List<Layer> layers = new ArrayList<>();
        for (String line : lines.subList(begin + 1, end)) {
            Matcher row = ROW.matcher(line);
            if (!row.matches() || row.group(1).equals("layer")) {
                continue;
            }
            List<String> packages = Arrays.stream(row.group(2).split(","))
                    .map(p -> p.strip().replace("`", "")).filter(p -> !p.isEmpty()).toList();
            String uses = row.group(3).strip();
            List<String> mayUse = uses.startsWith("(") ? List.of()
                    : Arrays.stream(uses.split(",")).map(String::strip).toList();
            layers.add(new Layer(row.group(1), packages, mayUse));
        }
        return layers;
    }

    @Test
    void theDocumentedTableNamesEveryPackageOnceAndOnlyKnownLayers() throws IOException {
        List<Layer> layers = documentedLayers();
        Map<String, String> owner = new LinkedHashMap<>();
        for (Layer layer : layers) {
            for (String pkg : layer.packages()) {
                assertThat(owner.put(pkg, layer.name())).as("package %s listed twice", pkg).isNull();
            }
        }
        List<String> names = layers.stream().map(Layer::name).toList();
        for (Layer layer : layers) {
            assertThat(names).as("layers that %s may use", layer.name()).containsAll(layer.mayUse());
        }
        List<String> actual = classes.stream().map(c -> c.getPackageName().substring("dev.chainsocks.".length()))
                .filter(p -> !p.isEmpty()).distinct().sorted().toList();
        assertThat(owner.keySet()).as("packages in the table of %s", DOC).containsExactlyInAnyOrderElementsOf(actual);
    }

    @Test
    void dependenciesFollowTheDocumentedLayers() throws IOException {
        LayeredArchitecture rule = layeredArchitecture().consideringOnlyDependenciesInLayers();
        List<Layer> layers = documentedLayers();
        for (Layer layer : layers) {
            String[] packages = layer.packages().stream().map(p -> "dev.chainsocks." + p).toArray(String[]::new);
            rule = rule.layer(layer.name()).definedBy(packages);
        }
        for (Layer layer : layers) {
            rule = layer.mayUse().isEmpty()
                    ? rule.whereLayer(layer.name()).mayNotAccessAnyLayer()
                    : rule.whereLayer(layer.name()).mayOnlyAccessLayers(layer.mayUse().toArray(String[]::new));
        }
        rule.check(classes);
    }

    @Test
    void packagesAreFreeOfCycles() {
        slices().matching("dev.chainsocks.(**)").should().beFreeOfCycles().check(classes);
    }
}
