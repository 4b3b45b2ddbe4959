// Builds dist/clinic-chat.js: ONE file a clinic page loads with one <script> tag. It holds
// socket.io-client (from node_modules, pinned by package-lock.json), the widget's CSS and code.
// socket.io-client runs in a function of its own with local `module`/`exports`, so it never
// touches the host page's globals or its AMD loader.  Run: node widget/build.mjs
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const read = (path) => readFileSync(join(here, path), "utf8");

try {
  read("node_modules/socket.io-client/package.json");
} catch {
  console.error("widget: socket.io-client is not installed: run `npm ci` in widget/ (or `make setup`)");
  process.exit(1);
}
const socketIoVersion = JSON.parse(read("node_modules/socket.io-client/package.json")).version;
const socketIo = read("node_modules/socket.io-client/dist/socket.io.min.js")
  .replace(/\/\/# sourceMappingURL=.*\s*$/, "");
const css = read("src/clinic-chat.css");
const widget = read("src/clinic-chat.js");

const bundle = `/*! Clinic chat widget. Includes socket.io-client ${socketIoVersion} (MIT). */
(function () {
"use strict";
var io = (function () {
  var module = { exports: {} }, exports = module.exports, define;
${socketIo}
  return module.exports;
})();
var CLINIC_CHAT_CSS = ${JSON.stringify(css)};
${widget}
})();
`;

mkdirSync(join(here, "dist"), { recursive: true });
const out = join(here, "dist", "clinic-chat.js");
writeFileSync(out, bundle);
console.log(`widget: wrote ${out} (${Math.round(bundle.length / 1024)} KB, socket.io-client ${socketIoVersion})`);
