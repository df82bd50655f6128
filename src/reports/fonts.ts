/**
 * The fonts every report format draws with, bundled as npm packages so a PDF or a chart PNG
 * renders every glyph on a machine with no fonts installed (and never falls back to the PDF
 * standard 14 fonts, which have no CJK, Cyrillic beyond Latin-1, or Hangul).
 *
 * Noto Sans SC covers Latin, Cyrillic, Greek, Han and kana, but not Hangul; Noto Sans KR covers
 * Hangul (and Latin, Cyrillic and common Han). A text is drawn in runs: Hangul in KR, the rest
 * in SC (`textRuns`).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CHART_FONT_FAMILY, FONT_FAMILIES, type FontScript } from './charts/chart-font.js';

export { CHART_FONT_FAMILY, FONT_FAMILIES, type FontScript };

const require = createRequire(import.meta.url);

function packageFile(pkg: string, relative: string): string {
  return join(dirname(require.resolve(`${pkg}/package.json`)), relative);
}

export type FontWeight = 'regular' | 'bold';

/** The four TTF files, by script and weight. */
export const FONT_FILES: Readonly<Record<FontScript, Readonly<Record<FontWeight, string>>>> = {
  sc: {
    regular: packageFile('@expo-google-fonts/noto-sans-sc', '400Regular/NotoSansSC_400Regular.ttf'),
    bold: packageFile('@expo-google-fonts/noto-sans-sc', '700Bold/NotoSansSC_700Bold.ttf'),
  },
  kr: {
    regular: packageFile('@expo-google-fonts/noto-sans-kr', '400Regular/NotoSansKR_400Regular.ttf'),
    bold: packageFile('@expo-google-fonts/noto-sans-kr', '700Bold/NotoSansKR_700Bold.ttf'),
  },
};

/** Every bundled font file (for resvg's `fontFiles`). */
export const ALL_FONT_FILES: readonly string[] = [
  FONT_FILES.sc.regular,
  FONT_FILES.sc.bold,
  FONT_FILES.kr.regular,
  FONT_FILES.kr.bold,
];

export interface TextRun {
  text: string;
  script: FontScript;
}

const HANGUL = /\p{Script=Hangul}/u;
/** Characters of no script of their own (spaces, digits, punctuation, marks) stay in the run they are in. */
const NEUTRAL = /[\p{Script=Common}\p{Script=Inherited}]/u;

export function hasHangul(text: string): boolean {
  return HANGUL.test(text);
}

/**
 * Splits a text into runs per font: Hangul → KR, everything else → SC. Spaces, digits and
 * punctuation join the run they follow (a leading one the run it precedes), so "signup 注册
 * регистрация 가입" is two runs, not seven.
 */
export function textRuns(text: string): TextRun[] {
  const runs: TextRun[] = [];
  let pending = '';
  for (const ch of text) {
    if (NEUTRAL.test(ch)) {
      if (runs.length > 0) runs[runs.length - 1].text += ch;
      else pending += ch;
      continue;
    }
    const script: FontScript = HANGUL.test(ch) ? 'kr' : 'sc';
    const last = runs[runs.length - 1];
    if (last && last.script === script) last.text += ch;
    else runs.push({ text: pending + ch, script });
    pending = '';
  }
  if (pending) runs.push({ text: pending, script: 'sc' });
  return runs;
}
