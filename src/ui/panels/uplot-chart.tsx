/**
 * A uPlot chart as a React component: created once per `options` identity, fed new data with
 * `setData` (cheap, no re-creation), sized to its container's width with a ResizeObserver, and
 * destroyed on unmount. uPlot draws the axes, scales and legend; nothing here is hand-drawn.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface UPlotChartProps {
  /** Everything but width; keep the object stable (useMemo) or the chart is rebuilt. */
  readonly options: Omit<uPlot.Options, 'width'>;
  readonly data: uPlot.AlignedData;
  readonly label: string;
  readonly testId?: string;
}

export function UPlotChart({ options, data, label, testId }: UPlotChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | undefined>(undefined);
  const latest = useRef(data);
  latest.current = data;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const plot = new uPlot({ ...options, width: Math.max(200, el.clientWidth) }, latest.current, el);
    chart.current = plot;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) plot.setSize({ width: Math.max(200, Math.floor(entry.contentRect.width)), height: options.height });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
      chart.current = undefined;
    };
  }, [options]);

  useEffect(() => {
    chart.current?.setData(data);
  }, [data]);

  return <div ref={host} className="chart" role="img" aria-label={label} data-testid={testId} />;
}
