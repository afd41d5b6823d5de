// The verbs' semantics, independent of HTTP: get, list, create, update, patch, delete,
// deletecollection, each following the Kubernetes API conventions. Every mutation goes through
// ObjectStore (one transaction: object, change log, audit).
import type { FieldValidation } from '../crd/validator.js';
import { errors, ApiError, type StatusCause } from '../machinery/errors.js';
import { generateNameSuffix } from '../machinery/names.js';
import { checkObjectSize } from '../machinery/size.js';
import { clone, type KubeObject } from '../machinery/object.js';
import { deepEqual } from '../apply/json.js';
import { groupVersion, type ResourceInfo } from '../machinery/resource.js';
import type { CachedObject } from '../store/watch-cache.js';
import { storageKey, type AuditRecord, type StorageKey, type StoredRow, type UpdateDecision } from '../store/objects.js';
import type { Store } from '../store/store.js';
import { duplicateValueError, UniqueValueTaken } from '../store/unique-fields.js';
import { normalizeBuiltin, validateObject } from './kind-rules.js';
import {
  bumpGenerationIfSpecChanged,
  carryOverMetadata,
  checkEnvelope,
  describe,
  hasFinalizers,
  immutableMetadataCauses,
  initializeMetadata,
  isBeingDeleted,
  normalizeObjectMeta,
  splitForSubresource,
} from './object-rules.js';
import { resourceId, type ResourceRegistry } from './registry.js';
import { isUnfiltered, selects, type Selection } from './selection.js';
import { decodeContinueToken, encodeContinueToken } from './continue-token.js';

export interface UserInfo {
  username: string;
  groups: string[];
  /** The ServiceAccount's uid, for a ServiceAccount token. */
  uid?: string;
}

export interface WriteOptions {
  dryRun: boolean;
  fieldValidation: FieldValidation;
  fieldManager?: string;
  user: UserInfo;
  userAgent: string;
  subresource?: string;
  /** Server-side apply has already recorded ownership; skip update tracking. */
  applied?: boolean;
}

/** An object as a version shows it, and its JSON text when the stored text is exactly that. */
export interface Shown {
  object: KubeObject;
  text?: string;
}

export interface WriteResult extends Shown {
  warnings: string[];
}

export interface DeleteOptions {
  propagationPolicy?: 'Foreground' | 'Background' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  gracePeriodSeconds?: number;
}

export interface ListOptions {
  limit?: number;
  continueToken?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}

export interface ListResult {
  items: KubeObject[];
  /** Each item as JSON text, from the cache's stored text where it is the served form. */
  texts: string[];
  resourceVersion: string;
  continueToken?: string;
  remainingItemCount?: number;
}

/** Runs before a write is stored; throws an ApiError to refuse it (validating admission). */
export interface Admitter {
  admit(attrs: {
    operation: 'CREATE' | 'UPDATE' | 'DELETE';
    info: ResourceInfo;
    object: KubeObject;
    oldObject?: KubeObject;
    subresource?: string;
    user: UserInfo;
  }): Promise<void> | void;
}

/** Records field ownership in metadata.managedFields on non-apply writes. */
export interface FieldOwnership {
  recordUpdate(before: KubeObject | undefined, after: KubeObject, info: ResourceInfo, opts: WriteOptions, now: string): void;
}

/**
 * Chooses the name of an object created with generateName, or leaves it to the default random
 * suffix by answering undefined. `attempt` counts names already taken in this request.
 */
export type NameGenerator = (info: ResourceInfo, obj: KubeObject, attempt: number) => string | undefined;

export type PatchFunction = (current: KubeObject, info: ResourceInfo, opts: WriteOptions, now: string) => KubeObject;

const MAX_GENERATE_NAME_ATTEMPTS = 8;

export class ObjectService {
  readonly admitters: Admitter[] = [];
  readonly nameGenerators: NameGenerator[] = [];
  ownership?: FieldOwnership;

