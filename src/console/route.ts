// What a console endpoint is: a method and path, its parameters, whether it changes anything
// (and so needs an administrator's role and goes into the operations log), and a handler.
import type { UserInfo } from '../api/object-service.js';
import type { KubeObject } from '../machinery/object.js';
import type { ObjectClient } from '../runtime/client.js';
import type { ClusterRecord, ConsoleClusters } from './clusters.js';
import type { OperationsLog } from './operations-log.js';
import type { Args, Param } from './params.js';

export interface Operation {
  type: string;
  resource: string;
  name?: string;
  namespace?: string;
}

export interface Member {
  record: ClusterRecord;
  client: ObjectClient;
  server: string;
}

export interface ConsoleContext {
  user: UserInfo;
  clusters: ConsoleClusters;
  operations: OperationsLog;
  /** The cluster with this id, once the user may read it (or change it, for mutating routes). */
  cluster(clusterId: number): Promise<ClusterRecord>;
  /** Whether the user may see this cluster at all (for lists). */
  visible(cluster: KubeObject): boolean;
  /** A client for the cluster with this id, checked as `cluster` is. */
  member(clusterId: number): Promise<Member>;
  /** Runs a call against a member cluster, turning its failure into the console's terms. */
  call<T>(member: Member, fn: (client: ObjectClient) => Promise<T>): Promise<T>;
}

export interface Outcome {
  data: unknown;
  message?: string;
  status?: number;
}

export interface Route {
  method: 'GET' | 'POST';
  path: string;
  summary: string;
  /** Needs the super or operations administrator role, and is logged. */
  mutates: boolean;
  /**
   * What the permission is checked on: 'cluster' routes name a cluster and are checked on it
   * (ctx.cluster, ctx.member, ctx.visible); 'console' routes on the console's namespace, before
   * the handler runs.
   */
  scope: 'cluster' | 'console';
  params: Param[];
  /** What the operations log calls this, for mutating routes and connection tests. */
  operation?: (args: Args) => Operation;
  handle(ctx: ConsoleContext, args: Args): Promise<Outcome>;
}

export type AnyObject = KubeObject & { spec?: Record<string, any>; status?: Record<string, any>; data?: Record<string, string>; [k: string]: any };

export function createdAt(obj: KubeObject): string | undefined {
  return obj.metadata.creationTimestamp;
}
