// ExternalController registrations VirtFlow refuses: an endpoint that would carry the token
// unencrypted without the operator saying so (spec.allowInsecureHttp), a caBundle that is
// no certificate, and a credentialsSecret outside VirtFlow's namespace that its owner did not
// label for this use — otherwise anyone allowed to register a controller could have
// VirtFlow send another tenant's token to an address of their choosing.
import type { Admitter } from '../api/object-service.js';
import { errors, type StatusCause } from '../machinery/errors.js';
import type { ExternalControllerSpec } from '../kinds/externalcontroller.js';
import type { WatchCache } from '../store/watch-cache.js';
import { caBundleProblem, credentialsSecretAllowed, credentialsSecretRule, endpointProblem } from '../providers/transport-policy.js';

const SECRET_RESOURCE = '/secrets';

export function externalControllerAdmitter(cache: WatchCache): Admitter {
  return {
    admit({ operation, info, object, subresource }) {
      if (operation === 'DELETE' || subresource || info.group !== 'virtflow.io' || info.plural !== 'externalcontrollers') return;
      const spec = (object.spec ?? {}) as Partial<ExternalControllerSpec>;
      const causes: StatusCause[] = [];
      const problem = (text: string | undefined, type: string) => {
        if (!text) return;
        const [field, ...rest] = text.split(': ');
        causes.push({ type, field, message: `${type === 'FieldValueForbidden' ? 'Forbidden' : 'Invalid value'}: ${rest.join(': ')}` });
      };
      if (typeof spec.endpoint === 'string') problem(endpointProblem({ endpoint: spec.endpoint, allowInsecureHttp: spec.allowInsecureHttp }), 'FieldValueForbidden');
      if (typeof spec.caBundle === 'string') problem(caBundleProblem(spec.caBundle), 'FieldValueInvalid');
      const ref = spec.credentialsSecret;
      if (ref?.namespace && ref.name) {
        const secret = cache.list(SECRET_RESOURCE, ref.namespace).find((e) => e.name === ref.name);
        // Absent and unlabelled read the same, so the answer tells nothing about other namespaces.
        if (!credentialsSecretAllowed(ref.namespace, secret?.object.metadata.labels)) {
          causes.push({
            type: 'FieldValueForbidden',
            field: 'spec.credentialsSecret',
            message: `Forbidden: ${credentialsSecretRule}; ${ref.namespace}/${ref.name} is not such a Secret`,
          });
        }
      }
      if (causes.length > 0) throw errors.invalid(info.kind, info.group, object.metadata.name ?? '', causes);
    },
  };
}
