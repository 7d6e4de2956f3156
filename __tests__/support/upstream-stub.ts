import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer } from "ws";

/** A request as the stub received it from nginx. */
export interface StubRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly remoteAddress: string;
}

/** Body of every plain response of a stub. */
export interface StubResponse {
  readonly name: string;
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
}

/** Path that Ignition Perspective opens its WebSocket on. The stub returns 400 to a plain request there. */
export const PERSPECTIVE_WEBSOCKET_PATH = "/system/websocket";

/**
 * An upstream server in place of one container: it returns its name
 * and the request it received as JSON, counts the TCP connections it
 * accepts, and echoes WebSocket messages. Like a Perspective gateway, it
 * accepts an upgrade only with `Connection: upgrade` and `Upgrade: websocket`.
 */
export class UpstreamStub {
  /** Starts a stub on the address; port 0 picks a free port. */
  public static async start(
    name: string,
    host: string,
    port = 0,
  ): Promise<UpstreamStub> {
    const stub = new UpstreamStub(name, host);
    await new Promise<void>((resolve, reject) => {
      stub.server.once("error", reject);
      stub.server.listen(port, host, resolve);
    });
    return stub;
  }

  /** Plain requests received, oldest first. */
  public readonly requests: StubRequest[] = [];
  /** Upgrade requests received, accepted or not. */
  public readonly upgrades: StubRequest[] = [];
  /** TCP connections accepted since the start or the last {@link reset}. */
  public connections = 0;

  private readonly server: http.Server;
  private readonly webSockets = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<Socket>();

  private constructor(
    public readonly name: string,
    public readonly host: string,
  ) {
    this.server = http.createServer((request, response) =>
      this.respond(request, response),
    );
    // Longer than nginx's upstream keepalive_timeout, so nginx always closes idle connections first.
    this.server.keepAliveTimeout = 30_000;
    this.server.on("connection", (socket: Socket) => {
      this.connections += 1;
      this.sockets.add(socket);
      socket.once("close", () => this.sockets.delete(socket));
    });
    this.server.on(
      "upgrade",
      (request: http.IncomingMessage, socket: Socket, head: Buffer) =>
        this.upgrade(request, socket, head),
    );
    this.webSockets.on("connection", (webSocket) => {
      webSocket.on("message", (data, isBinary) =>
        webSocket.send(data, { binary: isBinary }),
      );
    });
  }

  /** Port the stub listens on. */
  public get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  /** Forgets the requests and connections counted so far. */
  public reset(): void {
    this.requests.length = 0;
    this.upgrades.length = 0;
    this.connections = 0;
  }

  /** Stops listening and closes every open connection, WebSockets included. */
  public async close(): Promise<void> {
    for (const client of this.webSockets.clients) {
      client.terminate();
    }
    for (const socket of this.sockets) {
      socket.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.webSockets.close();
  }

  private record(request: http.IncomingMessage): StubRequest {
    return {
      method: request.method ?? "",
      url: request.url ?? "",
      headers: request.headers,
      remoteAddress: request.socket.remoteAddress ?? "",
    };
  }

  private respond(
    request: http.IncomingMessage,
    response: http.ServerResponse,
  ): void {
    this.requests.push(this.record(request));
    request.resume();
    request.on("end", () => {
      if ((request.url ?? "").endsWith(PERSPECTIVE_WEBSOCKET_PATH)) {
        response.writeHead(400, { "content-type": "text/plain" });
        response.end("WebSocket upgrade required\n");
        return;
      }
      const body: StubResponse = {
        name: this.name,
        url: request.url ?? "",
        headers: request.headers,
      };
      response.writeHead(200, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    });
  }

  private upgrade(
    request: http.IncomingMessage,
    socket: Socket,
    head: Buffer,
  ): void {
    this.upgrades.push(this.record(request));
    const connection = (request.headers.connection ?? "")
      .toLowerCase()
      .split(/\s*,\s*/);
    const upgrade = (request.headers.upgrade ?? "").toLowerCase();
    if (!connection.includes("upgrade") || upgrade !== "websocket") {
      socket.end(
        "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n",
      );
      return;
    }
    this.webSockets.handleUpgrade(request, socket, head, (webSocket) =>
      this.webSockets.emit("connection", webSocket, request),
    );
  }
}
