// The protobuf messages of the workload kinds a simulated workload cluster reads, as kubectl's
// typed clients send them (`kubectl create deployment`, `kubectl run`, `kubectl create
// service`): field numbers from k8s.io/api apps/v1 and core/v1 generated.proto, JSON semantics
// ((go) options) from their types.go, as in kubernetes-proto.ts.
//
// Pod specs are large; only the parts those commands write are declared, and such messages
// carry `option (partial) = true`: a field this server does not know there is refused (415,
// "send it as JSON") instead of being skipped, so nothing a client sent is silently lost.

export const intstrProto = `
syntax = "proto2";
package k8s.io.apimachinery.pkg.util.intstr;

message IntOrString {
  optional int64 type = 1;
  optional int32 intVal = 2;
  optional string strVal = 3;
}
`;

export const resourceProto = `
syntax = "proto2";
package k8s.io.apimachinery.pkg.api.resource;

message Quantity {
  optional string string = 1;
}
`;

export const labelSelectorProto = `
syntax = "proto2";
package k8s.io.apimachinery.pkg.apis.meta.v1;

message LabelSelector {
  map<string, string> matchLabels = 1;
  repeated LabelSelectorRequirement matchExpressions = 2;
}

message LabelSelectorRequirement {
  optional string key = 1 [(go) = "always"];
  optional string operator = 2 [(go) = "always"];
  repeated string values = 3;
}
`;

export const corePodProto = `
syntax = "proto2";
package k8s.io.api.core.v1;

message Pod {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional PodSpec spec = 2;
  optional PodStatus status = 3;
}

message PodStatus {
  option (partial) = true;
}

message PodTemplateSpec {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional PodSpec spec = 2;
}

message PodSpec {
  option (partial) = true;
  repeated Container initContainers = 20;
  repeated Container containers = 2;
  optional string restartPolicy = 3;
  optional int64 terminationGracePeriodSeconds = 4 [(go) = "pointer"];
  optional int64 activeDeadlineSeconds = 5 [(go) = "pointer"];
  optional string dnsPolicy = 6;
  map<string, string> nodeSelector = 7;
  optional string serviceAccountName = 8;
  optional string serviceAccount = 9;
  optional bool automountServiceAccountToken = 21 [(go) = "pointer"];
  optional string nodeName = 10;
  optional bool hostNetwork = 11;
  optional bool hostPID = 12;
  optional bool hostIPC = 13;
  optional string hostname = 16;
  optional string subdomain = 17;
  optional string schedulerName = 19;
  optional string priorityClassName = 24;
  optional int32 priority = 25 [(go) = "pointer"];
  optional bool enableServiceLinks = 30 [(go) = "pointer"];
  optional PodSecurityContext securityContext = 14;
}

message PodSecurityContext {
  option (partial) = true;
  optional int64 runAsUser = 2 [(go) = "pointer"];
  optional int64 runAsGroup = 6 [(go) = "pointer"];
  optional bool runAsNonRoot = 3 [(go) = "pointer"];
  optional int64 fsGroup = 5 [(go) = "pointer"];
}

message Container {
  option (partial) = true;
  optional string name = 1 [(go) = "always"];
  optional string image = 2;
  repeated string command = 3;
  repeated string args = 4;
  optional string workingDir = 5;
  repeated ContainerPort ports = 6;
  repeated EnvVar env = 7;
  optional ResourceRequirements resources = 8;
  optional string terminationMessagePath = 13;
  optional string terminationMessagePolicy = 20;
  optional string imagePullPolicy = 14;
  optional bool stdin = 16;
  optional bool stdinOnce = 17;
  optional bool tty = 18;
}

message ContainerPort {
  optional string name = 1;
  optional int32 hostPort = 2;
  optional int32 containerPort = 3 [(go) = "always"];
  optional string protocol = 4;
  optional string hostIP = 5;
}

message EnvVar {
  option (partial) = true;
  optional string name = 1 [(go) = "always"];
  optional string value = 2;
}

message ResourceRequirements {
  option (partial) = true;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> limits = 1;
  map<string, k8s.io.apimachinery.pkg.api.resource.Quantity> requests = 2;
}

message Service {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional ServiceSpec spec = 2;
  optional ServiceStatus status = 3;
}

message ServiceStatus {
  option (partial) = true;
  optional LoadBalancerStatus loadBalancer = 1;
}

message LoadBalancerStatus {
  option (partial) = true;
}

message ServiceSpec {
  option (partial) = true;
  repeated ServicePort ports = 1;
  map<string, string> selector = 2;
  optional string clusterIP = 3;
  repeated string clusterIPs = 18;
  optional string type = 4;
  repeated string externalIPs = 5;
  optional string sessionAffinity = 7;
  optional string loadBalancerIP = 8;
  repeated string loadBalancerSourceRanges = 9;
  optional string externalName = 10;
  optional string externalTrafficPolicy = 11;
  optional int32 healthCheckNodePort = 12;
  optional bool publishNotReadyAddresses = 13;
  repeated string ipFamilies = 19;
  optional string ipFamilyPolicy = 17 [(go) = "pointer"];
  optional bool allocateLoadBalancerNodePorts = 20 [(go) = "pointer"];
  optional string loadBalancerClass = 21 [(go) = "pointer"];
  optional string internalTrafficPolicy = 22 [(go) = "pointer"];
}

message ServicePort {
  optional string name = 1;
  optional string protocol = 2;
  optional string appProtocol = 6 [(go) = "pointer"];
  optional int32 port = 3 [(go) = "always"];
  optional k8s.io.apimachinery.pkg.util.intstr.IntOrString targetPort = 4;
  optional int32 nodePort = 5;
}
`;

export const appsV1Proto = `
syntax = "proto2";
package k8s.io.api.apps.v1;

message Deployment {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional DeploymentSpec spec = 2;
  optional DeploymentStatus status = 3;
}

message DeploymentSpec {
  optional int32 replicas = 1 [(go) = "pointer"];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector selector = 2;
  optional k8s.io.api.core.v1.PodTemplateSpec template = 3;
  optional DeploymentStrategy strategy = 4;
  optional int32 minReadySeconds = 5;
  optional int32 revisionHistoryLimit = 6 [(go) = "pointer"];
  optional bool paused = 7;
  optional int32 progressDeadlineSeconds = 9 [(go) = "pointer"];
}

message DeploymentStrategy {
  optional string type = 1;
  optional RollingUpdateDeployment rollingUpdate = 2;
}

message RollingUpdateDeployment {
  optional k8s.io.apimachinery.pkg.util.intstr.IntOrString maxUnavailable = 1;
  optional k8s.io.apimachinery.pkg.util.intstr.IntOrString maxSurge = 2;
}

message DeploymentStatus {
  optional int64 observedGeneration = 1;
  optional int32 replicas = 2;
  optional int32 updatedReplicas = 3;
  optional int32 readyReplicas = 7;
  optional int32 availableReplicas = 4;
  optional int32 unavailableReplicas = 5;
  optional int32 terminatingReplicas = 9 [(go) = "pointer"];
  repeated DeploymentCondition conditions = 6;
  optional int32 collisionCount = 8 [(go) = "pointer"];
}

message DeploymentCondition {
  optional string type = 1 [(go) = "always"];
  optional string status = 2 [(go) = "always"];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastUpdateTime = 6;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTransitionTime = 7;
  optional string reason = 4;
  optional string message = 5;
}
`;