  constructor(
    readonly store: Store,
    readonly registry: ResourceRegistry,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  private lastSecond = NaN;
  private lastStamp = '';

  /** RFC 3339 to the second, as metav1.Time serializes; formatted once per second. */
  private now(): string {
    const ms = this.clock().getTime();
    const second = Math.floor(ms / 1000);
    if (second !== this.lastSecond) {
      this.lastSecond = second;
      this.lastStamp = `${new Date(second * 1000).toISOString().slice(0, 19)}Z`;
    }
    return this.lastStamp;
  }

  key(info: ResourceInfo, namespace: string | undefined, name: string): StorageKey {
    return { resource: resourceId(info), namespace: info.namespaced ? (namespace ?? '') : '', name };
  }

  /** Objects are stored in one version; each served version shows its own apiVersion. */
  present(obj: KubeObject, info: ResourceInfo): KubeObject {
    const apiVersion = groupVersion(info);
    return obj.apiVersion === apiVersion ? obj : { ...obj, apiVersion };
  }

  private audit(info: ResourceInfo, verb: string, namespace: string | undefined, name: string, opts: WriteOptions): AuditRecord {
    return {
      username: opts.user.username,
      verb,
      apiGroup: info.group,
      resource: info.plural,
      subresource: opts.subresource ?? '',
      namespace: namespace ?? '',
      name,
      userAgent: opts.userAgent,
    };
  }

  async get(info: ResourceInfo, namespace: string | undefined, name: string): Promise<KubeObject> {
    return (await this.read(info, namespace, name)).object;
  }

  /** The object as this version shows it, with its JSON text when that is exactly what is shown. */
  async read(info: ResourceInfo, namespace: string | undefined, name: string): Promise<Shown> {
    const row = await this.store.objects.get(this.key(info, namespace, name));
    if (!row) throw errors.notFound(describe(info), name);
    return this.shown(row, info);
  }

  async list(info: ResourceInfo, selection: Selection, opts: ListOptions = {}): Promise<ListResult> {
    validateListOptions(opts);
    const resource = resourceId(info);
    let entries: CachedObject[] | undefined;
    let listRevision: number;
    let start = '';
    if (opts.continueToken) {
      const token = decodeContinue(opts.continueToken);
      if (opts.resourceVersion && opts.resourceVersion !== '0') {
        throw errors.badRequest('specifying resource version is not allowed when using continue');
      }
      start = token.start;
      listRevision = token.revision;
      await this.waitForRevision(listRevision);
      entries = this.store.cache.listAt(resource, selection.namespace, listRevision);
      if (!entries) {
        throw errors.gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      }
    } else if (this.exactRead(opts)) {
      const wanted = parseRevision(opts.resourceVersion!);
      await this.waitForRevision(wanted);
      entries = this.store.cache.listAt(resource, selection.namespace, wanted);
      if (!entries) throw errors.gone(`too old resource version: ${wanted} (${this.store.cache.oldestWatchable})`);
      listRevision = wanted;
    } else {
      await this.waitForRead(opts.resourceVersion);
      // The revision and the state are read together, in one tick.
      listRevision = this.store.feed.last;
      entries = this.store.cache.list(resource, selection.namespace);
    }
    const items: KubeObject[] = [];
    const texts: string[] = [];
    const served = groupVersion(info);
    let index = 0;
    if (start) {
      index = lowerBound(entries, start);
    }
    const limit = opts.limit && opts.limit > 0 ? opts.limit : Infinity;
    let lastKey = '';
    for (; index < entries.length && items.length < limit; index++) {
      const entry = entries[index]!;
      if (!selects(selection, entry.object)) continue;
      const item = this.present(entry.object, info);
      items.push(item);
      texts.push(entry.text !== undefined && entry.object.apiVersion === served ? entry.text : JSON.stringify(item));
      lastKey = entry.key;
    }
    const result: ListResult = { items, texts, resourceVersion: String(listRevision) };
    if (items.length === limit) {
      let more = false;
      let remaining = 0;
      for (let i = index; i < entries.length; i++) {
        if (selects(selection, entries[i]!.object)) {
          more = true;
          remaining++;
          if (!isUnfiltered(selection)) break;
        }
      }
      if (more) {
        result.continueToken = encodeContinue({ revision: listRevision, start: `${lastKey}\u0000` });
        if (isUnfiltered(selection)) result.remainingItemCount = remaining;
      }
    }
    return result;
  }

  /**
   * resourceVersionMatch=Exact, or (the legacy rule) a non-zero resourceVersion with a limit
   * and no match: the list shows the state at exactly that revision.
   */
  private exactRead(opts: ListOptions): boolean {
    const rv = opts.resourceVersion;
    if (rv === undefined || rv === '' || rv === '0') return false;
    if (opts.resourceVersionMatch === 'Exact') return true;
    return (opts.resourceVersionMatch === undefined || opts.resourceVersionMatch === '') && (opts.limit ?? 0) > 0;
  }

  /** Waits until the cache has reached `wanted`; refuses one the store has not handed out. */
  async waitForRevision(wanted: number): Promise<void> {
    if (wanted <= this.store.feed.last) return;
    const latest = await this.store.feed.latestAllocated();
    if (wanted > latest) {
      throw new ApiError(504, 'Timeout', `Too large resource version: ${wanted}, current: ${latest}`, {
        causes: [{ type: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
        retryAfterSeconds: 1,
      });
    }
    await this.store.feed.waitFor(wanted);
  }

  /**
   * Waits until the cache is fresh enough for a read at `resourceVersion`: the newest state
   * when unset, anything for "0", and at least that revision otherwise (NotOlderThan).
   */
  async waitForRead(resourceVersion?: string): Promise<void> {
    if (resourceVersion === '0') return;
    if (resourceVersion === undefined || resourceVersion === '') {
      await this.store.syncCache();
      return;
    }
    await this.waitForRevision(parseRevision(resourceVersion));
  }

  /**
   * Refuses a create in a namespace that does not exist or is being deleted. Answers a
   * promise only when the namespace is not in the cache and has to be read: this and
   * admission run for every create, and an await costs where nothing is waited for.
   */
  private checkNamespace(info: ResourceInfo, namespace: string | undefined, name: string): Promise<void> | undefined {
    if (!info.namespaced) return undefined;
    if (!namespace) throw errors.badRequest('a namespace is required for this resource');
    const nsInfo = this.registry.lookup('', 'v1', 'namespaces')!;
    const cached = this.store.cache.get(resourceId(nsInfo), `/namespaces//${namespace}`);
    if (cached) {
      namespaceAccepts(cached.object, info, namespace, name);
      return undefined;
    }
    return this.store.objects.get(this.key(nsInfo, undefined, namespace)).then((row) => namespaceAccepts(row?.object, info, namespace, name));
  }

  /** Runs the admitters in order; answers a promise only when one of them answers one. */
  private admit(operation: 'CREATE' | 'UPDATE' | 'DELETE', info: ResourceInfo, object: KubeObject, oldObject: KubeObject | undefined, opts: WriteOptions): Promise<void> | undefined {
    const attrs = { operation, info, object, oldObject, subresource: opts.subresource, user: opts.user };
    for (let i = 0; i < this.admitters.length; i++) {
      const pending = this.admitters[i]!.admit(attrs);
      if (pending) return admitAfter(pending, this.admitters.slice(i + 1), attrs);
    }
    return undefined;
  }

  async create(info: ResourceInfo, namespace: string | undefined, body: unknown, opts: WriteOptions): Promise<WriteResult> {
    checkObjectSize(body);
    const obj = checkEnvelope(body, info, { namespace });
    const storage = this.registry.storageVersion(info);
    obj.apiVersion = groupVersion(storage);
    const now = this.now();
    if (obj.metadata.resourceVersion) {
      throw errors.badRequest('resourceVersion should not be set on objects to be created');
    }
    const generate = !obj.metadata.name && typeof obj.metadata.generateName === 'string' && obj.metadata.generateName !== '';
    if (generate) obj.metadata.name = this.generateName(info, obj, 0);
    initializeMetadata(obj, info, now);
    normalizeObjectMeta(obj);
    splitForSubresource(obj, undefined, info);
    normalizeBuiltin(obj, info, undefined);
    const { warnings } = validateObject(obj, info, { fieldValidation: opts.fieldValidation, isCreate: true });
    const namespaceChecked = this.checkNamespace(info, obj.metadata.namespace, obj.metadata.name ?? '');
    if (namespaceChecked) await namespaceChecked;
    if (!opts.applied) this.ownership?.recordUpdate(undefined, obj, info, opts, now);
    const admitted = this.admit('CREATE', info, obj, undefined, opts);
    if (admitted) await admitted;
    if (opts.dryRun) return { object: this.present(obj, info), warnings };
    for (let attempt = 0; ; attempt++) {
      const name = obj.metadata.name!;
      const stored = await this.store.objects.create(
        this.key(info, obj.metadata.namespace, name),
        obj,
        this.audit(info, 'create', obj.metadata.namespace, name, opts),
      ).catch(refuseDuplicate(name));
      if (stored) return { ...this.shown(stored, info), warnings };
      if (!generate || attempt >= MAX_GENERATE_NAME_ATTEMPTS) {
        throw errors.alreadyExists(describe(info), name);
      }
      obj.metadata.name = this.generateName(info, obj, attempt + 1);
    }
  }

  private generateName(info: ResourceInfo, obj: KubeObject, attempt: number): string {
    for (const generator of this.nameGenerators) {
      const name = generator(info, obj, attempt);
      if (name) return name;
    }
    return generatedName(obj.metadata.generateName as string);
  }

  /**
   * Replaces the object (PUT), or the status part of it.
   */
  async update(info: ResourceInfo, namespace: string | undefined, name: string, body: unknown, opts: WriteOptions): Promise<WriteResult> {
    return this.write(info, namespace, name, { replace: body }, opts);
  }

  /** A patch of any kind: `patch` turns the current object into the requested one. */
  async patch(info: ResourceInfo, namespace: string | undefined, name: string, patch: PatchFunction, opts: WriteOptions): Promise<WriteResult> {
    return this.write(info, namespace, name, { patch }, opts);
  }

  private async write(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: { replace: unknown } | { patch: PatchFunction },
    opts: WriteOptions,
  ): Promise<WriteResult> {
    const isPatch = 'patch' in body;
    const now = this.now();
    let warnings: string[] = [];
    let admitted: StoredRow | undefined;
    // Admission may be asynchronous, so it runs on a first read and the write re-checks
    // that nothing changed in between (the revision it saw); if something did, it starts over
    // from the newer object, as GuaranteedUpdate does.
    const key = this.key(info, namespace, name);
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const cachedRow = attempt === 0 ? this.cachedRow(key) : undefined;
      const currentRow = cachedRow ?? (await this.store.objects.get(key));
      if (!currentRow) throw errors.notFound(describe(info), name);
      let decision: UpdateDecision;
      try {
        const prepared = this.prepareUpdate(info, namespace, name, body, opts, currentRow.object, now, isPatch);
        warnings = prepared.warnings;
        // An unchanged object whose row is sealed with an old key (or not at all) is written
        // again, so that reading and replacing every Secret re-encrypts them.
        decision = prepared.decision.action === 'none' && currentRow.stale ? { action: 'write', object: currentRow.object } : prepared.decision;
        if (decision.action !== 'none') {
          await this.admit('UPDATE', info, decision.object, currentRow.object, opts);
        }
      } catch (err) {
        // A refusal is decided on the stored object, never on the cache's guess.
        if (cachedRow) continue;
        throw err;
      }
      // Only a write checks its guess (by the revision); any other answer reads the row.
      if (cachedRow && (decision.action === 'none' || opts.dryRun)) continue;
      if (decision.action === 'none' || opts.dryRun) {
        // A write that changed nothing is still a request someone made: on record, by name.
        if (decision.action === 'none' && !opts.dryRun) {
          const verb = opts.subresource === 'status' ? 'update' : isPatch ? 'patch' : 'update';
          await this.store.objects.recordRefusal(this.audit(info, verb, namespace, name, opts), 200);
        }
        const shown = decision.action === 'none' ? currentRow.object : decision.object;
        return { object: this.present(shown, info), warnings };
      }
      const result = await this.store.objects.replace(
        key,
        currentRow.revision,
        decision,
        this.audit(info, opts.subresource === 'status' ? 'update' : isPatch ? 'patch' : 'update', namespace, name, opts),
      ).catch(refuseDuplicate(name));
      if (result === 'stale') continue;
      admitted = result;
      break;
    }
    if (!admitted) throw errors.conflict(describe(info), name, 'the object is changing too fast; please try again');
    return { ...this.shown(admitted, info), warnings };
  }

  /**
   * The watch cache's copy of a row, as the first guess of an update or a delete (what
   * GuaranteedUpdate does with its cached state): a guess that is behind fails the write's
   * revision check, and the next attempt reads the database. The object is parsed afresh,
   * as the write changes it. Rows the encryption seals are always read: only the database
   * says how they are sealed.
   */
  private cachedRow(key: StorageKey): StoredRow | undefined {
    if (this.store.objects.encryption.seals(key.resource)) return undefined;
    const entry = this.store.cache.get(key.resource, storageKey(key));
    if (!entry) return undefined;
    return { object: JSON.parse(entry.text) as KubeObject, revision: entry.revision, text: entry.text };
  }

  /** A stored object as this version shows it; its stored text only when that is unchanged. */
  private shown(stored: StoredRow, info: ResourceInfo): Shown {
    const object = this.present(stored.object, info);
    return { object, text: object === stored.object ? stored.text : undefined };
  }

  private prepareUpdate(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    body: { replace: unknown } | { patch: PatchFunction },
    opts: WriteOptions,
    current: KubeObject,
    now: string,
    isPatch: boolean,
  ): { decision: UpdateDecision; warnings: string[] } {
    // A patch applies to the object as the request's version shows it, as Kubernetes converts first.
    const requested = 'patch' in body ? body.patch(this.present(clone(current), info), info, opts, now) : body.replace;
    // Whatever the verb, an object over the storage limit costs no more work than this.
    checkObjectSize(requested);
    const next = checkEnvelope(requested, info, { namespace, name, requireName: true });
    next.apiVersion = current.apiVersion;
    const rv = next.metadata.resourceVersion;
    if (rv === undefined || rv === '') {
      if (!isPatch && !info.builtin) {
        throw errors.invalid(info.kind, info.group, name, [
          { type: 'FieldValueInvalid', field: 'metadata.resourceVersion', message: 'Invalid value: 0x0: must be specified for an update' },
        ]);
      }
    } else if (rv !== current.metadata.resourceVersion) {
      throw errors.conflict(describe(info), name, 'the object has been modified; please apply your changes to the latest version and try again');
    }
    if (!isPatch && next.metadata.uid && next.metadata.uid !== current.metadata.uid) {
      // A PUT's uid is a precondition (rest.DefaultUpdatedObjectInfo.Preconditions).
      throw errors.conflict(describe(info), name, `Precondition failed: UID in precondition: ${next.metadata.uid}, UID in object meta: ${current.metadata.uid}`);
    }
    const immutable = immutableMetadataCauses(next, current);
    if (immutable.length > 0) throw errors.invalid(info.kind, info.group, name, immutable);
    const appliedFields = next.metadata.managedFields;
    const merged = splitForSubresource(next, current, info, opts.subresource);
    // A status write keeps the stored metadata whole (splitForSubresource copied it), except
    // the field ownership an apply records.
    if (opts.subresource === 'status' && opts.applied) {
      if (appliedFields === undefined) delete merged.metadata.managedFields;
      else merged.metadata.managedFields = appliedFields;
    }
    carryOverMetadata(merged, current);
    normalizeObjectMeta(merged);
    normalizeBuiltin(merged, info, current);
    // Pruning and defaulting come first (Kubernetes does them while decoding), so that a
    // change they undo is no change: no new generation, and no write at all.
    const { warnings } = validateObject(merged, info, { fieldValidation: opts.fieldValidation, isCreate: false });
    bumpGenerationIfSpecChanged(merged, current, info);
    if (!opts.applied) this.ownership?.recordUpdate(current, merged, info, opts, now);
    merged.metadata.resourceVersion = current.metadata.resourceVersion;
    if (sameObject(merged, current)) return { decision: { action: 'none' }, warnings };
    if (isBeingDeleted(merged) && !hasFinalizers(merged) && !namespacePending(merged, info)) {
      return { decision: { action: 'delete', object: merged }, warnings };
    }
    return { decision: { action: 'write', object: merged }, warnings };
  }

  async delete(
    info: ResourceInfo,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions,
    opts: WriteOptions,
  ): Promise<{ object: KubeObject; deleted: boolean }> {
    const now = this.now();
    const key = this.key(info, namespace, name);
    let outcome: { object: KubeObject; deleted: boolean } | undefined;
    const decide = (row: { object: KubeObject }): UpdateDecision => {
      const obj = row.object;
      checkPreconditions(info, name, obj, options.preconditions);
      const finalizers = [...(obj.metadata.finalizers ?? [])];
      const policy = options.propagationPolicy;
      if (policy === 'Foreground' && !finalizers.includes('foregroundDeletion')) finalizers.push('foregroundDeletion');
      if (policy === 'Orphan' && !finalizers.includes('orphan')) finalizers.push('orphan');
      if (finalizers.length > 0 || namespacePending(obj, info)) {
        if (isBeingDeleted(obj) && finalizers.length === (obj.metadata.finalizers?.length ?? 0)) {
          outcome = { object: obj, deleted: false };
          return { action: 'none' };
        }
        obj.metadata.finalizers = finalizers;
        normalizeObjectMeta(obj);
        // Entering deletion is a change of the desired state (markAsDeleting).
        if (obj.metadata.deletionTimestamp === undefined && (obj.metadata.generation ?? 0) > 0) {
          obj.metadata.generation = (obj.metadata.generation ?? 0) + 1;
        }
        obj.metadata.deletionTimestamp ??= now;
        obj.metadata.deletionGracePeriodSeconds ??= 0;
        if (info.kind === 'Namespace' && info.builtin) obj.status = { ...(obj.status as object), phase: 'Terminating' };
        outcome = { object: obj, deleted: false };
        return { action: 'write', object: obj };
      }
      outcome = { object: obj, deleted: true };
      return { action: 'delete', object: obj };
    };
    // Admission sees the object each attempt starts from, as a write's does.
    for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
      const cachedRow = attempt === 0 ? this.cachedRow(key) : undefined;
      const row = cachedRow ?? (await this.store.objects.get(key));
      if (!row) throw errors.notFound(describe(info), name);
      let decision: UpdateDecision;
      try {
        await this.admit('DELETE', info, row.object, row.object, opts);
        decision = decide({ object: row.object });
      } catch (err) {
        // A refusal or a failed precondition is decided on the stored object, never on the cache's guess.
        if (cachedRow) continue;
        throw err;
      }
      // Only a write checks its guess (by the revision); any other answer reads the row.
      if (cachedRow && (opts.dryRun || decision.action === 'none')) continue;
      if (opts.dryRun || decision.action === 'none') {
        return { object: this.present(outcome!.object, info), deleted: outcome!.deleted };
      }
      const result = await this.store.objects.replace(key, row.revision, decision, this.audit(info, 'delete', namespace, name, opts));
      if (result !== 'stale') return { object: this.present(result.object, info), deleted: outcome!.deleted };
    }
    throw errors.conflict(describe(info), name, 'the object is changing too fast; please try again');
  }

  async deleteCollection(info: ResourceInfo, selection: Selection, options: DeleteOptions, opts: WriteOptions): Promise<KubeObject[]> {
    await this.store.syncCache();
    const targets = this.store.cache.list(resourceId(info), selection.namespace).filter((e) => selects(selection, e.object));
    const deleted: KubeObject[] = [];
    for (const target of targets) {
      try {
        const result = await this.delete(info, target.namespace || undefined, target.name, options, opts);
        deleted.push(result.object);
      } catch (err) {
        if (err instanceof ApiError && err.code === 404) continue;
        throw err;
      }
    }
    return deleted;
  }
}

const MAX_WRITE_ATTEMPTS = 20;

/** A unique field's value taken by another object (the database said so) as a 422 naming it. */
function refuseDuplicate(name: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof UniqueValueTaken) throw duplicateValueError(err.field, name, err.value, err.holder);
    throw err;
  };
}

