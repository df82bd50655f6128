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
