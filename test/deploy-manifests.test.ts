import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments, parse } from 'yaml';
import { loadConfig, settingNames } from '../src/config/config.schema.js';

const root = new URL('../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');
const settings = new Set(settingNames());

type Doc = Record<string, any>;
const manifests: Doc[] = readdirSync(new URL('k8s/', root))
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(read(`k8s/${f}`)).map((d) => ({ ...(d.toJSON() as Doc), __file: f })));
const byKind = (kind: string) => manifests.filter((m) => m.kind === kind);
const deployment = (name: string) => byKind('Deployment').find((d) => d.metadata.name === name)!;
const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
  Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('Kubernetes manifests', () => {
  it('has api and worker Deployments, a Service, an HPA, PDBs, a ConfigMap and a Secret template', () => {
    for (const kind of ['Deployment', 'Service', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ConfigMap', 'Secret']) {
      assert.ok(byKind(kind).length > 0, kind);
    }
    assert.ok(deployment('analytics-api') && deployment('analytics-worker'));
  });

  for (const [name, role] of [
    ['analytics-api', 'api'],
    ['analytics-worker', 'worker'],
  ] as const) {
    it(`${name}: runs ROLE=${role} from a pinned image, probes /ready and /health, bounds its resources`, () => {
      const d = deployment(name);
      assert.ok(matches(d.spec.selector.matchLabels, d.spec.template.metadata.labels), 'selector matches pod labels');
      const [c] = d.spec.template.spec.containers;
      assert.match(c.image, /^[\w./-]+:\d+\.\d+\.\d+$/, 'image pinned to a version, not latest');
      assert.equal(c.env.find((e: Doc) => e.name === 'ROLE').value, role);
      const port = c.ports[0].containerPort;
      assert.deepEqual(c.readinessProbe.httpGet, { path: '/ready', port });
      assert.deepEqual(c.livenessProbe.httpGet, { path: '/health', port });
      for (const kind of ['requests', 'limits']) for (const r of ['cpu', 'memory']) assert.ok(c.resources[kind][r], `${kind}.${r}`);
      for (const e of c.env) assert.ok(settings.has(e.name), `env ${e.name} is a setting`);
      const refs = c.envFrom.map((e: Doc) => e.configMapRef?.name ?? e.secretRef?.name);
      assert.deepEqual(refs.sort(), ['analytics-config', 'analytics-secrets']);
      // The environment the pod gets is one the service accepts at boot.
      const env = {
        ...byKind('ConfigMap')[0]!.data,
        ...byKind('Secret')[0]!.stringData,
        ...Object.fromEntries(c.env.map((e: Doc) => [e.name, e.value])),
      };
      assert.equal(loadConfig(env).role, role);
    });
  }

  it('names only real settings in the ConfigMap and the Secret template', () => {
    const keys = [...Object.keys(byKind('ConfigMap')[0]!.data), ...Object.keys(byKind('Secret')[0]!.stringData)];
    assert.deepEqual(keys.filter((k) => !settings.has(k)), []);
    const secret = Object.keys(byKind('Secret')[0]!.stringData);
    assert.ok(secret.includes('ROOT_API_KEY') && secret.includes('CLICKHOUSE_PASSWORD'), 'secrets live in the Secret');
    assert.ok(!Object.keys(byKind('ConfigMap')[0]!.data).some((k) => /PASSWORD|KEY|URI$/.test(k)), 'no secret in the ConfigMap');
  });

  it('points the Service, the HPA and the PDBs at the right pods', () => {
    const api = deployment('analytics-api');
    const [service] = byKind('Service');
    assert.ok(matches(service!.spec.selector, api.spec.template.metadata.labels));
    assert.equal(service!.spec.ports[0].targetPort, api.spec.template.spec.containers[0].ports[0].containerPort);
    const [hpa] = byKind('HorizontalPodAutoscaler');
    assert.deepEqual(hpa!.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: 'analytics-api' });
    assert.ok(hpa!.spec.minReplicas >= 2 && hpa!.spec.maxReplicas > hpa!.spec.minReplicas);
    for (const pdb of byKind('PodDisruptionBudget')) {
      const target = byKind('Deployment').filter((d) => matches(pdb.spec.selector.matchLabels, d.spec.template.metadata.labels));
      assert.equal(target.length, 1, `${pdb.metadata.name} selects one Deployment`);
    }
  });

  it('lists every manifest but the Secret template in kustomization.yaml', () => {
    const k = parse(read('k8s/kustomization.yaml')) as { resources: string[] };
    const files = readdirSync(new URL('k8s/', root)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    assert.deepEqual(k.resources.sort(), files.filter((f) => f !== 'secret.template.yaml').sort());
  });
});

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as Doc;

  it('runs the whole stack with health checks and named volumes', () => {
    for (const s of ['api', 'worker', 'clickhouse', 'mongodb', 'elasticsearch', 'redis', 'nats']) {
      assert.ok(compose.services[s], s);
      assert.ok(compose.services[s].healthcheck?.test, `${s} has a health check`);
    }
    for (const [name, service] of Object.entries<Doc>(compose.services)) {
      for (const v of service.volumes ?? []) {
        const volume = String(v).split(':')[0]!;
        assert.ok(volume in compose.volumes, `${name} mounts the named volume ${volume}`);
      }
    }
    assert.match(compose.services.nats.command.join(' '), /-js/);
  });

  it('configures api and worker with real settings, each its role, on the README minimum ClickHouse', () => {
    for (const [name, role] of [
      ['api', 'api'],
      ['worker', 'worker'],
    ]) {
      const env = compose.services[name].environment as Record<string, string>;
      assert.equal(env.ROLE, role);
      assert.deepEqual(Object.keys(env).filter((k) => !settings.has(k)), []);
      for (const needed of ['CLICKHOUSE_URL', 'MONGODB_URI', 'ELASTICSEARCH_NODE', 'REDIS_URL', 'NATS_URL']) assert.ok(env[needed], needed);
      const interpolated = Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{(\w+)(?::[-?][^}]*)?\}/g, (_, n: string) => (n === 'ROOT_API_KEY' ? 'k'.repeat(32) : (/:-([^}]*)/.exec(String(v))?.[1] ?? '')))]),
      );
      assert.equal(loadConfig(interpolated).role, role);
    }
    const minimum = /Minimum ClickHouse server version: (\d+)\.(\d+)/.exec(read('README.md'))!;
    const [, major, minor] = /:(\d+)\.(\d+)/.exec(compose.services.clickhouse.image)!;
    assert.ok(Number(major) * 100 + Number(minor) >= Number(minimum[1]) * 100 + Number(minimum[2]), 'ClickHouse image ≥ README minimum');
  });
});
