/**
 * A Node ext_authz client as Envoy would be one: Envoy's own protos (from @grpc/grpc-js-xds)
 * loaded with @grpc/proto-loader, calls over @grpc/grpc-js to a loopback address. Independent of
 * the server's protobufjs decoding. Also sends raw bytes, for malformed-request tests.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as loader from "@grpc/proto-loader";

const require = createRequire(import.meta.url);
const DEPS = join(dirname(require.resolve("@grpc/grpc-js-xds/package.json")), "deps");

/** What a Check gave: a gRPC status code, and the CheckResponse when it succeeded. */
export interface CheckOutcome {
  readonly code: number;
  readonly message: string;
  readonly response: Record<string, unknown> | null;
}

const definition = loader.loadSync("envoy/service/auth/v3/external_auth.proto", {
  includeDirs: ["envoy-api", "xds", "googleapis", "protoc-gen-validate"].map((d) => join(DEPS, d)),
  keepCase: true,
  longs: Number,
  defaults: false,
  oneofs: true,
});
const auth = (grpc.loadPackageDefinition(definition) as any).envoy.service.auth.v3;

export class NodeEnvoyClient {
  private readonly client: grpc.Client & Record<string, any>;

  /** `ownConnection`: a connection of its own rather than one shared with other clients of the address (as Envoy's workers each hold one). */
  constructor(readonly address: string, options: { ownConnection?: boolean } = {}) {
    this.client = new auth.Authorization(address, grpc.credentials.createInsecure(), {
      "grpc.max_send_message_length": 64 * 2 ** 20,
      ...(options.ownConnection && { "grpc.use_local_subchannel_pool": 1 }),
    });
  }

  /** Sends a CheckRequest given as a plain object (snake_case, as in the proto). */
  check(request: Record<string, unknown>, timeoutMs = 15_000): Promise<CheckOutcome> {
    return new Promise((resolve) => {
      this.client.Check(request, { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, response: Record<string, unknown>) => {
        resolve(err ? { code: err.code, message: err.details, response: null } : { code: 0, message: "", response });
      });
    });
  }

  /** Sends raw bytes as a CheckRequest (for malformed messages), reading the answer with the protos. */
  checkRaw(bytes: Buffer, timeoutMs = 15_000): Promise<CheckOutcome> {
    const method = definition["envoy.service.auth.v3.Authorization"] as any;
    return new Promise((resolve) => {
      this.client.makeUnaryRequest(
        "/envoy.service.auth.v3.Authorization/Check",
        (b: Buffer) => b,
        method.Check.responseDeserialize,
        bytes,
        { deadline: Date.now() + timeoutMs },
        (err: grpc.ServiceError | null, response?: Record<string, unknown>) => {
          resolve(err ? { code: err.code, message: err.details, response: null } : { code: 0, message: "", response: response ?? null });
        },
      );
    });
  }

  /** Encodes a CheckRequest object with the protos, as the client would send it. */
  encode(request: Record<string, unknown>): Buffer {
    const method = definition["envoy.service.auth.v3.Authorization"] as any;
    return method.Check.requestSerialize(request);
  }

  close(): void {
    this.client.close();
  }
}
