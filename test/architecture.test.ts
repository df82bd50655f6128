import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import {
  type Allowance,
  boundaryViolations,
  describeImport,
  featureOf,
  importsOf,
  readSources,
} from './support/feature-boundaries.js';

// Run from dist/test/: the sources are two levels up.
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/**
 * Imports into another feature's internal files that stay for now, each with what ends it.
 * The test fails when one is no longer used, so the list only shrinks. Features being moved
 * are named by both their names (src/track is becoming src/sources/openpanel).
 */
const ALLOWED: Allowance[] = [
  {
    from: ['events'],
    to: ['sessions/session-assigner.ts', 'sessions/session-summarizer.ts'],
    names: ['SessionAssigner', 'SessionSummarizer', 'addSession', 'sessionsOf', 'TouchedSessions'],
    why:
      "the sessions' injectables, public in role but not named *.service.ts; renaming them edits " +
      'ingest-pipeline.service.ts, which the typed-seams branch is changing',
  },
  {
    from: ['realtime'],
    to: ['accounts/authorization.ts'],
    names: ['authorize'],
    why: 'the one authorization policy, used by the WebSocket gateway: to be offered by AccountsService or an auth guard',
  },
];

describe('feature boundaries', () => {
  const sources = readSources(SRC);

  it('no feature imports another feature’s internal files', () => {
    const { violations } = boundaryViolations(sources, ALLOWED);
    assert.deepEqual(
      violations.map(describeImport),
      [],
      'A feature may import another feature only through its public files (*.module.ts, *.service.ts, *.types.ts, ' +
        '*.decorators.ts, *.guard.ts, index.ts); shared code lives in src/infrastructure (ports, the ClickHouse ' +
        'query kit), src/common and src/config. See test/support/feature-boundaries.ts.',
    );
  });

  it('every allowance is still used (the list only shrinks)', () => {
    const { unused } = boundaryViolations(sources, ALLOWED);
    assert.deepEqual(
      unused.map((a) => `${a.from.join('|')} -> ${a.to.join(', ')}`),
      [],
      'these allowances match no import any more: remove them from ALLOWED',
    );
  });

  it('the query kit depends on no feature, only on the ClickHouse port', () => {
    const outside = [...sources]
      .filter(([file]) => file.startsWith('infrastructure/clickhouse/query/'))
      .flatMap(([file, source]) => importsOf(file, source))
      .filter((i) => !i.target.startsWith('infrastructure/clickhouse/'))
      .map(describeImport);
    assert.deepEqual(outside, []);
  });

  it('knows the feature folders', () => {
    const features = new Set([...sources.keys()].map(featureOf));
    for (const f of ['accounts', 'events', 'sessions', 'insights', 'metrics', 'profiles', 'realtime', 'observability']) {
      assert.ok(features.has(f), `${f} is a feature`);
    }
    assert.equal(featureOf('infrastructure/clickhouse/query/query-kit.ts'), 'shared');
    assert.equal(featureOf('common/time.ts'), 'shared');
    assert.equal(featureOf('app.module.ts'), 'root');
    assert.equal(featureOf('sources/openpanel/track.controller.ts'), 'sources/openpanel');
    assert.equal(featureOf('reports/report.service.ts'), 'reports');
  });
});

describe('the boundary check itself', () => {
  const check = (files: Record<string, string>, allowed: Allowance[] = []) =>
    boundaryViolations(new Map(Object.entries(files)), allowed);

  it('reports an import of another feature’s internal file, with where and what', () => {
    const { violations } = check({
      'insights/insights-query.ts': `import { ParamBag } from '../metrics/field-ref.js';\nimport type { Interval } from '../metrics/metric.types.js';`,
      'alerts/alert.evaluator.ts': `import {\n  pointsQuery,\n  type QueryOptions as Options,\n} from '../metrics/metric-query.js';`,
    });
    assert.deepEqual(violations.map(describeImport), [
      "src/insights/insights-query.ts:1 imports ParamBag from '../metrics/field-ref.js' (src/metrics/field-ref.ts, internal to metrics/)",
      "src/alerts/alert.evaluator.ts:4 imports pointsQuery, QueryOptions from '../metrics/metric-query.js' (src/metrics/metric-query.ts, internal to metrics/)",
    ]);
  });

  it('lets through public files, the shared folders, the root and a feature’s own files', () => {
    const { violations } = check({
      'reports/report.service.ts': [
        `import { MetricsService } from '../metrics/metrics.service.js';`,
        `import { MetricsModule } from '../metrics/metrics.module.js';`,
        `import type { MetricDocument } from '../metrics/metric.types.js';`,
        `import { RequirePermission } from '../accounts/auth.decorators.js';`,
        `import { ParamBag } from '../infrastructure/clickhouse/query/query-kit.js';`,
        `import { ApiError } from '../common/api-error.js';`,
        `import { reportSql } from './report.query.js';`,
      ].join('\n'),
      'app.factory.ts': `import { EVENT_LIMITS } from './events/event.validator.js';`,
    });
    assert.deepEqual(violations, []);
  });

  it('treats each source as its own feature', () => {
    const { violations } = check({
      'sources/segment/segment.controller.ts': `import { decode } from '../openpanel/track-envelope.js';\nimport { x } from './segment.decoder.js';`,
    });
    assert.deepEqual(violations.map((v) => v.target), ['sources/openpanel/track-envelope.ts']);
  });

  it('counts dynamic and re-exports, and ignores comments and SQL text', () => {
    const { violations } = check({
      'alerts/a.ts': [
        `// import { ParamBag } from '../metrics/field-ref.js';`,
        `/* import { ParamBag } from '../metrics/field-ref.js'; */`,
        'const sql = `SELECT x FROM events WHERE y IN (SELECT z from \'../metrics/field-ref.js\')`;',
        `export { resolveField } from '../metrics/field-ref.js';`,
        `const m = await import('../metrics/formula.js');`,
      ].join('\n'),
    });
    assert.deepEqual(violations.map(describeImport), [
      "src/alerts/a.ts:4 imports resolveField from '../metrics/field-ref.js' (src/metrics/field-ref.ts, internal to metrics/)",
      "src/alerts/a.ts:5 imports * from '../metrics/formula.js' (src/metrics/formula.ts, internal to metrics/)",
    ]);
  });

  it('allows only the names an allowance lists, and reports unused allowances', () => {
    const allowed: Allowance[] = [
      { from: ['metrics'], to: ['events/events.migrations.ts'], names: ['ROLLUP_TABLE'], why: 'schema' },
      { from: ['insights'], to: ['sessions/session-summaries.ts'], why: 'schema' },
    ];
    const { violations, unused } = check(
      {
        'metrics/metric-query.ts': `import { ROLLUP_TABLE } from '../events/events.migrations.js';`,
        'metrics/other.ts': `import { ROLLUP_TABLE, EVENTS_MIGRATIONS } from '../events/events.migrations.js';`,
      },
      allowed,
    );
    assert.deepEqual(violations.map((v) => v.file), ['metrics/other.ts']);
    assert.deepEqual(unused, [allowed[1]]);
  });
});