/** The admitters after one that answered a promise, each in turn once it settles. */
async function admitAfter(pending: Promise<void>, rest: Admitter[], attrs: Parameters<Admitter['admit']>[0]): Promise<void> {
  await pending;
  for (const admitter of rest) await admitter.admit(attrs);
}

/** NamespaceLifecycle for a create: the namespace must exist and not be going away. */
function namespaceAccepts(ns: KubeObject | undefined, info: ResourceInfo, namespace: string, name: string): void {
  if (!ns) throw errors.notFound({ group: '', resource: 'namespaces' }, namespace);
  if (isBeingDeleted(ns)) {
    // As the NamespaceLifecycle admission plugin words it.
    const refusal = errors.forbidden(describe(info), name, `unable to create new content in namespace ${namespace} because it is being terminated`);
    refusal.details!.causes = [{ type: 'NamespaceTerminating', field: 'metadata.namespace', message: `namespace ${namespace} is being terminated` }];
    throw refusal;
  }
}

function parseRevision(resourceVersion: string): number {
  const n = Number(resourceVersion);
  if (!/^\d+$/.test(resourceVersion) || !Number.isSafeInteger(n)) {
    throw errors.badRequest(`invalid resourceVersion "${resourceVersion}": must be a non-negative integer`);
  }
  return n;
}

