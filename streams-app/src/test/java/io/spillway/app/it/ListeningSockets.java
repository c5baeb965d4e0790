package io.spillway.app.it;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;

/**
 * The TCP sockets this process listens on, as the Linux kernel reports them ({@code /proc/net/tcp} and
 * {@code tcp6}, matched to this process's file descriptors): what a port scan from another machine would find.
 */
public final class ListeningSockets {
    private static final String LISTEN = "0A";

    private ListeningSockets() {
    }

    /** Whether this machine reports sockets the way this class reads them. */
    public static boolean available() {
        return Files.isReadable(Path.of("/proc/net/tcp")) && Files.isDirectory(Path.of("/proc/self/fd"));
    }

    /** The local addresses of every socket this process listens on now. */
    public static List<InetSocketAddress> ofThisProcess() throws IOException {
        final Set<String> inodes = socketInodes();
        final List<InetSocketAddress> out = new ArrayList<>();
        for (final String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            final Path path = Path.of(table);
            if (!Files.isReadable(path)) {
                continue;
            }
            final List<String> lines = Files.readAllLines(path);
            for (final String line : lines.subList(1, lines.size())) {
                final String[] f = line.trim().split("\\s+");
                if (f.length > 9 && LISTEN.equals(f[3]) && inodes.contains(f[9])) {
                    out.add(address(f[1]));
                }
            }
        }
        return out;
    }

    private static Set<String> socketInodes() throws IOException {
        final Set<String> inodes = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (final Path fd : fds) {
                try {
                    final String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (final IOException closedMeanwhile) {
                    // the descriptor went away while listing
                }
            }
        }
        return inodes;
    }

    /** Decodes {@code 0100007F:1F90} (IPv4) or 32 hex digits and a port (IPv6): 4-byte words in host order. */
    private static InetSocketAddress address(final String hex) throws UnknownHostException {
        final String[] parts = hex.split(":");
        final byte[] raw = HexFormat.of().parseHex(parts[0]);
        final byte[] bytes = new byte[raw.length];
        for (int word = 0; word < raw.length; word += 4) {
            for (int i = 0; i < 4; i++) {
                bytes[word + i] = raw[word + 3 - i];
            }
        }
        return new InetSocketAddress(InetAddress.getByAddress(bytes), Integer.parseInt(parts[1], 16));
    }
}
