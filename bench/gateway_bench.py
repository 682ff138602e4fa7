"""bench/gateway's measuring part: starts the fake upstream and the gateways, sends the
same Anthropic request to each, prints the table and writes the Markdown report.

Everything listens on and talks to 127.0.0.1 only. Each phase is bounded both in
requests and in seconds. Run through bench/gateway, which prepares the tools.
"""

import argparse
import asyncio
import base64
import datetime
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time

import aiohttp

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from gateway_upstream import CHUNKS, PACE_MS, PACED_PROMPT, TEXT  # noqa: E402

MODEL = "claude-sonnet-4-5"
UPSTREAM_MODEL = "fake-model"
SYSTEM = "You are terse."
PROMPT = "Say the twenty words."
PHASE_CAP_S = 100  # no latency phase runs longer than this, whatever --requests says
CLEAN_ENV = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def anthropic_body(stream, prompt):
    return {"model": MODEL, "max_tokens": 256, "system": SYSTEM, "stream": stream,
            "messages": [{"role": "user", "content": prompt}]}


def openai_body(stream, prompt):
    b = {"model": UPSTREAM_MODEL, "max_tokens": 256, "stream": stream,
         "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": prompt}]}
    if stream:
        b["stream_options"] = {"include_usage": True}
    return b


class Target:
    """One thing requests go to: the upstream itself or a gateway in front of it."""

    def __init__(self, name, version):
        self.name, self.version = name, version
        self.proc, self.url, self.headers, self.error = None, None, {}, None
        self.openai = False  # the direct baseline speaks OpenAI, the gateways Anthropic
        self.log = None
        self.samples = {}  # case -> list of (first_byte_s, whole_s)
        self.throughput = None
        self.cpu_ms_per_req = None
        self.hwm_kb = None

    def body(self, stream, paced=False):
        prompt = PACED_PROMPT if paced else PROMPT
        return json.dumps(openai_body(stream, prompt) if self.openai else anthropic_body(stream, prompt)).encode()

    def check(self, raw, stream):
        """The whole answer, read back: the right text, every chunk of it."""
        if not stream:
            v = json.loads(raw)
            if self.openai:
                text = v["choices"][0]["message"]["content"]
            else:
                text = "".join(b.get("text", "") for b in v["content"] if b.get("type") == "text")
            return text == TEXT or f"wrong text {text!r}"
        text, done = [], False
        for line in raw.decode().splitlines():
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                done = True
                continue
            v = json.loads(data)
            if self.openai:
                for c in v.get("choices", []):
                    text.append(c.get("delta", {}).get("content") or "")
            elif v.get("type") == "content_block_delta" and v["delta"].get("type") == "text_delta":
                text.append(v["delta"]["text"])
            elif v.get("type") == "message_stop":
                done = True
        text = "".join(text)
        if text != TEXT:
            return f"wrong text {text!r}"
        return done or "no end of stream"


# ---- processes -------------------------------------------------------------------------

