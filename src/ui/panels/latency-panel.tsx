/**
 * Latency view: the controller's completion-latency histogram in fio's log-linear buckets, the
 * percentile table in fio's units (usec, or msec once the largest reaches 10 ms, as fio prints
 * them), and a time series of IOPS with interval p50/p99. Data comes from the live stats buffer
 * (device-side latency: SQE fetched to CQE posted); charts are uPlot.
 *
 * The table is `data-testid="percentile-table"`; every value cell carries `data-ns`, so tests read
 * numbers, not text.
 */
import { useMemo, useState } from 'react';
import uPlot from 'uplot';
import type { ControllerStatsSnapshot, OpStatsView } from '../../core/controller/stats.ts';
import { FIO_DEFAULT_PERCENTILES, LatencyHistogram, PLAT_NR, bucketValue } from '../../core/stats/latency-histogram.ts';
import { formatCount, formatLatency, inUnit, latencyUnitFor } from '../format.ts';
import { useWorkload } from '../workload/workload-context.tsx';
import type { LiveSample } from '../workload/workload-runner.ts';
import { UPlotChart } from './uplot-chart.tsx';
import { useThrottled } from './use-throttled.ts';

type OpChoice = 'read' | 'write' | 'all';

export function LatencyPanel() {
  const { view } = useWorkload();
  const stats = useThrottled(view.stats, 250);
  const samples = useThrottled(view.samples, 500);
  const [choice, setChoice] = useState<OpChoice>('all');
  const hist = useMemo(() => (stats ? histogramOf(stats, choice) : undefined), [stats, choice]);

  return (
    <section className="panel latency-panel" aria-labelledby="latency-title" data-testid="panel-latency">
      <div className="panel-head">
        <h2 id="latency-title">Latency</h2>
        <label className="small">
          ops{' '}
          <select value={choice} onChange={(e) => setChoice(e.target.value as OpChoice)}>
            <option value="all">read + write</option>
            <option value="read">read</option>
            <option value="write">write</option>
          </select>
        </label>
      </div>
      {!stats || !hist || hist.count === 0 ? (
        <p className="muted">No completions yet: start a workload in the controller panel.</p>
      ) : (
        <>
          <p className="small">
            {formatCount(hist.count)} completions · min {formatLatency(hist.min)} · avg {formatLatency(hist.mean)} · max {formatLatency(hist.max)}
          </p>
          <Histogram hist={hist} />
          <PercentileTable stats={stats} />
        </>
      )}
      {samples.length > 1 && <TimeSeries samples={samples} />}
    </section>
  );
}

function histogramOf(stats: ControllerStatsSnapshot, choice: OpChoice): LatencyHistogram {
  if (choice !== 'all') return stats.ops[choice].latency;
  const h = new LatencyHistogram();
  h.merge(stats.ops.read.latency);
  h.merge(stats.ops.write.latency);
  return h;
}

const HIST_OPTIONS: Omit<uPlot.Options, 'width'> = {
  height: 150,
  padding: [8, 28, 0, 0],
  legend: { show: false },
  // From the decade below the data to the data's end: round ticks, and no empty decade on the right.
  scales: {
    x: { time: false, distr: 3, range: (_u, min, max) => [10 ** Math.floor(Math.log10(Math.max(min, 0.001))), Math.max(max, min * 1.1)] },
    y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
  },
  axes: [{ label: 'latency (usec, log)', size: 36 }, { label: 'I/Os', size: 50 }],
  series: [{}, { label: 'I/Os', stroke: '#1f6feb', fill: 'rgba(31,111,235,0.25)', paths: undefined, points: { show: false } }],
};

