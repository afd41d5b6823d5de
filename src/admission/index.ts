// VirtFlow's own admission: what the API server refuses or decides for VirtFlow kinds before
// storing them. References between objects are never refused for being missing (GitOps
// applies in any order); controllers report missing ones as conditions. What is checked is
// what can never become valid: a duplicate serial number, a host beyond the rack it names,
// a VM outside every tenant's namespace, a new VM for a suspended or departing tenant.
import type { ObjectService } from '../api/object-service.js';
import { externalControllerAdmitter } from './external-controller.js';
import { rackUnitsAdmitter } from './rack-units.js';
import { clusterFitAdmitter } from './cluster-fit.js';
import { clusterVersionAdmitter } from './cluster-version.js';
import { specificationInUseAdmitter } from './specification-in-use.js';
import { suspendedTenantAdmitter } from './suspended-tenant.js';
import { tenantNamespaceAdmitter } from './tenant-namespace.js';
import { uniqueFieldsAdmitter } from './unique-fields.js';
import { vmNameTemplateGenerator } from './vm-name-template.js';

export function installVirtflowAdmission(service: ObjectService): void {
  const cache = service.store.cache;
  service.admitters.push(
    tenantNamespaceAdmitter(cache, () => service.store.syncCache()),
    suspendedTenantAdmitter(cache),
    specificationInUseAdmitter(cache),
    uniqueFieldsAdmitter(cache),
    rackUnitsAdmitter(cache),
    externalControllerAdmitter(cache),
    clusterVersionAdmitter(cache),
    clusterFitAdmitter(cache),
  );
  service.nameGenerators.push(vmNameTemplateGenerator(cache));
}
