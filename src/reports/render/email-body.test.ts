import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { escapeHtml, renderEmailBody } from './email-body.js';
import { sampleReport } from './report.fixture.js';

describe('report email body', () => {
  it('has the title, the period, the KPIs and the first chart inline', async () => {
    const body = await renderEmailBody(sampleReport(), { attachmentName: 'weekly-report.pdf' });
    assert.equal(body.subject, 'Weekly product report: 2026-11-01 – 2026-11-30 (in progress)');
    assert.equal(body.inlineImages.length, 1);
    const [image] = body.inlineImages;
    assert.equal(image.contentType, 'image/png');
    assert.equal(image.content.subarray(1, 4).toString('latin1'), 'PNG');
    assert.ok(body.html.includes(`src="cid:${image.cid}"`));
    for (const expected of ['Weekly product report', '2026-11-01 – 2026-11-30', 'in progress', '1,234,567', '45.2 %', '4m 05s', 'Events per day']) {
      assert.ok(body.html.includes(expected), `HTML shows ${expected}`);
    }
    assert.ok(body.html.includes('The full report is attached (weekly-report.pdf).'));
    assert.doesNotMatch(body.html, /<(script|style|link)\b|class=/i, 'inline styles only');
    for (const expected of ['Period: 2026-11-01 – 2026-11-30 (in progress)', '- Events: 1,234,567 (vs. 1,204,113 the period before)', '- Conversion: 45.2 % (in progress)', '- Bounce rate: – (no sessions yet)', 'The full report is attached (weekly-report.pdf).', 'Generated 2026-11-30 14:05 (Europe/Berlin)']) {
      assert.ok(body.text.includes(expected), `text shows ${expected}`);
    }
  });

  it('links to the download with its expiry in the report zone', async () => {
    const body = await renderEmailBody(sampleReport(), {
      downloadUrl: 'https://analytics.example.com/r/1?sig=a&exp=2',
      downloadExpiresAt: Date.UTC(2026, 11, 7, 13, 5),
    });
    assert.ok(body.html.includes('href="https://analytics.example.com/r/1?sig=a&#38;exp=2"'));
    assert.ok(body.html.includes('The link works until 2026-12-07 14:05 (Europe/Berlin).'));
    assert.ok(body.text.includes('https://analytics.example.com/r/1?sig=a&exp=2'));
    assert.ok(body.text.includes('until 2026-12-07 14:05 (Europe/Berlin)'));
    await assert.rejects(renderEmailBody(sampleReport(), { downloadUrl: 'javascript:alert(1)' }), /http/);
  });

  it('escapes every text from the report', async () => {
    const report = sampleReport();
    report.title = 'Sales <script>alert(1)</script>';
    report.parameters.push({ label: '<b>x</b>', value: '"quoted" & \'single\'' });
    report.sections = report.sections.filter((s) => s.kind !== 'chart');
    const body = await renderEmailBody(report, { attachmentName: '<img src=x onerror=alert(1)>.pdf' });
    assert.doesNotMatch(body.html, /<script|<b>|<img src=x/);
    assert.ok(body.html.includes('Sales &#60;script&#62;alert(1)&#60;/script&#62;'));
    assert.ok(body.html.includes('&#34;quoted&#34; &#38; &#39;single&#39;'));
    assert.equal(body.inlineImages.length, 0, 'no chart, no image');
    assert.equal(escapeHtml(`<>&"'`), '&#60;&#62;&#38;&#34;&#39;');
  });
});
