/// <reference path="./kazzle-env.d.ts" />
import { defineConfig } from "kazzle";

// Which secrets each part of this project uses. `kazzle config print --env=dev` shows
// the result; `kazzle run --env=dev -- <command>` runs a command with them.
export default defineConfig(({ env }) => ({
  collection: "{{COLLECTION}}",
  components: {
    app: {
      kind: "process",
      secrets: [],
      // deploy: { aws: { lambda: { functionName: `{{COLLECTION}}-${env}` } } },
    },
    // web: { kind: "ui", entry: "src/main.ts", secrets: ["VITE_API_URL"] },
  },
}));
