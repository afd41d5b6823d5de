// Small shared pieces: usage bars, a bar chart and a doughnut (chart.js), a pager.
import { BarController, BarElement, CategoryScale, Chart, DoughnutController, ArcElement, Legend, LinearScale, Tooltip } from 'chart.js';
import { html, LitElement, type PropertyValues } from 'lit';
import { formatNumber, t } from './i18n.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, DoughnutController, ArcElement, Legend, Tooltip);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", "Noto Sans TC", "PingFang TC", "Microsoft JhengHei", sans-serif';
Chart.defaults.color = '#334155';

export const palette = {
  used: '#2563eb',
  free: '#a7f3d0',
  phase: {
    Running: '#16a34a',
    Pending: '#94a3b8',
    Scheduling: '#64748b',
    Unschedulable: '#dc2626',
    Provisioning: '#0ea5e9',
    Starting: '#38bdf8',
    Stopping: '#f59e0b',
    Stopped: '#a16207',
    Restarting: '#8b5cf6',
    Terminating: '#6b7280',
    Failed: '#991b1b',
  } as Record<string, string>,
};

/** A used / limit bar with percent and absolute figures, read out as text too. */
export function usageBar(label: string, used: number, limit: number, show: (n: number) => string) {
  const pct = limit > 0 ? Math.round((used / limit) * 100) : used > 0 ? 100 : 0;
  const level = pct >= 100 ? 'over' : pct >= 90 ? 'near' : 'ok';
  const text = t('usageOf', { used: show(used), limit: show(limit), percent: pct });
  return html`<div class="usage">
    <span class="usage-label">${label}</span>
    <div class="bar ${level}" role="meter" aria-label=${`${label}: ${text}`} aria-valuemin="0" aria-valuemax="100" aria-valuenow=${Math.min(pct, 100)}>
      <div class="fill" style="width:${Math.min(pct, 100)}%"></div>
    </div>
    <span class="usage-text">${text}</span>
  </div>`;
}

interface Series {
  label: string;
  values: number[];
  color: string;
}

/** A stacked horizontal bar chart; data updates redraw without animation. */
export class BarChart extends LitElement {
  static override properties = { labels: { attribute: false }, series: { attribute: false }, caption: {}, unit: {} };
  declare labels: string[];
  declare series: Series[];
  declare caption: string;
  declare unit: string;
  private chart?: Chart;
  private drawn?: string;

  constructor() {
    super();
    this.labels = [];
    this.series = [];
    this.caption = '';
    this.unit = '';
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override render() {
    const height = Math.max(120, 34 * this.labels.length + 60);
    // The canvas is drawn; the table beside it is what screen readers and tests read.
    return html`<figure class="chart">
      <figcaption>${this.caption}</figcaption>
      <div class="canvas-box" style="height:${height}px"><canvas role="img" aria-label=${this.caption}></canvas></div>
      <table class="sr-only">
        <caption>${this.caption}</caption>
        <tr><th></th>${this.series.map((s) => html`<th>${s.label}</th>`)}</tr>
        ${this.labels.map((l, i) => html`<tr><th>${l}</th>${this.series.map((s) => html`<td>${formatNumber(s.values[i] ?? 0, 1)} ${this.unit}</td>`)}</tr>`)}
      </table>
    </figure>`;
  }

  protected override updated(_changed: PropertyValues): void {
    // Pages re-render on every change of their caches; chart.js's layout is the costly part
    // of a render, so the chart is only touched when what it shows changed.
    const drawn = JSON.stringify([this.labels, this.series, this.unit]);
    // Nothing to draw yet (the lists are still coming): build the chart once they are in.
    if (drawn === this.drawn || (!this.chart && this.labels.length === 0)) return;
    this.drawn = drawn;
    const data = { labels: this.labels, datasets: this.series.map((s) => ({ label: s.label, data: s.values, backgroundColor: s.color, borderWidth: 0, barThickness: 18 })) };
    if (!this.chart) {
      this.chart = new Chart(this.querySelector('canvas')!, {
        type: 'bar',
        data,
        options: {
          indexAxis: 'y',
          animation: false,
          maintainAspectRatio: false,
          responsive: true,
          scales: { x: { stacked: true, title: { display: true, text: this.unit } }, y: { stacked: true } },
          plugins: { legend: { position: 'bottom' } },
        },
      });
    } else {
      this.chart.data = data;
      (this.chart.options.scales!.x as { title: { text: string } }).title.text = this.unit;
      this.chart.update('none');
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.chart?.destroy();
    this.chart = undefined;
    this.drawn = undefined;
  }
}
customElements.define('vf-bar-chart', BarChart);

export class DoughnutChart extends LitElement {
  static override properties = { labels: { attribute: false }, values: { attribute: false }, colors: { attribute: false }, caption: {} };
  declare labels: string[];
  declare values: number[];
  declare colors: string[];
  declare caption: string;
  private chart?: Chart;
  private drawn?: string;

  constructor() {
    super();
    this.labels = [];
    this.values = [];
    this.colors = [];
    this.caption = '';
  }

  protected override createRenderRoot(): HTMLElement {
    return this;
  }

  override render() {
    return html`<figure class="chart">
      <figcaption>${this.caption}</figcaption>
      <div class="canvas-box doughnut"><canvas role="img" aria-label=${this.caption}></canvas></div>
    </figure>`;
  }

  protected override updated(): void {
    const drawn = JSON.stringify([this.labels, this.values, this.colors]);
    if (drawn === this.drawn || (!this.chart && this.labels.length === 0)) return;
    this.drawn = drawn;
    const data = { labels: this.labels, datasets: [{ data: this.values, backgroundColor: this.colors, borderWidth: 1 }] };
    if (!this.chart) {
      this.chart = new Chart(this.querySelector('canvas')!, {
        type: 'doughnut',
        data,
        options: { animation: false, maintainAspectRatio: false, plugins: { legend: { position: 'right' } } },
      });
    } else {
      this.chart.data = data;
      this.chart.update('none');
    }
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.chart?.destroy();
    this.chart = undefined;
    this.drawn = undefined;
  }
}
customElements.define('vf-doughnut-chart', DoughnutChart);

/** Page n (from 0) of a long list: rendering 10,000 rows at once is never needed. */
export function pageOf<T>(items: T[], page: number, size: number): { rows: T[]; page: number; pages: number } {
  const pages = Math.max(1, Math.ceil(items.length / size));
  const p = Math.min(Math.max(0, page), pages - 1);
  return { rows: items.slice(p * size, p * size + size), page: p, pages };
}

export function pager(total: number, page: number, size: number, go: (page: number) => void) {
  const pages = Math.max(1, Math.ceil(total / size));
  const from = total === 0 ? 0 : page * size + 1;
  const to = Math.min(total, (page + 1) * size);
  return html`<nav class="pager" aria-label=${t('page', { n: page + 1, of: pages })}>
    <button type="button" ?disabled=${page <= 0} @click=${() => go(page - 1)}>${t('previous')}</button>
    <span>${t('showing', { from, to, total })} · ${t('page', { n: page + 1, of: pages })}</span>
    <button type="button" ?disabled=${page >= pages - 1} @click=${() => go(page + 1)}>${t('next')}</button>
  </nav>`;
}

export function phaseBadge(phase: string | undefined) {
  const p = phase ?? 'Pending';
  return html`<span class="badge phase-${p.toLowerCase()}" data-phase=${p}>${p}</span>`;
}
