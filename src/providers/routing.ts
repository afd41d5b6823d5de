// Which ExternalController handles an object: the one whose `service` matches and whose
// `regions` contain the region of the host the object was placed on (empty regions = all).
import type { ExternalController, ExternalControllerSpec } from '../kinds/externalcontroller.js';
import type { VirtualMachine } from '../kinds/virtualmachine.js';
import { providerReasons } from './external-client.js';

export type ExternalService = ExternalControllerSpec['service'];

export interface Routed {
  found: true;
  controller: ExternalController;
}

/** No ExternalController serves this service in this region: a condition, not an exception. */
export interface NoExternalController {
  found: false;
  reason: typeof providerReasons.noExternalController;
  service: ExternalService;
  /** The region asked for; '' when the object has no region (not placed yet). */
  region: string;
  /** For a condition or Event message. */
  message: string;
}

export type Route = Routed | NoExternalController;

/** Does the controller serve `region`? Empty or absent regions serve every region. */
export function servesRegion(controller: ExternalController, region: string): boolean {
  const regions = controller.spec.regions ?? [];
  return regions.length === 0 || regions.includes(region);
}

/**
 * Picks the ExternalController for `service` in `region`. Controllers being deleted are
 * skipped. Among several, one that names the region wins over a catch-all (empty regions),
 * then the first by name, so the choice is stable and never flaps between reconciles.
 * Reachability is deliberately not considered: an unreachable controller is reported, not
 * silently replaced, because the machines it holds are not visible to another one.
 */
export function routeExternalController(
  controllers: readonly ExternalController[],
  service: ExternalService,
  region: string,
): Route {
  const candidates = controllers
    .filter((c) => !c.metadata.deletionTimestamp && c.spec?.service === service && servesRegion(c, region))
    .sort((a, b) => specificity(b, region) - specificity(a, region) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const controller = candidates[0];
  if (controller) return { found: true, controller };
  const where = region ? `region "${region}"` : 'an object without a region';
  return {
    found: false,
    reason: providerReasons.noExternalController,
    service,
    region,
    message: `no ExternalController with service ${service} serves ${where}; create one whose spec.regions include it (or are empty)`,
  };
}

/** The route of a placed VirtualMachine: service VirtualMachine, region of its host. */
export function routeVirtualMachine(controllers: readonly ExternalController[], vm: VirtualMachine): Route {
  return routeExternalController(controllers, 'VirtualMachine', vm.status?.placement?.region ?? '');
}

function specificity(controller: ExternalController, region: string): number {
  return (controller.spec.regions ?? []).includes(region) ? 1 : 0;
}
