/**
 * The font names charts are drawn with, in a module of its own with no Node imports: the live
 * dashboard loads chart-option.js (and so this) in the browser. fonts.ts, which finds the TTF
 * files, re-exports these.
 */

export type FontScript = 'sc' | 'kr';

/** Family names as the bundled TTFs declare them (what an SVG's font-family must say). */
export const FONT_FAMILIES: Readonly<Record<FontScript, string>> = {
  sc: 'Noto Sans SC',
  kr: 'Noto Sans KR',
};

/** The CSS font-family list charts use: the bundled fonts on the server, the browser's own otherwise. */
export const CHART_FONT_FAMILY = `${FONT_FAMILIES.sc}, ${FONT_FAMILIES.kr}, sans-serif`;
