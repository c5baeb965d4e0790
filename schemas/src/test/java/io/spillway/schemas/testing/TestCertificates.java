package io.spillway.schemas.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A self-signed certificate for 127.0.0.1 and localhost made by the running JDK's {@code keytool}:
 * a PKCS12 key store for the server and a PKCS12 trust store holding only its certificate.
 *
 * @param keyStore the server's key store
 * @param keyStorePassword its password (also the key's)
 * @param trustStore the clients' trust store
 * @param trustStorePassword its password
 */
public record TestCertificates(Path keyStore, String keyStorePassword, Path trustStore, String trustStorePassword) {

    /** Makes the key pair, certificate and both stores in the directory. */
    public static TestCertificates create(final Path dir, final String keyStorePassword, final String trustStorePassword)
        throws IOException, InterruptedException {
        final Path keyStore = dir.resolve("registry-key.p12");
        final Path trustStore = dir.resolve("registry-trust.p12");
        keytool("-genkeypair", "-alias", "registry", "-keyalg", "EC", "-groupname", "secp256r1",
            "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "2",
            "-keystore", keyStore.toString(), "-storetype", "PKCS12", "-storepass", keyStorePassword,
            "-keypass", keyStorePassword);
        // The trust store holds only the certificate; the KeyStore API copies it without another keytool run.
        try (InputStream in = Files.newInputStream(keyStore); OutputStream out = Files.newOutputStream(trustStore)) {
            final KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(in, keyStorePassword.toCharArray());
            final KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("registry", keys.getCertificate("registry"));
            trust.store(out, trustStorePassword.toCharArray());
        } catch (final GeneralSecurityException e) {
            throw new IOException("cannot copy the test certificate into a trust store", e);
        }
        return new TestCertificates(keyStore, keyStorePassword, trustStore, trustStorePassword);
    }

    private static void keytool(final String... args) throws IOException, InterruptedException {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        final Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        final String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            process.destroyForcibly();
            throw new IOException("keytool " + args[0] + " failed: " + output);
        }
    }
}
