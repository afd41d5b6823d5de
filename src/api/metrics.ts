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

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }
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
