// VirtFlow's own admission: what the API server refuses or decides for VirtFlow kinds before
// storing them. References between objects are never checked here (GitOps applies in any
// order); controllers report missing ones as conditions.
import type { ObjectService } from '../api/object-service.js';
import { clusterFitAdmitter } from './cluster-fit.js';
import { clusterVersionAdmitter } from './cluster-version.js';
import { specificationInUseAdmitter } from './specification-in-use.js';
import { suspendedTenantAdmitter } from './suspended-tenant.js';
import { vmNameTemplateGenerator } from './vm-name-template.js';

export function installVirtflowAdmission(service: ObjectService): void {
  const cache = service.store.cache;
  service.admitters.push(suspendedTenantAdmitter(cache), specificationInUseAdmitter(cache));
  service.admitters.push(clusterVersionAdmitter(cache), clusterFitAdmitter(cache));
  service.nameGenerators.push(vmNameTemplateGenerator(cache));
}
