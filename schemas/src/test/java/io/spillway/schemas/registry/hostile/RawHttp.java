package io.spillway.schemas.registry.hostile;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/** Sends arbitrary bytes to a loopback port as one HTTP request and reads whatever comes back. */
final class RawHttp {
    /** What came back: a parsed answer, or nothing before the server closed the connection. */
    record Outcome(int status, String contentType, String body, boolean closedWithoutAnswer, boolean timedOut) {
    }

    private RawHttp() {
    }

    /**
     * @param port the server's port on 127.0.0.1
     * @param request the bytes to send
     * @param endInput whether to half-close after sending (a client that stops mid-request)
     */
    static Outcome send(final int port, final byte[] request, final boolean endInput) throws IOException {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 2_000);
            socket.setSoTimeout(10_000);
            final OutputStream out = socket.getOutputStream();
            try {
                out.write(request);
                out.flush();
                if (endInput) {
                    socket.shutdownOutput();
                }
            } catch (final IOException closedEarly) {
                // The server may answer and close before it read everything (413, 431): read what it said.
            }
            final byte[] answer;
            try {
                answer = readAnswer(socket.getInputStream());
            } catch (final SocketTimeoutException e) {
                return new Outcome(-1, null, null, false, true);
            }
            if (answer.length == 0) {
                return new Outcome(-1, null, null, true, false);
            }
            return parse(answer);
        }
    }

    /** Reads the status line, headers and a Content-Length body; stops there (the server may keep the connection). */
    private static byte[] readAnswer(final InputStream in) throws IOException {
        final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        int headEnd = -1;
        long contentLength = -1;
        final byte[] chunk = new byte[8192];
        while (true) {
            final int n;
            try {
                n = in.read(chunk);
            } catch (final SocketTimeoutException e) {
                throw e;
            } catch (final IOException reset) {
                break;
            }
            if (n < 0) {
                break;
            }
            buffer.write(chunk, 0, n);
            final byte[] sofar = buffer.toByteArray();
            if (headEnd < 0) {
                headEnd = indexOf(sofar, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                if (headEnd >= 0) {
                    contentLength = contentLength(new String(sofar, 0, headEnd, StandardCharsets.ISO_8859_1));
                }
            }
            if (headEnd >= 0 && contentLength >= 0 && sofar.length >= headEnd + 4 + contentLength) {
                break;
            }
        }
        return buffer.toByteArray();
    }

    private static Outcome parse(final byte[] answer) {
        final String text = new String(answer, StandardCharsets.UTF_8);
        final int headEnd = text.indexOf("\r\n\r\n");
        final String head = headEnd < 0 ? text : text.substring(0, headEnd);
        final String[] lines = head.split("\r\n");
        int status = -2;
        if (lines.length > 0 && lines[0].startsWith("HTTP/1.1 ") && lines[0].length() >= 12) {
            try {
                status = Integer.parseInt(lines[0].substring(9, 12));
            } catch (final NumberFormatException e) {
                status = -2;
            }
        }
        String contentType = null;
        for (final String line : lines) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-type:")) {
                contentType = line.substring("content-type:".length()).trim();
            }
        }
        final String body = headEnd < 0 ? "" : text.substring(headEnd + 4);
        return new Outcome(status, contentType, body, false, false);
    }

    private static long contentLength(final String head) {
        for (final String line : head.split("\r\n")) {
            if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                try {
                    return Long.parseLong(line.substring("content-length:".length()).trim());
                } catch (final NumberFormatException e) {
                    return -1;
                }
            }
        }
        return -1;
    }

    private static int indexOf(final byte[] haystack, final byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
