// Prometheus metrics of the API server, one registry per server so tests and replicas in one
// process do not share counters.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'apiserver_request_total',
    help: 'API requests by verb, group, resource, subresource and HTTP code.',
    labelNames: ['verb', 'group', 'resource', 'subresource', 'code'] as const,
    registers: [this.registry],
  });
  readonly latency = new Histogram({
    name: 'apiserver_request_duration_seconds',
    help: 'API request latency by verb, group, resource, subresource and HTTP code (watches excluded).',
    labelNames: ['verb', 'group', 'resource', 'subresource', 'code'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly watchers = new Gauge({
    name: 'apiserver_registered_watchers',
    help: 'Open watch streams by group and resource.',
    labelNames: ['group', 'resource'] as const,
    registers: [this.registry],
  });

  /** The counter and histogram series of each label set seen, found by one string key. */
  private readonly series = new Map<string, { count: { inc(): void }; duration: { observe(seconds: number): void } }>();

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Counts one request and, unless it was a watch (`seconds` undefined), its latency.
   * prom-client hashes a label object on every call; this runs for every request, so each
   * label set's series are looked up once and kept.
   */
  recordRequest(labels: RequestLabels, code: number, seconds?: number): void {
    const key = `${labels.verb}\u0000${labels.group}\u0000${labels.resource}\u0000${labels.subresource}\u0000${code}`;
    let series = this.series.get(key);
    if (!series) {
      const all = { ...labels, code: String(code) };
      series = { count: this.requests.labels(all), duration: this.latency.labels(all) };
      this.series.set(key, series);
    }
    series.count.inc();
    if (seconds !== undefined) series.duration.observe(seconds);
  }
}

export interface RequestLabels {
  verb: string;
  group: string;
  resource: string;
  subresource: string;
}

/**
 * The verb as kube-apiserver's metrics report it (CleanVerb): HTTP-flavoured for writes
 * (POST, PUT, PATCH, APPLY for server-side apply), LIST and WATCH for collection reads.
 */
export function metricVerb(verb: string, contentType: string | undefined): string {
  switch (verb) {
    case 'create':
      return 'POST';
    case 'update':
      return 'PUT';
    case 'patch':
      return (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/apply-patch+yaml' ? 'APPLY' : 'PATCH';
    default:
      return verb.toUpperCase();
  }
}
