// Builds the web client into dist/: index.html (no inline script or style), assets/app-[hash].js
// and .css, the web manifest and the icons (PNG icons are drawn here, no image tools needed).
import * as esbuild from "esbuild";
import { mkdirSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { deflateSync } from "node:zlib";
import { dirname, join, basename } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = process.env.WEB_OUT || join(here, "dist");
const watch = process.argv.includes("--dev");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "assets"), { recursive: true });

const result = await esbuild.build({
  entryPoints: { app: join(here, "src/main.jsx") },
  bundle: true,
  outdir: join(out, "assets"),
  entryNames: "[name]-[hash]",
  assetNames: "[name]-[hash]",
  format: "esm",
  target: ["es2020", "chrome100", "firefox100", "safari15"],
  jsx: "automatic",
  jsxImportSource: "preact",
  minify: !watch,
  sourcemap: false,
  legalComments: "linked",
  metafile: true,
  define: { "process.env.NODE_ENV": '"production"' },
  logLevel: "warning",
});

let js = "", css = "";
for (const [file, info] of Object.entries(result.metafile.outputs)) {
  if (info.entryPoint && file.endsWith(".js")) js = basename(file);
  if (file.endsWith(".css") && !file.endsWith(".map")) css = basename(file);
}
if (!js || !css) throw new Error("esbuild produced no app js/css");
const bundle = readFileSync(join(out, "assets", js), "utf8");
if (/\beval\(|new Function\(/.test(bundle)) throw new Error("bundle uses eval or new Function");

// ---- icons: a rounded square in the brand colour with three "switch" bars ----
function crc32(buf) {
  let c, crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, maskable) {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  const r = maskable ? 0 : size * 0.18, pad = maskable ? 0 : 0;
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const o = y * (size * 4 + 1) + 1 + x * 4;
      // rounded-rect coverage
      const cx = Math.min(Math.max(x + 0.5, r + pad), size - r - pad);
      const cy = Math.min(Math.max(y + 0.5, r + pad), size - r - pad);
      const d = Math.hypot(x + 0.5 - cx, y + 0.5 - cy);
      const inside = r === 0 ? 1 : Math.max(0, Math.min(1, r - d + 0.5));
      let col = [0x46, 0x47, 0xc1];
      // three horizontal bars with a knob each (a switchboard)
      const u = x / size, v = y / size;
      const safe = maskable ? 0.2 : 0.0;
      const sc = (t) => safe + t * (1 - 2 * safe);
      for (let i = 0; i < 3; i++) {
        const by = sc(0.3 + i * 0.2);
        const knob = sc([0.65, 0.35, 0.55][i]);
        if (Math.abs(v - by) < 0.035 * (1 - 2 * safe) && u > sc(0.22) && u < sc(0.78)) col = [0xe8, 0xe8, 0xff];
        if (Math.hypot(u - knob, v - by) < 0.075 * (1 - 2 * safe)) col = [0xff, 0xff, 0xff];
      }
      raw[o] = col[0]; raw[o + 1] = col[1]; raw[o + 2] = col[2]; raw[o + 3] = Math.round(255 * inside);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk("IHDR", ihdr),
    chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]);
}
writeFileSync(join(out, "icon-192.png"), png(192, false));
writeFileSync(join(out, "icon-512.png"), png(512, false));
writeFileSync(join(out, "icon-maskable-512.png"), png(512, true));

writeFileSync(join(out, "manifest.webmanifest"), JSON.stringify({
  name: "Switchboard",
  short_name: "Switchboard",
  description: "Team channels with live connector cards",
  start_url: "/",
  scope: "/",
  display: "standalone",
  background_color: "#f5f5f7",
  theme_color: "#4647c1",
  icons: [
    { src: "/icon-192.png", sizes: "192x192", type: "image/png" },
    { src: "/icon-512.png", sizes: "512x512", type: "image/png" },
    { src: "/icon-maskable-512.png", sizes: "512x512", type: "image/png", purpose: "maskable" },
  ],
}, null, 2));

writeFileSync(join(out, "index.html"), `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
<meta name="theme-color" content="#4647c1">
<meta name="description" content="Switchboard: team channels with live connector cards">
<title>Switchboard</title>
<link rel="manifest" href="/manifest.webmanifest">
<link rel="icon" type="image/png" href="/icon-192.png">
<link rel="apple-touch-icon" href="/icon-192.png">
<link rel="stylesheet" href="/assets/${css}">
<script type="module" src="/assets/${js}"></script>
</head>
<body>
<div id="app"></div>
<noscript>Switchboard needs JavaScript.</noscript>
</body>
</html>
`);
console.log(`built ${out}: assets/${js} (${(bundle.length / 1024).toFixed(0)} KiB), assets/${css}`);
