// The tables, described to MikroORM. The hot paths (writes, the change feed) use hand-written
// SQL through the same connection; these schemas serve the migrator and typed queries
// (the audit log, tokens).
import { EntitySchema } from '@mikro-orm/core';

/** The current state of every object: one row per key, replaced on each write. */
export interface StoredObject {
  key: string;
  resource: string;
  namespace: string;
  name: string;
  revision: string;
  createRevision: string;
  value: string;
}

/** The change log: one row per write; the row id is the store-wide resourceVersion. */
export interface Change {
  id: string;
  key: string;
  resource: string;
  namespace: string;
  name: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  value: string;
  createdAt: Date;
}

export interface AuditEvent {
  id: string;
  time: Date;
  username: string;
  verb: string;
  apiGroup: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  code: number;
  userAgent: string;
}

export interface ApiToken {
  tokenHash: string;
  username: string;
  groups: string[];
  createdAt: Date;
}

export interface StoreSetting {
  name: string;
  value: string;
}

export const StoredObjectSchema = new EntitySchema<StoredObject>({
  name: 'StoredObject',
  tableName: 'objects',
  properties: {
    key: { type: 'text', primary: true },
    resource: { type: 'text' },
    namespace: { type: 'text' },
    name: { type: 'text' },
    revision: { type: 'bigint' },
    createRevision: { type: 'bigint' },
    value: { type: 'text' },
  },
});

export const ChangeSchema = new EntitySchema<Change>({
  name: 'Change',
  tableName: 'changes',
  properties: {
    id: { type: 'bigint', primary: true },
    key: { type: 'text' },
    resource: { type: 'text' },
    namespace: { type: 'text' },
    name: { type: 'text' },
    type: { type: 'text' },
    value: { type: 'text' },
    createdAt: { type: 'Date' },
  },
});

export const AuditEventSchema = new EntitySchema<AuditEvent>({
  name: 'AuditEvent',
  tableName: 'audit_events',
  properties: {
    id: { type: 'bigint', primary: true, autoincrement: true },
    time: { type: 'Date' },
    username: { type: 'text' },
    verb: { type: 'text' },
    apiGroup: { type: 'text' },
    resource: { type: 'text' },
    subresource: { type: 'text' },
    namespace: { type: 'text' },
    name: { type: 'text' },
    code: { type: 'integer' },
    userAgent: { type: 'text' },
  },
});

export const ApiTokenSchema = new EntitySchema<ApiToken>({
  name: 'ApiToken',
  tableName: 'api_tokens',
  properties: {
    tokenHash: { type: 'text', primary: true },
    username: { type: 'text' },
    groups: { type: 'json' },
    createdAt: { type: 'Date' },
  },
});

export const StoreSettingSchema = new EntitySchema<StoreSetting>({
  name: 'StoreSetting',
  tableName: 'store_settings',
  properties: {
    name: { type: 'text', primary: true },
    value: { type: 'text' },
  },
});

export const allEntities = [
  StoredObjectSchema,
  ChangeSchema,
  AuditEventSchema,
  ApiTokenSchema,
  StoreSettingSchema,
];
