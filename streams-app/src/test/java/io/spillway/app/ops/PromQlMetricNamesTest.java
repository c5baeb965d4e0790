package io.spillway.app.ops;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The metric-name finder the dashboard and rules checks rely on finds every name and nothing else. */
class PromQlMetricNamesTest {
    @Test
    void findsNamesBeforeMatchersRangesAndOperators() {
        assertThat(PromQlMetricNames.in("""
                sum by (job, instance, reason) (rate(spillway_dlq_records_total{reason!="x y", instance=~"$i"}[10m]))
                  / on (job, instance) group_left
                sum by (job, instance) (rate(kafka_stream_thread_process_total[10m])) > 0.01
                """)).containsExactly("kafka_stream_thread_process_total", "spillway_dlq_records_total");
    }

    @Test
    void findsBareNamesAtTheEndAndInsideParentheses() {
        assertThat(PromQlMetricNames.in("up{job=\"spillway\"} == 1 unless on (job, instance) kafka_stream_client_state"))
                .containsExactly("kafka_stream_client_state", "up");
        assertThat(PromQlMetricNames.in("max(a_total)")).containsExactly("a_total");
        assertThat(PromQlMetricNames.in("(spillway_training_loss < +Inf)")).containsExactly("spillway_training_loss");
    }

    @Test
    void leavesOutFunctionsKeywordsNumbersDurationsAndStrings() {
        assertThat(PromQlMetricNames.in("""
                quantile_over_time(0.5, (x_loss < +Inf)[5m:1m]) > 2 * avg_over_time(x_loss[1h:1m] offset 5m)
                or label_replace(vector(1e3), "dst", "$1", "src", "(.*)") and NaN != bool 0x1f
                """)).containsExactly("x_loss");
        assertThat(PromQlMetricNames.in("sum without (le) (rate(h_bucket[5m])) # a comment naming not_a_metric"))
                .containsExactly("h_bucket");
    }

    @Test
    void findsRecordingRuleNamesWithColons() {
        assertThat(PromQlMetricNames.in("job:requests:rate5m > 3")).containsExactly("job:requests:rate5m");
    }
}
