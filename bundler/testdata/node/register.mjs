// Lets node load a bundle built for the site root: an import of "/assets/x.js" is read
// from $DIST/assets/x.js, as a browser would fetch it from the server.
import { register } from "node:module";
import { pathToFileURL } from "node:url";

register("./hooks.mjs", import.meta.url, { data: { dist: pathToFileURL(process.env.DIST + "/").href } });
