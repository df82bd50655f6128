import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { axisUnit, CHART_PALETTE, chartOption } from './chart-option.js';
import type { ChartSpec } from './chart-spec.js';

const line: ChartSpec = {
  type: 'line',
  categories: ['2026-11-28', '2026-11-29', '2026-11-30'],
  series: [
    { name: 'signup 注册', values: [10, 12, 5] },
    { name: 'purchase', values: [4, null, 2] },
  ],
  unit: 'count',
  inProgressFrom: 2,
};

type Series = { name: string; data: unknown[]; lineStyle?: { type?: string; color?: string }; markArea?: unknown };

describe('chart option', () => {
  it('is plain JSON (the dashboard receives it as it is)', () => {
    for (const spec of [line, { ...line, type: 'bar' as const }, { ...line, type: 'hbar' as const, unit: 'seconds' as const }]) {
      const option = chartOption(spec);
      assert.deepEqual(JSON.parse(JSON.stringify(option)), option);
      assert.doesNotMatch(JSON.stringify(option, (_k, v) => (typeof v === 'function' ? 'FUNCTION' : v)), /FUNCTION/);
    }
  });

  it('draws the in-progress part of a line as a dashed series of the same name and colour, shaded and labelled', () => {
    const option = chartOption(line) as { series: Series[]; legend: { data: string[] } };
    assert.equal(option.series.length, 4);
    const [solid, dashed] = option.series;
    assert.equal(solid.name, 'signup 注册');
    assert.equal(dashed.name, 'signup 注册');
    assert.deepEqual(solid.data, [10, 12, null]);
    assert.deepEqual(dashed.data, [null, 12, 5]);
    assert.equal(dashed.lineStyle?.type, 'dashed');
    assert.equal(dashed.lineStyle?.color, solid.lineStyle?.color);
    assert.equal(solid.lineStyle?.color, CHART_PALETTE[0]);
    assert.match(JSON.stringify(dashed.markArea), /in progress/);
    assert.deepEqual(option.legend.data, ['signup 注册', 'purchase']);
  });

  it('keeps a complete chart in one series per line', () => {
    const option = chartOption({ ...line, inProgressFrom: undefined }) as { series: Series[] };
    assert.equal(option.series.length, 2);
    assert.doesNotMatch(JSON.stringify(option), /in progress/);
  });

  it('marks in-progress bars pale and dashed', () => {
    const option = chartOption({ ...line, type: 'bar' }) as { series: Series[] };
    const data = option.series[0].data;
    assert.equal(data[0], 10);
    assert.match(JSON.stringify(data[2]), /"borderType":"dashed"/);
  });

  it('says "No data" on a chart without values', () => {
    assert.match(JSON.stringify(chartOption({ type: 'line', categories: [], series: [], unit: 'count' })), /"text":"No data"/);
    assert.match(JSON.stringify(chartOption({ ...line, series: [{ name: 'a', values: [null, null, null] }] })), /No data/);
    assert.doesNotMatch(JSON.stringify(chartOption(line)), /No data/);
  });

  it('labels the value axis by unit, durations in s, min or h', () => {
    assert.equal(axisUnit({ unit: 'percent', series: [] }).template, '{value} %');
    assert.deepEqual(axisUnit({ unit: 'seconds', series: [{ name: 'a', values: [30, 90] }] }), { template: '{value} s', divisor: 1 });
    assert.deepEqual(axisUnit({ unit: 'seconds', series: [{ name: 'a', values: [245, 1000] }] }), { template: '{value} min', divisor: 60 });
    assert.deepEqual(axisUnit({ unit: 'seconds', series: [{ name: 'a', values: [20_000] }] }), { template: '{value} h', divisor: 3600 });
    const option = chartOption({ type: 'line', categories: ['a', 'b'], series: [{ name: 's', values: [245, 600] }], unit: 'seconds' }) as {
      series: Series[];
    };
    assert.deepEqual(option.series[0].data, [4.08, 10]);
  });

  it('puts top-N names on the y axis, top first, with formatted value labels', () => {
    const option = chartOption({
      type: 'hbar',
      categories: ['page_view', 'signup'],
      series: [{ name: 'Sessions', values: [1234567, 245] }],
      unit: 'count',
    }) as { yAxis: { type: string; inverse: boolean; data: string[] }; series: Series[] };
    assert.equal(option.yAxis.type, 'category');
    assert.equal(option.yAxis.inverse, true);
    assert.deepEqual(option.yAxis.data, ['page_view', 'signup']);
    assert.deepEqual(option.series[0].data[0], { value: 1234567, label: { formatter: '1,234,567' } });
  });
});
