package io.spillway.schemas.registry.server.internals;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpHeaderValue;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.BufferUtil;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.Scheduler;

/**
 * Serves {@link RegistryApi} on Jetty without ever parking a thread on a slow client: the body is
 * read as it arrives (a client that trickles it holds a connection, not a thread), bounded in size,
 * in time and, over all requests together, in memory; answers are written asynchronously. Basic auth
 * is checked before a byte of the body is read.
 */
public final class RegistryHandler extends Handler.Abstract {
    private final RegistryApi api;
    private final BasicAuth auth;
    private final int maxRequestBytes;
    private final long requestTimeoutMs;
    private final Semaphore bodyBudget;

    /**
     * @param api the routes
     * @param auth credentials to require (an empty one requires none)
     * @param maxRequestBytes largest request body accepted; larger ones get 413
     * @param requestTimeoutMs time from the request's headers to its whole body; slower ones get 408
     * @param bodyBudgetBytes request-body bytes all requests together may hold at once; past it, 503
     */
    public RegistryHandler(final RegistryApi api, final BasicAuth auth, final int maxRequestBytes,
                           final long requestTimeoutMs, final int bodyBudgetBytes) {
        this.api = api;
        this.auth = auth;
        this.maxRequestBytes = maxRequestBytes;
        this.requestTimeoutMs = requestTimeoutMs;
        this.bodyBudget = new Semaphore(bodyBudgetBytes);
    }

    @Override
    public boolean handle(final Request request, final Response response, final Callback callback) {
        final Exchange exchange = new Exchange(request, response, callback);
        if (!auth.allows(request.getHeaders().get(HttpHeader.AUTHORIZATION))) {
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Basic realm=\"SchemaRegistry\", charset=\"UTF-8\"");
            exchange.answer(Answer.error(401, 401, "Unauthorized: valid basic auth credentials are required"), false);
            return true;
        }
        if (!RegistryApi.readsBody(request.getMethod())) {
            exchange.answer(exchange.route(null), false);
            return true;
        }
        final long declared = request.getLength();
        if (declared > maxRequestBytes) {
            exchange.answer(tooLarge(), true);
            return true;
        }
        exchange.startDeadline();
        exchange.readSome();
        return true;
    }

    /** Stands for "the deadline answered first": {@link Exchange#answer} ignores it. */
    private static final Answer ALREADY_ANSWERED = Answer.error(408, 408, "answered already");

    private Answer tooLarge() {
        return Answer.error(413, 413, "request body larger than " + maxRequestBytes + " bytes");
    }

    /** One request in flight: its body so far, its deadline, and its single answer. */
    private final class Exchange {
        private final Request request;
        private final Response response;
        private final Callback callback;
        private final AtomicBoolean answered = new AtomicBoolean();
        private final AtomicLong reserved = new AtomicLong();
        private byte[] body = new byte[256];
        private int size;
        private volatile Scheduler.Task deadline;

        Exchange(final Request request, final Response response, final Callback callback) {
            this.request = request;
            this.response = response;
            this.callback = callback;
        }

        void startDeadline() {
            deadline = request.getComponents().getScheduler().schedule(() -> answer(Answer.error(408, 408,
                "request body not received within " + requestTimeoutMs + " ms"), true),
                requestTimeoutMs, TimeUnit.MILLISECONDS);
        }

        /** Takes what has arrived of the body; asks to be called again when more comes. */
        void readSome() {
            while (!answered.get()) {
                final Content.Chunk chunk = request.read();
                if (chunk == null) {
                    request.demand(this::readSome);
                    return;
                }
                if (Content.Chunk.isFailure(chunk)) {
                    answer(Answer.error(400, 400, "request body could not be read: " + describe(chunk.getFailure())), true);
                    return;
                }
                final ByteBuffer bytes = chunk.getByteBuffer();
                final int n = bytes.remaining();
                final Answer refusal = n > 0 ? take(bytes, n) : null;
                chunk.release();
                if (refusal != null) {
                    answer(refusal, true);
                    return;
                }
                if (chunk.isLast()) {
                    final byte[] content = complete();
                    if (content != null) {
                        answer(route(content), false);
                    }
                    return;
                }
            }
        }

        /** @return the whole body, or null when an answer (such as the deadline's 408) was given meanwhile */
        private synchronized byte[] complete() {
            return answered.get() ? null : Arrays.copyOf(body, size);
        }

        /**
         * Adds bytes to the body under the size and memory bounds; synchronized with {@link #answer}.
         *
         * @return null when taken, else the answer refusing the request
         */
        private synchronized Answer take(final ByteBuffer bytes, final int n) {
            if (answered.get()) {
                return ALREADY_ANSWERED;
            }
            if ((long) size + n > maxRequestBytes) {
                return tooLarge();
            }
            if (!bodyBudget.tryAcquire(n)) {
                response.getHeaders().put(HttpHeader.RETRY_AFTER, "1");
                return Answer.error(503, 50301, "registry busy: too many request bodies in flight; retry");
            }
            reserved.addAndGet(n);
            if (size + n > body.length) {
                body = Arrays.copyOf(body, Math.min(maxRequestBytes, Math.max(body.length * 2, size + n)));
            }
            bytes.get(body, size, n);
            size += n;
            return null;
        }

        Answer route(final byte[] content) {
            return api.answer(request.getMethod(), request.getHttpURI().getPath(), request.getHttpURI().getQuery(),
                request.getHeaders().get(HttpHeader.CONTENT_TYPE), content);
        }

        /** Writes the answer unless one was written already; frees the body's budget first. */
        void answer(final Answer answer, final boolean close) {
            synchronized (this) {
                // Only the first answer counts (the body's, or the deadline's): it frees the body's memory budget.
                if (!answered.compareAndSet(false, true)) {
                    return;
                }
                bodyBudget.release((int) reserved.getAndSet(0));
            }
            if (deadline != null) {
                deadline.cancel();
            }
            response.setStatus(answer.status());
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, answer.contentType());
            if (close) {
                // The rest of the body is unread: do not let the connection carry another request.
                response.getHeaders().put(HttpHeader.CONNECTION, HttpHeaderValue.CLOSE.asString());
            }
            final boolean head = request.getMethod().equals("HEAD");
            response.getHeaders().put(HttpHeader.CONTENT_LENGTH, head ? 0 : answer.body().length);
            response.write(true, head ? BufferUtil.EMPTY_BUFFER : ByteBuffer.wrap(answer.body()), callback);
        }
    }

    private static String describe(final Throwable failure) {
        final String message = failure.getMessage();
        return RegistryApi.abbreviate(failure.getClass().getSimpleName() + (message == null ? "" : ": " + message));
    }
}
