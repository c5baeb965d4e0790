package io.spillway.schemas.serde.internals;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Makes Avro (1.12+) trust the packages of the generated classes the serdes read, so no
 * {@code -Dorg.apache.avro.SERIALIZABLE_PACKAGES} flag is needed.
 *
 * <p>Avro reads that system property once, when its validator class initializes, so setting the
 * property later does nothing. Instead this widens Avro's global validator: the current predicate
 * (whatever the JVM flags configured) OR "class is in one of our trusted packages". Only whole
 * package names given by code are added; nothing read from data is ever trusted. Thread-safe.
 */
public final class AvroTrust {
    /** Package of Spillway's generated records. */
    public static final String SPILLWAY_AVRO_PACKAGE = "io.spillway.schemas.avro";

    private static final Set<String> TRUSTED = ConcurrentHashMap.newKeySet();

    private AvroTrust() {
    }

    /**
     * Trusts the package of the given generated class (and Spillway's own package) for Avro's
     * class loading. Idempotent.
     *
     * @param generated a generated SpecificRecord class the caller chose to read into
     */
    public static void trustPackageOf(final Class<?> generated) {
        trustPackage(SPILLWAY_AVRO_PACKAGE);
        trustPackage(generated.getPackageName());
    }

    private static synchronized void trustPackage(final String packageName) {
        if (packageName.isEmpty() || !TRUSTED.add(packageName)) {
            return;
        }
        final String prefix = packageName + ".";
        final ClassSecurityValidator.ClassSecurityPredicate previous = ClassSecurityValidator.getGlobal();
        ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(previous,
            type -> type.getName().startsWith(prefix) && type.getName().indexOf('.', prefix.length()) < 0));
    }
}
