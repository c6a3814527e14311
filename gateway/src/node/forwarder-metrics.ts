import type { ReceiptForwarder } from '../oracle-forwarder.ts';
import type { GatewayMetrics } from './metrics.ts';

/**
 * The receipt forwarder's counters and queue, read when Prometheus scrapes: an operator (and the load
 * test) can see reports — and the rewards they carry — that never reached the oracle, which the log
 * says only at shutdown or per failed post.
 */
export function registerForwarderMetrics(metrics: GatewayMetrics, forwarder: ReceiptForwarder): void {
  const { stats } = forwarder;
  metrics.externalCounter({
    name: 'hexedge_gateway_receipt_reports_total',
    help: 'Receipt reports by outcome: queued for the oracle, forwarded (accepted by it), refused by it, dropped (queue full, post failed, or given up at shutdown), held (kept for a retry: the oracle did not know the report key yet; each time)',
    labels: ['outcome'],
    read: () => [
      { labels: { outcome: 'queued' }, value: stats.queued },
      { labels: { outcome: 'forwarded' }, value: stats.forwarded },
      { labels: { outcome: 'refused' }, value: stats.refused },
      { labels: { outcome: 'dropped' }, value: stats.dropped },
      { labels: { outcome: 'held' }, value: stats.held },
    ],
  });
  metrics.externalCounter({
    name: 'hexedge_gateway_receipt_report_posts_failed_total',
    help: 'Posts of receipt reports to the oracle that failed (unreachable, timed out, HTTP error)',
    labels: [],
    read: () => [{ labels: {}, value: stats.failedPosts }],
  });
  metrics.gauge({
    name: 'hexedge_gateway_receipt_reports_queued',
    help: 'Receipt reports waiting to be forwarded to the oracle',
    read: () => [{ value: forwarder.queueLength }],
  });
}
