// The protobuf messages of the built-in kinds VirtFlow accepts as
// `application/vnd.kubernetes.protobuf` request bodies, written from the field numbers in
// k8s.io/apimachinery (pkg/runtime, pkg/apis/meta/v1) and k8s.io/api (core/v1,
// coordination/v1) generated.proto. Only the messages those kinds reach are declared.
//
// Field names are the JSON names. The `(go)` option records how the Go type serializes the
// field to JSON, which decode.ts follows so a protobuf body becomes exactly the object a JSON
// client would have sent:
//   (none)             a non-pointer field tagged omitempty: omitted when it is the zero value
//   (go) = "pointer"   a pointer field: present on the wire means set, even to a zero value
//   (go) = "always"    a field without omitempty: a zero value is still written
// Message fields are written when present on the wire; repeated and map fields when not empty.

export const runtimeProto = `
syntax = "proto2";
package k8s.io.apimachinery.pkg.runtime;

message Unknown {
  optional TypeMeta typeMeta = 1;
  optional bytes raw = 2;
  optional string contentEncoding = 3;
  optional string contentType = 4;
}

message TypeMeta {
  optional string apiVersion = 1;
  optional string kind = 2;
}
`;

export const metaV1Proto = `
syntax = "proto2";
package k8s.io.apimachinery.pkg.apis.meta.v1;

message Time {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}

message MicroTime {
  optional int64 seconds = 1;
  optional int32 nanos = 2;
}

message FieldsV1 {
  optional bytes Raw = 1;
}

message ObjectMeta {
  optional string name = 1;
  optional string generateName = 2;
  optional string namespace = 3;
  optional string selfLink = 4;
  optional string uid = 5;
  optional string resourceVersion = 6;
  optional int64 generation = 7;
  optional Time creationTimestamp = 8;
  optional Time deletionTimestamp = 9;
  optional int64 deletionGracePeriodSeconds = 10 [(go) = "pointer"];
  map<string, string> labels = 11;
  map<string, string> annotations = 12;
  repeated OwnerReference ownerReferences = 13;
  repeated string finalizers = 14;
  repeated ManagedFieldsEntry managedFields = 17;
}

message OwnerReference {
  optional string apiVersion = 5 [(go) = "always"];
  optional string kind = 1 [(go) = "always"];
  optional string name = 3 [(go) = "always"];
  optional string uid = 4 [(go) = "always"];
  optional bool controller = 6 [(go) = "pointer"];
  optional bool blockOwnerDeletion = 7 [(go) = "pointer"];
}

message ManagedFieldsEntry {
  optional string manager = 1;
  optional string operation = 2;
  optional string apiVersion = 3;
  optional Time time = 4;
  optional string fieldsType = 6;
  optional FieldsV1 fieldsV1 = 7;
  optional string subresource = 8;
}

message DeleteOptions {
  optional int64 gracePeriodSeconds = 1 [(go) = "pointer"];
  optional Preconditions preconditions = 2;
  optional bool orphanDependents = 3 [(go) = "pointer"];
  optional string propagationPolicy = 4 [(go) = "pointer"];
  repeated string dryRun = 5;
  optional bool ignoreStoreReadErrorWithClusterBreakingPotential = 6 [(go) = "pointer"];
}

message Preconditions {
  optional string uid = 1 [(go) = "pointer"];
  optional string resourceVersion = 2 [(go) = "pointer"];
}
`;

export const coreV1Proto = `
syntax = "proto2";
package k8s.io.api.core.v1;

message Namespace {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional NamespaceSpec spec = 2;
  optional NamespaceStatus status = 3;
}

message NamespaceSpec {
  repeated string finalizers = 1;
}

message NamespaceStatus {
  optional string phase = 1;
  repeated NamespaceCondition conditions = 2;
}

message NamespaceCondition {
  optional string type = 1 [(go) = "always"];
  optional string status = 2 [(go) = "always"];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTransitionTime = 4;
  optional string reason = 5;
  optional string message = 6;
}

message ConfigMap {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional bool immutable = 4 [(go) = "pointer"];
  map<string, string> data = 2;
  map<string, bytes> binaryData = 3;
}

message Secret {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional bool immutable = 5 [(go) = "pointer"];
  map<string, bytes> data = 2;
  map<string, string> stringData = 4;
  optional string type = 3;
}

message Event {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional ObjectReference involvedObject = 2;
  optional string reason = 3;
  optional string message = 4;
  optional EventSource source = 5;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time firstTimestamp = 6;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.Time lastTimestamp = 7;
  optional int32 count = 8;
  optional string type = 9;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime eventTime = 10;
  optional EventSeries series = 11;
  optional string action = 12;
  optional ObjectReference related = 13;
  optional string reportingComponent = 14 [(go) = "always"];
  optional string reportingInstance = 15 [(go) = "always"];
}

message EventSource {
  optional string component = 1;
  optional string host = 2;
}

message EventSeries {
  optional int32 count = 1;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime lastObservedTime = 2;
}

message ObjectReference {
  optional string kind = 1;
  optional string namespace = 2;
  optional string name = 3;
  optional string uid = 4;
  optional string apiVersion = 5;
  optional string resourceVersion = 6;
  optional string fieldPath = 7;
}
`;

export const coordinationV1Proto = `
syntax = "proto2";
package k8s.io.api.coordination.v1;

message Lease {
  optional k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta metadata = 1;
  optional LeaseSpec spec = 2;
}

message LeaseSpec {
  optional string holderIdentity = 1 [(go) = "pointer"];
  optional int32 leaseDurationSeconds = 2 [(go) = "pointer"];
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime acquireTime = 3;
  optional k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime renewTime = 4;
  optional int32 leaseTransitions = 5 [(go) = "pointer"];
  optional string strategy = 6 [(go) = "pointer"];
  optional string preferredHolder = 7 [(go) = "pointer"];
}
`;
