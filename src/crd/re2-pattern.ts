// CRD `pattern` keywords run on RE2 (re2js), as kube-apiserver runs them on Go's regexp:
// matching takes time linear in the input, so no pattern and no value can make one request
// backtrack for seconds and stall the event loop, which JavaScript's RegExp allows
// (`^(a+)+$` against "aaaa…!"). The price is RE2's syntax: no lookarounds, no backreferences;
// a CRD using them is refused when it is written, as kube-apiserver refuses it.
import { RE2JS } from 're2js';
import type { RegExpEngine, RegExpLike } from 'ajv/dist/types/index.js';

/** Why RE2 refuses `pattern` ("error parsing regexp: …"), or undefined when it compiles. */
export function re2PatternError(pattern: string): string | undefined {
  try {
    RE2JS.compile(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * ajv's `code.regExp`: RE2 in place of RegExp. A pattern RE2 refuses can only come from a
 * schema stored before this check existed; it matches nothing, so values under it are refused
 * with a cause naming the pattern rather than the request failing.
 */
export const re2Engine: RegExpEngine = Object.assign(
  (pattern: string): RegExpLike => {
    let compiled: RE2JS | undefined;
    try {
      compiled = RE2JS.compile(pattern);
    } catch {
      compiled = undefined;
    }
    // ajv keys its compiled patterns by toString(): it must tell patterns apart.
    return { test: (s: string) => compiled?.test(s) ?? false, toString: () => `re2:${pattern}` } as RegExpLike;
  },
  { code: 'require("re2js").RE2JS.compile' },
);
