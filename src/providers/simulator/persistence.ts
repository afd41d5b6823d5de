// The simulator's memory across restarts: what it built (machines, retained disks, deleted
// uids, the counter external ids come from, the clusters it runs) in one small JSON file in its home. Without it, a
// restarted `virtflow up` answered "no machine" for every VM it had built, and VirtFlow
// rebuilt them all as drift: Retain disks came back empty and external ids were handed out
// again to other VMs. Written atomically (a temporary file renamed over the old one), a
// moment after a change, so a crash leaves the previous or the next state, never half of one.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ClusterState } from './cluster-service.js';
import type { SimulationState } from './simulation.js';

/** The file: the VM service's machines, and the clusters of the K8s Cluster Service (absent in older files). */
export interface SimulatorState extends SimulationState {
  clusters?: ClusterState[];
}

export interface SimulationStoreOptions {
  /** How long after a change the file is written; changes within it are one write. Default 200 ms. */
  debounceMs?: number;
  log?: Logger;
}

interface Source {
  exportState(): SimulatorState;
}

export class SimulationStore {
  private source?: Source;
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;
  private dirty = false;

  constructor(
    readonly file: string,
    private readonly opts: SimulationStoreOptions = {},
  ) {}

  /** The state saved by an earlier run, or undefined on a first start. */
  async load(): Promise<SimulatorState | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    let state: SimulatorState;
    try {
      state = JSON.parse(text) as SimulationState;
    } catch (err) {
      throw new Error(`cannot read the simulator's state in ${this.file}: ${(err as Error).message}; move the file away to start with no machines`);
    }
    if (state?.version !== 1 || !Array.isArray(state.machines) || (state.clusters !== undefined && !Array.isArray(state.clusters))) {
      throw new Error(`cannot read the simulator's state in ${this.file}: not a version 1 state; move the file away to start with no machines`);
    }
    return state;
  }

  attach(source: Source): void {
    this.source = source;
  }

  /** Something changed: write the file soon. */
  changed(): void {
    this.dirty = true;
    if (this.timer || !this.source) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.save();
    }, this.opts.debounceMs ?? 200);
    this.timer.unref();
  }

  /** Writes what is pending now and waits for it (on stop). */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.writing;
    if (this.dirty) await this.save();
  }

  private save(): Promise<void> {
    if (this.writing) return this.writing.then(() => (this.dirty ? this.save() : undefined));
    if (!this.source) return Promise.resolve();
    this.dirty = false;
    const text = JSON.stringify(this.source.exportState());
    this.writing = this.write(text)
      .catch((err: Error) => {
        this.dirty = true;
        this.opts.log?.warn({ err: err.message, file: this.file }, 'cannot save the simulator state; will try again on the next change');
      })
      .finally(() => {
        this.writing = undefined;
      });
    return this.writing;
  }

  private async write(text: string): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(temp, text, { mode: 0o600 });
    await rename(temp, this.file);
  }
}
