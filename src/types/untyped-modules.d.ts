// Declarations for the few CommonJS dependencies that ship no types (only what we call).

declare module '@cgamesplay/referer-parser' {
  class Referer {
    constructor(refererUrl: string, currentUrl?: string);
    known: boolean;
    /** the source's name, e.g. "Google" */
    referer: string | null;
    /** search | social | email | paid | internal | unknown */
    medium: string;
    search_term: string | null;
  }
  export default Referer;
}

declare module 'geoip-lite' {
  export interface Lookup {
    country: string;
    region: string;
    city: string;
  }
  export function lookup(ip: string): Lookup | null;
}

declare module 'svg-to-pdfkit' {
  export interface SvgToPdfOptions {
    width?: number;
    height?: number;
    preserveAspectRatio?: string;
    /** Treat SVG user units as points (default: 1px = 0.75pt). */
    assumePt?: boolean;
    /** The font (a registered name or a font file path) for a text's family and style. */
    fontCallback?: (family: string, bold: boolean, italic: boolean, options: { fauxBold: boolean; fauxItalic: boolean }) => string;
    warningCallback?: (message: string) => void;
  }
  function SVGtoPDF(doc: unknown, svg: string, x?: number, y?: number, options?: SvgToPdfOptions): void;
  export default SVGtoPDF;
}
