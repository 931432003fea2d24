/**
 * The HTTP source of a stack opened by URL, inside the stack panel: requests, bytes fetched vs
 * served, memory hit ratio, requests in flight, request latency percentiles, and two chunk rows
 * (which chunks of the object are in the memory cache and in the persistent OPFS cache), polled
 * from the disk worker (`urlSources`) about once a second while the stack is shown.
 *
 * Values carry data attributes (`data-testid="url-stat"` with `data-stat` and `data-value`) so
 * tests read them as numbers. A failed poll is retried on the next tick.
 */
import { useEffect, useState } from 'react';
import type { DiskSpec } from '../../core/spec.ts';
import type { StackInfo } from '../../../workers/api.ts';
import type { UrlSourceInfo } from '../../../workers/url-cache-api.ts';
import { formatBytes, formatInt, formatLatency } from '../format.ts';
import { useLab } from '../lab/lab-context.tsx';

const POLL_MS = 1000;

function hasUrl(spec: DiskSpec): boolean {
  switch (spec.kind) {
    case 'url':
      return true;
    case 'layered':
      return spec.layers.some((l) => l.kind === 'disk-layer' && hasUrl(l.disk));
    case 'delay':
    case 'fault':
    case 'metered':
    case 'crypt':
      return hasUrl(spec.inner);
    case 'striped':
      return spec.members.some(hasUrl);
    default:
      return false;
  }
}

/** The stack's URL sources, polled while shown ([] for a stack opened otherwise). */
function useUrlSources(stack: StackInfo): readonly UrlSourceInfo[] {
  const { client, dataVersion } = useLab();
  const [sources, setSources] = useState<readonly UrlSourceInfo[]>([]);
  const isUrl = hasUrl(stack.spec);
  const id = stack.id;

  useEffect(() => {
    if (!isUrl) return;
    let live = true;
    const poll = () => client.disk.urlSources(id).then((s) => live && setSources(s), () => undefined);
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [isUrl, id, client, dataVersion]);
  return isUrl ? sources : [];
}

export function UrlCacheStats({ stack }: { stack: StackInfo }) {
  const sources = useUrlSources(stack);
  if (sources.length === 0) return null;
  return (
    <div className="url-cache" data-testid="url-cache">
      {sources.map((s) => (
        <UrlSource key={s.url} info={s} />
      ))}
    </div>
  );
}

function Stat({ name, label, value, text }: { name: string; label: string; value: number; text: string }) {
  return (
    <tr data-testid="url-stat" data-stat={name} data-value={value}>
      <th scope="row">{label}</th>
      <td>{text}</td>
    </tr>
  );
}

function UrlSource({ info }: { info: UrlSourceInfo }) {
  const { stats, persistent: p } = info;
  return (
    <section className="url-source small" aria-label={`HTTP source ${info.url}`} data-testid="url-source" data-url={info.url} data-cache-mode={p.mode} data-cache-reused={p.reused} data-cache-dirty={p.dirty}>
      <h3 className="small-head">HTTP source · {info.format}</h3>
      <p className="muted url-line">
        {info.url} · {formatBytes(info.sizeBytes)} · {info.identity ? `identity ${info.identity}` : 'no ETag/Last-Modified: changes detected by size only'}
      </p>
      <table className="url-stats">
        <tbody>
          <Stat name="requests" label="Requests" value={stats.requests} text={`${formatInt(stats.requests)}${stats.retries ? ` (${stats.retries} retried)` : ''}${stats.failures ? `, ${stats.failures} failed` : ''}`} />
          <Stat name="bytesFetched" label="Bytes fetched" value={stats.bytesFetched} text={formatBytes(stats.bytesFetched)} />
          <Stat name="bytesServed" label="Bytes served" value={stats.bytesServed} text={formatBytes(stats.bytesServed)} />
          <Stat name="hitRatio" label="Memory hit ratio" value={stats.hitRatio} text={`${(stats.hitRatio * 100).toFixed(1)} %`} />
          <Stat name="inFlight" label="In flight" value={stats.inFlight} text={`${stats.inFlight} (peak ${stats.peakInFlight})`} />
          <Stat name="latencyP50" label="Latency p50 / p90 / p99" value={stats.latency.p50Ns} text={stats.latency.count === 0 ? '–' : `${formatLatency(stats.latency.p50Ns)} / ${formatLatency(stats.latency.p90Ns)} / ${formatLatency(stats.latency.p99Ns)}`} />
          <Stat name="persistentBytes" label="OPFS cache" value={p.bytesPresent} text={`${p.mode}${p.reused ? ' (reused)' : ''} · ${formatBytes(p.bytesPresent)}${p.reason ? ` · ${p.reason}` : ''}`} />
        </tbody>
      </table>
      <ChunkRow label="memory" map={info.memory} testId="chunks-memory" />
      {p.map && <ChunkRow label="OPFS" map={p.map} testId="chunks-opfs" />}
      <p className="muted">
        {formatInt(info.chunkCount)} chunks of {formatBytes(info.chunkSize)}
        {info.parents.length > 0 && ` · parents: ${info.parents.join(', ')}`}
      </p>
    </section>
  );
}

/**
 * For the occupancy panel: which chunks of the image's object are cached locally. These rows are
 * in object offsets (the file's bytes), which match the map's LBAs only for raw and fixed VHD.
 */
export function UrlChunkMaps({ stack }: { stack: StackInfo }) {
  const [first] = useUrlSources(stack);
  if (!first) return null;
  return (
    <div className="url-chunk-maps small" data-testid="occupancy-url-chunks" aria-label="Chunks of the object cached locally">
      <p className="muted">Chunks of {first.url.slice(first.url.lastIndexOf('/') + 1)} cached locally ({formatBytes(first.chunkSize)} each, in file offsets):</p>
      <ChunkRow label="memory" map={first.memory} testId="occupancy-chunks-memory" />
      {first.persistent.map && <ChunkRow label="OPFS" map={first.persistent.map} testId="occupancy-chunks-opfs" />}
    </div>
  );
}

/** One cell per bucket of chunks, shaded by the fraction cached. */
function ChunkRow({ label, map, testId }: { label: string; map: Float64Array; testId: string }) {
  const cached = map.reduce((n, v) => n + (v > 0 ? 1 : 0), 0);
  return (
    <div className="chunk-row" data-testid={testId} data-cached={cached} data-buckets={map.length}>
      <span className="chunk-label">{label}</span>
      <span className="chunk-cells" aria-label={`${label}: ${cached} of ${map.length} chunk buckets cached`} style={{ display: 'flex', height: 8, flex: 1, minWidth: 120 }}>
        {Array.from(map, (v, i) => (
          <span key={i} style={{ flex: 1, background: v > 0 ? `rgba(40, 140, 90, ${0.3 + 0.7 * v})` : 'rgba(128,128,128,0.15)' }} />
        ))}
      </span>
    </div>
  );
}
