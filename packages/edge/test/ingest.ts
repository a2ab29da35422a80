/** A small stand-in for the cloud's ingest API, for agent tests that need no stack. */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export type Posted = { meterId: string; start: string; seconds: number; kwh: number; gap?: boolean };

/** POST /v1/ingest that takes everything once `open`, and 503 + Retry-After before that. */
export async function ingestServer(state: { open: boolean }) {
  const posted: Posted[] = [];
  const server: Server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    request.on("end", () => {
      if (request.url === "/v1/devices/heartbeat") {
        // As the API answers a heartbeat: with its time, which a gateway with an untrusted clock compares with its own.
        response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, serverTime: new Date().toISOString() }));
        return;
      }
      if (request.url !== "/v1/ingest") {
        response.writeHead(200, { "content-type": "application/json" }).end("{}");
        return;
      }
      if (!state.open) {
        response.writeHead(503, { "retry-after": "0.05", "content-type": "application/json" }).end('{"code":"ingest.stream_unavailable"}');
        return;
      }
      const readings = (JSON.parse(body) as { readings: Posted[] }).readings;
      posted.push(...readings);
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ accepted: readings.length, duplicates: 0, rejected: [] }));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
