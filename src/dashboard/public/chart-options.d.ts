// Types of chart-options.js, for the server that imports it (src/dashboard/render-charts.ts).
import type { ChartData } from '../charts.js';

/** An ECharts option, as far as this project reads one. */
export interface ChartOption {
  series?: Array<{ data?: unknown[] }>;
  [key: string]: unknown;
}

export function formatNumber(value: number): string;
export function buildOption(data: ChartData): ChartOption;
export function countPoints(option: ChartOption): number;
export const mapAspect: number;
