import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleReport } from '../render/report.fixture.js';
import type { ChartSection } from '../report-document.js';
import { renderChartPng } from './chart-png.js';
import { renderChartSvg } from './chart-svg.js';

const charts = sampleReport().sections.filter((s): s is ChartSection => s.kind === 'chart');
const [lineChart, hbarChart] = charts.map((s) => s.chart);

function pngSize(png: Buffer): { width: number; height: number } {
  assert.equal(png.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'PNG signature');
  assert.equal(png.subarray(12, 16).toString('latin1'), 'IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

describe('chart rendering on the server', () => {
  it('draws a line chart to SVG with its series names, axis and in-progress label', () => {
    const svg = renderChartSvg(lineChart, { width: 600, height: 300 });
    assert.match(svg, /^<svg[^>]*width="600"[^>]*height="300"/);
    assert.ok(svg.includes('signup 注册'));
    assert.ok(svg.includes('purchase'));
    assert.ok(svg.includes('in progress'));
    assert.ok(svg.includes('1,500'), 'value axis with thousands separators');
    assert.match(svg, /stroke-dasharray/);
  });

  it('draws a top-N bar chart with every name', () => {
    const svg = renderChartSvg(hbarChart, { width: 600, height: 260 });
    for (const name of ['page_view', '购买 purchase', 'Заказ оформлен', '결제 완료', '=1+2', '812,345']) {
      assert.ok(svg.includes(name), name);
    }
  });

  it('rasterises to a PNG of the asked size, and of twice the size at pixel ratio 2', async () => {
    assert.deepEqual(pngSize(await renderChartPng(lineChart, { width: 560, height: 280 })), { width: 560, height: 280 });
    assert.deepEqual(pngSize(await renderChartPng(hbarChart, { width: 300, height: 200, pixelRatio: 2 })), { width: 600, height: 400 });
  });
});
