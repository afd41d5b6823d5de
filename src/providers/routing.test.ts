import { describe, expect, it } from 'vitest';
import type { ExternalController } from '../kinds/externalcontroller.js';
import { routeExternalController, routeVirtualMachine, type ExternalService } from './routing.js';
import { makeExternalController, makeVm } from './testing.js';

const tw = makeExternalController('vm-service-tw', { regions: ['tw'], endpoint: 'http://tw.example' });
const jp = makeExternalController('vm-service-jp', { regions: ['jp'], endpoint: 'http://jp.example' });
const everywhere = makeExternalController('vm-service-all', { regions: [], endpoint: 'http://all.example' });
const everywhereNoField = makeExternalController('a-vm-service-any', { endpoint: 'http://any.example' });
const ipamTw = makeExternalController('ipam-tw', { service: 'IPAM', regions: ['tw'] });
const twAndJp = makeExternalController('vm-service-asia', { regions: ['tw', 'jp'] });
const deleting: ExternalController = {
  ...makeExternalController('a-vm-service-tw-old', { regions: ['tw'] }),
  metadata: { name: 'a-vm-service-tw-old', deletionTimestamp: '2030-01-01T00:00:00Z' },
};

const cases: Record<string, { controllers: ExternalController[]; service: ExternalService; region: string; want: string | null }> = {
  'The controller whose regions contain the region is chosen.': {
    controllers: [jp, tw],
    service: 'VirtualMachine',
    region: 'tw',
    want: 'vm-service-tw',
  },
  'A controller of another service is never chosen, even in the right region.': {
    controllers: [ipamTw],
    service: 'VirtualMachine',
    region: 'tw',
    want: null,
  },
  'Empty regions serve every region.': {
    controllers: [jp, everywhere],
    service: 'VirtualMachine',
    region: 'us',
    want: 'vm-service-all',
  },
  'Absent regions serve every region too.': {
    controllers: [jp, everywhereNoField],
    service: 'VirtualMachine',
    region: 'us',
    want: 'a-vm-service-any',
  },
  'A controller naming the region wins over a catch-all, whatever the names.': {
    controllers: [everywhereNoField, everywhere, tw],
    service: 'VirtualMachine',
    region: 'tw',
    want: 'vm-service-tw',
  },
  'Among equally specific controllers the first by name wins, so the choice is stable.': {
    controllers: [tw, twAndJp],
    service: 'VirtualMachine',
    region: 'tw',
    want: 'vm-service-asia',
  },
  'A controller being deleted is skipped.': {
    controllers: [deleting, tw],
    service: 'VirtualMachine',
    region: 'tw',
    want: 'vm-service-tw',
  },
  'No controller for the region is a NoExternalController result.': {
    controllers: [tw, jp],
    service: 'VirtualMachine',
    region: 'us',
    want: null,
  },
  'No controllers at all is a NoExternalController result.': {
    controllers: [],
    service: 'VirtualMachine',
    region: 'tw',
    want: null,
  },
};

describe('routeExternalController', () => {
  for (const [reason, c] of Object.entries(cases)) {
    it(reason, () => {
      const route = routeExternalController(c.controllers, c.service, c.region);
      if (c.want === null) {
        expect(route).toEqual({
          found: false,
          reason: 'NoExternalController',
          service: c.service,
          region: c.region,
          message: expect.stringContaining(`serves region "${c.region}"`),
        });
      } else {
        expect(route.found && route.controller.metadata.name).toBe(c.want);
      }
    });
  }
});

describe('routeVirtualMachine', () => {
  it('routes by the region of the host the VM was placed on', () => {
    const route = routeVirtualMachine([tw, jp], makeVm({ region: 'jp' }));
    expect(route.found && route.controller.spec.endpoint).toBe('http://jp.example');
  });

  it('names the service and says the VM has no region when it is not placed', () => {
    const vm = makeVm();
    delete vm.status;
    const route = routeVirtualMachine([tw], vm);
    expect(route).toMatchObject({ found: false, service: 'VirtualMachine', region: '' });
    expect(!route.found && route.message).toContain('without a region');
  });
});
