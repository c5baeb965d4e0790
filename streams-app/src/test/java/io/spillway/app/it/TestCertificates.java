package io.spillway.app.it;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A certificate authority of the test's own and a server certificate it signed for 127.0.0.1 and localhost, made
 * with the running JDK's {@code keytool} (passwords travel in its environment, not on its command line): a PKCS12
 * key store for the server and a PKCS12 trust store holding the CA for clients.
 *
 * @param keyStore the server's key and certificate chain
 * @param trustStore the CA's certificate
 * @param password of both stores (and of the server's key)
 */
public record TestCertificates(Path keyStore, Path trustStore, String password) {

    /** Makes the CA and the server certificate under {@code dir}. */
    public static TestCertificates create(final Path dir) throws IOException, InterruptedException {
        final String password = randomSecret();
        final Path ca = dir.resolve("ca.p12");
        final Path caPem = dir.resolve("ca.pem");
        final Path server = dir.resolve("server.p12");
        final Path csr = dir.resolve("server.csr");
        final Path signed = dir.resolve("server.pem");
        final Path trust = dir.resolve("truststore.p12");
        final String san = "SAN=ip:127.0.0.1,dns:localhost";
        keytool(password, "-genkeypair", "-alias", "ca", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=Spillway test CA", "-ext", "bc:c", "-validity", "2", "-keystore", ca.toString());
        keytool(password, "-exportcert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-file", caPem.toString());
        keytool(password, "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=127.0.0.1", "-ext", san, "-validity", "2", "-keystore", server.toString());
        keytool(password, "-certreq", "-alias", "server", "-keystore", server.toString(), "-file", csr.toString());
        keytool(password, "-gencert", "-rfc", "-alias", "ca", "-keystore", ca.toString(), "-infile", csr.toString(),
                "-outfile", signed.toString(), "-ext", san, "-ext", "eku=serverAuth,clientAuth", "-validity", "2");
        keytool(password, "-importcert", "-noprompt", "-alias", "ca", "-keystore", server.toString(), "-file",
                caPem.toString());
        keytool(password, "-importcert", "-alias", "server", "-keystore", server.toString(), "-file", signed.toString());
        keytool(password, "-importcert", "-noprompt", "-alias", "ca", "-keystore", trust.toString(), "-file",
                caPem.toString());
        return new TestCertificates(server, trust, password);
    }

    /** 32 random hex digits. */
    public static String randomSecret() {
        final byte[] b = new byte[16];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static void keytool(final String password, final String... args) throws IOException, InterruptedException {
        final List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        command.addAll(List.of("-storetype", "PKCS12", "-storepass:env", "TEST_STORE_PASSWORD"));
        if (List.of(args).contains("-genkeypair")) {
            command.addAll(List.of("-keypass:env", "TEST_STORE_PASSWORD"));
        }
        final ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().putAll(Map.of("TEST_STORE_PASSWORD", password));
        final Process p = pb.start();
        final String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException("keytool " + args[0] + " failed: " + output);
        }
    }
}
