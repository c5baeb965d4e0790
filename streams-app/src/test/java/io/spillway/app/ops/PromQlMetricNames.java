package io.spillway.app.ops;

import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The metric names a PromQL expression reads, found without a full parser but erring on the side of finding too
 * many: after removing string literals, comments, label matchers, range and subquery brackets and grouping clauses
 * ({@code by (...)}, {@code on (...)}, ...), every identifier that is not a function call, a keyword or part of a
 * number or duration counts as a metric name.
 */
final class PromQlMetricNames {
    private static final Pattern STRING = Pattern.compile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`");
    private static final Pattern MATCHERS = Pattern.compile("\\{[^{}]*}");
    private static final Pattern BRACKETS = Pattern.compile("\\[[^\\[\\]]*]");
    private static final Pattern GROUPING = Pattern.compile(
            "\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^()]*\\)", Pattern.CASE_INSENSITIVE);
    private static final Pattern COMMENT = Pattern.compile("#[^\\n]*");
    /** An identifier not glued to a preceding word, digit or dot (so not the tail of 5m, 1e3 or 0x1f). */
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w:.])([a-zA-Z_:][\\w:]*)(\\s*\\()?");
    private static final Set<String> KEYWORDS = Set.of("and", "or", "unless", "by", "without", "on", "ignoring",
            "group_left", "group_right", "bool", "offset", "atan2", "inf", "nan");

    private PromQlMetricNames() {
    }

    static Set<String> in(final String expression) {
        String rest = COMMENT.matcher(STRING.matcher(expression).replaceAll("\"\"")).replaceAll(" ");
        rest = MATCHERS.matcher(rest).replaceAll("{}");
        rest = BRACKETS.matcher(rest).replaceAll("[]");
        rest = GROUPING.matcher(rest).replaceAll(" ");
        final Set<String> names = new TreeSet<>();
        final Matcher m = IDENTIFIER.matcher(rest);
        while (m.find()) {
            final boolean call = m.group(2) != null;
            final String name = m.group(1);
            if (!call && !KEYWORDS.contains(name.toLowerCase(Locale.ROOT))) {
                names.add(name);
            }
        }
        return names;
    }
}
