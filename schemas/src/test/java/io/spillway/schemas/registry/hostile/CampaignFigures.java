package io.spillway.schemas.registry.hostile;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/** Collects a campaign's figures and writes them as one flat JSON object, for the results file. */
final class CampaignFigures {
    private final Map<String, Long> figures = new TreeMap<>();

    synchronized void put(final String name, final long value) {
        figures.put(name, value);
    }

    /** Writes the figures to the file, creating its folder. */
    synchronized void write(final Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), figures);
    }
}
