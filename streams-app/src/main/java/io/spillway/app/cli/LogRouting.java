package io.spillway.app.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.filter.Filter;
import ch.qos.logback.core.rolling.FixedWindowRollingPolicy;
import ch.qos.logback.core.rolling.RollingFileAppender;
import ch.qos.logback.core.rolling.SizeBasedTriggeringPolicy;
import ch.qos.logback.core.spi.FilterReply;
import ch.qos.logback.core.util.FileSize;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where log lines go while {@code demo} or {@code run} trains: every line, the Kafka clients', Kafka Streams' and the
 * embedded broker's included, into a log file (rolled at {@value #ROLL_SIZE}, {@value #KEPT_FILES} old files kept);
 * on the terminal only Spillway's own lines (loggers under {@value #OWN_LOGGERS}), next to the progress bar, unless
 * verbose. Kafka's loggers log at INFO into the file (the terminal used to get their warnings only).
 *
 * <p>Changes the process-wide Logback configuration until {@link #close()}, which restores it. Without Logback as
 * the SLF4J binding, or when the file cannot be opened, nothing is changed and {@link #file()} is null.
 */
final class LogRouting implements AutoCloseable {
    static final String OWN_LOGGERS = "io.spillway";
    static final String ROLL_SIZE = "64MB";
    static final int KEPT_FILES = 5;
    /** The embedded broker's start-up prints to standard output; those lines are logged under this name. */
    static final String BROKER_STDOUT_LOGGER = "kafka.embedded.stdout";
    private static final List<String> KAFKA_LOGGERS = List.of("org.apache.kafka", "kafka");
    private static final String PATTERN = "%d{yyyy-MM-dd HH:mm:ss.SSS} %-5level [%thread] %logger - %msg%n";
    private static final Logger LOG = LoggerFactory.getLogger(LogRouting.class);

    private final LoggerContext context;
    private final RollingFileAppender<ILoggingEvent> fileAppender;
    private final Map<ConsoleAppender<ILoggingEvent>, List<Filter<ILoggingEvent>>> consoleFilters = new LinkedHashMap<>();
    private final Map<String, Level> levels = new LinkedHashMap<>();
    private final Path file;

    private LogRouting(final LoggerContext context, final RollingFileAppender<ILoggingEvent> fileAppender,
                       final Path file) {
        this.context = context;
        this.fileAppender = fileAppender;
        this.file = file;
    }

    /**
     * Starts writing every log line to {@code file} and, unless {@code verbose}, keeps only Spillway's own lines on
     * the terminal.
     */
    static LogRouting start(final Path file, final boolean verbose) {
        if (!(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return new LogRouting(null, null, null);
        }
        final RollingFileAppender<ILoggingEvent> appender = fileAppender(context, file.toAbsolutePath());
        if (!appender.isStarted()) {
            LOG.warn("Cannot write the log file {}; Kafka's log lines stay on the terminal", file.toAbsolutePath());
            return new LogRouting(null, null, null);
        }
        final LogRouting routing = new LogRouting(context, appender, file.toAbsolutePath());
        final ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (!verbose) {
            for (final Iterator<Appender<ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
                if (it.next() instanceof ConsoleAppender<ILoggingEvent> console) {
                    routing.consoleFilters.put(console, console.getCopyOfAttachedFiltersList());
                    console.addFilter(new OwnLinesOnly());
                }
            }
        }
        for (final String name : KAFKA_LOGGERS) {
            final ch.qos.logback.classic.Logger logger = context.getLogger(name);
            routing.levels.put(name, logger.getLevel());
            logger.setLevel(Level.INFO);
        }
        root.addAppender(appender);
        return routing;
    }

    private static RollingFileAppender<ILoggingEvent> fileAppender(final LoggerContext context, final Path file) {
        final RollingFileAppender<ILoggingEvent> appender = new RollingFileAppender<>();
        appender.setContext(context);
        appender.setName("spillway-log-file");
        appender.setFile(file.toString());
        appender.setAppend(true);
        final FixedWindowRollingPolicy rolling = new FixedWindowRollingPolicy();
        rolling.setContext(context);
        rolling.setParent(appender);
        rolling.setFileNamePattern(file + ".%i.gz");
        rolling.setMinIndex(1);
        rolling.setMaxIndex(KEPT_FILES);
        rolling.start();
        final SizeBasedTriggeringPolicy<ILoggingEvent> trigger = new SizeBasedTriggeringPolicy<>();
        trigger.setContext(context);
        trigger.setMaxFileSize(FileSize.valueOf(ROLL_SIZE));
        trigger.start();
        final PatternLayoutEncoder encoder = new PatternLayoutEncoder();
        encoder.setContext(context);
        encoder.setPattern(PATTERN);
        encoder.setCharset(StandardCharsets.UTF_8);
        encoder.start();
        appender.setRollingPolicy(rolling);
        appender.setTriggeringPolicy(trigger);
        appender.setEncoder(encoder);
        appender.start();
        return appender;
    }

    /** The log file, absolute; null when the routing could not be set up and the terminal gets every line. */
    Path file() {
        return file;
    }

    /**
     * Runs {@code action} with standard output sent to the log (as lines of {@value #BROKER_STDOUT_LOGGER}): the
     * embedded broker prints its storage formatting there.
     */
    <T> T withStdoutLogged(final Callable<T> action) throws Exception {
        if (file == null) {
            return action.call();
        }
        final PrintStream original = System.out;
        final PrintStream logged = new PrintStream(new LineLogger(LoggerFactory.getLogger(BROKER_STDOUT_LOGGER)), true,
                StandardCharsets.UTF_8);
        System.setOut(logged);
        try {
            return action.call();
        } finally {
            System.setOut(original);
            logged.close();
        }
    }

    @Override
    public void close() {
        if (context == null) {
            return;
        }
        context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME).detachAppender(fileAppender);
        fileAppender.stop();
        for (final Map.Entry<ConsoleAppender<ILoggingEvent>, List<Filter<ILoggingEvent>>> e : consoleFilters.entrySet()) {
            e.getKey().clearAllFilters();
            e.getValue().forEach(e.getKey()::addFilter);
        }
        levels.forEach((name, level) -> context.getLogger(name).setLevel(level));
    }

    /** Lets through the lines of Spillway's own loggers only. */
    private static final class OwnLinesOnly extends Filter<ILoggingEvent> {
        @Override
        public FilterReply decide(final ILoggingEvent event) {
            return event.getLoggerName().startsWith(OWN_LOGGERS) ? FilterReply.NEUTRAL : FilterReply.DENY;
        }
    }

    /** Logs what is written to it, one log line per text line. Not thread-safe (PrintStream serialises writes). */
    private static final class LineLogger extends OutputStream {
        private final Logger logger;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineLogger(final Logger logger) {
            this.logger = logger;
        }

        @Override
        public void write(final int b) {
            if (b == '\n') {
                flushLine();
            } else if (b != '\r') {
                line.write(b);
            }
        }

        @Override
        public void flush() {
            // a line is logged when it is complete; a partial line waits for its end (or close)
        }

        @Override
        public void close() {
            flushLine();
        }

        private void flushLine() {
            if (line.size() > 0) {
                logger.info(line.toString(StandardCharsets.UTF_8));
                line.reset();
            }
        }
    }
}
