import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import PDFDocument from 'pdfkit';
import { FONT_FILES } from '../fonts.js';
import { withKoreanFontForHangul } from './pdf-chart.js';
import { PdfText } from './pdf-text.js';

const text = new PdfText(new PDFDocument({ autoFirstPage: false, font: FONT_FILES.sc.regular }));
const style = { size: 10 };

describe('PDF text', () => {
  it('measures mixed scripts run by run', () => {
    const mixed = text.width('signup 注册 регистрация 가입', style);
    assert.ok(mixed > text.width('signup 注册 регистрация', style));
    assert.ok(Math.abs(text.width('가입', style) - 20) < 2, 'a Hangul syllable is about 1 em');
  });

  it('wraps at spaces, between Han characters, and inside a word only when it must', () => {
    assert.deepEqual(text.wrap('one two three', text.width('one two', style), style), ['one two', 'three']);
    const han = text.wrap('注册注册注册', text.width('注册注', style), style);
    assert.deepEqual(han, ['注册注', '册注册']);
    const word = 'a'.repeat(40);
    const lines = text.wrap(word, text.width('a'.repeat(15), style), style);
    assert.equal(lines.join(''), word);
    assert.ok(lines.every((line) => text.width(line, style) <= text.width('a'.repeat(15), style) + 0.01));
    assert.deepEqual(text.wrap('first\nsecond', 500, style), ['first', 'second']);
  });

  it('cuts with an ellipsis what does not fit its lines', () => {
    const width = text.width('one two', style);
    const lines = text.wrap('one two three four five', width, style, 2);
    assert.equal(lines.length, 2);
    assert.match(lines[1], /…$/);
    assert.ok(text.width(lines[1], style) <= width + 0.01);
    assert.equal(text.ellipsize('short', 500, style), 'short');
    const cut = text.ellipsize('a rather long label', text.width('a rather', style), style);
    assert.match(cut, /^a ra\w*…$/);
    assert.ok(text.width(cut, style) <= text.width('a rather', style) + 0.01);
  });
});

describe('chart SVG for svg-to-pdfkit', () => {
  it('draws labels with Hangul in the KR font and leaves the others alone', () => {
    const svg =
      '<svg><text style="font-size:12px;font-family:Noto Sans SC, Noto Sans KR, sans-serif;">결제 완료</text>' +
      '<text style="font-size:12px;font-family:Noto Sans SC, Noto Sans KR, sans-serif;">注册</text></svg>';
    assert.equal(
      withKoreanFontForHangul(svg),
      '<svg><text style="font-size:12px;font-family:Noto Sans KR;">결제 완료</text>' +
        '<text style="font-size:12px;font-family:Noto Sans SC, Noto Sans KR, sans-serif;">注册</text></svg>',
    );
  });
});
