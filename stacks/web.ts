/** The console: a Vite SPA served by the app's Router, next to the API on the same origin. */
import { router } from "./api";

export const web = new sst.aws.StaticSite("Web", {
  path: "packages/web",
  build: { command: "npm run build", output: "dist" },
  // Same origin as the API: the console calls /v1 relatively.
  environment: { VITE_API_URL: "/v1" },
  router: { instance: router },
});
