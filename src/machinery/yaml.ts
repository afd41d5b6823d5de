// YAML as VirtFlow writes it: readable by YAML 1.1 parsers as written. kubectl and every Go
// client read YAML with go-yaml's 1.1 rules, where an unquoted On, off, yes, n, ~, 0755 or
// 1:30 is not the string it looks like; written with the 1.1 schema, such strings are quoted
// and mean the same to YAML 1.1 and 1.2 readers alike.
import YAML from 'yaml';

/** The document as YAML text; long strings are never folded, so diffs stay small. */
export function toYaml(value: unknown): string {
  return YAML.stringify(value, { version: '1.1', lineWidth: 0, aliasDuplicateObjects: false });
}
