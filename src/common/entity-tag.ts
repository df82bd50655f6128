import { ApiError } from './api-error.js';
/**
 * Entity tags of versioned documents (RFC 9110 §8.8.3, §13.1.1): the ETag of a document at
 * version 3 is the strong validator `"3"`, and `If-Match` lists the tags a change may apply to.
 */

/** The strong ETag of a document version: `"3"`. */
export function versionTag(version: number): string {
  return `"${version}"`;
}

/** An `If-Match` field value: `*` (any current representation) or a list of entity tags. */
export type IfMatch = { any: true } | { any: false; tags: { weak: boolean; opaque: string }[] };

/**
 * Parses `If-Match` (`"*" / #entity-tag`, where entity-tag is `[W/] DQUOTE *etagc DQUOTE`); empty
 * list elements are ignored as the list syntax requires. Null when the value is malformed, e.g.
 * an unquoted `3`. Several If-Match lines reach us joined with ", ", which is the same list.
 */
export function parseIfMatch(value: string): IfMatch | null {
  const text = value.trim();
  if (text === '*') return { any: true };
  const tags: { weak: boolean; opaque: string }[] = [];
  const element = /[ \t]*(?:(W\/)?"([\x21\x23-\x7e\x80-\xff]*)")?[ \t]*(,|$)/y;
  let at = 0;
  while (at < text.length) {
    element.lastIndex = at;
    const m = element.exec(text);
    if (!m || m.index !== at || element.lastIndex === at) return null;
    if (m[2] !== undefined) tags.push({ weak: m[1] !== undefined, opaque: m[2] });
    at = element.lastIndex;
  }
  return tags.length > 0 ? { any: false, tags } : null;
}

/** Whether a tag list accepts a version: strong comparison, so a weak tag never does. */
export function acceptsVersion(ifMatch: IfMatch, version: number): boolean {
  return ifMatch.any || ifMatch.tags.some((t) => !t.weak && t.opaque === String(version));
}

/** The `If-Match` request header, parsed; a malformed one is a 400 naming it. */
export function ifMatchHeader(value: string | undefined, what: string): IfMatch | undefined {
  if (value === undefined) return undefined;
  const parsed = parseIfMatch(value);
  if (!parsed) {
    throw ApiError.validation([{ field: 'If-Match', message: `must be * or quoted entity tags such as "3" (the ETag of the ${what}'s GET)` }]);
  }
  return parsed;
}
