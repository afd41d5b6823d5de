// What each controller folder's register.ts is given to build its controllers and their
// watches: the manager, one shared informer per kind, the reconcilers' context, the setup
// options, and the few objects that controllers of two folders share.
import type { KubeObject } from '../../machinery/object.js';
import type { ProviderCredentials } from '../../providers/credentials.js';
import type { Informer } from '../../runtime/informer.js';
import type { Manager } from '../../runtime/manager.js';
import type { ExternalControllerIdentities } from '../externalcontroller/identity.js';
import type { ControllerSetupOptions } from '../setup.js';
import type { Placer } from '../virtualmachine/placer.js';
import type { ControllerContext } from './context.js';
import type { Lister, Listers } from './listers.js';

/** The listers the reconcilers read, as the informers that feed them: a watch needs their events. */
export type Informers = { [K in keyof Listers]: Listers[K] extends Lister<infer T extends KubeObject> ? Informer<T> : never };

export interface Registration {
  manager: Manager;
  informers: Informers;
  ctx: ControllerContext;
  options: ControllerSetupOptions;
  /** The scheduler with its assume cache: the VM controller places, the drain moves. */
  placer: Placer;
  /** The ServiceAccount each ExternalController reports back as (docs/security.md). */
  identities: ExternalControllerIdentities;
  /** The tokens presented to ExternalControllers, read from their Secrets. */
  credentials: ProviderCredentials;
  /** Trusted, besides the system roots, for external controllers without a caBundle. */
  extraCa?: string;
}