/** ValidateListOptions of apimachinery: refused as 422 Invalid of kind ListOptions. */
function validateListOptions(opts: ListOptions): void {
  const match = opts.resourceVersionMatch;
  if (match === undefined || match === '') return;
  const causes: StatusCause[] = [];
  const forbidden = (message: string) => causes.push({ type: 'FieldValueForbidden', field: 'resourceVersionMatch', message: `Forbidden: ${message}` });
  if (!opts.resourceVersion) forbidden('resourceVersionMatch is forbidden unless resourceVersion is provided');
  if (opts.continueToken) forbidden('resourceVersionMatch is forbidden when continue is provided');
  if (match !== 'Exact' && match !== 'NotOlderThan') {
    causes.push({
      type: 'FieldValueNotSupported',
      field: 'resourceVersionMatch',
      message: `Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan", ""`,
    });
  }
  if (match === 'Exact' && opts.resourceVersion === '0') forbidden('resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  if (causes.length > 0) throw errors.invalid('ListOptions', 'meta.k8s.io', '', causes);
}

function generatedName(prefix: string): string {
  const base = prefix.length > 58 ? prefix.slice(0, 58) : prefix;
  return `${base}${generateNameSuffix()}`;
}

/** A Namespace waits for its contents to go; its spec.finalizers hold it until then. */
function namespacePending(obj: KubeObject, info: ResourceInfo): boolean {
  if (!(info.builtin && info.kind === 'Namespace')) return false;
  const spec = obj.spec as { finalizers?: string[] } | undefined;
  return (spec?.finalizers?.length ?? 0) > 0;
}

function checkPreconditions(info: ResourceInfo, name: string, obj: KubeObject, pre: DeleteOptions['preconditions']): void {
  if (!pre) return;
  if (pre.uid && pre.uid !== obj.metadata.uid) {
    throw errors.conflict(describe(info), name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${obj.metadata.uid}`);
  }
  if (pre.resourceVersion && pre.resourceVersion !== obj.metadata.resourceVersion) {
    throw errors.conflict(
      describe(info),
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${obj.metadata.resourceVersion}`,
    );
  }
}

function sameObject(a: KubeObject, b: KubeObject): boolean {
  return deepEqual(a, b);
}


interface ContinueToken {
  revision: number;
  start: string;
}

const CONTINUE_VERSION = 'virtflow/1';

function encodeContinue(token: ContinueToken): string {
  return encodeContinueToken(CONTINUE_VERSION, { rv: token.revision, start: token.start });
}

function decodeContinue(raw: string): ContinueToken {
  return decodeContinueToken(raw, CONTINUE_VERSION, ({ rv, start }) =>
    typeof rv === 'number' && typeof start === 'string' ? { revision: rv, start } : undefined,
  );
}

function lowerBound(entries: { key: string }[], key: string): number {
  let lo = 0;
  let hi = entries.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.key < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