def tree(pid):
    """pid and all its descendants, read from /proc."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                kids.setdefault(ppid, []).append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def hwm_kb(pid):
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def cpu_s(pid):
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


def spawn(cmd, env, log):
    return subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)


def tail(path, n=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-n:]).strip()
    except OSError:
        return ""


def wait_port(port, proc, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            return f"exited with {proc.returncode}"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return None
        except OSError:
            time.sleep(0.2)
    return f"not listening on 127.0.0.1:{port} after {seconds}s"


def start_upstream(work, py):
    pf = os.path.join(work, "upstream.port")
    log = open(os.path.join(work, "upstream.log"), "w")
    proc = spawn([py, os.path.join(HERE, "gateway_upstream.py"), pf], CLEAN_ENV, log)
    deadline = time.time() + 30
    while not os.path.exists(pf):
        if proc.poll() is not None or time.time() > deadline:
            sys.exit(f"bench: the fake upstream did not start: {tail(log.name)}")
        time.sleep(0.05)
    with open(pf) as f:
        return proc, int(f.read())


def start_ccenv(args, work, up):
    t = Target("ccenv-gateway", args.ccenv_version)
    data, root = os.path.join(work, "ccenv-data"), "/bench/project"
    routes = os.path.join(work, "routes.toml")
    with open(routes, "w") as f:
        f.write(f'[[project]]\nroot = "{root}"\nupstreams = ["loop"]\n[upstream.loop]\n'
                f'protocol = "openai-chat"\nbase_url = "http://127.0.0.1:{up}/v1"\nkey = "sk-fake"\n'
                f'auth = "bearer"\nmodels = {{ default = "{UPSTREAM_MODEL}" }}\n')
    os.chmod(routes, 0o600)
    env = dict(CLEAN_ENV, CCENV_DATA_DIR=data, HOME=os.path.join(work, "home"))
    t.log = os.path.join(work, "ccenv.log")
    t.proc = spawn([args.ccenv, "serve", "--routes", routes, "--port", "0"], env, open(t.log, "w"))
    enc = base64.urlsafe_b64encode(root.encode()).decode().rstrip("=")

    def ready():
        state = os.path.join(data, "gateway.state")
        deadline = time.time() + 60
        while time.time() < deadline:
            if t.proc.poll() is not None:
                return f"exited with {t.proc.returncode}"
            try:
                with open(state) as f:
                    port = json.load(f)["port"]
                with open(os.path.join(data, "gateway.token")) as f:
                    token = f.read().strip()
                t.url = f"http://127.0.0.1:{port}/p/{enc}/v1/messages"
                t.headers = {"authorization": f"Bearer {token}", "anthropic-version": "2023-06-01"}
                return None
            except (OSError, ValueError, KeyError):
                time.sleep(0.05)
        return "no state file after 60s"
    return t, ready


def start_litellm(args, work, up):
    t = Target("LiteLLM proxy", args.litellm_version)
    port, key = free_port(), "sk-bench-master"
    cfg = os.path.join(work, "litellm.yaml")
    with open(cfg, "w") as f:
        f.write(f"model_list:\n  - model_name: {MODEL}\n    litellm_params:\n      model: openai/{UPSTREAM_MODEL}\n"
                f"      api_base: http://127.0.0.1:{up}/v1\n      api_key: sk-fake\n"
                f"general_settings:\n  master_key: {key}\n"
                # Without this LiteLLM sends OpenAI models to the Responses API (/v1/responses),
                # which OpenAI-compatible servers (Groq, vLLM, ...) do not have.
                "litellm_settings:\n  telemetry: false\n  use_chat_completions_url_for_anthropic_messages: true\n")
    # The cost map is otherwise fetched from the internet at import; only loopback here.
    env = dict(CLEAN_ENV, HOME=os.path.join(work, "home"), LITELLM_LOCAL_MODEL_COST_MAP="True",
               LITELLM_TELEMETRY="False", LITELLM_LOG="ERROR")
    t.log = os.path.join(work, "litellm.log")
    t.proc = spawn([args.litellm, "--config", cfg, "--host", "127.0.0.1", "--port", str(port)], env,
                   open(t.log, "w"))
    t.url = f"http://127.0.0.1:{port}/v1/messages"
    t.headers = {"authorization": f"Bearer {key}", "anthropic-version": "2023-06-01"}
    return t, lambda: wait_port(port, t.proc, 180)


def start_ccr(args, work, up):
    t = Target("claude-code-router", args.ccr_version)
    port, key = free_port(), "bench-key"
    home = os.path.join(work, "ccr-home")
    os.makedirs(os.path.join(home, ".claude-code-router"))
    cfg = {"LOG": False, "HOST": "127.0.0.1", "PORT": port, "APIKEY": key, "NON_INTERACTIVE_MODE": True,
           "Providers": [{"name": "loop", "api_base_url": f"http://127.0.0.1:{up}/v1/chat/completions",
                          "api_key": "sk-fake", "models": [UPSTREAM_MODEL]}],
           "Router": {"default": f"loop,{UPSTREAM_MODEL}"}}
    with open(os.path.join(home, ".claude-code-router", "config.json"), "w") as f:
        json.dump(cfg, f)
    env = dict(CLEAN_ENV, HOME=home, DISABLE_TELEMETRY="1", DISABLE_AUTOUPDATER="1",
               CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1")
    t.log = os.path.join(work, "ccr.log")
    t.proc = spawn(["node", args.ccr, "start"], env, open(t.log, "w"))
    t.url = f"http://127.0.0.1:{port}/v1/messages"
    t.headers = {"x-api-key": key, "anthropic-version": "2023-06-01"}
    return t, lambda: wait_port(port, t.proc, 180)


# ---- measuring -------------------------------------------------------------------------

async def one(session, t, stream, paced=False):
    headers = dict(t.headers, **{"content-type": "application/json"})
    body = t.body(stream, paced)
    t0 = time.perf_counter()
    async with session.post(t.url, data=body, headers=headers) as resp:
        first = await resp.content.readany()
        t1 = time.perf_counter()
        rest = await resp.read()
        t2 = time.perf_counter()
        raw = first + rest
        if resp.status != 200:
            raise RuntimeError(f"HTTP {resp.status}: {raw[:300]!r}")
    return t1 - t0, t2 - t0, raw


def session(limit):
    conn = aiohttp.TCPConnector(limit=limit, force_close=False)
    return aiohttp.ClientSession(connector=conn, timeout=aiohttp.ClientTimeout(total=60), trust_env=False)


async def smoke(targets):
    for t in targets:
        async with session(4) as s:
            for stream in (False, True):
                try:
                    _, _, raw = await one(s, t, stream)
                    ok = t.check(raw, stream)
                except Exception as e:  # noqa: BLE001 - reported, the target is left out
                    ok = f"{type(e).__name__}: {e}"
                if ok is not True:
                    t.error = f"{'stream' if stream else 'plain'} request: {ok}"
                    break


async def latency(targets, case, n, warmup):
    stream, paced = case != "plain", case == "paced"
    sessions = {t.name: session(4) for t in targets}
    try:
        for t in targets:
            try:
                for _ in range(min(warmup, 5) if paced else warmup):
                    await one(sessions[t.name], t, stream, paced)
            except Exception as e:  # noqa: BLE001 - reported, the target is left out
                t.error = f"{case} warm-up: {type(e).__name__}: {e}"
        deadline = time.time() + PHASE_CAP_S
        for i in range(n):
            if time.time() > deadline:
                print(f"  {case}: stopped after {i} rounds ({PHASE_CAP_S}s cap)", flush=True)
                break
            # Interleaved, rotating order: a busy moment on this machine hits every target.
            for k in range(len(targets)):
                t = targets[(i + k) % len(targets)]
                if t.error:
                    continue
                try:
                    fb, whole, raw = await one(sessions[t.name], t, stream, paced)
                    ok = t.check(raw, stream)
                except Exception as e:  # noqa: BLE001 - reported, the target is left out
                    ok = f"{type(e).__name__}: {e}"
                if ok is not True:
                    t.error = f"{case} request {i}: {ok}"
                    continue
                t.samples.setdefault(case, []).append((fb, whole))
    finally:
        for s in sessions.values():
            await s.close()


async def throughput(t, conc, seconds):
    done, errors = 0, 0
    end_marker = b"[DONE]" if t.openai else b"message_stop"

    async def worker(s, deadline):
        nonlocal done, errors
        while time.perf_counter() < deadline and done + errors < 1_000_000:
            try:
                _, _, raw = await one(s, t, True)
                if end_marker in raw:
                    done += 1
                else:
                    errors += 1
            except Exception:  # noqa: BLE001 - counted
                errors += 1

    async with session(conc) as s:
        await asyncio.gather(*(one(s, t, True) for _ in range(conc)), return_exceptions=True)  # open connections
        cpu0 = cpu_s(t.proc.pid)
        start = time.perf_counter()
        await asyncio.gather(*(worker(s, start + seconds) for _ in range(conc)))
        elapsed = time.perf_counter() - start
        cpu = cpu_s(t.proc.pid) - cpu0
    t.throughput = (done / elapsed, errors)
    t.cpu_ms_per_req = 1000 * cpu / done if done else None


# ---- report ----------------------------------------------------------------------------

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def ms(x):
    return f"{x * 1000:.2f}"


def row(t, base):
    cells = [t.name, t.version]
    for case, idx in (("stream", 0), ("stream", 1), ("plain", 1)):
        xs = [s[idx] for s in t.samples.get(case, [])]
        if not xs:
            cells.append("-")
            continue
        p50, p99 = pct(xs, 50), pct(xs, 99)
        if t is base:
            cells.append(f"{ms(p50)} / {ms(p99)}")
        else:
            bs = [s[idx] for s in base.samples[case]]
            cells.append(f"{1000 * (p50 - pct(bs, 50)):+.2f} / {1000 * (p99 - pct(bs, 99)):+.2f}")
    paced = [s for s in t.samples.get("paced", [])]
    cells.append(f"{ms(pct([s[0] for s in paced], 50))} / {ms(pct([s[1] for s in paced], 50))}" if paced else "-")
    rps, errs = t.throughput or (0, 0)
    cells.append(f"{rps:.0f}" + (f" ({errs} errors)" if errs else "") if t.throughput else "-")
    cells.append(f"{t.cpu_ms_per_req:.2f}" if t.cpu_ms_per_req else "-")
    cells.append(f"{t.hwm_kb / 1024:.1f}" if t.hwm_kb else "-")
    return cells


HEADER = ["", "version", "stream first byte p50 / p99 (ms)", "stream whole p50 / p99 (ms)",
          "plain whole p50 / p99 (ms)", f"paced stream first byte / whole p50 (ms)",
          "req/s, 32 streams", "gateway CPU ms/req", "peak RSS (MB)"]


def table(targets, base):
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    for t in targets:
        lines.append("| " + " | ".join(row(t, base)) + " |")
    return "\n".join(lines)


def machine():
    model = "unknown CPU"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return model, os.cpu_count(), os.getloadavg()


# ---- main ------------------------------------------------------------------------------

async def measure(args, targets, base):
    live = [t for t in targets if not t.error]
    await smoke(live)
    for t in live:
        if t.error:
            print(f"bench: {t.name} left out: {t.error}", flush=True)
    live = [t for t in live if not t.error]
    if base not in live:
        sys.exit(f"bench: the direct upstream does not answer right: {base.error}")
    for case, n in (("plain", args.requests), ("stream", args.requests), ("paced", args.paced_requests)):
        print(f"latency, {case}: {n} rounds over {len(live)} targets, interleaved", flush=True)
        await latency(live, case, n, args.warmup)
    live = [t for t in live if not t.error]
    for t in live:
        print(f"throughput: {t.name}, {args.concurrency} streams for {args.duration}s", flush=True)
        await throughput(t, args.concurrency, args.duration)
    for t in live:
        if t.proc and t is not base:
            t.hwm_kb = hwm_kb(t.proc.pid)


def main():
    ap = argparse.ArgumentParser()
    for a in ("ccenv", "ccenv-version", "litellm", "litellm-version", "ccr", "ccr-version", "out", "versions"):
        ap.add_argument("--" + a, default="")
    ap.add_argument("--missing", action="append", default=[], help="a competitor not installed, and why")
    ap.add_argument("--requests", type=int, default=500)
    ap.add_argument("--paced-requests", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--duration", type=float, default=10)
    ap.add_argument("--concurrency", type=int, default=32)
    args = ap.parse_args()
    started = time.time()
    model, ncpu, load0 = machine()
    work = tempfile.mkdtemp(prefix="ccenv-gwbench-")
    up_proc, up = start_upstream(work, sys.executable)
    base = Target("direct upstream (baseline)", "aiohttp " + aiohttp.__version__)
    base.openai, base.proc = True, up_proc
    base.url = f"http://127.0.0.1:{up}/v1/chat/completions"
    targets, waits = [base], []
    for starter, path in ((start_ccenv, args.ccenv), (start_litellm, args.litellm), (start_ccr, args.ccr)):
        if not path:
            continue
        t, ready = starter(args, work, up)
        targets.append(t)
        waits.append((t, ready))
    try:
        for t, ready in waits:
            err = ready()
            if err:
                t.error = f"did not start ({err}): {tail(t.log)}"
                print(f"bench: {t.name} left out: {t.error}", flush=True)
        asyncio.run(measure(args, targets, base))
    finally:
        for t in targets:
            if t.proc and t.proc.poll() is None:
                os.killpg(t.proc.pid, 15)
    took = time.time() - started
    _, _, load1 = machine()
    tbl = table([t for t in targets if not t.error], base)
    print()
    print(tbl)
    left_out = [f"- {t.name} {t.version}: left out — {t.error}" for t in targets if t.error]
    left_out += [f"- {m}" for m in args.missing]
    for line in left_out:
        print(line)
    print(f"requests per target: {counts(targets)}")
    report(args, tbl, left_out, model, ncpu, load0, load1, took, counts(targets))
    print(f"\nbench/gateway measuring took {took:.0f}s; report: {args.out}")


def counts(targets):
    live = [t for t in targets if t.samples]
    return ", ".join(f"{case} {len(live[0].samples.get(case, []))}" for case in ("plain", "stream", "paced")) if live else "none"


def report(args, tbl, left_out, model, ncpu, load0, load1, took, done):
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"# Gateway benchmark, {date}", "",
        f"Machine: {model}, `nproc` {ncpu}, Linux {platform.release()}; load average "
        f"{load0[0]:.1f} at the start, {load1[0]:.1f} at the end (other work shares the machine).",
        f"Versions: {args.versions}.", "",
        f"Request: Anthropic Messages, model `{MODEL}`, a system string and one user message; the fake "
        f"OpenAI-compatible upstream answers {CHUNKS} words (a stream of {CHUNKS} content chunks, then "
        f"finish, usage and [DONE]). Every answer is read back and its text checked. Latency: "
        f"up to {args.requests} sequential requests per case and target ({PHASE_CAP_S} s cap per case; "
        f"done: {done}) after {args.warmup} warm-up ones, the targets "
        f"interleaved; the gateway rows show time added to the direct upstream's p50 and p99. Paced: "
        f"{args.paced_requests} streams with {PACE_MS} ms between chunks (first byte near the first "
        f"chunk means the gateway streams rather than buffers). Throughput: {args.concurrency} concurrent "
        f"streams for {args.duration:g} s, completed streams per second; CPU is the gateway's process "
        f"tree's user+system time over that phase per request. Peak RSS: VmHWM summed over the "
        f"gateway's process tree at the end.", "",
        tbl, "",
    ] + left_out + ["", f"The measuring run took {took:.0f} s."]
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
