package io.spillway.schemas.registry.server.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.eclipse.jetty.io.EndPoint;
import org.eclipse.jetty.server.ConnectionFactory;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.DetectorConnectionFactory;
import org.eclipse.jetty.util.Callback;

/**
 * Sits before TLS on an HTTPS port: a TLS client goes on to TLS; a plain-HTTP client gets one
 * readable {@code 400} saying to use {@code https://}, and the connection is closed, instead of
 * a handshake failure it cannot explain.
 */
public final class PlaintextOnTlsPort extends DetectorConnectionFactory {
    private static final byte[] REFUSAL;

    static {
        final byte[] body = Answer.error(400, 400,
            "this port serves HTTPS only: use an https:// URL").body();
        final String head = "HTTP/1.1 400 Bad Request\r\nContent-Type: " + Answer.CONTENT_TYPE
            + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        final byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
        REFUSAL = new byte[headBytes.length + body.length];
        System.arraycopy(headBytes, 0, REFUSAL, 0, headBytes.length);
        System.arraycopy(body, 0, REFUSAL, headBytes.length, body.length);
    }

    /** @param tls the TLS connection factory plain clients are kept from */
    public PlaintextOnTlsPort(final ConnectionFactory.Detecting tls) {
        super(tls);
    }

    @Override
    protected void nextProtocol(final Connector connector, final EndPoint endPoint, final ByteBuffer buffer) {
        endPoint.write(Callback.from(endPoint::close, failure -> endPoint.close()), ByteBuffer.wrap(REFUSAL));
    }
}
