// Interoperability with client-side `kubectl apply`, which remembers its configuration in an
// annotation instead of managedFields (lastappliedmanager.go, lastappliedupdater.go).

import { clone, type KubeObject } from '../machinery/object.js';
import { isPlainObject } from '../machinery/object.js';
import type { JSONSchemaProps } from '../machinery/resource.js';
import { compareObjects } from './compare.js';
import { fieldSetOf } from './field-set-of.js';
import type { FieldSet } from './fieldset.js';
import { goJson } from './json.js';

export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
/** Only kubectl's own server-side apply takes over from its client-side apply. */
export const kubectlApplyManager = 'kubectl';
// Annotations as a whole may not exceed this; a larger last-applied copy is dropped instead.
const totalAnnotationSizeLimit = 256 * 1024;

/**
 * The fields client-side apply last applied and that still hold those values: conflicts on
 * them are the applier's own earlier intent, not another manager's, so they may be taken.
 * Undefined when there is no usable annotation.
 */
export function fieldsStillAsLastApplied(
  live: KubeObject,
  apiVersion: string,
  schema: JSONSchemaProps | undefined,
): FieldSet | undefined {
  const text = live.metadata?.annotations?.[lastAppliedAnnotation];
  if (!text) return undefined;
  let lastApplied: unknown;
  try {
    lastApplied = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isPlainObject(lastApplied) || lastApplied.apiVersion !== apiVersion) return undefined;
  try {
    const set = fieldSetOf(lastApplied, schema);
    const diff = compareObjects(lastApplied, live, schema);
    return set.difference(diff.modified).difference(diff.added).difference(diff.removed);
  } catch {
    return undefined;
  }
}

/**
 * After kubectl's server-side apply, keeps an existing last-applied annotation in step with
 * what was applied, so a later client-side apply still computes the right deletions.
 */
export function syncLastApplied(object: KubeObject, applied: KubeObject, manager: string): void {
  if (manager !== kubectlApplyManager) return;
  const annotations = object.metadata.annotations;
  if (!annotations?.[lastAppliedAnnotation]) return;
  const copy = clone(applied);
  if (copy.metadata?.annotations) delete copy.metadata.annotations[lastAppliedAnnotation];
  const text = goJson(copy);
  if (text.length > totalAnnotationSizeLimit) delete annotations[lastAppliedAnnotation];
  else annotations[lastAppliedAnnotation] = text;
}
