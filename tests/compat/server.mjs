// The life of a Switchboard server for the compat tests: a temporary data directory, a user and a
// token made with the admin CLI, `switchboard serve` on a free port, a wait until it answers, an
// api() helper for the REST API, and a SIGTERM stop that checks the exit code and removes the
// directory.
//
//   const server = await startServer({ args: ['--webhook-rate', '1000'] });
//   const r = await server.api('POST', '/api/v1/teams', { name: 'Compat' }); // {status, json, text}
//   ...
//   await server.stop(); // asserts a clean exit (code 0 within 10 s)
//
// SWITCHBOARD_BIN overrides the binary (default ../../build/switchboard).

import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.SWITCHBOARD_BIN || path.resolve(here, '../../build/switchboard');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A TCP port on 127.0.0.1 that was free a moment ago.
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Calls the REST API at base with a bearer token: {status, json (parsed body or null), text}.
export async function apiCall(base, token, method, p, body) {
  const res = await fetch(base + p, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(10000),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null, text };
}

// Starts a server with a fresh data directory and a user (admin CLI) and its token.
// Options: args (more `serve` arguments), user, password, prefix (of the temporary directory),
// readyMs (how long to wait for it to answer).
// Answers {base, token, dataDir, data, proc, stderr(), alive(), api(method, path, body), stop()}.
// When it cannot start, whatever it started is stopped and removed before it throws.
export async function startServer({
  args = [], user = 'alice', password = 'compat-test-password', prefix = 'sb-compat-', readyMs = 10000,
} = {}) {
  assert.ok(existsSync(BIN), `switchboard binary not found: ${BIN} (build it or set SWITCHBOARD_BIN)`);
  const dataDir = mkdtempSync(path.join(tmpdir(), prefix));
  const data = path.join(dataDir, 'data');
  let stderr = '';
  const server = {
    base: null, token: null, dataDir, data, proc: null,
    stderr: () => stderr,
    alive: () => !!server.proc && server.proc.exitCode === null && server.proc.signalCode === null,
    api: (method, p, body) => apiCall(server.base, server.token, method, p, body),
    stop: () => stopServer(server),
  };
  try {
    execFileSync(BIN, ['admin', '--data', data, 'create-user', user, '--password-stdin'],
      { input: `${password}\n`, timeout: 30000 });
    const token = execFileSync(BIN, ['admin', '--data', data, 'create-token', user], { timeout: 30000 }).toString().trim();
    assert.ok(token && !/\s/.test(token), `create-token printed ${JSON.stringify(token)}`);
    server.token = token;

    const port = await freePort();
    server.base = `http://127.0.0.1:${port}`;
    const proc = spawn(BIN, ['serve', '--data', data, '--listen', `127.0.0.1:${port}`, ...args],
      { stdio: ['ignore', 'ignore', 'pipe'] });
    server.proc = proc;
    proc.stderr.on('data', (d) => { stderr += d; });
    const deadline = Date.now() + readyMs;
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`server exited with ${proc.exitCode}:\n${stderr}`);
      try {
        const r = await fetch(`${server.base}/api/v1/session`, { signal: AbortSignal.timeout(1000) });
        if (r.status === 200 || r.status === 401) break;
      } catch { /* not yet */ }
      if (Date.now() > deadline) throw new Error(`server not ready within ${readyMs / 1000} s:\n${stderr}`);
      await sleep(50);
    }
  } catch (err) {
    if (server.proc && server.proc.exitCode === null) {
      server.proc.kill('SIGKILL');
      await new Promise((r) => { if (server.proc.exitCode !== null || server.proc.signalCode) r(); else server.proc.once('exit', r); });
    }
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return server;
}

// SIGTERM, then up to 10 s for a clean exit (code 0; SIGKILL after that); the data directory is
// removed whatever happens. Safe to call twice and with null.
export async function stopServer(server) {
  if (!server) return;
  const { proc } = server;
  try {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      const t0 = Date.now();
      proc.kill('SIGTERM');
      let timer;
      await Promise.race([exited, new Promise((r) => { timer = setTimeout(r, 10000); })]);
      clearTimeout(timer);
      if (proc.exitCode === null) proc.kill('SIGKILL');
      assert.ok(Date.now() - t0 < 10000, 'server took 10 s or more to stop');
      assert.equal(proc.exitCode, 0, `server exit code after SIGTERM:\n${server.stderr().slice(-2000)}`);
    }
  } finally {
    if (server.dataDir) rmSync(server.dataDir, { recursive: true, force: true });
    server.dataDir = null;
  }
}
