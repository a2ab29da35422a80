import { defineConfig } from "vite";

/** The console is served from the API's own origin (the local server, or CloudFront on AWS), so `vite dev` proxies the API to a running `npm start`. */
const api = process.env.WATTFLOW_API ?? "http://127.0.0.1:3000";

export default defineConfig({
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true },
  server: { proxy: { "/v1": api, "/health": api } },
});
