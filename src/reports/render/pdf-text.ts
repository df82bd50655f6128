/**
 * Text in a PDF with the bundled fonts: measured, wrapped, cut with an ellipsis and drawn run by
 * run (Hangul in Noto Sans KR, the rest in Noto Sans SC, see `textRuns`), so mixed text like
 * "signup 注册 регистрация 가입" shows every glyph. Always drawn at an explicit position without
 * pdfkit's own line breaking, so text never adds a page behind the layout's back.
 */
import type PDFDocument from 'pdfkit';
import { FONT_FILES, type FontScript, textRuns } from '../fonts.js';

type Doc = InstanceType<typeof PDFDocument>;

export interface TextStyle {
  size: number;
  bold?: boolean;
  color?: string;
}

/** The font file for a script and weight (pdfkit caches a font by its path, so each loads once). */
export function fontPath(script: FontScript, bold = false): string {
  return FONT_FILES[script][bold ? 'bold' : 'regular'];
}

const ELLIPSIS = '…';
/** Widths are sums of floats: a text measured to fit exactly must still fit. */
const EPSILON = 0.01;
/** Han and kana may break between any two characters; other scripts break at spaces. */
const BREAK_ANYWHERE = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]/u;

/** The height of a line of text at a size (Noto Sans CJK's ascent + descent is about 1.45 em). */
export function lineHeight(size: number): number {
  return size * 1.45;
}

export class PdfText {
  constructor(private readonly doc: Doc) {}

  width(text: string, style: TextStyle): number {
    let width = 0;
    for (const run of textRuns(text)) {
      width += this.doc.font(fontPath(run.script, style.bold)).fontSize(style.size).widthOfString(run.text);
    }
    return width;
  }

  /** Draws one line at (x, y) — y is the top of the line box — and returns its width. */
  draw(text: string, x: number, y: number, style: TextStyle): number {
    const start = x;
    this.doc.fillColor(style.color ?? '#111827');
    for (const run of textRuns(text.replace(/[\r\n\t]+/g, ' '))) {
      this.doc.font(fontPath(run.script, style.bold)).fontSize(style.size);
      this.doc.text(run.text, x, y, { lineBreak: false });
      x += this.doc.widthOfString(run.text);
    }
    return x - start;
  }

  /** Draws one line right-aligned to `right`. */
  drawRight(text: string, right: number, y: number, style: TextStyle): void {
    this.draw(text, right - this.width(text, style), y, style);
  }

  /** The text cut to fit a width, ending in "…" when it had to be cut. */
  ellipsize(text: string, maxWidth: number, style: TextStyle): string {
    if (this.width(text, style) <= maxWidth + EPSILON) return text;
    const chars = [...text];
    let low = 0;
    let high = chars.length;
    while (low < high) {
      const mid = Math.ceil((low + high) / 2);
      if (this.width(chars.slice(0, mid).join('').trimEnd() + ELLIPSIS, style) <= maxWidth + EPSILON) low = mid;
      else high = mid - 1;
    }
    return chars.slice(0, low).join('').trimEnd() + ELLIPSIS;
  }

  /**
   * The text broken into lines that fit a width: at spaces, between Han or kana characters, and
   * inside a word only when the word alone is too wide. With `maxLines`, the last line kept ends
   * in "…" when text was left out.
   */
  wrap(text: string, maxWidth: number, style: TextStyle, maxLines = Infinity): string[] {
    const lines: string[] = [];
    for (const paragraph of text.split(/\r\n|\r|\n/)) {
      let line = '';
      for (const token of tokens(paragraph)) {
        const candidate = line + token;
        if (this.width(candidate.trimEnd(), style) <= maxWidth + EPSILON) {
          line = candidate;
          continue;
        }
        if (line.trim()) lines.push(line.trimEnd());
        line = '';
        const word = token.trimStart();
        if (this.width(word.trimEnd(), style) <= maxWidth + EPSILON) {
          line = word;
          continue;
        }
        for (const ch of word) {
          if (line && this.width((line + ch).trimEnd(), style) > maxWidth + EPSILON) {
            lines.push(line.trimEnd());
            line = ch.trimStart();
          } else line += ch;
        }
      }
      lines.push(line.trimEnd());
      if (lines.length > maxLines) break;
    }
    if (lines.length <= maxLines) return lines;
    const kept = lines.slice(0, maxLines);
    kept[maxLines - 1] = this.ellipsize(kept[maxLines - 1] + ELLIPSIS, maxWidth, style);
    return kept;
  }
}

/** Words with their trailing spaces; Han and kana characters one by one. */
function tokens(text: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const ch of text) {
    if (BREAK_ANYWHERE.test(ch)) {
      if (current) out.push(current);
      out.push(ch);
      current = '';
    } else if (ch === ' ' || ch === '\t') {
      current += ' ';
      out.push(current);
      current = '';
    } else current += ch;
  }
  if (current) out.push(current);
  return out;
}
