import * as http from "node:http";
import WebSocket from "ws";

/** A response read to its end. */
export interface HttpResult {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** Options of one request to a proxy listening on 127.0.0.1. */
export interface ProxyRequest {
  readonly port: number;
  /** @default "/" */
  readonly path?: string;
  /** Value of the Host header; `null` sends none. @default - 127.0.0.1 and the port */
  readonly host?: string | null;
  /** @default {} */
  readonly headers?: Readonly<Record<string, string>>;
  /** Source address of the client socket, such as the loopback address of the stack's cloudflared. @default - chosen by the kernel */
  readonly localAddress?: string;
  /** Agent whose connections the request may reuse. @default - a new connection, closed after the response */
  readonly agent?: http.Agent;
}

/** Sends a GET on a new TCP connection and reads the whole response. */
export function httpGet(request: ProxyRequest): Promise<HttpResult> {
  const headers: Record<string, string> = { ...request.headers };
  if (request.host !== undefined && request.host !== null) {
    headers.host = request.host;
  }
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      {
        host: "127.0.0.1",
        port: request.port,
        path: request.path ?? "/",
        method: "GET",
        headers,
        localAddress: request.localAddress,
        setHost: request.host !== null,
        agent: request.agent ?? false,
        timeout: 10_000,
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            body,
          }),
        );
        response.on("error", reject);
      },
    );
    outgoing.on("timeout", () =>
      outgoing.destroy(
        new Error(
          `request to 127.0.0.1:${request.port}${request.path ?? "/"} timed out`,
        ),
      ),
    );
    outgoing.on("error", reject);
    outgoing.end();
  });
}

/** Opens a WebSocket through the proxy; resolves once the upgrade succeeded, rejects with the response status otherwise. */
export function openWebSocket(request: ProxyRequest): Promise<WebSocket> {
  const url = `ws://127.0.0.1:${request.port}${request.path ?? "/"}`;
  const headers: Record<string, string> = { ...request.headers };
  if (request.host) {
    headers.host = request.host;
  }
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, {
      headers,
      localAddress: request.localAddress,
      handshakeTimeout: 10_000,
    });
    socket.once("open", () => resolve(socket));
    socket.once("unexpected-response", (_request, response) => {
      socket.terminate();
      reject(
        new Error(
          `WebSocket upgrade to ${url} answered ${response.statusCode}`,
        ),
      );
    });
    socket.once("error", reject);
  });
}

/** Sends a text message and resolves with the next message received, or rejects when the socket closes first. */
export function echo(socket: WebSocket, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const onClose = (code: number) =>
      reject(
        new Error(`WebSocket closed with code ${code} before the echo arrived`),
      );
    socket.once("close", onClose);
    socket.once("message", (data) => {
      socket.off("close", onClose);
      resolve(data.toString());
    });
    socket.send(message);
  });
}

/** Resolves when the socket is closed, with its close code. */
export function closed(socket: WebSocket): Promise<number> {
  if (socket.readyState === WebSocket.CLOSED) {
    return Promise.resolve(1006);
  }
  return new Promise((resolve) =>
    socket.once("close", (code) => resolve(code)),
  );
}
