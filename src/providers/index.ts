// External controllers: the narrow provider interface, its HTTP implementation of protocol
// v1, routing to the ExternalController of a service and region, and the probe.
export * from './external-client.js';
export {
  HttpVirtualMachineProvider,
  defaultTimeoutSeconds,
  httpProviderFor,
  probeExternalController,
  type CallbackTarget,
  type HttpProviderOptions,
  type ProbeResult,
} from './http-provider.js';
export { routeExternalController, routeVirtualMachine, servesRegion, type ExternalService, type NoExternalController, type Route, type Routed } from './routing.js';
export { protocolVersion, virtualMachineStatusPath } from './protocol.js';
