/**
 * Envoy's ext_authz API from Envoy's own protos (copied into the package's protos/), loaded with
 * protobufjs, and the gRPC service definition of `envoy.service.auth.v3.Authorization/Check`.
 * Requests are decoded strictly: proto3 strings must be UTF-8, and a string that is not is
 * reported rather than silently patched with replacement characters (as a lenient decoder would),
 * so a token or path can never change meaning on the way in.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ServiceDefinition } from "@grpc/grpc-js";
import type { Reader, Root, Type } from "protobufjs";
import { protobuf } from "../../lazy.js";
import { packageRoot } from "../../paths.js";

const require = createRequire(import.meta.url);
const SERVICE = "envoy.service.auth.v3.Authorization";

/** A CheckRequest as decoded: the protobuf message as a plain object (snake_case names, longs as numbers). */
export type CheckRequestObject = Record<string, unknown>;

/** What decoding found: the request, or why it could not be read. */
export type Decoded = { readonly ok: true; readonly request: CheckRequestObject } | { readonly ok: false; readonly reason: string };

const fatal = new TextDecoder("utf-8", { fatal: true });

interface AuthProtos {
  readonly root: Root;
  readonly request: Type;
  readonly response: Type;
  /** A reader whose strings must be valid UTF-8, passed down to every nested message's decoder. */
  readonly StrictReader: new (bytes: Uint8Array) => Reader;
}

let loaded: AuthProtos | undefined;

/** The protobuf root with Envoy's ext_authz v3 messages (loaded once, from the package's protos). */
export function authProtos(): AuthProtos {
  if (loaded) return loaded;
  const { Reader, Root } = protobuf();
  // Envoy's API and what it imports (scripts/vendor-protos.mjs); protobufjs's own copy of
  // google/protobuf/descriptor.proto last.
  const include = [join(packageRoot(), "protos"), dirname(require.resolve("protobufjs/package.json"))];
  const root = new Root();
  root.resolvePath = (_origin, target) => {
    const found = include.map((dir) => join(dir, target)).find((candidate) => existsSync(candidate));
    return found ?? target;
  };
  root.loadSync("envoy/service/auth/v3/external_auth.proto", { keepCase: true });
  root.resolveAll();
  loaded = {
    root,
    request: root.lookupType("envoy.service.auth.v3.CheckRequest"),
    response: root.lookupType("envoy.service.auth.v3.CheckResponse"),
    StrictReader: class extends Reader {
      override string(): string {
        return fatal.decode(this.bytes());
      }
    },
  };
  return loaded;
}

/** Decodes a CheckRequest; never throws. */
export function decodeCheckRequest(bytes: Buffer): Decoded {
  const { request, StrictReader } = authProtos();
  try {
    const message = request.decode(new StrictReader(bytes));
    return { ok: true, request: request.toObject(message, { longs: Number, enums: String, bytes: String, defaults: false }) };
  } catch (err) {
    const reason = err instanceof TypeError && /encoded data/i.test(err.message) ? "a string field is not valid UTF-8" : "not a CheckRequest";
    return { ok: false, reason };
  }
}

/** Encodes a CheckResponse given as a plain object. */
export function encodeCheckResponse(response: Record<string, unknown>): Buffer {
  const type = authProtos().response;
  return Buffer.from(type.encode(type.fromObject(response)).finish());
}

/** The service definition for @grpc/grpc-js, with the strict decoder. */
export function authorizationService(): ServiceDefinition {
  const { request, response } = authProtos();
  return {
    Check: {
      path: `/${SERVICE}/Check`,
      requestStream: false,
      responseStream: false,
      requestSerialize: (value: Record<string, unknown>) => Buffer.from(request.encode(request.fromObject(value)).finish()),
      requestDeserialize: decodeCheckRequest,
      responseSerialize: encodeCheckResponse,
      responseDeserialize: (bytes: Buffer) => response.toObject(response.decode(bytes), { longs: Number, enums: String }),
      originalName: "check",
    },
  } as ServiceDefinition;
}

export const AUTHORIZATION_SERVICE = SERVICE;
