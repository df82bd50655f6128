import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ALL_FONT_FILES, FONT_FILES, hasHangul, textRuns } from './fonts.js';

describe('report fonts', () => {
  it('resolves the four bundled TrueType files', () => {
    assert.equal(ALL_FONT_FILES.length, 4);
    for (const file of ALL_FONT_FILES) {
      assert.ok(existsSync(file), file);
      // TrueType outlines (what pdfkit subsets and resvg reads): the sfnt version 0x00010000.
      assert.equal(readFileSync(file).subarray(0, 4).toString('hex'), '00010000', file);
    }
    assert.match(FONT_FILES.sc.bold, /NotoSansSC_700Bold\.ttf$/);
    assert.match(FONT_FILES.kr.regular, /NotoSansKR_400Regular\.ttf$/);
  });

  it('splits text into runs per font: Hangul in KR, the rest in SC, spaces staying in their run', () => {
    assert.deepEqual(textRuns('signup 注册 регистрация 가입'), [
      { text: 'signup 注册 регистрация ', script: 'sc' },
      { text: '가입', script: 'kr' },
    ]);
    assert.deepEqual(textRuns('결제 완료 (paid)'), [
      { text: '결제 완료 (', script: 'kr' },
      { text: 'paid)', script: 'sc' },
    ]);
    assert.deepEqual(textRuns('  12 가'), [{ text: '  12 가', script: 'kr' }]);
    assert.deepEqual(textRuns('2026'), [{ text: '2026', script: 'sc' }]);
    assert.deepEqual(textRuns(''), []);
    assert.equal(textRuns('a가b나c').map((r) => r.text).join(''), 'a가b나c');
  });

  it('tells Hangul apart from Han and kana', () => {
    assert.equal(hasHangul('가입'), true);
    assert.equal(hasHangul('注册 カタカナ регистрация'), false);
  });
});
