/**
 * The HTTP range cache's statistics for the CLI, printed on stderr after a command read an image
 * by URL with progress on (`convert -p` / `--progress=json`), so a user sees what the remote read
 * cost: requests, bytes fetched against bytes served, chunk hit ratio, peak requests in flight
 * and request latency percentiles (fio-style histogram, src/core/stats/latency-histogram.ts).
 */
import type { HttpRangeSource } from '../core/http/http-range-source.ts';
import { LatencyHistogram } from '../core/stats/latency-histogram.ts';
import { humanSize } from './sizes.ts';

export interface HttpSummary {
  readonly url: string;
  readonly requests: number;
  readonly retries: number;
  readonly bytesFetched: number;
  readonly bytesServed: number;
  readonly hitRatio: number;
  readonly peakInFlight: number;
  readonly latencyMs: { readonly p50: number; readonly p90: number; readonly p99: number; readonly max: number };
}

export function httpSummary(source: HttpRangeSource): HttpSummary {
  const s = source.stats();
  const [p50 = 0, p90 = 0, p99 = 0] = s.latency.count === 0 ? [] : LatencyHistogram.fromSnapshot(s.latency).percentiles([50, 90, 99]).map((p) => p.ns);
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  return {
    url: source.name, requests: s.requests, retries: s.retries, bytesFetched: s.bytesFetched, bytesServed: s.bytesServed,
    hitRatio: Math.round(s.hitRatio * 1000) / 1000, peakInFlight: s.peakInFlight,
    latencyMs: { p50: ms(p50), p90: ms(p90), p99: ms(p99), max: ms(s.latency.count === 0 ? 0 : s.latency.maxNs) },
  };
}

export function formatHttpSummary(h: HttpSummary): string {
  const l = h.latencyMs;
  return (
    `${h.url}: ${h.requests} requests${h.retries > 0 ? ` (${h.retries} retried)` : ''}, ${humanSize(h.bytesFetched)} fetched for ` +
    `${humanSize(h.bytesServed)} served, chunk hit ratio ${(h.hitRatio * 100).toFixed(1)}%, up to ${h.peakInFlight} in flight, ` +
    `latency p50 ${l.p50} ms, p90 ${l.p90} ms, p99 ${l.p99} ms, max ${l.max} ms\n`
  );
}
