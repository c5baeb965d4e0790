package io.spillway.app.replay;

import io.spillway.schemas.avro.Event;
import io.spillway.schemas.avro.SparseVector;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * Turns documents into one event stream the way a live system would see it: a fixed number of documents
 * are "open" at a time, each event comes from one of them picked at random (seeded, so the stream is
 * reproducible), and a finished document's slot takes the next document in order. Each document's
 * characters keep their order; the key of every event is its document's key; timestamps advance one
 * millisecond per event from {@code startMs}.
 *
 * <p>Documents are read lazily, one per open slot, so memory stays at a few documents. Documents shorter
 * than {@code minLength} characters are skipped (the stream is about long sequences). Not thread-safe.
 */
public final class InterleavedDocuments implements Iterator<Event> {
    /** Event times start here unless told otherwise: 2024-01-01T00:00:00Z. */
    public static final long DEFAULT_START_MS = 1_704_067_200_000L;

    private final Iterator<RealDataset.Document> documents;
    private final int minLength;
    private final SplittableRandom random;
    private final List<Open> open = new ArrayList<>();
    private final SparseVector noFeatures = SparseVector.newBuilder().setIndices(List.of()).setValues(List.of()).build();
    private long timestampMs;
    private long documentsOpened;

    private static final class Open {
        final String key;
        final int[] types;
        int position;

        Open(final String key, final int[] types) {
            this.key = key;
            this.types = types;
        }
    }

    /**
     * @param documents in the order they open; never null
     * @param openDocuments documents interleaved at a time, at least 1
     * @param minLength shorter documents are skipped
     * @param seed seed of the interleaving
     */
    public InterleavedDocuments(final List<RealDataset.Document> documents, final int openDocuments,
                                final int minLength, final long seed) {
        this(documents, openDocuments, minLength, seed, DEFAULT_START_MS);
    }

    public InterleavedDocuments(final List<RealDataset.Document> documents, final int openDocuments,
                                final int minLength, final long seed, final long startMs) {
        Objects.requireNonNull(documents, "documents");
        if (openDocuments < 1) {
            throw new IllegalArgumentException("openDocuments must be >= 1: " + openDocuments);
        }
        this.documents = List.copyOf(documents).iterator();
        this.minLength = Math.max(1, minLength);
        this.random = new SplittableRandom(seed);
        this.timestampMs = startMs;
        for (int i = 0; i < openDocuments; i++) {
            final Open o = nextDocument();
            if (o == null) {
                break;
            }
            open.add(o);
        }
    }

    private Open nextDocument() {
        while (documents.hasNext()) {
            final RealDataset.Document d = documents.next();
            final int[] types;
            try {
                types = RealDataset.eventTypes(d.file());
            } catch (final IOException e) {
                throw new UncheckedIOException("cannot read document " + d.key() + " (" + d.file() + ")", e);
            }
            if (types.length >= minLength) {
                documentsOpened++;
                return new Open(d.key(), types);
            }
        }
        return null;
    }

    @Override
    public boolean hasNext() {
        return !open.isEmpty();
    }

    @Override
    public Event next() {
        if (open.isEmpty()) {
            throw new NoSuchElementException("all documents replayed");
        }
        final int slot = random.nextInt(open.size());
        final Open o = open.get(slot);
        final Event e = Event.newBuilder().setEntityId(o.key).setTimestampMs(timestampMs++)
                .setEventType(o.types[o.position++]).setFeatures(noFeatures).setLabel(null).build();
        if (o.position == o.types.length) {
            final Open replacement = nextDocument();
            if (replacement == null) {
                open.remove(slot);
            } else {
                open.set(slot, replacement);
            }
        }
        return e;
    }

    /** Documents read so far (skipped short ones not counted). */
    public long documentsOpened() {
        return documentsOpened;
    }
}
