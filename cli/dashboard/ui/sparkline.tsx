import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { Spark } from '../dashboard-api.js';

/**
 * A uPlot line of one series. Made once per mounted element; new data is handed to the same chart
 * (setData), so a refresh does not rebuild the canvas.
 */
export function Sparkline(props: { spark: Spark; width?: number; height?: number; axes?: boolean; label?: string }) {
  const el = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const data = (): uPlot.AlignedData => [props.spark.t as number[], props.spark.v as (number | null)[]];
  useEffect(() => {
    if (!el.current) return;
    const axes = props.axes === true;
    chart.current = new uPlot(
      {
        width: props.width ?? 140,
        height: props.height ?? 32,
        cursor: { show: axes },
        legend: { show: false },
        scales: { x: { time: true }, y: { range: (_u, min, max) => [Math.min(0, min ?? 0), Math.max(max ?? 1, 1e-9) * 1.1] } },
        axes: axes ? [{ stroke: '#667' }, { stroke: '#667', size: 60 }] : [{ show: false }, { show: false }],
        series: [{}, { label: props.label ?? 'value', stroke: '#2f7ed8', width: 1.5, fill: 'rgba(47,126,216,0.12)', spanGaps: false }],
      },
      data(),
      el.current,
    );
    return () => {
      chart.current?.destroy();
      chart.current = null;
    };
  }, []);
  useEffect(() => {
    chart.current?.setData(data());
  }, [props.spark]);
  return <div class="spark" ref={el} />;
}