function Histogram({ hist }: { hist: LatencyHistogram }) {
  const data = useMemo<uPlot.AlignedData>(() => {
    let first = -1;
    let last = -1;
    for (let b = 1; b < PLAT_NR; b++) {
      if (hist.bucketCount(b) > 0) {
        if (first < 0) first = b;
        last = b;
      }
    }
    const xs: number[] = [];
    const ys: number[] = [];
    for (let b = Math.max(1, first - 2); first > 0 && b <= Math.min(PLAT_NR - 1, last + 2); b++) {
      xs.push(bucketValue(b) / 1000);
      ys.push(hist.bucketCount(b));
    }
    return [xs, ys];
  }, [hist]);
  const options = useMemo(() => ({ ...HIST_OPTIONS, series: [{}, { ...HIST_OPTIONS.series[1]!, paths: steppedPaths() }] }), []);
  return <UPlotChart options={options} data={data} label="Latency histogram in fio's log-linear buckets" testId="latency-histogram" />;
}

function steppedPaths(): uPlot.Series.PathBuilder | undefined {
  // A flat step per bucket: the honest shape of a histogram (a line would invent slopes).
  return uPlot.paths.stepped?.({ align: 1 });
}

/** fio's layout of "p th=[value]" pairs in rows (three a row fits the panel), one block per op type. */
const PER_ROW = 3;

function PercentileTable({ stats }: { stats: ControllerStatsSnapshot }) {
  const ops = (['read', 'write'] as const).filter((op) => stats.ops[op].ops > 0);
  const values = ops.map((op) => ({ op, view: stats.ops[op], list: stats.ops[op].latency.percentiles(FIO_DEFAULT_PERCENTILES) }));
  const maxNs = Math.max(0, ...values.flatMap((v) => v.list.map((p) => p.ns)));
  const unit = latencyUnitFor(maxNs);
  const rows: number[][] = [];
  for (let i = 0; i < FIO_DEFAULT_PERCENTILES.length; i += PER_ROW) rows.push(FIO_DEFAULT_PERCENTILES.slice(i, i + PER_ROW).map((_, k) => i + k));
  return (
    <table className="percentiles small" data-testid="percentile-table" data-unit={unit}>
      <caption>clat percentiles ({unit})</caption>
      {values.map((v: { op: string; view: OpStatsView; list: { percentile: number; ns: number }[] }) => (
        <tbody key={v.op}>
          <tr>
            <th scope="rowgroup" colSpan={PER_ROW * 2}>
              {v.op} ({formatCount(v.view.ops)} ios)
            </th>
          </tr>
          {rows.map((row) => (
            <tr key={row[0]}>
              {row.map((i) => [
                <th scope="row" key={`p${i}`} className="pct">
                  {v.list[i]!.percentile.toFixed(2)}th
                </th>,
                <td key={`v${i}`} data-percentile={v.list[i]!.percentile} data-op={v.op} data-ns={v.list[i]!.ns}>
                  {inUnit(v.list[i]!.ns, unit)}
                </td>,
              ])}
            </tr>
          ))}
        </tbody>
      ))}
    </table>
  );
}

const SERIES_OPTIONS: Omit<uPlot.Options, 'width'> = {
  height: 150,
  legend: { live: false },
  scales: { x: { time: false }, iops: {}, lat: {} },
  axes: [
    { label: 's', size: 30 },
    { scale: 'iops', label: 'IOPS', size: 56 },
    { scale: 'lat', side: 1, label: 'usec', size: 72, grid: { show: false } },
  ],
  series: [
    { label: 't (s)' },
    { label: 'IOPS', scale: 'iops', stroke: '#1f6feb', width: 2 },
    { label: 'p50 usec', scale: 'lat', stroke: '#0e8a7e', width: 1.5 },
    { label: 'p99 usec', scale: 'lat', stroke: '#e8710a', width: 1.5 },
  ],
};

function TimeSeries({ samples }: { samples: readonly LiveSample[] }) {
  const data = useMemo<uPlot.AlignedData>(
    () => [
      samples.map((s) => s.t),
      samples.map((s) => s.iops),
      samples.map((s) => (s.p50Ns === undefined ? null : s.p50Ns / 1000)),
      samples.map((s) => (s.p99Ns === undefined ? null : s.p99Ns / 1000)),
    ],
    [samples],
  );
  return <UPlotChart options={SERIES_OPTIONS} data={data} label="IOPS and p50/p99 latency over time" testId="latency-series" />;
}
