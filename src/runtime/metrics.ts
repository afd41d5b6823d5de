// Metrics shared by every queue, informer and controller of one registry. Several of them
// register the same metric family with their own label values, so each family is created
// once per registry and found again by name.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

type Config<N extends string> = { name: string; help: string; labelNames: readonly N[] };

export function counter<N extends string>(registry: Registry, cfg: Config<N>): Counter<N> {
  return (registry.getSingleMetric(cfg.name) as Counter<N> | undefined) ?? new Counter<N>({ ...cfg, registers: [registry] });
}

export function gauge<N extends string>(registry: Registry, cfg: Config<N>): Gauge<N> {
  return (registry.getSingleMetric(cfg.name) as Gauge<N> | undefined) ?? new Gauge<N>({ ...cfg, registers: [registry] });
}

export function histogram<N extends string>(registry: Registry, cfg: Config<N> & { buckets: number[] }): Histogram<N> {
  return (
    (registry.getSingleMetric(cfg.name) as Histogram<N> | undefined) ?? new Histogram<N>({ ...cfg, registers: [registry] })
  );
}

/** 10 µs to 1000 s by factors of ten: from an instant reconcile to one stuck on back-off. */
export const durationBuckets = [1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1, 10, 100, 1000];
