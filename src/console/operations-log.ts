// The console's operations log (seed 004's /api/k8s/audit/operations): who did what to which
// resource of which cluster, and whether it worked. Every call that changes something, and
// every connection test, is logged, the failed ones too; plain reads are not operations.
import type { Database } from '../store/database.js';
import { formatConditionTime } from '../machinery/conditions.js';

export interface OperationRecord {
  username: string;
  clusterId?: number;
  operationType: string;
  resourceType: string;
  resourceName?: string;
  namespace?: string;
  status: 'success' | 'failed';
  message?: string;
}

export interface OperationFilter {
  clusterId?: number;
  operationType?: string;
  resourceType?: string;
  status?: string;
  offset: number;
  limit: number;
}

interface Row {
  id: string;
  time: Date | string;
  username: string;
  cluster_id: string | null;
  operation_type: string;
  resource_type: string;
  resource_name: string;
  namespace: string;
  status: string;
  message: string;
}

export class OperationsLog {
  constructor(private readonly db: Database) {}

  async record(op: OperationRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO console_operations (username, cluster_id, operation_type, resource_type, resource_name, namespace, status, message)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [op.username, op.clusterId ?? null, op.operationType, op.resourceType, op.resourceName ?? '', op.namespace ?? '', op.status, (op.message ?? '').slice(0, 1000)],
    );
  }

  async list(filter: OperationFilter): Promise<{ total: number; logs: Record<string, unknown>[] }> {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      where.push(sql);
      params.push(value);
    };
    if (filter.clusterId !== undefined) add('cluster_id = ?', filter.clusterId);
    if (filter.operationType) add('operation_type = ?', filter.operationType);
    if (filter.resourceType) add('resource_type = ?', filter.resourceType);
    if (filter.status) add('status = ?', filter.status);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const [{ count }] = (await this.db.query<{ count: string }>(`SELECT count(*) AS count FROM console_operations ${clause}`, params)) as [{ count: string }];
    const rows = await this.db.query<Row>(`SELECT * FROM console_operations ${clause} ORDER BY id DESC LIMIT ? OFFSET ?`, [...params, filter.limit, filter.offset]);
    return {
      total: Number(count),
      logs: rows.map((r) => ({
        id: Number(r.id),
        cluster_id: r.cluster_id === null ? null : Number(r.cluster_id),
        operation_type: r.operation_type,
        resource_type: r.resource_type,
        resource_name: r.resource_name,
        namespace: r.namespace,
        status: r.status,
        username: r.username,
        message: r.message,
        created_at: formatConditionTime(r.time),
      })),
    };
  }
}
