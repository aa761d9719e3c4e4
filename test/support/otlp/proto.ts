import protobuf from 'protobufjs';

/**
 * The subset of opentelemetry-proto (v1; common, resource, trace, collector/trace) that a trace
 * export carries, written out by hand from the published field numbers. Unknown fields are skipped
 * by the decoder, so newer exporters still decode.
 */
const OTLP_TRACE_PROTO = `
syntax = "proto3";
package opentelemetry.proto;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}
message Resource {
  repeated KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}
message ResourceSpans {
  Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}
message ScopeSpans {
  InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  fixed32 flags = 16;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
  message Event {
    fixed64 time_unix_nano = 1;
    string name = 2;
    repeated KeyValue attributes = 3;
    uint32 dropped_attributes_count = 4;
  }
  message Link {
    bytes trace_id = 1;
    bytes span_id = 2;
    string trace_state = 3;
    repeated KeyValue attributes = 4;
    uint32 dropped_attributes_count = 5;
    fixed32 flags = 6;
  }
}
message Status {
  string message = 2;
  int32 code = 3;
}
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ExportTraceServiceResponse { ExportTracePartialSuccess partial_success = 1; }
message ExportTracePartialSuccess {
  int64 rejected_spans = 1;
  string error_message = 2;
}
`;

const root = protobuf.parse(OTLP_TRACE_PROTO).root;
const requestType = root.lookupType('opentelemetry.proto.ExportTraceServiceRequest');
const responseType = root.lookupType('opentelemetry.proto.ExportTraceServiceResponse');

/** The gRPC method path of TraceService/Export. */
export const TRACE_EXPORT_PATH = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';

/**
 * Decodes an ExportTraceServiceRequest into the camelCase shape OTLP/JSON uses too; ids stay
 * bytes (Buffer), 64-bit integers become bigint. Throws on bytes that are not the message.
 */
export function decodeTraceRequest(bytes: Uint8Array): Record<string, unknown> {
  return requestType.toObject(requestType.decode(bytes), { longs: BigInt, enums: Number, defaults: false });
}

/** Encodes an ExportTraceServiceRequest given in the camelCase shape (used by the kit's own tests). */
export function encodeTraceRequest(message: Record<string, unknown>): Uint8Array {
  return requestType.encode(requestType.fromObject(message)).finish();
}

/** Encodes an ExportTraceServiceResponse: full success, or the partial success given. */
export function encodeTraceResponse(partialSuccess?: {
  readonly rejectedSpans: number;
  readonly errorMessage: string;
}): Uint8Array {
  return responseType
    .encode(responseType.fromObject(partialSuccess === undefined ? {} : { partialSuccess }))
    .finish();
}
